"""Pipeline: prompt/picture/clip -> track; determinism, conditioning, latent tools, long
form, files on disk, and clear errors for bad arguments and bad checkpoints."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import soundfile as sf
import torch

from mmgan.generate.pipeline import Pipeline
from mmgan.weights import CheckpointError


@pytest.fixture(scope="module")
def pipe(tiny_gan_run):
    return Pipeline.from_pretrained(tiny_gan_run)


def mel_distance(a, b) -> float:
    return float(np.abs(a.mel - b.mel).mean())


def test_track_shape_metadata_and_files(pipe, tmp_path):
    r = pipe("dreamy folk with ambient textures", seconds=3.0, seed=1)
    assert r.audio.dtype == np.float32 and r.audio.shape == (3 * 22050,)
    assert np.isfinite(r.audio).all() and 0.05 < np.abs(r.audio).max() <= 0.9
    meta = r.metadata
    for key in ("prompt", "expression", "seed", "model", "style", "sections", "predicted_tags"):
        assert key in meta, key
    assert len(meta["style"]) == pipe.space.dim and meta["seed"] == 1
    folder = r.save(tmp_path / "out")
    wave, sr = sf.read(folder / "track.wav")
    assert sr == 22050 and len(wave) == len(r.audio)
    assert json.loads((folder / "metadata.json").read_text()) == json.loads(json.dumps(meta))


def test_same_prompt_and_seed_same_track_else_different(pipe):
    a = pipe("a jazz track", seconds=2.0, seed=3, describe=False)
    b = pipe("a jazz track", seconds=2.0, seed=3, describe=False)
    assert np.array_equal(a.audio, b.audio) and a.metadata == b.metadata
    other_seed = pipe("a jazz track", seconds=2.0, seed=4, describe=False)
    other_prompt = pipe("a metal track", seconds=2.0, seed=3, describe=False)
    assert mel_distance(a, other_seed) > 1e-3
    assert mel_distance(a, other_prompt) > 1e-3


def test_algebra_image_and_audio_conditioning(pipe):
    from PIL import Image

    text = pipe.style_of("techno")[0]
    s, info = pipe.style_of("techno - monotonous + jazz harmony")
    assert info["expression"] == "techno − monotonous + jazz harmony"
    assert float(s @ text) < 0.999
    img = Image.new("RGB", (64, 64), (240, 40, 20))
    s_img, info = pipe.style_of("techno", image=img)
    assert info["image"]["path"] in ("fallback", "open_clip") and float(s_img @ text) < 0.999
    sr = 22050
    clip = 0.3 * np.sin(2 * np.pi * 220 * np.arange(2 * sr) / sr).astype(np.float32)
    s_audio, _ = pipe.style_of(audio=clip, audio_sr=sr)
    assert abs(float(s_audio.norm()) - 1) < 1e-5
    r = pipe(audio=clip, audio_sr=sr, seconds=1.0, describe=False)
    assert len(r.audio) == sr


def test_long_track_has_sections_and_no_chunk_effect(pipe):
    pipe.chunk_steps = 16  # force many chunks; the output must not change
    try:
        chunked = pipe("ambient", seconds=14.0, seed=2, describe=False)
    finally:
        pipe.chunk_steps = 256
    whole = pipe("ambient", seconds=14.0, seed=2, describe=False)
    assert np.allclose(chunked.mel, whole.mel, atol=1e-4)
    names = [s["name"] for s in whole.metadata["sections"]]
    assert names == ["intro", "development", "climax", "outro"]
    assert whole.metadata["sections"][-1]["end_s"] == 14.0


def test_latent_tools(pipe):
    a = pipe.blend("jazz", "metal", 0.0, seconds=1.0, describe=False)
    b = pipe.blend("jazz", "metal", 1.0, seconds=1.0, describe=False)
    mid = pipe.blend("jazz", "metal", 0.5, seconds=1.0, describe=False)
    assert mid.metadata["blend"]["alpha"] == 0.5
    sa, sb, sm = (torch.as_tensor(x.style) for x in (a, b, mid))
    assert float(sm @ sa) == pytest.approx(float(sm @ sb), abs=1e-4)  # halfway on the arc
    with pytest.raises(ValueError, match="alpha"):
        pipe.blend("jazz", "metal", 1.5)
    many = pipe.variations("reggae", n=2, seconds=1.0, describe=False)
    assert mel_distance(*many) > 1e-3
    morph = pipe.morph("folk", "ambient", seconds=2.0, describe=False)
    assert morph.metadata["morph_to"] == "ambient"


def test_truncation_reduces_variety(pipe):
    def spread(psi):
        mels = [
            pipe("hiphop", seconds=1.0, seed=k, truncation=psi, describe=False).mel
            for k in range(3)
        ]
        return float(np.std(np.stack(mels), axis=0).mean())

    assert spread(0.0) < spread(1.0)


def test_generator_protocol(pipe):
    from mmgan.eval.generators import Generator

    assert isinstance(pipe, Generator)
    style = pipe.space.encode_text(["a techno track", "a folk track"])
    out = pipe.generate(style, seed=0, seconds=1.5)
    assert out.shape == (2, round(1.5 * 22050)) and out.dtype == np.float32
    again = pipe.generate(style, seed=0, seconds=1.5)
    assert np.array_equal(again, out)
    # the coordinate latent's anchor spacing; chunk joins fall on anchors (what the seam
    # report's grid figures are about)
    frames = pipe.g.z_every * pipe.g.upsample
    assert pipe.anchor_seconds == pytest.approx(frames * pipe.hop / pipe.sample_rate)
    ratio = pipe.segment_seconds / pipe.anchor_seconds
    assert ratio == pytest.approx(round(ratio)) and ratio >= 1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"seconds": 0}, "seconds"),
        ({"seconds": -2}, "seconds"),
        ({"seconds": 601}, "seconds"),
        ({"seconds": float("nan")}, "seconds"),
        ({"truncation": -0.1}, "truncation"),
        ({"truncation": 1.5}, "truncation"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_arguments(pipe, kwargs, match):
    with pytest.raises(ValueError, match=match):
        pipe("jazz", **kwargs)


def test_bad_inputs(pipe):
    with pytest.raises(ValueError, match="at least one"):
        pipe()
    with pytest.raises(ValueError, match="non-empty"):
        pipe("   ")
    with pytest.raises(ValueError, match="audio_sr"):
        pipe(audio=np.zeros(100, dtype=np.float32))
    with pytest.raises(ValueError, match="finite"):
        pipe(style=[float("nan")] * pipe.space.dim)
    r = pipe("x" * 10_000, seconds=0.5, describe=False)  # long prompts are truncated, not refused
    assert len(r.audio) == 11025


def test_bad_checkpoints(tiny_gan_run, tmp_path, pipe):
    from mmgan.style.space import resolve_model_dir

    with pytest.raises(FileNotFoundError, match="no GAN model"):
        Pipeline.from_pretrained(tmp_path / "missing")
    with pytest.raises(CheckpointError, match="model type"):
        Pipeline.from_pretrained(resolve_model_dir("default"))  # the style model: foreign
    broken = tmp_path / "broken"
    shutil.copytree(tiny_gan_run / "model", broken)
    (broken / "model.safetensors").write_bytes(b"\0" * 64)
    with pytest.raises(CheckpointError):
        Pipeline.from_pretrained(broken)
    nan = tmp_path / "nan"
    shutil.copytree(tiny_gan_run / "model", nan)
    g = Pipeline.from_pretrained(nan).g
    with torch.no_grad():
        g.to_features.bias.fill_(float("nan"))
    g.save_pretrained(nan, extra=json.loads((nan / "config.json").read_text()))
    with pytest.raises(RuntimeError, match="NaN"):
        Pipeline.from_pretrained(nan)("jazz", seconds=0.5)


def test_renderers_vocoder_pghi_and_griffin_lim(tiny_gan_run, tiny_vocoder_run, tmp_path):
    from mmgan.models.vocoder import Vocoder

    voc = Pipeline.from_pretrained(tiny_gan_run, vocoder=tiny_vocoder_run)
    assert voc.renderer == "vocoder"
    a = voc("a jazz track", seconds=2.0, seed=3, describe=False)
    assert a.metadata["renderer"].startswith("vocoder:") and a.audio.shape == (2 * 22050,)
    b = voc("a jazz track", seconds=2.0, seed=3, describe=False, renderer="griffinlim")
    assert b.metadata["renderer"] == "griffinlim"
    assert np.array_equal(a.mel, b.mel) and not np.allclose(a.audio, b.audio)
    assert np.array_equal(a.audio, voc("a jazz track", seconds=2.0, seed=3, describe=False).audio)
    gl = Pipeline.from_pretrained(tiny_gan_run, renderer="griffinlim")
    assert gl.vocoder is None and gl.renderer == "griffinlim"
    c = voc("a jazz track", seconds=2.0, seed=3, describe=False, renderer="pghi")
    assert c.metadata["renderer"] == "pghi" and np.array_equal(a.mel, c.mel)
    assert not np.allclose(b.audio, c.audio)
    d = voc("a jazz track", seconds=2.0, seed=3, describe=False, renderer="pghi", n_iter=0)
    assert not np.allclose(c.audio, d.audio)  # n_iter reaches the renderer
    with pytest.raises(ValueError, match="renderer must be one of"):
        voc("a jazz track", seconds=1.0, renderer="wavenet")
    with pytest.raises(ValueError, match="no vocoder"):
        gl("a jazz track", seconds=1.0, renderer="vocoder")
    with pytest.raises(ValueError, match="renderer must be one of"):
        Pipeline.from_pretrained(tiny_gan_run, renderer="wavenet")
    with pytest.raises(FileNotFoundError, match="no vocoder at"):
        Pipeline.from_pretrained(tiny_gan_run, vocoder=tmp_path / "none")
    with pytest.raises(CheckpointError, match="mmgan-vocoder"):
        Pipeline.from_pretrained(tiny_gan_run, vocoder=tiny_gan_run)  # a GAN, not a vocoder
    Vocoder(dim=8, hidden=8, layers=1, hop_length=128).save_pretrained(tmp_path / "v128")
    with pytest.raises(CheckpointError, match="hop_length=128"):
        Pipeline.from_pretrained(tiny_gan_run, vocoder=tmp_path / "v128")


def test_default_renderer_is_pghi_without_a_vocoder(tiny_gan_run):
    pipe = Pipeline.from_pretrained(tiny_gan_run, vocoder=None, renderer=None)
    if pipe.vocoder is not None:  # a vocoder ships: it is the default (tested above)
        assert pipe.renderer == "vocoder"
        return
    assert pipe.renderer == "pghi"
    r = pipe("a jazz track", seconds=1.0, seed=1, describe=False)
    assert r.metadata["renderer"] == "pghi" and np.isfinite(r.audio).all()


def test_pghi_renders_with_the_generators_chroma_rows(tiny_gan_run, monkeypatch):
    pipe = Pipeline.from_pretrained(tiny_gan_run, renderer="pghi")
    seen = []
    render = pipe.render

    def spy(mel, n, seed, n_iter=None, renderer=None, chroma=None):
        seen.append(chroma)
        return render(mel, n, seed, n_iter, renderer, chroma=chroma)

    monkeypatch.setattr(pipe, "render", spy)
    r = pipe("a jazz track", seconds=1.0, seed=2, describe=False)
    assert pipe.g.rows == pipe.g.n_mels + 12  # the tiny model makes chroma rows too
    assert seen[0] is not None and seen[0].shape == (12, r.mel.shape[1])
    plain = render(r.mel, len(r.audio), 2)
    guided = render(r.mel, len(r.audio), 2, chroma=seen[0])
    assert not np.allclose(plain, guided)
    # Griffin-Lim, the baseline, ignores them
    a = render(r.mel, len(r.audio), 2, renderer="griffinlim")
    assert np.array_equal(a, render(r.mel, len(r.audio), 2, renderer="griffinlim", chroma=seen[0]))


def test_split_features_without_chroma_rows(tiny_gan_run):
    pipe = Pipeline.from_pretrained(tiny_gan_run)
    mel, chroma = pipe.split_features(np.zeros((pipe.g.n_mels, 20), np.float32), 10)
    assert mel.shape == (pipe.g.n_mels, 10) and chroma is None  # a mel-only model: no guide
    mel, chroma = pipe.split_features(np.zeros((pipe.g.n_mels + 12, 20), np.float32), 10)
    assert chroma.shape == (12, 10)
