"""The demo's handlers without a browser: inputs read carefully, errors as messages."""

from __future__ import annotations

import gradio as gr
import numpy as np
import pytest
import soundfile as sf

from mmgan.demo import (
    MAX_PROMPT,
    arithmetic_preview,
    build_demo,
    clean_prompt,
    create,
    genre_map,
    read_reference,
    slider_style,
)
from mmgan.generate.pipeline import Pipeline


@pytest.fixture(scope="module")
def demo(tiny_gan_run, tmp_path_factory):
    pipe = Pipeline.from_pretrained(tiny_gan_run)
    return build_demo(pipe, out=tmp_path_factory.mktemp("demo"))


def test_prompts_are_folded_and_capped():
    assert clean_prompt("  a   b \n c ") == ("a b c", [])
    assert clean_prompt("") == (None, []) and clean_prompt(None) == (None, [])
    text, notes = clean_prompt("x" * 10_000)
    assert len(text) == MAX_PROMPT and "10,000 characters" in notes[0]


def test_reference_clip_reads_the_first_minute_and_refuses_silence(tmp_path):
    sr = 8000
    long = (0.3 * np.sin(np.arange(sr * 90) / sr * 2 * np.pi * 220)).astype(np.float32)
    sf.write(tmp_path / "long.wav", long, sr)
    wave, rate, notes = read_reference(str(tmp_path / "long.wav"))
    assert rate == 22050 and abs(len(wave) / rate - 60.0) < 0.01
    assert "only its first 60 s" in notes[0]
    sf.write(tmp_path / "silent.wav", np.zeros(sr * 2, np.float32), sr)
    with pytest.raises(gr.Error, match="silent"):
        read_reference(str(tmp_path / "silent.wav"))
    (tmp_path / "junk.wav").write_text("not audio")
    with pytest.raises(gr.Error, match="could not be read"):
        read_reference(str(tmp_path / "junk.wav"))


def test_handlers_give_results_and_clear_errors(demo, tmp_path):
    state = demo.mmgan_state
    out = create(state, "dreamy folk", None, None, 0.5, 0, -0.5, 0, "spectrogram", 3, 2, 2)
    (sr, audio), spec, cover, tags, zip_path, message, var2, var3, var4 = out
    assert sr == 22050 and audio.shape == (3 * 22050,) and spec.size == (1024, 256)
    assert cover.endswith("cover.png") and zip_path.endswith(".zip") and "seed 2" in message
    assert var2 is not None and var3 is None and var4 is None  # two variations asked for
    with pytest.raises(gr.Error, match="Type a prompt"):
        create(state, "  ", None, None, 0, 0, 0, 0, "spectrogram", 3, 0, 1)
    with pytest.raises(gr.Error, match="symbolic engine has no model"):
        create(state, "jazz", None, None, 0, 0, 0, 0, "symbolic", 3, 0, 1)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG not really")
    with pytest.raises(gr.Error, match="picture could not be used"):
        create(state, "jazz", str(bad), None, 0, 0, 0, 0, "spectrogram", 3, 0, 1)
    with pytest.raises(gr.Error, match="empty term between"):
        create(state, "jazz + + metal", None, None, 0, 0, 0, 0, "spectrogram", 3, 0, 1)


def test_arithmetic_preview_and_sliders(demo):
    state = demo.mmgan_state
    text = arithmetic_preview(state, "techno - monotonous + jazz harmony")
    assert "normal form:** techno − monotonous + jazz harmony" in text and "nearest" in text
    assert "⚠️" in arithmetic_preview(state, "jazz + + metal")
    assert "Type an expression" in arithmetic_preview(state, "")
    style, w = slider_style(
        state.space, {"tempo": 1.0, "energy": 0, "darkness": -0.5, "density": 0}
    )
    assert style.shape == (state.space.dim,) and w == pytest.approx(0.6)
    assert slider_style(state.space, {"tempo": 0, "energy": 0, "darkness": 0, "density": 0}) == (
        None,
        0.0,
    )


def test_explore_map_points_become_styles(demo):
    gmap, image = genre_map(demo.mmgan_state.space)
    assert image.size == gmap.size
    jazz = gmap.names.index("jazz")
    x0, x1, y0, y1 = gmap.extent
    px = (gmap.coords[jazz, 0] - x0) / (x1 - x0) * gmap.size[0]
    py = (y1 - gmap.coords[jazz, 1]) / (y1 - y0) * gmap.size[1]
    style = gmap.style_at(px, py)
    assert abs(np.linalg.norm(style) - 1) < 1e-5
    near = demo.mmgan_state.space.describe(style[None], k=3, groups=["genre"])
    assert "jazz" in [n for n, _ in near]


def test_both_engines_when_a_symbolic_model_is_given(tiny_gan_run, tiny_symbolic_run, tmp_path):
    import zipfile

    spec = Pipeline.from_pretrained(tiny_gan_run)
    sym = Pipeline.from_pretrained(tiny_symbolic_run, space=spec.space)
    demo = build_demo(spec, sym, out=tmp_path)
    state = demo.mmgan_state
    assert list(state.pipelines) == ["spectrogram", "symbolic"]
    out = create(state, "reggae", None, None, 0, 0, 0, 0, "symbolic", 3, 1, 1)
    (sr, audio), roll, cover, tags, zip_path, message = out[:6]
    assert audio.shape == (3 * sr,) and roll.size == (1024, 256)
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
    assert {"arrangement.mid", "cover.png", "track.wav"} <= names
    assert any(n.startswith("stems/") for n in names)
    assert " BPM in " in message  # the symbolic engine says its tempo and key
    args = (state, "reggae", None, None, 0, 0, 0, 0, "symbolic", 3, 1, 1, None, None, 0.7)
    keyed = create(*args, "D")[5]
    assert " BPM in D " in keyed  # advanced settings: the key asked for
    assert create(*args[:8], "spectrogram", *args[9:], "D")[5]  # no key there: ignored


def test_old_bundles_are_pruned(demo, monkeypatch):
    import mmgan.demo as demo_module

    state = demo.mmgan_state
    monkeypatch.setattr(demo_module, "KEEP_BUNDLES", 2)
    for seed in range(4):
        create(state, "ambient", None, None, 0, 0, 0, 0, "spectrogram", 1, seed, 1)
    assert len(list(state.out.glob("bundle-*"))) == 2


def test_advanced_settings_choose_the_renderer(tiny_gan_run, tiny_vocoder_run, tmp_path):
    pipe = Pipeline.from_pretrained(tiny_gan_run, vocoder=tiny_vocoder_run)
    state = build_demo(pipe, out=tmp_path).mmgan_state
    args = (state, "techno", None, None, 0, 0, 0, 0, "spectrogram", 2, 0, 1, None)
    assert "rendered by vocoder:" in create(*args)[5]
    assert "rendered by griffinlim" in create(*args, "griffinlim")[5]
    a, b = create(*args, "griffinlim", 1.0)[0][1], create(*args, "griffinlim", 0.0)[0][1]
    assert not np.allclose(a, b)  # truncation reaches the generator
