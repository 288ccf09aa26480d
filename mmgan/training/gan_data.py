"""What the GAN trainer reads: every training clip's features in memory and the style
vectors it may be conditioned on.

- ``feats [N, rows, F]`` float16: 80 log-mel + 12 log-chroma rows of each whole clip
  (from the corpus's mel cache; shorter clips padded with silence), ~0.3 GB for ``small``;
- ``styles [N, 1 + K, D]``: row 0 the clip's own style-space audio embedding, rows 1..K
  the text embeddings of K augmented captions (random tag subsets and templates), so the
  generator learns from both kinds of vector a user will give it (a prompt, a reference
  clip);
- ``genre_styles [G, T, D]``: each genre's name in T short templates ("a techno track"),
  the vague prompts users type most, which must yield the whole variety of the genre;
- ``style_within [G]``: each genre's mean pairwise cosine distance between the training
  clips' audio embeddings, how far apart two real answers to such a prompt are;
- per-row feature mean/std (the generator's normalisation) and the genre of each clip.

Built once per run and cached in ``RUN/gan_bank.pt`` (keyed by the corpus and the style
model), so a resumed run starts in seconds.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from mmgan.audio.features import MelParams
from mmgan.data.corpus import read_metadata
from mmgan.data.dataset import LOG_PAD, MelDataset
from mmgan.training.captions import augmented_captions, composer_label, row_id
from mmgan.training.checkpoint import load_state, save_state

__all__ = ["GENRE_TEMPLATES", "GANData", "RealMixes", "load_gan_data", "real_mixes"]

GENRE_TEMPLATES = ("{genre}", "a {genre} track", "{genre} music", "some {label}")
# the voice head caps a track at this quantile over clips of their most notes at once
VOICE_QUANTILE = 0.9


@dataclass
class GANData:
    feats: torch.Tensor  # [N, rows, F] float16, log units
    styles: torch.Tensor  # [N, 1 + K, D] float32, L2-normalised
    genre: torch.Tensor  # [N] long
    genres: list[str]
    mean: torch.Tensor  # [rows]
    std: torch.Tensor  # [rows]
    genre_styles: torch.Tensor  # [G, T, D] float32, L2-normalised
    style_within: torch.Tensor  # [G] mean 1 - cos between clips' audio embeddings
    lengths: torch.Tensor | None = None  # [N] valid frames of each clip (None: all of F)
    align: int = 1  # crops start on multiples of this (12 = on a beat, for piano-rolls)
    bpm: torch.Tensor | None = None  # [N] tagged tempo (symbolic family)
    clip_steps: torch.Tensor | None = None  # [N] steps of each roll before padding (symbolic)
    paths: list[Path] | None = None  # [N] the clips' audio files (spectrogram family)

    def tempo_head(self, ridge: float = 1.0) -> dict[str, object]:
        """Ridge regression of log tempo on every style vector of a clip (its audio and
        caption embeddings), for a generator that works in beats and needs a tempo when the
        prompt names none: ``{"weight": [D], "bias": b}`` (log BPM = weight . s + bias)."""
        if self.bpm is None:
            raise ValueError("no tempi in this data (only the symbolic family loads them)")
        w, b = self._ridge(self.bpm.double().log()[:, None], ridge)
        return {"weight": [round(float(v), 6) for v in w[0]], "bias": float(b[0])}

    def track_shares(self, layout) -> torch.Tensor:
        """``[N, pitched tracks]``: the share of each clip's steps (its valid length) in which
        each pitched track of the piano-roll ``layout`` sounds (symbolic family)."""
        if self.feats.shape[1] != layout.rows:
            raise ValueError(f"features have {self.feats.shape[1]} rows, not a roll layout's")
        valid = self._valid()  # [N, F]
        out = [
            ((self.feats[:, layout.slices[t]] > 0.5).any(dim=1) & valid).sum(1) / valid.sum(1)
            for t in layout.tracks[1:]
        ]
        return torch.stack(out, dim=1).double()

    def share_head(self, layout, ridge: float = 1.0):
        """A :class:`~mmgan.generate.symbolic.ShareHead`: ridge regression of
        :meth:`track_shares` on every style vector of a clip, as :meth:`tempo_head`."""
        from mmgan.generate.symbolic import ShareHead

        w, b = self._ridge(self.track_shares(layout), ridge)
        return ShareHead(w.numpy(), b.numpy(), layout.tracks[1:])

    def track_rests(self, layout, beats_per_bar: int = 4) -> torch.Tensor:
        """``[N, tracks]``: the share of each clip's whole ``beats_per_bar``-beat bars (within
        the roll as written, not the silence it is padded with to a crop's length) in which
        each track of the piano-roll ``layout`` plays nothing (symbolic family; a clip
        shorter than half a bar counts as resting nowhere)."""
        from mmgan.models.pianoroll import STEPS_PER_BEAT

        if self.feats.shape[1] != layout.rows:
            raise ValueError(f"features have {self.feats.shape[1]} rows, not a roll layout's")
        n, frames = len(self), self.feats.shape[-1]
        bar = beats_per_bar * STEPS_PER_BEAT
        length = next(
            (x for x in (self.clip_steps, self.lengths) if x is not None), torch.full((n,), frames)
        )
        length = length.clamp(max=frames)
        bars = length // bar + (length % bar >= bar / 2).long()  # [N], as MuseGAN's EB
        most = -(-frames // bar)
        valid = torch.arange(most)[None, :] < bars[:, None]  # [N, bars]
        inside = torch.arange(most * bar)[None, :] < length[:, None]  # [N, steps]
        out = []
        for t in layout.tracks:
            on = (self.feats[:, layout.slices[t]] > 0.5).any(dim=1)
            on = torch.nn.functional.pad(on, (0, most * bar - frames)) & inside
            sounds = on.reshape(n, most, bar).any(dim=2)
            out.append((~sounds & valid).sum(1) / bars.clamp(min=1))
        return torch.stack(out, dim=1).double()

    def rest_head(self, layout, playing_only: bool = False):
        """A :class:`~mmgan.generate.symbolic.RestHead`: :meth:`track_rests` per genre; with
        ``playing_only``, over the genre's clips that play the track (1 where none does), as
        beside a :meth:`presence_head`."""
        from mmgan.generate.symbolic import RestHead

        rests = self.track_rests(layout)
        if playing_only:
            prototypes, table = self._per_genre_by_track(rests[..., None], rests < 1, empty=1.0)
        else:
            prototypes, table = self._per_genre(rests)
        return RestHead(prototypes, table, self.genres, layout.tracks)

    def presence_head(self, layout, generator_absent=None):
        """A :class:`~mmgan.generate.symbolic.PresenceHead`: per genre and track, with ``a``
        the share of its clips that rest the track in every bar (:meth:`track_rests`) and
        ``g`` the share of the generator's pieces without it (``generator_absent [G,
        tracks]``, from :meth:`~mmgan.training.gan_trainer.GANTrainer.generator_absence`; 0
        when not given), the probability ``(a - g) / (1 - g)`` clipped to [0, 1]."""
        from mmgan.generate.symbolic import PresenceHead

        prototypes, absent = self._per_genre((self.track_rests(layout) >= 1).double())
        g = np.zeros_like(absent) if generator_absent is None else np.asarray(generator_absent)
        if g.shape != absent.shape:
            raise ValueError(
                f"generator_absent must be [{len(self.genres)}, tracks], got {g.shape}"
            )
        table = np.clip((absent - g) / np.maximum(1.0 - g, 1e-9), 0.0, 1.0)
        return PresenceHead(prototypes, table, self.genres, layout.tracks)

    def track_voices(self, layout) -> torch.Tensor:
        """``[N, pitched tracks]``: the most notes each pitched track of the piano-roll
        ``layout`` sounds at once in each clip, within its valid length (0: it never plays)."""
        if self.feats.shape[1] != layout.rows:
            raise ValueError(f"features have {self.feats.shape[1]} rows, not a roll layout's")
        valid = self._valid()  # [N, F]
        out = [
            ((self.feats[:, layout.slices[t]] > 0.5).sum(dim=1) * valid).amax(dim=1)
            for t in layout.tracks[1:]
        ]
        return torch.stack(out, dim=1).double()

    def voice_head(self, layout, quantile: float = VOICE_QUANTILE):
        """A :class:`~mmgan.generate.symbolic.VoiceHead`: per genre and pitched track, the
        ``quantile`` over the clips that play the track of :meth:`track_voices` (1 where none
        does). A quantile, not a mean: a genre's clips can differ by arrangement (two in five
        of baroque's harmony parts are one line, the rest four-voice chords; a mean of 2.8
        would cut every chord to three notes), while the cap is there for the lines that are
        always one note at a time."""
        from mmgan.generate.symbolic import VoiceHead

        voices = self.track_voices(layout)
        prototypes, _ = self._per_genre(voices)
        table = np.ones((len(self.genres), voices.shape[1]))
        for g in range(len(self.genres)):
            for j in range(voices.shape[1]):
                v = voices[(self.genre == g) & (voices[:, j] > 0), j]
                if len(v):
                    table[g, j] = max(1.0, float(torch.quantile(v, quantile)))
        return VoiceHead(prototypes, table, self.genres, layout.tracks[1:])

    def track_figures(self, layout) -> tuple[torch.Tensor, torch.Tensor]:
        """``([N, pitched tracks, 14], [N, pitched tracks])``: for each clip and pitched track
        of the piano-roll ``layout``, within the clip's valid length, the median length of its
        notes (runs of one pitch, in steps), the share of its notes (after its first onset) that
        repeat a pitch struck at the onset before (notes grouped by onset, so a chord's notes
        follow the chord before),
        its note onsets' shares on each of the 12 steps of a beat — the fields of
        :data:`~mmgan.generate.symbolic.FIGURE_FIELDS` — and whether it plays."""
        from mmgan.generate.symbolic import FIGURE_FIELDS, note_runs
        from mmgan.models.pianoroll import STEPS_PER_BEAT

        if self.feats.shape[1] != layout.rows:
            raise ValueError(f"features have {self.feats.shape[1]} rows, not a roll layout's")
        tracks = layout.tracks[1:]
        out = torch.zeros(len(self), len(tracks), len(FIGURE_FIELDS), dtype=torch.float64)
        plays = torch.zeros(len(self), len(tracks), dtype=torch.bool)
        valid = self._valid()
        for i in range(len(self)):
            clip = (self.feats[i][:, valid[i]] > 0.5).numpy()
            for j, track in enumerate(tracks):
                notes = sorted(
                    (a, b - a, r)
                    for r, row in enumerate(clip[layout.slices[track]])
                    if row.any()
                    for a, b in note_runs(row)
                )
                if not notes:
                    continue
                starts = np.array([a for a, _, _ in notes])
                at: dict[int, set[int]] = {}
                for a, _, r in notes:
                    at.setdefault(a, set()).add(r)
                onsets = sorted(at)
                same = [
                    r in at[o1]
                    for o1, o2 in zip(onsets[:-1], onsets[1:], strict=True)
                    for r in at[o2]
                ]
                hist = np.bincount(starts % STEPS_PER_BEAT, minlength=STEPS_PER_BEAT)
                out[i, j, 0] = float(np.median([n for _, n, _ in notes]))
                out[i, j, 1] = float(np.mean(same)) if same else 0.0
                out[i, j, 2:] = torch.from_numpy(hist / hist.sum())
                plays[i, j] = True
        return out, plays

    def figure_head(self, layout):
        """A :class:`~mmgan.generate.symbolic.FigureHead`: :meth:`track_figures` per genre and
        pitched track, over the genre's clips that play the track (length 0 where none does:
        its lines are left as they are)."""
        from mmgan.generate.symbolic import FigureHead

        prototypes, table = self._per_genre_by_track(*self.track_figures(layout))
        return FigureHead(prototypes, table, self.genres, layout.tracks[1:])

    def clip_tonics(self, layout) -> tuple[torch.Tensor, torch.Tensor]:
        """``([N, 12], [N])``: each clip's tonic read from its pitched tracks within its valid
        length (:func:`~mmgan.generate.symbolic.piece_key`) as a one-hot row, and whether it
        has one (a clip without pitched notes has none)."""
        from mmgan.generate.symbolic import piece_key

        if self.feats.shape[1] != layout.rows:
            raise ValueError(f"features have {self.feats.shape[1]} rows, not a roll layout's")
        out = torch.zeros(len(self), 12, dtype=torch.float64)
        has = torch.zeros(len(self), dtype=torch.bool)
        valid = self._valid()
        for i in range(len(self)):
            key = piece_key((self.feats[i][:, valid[i]] > 0.5).numpy(), layout)
            if key is not None:
                out[i, key[0]], has[i] = 1.0, True
        return out, has

    def key_head(self, layout):
        """A :class:`~mmgan.generate.symbolic.KeyHead`: :meth:`clip_tonics` per genre, over
        its clips with pitched notes (even shares for a genre without any)."""
        from mmgan.generate.symbolic import KeyHead

        tonics, has = self.clip_tonics(layout)
        prototypes, table = self._per_genre(tonics, clips=has, empty=1.0 / 12)
        return KeyHead(prototypes, table, self.genres)

    def drum_grooves(self, layout) -> tuple[torch.Tensor, torch.Tensor]:
        """``([N, 12], [N])``: each clip's share of drum onsets (runs of one drum key) on each
        of the 12 steps of a beat, within its valid length, and whether it has any (symbolic
        family; crops and clips start on a beat)."""
        from mmgan.models.pianoroll import STEPS_PER_BEAT

        if self.feats.shape[1] != layout.rows:
            raise ValueError(f"features have {self.feats.shape[1]} rows, not a roll layout's")
        n, frames = len(self), self.feats.shape[-1]
        length = self.lengths if self.lengths is not None else torch.full((n,), frames)
        valid = torch.arange(frames)[None, None, :] < length[:, None, None]
        drums = (self.feats[:, layout.slices["drums"]] > 0.5) & valid  # [N, K, F]
        before = torch.nn.functional.pad(drums[..., :-1], (1, 0))
        onsets = (drums & ~before).sum(dim=1).double()  # [N, F]
        pos = torch.arange(frames) % STEPS_PER_BEAT
        hist = torch.zeros(n, STEPS_PER_BEAT, dtype=torch.float64).index_add_(1, pos, onsets)
        count = hist.sum(dim=1)
        return hist / count.clamp(min=1)[:, None], count > 0

    def groove_head(self, layout):
        """A :class:`~mmgan.generate.symbolic.GrooveHead`: :meth:`drum_grooves` per genre,
        over its clips with drums (an even row for a genre without any); None when no clip
        has drums (no groove to fit)."""
        from mmgan.generate.symbolic import GrooveHead
        from mmgan.models.pianoroll import STEPS_PER_BEAT

        shares, has = self.drum_grooves(layout)
        if not has.any():
            return None
        prototypes, table = self._per_genre(shares, clips=has, empty=1.0 / STEPS_PER_BEAT)
        return GrooveHead(prototypes, table, self.genres)

    def _valid(self) -> torch.Tensor:
        """``[N, F]`` bool: the steps within each clip's valid length (all without lengths)."""
        n, frames = len(self), self.feats.shape[-1]
        length = self.lengths if self.lengths is not None else torch.full((n,), frames)
        return torch.arange(frames)[None, :] < length[:, None]

    def _per_genre(
        self, y: torch.Tensor, clips: torch.Tensor | None = None, empty: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(prototypes [G, D], table [G, k])`` for a
        :class:`~mmgan.generate.symbolic.PrototypeHead`: each genre's mean direction of all
        its clips' style vectors, and the mean of per-clip targets ``y [N, k]`` over its
        clips (those of ``clips`` only; ``empty`` where a genre has none)."""
        y = y.double()
        keep = torch.ones(len(self), dtype=torch.bool) if clips is None else clips
        protos, table = [], []
        for g in range(len(self.genres)):
            mine = self.genre == g
            style = self.styles[mine].reshape(-1, self.styles.shape[-1]).double()
            protos.append(torch.nn.functional.normalize(style.mean(0), dim=0).numpy())
            chosen = y[mine & keep]
            table.append(
                chosen.mean(0).numpy() if len(chosen) else np.full(y.shape[1], float(empty))
            )
        return np.stack(protos), np.stack(table)

    def _per_genre_by_track(
        self, y: torch.Tensor, clips: torch.Tensor, empty: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_per_genre` of per-track targets ``y [N, tracks, k]``, each track's over
        the clips of ``clips [N, tracks]`` (those that play it); the table ``[G, tracks *
        k]`` track after track."""
        cols = [self._per_genre(y[:, j], clips=clips[:, j], empty=empty) for j in range(y.shape[1])]
        return cols[0][0], np.concatenate([table for _, table in cols], axis=1)

    def _ridge(self, y: torch.Tensor, ridge: float) -> tuple[torch.Tensor, torch.Tensor]:
        """``(weight [k, D], bias [k])`` of the ridge regression of per-clip targets
        ``y [N, k]`` on every style vector of each clip (float64)."""
        x = self.styles.reshape(-1, self.styles.shape[-1]).double()
        y = y.double().repeat_interleave(self.styles.shape[1], dim=0)
        mean_x, mean_y = x.mean(0), y.mean(0)
        xc = x - mean_x
        eye = torch.eye(x.shape[1], dtype=x.dtype)
        w = torch.linalg.solve(xc.T @ xc + ridge * eye, xc.T @ (y - mean_y))  # [D, k]
        return w.T, mean_y - mean_x @ w

    def __len__(self) -> int:
        return self.feats.shape[0]

    def crops(
        self, idx: torch.Tensor, frames: int, g: torch.Generator, feats: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Random crops ``[len(idx), rows, frames]`` (float32, log units) of clips ``idx``,
        inside each clip's valid frames when it has fewer than ``F``, starting on multiples
        of ``align``. ``feats``: crop these ``[N, rows, F]`` instead (:class:`RealMixes`)."""
        feats = self.feats if feats is None else feats
        total = feats.shape[-1]
        if self.lengths is None and self.align == 1:  # (the shipped spectrogram GAN's draws)
            starts = torch.randint(0, total - frames + 1, (len(idx),), generator=g)
        else:
            room = (self.lengths[idx].clamp(min=frames) - frames) // self.align + 1
            starts = (torch.rand(len(idx), generator=g) * room).long() * self.align
        return torch.stack(
            [
                feats[i, :, s : s + frames]
                for i, s in zip(idx.tolist(), starts.tolist(), strict=True)
            ]
        ).float()


def _features(data: Path, params: MelParams, min_frames: int, progress: bool):
    ds = MelDataset.from_folder(data, "train", segment_frames=None, params=params)
    ds.precompute(workers=2, progress=progress)
    mels = [np.asarray(ds.load_mel(i), dtype=np.float32) for i in range(len(ds))]
    frames = max(min_frames, max(m.shape[1] for m in mels))
    out = np.full((len(mels), params.n_rows, frames), LOG_PAD, dtype=np.float32)
    for i, m in enumerate(mels):
        out[i, :, : m.shape[1]] = m
        if params.chroma and m.shape[1] < frames:  # silent chroma is its floor, not LOG_PAD
            out[i, params.n_mels :, m.shape[1] :] = np.log(1e-3)
    genre = torch.tensor([it.genre_idx for it in ds.items], dtype=torch.long)
    return ds, torch.from_numpy(out), genre


def load_gan_data(
    data: str | Path,
    space,
    *,
    captions_per_clip: int = 8,
    min_frames: int = 256,
    seed: int = 0,
    cache: str | Path | None = None,
    progress: bool = True,
    family: str = "spectrogram",
) -> GANData:
    """Features and style vectors of the ``train`` split of corpus ``data``.

    ``space`` is the (frozen) :class:`mmgan.style.StyleSpace` the GAN is conditioned in.
    ``family="symbolic"``: the features are the clips' piano-rolls as stacked track rows
    (:class:`mmgan.models.pianoroll.RollLayout`, {0, 1}, 12 steps per beat, crops on beats);
    the style vectors are the same (the clips' audio embeddings and captions).
    """
    if family not in ("spectrogram", "symbolic"):
        raise ValueError(f"family must be 'spectrogram' or 'symbolic', got {family!r}")
    data = Path(data)
    params = MelParams(chroma=True)
    ds, feats, genre = _features(
        data, params, min_frames if family == "spectrogram" else 0, progress
    )
    rows = {row_id(r): r for r in read_metadata(data)}
    texts: list[str] = []
    for n, item in enumerate(ds.items):
        row = rows.get(item.id, {"caption": item.caption, "genre": ds.genres[item.genre_idx]})
        texts += augmented_captions(row, captions_per_clip - 1, np.random.default_rng((seed, n)))
    prompts = [
        t.format(genre=g, label=composer_label(g)) for g in ds.genres for t in GENRE_TEMPLATES
    ]
    key = hashlib.sha1(
        ("\n".join(texts + prompts) + space.name + str(tuple(feats.shape))).encode()
    ).hexdigest()[:16]
    cached = Path(cache) if cache else None
    if cached is not None and cached.is_file():
        state = load_state(cached)
        if state.get("key") == key:
            return _finish(family, data, rows, ds, feats, genre, state, min_frames)
    with torch.no_grad():
        text = torch.cat([space.encode_text(texts[i : i + 512]) for i in range(0, len(texts), 512)])
        generic = space.encode_text(prompts).view(len(ds.genres), len(GENRE_TEMPLATES), -1)
        model = space.model
        audio = torch.stack(
            [model.embed_clip_mel(feats[i]) for i in _bar(range(len(ds)), progress)]
        )
    styles = torch.cat([audio[:, None], text.view(len(ds), captions_per_clip, -1)], dim=1)
    state = {"step": 0, "key": key, "styles": styles.float(), "genre_styles": generic.float()}
    if cached is not None:
        save_state(cached, state)
    return _finish(family, data, rows, ds, feats, genre, state, min_frames)


def _finish(family, data: Path, rows, ds, feats, genre, state: dict, min_frames: int) -> GANData:
    styles, generic = state["styles"], state["genre_styles"]
    if family == "spectrogram":
        out = _assemble(ds, feats, genre, styles, generic)
        out.paths = [Path(it.path) for it in ds.items]
        return out
    rolls, lengths = _rolls(data, rows, ds, min_frames)
    from mmgan.models.pianoroll import STEPS_PER_BEAT

    out = _assemble(ds, rolls, genre, styles, generic)
    out.lengths, out.align = lengths.clamp(min=min_frames), STEPS_PER_BEAT
    out.clip_steps = lengths
    out.bpm = torch.tensor([float(rows.get(it.id, {}).get("bpm", 120.0)) for it in ds.items])
    return out


def _rolls(data: Path, rows: dict, ds, min_steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every training clip's piano-roll as stacked track rows ``[N, R, S]`` ({0, 1}) and
    its length in steps (before padding); clips shorter than ``min_steps`` are padded with
    silence."""
    from mmgan.audio.midi import load_pianoroll
    from mmgan.models.pianoroll import RollLayout

    layout, out, merged = RollLayout(), [], 0
    for item in ds.items:
        rel = rows.get(item.id, {}).get("pianoroll_file")
        if not rel or not (data / rel).is_file():
            raise FileNotFoundError(
                f"clip {item.id!r} has no piano-roll (metadata 'pianoroll_file'); the symbolic "
                "family trains on corpora built by `mmgan dataset build` (or with piano-rolls)"
            )
        z = load_pianoroll(data / rel)
        merged += "restrike_gaps" not in z
        out.append(layout.to_rows(z["pianoroll"], [str(r) for r in z["roles"]]))
    if merged:
        warnings.warn(
            f"{merged} of {len(ds.items)} piano-rolls in {data} were built before re-struck "
            "notes left a gap (mmgan.audio.midi): repeated notes are merged into held ones "
            "there, and a model trained on them cannot play them; rebuild the corpus with "
            "`mmgan dataset build`",
            stacklevel=2,
        )
    lengths = torch.tensor([r.shape[1] for r in out])
    steps = max(min_steps, int(lengths.max()))
    rolls = np.zeros((len(out), layout.rows, steps), dtype=np.float32)
    for i, r in enumerate(out):
        rolls[i, :, : r.shape[1]] = r
    return torch.from_numpy(rolls), lengths


def _assemble(
    ds, feats: torch.Tensor, genre: torch.Tensor, styles: torch.Tensor, generic: torch.Tensor
) -> GANData:
    mel_rows = feats.permute(1, 0, 2).reshape(feats.shape[1], -1)
    within = torch.full((len(ds.genres),), float("nan"))
    for k in range(len(ds.genres)):
        emb = styles[genre == k, 0]  # the clips' own audio embeddings
        if len(emb) >= 2:
            sims = emb @ emb.T
            within[k] = 1 - (sims.sum() - sims.diagonal().sum()) / (len(emb) * (len(emb) - 1))
    return GANData(
        feats=feats.half(),
        styles=styles,
        genre=genre,
        genres=list(ds.genres),
        mean=mel_rows.mean(dim=1),
        std=mel_rows.std(dim=1),
        genre_styles=generic,
        style_within=within,
    )


@dataclass
class RealMixes:
    """One real two-genre mix per training clip (:func:`real_mixes`)."""

    feats: torch.Tensor  # [N, rows, F] float16: features of clip i mixed with its partner
    partner: torch.Tensor  # [N] long: the other clip (-1: clip i has none, feats unused)
    weight: torch.Tensor  # [N] float32: clip i's share of the mix (the partner's: 1 - it)


def real_mixes(
    data: GANData,
    *,
    seed: int,
    weight_range: tuple[float, float] = (0.25, 0.75),
    cache: str | Path | None = None,
    progress: bool = True,
) -> RealMixes:
    """For every training clip ``i``, the features (as :func:`load_gan_data`'s: log-mel +
    log-chroma of the audio, padded to ``F``) of :func:`mmgan.data.mixes.mix_audio` of clip
    ``i`` and a random clip of another genre, clip ``i`` weighted ``w ~ U(weight_range)``.
    The features come from the mixed *audio*, as any clip's do (a log-mel does not mix
    linearly). Cached in ``cache`` (keyed by the clips, the seed and the range); about
    0.1 s a mix on one core the first time."""
    import json
    from concurrent.futures import ThreadPoolExecutor

    from tqdm.auto import tqdm

    from mmgan.audio.features import log_mel
    from mmgan.audio.io import load_audio
    from mmgan.data.mixes import check_mix_settings, mix_audio, mix_partners

    if data.paths is None:
        raise ValueError("real mixes need the clips' audio files (spectrogram family only)")
    lo, hi = check_mix_settings(1.0, list(weight_range))
    rng = np.random.default_rng((seed, 31))
    partner = mix_partners(data.genre.numpy(), rng)
    weight = rng.uniform(lo, hi, size=len(partner)).astype(np.float32)
    key = hashlib.sha1(
        json.dumps(
            [
                [str(p) for p in data.paths],
                partner.tolist(),
                weight.tolist(),
                list(data.feats.shape),
            ]
        ).encode()
    ).hexdigest()[:16]
    cached = Path(cache) if cache else None
    if cached is not None and cached.is_file():
        state = load_state(cached)
        if state.get("key") == key:
            return RealMixes(state["feats"], torch.from_numpy(partner), torch.from_numpy(weight))
    params = MelParams(chroma=True)
    rows, frames = data.feats.shape[1:]
    feats = torch.full((len(partner), rows, frames), LOG_PAD, dtype=torch.float16)
    feats[:, params.n_mels :] = float(np.log(1e-3))  # silent chroma is its floor

    def one(i: int) -> None:
        if partner[i] < 0:
            return
        a, b = data.paths[i], data.paths[partner[i]]
        x, _ = load_audio(a, sr=params.sr, mono=True)
        y, _ = load_audio(b, sr=params.sr, mono=True)
        mel = log_mel(mix_audio(x, y, float(weight[i]), names=(a, b)), params.sr, params)
        feats[i, :, : min(frames, mel.shape[1])] = torch.from_numpy(mel[:, :frames]).half()

    with ThreadPoolExecutor(2) as pool:
        list(tqdm(pool.map(one, range(len(partner))), total=len(partner),
                  desc="real two-genre mixes", disable=not progress))  # fmt: skip
    if cached is not None:
        save_state(cached, {"step": 0, "key": key, "feats": feats})
    return RealMixes(feats, torch.from_numpy(partner), torch.from_numpy(weight))


def _bar(it, progress: bool):
    from tqdm.auto import tqdm

    return tqdm(it, desc="style vectors of the training clips", disable=not progress)
