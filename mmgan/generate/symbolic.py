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
from mmgan.data.theory import NOTE_NAMES, pitch_class
from mmgan.models.pianoroll import STEPS_PER_BEAT, RollLayout

__all__ = [
    "GROOVE_MIN_SHARE",
    "GrooveHead",
    "PROTOTYPE_TEMPERATURE",
    "PresenceHead",
    "PrototypeHead",
    "RestHead",
    "RidgeHead",
    "StyleHead",
    "quantise_drums",
    "rest_bars",
    "arrange",
    "check_line_floors",
    "decode_rows",
    "piece_floors",
    "role_plan",
    "rows_to_notes",
    "ShareHead",
    "tidy_rows",
    "VoiceHead",
    "cap_voices",
    "FIGURE_FIELDS",
    "FigureHead",
    "figure_lines",
    "note_runs",
    "KeyHead",
    "key_shifts",
    "parse_tonic",
    "piece_key",
    "pitch_profile",
    "transpose_rows",
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


# a step of the beat holding less than this share of a style's drum onsets is off its grid
GROOVE_MIN_SHARE = 0.02


class StyleHead:
    """A read-out of a style vector stored in a model's ``config.json`` and fitted at export
    on the training data (:mod:`mmgan.training.gan_data`); subclasses say how it reads the
    style (:class:`RidgeHead`, :class:`PrototypeHead`) and what its ``k`` outputs are."""

    label = "style head"
    outputs: tuple[str, ...] = ()
    keys = "weight and bias"

    @property
    def dim(self) -> int:
        raise NotImplementedError

    @classmethod
    def _from_config(cls, config: Mapping) -> StyleHead:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: Mapping | None, dim: int | None = None):
        """The head stored in ``config.json`` (None when absent); a ValueError names a
        malformed one, or one for another style dimension than ``dim``."""
        if not config:
            return None
        try:
            head = cls._from_config(config)
        except (KeyError, TypeError) as err:
            raise ValueError(f"{cls.label} needs {cls.keys}: {err}") from err
        if dim is not None and head.dim != dim:
            raise ValueError(
                f"{cls.label} was fitted on {head.dim}-d styles, the style space has {dim}"
            )
        return head

    @staticmethod
    def _unit(style, dim: int) -> np.ndarray:
        """Style vectors ``[n, D]`` (or ``[n, D, steps]``, a style changing along the piece:
        its mean direction) as unit float64 rows."""
        if hasattr(style, "detach"):  # a torch tensor, possibly on a GPU
            style = style.detach().float().cpu().numpy()
        s = np.asarray(style, dtype=np.float64)
        if s.ndim == 3:
            s = s.mean(axis=-1)
        if s.ndim != 2 or s.shape[1] != dim:
            raise ValueError(f"expected styles [n, {dim}], got {s.shape}")
        return s / np.maximum(np.linalg.norm(s, axis=1, keepdims=True), 1e-12)

    def _finite(self, *arrays) -> None:
        if not all(np.isfinite(a).all() for a in arrays):
            raise ValueError(f"{self.label} contains NaN or infinite values")


class RidgeHead(StyleHead):
    """``weight [k, D] . s + bias [k]`` for unit styles ``s``: a ridge regression of
    per-clip statistics on the clips' style vectors
    (:meth:`mmgan.training.gan_data.GANData._ridge`)."""

    def __init__(self, weight, bias, outputs: Sequence[str] | None = None):
        if outputs is not None:
            self.outputs = tuple(str(t) for t in outputs)
        self.weight = np.asarray(weight, dtype=np.float64)  # [k, D]
        self.bias = np.asarray(bias, dtype=np.float64).reshape(-1)  # [k]
        n = len(self.outputs)
        if self.weight.ndim != 2 or self.weight.shape[0] != n or self.bias.shape != (n,):
            raise ValueError(
                f"{self.label} needs weight [{n}, D] and bias [{n}] for {self.outputs}, got "
                f"{self.weight.shape} and {self.bias.shape}"
            )
        self._finite(self.weight, self.bias)

    @property
    def dim(self) -> int:
        return int(self.weight.shape[1])

    @classmethod
    def _from_config(cls, config: Mapping) -> StyleHead:
        return cls(config["weight"], config["bias"])

    def to_config(self) -> dict[str, object]:
        return {
            "weight": [[round(float(v), 6) for v in row] for row in self.weight],
            "bias": [round(float(b), 6) for b in self.bias],
        }

    def linear(self, style) -> np.ndarray:
        """``[n, k]`` for style vectors ``[n, D]`` (see :meth:`StyleHead._unit`)."""
        return self._unit(style, self.dim) @ self.weight.T + self.bias


PROTOTYPE_TEMPERATURE = 0.05


