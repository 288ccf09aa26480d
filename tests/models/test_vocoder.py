"""The GAN vocoder's network, its torch mel front end, losses and files."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from mmgan.audio.features import log_mel
from mmgan.models.vocoder import (
    MelFrontend,
    Vocoder,
    VocoderDiscriminator,
    integrate_phase,
    multi_resolution_stft_loss,
    spectrum_losses,
)
from mmgan.weights import CheckpointError


def tiny(**kw) -> Vocoder:
    torch.manual_seed(0)
    return Vocoder(dim=32, hidden=48, layers=2, **kw).eval().requires_grad_(False)


def tone(seconds=1.0, f=440.0, sr=22050) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * f * t)).astype(np.float32)


def test_frontend_matches_the_project_log_mel():
    x = np.random.default_rng(0).normal(0, 0.1, 22050).astype(np.float32)
    ours = MelFrontend()(torch.from_numpy(x)[None])[0].numpy()
    ref = log_mel(x, 22050)
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() < 1e-4
    mel, spec = MelFrontend()(torch.from_numpy(x)[None], with_spectrum=True)
    assert spec.is_complex() and spec.shape == (1, 513, ref.shape[1])


def test_output_length_and_batch():
    v = tiny()
    mel = torch.randn(3, 80, 40) - 5
    assert v(mel).shape == (3, 39 * 256)
    assert v(mel, length=39 * 256 + 100).shape == (3, 39 * 256 + 100)
    log_mag, phase = v(mel, spectrum=True)
    assert log_mag.shape == phase.shape == (3, 513, 40)
    assert float(log_mag.max()) <= math.log(100) + 1e-6  # magnitudes clipped at 100


def test_magnitude_starts_from_the_nnls_inverse_of_the_mel():
    """An untrained vocoder's magnitudes are the NNLS inverse Griffin-Lim starts from."""
    from mmgan.audio.features import mel_to_linear

    v = tiny()
    with torch.no_grad():
        v.head.weight.zero_()
        v.head.bias.zero_()
    mel = log_mel(tone(0.5), 22050)
    log_mag, _ = v(torch.from_numpy(mel)[None], spectrum=True)
    ref = np.log(np.clip(mel_to_linear(np.exp(mel)), 1e-5, 100))
    assert np.abs(log_mag[0].numpy() - ref).max() < 1e-3


def test_steady_input_gives_rotating_phase():
    """The reason for the integrated phase: a constant mel must still advance the phase."""
    v = tiny()
    _, phase = v(torch.full((1, 80, 30), -3.0), spectrum=True)
    step = torch.remainder(phase[0, :, 11:20] - phase[0, :, 10:19], 2 * math.pi)
    assert step.std(dim=1).max() < 1e-3  # a constant advance per bin away from the edges
    assert step.mean(dim=1).std() > 0.5  # that differs between bins (centre frequencies)


def test_chunked_synthesis_equals_one_pass():
    v = tiny()
    with torch.no_grad():
        v.head.weight.mul_(20)  # make the phase depend strongly on context
    mel = torch.randn(80, 1500) - 5
    n = 1500 * 256 - 17
    whole = v(mel[None], length=n)[0].detach().numpy()
    chunked = v.synthesise(mel.numpy(), length=n, chunk_frames=300, overlap_frames=18)
    assert chunked.shape == (n,) and chunked.dtype == np.float32
    assert np.abs(whole - chunked).max() < 1e-4 * np.abs(whole).max()


