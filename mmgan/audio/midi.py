"""Score -> multi-track MIDI (pretty_midi) and -> piano-roll ``[tracks, steps, pitches]``.

Piano-roll resolution: ``STEPS_PER_BEAT = 12`` (48 per 4/4 bar), fine enough for
straight 16ths *and* triplet/swing eighths (MuseGAN uses 24 per bar, i.e. 6 per
beat, for the same reason); the symbolic GAN may pool it down. Values are MIDI
velocities (0 = off), one track per role in ``ROLES``; overlapping notes of
several parts in one role keep the louder velocity.

A note struck while the same pitch of its role still sounds (a repeated note, or a part
re-striking a pitch another part holds) starts after a one-step gap: the step before its
onset is cleared, unless a note starts on that step too. Without the gap a roll cannot tell
sixteen chugs on one pitch from one held note: measured on the ``small`` corpus (train
split, 40 clips a genre) the merged rolls kept 31 % of metal's pitched MIDI notes, 45 % of
folk's, 64 % of symphonic's and 68 % of reggae's, and a metal clip's pitch-class entropy
read 2.08 from its roll against 1.67 from its MIDI. The gap costs a repeated note 1/12 beat
of its length.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pretty_midi

from mmgan.data.score import ROLES, Score
from mmgan.utils import atomic_write_bytes

STEPS_PER_BEAT = 12


def score_to_midi(score: Score) -> pretty_midi.PrettyMIDI:
    """One MIDI instrument per part, named after it, with its General MIDI program."""
    from mmgan.audio.synth import get_instrument

    pm = pretty_midi.PrettyMIDI(initial_tempo=float(score.bpm))
    pm.time_signature_changes.append(pretty_midi.TimeSignature(*score.time_signature, 0.0))
    spb = score.seconds_per_beat
    for part in score.parts:
        spec = get_instrument(part.instrument)
        inst = pretty_midi.Instrument(program=spec.program, is_drum=spec.is_drum, name=part.name)
        for n in part.notes:
            start = max(0.0, n.start * spb)
            inst.notes.append(
                pretty_midi.Note(
                    velocity=max(1, int(round(n.velocity * 127))),
                    pitch=int(n.pitch),
                    start=start,
                    end=start + max(n.duration * spb, 0.01),
                )
            )
        pm.instruments.append(inst)
    return pm


def save_midi(score: Score, path: str | Path) -> Path:
    buf = io.BytesIO()
    score_to_midi(score).write(buf)
    return atomic_write_bytes(path, buf.getvalue())


def score_to_pianoroll(
    score: Score, seconds: float | None = None, steps_per_beat: int = STEPS_PER_BEAT
) -> np.ndarray:
    """``uint8 [len(ROLES), steps, 128]`` velocities covering ``seconds`` (default: whole score)."""
    beats = score.length_beats if seconds is None else seconds / score.seconds_per_beat
    steps = int(np.ceil(beats * steps_per_beat))
    roll = np.zeros((len(ROLES), steps, 128), dtype=np.uint8)
    onsets = np.zeros(roll.shape, dtype=bool)
    for part in score.parts:
        r = ROLES.index(part.role)
        for n in part.notes:
            a = int(round(n.start * steps_per_beat))
            b = max(a + 1, int(round((n.start + n.duration) * steps_per_beat)))
            if a >= steps or b <= 0:
                continue
            if a >= 0:  # a note from before the roll's start has no onset in it
                onsets[r, a, n.pitch] = True
            a, b = max(a, 0), min(b, steps)
            v = max(1, int(round(n.velocity * 127)))
            roll[r, a:b, n.pitch] = np.maximum(roll[r, a:b, n.pitch], v)
    return restrike_gaps(roll, onsets)


def restrike_gaps(roll: np.ndarray, onsets: np.ndarray) -> np.ndarray:
    """Clear the step before each onset whose pitch sounds there (module doc), in place.

    ``roll`` and ``onsets`` ``[tracks, steps, pitches]``; a step that is itself an onset is
    kept (a one-step note stays)."""
    if roll.shape != onsets.shape:
        raise ValueError(f"roll {roll.shape} and onsets {onsets.shape} differ in shape")
    before = np.zeros_like(onsets)
    before[:, :-1] = onsets[:, 1:]  # the step before an onset
    roll[before & ~onsets] = 0
    return roll


def save_pianoroll(score: Score, path: str | Path, seconds: float | None = None) -> Path:
    """``.npz`` with ``pianoroll``, ``roles``, ``steps_per_beat``, ``bpm``, ``beats_per_bar``
    and ``restrike_gaps`` (True: re-struck notes leave a gap, module doc; absent in corpora
    built before the gaps)."""
    roll = score_to_pianoroll(score, seconds)
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        pianoroll=roll,
        roles=np.array(ROLES),
        steps_per_beat=np.int32(STEPS_PER_BEAT),
        bpm=np.float32(score.bpm),
        beats_per_bar=np.int32(score.beats_per_bar),
        restrike_gaps=np.bool_(True),
    )
    return atomic_write_bytes(path, buf.getvalue())


def load_pianoroll(path: str | Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}