class PrototypeHead(StyleHead):
    """Per-genre statistics read by how near a style is to each genre: a softmax over its
    cosine similarities to per-genre prototypes (the mean direction of a genre's training
    style vectors, audio and captions), at ``temperature``, weights the genres' rows of
    ``table [G, k]`` (their clips' mean statistics). Measured on ``small``: a ridge
    regression of the share of bars each track rests smeared across genres (jazz's drums,
    which never rest, 0.11; a metal lead 0.02 for 0.06), while this head reads the genre
    prompts' and the captions' rows within 0.01 at 0.05; a hybrid gets the blend of its
    genres' rows."""

    keys = "prototypes, table, genres and temperature"

    def __init__(
        self,
        prototypes,
        table,
        genres: Sequence[str],
        temperature: float = PROTOTYPE_TEMPERATURE,
        outputs: Sequence[str] | None = None,
    ):
        if outputs is not None:
            self.outputs = tuple(str(t) for t in outputs)
        self.prototypes = np.asarray(prototypes, dtype=np.float64)  # [G, D]
        self.table = np.asarray(table, dtype=np.float64)  # [G, k]
        self.genres = tuple(str(g) for g in genres)
        self.temperature = float(temperature)
        g, k = len(self.genres), len(self.outputs)
        if (
            self.prototypes.ndim != 2
            or self.prototypes.shape[0] != g
            or self.table.shape != (g, k)
            or g < 1
        ):
            raise ValueError(
                f"{self.label} needs prototypes [G, D] and table [G, {k}] for its {g} genres, "
                f"got {self.prototypes.shape} and {self.table.shape}"
            )
        self._finite(self.prototypes, self.table)
        if not self.temperature > 0:
            raise ValueError(f"{self.label} temperature must be > 0, got {temperature!r}")
        norms = np.linalg.norm(self.prototypes, axis=1, keepdims=True)
        self.prototypes = self.prototypes / np.maximum(norms, 1e-12)

    @property
    def dim(self) -> int:
        return int(self.prototypes.shape[1])

    @classmethod
    def _from_config(cls, config: Mapping) -> StyleHead:
        return cls(config["prototypes"], config["table"], config["genres"], config["temperature"])

    def to_config(self) -> dict[str, object]:
        return {
            "genres": list(self.genres),
            "temperature": self.temperature,
            "prototypes": [[round(float(v), 6) for v in row] for row in self.prototypes],
            "table": [[round(float(v), 6) for v in row] for row in self.table],
        }

    def weights(self, style) -> np.ndarray:
        """``[n, G]``: how much each genre's row counts for each style (rows sum to 1)."""
        z = self._unit(style, self.dim) @ self.prototypes.T / self.temperature
        z -= z.max(axis=1, keepdims=True)
        w = np.exp(z)
        return w / w.sum(axis=1, keepdims=True)

    def mix(self, style) -> np.ndarray:
        """``[n, k]``: the table's rows blended by :meth:`weights`."""
        return self.weights(style) @ self.table


class _TrackShares:
    """A head with one share in [0, 1] per track (its outputs are track names)."""

    allowed: tuple[str, ...] = ROLES
    kind = "tracks"

    def _check_tracks(self, tracks: Sequence[str]) -> tuple[str, ...]:
        tracks = tuple(str(t) for t in tracks)
        if any(t not in self.allowed for t in tracks) or len(set(tracks)) != len(tracks):
            raise ValueError(
                f"{self.label} tracks must be distinct {self.kind} {self.allowed}, got {tracks}"
            )
        return tracks

    @property
    def tracks(self) -> tuple[str, ...]:
        return self.outputs

    def _shares(self, pred: np.ndarray) -> dict[str, np.ndarray]:
        pred = np.clip(pred, 0.0, 1.0)
        return {t: pred[:, j] for j, t in enumerate(self.tracks)}


class ShareHead(_TrackShares, RidgeHead):
    """How often each pitched track sounds, from the style vector: a ridge regression of each
    training clip's share of steps in which the track plays on its style vectors (audio and
    captions), fitted at export like the tempo head. The pipeline decodes every piece so its
    tracks sound that often (:func:`piece_floors`): a jazz lead plays most of the time, a
    hip-hop lead leaves bars out, techno's harmony and lead stay sparse — one floor for all
    genres forces them alike, and the tracks' presence is part of what makes a style."""

    label = "share head"
    keys = "tracks, weight and bias"
    allowed, kind = ROLES[1:], "pitched tracks"

    def __init__(self, weight, bias, tracks: Sequence[str]):
        super().__init__(weight, bias, self._check_tracks(tracks))

    @classmethod
    def _from_config(cls, config: Mapping) -> StyleHead:
        return cls(config["weight"], config["bias"], config["tracks"])

    def to_config(self) -> dict[str, object]:
        return {"tracks": list(self.tracks), **super().to_config()}

    def __call__(self, style) -> dict[str, np.ndarray]:
        """``{track: [n]}`` shares in [0, 1] (see :meth:`RidgeHead.linear`)."""
        return self._shares(self.linear(style))


class _TrackConfig:
    """``config.json`` round trip of a :class:`PrototypeHead` whose table is per track."""

    keys = "tracks, prototypes, table, genres and temperature"

    @classmethod
    def _from_config(cls, config: Mapping) -> StyleHead:
        return cls(
            config["prototypes"],
            config["table"],
            config["genres"],
            config["tracks"],
            config["temperature"],
        )

    def to_config(self) -> dict[str, object]:
        return {"tracks": list(self.tracks), **super().to_config()}


class _TrackPrototypeHead(_TrackConfig, _TrackShares, PrototypeHead):
    """A :class:`PrototypeHead` with one output per track (its table ``[G, tracks]``)."""

    def __init__(self, prototypes, table, genres, tracks, temperature=PROTOTYPE_TEMPERATURE):
        super().__init__(prototypes, table, genres, temperature, self._check_tracks(tracks))


class RestHead(_TrackPrototypeHead):
    """In how many of its bars each track rests: per genre, the mean over its training clips
    of the share of 4-beat bars (a last part-bar of half a bar or more counts, as in
    MuseGAN's EB) in which the track plays nothing, read by the style's nearness to each
    genre (:class:`PrototypeHead`), fitted at export. The pipeline silences that share of
    each piece's bars, the ones where the generator is least sure of the track
    (:func:`rest_bars`): a generator pulled toward crops of many pieces at once hedges and
    plays through, so the shipped v3's jazz lead rested in 5 % of its bars against 33 % in
    the corpus, and its metal lead never (10 %)."""

    label = "rest head"

    def __call__(self, style) -> dict[str, np.ndarray]:
        """``{track: [n]}``: the share of bars each track rests in, in [0, 1]."""
        return self._shares(self.mix(style))


