"""The symbolic family: a conditional multi-track piano-roll GAN (MuseGAN, conditioned).

A piece is four tracks (drums, bass, harmony, lead — :data:`mmgan.data.score.ROLES`) on a
grid of :data:`STEPS_PER_BEAT` = 12 steps per beat (sixteenths *and* triplets, so swing,
12/8 jigs and hi-hat rolls survive; the corpus stores the same grid). Each track keeps only
the rows it uses (:class:`RollLayout`): the 19 General MIDI drum keys of the built-in kits
(the symphonic timpani's 41, 43 and 48 fold into the toms 45 and 47) and four octaves of
pitch for bass (24-71), harmony (36-83) and lead (48-95): exactly the span of every note in
the ``small`` and ``tiny`` corpora (notes outside fold in by octaves). The tracks'
rows are stacked into one ``[R = 163, T]`` "image" over time, like a spectrogram's rows,
so the spectrogram family's discriminator and trainer apply unchanged.

Generator (:class:`PianoRollGenerator`), one coarse step per beat:

- MuseGAN's four latents: *shared* (inter-track) and *private* (per-track), each
  time-independent (one vector per piece) and time-dependent (a coordinate latent: anchors
  every ``z_every`` beats, interpolated, so phrases continue across any length, as in the
  spectrogram family);
- the shared latents and the style go through a mapping network to per-beat FiLM codes for a
  shared trunk (beats -> 1/6 beats); each track has a private mapping (its private latents +
  the shared code) and a head (-> 1/12 beats -> its pitch rows);
- every upsampling is sub-pixel (each step of a beat has its own weights), not
  nearest-neighbour: after a nearest upsampling every step inside a beat carries the same
  value, and the generator could only hold notes for whole beats (measured: held clusters,
  no rhythm); with sub-pixel upsampling drum and bass patterns on sixteenths appeared within
  300 steps;
- output ``tanh`` in (-1, 1), then binarised with a straight-through estimator (BinaryMuseGAN's
  deterministic binary neurons): the discriminator sees exactly what will be played (on/off,
  as the real rolls are), so it cannot tell real from fake by "how binary" a cell is, while
  gradients still flow through the tanh. MuseGAN's refiner needs a second training stage;
  the straight-through estimator needs none.

Training (``configs/symbolic-small.yaml``): the spectrogram family's trainer — hinge loss,
matching-aware term, R1, EMA, pair diversity — plus IMLE (:func:`mmgan.training.gan.imle_latents`):
each step the nearest of 8 prior samples to each of 16 real crops is pulled toward it by
the note cross-entropy. Measured on ``small`` (300-1,300-step probes): with the
discriminator alone the generator fell to near-empty rolls or held clusters while the
discriminator's accuracy climbed to 0.97; with IMLE the discriminator stays at 0.5-0.7 and
drum grooves, bass lines and off-beat chords appear by step 300.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmgan.models.layers import ModulatedBlock, coordinate_latent
from mmgan.models.specgan import row_generator
from mmgan.weights import load_model_folder, save_model_folder

__all__ = [
    "MODEL_TYPE",
    "STEPS_PER_BEAT",
    "PianoLatents",
    "PianoRollGenerator",
    "RollFeatures",
    "RollLayout",
]

MODEL_TYPE = "mmgan-pianoroll"
STEPS_PER_BEAT = 12
TRACKS = ("drums", "bass", "harmony", "lead")
DRUM_KEYS = (36, 37, 38, 39, 40, 42, 44, 45, 46, 47, 49, 50, 51, 52, 53, 54, 55, 56, 70)
# toms the layout lacks, folded into its own toms: the symphonic corpus's timpani play on
# 41, 43 and 48 (22 % of its drum hits; without the fold a fifth of its clips had no drums)
DRUM_FOLD = {41: 45, 43: 45, 48: 47}
PITCH_LOW = {"bass": 24, "harmony": 36, "lead": 48}
PITCHES = 48  # four octaves per pitched track


class RollLayout:
    """Which MIDI pitch each row of a stacked ``[R, T]`` roll stands for, per track."""

    def __init__(self) -> None:
        self.tracks = TRACKS
        self.pitches: dict[str, tuple[int, ...]] = {"drums": DRUM_KEYS}
        for track, low in PITCH_LOW.items():
            self.pitches[track] = tuple(range(low, low + PITCHES))
        self.slices: dict[str, slice] = {}
        start = 0
        for track in self.tracks:
            self.slices[track] = slice(start, start + len(self.pitches[track]))
            start += len(self.pitches[track])
        self.rows = start

    @property
    def row_counts(self) -> list[int]:
        return [len(self.pitches[t]) for t in self.tracks]

    def to_rows(self, roll: np.ndarray, roles: Sequence[str] = TRACKS) -> np.ndarray:
        """A corpus roll ``[tracks, T, 128]`` (velocities or booleans) -> ``[R, T]`` bool.

        Pitched notes outside a track's four octaves fold in by octaves; the toms the
        layout lacks fold into its own (:data:`DRUM_FOLD`); other drum keys it lacks are
        dropped (none in the built-in kits)."""
        roll = np.asarray(roll)
        if roll.ndim != 3 or roll.shape[2] != 128:
            raise ValueError(f"expected a piano-roll [tracks, T, 128], got {roll.shape}")
        out = np.zeros((self.rows, roll.shape[1]), dtype=bool)
        for i, role in enumerate(roles):
            if role not in self.slices:
                raise ValueError(f"unknown track {role!r}; tracks are {self.tracks}")
            on = roll[i] > 0  # [T, 128]
            rows = out[self.slices[role]]
            if role == "drums":
                for r, key in enumerate(DRUM_KEYS):
                    rows[r] |= on[:, key]
                for key, into in DRUM_FOLD.items():
                    rows[DRUM_KEYS.index(into)] |= on[:, key]
                continue
            low = PITCH_LOW[role]
            for pitch in np.nonzero(on.any(axis=0))[0]:
                p = int(pitch)
                while p < low:
                    p += 12
                while p >= low + PITCHES:
                    p -= 12
                rows[p - low] |= on[:, pitch]
        return out

    def from_rows(self, rows: np.ndarray) -> np.ndarray:
        """``[R, T]`` (bool or probabilities > 0.5) -> ``[tracks, T, 128]`` bool."""
        rows = np.asarray(rows)
        if rows.ndim != 2 or rows.shape[0] != self.rows:
            raise ValueError(f"expected rows [{self.rows}, T], got {rows.shape}")
        on = rows > 0.5 if rows.dtype != bool else rows
        out = np.zeros((len(self.tracks), rows.shape[1], 128), dtype=bool)
        for i, track in enumerate(self.tracks):
            for r, pitch in enumerate(self.pitches[track]):
                out[i, :, pitch] |= on[self.slices[track].start + r]
        return out


class PianoLatents:
    """Random inputs of a batch: shared/private x time-independent/time-dependent + noise."""

    def __init__(self, z_shared, anchors_shared, z_private, anchors_private, noise, steps: int):
        self.z_shared, self.anchors_shared = z_shared, anchors_shared  # [B, Zs], [B, Zsl, K]
        self.z_private, self.anchors_private = z_private, anchors_private  # [B, N, Zp(, K)]
        self.noise, self.steps = list(noise), int(steps)

    def _map(self, fn) -> PianoLatents:
        parts = (self.z_shared, self.anchors_shared, self.z_private, self.anchors_private)
        return PianoLatents(*(fn(t) for t in parts), [fn(n) for n in self.noise], self.steps)

    def to(self, device: torch.device | str) -> PianoLatents:
        return self._map(lambda t: t.to(device))

    def index(self, rows: torch.Tensor) -> PianoLatents:
        """The latents of batch rows ``rows``."""
        return self._map(lambda t: t[rows])

    @staticmethod
    def cat(parts: Sequence[PianoLatents]) -> PianoLatents:
        """Batches one after the other (same ``steps``)."""
        first = parts[0]
        fields = [
            torch.cat([getattr(p, name) for p in parts])
            for name in ("z_shared", "anchors_shared", "z_private", "anchors_private")
        ]
        noise = [torch.cat([p.noise[i] for p in parts]) for i in range(len(first.noise))]
        return PianoLatents(*fields, noise, first.steps)


def straight_through(x: torch.Tensor) -> torch.Tensor:
    """Forward: ``sign(x)`` in {-1, 1}; backward: the identity (gradient of ``x``)."""
    hard = torch.where(x > 0, torch.ones_like(x), -torch.ones_like(x))
    return x + (hard - x).detach()


class PianoRollGenerator(nn.Module):
    """Style ``[B, D]`` (or ``[B, D, beats]``) + :class:`PianoLatents` -> rolls ``[B, R, T]``.

    ``T = beats * 12``; values in {-1, 1} (binarised) or (-1, 1) with ``binarize=False``.
    ``denormalise`` maps them to {0, 1} (note on). The interface matches
    :class:`~mmgan.models.specgan.SpecGenerator` (``sample_latents``, ``codes``,
    ``synthesize``, ``upsample``, ``rows``, ``normalise``/``denormalise``), so the GAN
    trainer, the monitor and the latent tools work with either family.

    Example::

        g = PianoRollGenerator(style_dim=384, channels=(64, 48), track_channels=32)
        lat = g.sample_latents(batch=2, steps=8)          # 8 beats
        roll = g.denormalise(g(torch.randn(2, 384), lat)) # [2, 163, 96] in {0, 1}
    """

    def __init__(
        self,
        style_dim: int = 384,
        z_shared: int = 32,
        z_shared_local: int = 32,
        z_private: int = 16,
        z_private_local: int = 16,
        z_every: int = 4,
        w_dim: int = 256,
        mapping_layers: int = 3,
        channels: Sequence[int] = (256, 192),
        track_channels: int = 96,
        binarize: bool = True,
    ) -> None:
        super().__init__()
        if len(channels) != 2:
            raise ValueError(f"channels: two shared widths (beat, 1/6 beat), got {channels}")
        self.config = {
            "style_dim": style_dim,
            "z_shared": z_shared,
            "z_shared_local": z_shared_local,
            "z_private": z_private,
            "z_private_local": z_private_local,
            "z_every": z_every,
            "w_dim": w_dim,
            "mapping_layers": mapping_layers,
            "channels": [int(c) for c in channels],
            "track_channels": int(track_channels),
            "binarize": bool(binarize),
        }
        self.layout = RollLayout()
        self.style_dim, self.rows, self.z_every = style_dim, self.layout.rows, z_every
        self.zs, self.zsl, self.zp, self.zpl = z_shared, z_shared_local, z_private, z_private_local
        self.binarize = bool(binarize)
        self.upsample = STEPS_PER_BEAT
        n_tracks = len(self.layout.tracks)
        layers: list[nn.Module] = []
        d_in = z_shared + z_shared_local + style_dim
        for _ in range(mapping_layers):
            layers += [nn.Conv1d(d_in, w_dim, 1), nn.LeakyReLU(0.2)]
            d_in = w_dim
        self.mapping = nn.Sequential(*layers)
        self.style_skip = nn.Conv1d(style_dim, w_dim, 1)
        self.stem = nn.Conv1d(w_dim, channels[0], 3, padding=1)
        # shared trunk: beat -> 1/3 beat -> 1/6 beat
        self.blocks = nn.ModuleList(
            [
                ModulatedBlock(channels[0], channels[0], w_dim, 3, subpixel=True),
                ModulatedBlock(channels[0], channels[1], w_dim, 2, subpixel=True),
            ]
        )
        # private: per track, its latents + the shared code -> its own code; head 1/6 -> 1/12
        self.track_mapping = nn.ModuleList(
            nn.Sequential(
                nn.Conv1d(w_dim + z_private + z_private_local, w_dim, 1),
                nn.LeakyReLU(0.2),
                nn.Conv1d(w_dim, w_dim, 1),
                nn.LeakyReLU(0.2),
            )
            for _ in range(n_tracks)
        )
        self.track_blocks = nn.ModuleList(
            ModulatedBlock(channels[1], track_channels, w_dim, 2, subpixel=True)
            for _ in range(n_tracks)
        )
        self.to_rows = nn.ModuleList(
            nn.Conv1d(track_channels, n, 3, padding=1) for n in self.layout.row_counts
        )
        self.last_logits: torch.Tensor | None = None

    # -- latents and mapping -----------------------------------------------------------

    def _noise_lengths(self, steps: int) -> list[int]:
        shared = [steps * 3, steps * 6]
        return shared + [steps * STEPS_PER_BEAT] * len(self.layout.tracks)

    def sample_latents(
        self, batch: int, steps: int, *, seed: int | None = None, generator=None
    ) -> PianoLatents:
        """Random inputs for ``steps`` beats; with ``seed``, row ``i`` is drawn from
        :func:`~mmgan.models.specgan.row_generator` ``(seed, i)``."""
        k = steps // self.z_every + 2
        n_tracks = len(self.layout.tracks)
        lengths = self._noise_lengths(steps)

        def draw(g: torch.Generator | None) -> tuple[torch.Tensor, ...]:
            zs = torch.randn(1, self.zs, generator=g)
            anchors = torch.randn(1, self.zsl, k, generator=g)
            zp = torch.randn(1, n_tracks, self.zp, generator=g)
            anchors_p = torch.randn(1, n_tracks, self.zpl, k, generator=g)
            noise = tuple(torch.randn(1, 2, n, generator=g) for n in lengths)
            return (zs, anchors, zp, anchors_p, *noise)

        rows = [
            draw(row_generator(seed, i) if seed is not None else generator) for i in range(batch)
        ]
        cols = [torch.cat(parts) for parts in zip(*rows, strict=True)]
        return PianoLatents(cols[0], cols[1], cols[2], cols[3], cols[4:], steps)

    def map(self, style: torch.Tensor, lat: PianoLatents) -> torch.Tensor:
        """Shared modulation codes ``w [B, w_dim, beats]`` from style ``[B, D(, beats)]``."""
        steps = lat.steps
        if style.ndim == 2:
            style = style[:, :, None].expand(-1, -1, steps)
        if style.shape[1] != self.style_dim or style.shape[-1] != steps:
            raise ValueError(
                f"style must be [B, {self.style_dim}] or [B, {self.style_dim}, {steps}], "
                f"got {tuple(style.shape)}"
            )
        zl = coordinate_latent(lat.anchors_shared, steps, self.z_every)
        zs = lat.z_shared[:, :, None].expand(-1, -1, steps)
        return self.mapping(torch.cat([zs, zl, style], dim=1)) + self.style_skip(style)

    def codes(self, style: torch.Tensor, lat: PianoLatents, psi: float = 1.0, w_mean=None):
        """:meth:`map`, then with ``psi < 1`` pulled toward ``w_mean`` (truncation trick)."""
        w = self.map(style, lat)
        return w if psi == 1.0 or w_mean is None else w_mean + psi * (w - w_mean)

    def synthesize(self, w: torch.Tensor, lat: PianoLatents | Sequence[torch.Tensor]):
        """Shared codes ``w [B, w_dim, beats]`` -> ``[B, R, beats * 12]`` (see class doc).

        ``lat``: the :class:`PianoLatents` (private latents and noise are read from it)."""
        if not isinstance(lat, PianoLatents):
            raise TypeError("PianoRollGenerator.synthesize needs the PianoLatents, not noise")
        y = torch.tanh(self._rows(w, lat))
        return straight_through(y) if self.binarize else y

    def _rows(self, w: torch.Tensor, lat: PianoLatents) -> torch.Tensor:
        """The rows before ``tanh``: shared trunk, then each track's private head."""
        steps = w.shape[-1]
        x = self.stem(w)
        for block, n in zip(self.blocks, lat.noise[:2], strict=True):
            x = block(x, w, n)
        outs = []
        for t in range(len(self.layout.tracks)):
            zp = lat.z_private[:, t, :, None].expand(-1, -1, steps)
            zpl = coordinate_latent(lat.anchors_private[:, t], steps, self.z_every)
            wt = self.track_mapping[t](torch.cat([w, zp, zpl], dim=1))
            outs.append(self.to_rows[t](self.track_blocks[t](x, wt, lat.noise[2 + t])))
        return torch.cat(outs, dim=1)

    def forward(
        self,
        style: torch.Tensor,
        lat: PianoLatents,
        psi: float = 1.0,
        w_mean=None,
        logit_rows: int = 0,
    ):
        """``logit_rows`` (training, IMLE): also leave the last rows' note logits in
        ``last_logits`` (for the note cross-entropy; one pass, so DDP sees one forward)."""
        if not logit_rows:
            return self.synthesize(self.codes(style, lat, psi, w_mean), lat)
        pre = self._rows(self.codes(style, lat, psi, w_mean), lat)
        self.last_logits = 2.0 * pre[-logit_rows:]  # P(on) = (tanh(pre) + 1) / 2 = sigmoid(2 pre)
        y = torch.tanh(pre)
        return straight_through(y) if self.binarize else y

    def logits(self, style: torch.Tensor, lat: PianoLatents) -> torch.Tensor:
        """Each cell's note logit ``[B, R, T]`` (P(on) = sigmoid(logit))."""
        return 2.0 * self._rows(self.codes(style, lat), lat)

    # -- units ---------------------------------------------------------------------------

    def normalise(self, rolls: torch.Tensor) -> torch.Tensor:
        """{0, 1} note-on -> {-1, 1}."""
        return rolls * 2.0 - 1.0

    def denormalise(self, x: torch.Tensor) -> torch.Tensor:
        """(-1, 1) -> (0, 1): note-on (probability, or exactly 0/1 when binarised)."""
        return (x + 1.0) / 2.0

    @torch.no_grad()
    def set_feature_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Trainer interface. A roll needs no normalisation ({0, 1} is its scale); ``mean``
        (each row's share of "on" steps in the data) shifts the output biases so that an
        untrained generator already plays each pitch about as often as the data (measured on
        a probe batch: P(pre-activation > 0) = the row's share, assuming it is Gaussian): the
        discriminator then cannot win on note density alone (3 % of cells are on) and
        must look at patterns. ``std`` is unused."""
        del std
        device = self.to_rows[0].bias.device
        p = mean.float().clamp(0.002, 0.5).to(device)
        gen = torch.Generator().manual_seed(0)
        lat = self.sample_latents(16, 8, generator=gen).to(device)
        style = F.normalize(torch.randn(16, self.style_dim, generator=gen), dim=1).to(device)
        pre = self._rows(self.codes(style, lat), lat)  # [16, R, T]
        mu, sigma = pre.mean(dim=(0, 2)), pre.std(dim=(0, 2)).clamp(min=1e-4)
        # a cell is on when its pre-activation is > 0: shift each row so P(on) = p
        shift = sigma * torch.special.ndtri(p) - mu
        for t, track in enumerate(self.layout.tracks):
            self.to_rows[t].bias.add_(shift[self.layout.slices[track]])

    # -- long outputs --------------------------------------------------------------------

    def generate_features(
        self,
        style: torch.Tensor,
        lat: PianoLatents,
        *,
        psi: float = 1.0,
        w_mean: torch.Tensor | None = None,
        chunk_steps: int = 256,
    ) -> torch.Tensor:
        """Like ``forward`` (one pass: a 5-minute piece at 200 BPM is 1,000 beats, ~12 k
        steps, well within memory); ``chunk_steps`` is accepted for interface parity."""
        del chunk_steps
        return self.synthesize(self.codes(style, lat, psi, w_mean), lat)

    # -- files -----------------------------------------------------------------------------

    def save_pretrained(
        self, directory: str | Path, extra: dict[str, Any] | None = None, dtype=torch.float32
    ) -> Path:
        config = {"model_type": MODEL_TYPE, **self.config, **(extra or {})}
        return save_model_folder(directory, self, config, dtype=dtype)

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> tuple[PianoRollGenerator, dict[str, Any]]:
        hint = "train one with `mmgan train gan --config configs/symbolic-small.yaml`"
        return load_model_folder(cls, directory, kind=MODEL_TYPE, hint=hint)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class RollFeatures(nn.Module):
    """What the discriminator sees of a roll ``[B, R, T]`` (values in [-1, 1]): the rows
    themselves plus views a 1-D convolution over time cannot build cheaply from one channel
    per pitch (BinaryMuseGAN gives its discriminator chroma and onset streams for the same
    reason):

    - chroma of each pitched track (12 rows each: octaves folded, so a chord is the same
      pattern in any register);
    - onsets of every row (a note's first step), so rhythm is visible apart from duration;
    - per track, how many notes start and how many sound at each step.

    Differentiable (sums and differences of the inputs), so the straight-through gradients
    reach the generator through every view. ``[B, R, T] -> [B, out_rows, T]``.
    """

    def __init__(self, layout: RollLayout | None = None, pooled: bool = True) -> None:
        super().__init__()
        self.layout, self.pooled = layout or RollLayout(), bool(pooled)
        fold = torch.zeros(3 * 12, self.layout.rows)
        for k, track in enumerate(("bass", "harmony", "lead")):
            sl = self.layout.slices[track]
            for r, pitch in enumerate(self.layout.pitches[track]):
                fold[k * 12 + pitch % 12, sl.start + r] = 1.0
        self.register_buffer("fold", fold, persistent=False)
        group = torch.zeros(len(self.layout.tracks), self.layout.rows)
        for k, track in enumerate(self.layout.tracks):
            group[k, self.layout.slices[track]] = 1.0
        self.register_buffer("group", group, persistent=False)
        self.out_rows = 2 * self.layout.rows + 36 + 2 * len(self.layout.tracks)
        # per-row statistics of the real data's views (set by fit_stats): the discriminator
        # sees each view standardised, as the spectrogram family's rows are. Measured: on raw
        # {-1, 1} rolls (97 % of cells off) D could not tell real rolls from random 3 % noise
        # in 100 steps alone, nor from the generator once its note density matched (step
        # ~30); standardised, it separated them within 25 steps.
        self.register_buffer("mean", torch.zeros(1, self.out_rows, 1))
        self.register_buffer("std", torch.ones(1, self.out_rows, 1))

    @torch.no_grad()
    def fit_stats(self, real: torch.Tensor, floor: float = 0.05) -> None:
        """Set ``mean``/``std`` per output row from real rolls ``[N, R, T]`` (normalised)."""
        views = self.views(real)
        self.mean.copy_(views.mean(dim=(0, 2), keepdim=True))
        if not self.pooled:
            self.std.copy_(views.std(dim=(0, 2), keepdim=True).clamp(min=floor))
            return
        # one scale per view (rows, onsets, chroma, per-track counts): with per-row scales a
        # note in a rare pitch's row (std ~0.05) reached D 20x louder than a missed note in a
        # busy one. The shipped model trained with pooled scales; the effect of this choice
        # alone was not isolated (its probes changed other settings at the same time).
        r = self.layout.rows
        for sl in (slice(0, r), slice(r, 2 * r), slice(2 * r, 2 * r + 36), slice(2 * r + 36, None)):
            centred = views[:, sl] - self.mean[:, sl]
            self.std[:, sl] = centred.pow(2).mean().sqrt().clamp(min=floor)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.views(x) - self.mean) / self.std

    def views(self, x: torch.Tensor) -> torch.Tensor:
        """The unstandardised views ``[B, out_rows, T]`` (see the class doc)."""
        on = (x + 1.0) / 2.0  # [B, R, T] in [0, 1]
        onset = F.relu(on - F.pad(on, (1, 0))[..., :-1])  # starts
        chroma = torch.einsum("cr,brt->bct", self.fold, on).clamp(max=1.0)
        per_track = torch.einsum("kr,brt->bkt", self.group, on) / 4.0
        starts = torch.einsum("kr,brt->bkt", self.group, onset) / 2.0
        return torch.cat([x, onset * 2 - 1, chroma * 2 - 1, per_track, starts], dim=1)
