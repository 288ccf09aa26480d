"""Jazz idioms on the composed score: walking bass, swung ride, hat on 2 and 4, ii–V–I key."""

from __future__ import annotations

import numpy as np
import pytest

from mmgan.data.clip import clip_rng
from mmgan.data.composers import COMPOSERS
from mmgan.data.score import GM_DRUMS
from mmgan.data.theory import pitch_class

SEEDS = range(6)


def compose(seed: int, seconds: float = 6.0):
    return COMPOSERS["jazz"]().compose(clip_rng("jazz", seed, 0), seconds)


def part(score, role):
    return next(p for p in score.parts if p.role == role)


@pytest.mark.parametrize("seed", SEEDS)
def test_walking_bass_one_note_per_beat(seed):
    score = compose(seed).score
    bass = part(score, "bass")
    beats = int(score.length_beats)
    starts = np.array(sorted(n.start for n in bass.notes))
    assert len(starts) == beats
    assert np.all(np.abs(starts - np.arange(beats)) < 0.05)
    steps = np.abs(np.diff([n.pitch for n in sorted(bass.notes, key=lambda n: n.start)]))
    assert np.all(steps > 0), "a walking line moves every beat"
    assert max(n.pitch for n in bass.notes) <= 50


@pytest.mark.parametrize("seed", SEEDS)
def test_bass_starts_on_chord_roots_and_hits_the_tonic(seed):
    score = compose(seed).score
    bass = sorted(part(score, "bass").notes, key=lambda n: n.start)
    tonic = pitch_class(score.key)
    downbeats = [n.pitch % 12 for n in bass if round(n.start) % 4 == 0]
    assert tonic in downbeats


@pytest.mark.parametrize("seed", SEEDS)
def test_ride_is_swung_and_hat_on_two_and_four(seed):
    score = compose(seed).score
    drums = part(score, "drums")
    ride = [n.start for n in drums.notes if n.pitch == GM_DRUMS["ride"]]
    offs = [t % 1.0 for t in ride if abs(t - round(t)) > 0.1]
    assert len(ride) >= 5 * (score.length_beats // 4)  # ding, ding-a ding: 6 a bar
    assert offs and all(0.58 <= f <= 0.75 for f in offs), "skip notes sit on the swung 8th"
    hats = [n.start % 4 for n in drums.notes if n.pitch == GM_DRUMS["hat_pedal"]]
    assert hats and set(np.round(hats, 3)) == {1.0, 3.0}


@pytest.mark.parametrize("seed", SEEDS)
def test_comping_plays_chords_and_tags_are_tonal(seed):
    comp = compose(seed)
    score = comp.score
    harmony = part(score, "harmony")
    onsets: dict[float, int] = {}
    for n in harmony.notes:
        onsets[n.start] = onsets.get(n.start, 0) + 1
    assert min(onsets.values()) >= 3
    assert score.mode in ("major", "minor")
    assert 100 <= score.bpm <= 220
    assert "walking bass" in comp.descriptors


def test_deterministic_and_seed_dependent():
    a, b, c = compose(3).score, compose(3).score, compose(4).score

    def sig(s):
        return [(p.name, [(n.start, n.pitch) for n in p.notes]) for p in s.parts]

    assert sig(a) == sig(b)
    assert sig(a) != sig(c)
    assert len({(compose(s).score.key, compose(s).score.bpm) for s in range(8)}) > 4


@pytest.mark.parametrize(
    "name", ["piano", "epiano", "organ", "upright_bass", "electric_bass", "vibraphone", "sax"]
)
def test_band_instruments_render_finite_notes(name):
    from mmgan.audio.synth import get_instrument

    spec = get_instrument(name)
    x = np.asarray(spec.fn(48, 0.4, 0.8, 22050, np.random.default_rng(0)), dtype=float)
    assert np.all(np.isfinite(x)) and len(x) >= int(0.4 * 22050)
    assert 0.01 < np.max(np.abs(x)) < 1.0
    assert np.max(np.abs(x[-50:])) < 0.05 * np.max(np.abs(x)), "note must decay by its tail"


def test_piano_velocity_brightens_the_tone():
    from mmgan.audio.synth import get_instrument

    piano = get_instrument("piano").fn

    def centroid(vel):
        x = np.asarray(piano(60, 0.5, vel, 22050, np.random.default_rng(0)), dtype=float)
        mag = np.abs(np.fft.rfft(x))
        freqs = np.fft.rfftfreq(len(x), 1 / 22050)
        return float((mag * freqs).sum() / mag.sum())

    assert centroid(0.95) > 1.2 * centroid(0.3)