class PresenceHead(_TrackPrototypeHead):
    """How often a piece leaves each track out altogether: per genre and track, the
    probability that the pipeline silences the track for a whole piece, on top of the pieces
    in which the generator itself gives it nothing it could play — ``(a - g) / (1 - g)``,
    clipped to [0, 1], where ``a`` is the share of the genre's training clips without the
    track and ``g`` the share of the generator's pieces for "a <genre> track" in which the
    pipeline, decoding without this head, plays nothing in the track (measured at export:
    :meth:`~mmgan.training.gan_trainer.GANTrainer.generator_absence`; a track the generator
    gives nothing to play cannot be brought back); read by the style's nearness to each genre
    (:class:`PrototypeHead`). With it, the model's :class:`RestHead` holds the share of bars
    a track rests in over the clips that play it; a pipeline with ``presence`` 0 (the
    default: ``SymbolicPipeline``) rests the track in that much more of every piece's bars
    instead of leaving it out.

    Why: the corpus's arrangements leave whole tracks out — techno its harmony in 34 % of
    clips and its lead in 52 %, idm its harmony in 44 %, jazz its lead in 30 %, folk its
    drums in 39 % — while the generator, pulled toward many crops at once, plays nearly
    every track in every piece (4 %, 4 %, 12 %, 0 %, 0 % on the shipped v5), and a rest
    head spreading those absences over bars gives every piece the same line-up: on the
    diversity descriptor, whose track means count an absent track as a different piece,
    techno's pieces varied half as much as the corpus's (0.48-0.50 of it)."""

    label = "presence head"

    def __call__(self, style) -> dict[str, np.ndarray]:
        """``{track: [n]}``: the probability a piece leaves the track out, in [0, 1]."""
        return self._shares(self.mix(style))


class GrooveHead(PrototypeHead):
    """Where in the beat a style's drum hits fall: per genre, the histogram of its training
    clips' drum onsets over the 12 steps of a beat (clips with drums; a genre without drums
    gets an even one, which moves nothing), read by the style's nearness to each genre
    (:class:`PrototypeHead`), fitted at export. The pipeline snaps the generator's
    drum hits to the steps the style uses (:func:`quantise_drums`), a groove quantise: the
    generator places a share of its hits one step off (measured on the shipped v3: 39 % of
    symphonic and 33 % of folk hits off the 16th grid, against none in the corpus), a
    flam a drummer would not play, while swung genres keep their swing (the corpus's
    reggae puts a third of its hits on step 7 of 12, jazz a fifth on step 8: they stay)."""

    label = "groove head"
    outputs = tuple(f"step {i}" for i in range(STEPS_PER_BEAT))

    def __call__(self, style) -> np.ndarray:
        """``[n, 12]`` shares of drum onsets per step of the beat, each row summing to 1."""
        pred = np.clip(self.mix(style), 0.0, None)
        total = pred.sum(axis=1, keepdims=True)
        return np.where(total > 0, pred / np.maximum(total, 1e-12), 1.0 / STEPS_PER_BEAT)


class VoiceHead(_TrackPrototypeHead):
    """How many notes each pitched track sounds at once at most: per genre, a quantile over
    its training clips of each clip's most simultaneous notes in the track
    (:meth:`~mmgan.training.gan_data.GANData.voice_head`), read by the style's nearness to
    each genre (:class:`PrototypeHead`), fitted at export. The pipeline keeps a track's most
    likely cells up to that many at every step (:func:`cap_voices`): the generator lets a
    note fade while the next rises, both above 0.5 for a few steps, so lines the corpus
    plays one note at a time came out with two at once (measured on the shipped v4: 1.2-1.5
    notes on average at the steps they sound in the bass of symphonic, techno, metal, folk
    and reggae and the lead of symphonic, techno, metal and ambient; the corpus's 1.00, but
    metal's lead, 1.24)."""

    label = "voice head"
    allowed, kind = ROLES[1:], "pitched tracks"

    def __init__(self, prototypes, table, genres, tracks, temperature=PROTOTYPE_TEMPERATURE):
        super().__init__(prototypes, table, genres, tracks, temperature)
        if (self.table < 1).any():
            g, j = np.argwhere(self.table < 1)[0]
            raise ValueError(
                f"{self.label} table must hold voice counts >= 1, got {self.table[g, j]:g} for "
                f"{self.genres[g]}'s {self.tracks[j]}"
            )

    def __call__(self, style) -> dict[str, np.ndarray]:
        """``{track: [n]}`` integer voice caps (the blended counts rounded, at least 1)."""
        caps = np.maximum(np.floor(self.mix(style) + 0.5 + 1e-6), 1).astype(int)  # half: up
        return {t: caps[:, j] for j, t in enumerate(self.tracks)}


def _rows_and_probs(rows, probs, layout: RollLayout, dtype) -> tuple[np.ndarray, np.ndarray]:
    """``(a new bool copy of rows, probs as dtype)``, both ``[n, R, T]`` alike, or a
    ValueError."""
    on = np.array(np.asarray(rows) > 0.5, dtype=bool)
    p = np.asarray(probs, dtype=dtype)
    if on.ndim != 3 or on.shape[1] != layout.rows or p.shape != on.shape:
        raise ValueError(
            f"expected rows and probabilities [n, {layout.rows}, T] alike, got {on.shape} "
            f"and {p.shape}"
        )
    return on, p


def cap_voices(
    rows: np.ndarray,
    probs: np.ndarray,
    caps: Mapping[str, np.ndarray],
    layout: RollLayout | None = None,
) -> np.ndarray:
    """On/off rows ``[n, R, T]`` with, for each pitched track of ``caps`` (``{track: [n]}``
    counts >= 1: :class:`VoiceHead`), at most that many cells on at each step: the ones the
    generator gives the highest probability (``probs [n, R, T]``, those the rows were decoded
    from). A step keeps sounding; only the less likely of its notes stop. Returns a new
    array."""
    layout = layout or RollLayout()
    on, p = _rows_and_probs(rows, probs, layout, np.float32)
    for track, cap in caps.items():
        cap = np.asarray(cap).reshape(-1)
        if track not in layout.slices or track == "drums" or len(cap) != on.shape[0]:
            raise ValueError(
                f"caps must be {{pitched track: [{on.shape[0]}]}}, got {track!r}: {cap.shape}"
            )
        if (cap < 1).any() or not np.array_equal(cap, np.round(cap)):
            raise ValueError(f"voice caps of {track!r} must be whole numbers >= 1, got {cap}")
        sl = layout.slices[track]
        for i in range(on.shape[0]):
            block = on[i, sl]  # [P, T] (a view)
            crowded = block.sum(axis=0) > cap[i]
            if not crowded.any():
                continue
            q = np.where(block[:, crowded], p[i, sl][:, crowded], -np.inf)
            rank = np.argsort(np.argsort(-q, axis=0, kind="stable"), axis=0)
            block[:, crowded] &= rank < int(cap[i])
    return on


