"""Generated piano-rolls -> notes -> an arranged :class:`~mmgan.data.score.Score` -> MIDI stems
and audio.

The symbolic generator decides *what* is played (four tracks of notes on a 12-steps-per-beat
grid); this module decides *on what*: every track is handed to an instrument with its effects,
gain and mix bus taken from a genre's own production (a template clip from that genre's
composer, :mod:`mmgan.data.composers`, whose notes are replaced), the genre being the
style's nearest ones (weights from the style space's zero-shot probabilities). With two genres
in play (a blend) the roles are split between them by weight: the rhythm section follows one
genre, harmony and lead the other, so a jazz x metal hybrid can be a jazz combo's harmony over
a metal rhythm section. Instruments can be overridden per role.

    >>> notes = rows_to_notes(rows)                 # {role: [(start, dur, pitch, vel)]}
    >>> score = arrange(rows, [("jazz", 1.0)], bpm=120, seed=0)
    >>> paths = write_midi(score, "out/")          # arrangement.mid + stems/<role>.mid
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from mmgan.data.score import ROLES, Part, Score
from mmgan.models.pianoroll import STEPS_PER_BEAT, RollLayout

__all__ = ["arrange", "role_plan", "rows_to_notes", "write_midi"]

VELOCITY = {"drums": 0.85, "bass": 0.8, "harmony": 0.62, "lead": 0.78}
FALLBACK = {  # when a template genre has no part in a role
    "drums": "kit.acoustic",
    "bass": "electric_bass",
    "harmony": "piano",
    "lead": "piano",
}
SUBSTITUTE = {"lead": ("harmony",), "harmony": ("lead",)}  # a role's stand-in instrument
DRUM_STEPS = 2  # a drum hit lasts two steps (1/6 beat); only its onset matters


def rows_to_notes(
    rows: np.ndarray, layout: RollLayout | None = None
) -> dict[str, list[tuple[float, float, int, float]]]:
    """``[R, T]`` on/off rows -> per role ``(start_beats, duration_beats, pitch, velocity)``.

    A run of "on" steps in one pitch row is one note (as MuseGAN reads its rolls); a drum
    row's run is one hit at its first step.
    """
    layout = layout or RollLayout()
    on = np.asarray(rows) > 0.5
    if on.ndim != 2 or on.shape[0] != layout.rows:
        raise ValueError(f"expected rows [{layout.rows}, T], got {on.shape}")
    out: dict[str, list[tuple[float, float, int, float]]] = {}
    for track in layout.tracks:
        notes = []
        block = on[layout.slices[track]]
        for r, pitch in enumerate(layout.pitches[track]):
            padded = np.concatenate([[False], block[r], [False]]).astype(np.int8)
            edges = np.diff(padded)
            starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
            for a, b in zip(starts, ends, strict=True):
                steps = DRUM_STEPS if track == "drums" else int(b - a)
                notes.append((a / STEPS_PER_BEAT, steps / STEPS_PER_BEAT, pitch, VELOCITY[track]))
        notes.sort()
        out[track] = notes
    return out


def tidy_rows(rows: np.ndarray, layout: RollLayout | None = None, min_steps: int = 2):
    """On/off rows ``[..., R, T]`` with every pitched note shorter than ``min_steps`` steps
    removed (drum hits are single steps by nature and stay). The generator decides each
    12th of a beat on its own, so a few cells flicker on for one step: a 1/12-beat blip a
    listener hears as a click, not a note (MuseGAN's QN metric counts such fragments).
    Returns a new bool array."""
    layout = layout or RollLayout()
    on = np.array(np.asarray(rows) > 0.5, dtype=bool)
    if on.ndim < 2 or on.shape[-2] != layout.rows:
        raise ValueError(f"expected rows [..., {layout.rows}, T], got {on.shape}")
    if min_steps <= 1:
        return on
    start = layout.slices[layout.tracks[1]].start  # the pitched tracks follow the drums
    block = on[..., start:, :]
    flat = block.reshape(-1, block.shape[-1])
    for r in np.nonzero(flat.any(axis=1))[0]:
        edges = np.diff(np.concatenate([[0], flat[r].astype(np.int8), [0]]))
        for a, b in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0], strict=True):
            if b - a < min_steps:
                flat[r, a:b] = False
    on[..., start:, :] = flat.reshape(block.shape)
    return on


def role_plan(genres: Sequence[tuple[str, float]]) -> dict[str, str]:
    """Which genre's production each role takes: the top genre for all four, or with a
    second genre holding at least a quarter of the weight, drums + bass from the heavier of
    the two and harmony + lead from the other."""
    ranked = sorted(((g, float(w)) for g, w in genres), key=lambda x: -x[1])
    if not ranked:
        raise ValueError("arrange needs at least one genre")
    first = ranked[0][0]
    plan = dict.fromkeys(ROLES, first)
    if len(ranked) > 1 and ranked[1][1] >= 0.25 * (ranked[0][1] + ranked[1][1]):
        second = ranked[1][0]
        plan.update(harmony=second, lead=second)
    return plan


def _template(genre: str, seed: int, seconds: float) -> Score:
    from mmgan.data.clip import clip_rng
    from mmgan.data.composers import COMPOSERS

    if genre not in COMPOSERS:
        raise ValueError(f"no composer for genre {genre!r}; known: {', '.join(COMPOSERS)}")
    return COMPOSERS[genre]().compose(clip_rng(genre, seed, 0), seconds).score


def arrange(
    rows: np.ndarray,
    genres: Sequence[tuple[str, float]],
    *,
    bpm: float,
    seed: int = 0,
    beats_per_bar: int = 4,
    key: str = "C",
    mode: str = "major",
    instruments: Mapping[str, str] | None = None,
) -> Score:
    """A playable :class:`Score` of generated ``rows [R, T]`` at ``bpm``.

    ``genres``: ``[(genre, weight), ...]`` whose production the roles take (see
    :func:`role_plan`); ``instruments``: optional ``{role: instrument name}`` overrides
    (names of :mod:`mmgan.audio.synth`'s registry).
    """
    from mmgan.audio.synth import get_instrument

    if not np.isfinite(bpm) or not 20 <= bpm <= 400:
        raise ValueError(f"bpm must be in [20, 400], got {bpm}")
    notes = rows_to_notes(rows)
    beats = np.asarray(rows).shape[1] / STEPS_PER_BEAT
    plan = role_plan(genres)
    seconds = beats * 60.0 / bpm
    templates = {g: _template(g, seed, min(seconds, 12.0)) for g in set(plan.values())}
    score = Score(
        bpm=float(bpm), beats_per_bar=beats_per_bar, key=key, mode=mode, length_beats=beats
    )
    score.master = copy.deepcopy(templates[plan["drums"]].master)
    for role in ROLES:
        source = templates[plan[role]]
        part = next((p for p in source.parts if p.role == role), None)
        for other in SUBSTITUTE.get(role, ()):  # e.g. a metal lead on the rhythm guitar
            part = part or next((p for p in source.parts if p.role == other), None)
        name = (instruments or {}).get(role)
        if name is not None:
            get_instrument(name)  # a clear error for unknown names
        if part is None or name is not None:
            part = Part(name=role, role=role, instrument=name or FALLBACK[role])
        else:
            part = copy.deepcopy(part)
            if part.role != role:
                part.name, part.role = f"{part.name} ({role})", role
            part.notes = []
        for start, dur, pitch, vel in notes[role]:
            part.add(start, dur, pitch, vel)
        if part.notes:
            score.parts.append(part)
    return score


def write_midi(score: Score, folder: str | Path) -> dict[str, Path]:
    """``folder/arrangement.mid`` (all parts) and ``folder/stems/<role>.mid`` (one each),
    written atomically; returns ``{"arrangement": path, "<role>": path, ...}``."""
    from mmgan.audio.midi import save_midi

    folder = Path(folder)
    out = {"arrangement": save_midi(score, folder / "arrangement.mid")}
    for part in score.parts:
        stem = copy.copy(score)
        stem.parts = [part]
        out[part.role] = save_midi(stem, folder / "stems" / f"{part.role}.mid")
    return out
