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

__all__ = [
    "arrange",
    "check_line_floors",
    "decode_rows",
    "piece_floors",
    "role_plan",
    "rows_to_notes",
    "ShareHead",
    "tidy_rows",
    "write_midi",
]

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


LINE_FLOOR_LOWEST = 0.25  # a floor never plays a cell the generator gives less than this


def check_line_floors(floors, layout: RollLayout | None = None) -> dict[str, float]:
    """``{track: floor}`` as floats, or a ValueError naming the bad entry (drums, an unknown
    track, a floor outside [``LINE_FLOOR_LOWEST``, 0.5))."""
    layout = layout or RollLayout()
    out = {}
    for track, floor in (floors or {}).items():
        if track not in layout.slices or track == "drums":
            raise ValueError(
                f"line floors are for pitched tracks {layout.tracks[1:]}, got {track!r}"
            )
        if not isinstance(floor, int | float) or not LINE_FLOOR_LOWEST <= floor < 0.5:
            raise ValueError(
                f"line floor of {track!r} must be in [{LINE_FLOOR_LOWEST}, 0.5), got {floor!r}"
            )
        out[str(track)] = float(floor)
    return out


def decode_rows(probs: np.ndarray, layout: RollLayout | None = None, floors=None) -> np.ndarray:
    """On/off rows ``[..., R, T]`` (bool) from the generator's note probabilities.

    A cell plays when its probability is above 0.5 (what the discriminator was shown in
    training: the straight-through sign). ``floors`` (``{track: p}``, each in
    [``LINE_FLOOR_LOWEST``, 0.5)) add, for a pitched track, its most likely cell at every
    step where none of its cells passes 0.5 but that one passes ``p``. A melody whose pitch
    the generator is unsure of spreads its probability over neighbouring pitches and, with
    0.5 alone, falls silent: the shipped symbolic model played its lead in 13 % of steps
    against 66 % in the corpus. A list of such dicts, one per piece along the first axis,
    gives every piece its own floors (:func:`piece_floors` sets them)."""
    layout = layout or RollLayout()
    p = np.asarray(probs, dtype=np.float32)
    if p.ndim < 2 or p.shape[-2] != layout.rows:
        raise ValueError(f"expected probabilities [..., {layout.rows}, T], got {p.shape}")
    if not np.isfinite(p).all():
        raise ValueError("note probabilities contain NaN or infinite values")
    if isinstance(floors, list | tuple):
        if p.ndim != 3 or len(floors) != p.shape[0]:
            raise ValueError(
                f"per-piece floors need probabilities [n, R, T] and n dicts, got {p.shape} "
                f"and {len(floors)}"
            )
        return np.stack([decode_rows(q, layout, f) for q, f in zip(p, floors, strict=True)])
    on = p > 0.5
    for track, floor in check_line_floors(floors, layout).items():
        sl = layout.slices[track]
        q = p[..., sl, :]
        best = q.argmax(axis=-2)  # [..., T]
        add = (q.max(axis=-2) > floor) & ~on[..., sl, :].any(axis=-2)
        block = on[..., sl, :]
        block |= add[..., None, :] & (np.arange(q.shape[-2])[:, None] == best[..., None, :])
        on[..., sl, :] = block
    return on


def _share_floor(best: np.ndarray, share: float) -> float | None:
    """The floor at which steps with most-likely-cell probabilities ``best`` sound in a
    ``share`` of them (None: 0.5 already plays enough, or the floor would be 0.5)."""
    if share <= 0.0 or float((best > 0.5).mean()) >= share:
        return None
    floor = round(max(float(np.quantile(best, 1.0 - min(share, 1.0))), LINE_FLOOR_LOWEST), 4)
    return floor if floor < 0.5 else None


