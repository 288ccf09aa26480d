"""Metal idioms on the composed score: power chords, palm mutes, double kick, blast beats."""

from collections import Counter

import numpy as np
import pytest

from mmgan.data.clip import clip_rng
from mmgan.data.composers import COMPOSERS
from mmgan.data.score import GM_DRUMS
from mmgan.data.theory import mode_family, pitch_class

SEEDS = range(12)


def compose(seed: int, seconds: float = 6.0):
    return COMPOSERS["metal"]().compose(clip_rng("metal", seed), seconds)


def _per_slot(part) -> dict[float, list]:
    slots: dict[float, list] = {}
    for n in part.notes:
        slots.setdefault(round(n.start, 4), []).append(n)
    return slots


@pytest.mark.parametrize("seed", SEEDS)
def test_riff_is_low_tonic_power_chords_and_palm_mutes(seed):
    comp = compose(seed)
    score = comp.score
    assert mode_family(score.mode) == "minor" and score.key in ("E", "Eb", "D", "C#", "C")
    assert 100 <= score.bpm <= 200
    rhythm = next(p for p in score.parts if p.role == "harmony")
    assert rhythm.instrument == "guitar.distorted"
    assert any(name == "distortion" for name, _ in rhythm.effects), "no pedalboard distortion"
    mute_below = rhythm.params["mute_below"]
    tonic = pitch_class(score.key)
    for notes in _per_slot(rhythm).values():
        root = min(n.pitch for n in notes)
        assert 36 <= root <= 52, "riff not in the low (down-tuned) register"
        intervals = sorted({n.pitch - root for n in notes})
        if notes[0].velocity >= mute_below:  # open: a power chord root + fifth + octave
            assert intervals == [0, 7, 12], intervals
        else:  # palm-muted chug: the root (and its octave) only
            assert set(intervals) <= {0, 12}
    # the chugging pedal is the tonic: the most frequent riff root
    roots = Counter(min(n.pitch for n in ns) % 12 for ns in _per_slot(rhythm).values())
    assert roots.most_common(1)[0][0] == tonic
    if "blast beats" not in comp.descriptors:
        muted = [n for n in rhythm.notes if n.velocity < mute_below]
        assert len(muted) >= 8, "no palm-muted chugs"
    # bass doubles the riff an octave below and starts on the tonic
    bass = sorted(score.notes_in_role("bass"), key=lambda n: n.start)
    assert bass[0].start == 0 and bass[0].pitch % 12 == tonic and bass[0].pitch < 36


def _hits(score, key: str) -> list[float]:
    pitch = GM_DRUMS[key]
    return sorted(n.start for n in score.notes_in_role("drums") if n.pitch == pitch)


def test_double_kick_and_blast_beats_are_what_they_say():
    seen = set()
    for seed in range(40):
        comp = compose(seed)
        score = comp.score
        bars = int(score.length_beats // 4)
        kicks, snares = _hits(score, "kick"), _hits(score, "snare")
        crashes = set(_hits(score, "crash")) | set(_hits(score, "china"))
        assert {b * 4.0 for b in range(bars)} <= crashes, "no crash/china on the downbeats"
        if "double-kick drums" in comp.descriptors:
            seen.add("double")
            first_bar = [t for t in kicks if t < 4]
            assert len(first_bar) >= 14, "double kick should be continuous sixteenths"
            assert {1.0, 3.0} <= set(snares)
        if "blast beats" in comp.descriptors:
            seen.add("blast")
            bar = sorted([(t, "k") for t in kicks if t < 3] + [(t, "s") for t in snares if t < 3])
            steps = np.diff([t for t, _ in bar])
            assert np.allclose(steps, 0.25), "blast beat is not on a sixteenth grid"
            assert all(a[1] != b[1] for a, b in zip(bar, bar[1:], strict=False)), (
                "kick/snare do not alternate"
            )
        if "thrash beat" in comp.descriptors:
            seen.add("thrash")
            assert all(t % 1 == 0.5 for t in snares if int(t) % 4 != 3), "snare not on off-beats"
    assert seen == {"double", "blast", "thrash"}, seen


def test_deterministic_and_seed_dependent():
    a, b, c = compose(5), compose(5), compose(6)

    def notes(comp):
        return [(p.name, n.start, n.pitch, n.velocity) for p in comp.score.parts for n in p.notes]

    assert notes(a) == notes(b) and a.moods == b.moods
    assert notes(a) != notes(c)


def test_metal_sounds_denser_and_brighter_than_folk():
    """Distorted guitars: a flatter, brighter spectrum than acoustic folk (rendered, 2 s)."""
    from mmgan.data.clip import make_clip

    def flatness_and_centroid(genre):
        x = make_clip(genre, 1, seconds=2.0).audio.astype(np.float64)
        spec = np.abs(np.fft.rfft(x.reshape(-1, 1470) * np.hanning(1470), axis=1)) + 1e-9
        flat = np.exp(np.mean(np.log(spec), axis=1)) / np.mean(spec, axis=1)
        freqs = np.fft.rfftfreq(1470, 1 / 22050)
        centroid = (spec * freqs).sum(axis=1) / spec.sum(axis=1)
        return float(np.mean(flat)), float(np.mean(centroid))

    metal, folk = flatness_and_centroid("metal"), flatness_and_centroid("folk")
    assert metal[0] > folk[0] and metal[1] > folk[1], (metal, folk)