FIGURE_FIELDS = ("length", "repeat", *(f"step {i}" for i in range(STEPS_PER_BEAT)))
FIGURE_BAR = 4 * STEPS_PER_BEAT  # chords are struck again at the same steps of every 4 beats


class FigureHead(_TrackConfig, PrototypeHead):
    """How a style's one-voice lines move: per genre and pitched track, over its training
    clips that play the track, the mean of each clip's median note length (steps), the share
    of its notes that repeat the note before's pitch, and the histogram of its note onsets
    over the 12 steps of a beat (:meth:`~mmgan.training.gan_data.GANData.figure_head`), read
    by the style's nearness to each genre (:class:`PrototypeHead`), fitted at export. The
    pipeline breaks the generator's held notes into notes of that length
    (:func:`figure_lines`).

    Why: the generator's probabilities for a fast line are a band, not a line — trained
    toward the nearest of many crops by cross-entropy, it learns which pitches a line uses
    but not when each sounds. In the shipped v5, "a baroque track" gave its lead C#5 at
    0.55-0.69 for four beats with E5, D#5, G#4 and B4 at 0.2-0.5 beside it; decoded, that
    is one held C#5 where the corpus's baroque lead plays 10.4 notes a bar of 3 steps
    (median) through five pitch classes. Decoding with a threshold or the most likely cell
    keeps only the band's top; drawing each note of the line from the band keeps what the
    generator says about the pitches."""

    label = "figure head"
    allowed = ROLES[1:]

    def __init__(self, prototypes, table, genres, tracks, temperature=PROTOTYPE_TEMPERATURE):
        tracks = tuple(str(t) for t in tracks)
        if any(t not in self.allowed for t in tracks) or len(set(tracks)) != len(tracks):
            raise ValueError(
                f"{self.label} tracks must be distinct pitched tracks {self.allowed}, got {tracks}"
            )
        self.tracks = tracks
        self.outputs = tuple(f"{t} {f}" for t in tracks for f in FIGURE_FIELDS)
        super().__init__(prototypes, table, genres, temperature)
        k = len(FIGURE_FIELDS)
        for j, track in enumerate(tracks):
            block = self.table[:, j * k : (j + 1) * k]
            bad = (block[:, 0] < 0) | (block[:, 1] < 0) | (block[:, 1] > 1)
            bad |= (block[:, 2:] < 0).any(axis=1)
            if bad.any():
                g = int(np.nonzero(bad)[0][0])
                raise ValueError(
                    f"{self.label}: {self.genres[g]}'s {track} needs a length >= 0, a repeat "
                    f"share in [0, 1] and onset shares >= 0, got {block[g].round(3).tolist()}"
                )

    def __call__(self, style) -> dict[str, dict[str, np.ndarray]]:
        """``{track: {"length": [n], "repeat": [n], "onsets": [n, 12]}}`` (onset shares
        summing to 1; even where a genre's clips had none)."""
        mix = self.mix(style)
        k, out = len(FIGURE_FIELDS), {}
        for j, track in enumerate(self.tracks):
            block = mix[:, j * k : (j + 1) * k]
            hist = np.clip(block[:, 2:], 0.0, None)
            total = hist.sum(axis=1, keepdims=True)
            hist = np.where(total > 0, hist / np.maximum(total, 1e-12), 1.0 / STEPS_PER_BEAT)
            out[track] = {
                "length": np.clip(block[:, 0], 0.0, None),
                "repeat": np.clip(block[:, 1], 0.0, 1.0),
                "onsets": hist,
            }
        return out


