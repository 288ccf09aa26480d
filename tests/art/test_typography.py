"""Titles from word lists, set legibly with a font that ships with matplotlib."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mmgan.art.typography import ADJECTIVES, NOUNS, font_path, set_title, title_for


def test_titles_are_deterministic_and_follow_the_genres():
    t = title_for({"techno": 0.6, "baroque": 0.4}, seed=3)
    assert t == title_for({"techno": 0.6, "baroque": 0.4}, seed=3)
    adjective, noun = t.split(" ", 1)
    assert adjective in ADJECTIVES["techno"] and noun in NOUNS["baroque"]
    many = {title_for({"jazz": 1.0}, seed=s) for s in range(30)}
    assert len(many) > 5
    with pytest.raises(ValueError, match="genre_weights"):
        title_for({"polka": 1.0})


@pytest.mark.parametrize("background", [(0, 0, 0), (255, 255, 255), (120, 120, 120)])
def test_title_is_legible_on_any_background(background):
    img = Image.new("RGB", (512, 512), background)
    out = set_title(img, "Neon Counterpoint", "techno + baroque")
    band = np.asarray(out.crop((0, 30, 512, 112)), dtype=np.float32).mean(axis=2)
    assert band.max() - band.min() > 150  # dark text on light or light text on dark
    below = np.asarray(out.crop((0, 200, 512, 512)), dtype=np.float32)
    assert np.abs(below - np.array(background, np.float32)).max() == 0  # only the band changed


def test_long_and_non_latin_titles_fit():
    assert font_path().is_file()
    img = Image.new("RGB", (400, 400), (30, 60, 90))
    for title in ("Ночной Контрапункт", "x" * 500, "🎷 jazz 🎸"):
        out = set_title(img, title)
        assert out.size == img.size