def piece_floors(
    probs: np.ndarray, shares: Mapping[str, np.ndarray], layout: RollLayout | None = None
) -> list[dict[str, float]]:
    """One floor dict per piece (for :func:`decode_rows`): for each track of ``shares``
    (``{track: [n]}``, the share of steps it should sound in, e.g. from a :class:`ShareHead`),
    the floor at which piece ``i`` of ``probs [n, R, T]`` sounds in ``shares[track][i]`` of
    its steps."""
    layout = layout or RollLayout()
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 3 or p.shape[1] != layout.rows:
        raise ValueError(f"expected probabilities [n, {layout.rows}, T], got {p.shape}")
    out: list[dict[str, float]] = [{} for _ in range(p.shape[0])]
    for track, share in shares.items():
        share = np.asarray(share, dtype=np.float64).reshape(-1)
        if track not in layout.slices or track == "drums" or len(share) != p.shape[0]:
            raise ValueError(
                f"shares must be {{pitched track: [{p.shape[0]}]}}, got {track!r}: {share.shape}"
            )
        best = p[:, layout.slices[track]].max(axis=1)  # [n, T]
        for i in range(p.shape[0]):
            floor = _share_floor(best[i], float(share[i]))
            if floor is not None:
                out[i][track] = floor
    return out


class ShareHead:
    """How often each pitched track sounds, from the style vector: a ridge regression of each
    training clip's share of steps in which the track plays on its style vectors (audio and
    captions), fitted at export like the tempo head. The pipeline decodes every piece so its
    tracks sound that often (:func:`piece_floors`): a jazz lead plays most of the time, a
    hip-hop lead leaves bars out, techno's harmony and lead stay sparse — one floor for all
    genres forces them alike, and the tracks' presence is part of what makes a style."""

    def __init__(self, weight, bias, tracks: Sequence[str]):
        self.tracks = tuple(str(t) for t in tracks)
        self.weight = np.asarray(weight, dtype=np.float64)  # [tracks, D]
        self.bias = np.asarray(bias, dtype=np.float64).reshape(-1)  # [tracks]
        layout = RollLayout()
        bad = [t for t in self.tracks if t not in layout.slices or t == "drums"]
        if bad or len(set(self.tracks)) != len(self.tracks):
            raise ValueError(f"share head tracks must be distinct pitched tracks, got {tracks}")
        n = len(self.tracks)
        if self.weight.ndim != 2 or self.weight.shape[0] != n or self.bias.shape != (n,):
            raise ValueError(
                f"share head needs weight [{n}, D] and bias [{n}] for tracks {self.tracks}, "
                f"got {self.weight.shape} and {self.bias.shape}"
            )
        if not (np.isfinite(self.weight).all() and np.isfinite(self.bias).all()):
            raise ValueError("share head contains NaN or infinite values")

    @classmethod
    def from_config(cls, config: Mapping | None, dim: int | None = None) -> ShareHead | None:
        """The head stored as ``config["share_head"]`` (None when absent); a ValueError
        names a malformed one, or one for another style dimension than ``dim``."""
        if not config:
            return None
        try:
            head = cls(config["weight"], config["bias"], config["tracks"])
        except (KeyError, TypeError) as err:
            raise ValueError(f"share head needs tracks, weight and bias: {err}") from err
        if dim is not None and head.weight.shape[1] != dim:
            raise ValueError(
                f"share head was fitted on {head.weight.shape[1]}-d styles, the style space "
                f"has {dim}"
            )
        return head

    def to_config(self) -> dict[str, object]:
        return {
            "tracks": list(self.tracks),
            "weight": [[round(float(v), 6) for v in row] for row in self.weight],
            "bias": [round(float(b), 6) for b in self.bias],
        }

    def __call__(self, style) -> dict[str, np.ndarray]:
        """``{track: [n]}`` shares in [0, 1] for unit style vectors ``[n, D]`` (or
        ``[n, D, steps]``, a style changing along the piece: its mean direction)."""
        if hasattr(style, "detach"):  # a torch tensor, possibly on a GPU
            style = style.detach().float().cpu().numpy()
        s = np.asarray(style, dtype=np.float64)
        if s.ndim == 3:
            s = s.mean(axis=-1)
        if s.ndim != 2 or s.shape[1] != self.weight.shape[1]:
            raise ValueError(f"expected styles [n, {self.weight.shape[1]}], got {s.shape}")
        s = s / np.maximum(np.linalg.norm(s, axis=1, keepdims=True), 1e-12)
        pred = np.clip(s @ self.weight.T + self.bias, 0.0, 1.0)
        return {t: pred[:, j] for j, t in enumerate(self.tracks)}


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
