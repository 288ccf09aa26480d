"""AudioEncoder / StyleModel: shapes, size, waveform handling, save/load round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mmgan.audio.io import AudioError
from mmgan.style.audio_encoder import AudioEncoder, CheckpointError, StyleModel, window_starts

TINY = {"channels": (8, 16), "width": 32}


def _tone(seconds: float, sr: int, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    x = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.random.default_rng(0).standard_normal(t.size)
    return np.stack([x] * channels).astype(np.float32) if channels > 1 else x.astype(np.float32)


def test_forward_shape_and_norm():
    enc = AudioEncoder(n_mels=80, channels=(8, 16, 32), width=32, embed_dim=384).eval()
    out = enc(torch.randn(3, 1, 80, 100))
    assert out.shape == (3, 384)
    assert torch.allclose(out.norm(dim=-1), torch.ones(3), atol=1e-5)
    with pytest.raises(ValueError, match=r"\[B, 1, 80, T\]"):
        enc(torch.randn(3, 80, 100))


def test_default_model_is_under_five_million_parameters():
    model = StyleModel()
    assert model.num_parameters(audio_only=True) <= 5_000_000
    assert model.num_parameters() <= 5_000_000
    assert torch.equal(model.text_projection.weight, torch.eye(384))
    assert model.scale().item() == pytest.approx(1 / 0.07, rel=1e-5)


def test_project_text_is_normalised_and_identity_at_init():
    model = StyleModel(**TINY)
    t = torch.nn.functional.normalize(torch.randn(4, 384), dim=-1)
    assert torch.allclose(model.project_text(t), t, atol=1e-6)


def test_window_starts_cover_the_clip():
    assert window_starts(100, 256, 128) == [0]
    assert window_starts(517, 256, 128) == [0, 128, 256, 261]


def test_embed_waveform_stereo_44k_and_long_clip():
    torch.manual_seed(0)
    model = StyleModel(**TINY).eval()
    stereo = model.embed_waveform(_tone(1.0, 44100, channels=2), 44100)
    assert stereo.shape == (1, 384)
    assert stereo.norm().item() == pytest.approx(1.0, abs=1e-5)
    long = model.embed_waveform(_tone(20.0, 22050), 22050)
    assert long.shape == (1, 384) and torch.isfinite(long).all()
    assert not torch.allclose(stereo, long)


@pytest.mark.parametrize(
    ("wave", "message"),
    [
        (np.zeros(22050, dtype=np.float32), "silent"),
        (np.full(22050, np.nan, dtype=np.float32), "NaN"),
        (np.zeros(0, dtype=np.float32), "no samples"),
    ],
)
def test_embed_waveform_rejects_bad_audio(wave, message):
    with pytest.raises(AudioError, match=message):
        StyleModel(**TINY).embed_waveform(wave, 22050)


def test_save_load_round_trip(tmp_path):
    torch.manual_seed(1)
    model = StyleModel(**TINY)
    model.train()
    model.embed_mel(torch.randn(4, 1, 80, 64))  # move BatchNorm running stats off init
    with torch.no_grad():
        model.text_projection.weight.add_(0.01 * torch.randn(384, 384))
    model.eval()
    model.save_pretrained(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["channels"] == [8, 16] and config["text_encoder"] == "minilm"
    assert "mmgan_version" in config and "style_space_id" in config
    loaded = StyleModel.from_pretrained(tmp_path / "m")
    wave = _tone(4.0, 22050)
    assert torch.equal(model.embed_waveform(wave, 22050), loaded.embed_waveform(wave, 22050))
    t = torch.randn(2, 384)
    assert torch.equal(model.project_text(t), loaded.project_text(t))


def test_from_pretrained_rejects_foreign_and_misshapen(tmp_path):
    from safetensors.torch import save_file

    with pytest.raises(CheckpointError, match="config.json"):
        StyleModel.from_pretrained(tmp_path)
    StyleModel(**TINY).save_pretrained(tmp_path / "m")
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    cfg["channels"] = [8, 32]  # weights no longer fit
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="shape mismatch"):
        StyleModel.from_pretrained(tmp_path / "m")
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "config.json").write_text(json.dumps({"model_type": "bert"}))
    save_file({"w": torch.zeros(2)}, str(tmp_path / "f" / "model.safetensors"))
    with pytest.raises(CheckpointError, match="another kind of model"):
        StyleModel.from_pretrained(tmp_path / "f")
    cfg["model_type"], cfg["channels"] = "mmgan-style", [8, 16]
    (tmp_path / "f" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="missing"):
        StyleModel.from_pretrained(tmp_path / "f")


def test_fp16_export_loads_as_float32(tmp_path):
    model = StyleModel(**TINY).eval()
    model.save_pretrained(tmp_path / "h", dtype=torch.float16)
    loaded = StyleModel.from_pretrained(tmp_path / "h")
    assert loaded.text_projection.weight.dtype == torch.float32
    wave = _tone(3.0, 22050)
    a, b = model.embed_waveform(wave, 22050), loaded.embed_waveform(wave, 22050)
    assert (a @ b.T).item() > 0.999


def test_residual_text_mlp_starts_linear_and_round_trips(tmp_path):
    torch.manual_seed(2)
    model = StyleModel(**TINY, text_hidden=64)
    t = torch.nn.functional.normalize(torch.randn(4, 384), dim=-1)
    assert torch.allclose(model.project_text(t), t, atol=1e-6)  # zero-initialised residual
    with torch.no_grad():
        model.text_mlp[2].weight.normal_(0, 0.05)
    moved = model.project_text(t)
    assert not torch.allclose(moved, t, atol=1e-3)
    model.eval().save_pretrained(tmp_path / "m")
    loaded = StyleModel.from_pretrained(tmp_path / "m")
    assert loaded.config["text_hidden"] == 64
    assert torch.equal(loaded.project_text(t), moved)
    linear = StyleModel.from_pretrained(tmp_path / "m").state_dict()
    assert any(k.startswith("text_mlp") for k in linear)


def test_onset_autocorrelation_finds_the_beat_period():
    from mmgan.audio.features import log_mel
    from mmgan.style.audio_encoder import onset_autocorrelation

    sr = 22050
    t = np.arange(4 * sr) / sr
    for period in (0.5, 0.35):  # 120 and ~171 BPM
        clicks = (np.sin(2 * np.pi * 880 * t) * (np.mod(t, period) < 0.05)).astype(np.float32)
        ac = onset_autocorrelation(torch.tensor(log_mel(clicks, sr))[None], 128)[0]
        lag = int(ac[15:].argmax()) + 16  # skip the short-lag shoulder of each click
        assert abs(lag - period * sr / 256) <= 1.5, (period, lag)
        assert ac.abs().max() <= 1.0 + 1e-5


def test_chroma_and_rhythm_branches_round_trip_and_matter(tmp_path):
    torch.manual_seed(0)
    model = StyleModel(**TINY, chroma=True, rhythm=True).eval()
    assert model.mel_params.chroma and model.audio_encoder.n_rows == 92
    with pytest.raises(ValueError, match="80 mel \\+ 12 chroma"):
        model.embed_mel(torch.randn(2, 1, 80, 64))
    x = torch.randn(2, 1, 92, 64)
    y = x.clone()
    y[:, :, 80:] = torch.roll(x[:, :, 80:], 3, dims=2)  # same mel, other pitch classes
    assert not torch.allclose(model.embed_mel(x), model.embed_mel(y), atol=1e-4)
    model.save_pretrained(tmp_path / "m")
    loaded = StyleModel.from_pretrained(tmp_path / "m")
    assert loaded.config["chroma"] and loaded.config["rhythm"]
    wave = _tone(4.0, 22050)
    assert torch.equal(model.embed_waveform(wave, 22050), loaded.embed_waveform(wave, 22050))
    plain = StyleModel(**TINY)
    with pytest.raises(CheckpointError):
        plain.load_checked(model.state_dict())