def test_synthesise_rejects_bad_input():
    v = tiny()
    with pytest.raises(ValueError, match=r"log-mel \[80, frames\]"):
        v.synthesise(np.zeros((64, 10), np.float32))
    bad = np.zeros((80, 10), np.float32)
    bad[0, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        v.synthesise(bad)
    with pytest.raises(ValueError, match="overlap_frames"):
        v.synthesise(np.zeros((80, 100), np.float32), chunk_frames=40, overlap_frames=2)
    with pytest.raises(ValueError, match="kernel odd"):
        Vocoder(kernel=4)


def test_integrate_phase_is_wrapped_and_exact_over_long_sums():
    inc = torch.full((1, 2, 100_000), 1.25)  # exact in float32
    out = integrate_phase(inc)
    assert float(out.max()) < 2 * math.pi and float(out.min()) >= 0
    expected = math.fmod(1.25 * 100_000, 2 * math.pi)
    assert abs(float(out[0, 0, -1]) - expected) < 1e-4


def test_losses_are_zero_for_a_perfect_prediction_and_positive_otherwise():
    x = torch.from_numpy(tone())[None]
    sc, mag = multi_resolution_stft_loss(x, x)
    assert float(sc) < 1e-6 and float(mag) < 1e-6
    sc, mag = multi_resolution_stft_loss(0.5 * x, x)
    assert float(sc) > 0.1 and float(mag) > 0.1
    _, spec = MelFrontend()(x, with_spectrum=True)
    perfect = spectrum_losses(torch.log(spec.abs().clamp(min=1e-5)), torch.angle(spec), spec)
    assert all(float(v) < 1e-4 for v in perfect.values())
    shifted = spectrum_losses(
        torch.log(spec.abs().clamp(min=1e-5)), torch.angle(spec) + 2 * math.pi, spec
    )
    assert float(shifted["iaf"] + shifted["gd"]) < 1e-4  # a whole turn is no error
    noisy = spectrum_losses(torch.zeros_like(spec.real), torch.rand_like(spec.real) * 6, spec)
    assert float(noisy["amp"]) > 1 and float(noisy["iaf"]) > 0.5 and float(noisy["gd"]) > 0.5


def test_discriminator_outputs_both_families():
    d = VocoderDiscriminator(mpd_channels=(4, 8, 8, 8), mrd_channels=4)
    outs = d(torch.randn(2, 4096))
    assert len(outs) == 5 + 3  # five periods, three resolutions
    for logits, feats in outs:
        assert logits.shape[0] == 2 and len(feats) >= 4


def test_save_load_round_trip_and_foreign_folders(tmp_path):
    v = tiny()
    v.save_pretrained(tmp_path / "voc", extra={"trained_steps": 3})
    loaded, cfg = Vocoder.from_pretrained(tmp_path / "voc")
    assert cfg["trained_steps"] == 3 and cfg["model_type"] == "mmgan-vocoder"
    mel = torch.randn(1, 80, 20) - 5
    assert torch.equal(v(mel), loaded(mel))
    v.save_pretrained(tmp_path / "half", dtype=torch.float16)
    half, _ = Vocoder.from_pretrained(tmp_path / "half")
    assert next(half.parameters()).dtype == torch.float32  # cast back for CPU inference
    with pytest.raises(CheckpointError, match="mmgan-vocoder"):
        Vocoder.from_pretrained(tmp_path)  # no model files
    (tmp_path / "voc" / "config.json").write_text('{"model_type": "mmgan-specgan"}')
    with pytest.raises(CheckpointError, match="another kind of model"):
        Vocoder.from_pretrained(tmp_path / "voc")
    Vocoder(dim=16, hidden=16, layers=1).save_pretrained(tmp_path / "other")
    cfg_file = tmp_path / "other" / "config.json"
    cfg_file.write_text(cfg_file.read_text().replace('"dim": 16', '"dim": 32'))
    with pytest.raises(CheckpointError):
        Vocoder.from_pretrained(tmp_path / "other")  # weights of other shapes


# -- phase="pghi": the network predicts magnitudes, PGHI + fast Griffin-Lim render them -------


def test_pghi_mode_predicts_magnitudes_and_renders_them():
    v = tiny(phase="pghi", pghi_iters=2)
    assert v.head.out_features == 513  # magnitudes only
    mel = torch.from_numpy(log_mel(tone(1.0), 22050))[None]
    log_mag, phase = v(mel, spectrum=True)
    assert phase is None and log_mag.shape == (1, 513, mel.shape[-1])
    audio = v(mel, length=22050)
    assert audio.shape == (1, 22050) and torch.isfinite(audio).all()
    # the render is PGHI + 2 iterations of the predicted magnitude
    from mmgan.audio.features import fast_griffin_lim

    again = fast_griffin_lim(torch.exp(log_mag), v.phase_from_magnitude(log_mag), 2, 1024, 256,
                             22050)  # fmt: skip
    assert torch.allclose(audio, again, atol=1e-5)
    spec = v.spectrum(mel)  # the PGHI phase before the iterations
    assert spec.is_complex() and torch.allclose(spec.abs(), torch.exp(log_mag), rtol=1e-4)


def test_pghi_render_is_differentiable_in_the_magnitude():
    torch.manual_seed(0)
    v = Vocoder(dim=32, hidden=48, layers=2, phase="pghi")
    mel = torch.from_numpy(log_mel(tone(0.5), 22050))[None]
    log_mag, _ = v(mel, spectrum=True)
    audio = v.render_magnitude(log_mag, 11025)
    audio.square().mean().backward()
    assert v.head.weight.grad is not None and float(v.head.weight.grad.abs().sum()) > 0


def test_pghi_mode_chunks_render_close_to_one_pass():
    v = tiny(phase="pghi")
    rng = np.random.default_rng(0)
    t = np.arange(22050 * 4) / 22050
    x = (0.2 * np.sin(2 * np.pi * 330 * t) * (1 + np.sin(2 * np.pi * 0.5 * t))).astype(np.float32)
    x += rng.normal(0, 0.01, x.shape).astype(np.float32)
    mel = log_mel(x, 22050)
    whole = v.synthesise(mel, length=len(x))
    chunked = v.synthesise(mel, length=len(x), chunk_frames=120, overlap_frames=24)
    assert chunked.shape == whole.shape == (len(x),) and chunked.dtype == np.float32
    front = MelFrontend()
    a, b = (front(torch.from_numpy(y)[None])[0] for y in (whole, chunked))
    # not equal (PGHI and the iterations run per chunk) but close: each chunk continues the
    # previous one's phase (0.025 here; 0.056 when every chunk started PGHI afresh)
    assert float((a - b).abs().mean()) < 0.04


def test_phase_mode_round_trips_and_bad_settings_are_refused(tmp_path):
    v = tiny(phase="pghi", pghi_iters=3)
    v.save_pretrained(tmp_path / "voc")
    back, config = Vocoder.from_pretrained(tmp_path / "voc")
    assert back.phase_mode == "pghi" and back.pghi_iters == 3 and config["phase"] == "pghi"
    mel = torch.randn(1, 80, 20) - 5
    assert torch.equal(v(mel, spectrum=True)[0], back(mel, spectrum=True)[0])
    learned = tiny()  # a folder written before the phase setting existed loads as "learned"
    learned.save_pretrained(tmp_path / "old")
    cfg = json.loads((tmp_path / "old" / "config.json").read_text())
    del cfg["phase"], cfg["pghi_iters"]
    (tmp_path / "old" / "config.json").write_text(json.dumps(cfg))
    assert Vocoder.from_pretrained(tmp_path / "old")[0].phase_mode == "learned"
    with pytest.raises(ValueError, match="phase must be one of"):
        Vocoder(phase="griffin")
    with pytest.raises(ValueError, match="pghi_iters must be a whole number"):
        Vocoder(phase="pghi", pghi_iters=-1)


def test_direct_mode_phase_is_each_frames_atan2_and_chunks_exactly():
    v = tiny(phase="direct")
    assert v.head.out_features == 3 * 513  # log-magnitude, cosine part, sine part
    mel = torch.from_numpy(log_mel(tone(1.0), 22050))[None]
    log_mag, cos_part, sin_part = v.predict_parts(mel)
    _, phase = v.predict(mel)
    assert torch.allclose(phase, torch.atan2(sin_part, cos_part))
    audio = v(mel, length=22050)
    again = v.istft(v.complex_spectrum(log_mag, phase), 22050)
    assert audio.shape == (1, 22050) and torch.allclose(audio, again)
    # no state carried across frames: chunked synthesis is one pass up to the cross-fades
    with torch.no_grad():
        v.head.weight.mul_(20)
    mel = torch.randn(80, 900) - 5
    whole = v(mel[None], length=899 * 256)[0].numpy()
    chunked = v.synthesise(mel.numpy(), chunk_frames=200, overlap_frames=18)
    assert np.abs(whole - chunked).max() < 1e-4 * np.abs(whole).max()


def test_direct_mode_round_trips():
    v = tiny(phase="direct")
    mel = torch.randn(1, 80, 20) - 5
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        v.save_pretrained(d)
        back, config = Vocoder.from_pretrained(d)
    assert config["phase"] == "direct" and back.phase_mode == "direct"
    assert torch.equal(v(mel, length=19 * 256), back(mel, length=19 * 256))
