"""The diffusers cover path, loaded from a tiny randomly initialised Stable Diffusion
pipeline saved in the real format (no mocks; nothing downloaded)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mmgan.art.diffusion import build_prompt, diffusion_cover, resolve_model
from mmgan.art.procedural import CoverInputs


def test_text_to_image_and_image_to_image(tiny_sd_dir):
    inputs = CoverInputs({"folk": 0.7, "ambient": 0.3}, descriptors=["acoustic guitar"], tempo=80)
    a = diffusion_cover(tiny_sd_dir, "dreamy folk", inputs, seed=1, steps=2, size=64)
    b = diffusion_cover(tiny_sd_dir, "dreamy folk", inputs, seed=1, steps=2, size=64)
    assert a.size == (64, 64) and np.array_equal(np.asarray(a), np.asarray(b))
    init = Image.new("RGB", (64, 64), (200, 40, 40))
    c = diffusion_cover(tiny_sd_dir, "dreamy folk", inputs, seed=1, steps=2, size=64, init=init)
    assert c.size == (64, 64) and not np.array_equal(np.asarray(a), np.asarray(c))


def test_prompt_joins_words_descriptors_and_audio_feel():
    inputs = CoverInputs(
        {"metal": 1.0}, descriptors=["blast beats", "dark"], tempo=180, key="E minor"
    )
    p = build_prompt("jazz metal " * 100, inputs)
    assert "metal album cover art" in p and "blast beats" in p and "fast" in p and "dark" in p
    assert len(p) <= 300


def test_missing_weights_say_how_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="huggingface-cli download"):
        resolve_model(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="model_index.json"):
        resolve_model(tmp_path)  # a folder, but not a pipeline
    with pytest.raises(FileNotFoundError, match="Hugging Face cache"):
        resolve_model("someone/not-cached-model")
