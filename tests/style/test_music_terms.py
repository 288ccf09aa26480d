"""Key and tempo parsed from prompts (mmgan.style.music_terms)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from mmgan.style.music_terms import KEYS, NO_KEY, music_terms, parse_bpm, parse_key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("dark techno in F# minor", "F# minor"),
        ("Bb major ballad", "Bb major"),
        ("E flat major", "Eb major"),
        ("E-flat major", "Eb major"),
        ("c# min groove", "C# minor"),
        ("in Db major", "C# major"),  # enharmonic spelling: one key
        ("A minor", "A minor"),
        ("jazz in a minor at 90 bpm", "A minor"),
        ("key of a major", "A major"),
        ("a minor change of plans", None),  # English, not a key
        ("The major label", None),
        ("techno", None),
    ],
)
def test_parse_key(text, key):
    got = parse_key(text)
    assert (None if got is None else KEYS[got]) == key


@pytest.mark.parametrize(
    ("text", "bpm"),
    [
        ("techno 128BPM", 128.0),
        ("lo-fi around 84 bpm", 84.0),
        ("a 120-bpm groove", 120.0),
        ("92.5 beats per minute", 92.5),
        ("at 1200 BPM", None),  # out of range
        ("the 90s", None),
        ("track 7 of 12", None),
    ],
)
def test_parse_bpm(text, bpm):
    assert parse_bpm(text) == bpm


def test_music_terms_batches_with_none_markers():
    key, bpm = music_terms(["jazz", "metal in E minor at 180 BPM"])
    assert key.tolist() == [NO_KEY, KEYS.index("E minor")]
    assert bpm.tolist() == [0.0, 180.0]
    assert key.dtype == torch.long and bpm.dtype == torch.float32


@given(st.text(max_size=300))
def test_any_text_parses_without_error(text):
    key, bpm = music_terms([text])
    assert 0 <= int(key[0]) <= NO_KEY and (bpm[0] == 0 or 20 <= float(bpm[0]) <= 400)