def note_runs(x: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, end)]`` of the runs of True in a 1-D bool array."""
    edges = np.diff(np.concatenate([[0], x.astype(np.int8), [0]]))
    starts, ends = np.nonzero(edges == 1)[0].tolist(), np.nonzero(edges == -1)[0].tolist()
    return list(zip(starts, ends, strict=True))


def figure_lines(
    rows: np.ndarray,
    probs: np.ndarray,
    figures: Mapping[str, Mapping[str, np.ndarray]],
    caps: Mapping[str, np.ndarray],
    seeds: Sequence[int],
    layout: RollLayout | None = None,
    min_share: float = GROOVE_MIN_SHARE,
) -> np.ndarray:
    """On/off rows ``[n, R, T]`` whose one-voice lines move as the style's do: in each piece
    ``i`` and pitched track of ``figures`` (:class:`FigureHead`) whose voice cap
    (``caps``, :class:`VoiceHead`) is 1, every note at least twice the style's note
    ``length`` is broken into notes of about that length. Each new note starts on a step of
    the beat holding at least ``min_share`` of the style's ``onsets`` (the one nearest a
    length after the note before; notes of at least 2 steps); with probability ``repeat``
    it strikes the note before's pitch again (a one-step gap before it, as in the corpus's
    rolls: :mod:`mmgan.audio.midi`), else a pitch drawn from the track's cells the generator
    gives at least :data:`LINE_FLOOR_LOWEST` at its first step (``probs [n, R, T]``, those
    the rows were decoded from), in proportion to their probability, the note before's left
    out (none left: the note goes on). The first note keeps its pitch. Before that, each of
    the line's notes that strikes the note before's pitch again keeps it with probability
    ``repeat``, else takes a pitch drawn the same way (where the note's steps, and one on
    either side, are free in that row): the generator's lines repeat pitches far more than
    the corpus's (measured on the shipped v5: the baroque bass played 6.1 notes a bar of
    the corpus's length through 2.0 pitch classes, the corpus's 3.4; jazz's walking bass
    1.75 for 2.73).

    A track of more voices (a chord) is only struck again: at each new onset, with
    probability ``repeat``, all its notes alike, at the same steps of every 4 beats (a
    steady groove), with the one-step gap. Rests are untouched; draws come from ``seeds``
    (one per piece), so a seed gives the same piece. See :class:`FigureHead` for why.
    Returns a new array."""
    layout = layout or RollLayout()
    on, p = _rows_and_probs(rows, probs, layout, np.float64)
    n = on.shape[0]
    if len(seeds) != n:
        raise ValueError(f"need one seed per piece ({n}), got {len(seeds)}")
    for track, fig in figures.items():
        if track not in layout.slices or track == "drums":
            raise ValueError(f"figures are for pitched tracks {layout.tracks[1:]}, got {track!r}")
        length = np.asarray(fig["length"], dtype=np.float64).reshape(-1)
        repeat = np.asarray(fig["repeat"], dtype=np.float64).reshape(-1)
        onsets = np.asarray(fig["onsets"], dtype=np.float64).reshape(-1, STEPS_PER_BEAT)
        cap = np.asarray(caps.get(track, np.full(n, 2))).reshape(-1)
        if not (len(length) == len(repeat) == len(onsets) == len(cap) == n):
            raise ValueError(
                f"figures and caps of {track!r} need one entry per piece ({n}), got "
                f"{len(length)}, {len(repeat)}, {len(onsets)} and {len(cap)}"
            )
        if not (np.isfinite(length).all() and np.isfinite(repeat).all()):
            raise ValueError(f"figures of {track!r} hold NaN or infinite values")
        sl = layout.slices[track]
        for i in range(n):
            if length[i] >= 1:
                allowed = onsets[i] >= min_share
                rng = np.random.default_rng([int(seeds[i]) % 2**63, 0xF16])
                piece = (on[i, sl], p[i, sl], int(cap[i]), float(length[i]), float(repeat[i]))
                _figure_piece(*piece, allowed if allowed.any() else ~allowed, rng)
    return on


def _figure_piece(block, q, cap: int, length: float, repeat: float, allowed, rng) -> None:
    """:func:`figure_lines` on one piece's track: ``block [P, T]`` (a view, changed in
    place), its probabilities ``q``, voice cap, note length, repeat share and the steps of
    the beat new notes may start on (``allowed [12]``)."""
    if cap == 1:
        _repitch(block, q, repeat, rng)
    notes = [(r, ab) for r in np.nonzero(block.any(axis=1))[0] for ab in note_runs(block[r])]
    again: dict[int, bool] = {}  # chords: whether notes at a step of the bar strike again
    last: dict[int, int] = {}
    for r, (a, b) in notes:
        starts = _onsets(a, b, length, allowed) if b - a >= 2 * length else [a]
        if len(starts) == 1:
            continue
        if cap == 1:
            _figure(block, q, r, starts, b, repeat, rng)
            continue
        for o in starts[1:]:  # a chord: struck again or held, all its notes alike,
            pos = o % FIGURE_BAR  # ... and alike in every bar (a steady groove)
            if pos not in again:
                again[pos] = rng.random() < repeat
            if again[pos] and o - last.get(r, a) >= 3:
                block[r, o - 1] = False
                last[r] = o


def _onsets(a: int, b: int, length: float, allowed) -> list[int]:
    """Where the notes breaking up a note from step ``a`` to ``b`` start: ``a``, then each
    time the allowed step nearest ``length`` after the last (the earlier on a tie), at least
    half a length (and 2 steps) after it and 2 steps before ``b``."""
    gap = max(2, int(np.ceil(length / 2)))
    starts = [a]
    while True:
        near = [s for s in range(starts[-1] + gap, b - 1) if allowed[s % STEPS_PER_BEAT]]
        if not near:
            return starts
        starts.append(min(near, key=lambda s: (abs(s - starts[-1] - length), s)))


def _draw_pitch(q_step: np.ndarray, previous: int, rng) -> int | None:
    """A row drawn from the cells of ``q_step [P]`` at or above :data:`LINE_FLOOR_LOWEST`,
    in proportion to their probability, ``previous`` left out (None when none is left)."""
    cand = q_step >= LINE_FLOOR_LOWEST
    cand[previous] = False
    if not cand.any():
        return None
    w = np.where(cand, q_step, 0.0)
    return int(rng.choice(len(w), p=w / w.sum()))


def _repitch(block, q, repeat: float, rng) -> None:
    """In a one-voice ``block [P, T]``, each note that strikes the note before's pitch again
    keeps it with probability ``repeat``, else takes a pitch drawn by :func:`_draw_pitch` at
    its first step (:func:`figure_lines`)."""
    notes = sorted(
        (a, b, r) for r in np.nonzero(block.any(axis=1))[0] for a, b in note_runs(block[r])
    )
    previous = None
    for a, b, r in notes:
        if r == previous and rng.random() >= repeat:
            new = _draw_pitch(q[:, a], r, rng)
            if new is not None and not block[new, max(a - 1, 0) : b + 1].any():
                block[r, a:b] = False
                block[new, a:b] = True
                r = new
        previous = r


def _figure(block, q, pitch: int, starts: list[int], end: int, repeat: float, rng) -> None:
    """Rewrite the note of row ``pitch`` from ``starts[0]`` to ``end`` of ``block [P, T]`` as
    notes starting at ``starts`` (:func:`figure_lines`)."""
    block[pitch, starts[0] : end] = False
    last = starts[0]
    for o, e in zip(starts, [*starts[1:], end], strict=True):
        if o > starts[0]:
            again = rng.random() < repeat
            drawn = None if again else _draw_pitch(q[:, o], pitch, rng)
            if again and o - last >= 3:  # struck again: a gap before, as in the corpus
                block[pitch, o - 1] = False
                last = o
            elif drawn is not None:
                pitch, last = drawn, o
            # (else the note goes on)
        block[pitch, o:e] = True
    if end < block.shape[1] and block[pitch, end] and end - last >= 3:
        block[pitch, end - 1] = False  # the next note has this pitch: keep them apart


class KeyHead(PrototypeHead):
    """Which keys a style is played in: per genre, the share of its training clips whose
    pitched tracks read as each tonic (:func:`piece_key`, the same reading the pipeline
    applies to what it generates; :meth:`~mmgan.training.gan_data.GANData.key_head`), read
    by the style's nearness to each genre (:class:`PrototypeHead`), fitted at export. The
    pipeline moves each piece to a tonic drawn from it (:func:`key_shifts`).

    Why: the generator collapses on keys. Read the same way, 32 pieces of "a techno track"
    from the shipped v6 put 16 in F# where the corpus's techno spreads over all twelve tonics
    (at most 23 of 160 clips on one); idm's sat on D, G and A, and metal's put 7 of 32 in A,
    a key no metal clip uses (its clips are in E, D#, D, C and C#: guitar tunings). Every
    other symbolic measure is the same in any key, so moving a piece changes nothing but
    its key."""

    label = "key head"
    outputs = tuple(f"tonic {name}" for name in NOTE_NAMES)

    def __init__(self, prototypes, table, genres, temperature=PROTOTYPE_TEMPERATURE):
        super().__init__(prototypes, table, genres, temperature)
        bad = (self.table < 0).any(axis=1) | (self.table.sum(axis=1) <= 0)
        if bad.any():
            g = int(np.nonzero(bad)[0][0])
            raise ValueError(
                f"{self.label}: {self.genres[g]}'s tonic shares must be >= 0 and not all 0, "
                f"got {self.table[g].round(3).tolist()}"
            )

    def __call__(self, style) -> np.ndarray:
        """``[n, 12]`` shares of each tonic (C first), each row summing to 1."""
        pred = np.clip(self.mix(style), 0.0, None)
        return pred / pred.sum(axis=1, keepdims=True)


def pitch_profile(rows: np.ndarray, layout: RollLayout | None = None) -> np.ndarray:
    """``[12]``: how many steps each pitch class sounds in the pitched tracks of on/off rows
    ``[R, T]`` (C first)."""
    layout = layout or RollLayout()
    on = np.asarray(rows) > 0.5
    if on.ndim != 2 or on.shape[0] != layout.rows:
        raise ValueError(f"expected rows [{layout.rows}, T], got {on.shape}")
    prof = np.zeros(12)
    for track in layout.tracks[1:]:
        pcs = np.asarray(layout.pitches[track]) % 12
        np.add.at(prof, pcs, on[layout.slices[track]].sum(axis=1))
    return prof


def piece_key(rows: np.ndarray, layout: RollLayout | None = None) -> tuple[int, str] | None:
    """``(tonic pitch class, "major" or "minor")`` of on/off rows ``[R, T]`` by
    Krumhansl-Schmuckler matching of :func:`pitch_profile`
    (:func:`mmgan.audio.analysis.key_of_profile`); None when no pitched note sounds. Read on
    the corpus's rolls, it names the tagged tonic in 66-99 % of a genre's clips (idm 66 %,
    jazz 72 %, symphonic and hip-hop 81-82 %, the others 93-99 %; ``small``, train split)."""
    from mmgan.audio.analysis import key_of_profile

    prof = pitch_profile(rows, layout)
    if np.ptp(prof) == 0:  # no pitched note (or all twelve alike)
        return None
    tonic, mode, _ = key_of_profile(prof)
    return tonic, mode


def transpose_rows(rows: np.ndarray, shift: int, layout: RollLayout | None = None) -> np.ndarray:
    """On/off rows ``[R, T]`` with every pitched track moved by ``shift`` semitones, notes
    leaving a track's four octaves folded back in by an octave; drums untouched. Returns a
    new array."""
    layout = layout or RollLayout()
    on = np.asarray(rows) > 0.5
    if on.ndim != 2 or on.shape[0] != layout.rows:
        raise ValueError(f"expected rows [{layout.rows}, T], got {on.shape}")
    if shift != int(shift):
        raise ValueError(f"shift must be a whole number of semitones, got {shift!r}")
    out = on.copy()
    for track in layout.tracks[1:]:
        pitches = np.asarray(layout.pitches[track]) + int(shift)
        low, high = layout.pitches[track][0], layout.pitches[track][-1]
        while (pitches < low).any() or (pitches > high).any():
            pitches = np.where(pitches < low, pitches + 12, pitches)
            pitches = np.where(pitches > high, pitches - 12, pitches)
        sl = layout.slices[track]
        block = np.zeros_like(on[sl])
        np.logical_or.at(block, pitches - low, on[sl])
        out[sl] = block
    return out


def key_shifts(
    rows: np.ndarray,
    tonics: np.ndarray,
    seeds: Sequence[int],
    layout: RollLayout | None = None,
) -> list[int]:
    """For each piece of on/off rows ``[n, R, T]``: the shift (-6 to +5 semitones) moving its
    tonic (:func:`piece_key`) to one drawn from ``tonics [n, 12]`` (shares of each tonic, C
    first: :class:`KeyHead`; a one-hot row asks for one tonic) with ``seeds`` (one per
    piece); 0 for a piece without pitched notes."""
    on = np.asarray(rows) > 0.5
    p = np.asarray(tonics, dtype=np.float64)
    n = on.shape[0] if on.ndim == 3 else -1
    if on.ndim != 3 or p.shape != (n, 12) or len(seeds) != n:
        raise ValueError(
            f"expected rows [n, R, T], tonic shares [n, 12] and n seeds, got {on.shape}, "
            f"{p.shape} and {len(seeds)}"
        )
    if not np.isfinite(p).all() or (p < 0).any() or (p.sum(axis=1) <= 0).any():
        raise ValueError("tonic shares must be finite, >= 0 and not all 0 in a row")
    out = []
    for i in range(n):
        key = piece_key(on[i], layout)
        rng = np.random.default_rng([int(seeds[i]) % 2**63, 0x6E7])
        target = int(rng.choice(12, p=p[i] / p[i].sum()))
        out.append(0 if key is None else (target - key[0] + 6) % 12 - 6)
    return out


def parse_tonic(key) -> int | None:
    """A requested key's tonic pitch class: None (none asked for), 0-11, or a note name with
    an optional mode, ``"F#"``, ``"Bb minor"`` (the mode is the generator's: a minor piece
    asked for ``"A"`` is in A minor); ValueError otherwise."""
    if key is None:
        return None
    if isinstance(key, bool):
        raise ValueError(f"key must be a note name such as 'A' or 'F# minor', got {key!r}")
    if isinstance(key, (int, np.integer)):
        if not 0 <= int(key) < 12:
            raise ValueError(f"key as a pitch class must be 0-11, got {key}")
        return int(key)
    parts = str(key).strip().split()
    if (
        not parts
        or len(parts) > 2
        or (len(parts) == 2 and parts[1].lower() not in ("major", "minor"))
    ):
        raise ValueError(f"key must be a note name such as 'A' or 'F# minor', got {key!r}")
    name = parts[0][:1].upper() + parts[0][1:]
    try:
        return pitch_class(name)
    except ValueError as err:
        raise ValueError(f"key {key!r}: {err}") from err


def rest_bars(
    probs: np.ndarray,
    rests: Mapping[str, np.ndarray],
    draws: np.ndarray,
    layout: RollLayout | None = None,
    *,
    played: np.ndarray | None = None,
    beats_per_bar: int = 4,
) -> np.ndarray:
    """Note probabilities ``[n, R, T]`` with, for each track of ``rests`` (``{track: [n]}``,
    the share of bars it should rest: :class:`RestHead`), enough of each piece's bars (of
    ``beats_per_bar`` beats, and a last part-bar of half a bar or more, as MuseGAN's EB
    counts them) set to 0 that it rests in ``floor(share * bars + draw)`` of them (``draws
    [n, len(rests)]`` uniform in [0, 1): the count is right on average, whatever the
    length). Bars it rests in already count (``played``: the decoded on/off rows; default
    ``probs > 0.5``) and are set to 0 too, so they stay silent whatever floors decode the
    result; the others are silenced in order of the lowest mean over their steps of the
    track's most likely cell, where the generator is least sure of it. A track that rests in
    more bars than that is brought back in the ones where it is most sure: a pitched
    track's most likely cell at each step plays (is raised to just over 0.5) where it passes
    :data:`LINE_FLOOR_LOWEST`, the lowest line floor (if that makes a note of at least 2
    steps: shorter ones are tidied away); where nothing is that likely, and
    always for drums, the track plays the bar nearest it in which it plays (the earlier one
    on a tie) again, as a drummer keeps a groove going (measured on the shipped v4: techno's
    drums rested in 18 % of bars, the corpus's never; symphonic's in 8 %). A bar is never
    silenced where no other track plays (a rest never leaves a whole bar empty). Returns a
    new array."""
    layout = layout or RollLayout()
    p = np.array(probs, dtype=np.float32)
    if p.ndim != 3 or p.shape[1] != layout.rows:
        raise ValueError(f"expected probabilities [n, {layout.rows}, T], got {p.shape}")
    on = np.asarray(played if played is not None else p > 0.5) > 0.5
    if on.shape != p.shape:
        raise ValueError(f"played must be [n, R, T] like the probabilities, got {on.shape}")
    draws = np.asarray(draws, dtype=np.float64)
    if draws.shape != (p.shape[0], len(rests)):
        raise ValueError(f"draws must be [{p.shape[0]}, {len(rests)}], got {draws.shape}")
    bar = beats_per_bar * STEPS_PER_BEAT
    t = p.shape[-1]
    edges = [(a, min(a + bar, t)) for a in range(0, t, bar) if min(a + bar, t) - a >= bar / 2]
    n_bars = len(edges)  # as MuseGAN's EB counts them: a part-bar of half a bar or more too
    bands = np.zeros((p.shape[0], len(layout.tracks), n_bars), dtype=bool)
    for k, (a, b) in enumerate(edges):  # which tracks play in each bar, as rests are made
        for r, tr in enumerate(layout.tracks):
            bands[:, r, k] = on[:, layout.slices[tr], a:b].any(axis=(1, 2))
    for j, (track, share) in enumerate(rests.items()):
        share = np.asarray(share, dtype=np.float64).reshape(-1)
        if track not in layout.slices or len(share) != p.shape[0]:
            raise ValueError(
                f"rests must be {{track: [{p.shape[0]}]}}, got {track!r}: {share.shape}"
            )
        sl = layout.slices[track]
        if n_bars < 1:
            continue
        best = np.stack([p[:, sl, a:b].max(axis=1).mean(axis=1) for a, b in edges], axis=1)
        sounds = np.stack([on[:, sl, a:b].any(axis=(1, 2)) for a, b in edges], axis=1)
        for i in range(p.shape[0]):
            want = int(np.floor(np.clip(share[i], 0.0, 1.0) * n_bars + draws[i, j]))
            playing, silent = np.nonzero(sounds[i])[0], np.nonzero(~sounds[i])[0]
            me = layout.tracks.index(track)
            company = np.delete(bands[i], me, axis=0).any(axis=0)  # [bars]: another plays
            playing = playing[company[playing]]  # a rest never leaves a bar empty
            quiet = playing[np.argsort(best[i, playing], kind="stable")]
            resting = [*silent, *quiet[: max(want - len(silent), 0)]]
            if len(silent) > want:  # rests too often: bring bars back
                back = silent[np.argsort(-best[i, silent], kind="stable")][: len(silent) - want]
                resting = [k for k in silent if k not in set(back)]
                sources = sorted(set(np.nonzero(sounds[i])[0].tolist()) - set(resting))
                for k in back:
                    a, b = edges[k]
                    q = p[i, sl, a:b]
                    lifted = False
                    if track != "drums":  # its most likely cell, where it passes the floor
                        top = q.argmax(axis=0)
                        lift = q[top, np.arange(b - a)] > LINE_FLOOR_LOWEST
                        cells = np.zeros(q.shape, dtype=bool)
                        cells[top[lift], np.nonzero(lift)[0]] = True
                        # (only if that makes a note of 2 steps: shorter ones are tidied away)
                        if any(e - s >= 2 for row in cells for s, e in note_runs(row)):
                            q[cells] = np.maximum(q[cells], 0.501)
                            lifted = True
                    if not lifted and sources:  # else the nearest bar it plays, again
                        src = min(sources, key=lambda j, k=k: (abs(j - k), j))
                        c = edges[src][0]
                        again = on[i, sl, c : c + (b - a)]
                        head = q[:, : again.shape[1]]
                        head[again] = np.maximum(head[again], 0.501)
                        lifted = bool(again.any())
                    bands[i, me, k] = lifted
            for k in resting:  # (a bar resting already stays so when floors are recomputed)
                p[i, sl, edges[k][0] : edges[k][1]] = 0.0
                bands[i, me, k] = False
    return p


def quantise_drums(
    rows: np.ndarray,
    groove: np.ndarray,
    layout: RollLayout | None = None,
    min_share: float = GROOVE_MIN_SHARE,
    track: str = "drums",
) -> np.ndarray:
    """On/off rows ``[..., R, T]`` (bool) with every drum hit on a step of the beat that holds
    less than ``min_share`` of ``groove`` (``[12]`` shares, or ``[n, 12]``, one per piece along
    the first axis: :class:`GrooveHead`) moved to the nearest step that holds more (the
    earlier one on a tie; a hit landing on another of the same drum merges with it). A hit
    is a run of active steps of one drum key; it moves whole. Other tracks are untouched.
    ``track``: quantise that track's notes instead (a note moves whole, as a hit does; the
    pipeline snaps pitched notes to the onset grid of the style's :class:`FigureHead`).
    Returns a new array."""
    layout = layout or RollLayout()
    on = np.array(np.asarray(rows) > 0.5, dtype=bool)
    g = np.asarray(groove, dtype=np.float64)
    if on.ndim < 2 or on.shape[-2] != layout.rows:
        raise ValueError(f"expected rows [..., {layout.rows}, T], got {on.shape}")
    if track not in layout.slices:
        raise ValueError(f"unknown track {track!r}; tracks are {layout.tracks}")
    if g.shape[-1] != STEPS_PER_BEAT or not np.isfinite(g).all():
        raise ValueError(f"groove must be finite shares [..., {STEPS_PER_BEAT}], got {g.shape}")
    if g.ndim == 2:
        if on.ndim != 3 or len(g) != on.shape[0]:
            raise ValueError(
                f"per-piece grooves need rows [n, R, T] and grooves [n, 12], got {on.shape} "
                f"and {g.shape}"
            )
        return np.stack(
            [quantise_drums(r, q, layout, min_share, track) for r, q in zip(on, g, strict=True)]
        )
    if g.ndim != 1:
        raise ValueError(f"groove must be [12] or [n, 12], got {g.shape}")
    allowed = np.nonzero(g >= min_share)[0]
    if not len(allowed) or len(allowed) == STEPS_PER_BEAT:
        return on
    # nearest allowed step for each step of the beat (signed offset; earlier on a tie)
    offsets = np.arange(-STEPS_PER_BEAT + 1, STEPS_PER_BEAT)
    offsets = offsets[np.argsort(np.abs(offsets) + 0.5 * (offsets > 0), kind="stable")]
    shift = np.zeros(STEPS_PER_BEAT, dtype=int)
    for pos in range(STEPS_PER_BEAT):
        shift[pos] = next(int(o) for o in offsets if (pos + o) % STEPS_PER_BEAT in allowed)
    drums = on[..., layout.slices[track], :]
    flat = drums.reshape(-1, drums.shape[-1])
    out = np.zeros_like(flat)
    t = flat.shape[-1]
    for r in np.nonzero(flat.any(axis=1))[0]:
        edges = np.diff(np.concatenate([[0], flat[r].astype(np.int8), [0]]))
        for a, b in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0], strict=True):
            d = shift[a % STEPS_PER_BEAT]
            lo, hi = max(a + d, 0), min(b + d, t)
            if lo < hi:
                out[r, lo:hi] = True
    on[..., layout.slices[track], :] = out.reshape(drums.shape)
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
    key: str | None = None,
    mode: str | None = None,
    instruments: Mapping[str, str] | None = None,
) -> Score:
    """A playable :class:`Score` of generated ``rows [R, T]`` at ``bpm``.

    ``genres``: ``[(genre, weight), ...]`` whose production the roles take (see
    :func:`role_plan`); ``instruments``: optional ``{role: instrument name}`` overrides
    (names of :mod:`mmgan.audio.synth`'s registry). ``key`` / ``mode``: the score's, by
    default the rows' own (:func:`piece_key`; C major without pitched notes); a template
    part tuned to its clip's tonic (the techno and idm kicks' ``kick_pc``) is tuned to the
    key's tonic instead, so the kick is not a semitone off the bass.
    """
    from mmgan.audio.synth import get_instrument

    if not np.isfinite(bpm) or not 20 <= bpm <= 400:
        raise ValueError(f"bpm must be in [20, 400], got {bpm}")
    read = piece_key(np.asarray(rows), RollLayout()) if key is None or mode is None else None
    key = key if key is not None else NOTE_NAMES[read[0]] if read else "C"
    mode = mode if mode is not None else read[1] if read else "major"
    tonic = pitch_class(key)
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
            if "kick_pc" in part.params:
                part.params = {**part.params, "kick_pc": tonic}
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
