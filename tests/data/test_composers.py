"""Contract every genre composer must keep (genre-specific idioms live in test_genre_*.py)."""

import numpy as np
import pytest

from mmgan.data.clip import make_clip
from mmgan.data.composers import COMPOSERS, GENRES
from mmgan.data.score import ROLES
from mmgan.data.tags import MOODS, clip_tags, flat_tags, vocabulary

EXPECTED = {"baroque", "symphonic", "idm", "techno", "jazz", "metal", "folk", "ambient", "hiphop"}


def test_all_required_genres_are_registered():
    assert EXPECTED <= set(GENRES)
    assert len(GENRES) >= 10


@pytest.mark.parametrize("genre", GENRES)
def test_clip_contract(genre):
    a = make_clip(genre, seed=3, seconds=4.0)
    b = make_clip(genre, seed=3, seconds=4.0)
    c = make_clip(genre, seed=4, seconds=4.0)
    assert a.audio.shape == (4 * a.sr,) and a.audio.dtype == np.float32
    assert np.array_equal(a.audio, b.audio) and a.caption == b.caption, "not deterministic"
    assert not np.array_equal(a.audio, c.audio), "seed does not change the clip"
    rms = float(np.sqrt(np.mean(a.audio**2)))
    assert rms > 0.01 and np.max(np.abs(a.audio)) <= 0.89 + 1e-6
    lo, hi = COMPOSERS[genre].bpm_range
    assert lo <= a.tags["bpm"] <= hi
    assert a.score.length_beats * a.score.seconds_per_beat >= 4.0 - 1e-6, "score shorter than clip"
    assert set(a.tags["moods"]) <= set(MOODS) and a.tags["instruments"]
    assert genre in flat_tags(a.tags)
    assert set(flat_tags(a.tags)) <= set(vocabulary())
    assert {p.role for p in a.score.parts} <= set(ROLES)
    assert (
        str(int(round(a.tags["bpm"]))) in a.caption
        or a.tags["key"] in a.caption
        or any(d in a.caption for d in a.tags["descriptors"])
    )


@pytest.mark.parametrize("genre", GENRES)
def test_seeds_vary_key_tempo_and_instrumentation(genre):
    comps = [COMPOSERS[genre]().compose(np.random.default_rng(s), 6.0) for s in range(12)]
    keys = {(c.score.key, c.score.mode) for c in comps}
    tempos = {round(c.score.bpm) for c in comps}
    moods = {tuple(c.moods) for c in comps}
    assert len(keys) >= 3 and len(tempos) >= 4 and len(moods) >= 2
    if COMPOSERS[genre].tonal:
        assert all(c.score.notes_in_role("bass") or c.score.notes_in_role("harmony") for c in comps)


def test_unknown_genre_and_bad_length():
    with pytest.raises(ValueError, match="valid genres"):
        make_clip("polka", 0)
    with pytest.raises(ValueError, match="positive"):
        make_clip(GENRES[0], 0, seconds=0)


def test_clip_tags_reject_words_outside_the_vocabulary():
    comp = COMPOSERS[GENRES[0]]().compose(np.random.default_rng(0), 4.0)
    comp.moods = ["sparkly"]
    with pytest.raises(ValueError, match="unknown moods"):
        clip_tags(GENRES[0], comp)
