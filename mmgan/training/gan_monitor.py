"""What a GAN run shows while it trains: averaged scalars (JSONL + TensorBoard), the
within-genre diversity of the EMA generator against real audio (so collapse shows up as
it happens, not at the end), and sample grids (spectrogram PNG + one WAV per genre)."""

from __future__ import annotations

import json
import math
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mmgan.training.gan import within_distance

__all__ = ["Monitor", "diversity_report"]

PROBE_SEED = 1234


@torch.no_grad()
def diversity_report(
    g,
    space,
    genres: list[str],
    real_within: dict[str, float],
    frames: int,
    n: int = 8,
    style_within: torch.Tensor | None = None,
) -> dict[str, float]:
    """Per genre prompt ``"a {genre} track"``: within-prompt L1 spread of ``n`` samples over
    the real within-genre spread (``div/<genre>``, min and mean), the same in the style
    encoder's embedding of the generated features (``sdiv/<genre>``; needs
    ``style_within``) and of their audio as the pipeline renders it (``sdiv_audio/<genre>``,
    what ``mmgan eval`` reports: the features are rendered, and the mel and chroma analysed
    again), and how often the style encoder's zero-shot genre of a sample is the prompted one
    (``cond/style_acc``).

    Why both: the generated chroma rows reach the audio only through the renderer, and an
    80-band mel cannot hold every semitone, so ``sdiv`` can run well above what a listener
    gets (measured on the shipped model, 2026-11-27: 0.61-0.87 of real in its features,
    0.30-0.74 after Griffin-Lim)."""
    text = space.encode_text([f"a {g_} track" for g_ in genres]).to(_device(g))
    steps = frames // g.upsample
    out: dict[str, float] = {}
    hits, total = 0, 0
    audio = not is_symbolic(g)  # the style encoder hears mels, not piano-rolls
    for k, genre in enumerate(genres):
        lat = g.sample_latents(n, steps, seed=PROBE_SEED + k).to(text.device)
        x = g(text[k : k + 1].expand(n, -1), lat)
        out[f"div/{genre}"] = within_distance(x) / max(real_within.get(genre, math.nan), 1e-8)
        if not audio:
            continue
        emb = space.model.embed_mel(g.denormalise(x)[:, None])
        hits += int((emb @ text.T).argmax(dim=1).eq(k).sum())
        total += n
        if style_within is not None:
            scale = style_within[k].clamp(min=1e-8)
            out[f"sdiv/{genre}"] = float(_spread(emb) / scale)
            heard = _rendered_embeddings(g, space, g.denormalise(x))
            if heard is not None:
                out[f"sdiv_audio/{genre}"] = float(_spread(heard.to(scale.device)) / scale)
    if audio:
        out.update(hybrid_report(g, space, genres, text, steps, n))
        out["cond/style_acc"] = hits / max(1, total)
    for prefix in ("div", "sdiv", "sdiv_audio"):
        ratios = [v for k, v in out.items() if k.startswith(prefix + "/") and np.isfinite(v)]
        if ratios:
            out[f"{prefix}/min"], out[f"{prefix}/mean"] = min(ratios), float(np.mean(ratios))
    return out


def _spread(emb: torch.Tensor) -> float:
    """Mean pairwise ``1 - cos`` of unit rows ``emb [n, E]``."""
    n = len(emb)
    sims = emb @ emb.T
    return float(1 - (sims.sum() - sims.diagonal().sum()) / (n * (n - 1)))


def render_features(g, feats: np.ndarray) -> np.ndarray:
    """One sample's features ``[rows, T]`` -> audio, as the pipeline's default renderer
    (``"pghi"``: chroma-guided magnitudes when the model makes chroma rows)."""
    from mmgan.audio.features import griffin_lim
    from mmgan.generate.pipeline import RENDER_ITERS

    m = g.n_mels
    chroma = feats[m : m + 12] if feats.shape[0] >= m + 12 else None
    return griffin_lim(
        feats[:m], n_iter=RENDER_ITERS["pghi"], inverse="fast", init="pghi", chroma=chroma
    )


def _rendered_embeddings(g, space, feats: torch.Tensor) -> torch.Tensor | None:
    """Style embeddings ``[n, E]`` of features ``[n, rows, T]`` rendered to audio as the
    pipeline's default does (chroma-guided magnitudes, PGHI + 4 Griffin-Lim iterations);
    ``None`` when a sample renders silent (a collapsed generator: nothing to embed)."""
    from mmgan.audio.features import DEFAULT_MEL
    from mmgan.audio.io import AudioError

    out = []
    for f in feats.float().cpu().numpy():
        wave = render_features(g, f)
        try:
            out.append(space.model.embed_waveform(wave, DEFAULT_MEL.sr)[0])
        except AudioError:
            return None
    return torch.stack(out)


def save_image_grid(
    path: Path, labels: list[str], images, title: str, row_h: float, lines=(), **show
) -> Path:
    """One image per label, stacked, as a PNG (no pyplot: leaves the user's backend)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, row_h * len(labels)))
    axes = fig.subplots(len(labels), 1, squeeze=False)
    for ax, label, image in zip(axes[:, 0], labels, images, strict=True):
        ax.imshow(image, origin="lower", aspect="auto", **show)
        for y in lines:
            ax.axhline(y - 0.5, color="tab:red", lw=0.5)
        ax.set_ylabel(label, rotation=0, ha="right", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    return path


def is_symbolic(g) -> bool:
    from mmgan.models.pianoroll import PianoRollGenerator

    return isinstance(g, PianoRollGenerator)


def _device(g) -> torch.device:
    return next(g.parameters()).device


HYBRID_PAIRS = (("baroque", "idm"), ("jazz", "metal"), ("folk", "ambient"), ("hiphop", "symphonic"))


@torch.no_grad()
def hybrid_report(g, space, genres: list[str], text: torch.Tensor, steps: int, n: int) -> dict:
    """The seed's hybrid pairs at the midpoint ``slerp(a, b, 0.5)``: the style encoder's
    zero-shot ``min(P(a), P(b))`` over the genres (``hyb/<a>-<b>``, and ``hyb/min``); both
    near 0.5 is a blend, one near 1 a switch."""
    from mmgan.generate.latent import slerp

    pairs = [(a, b) for a, b in HYBRID_PAIRS if a in genres and b in genres]
    if not pairs and len(genres) >= 2:
        pairs = [(genres[0], genres[1])]
    out: dict[str, float] = {}
    scale = space.model.scale()
    for j, (a, b) in enumerate(pairs):
        ia, ib = genres.index(a), genres.index(b)
        lat = g.sample_latents(n, steps, seed=PROBE_SEED + 100 + j).to(text.device)
        x = g(slerp(text[ia], text[ib], 0.5).expand(n, -1), lat)
        emb = space.model.embed_mel(g.denormalise(x)[:, None])
        p = torch.softmax(scale * emb @ text.T, dim=1).mean(dim=0)
        out[f"hyb/{a}-{b}"] = float(torch.minimum(p[ia], p[ib]))
    if out:
        out["hyb/min"] = min(out.values())
    return out


class Monitor:
    """Owned by the trainer's main rank; writes under ``trainer.out``."""

    def __init__(self, trainer) -> None:
        self.t = trainer
        self.acc: dict[str, list[float]] = defaultdict(list)
        self.last_eval: dict[str, float] = {}
        self.writer = None
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(trainer.out / "tb"))
        except ImportError:
            warnings.warn(
                "tensorboard is not installed; scalars go to metrics.jsonl only", stacklevel=2
            )
        self.real_within = trainer.real_within

    def after_step(self, step: int, logs: dict[str, float]) -> None:
        cfg = self.t.cfg
        for k, v in logs.items():
            self.acc[k].append(v)
        if step % cfg.log_every and step != cfg.steps:
            return
        record: dict[str, Any] = {
            "step": step,
            **{k: round(float(np.mean(v)), 5) for k, v in self.acc.items()},
        }
        self.acc.clear()
        if cfg.eval_every and (step % cfg.eval_every == 0 or step == cfg.steps):
            self.last_eval = diversity_report(
                self.t.g_ema,
                self.t.space,
                self.t.data_.genres,
                self.real_within,
                cfg.crop_frames,
                style_within=self.t.data_.style_within,
            )
            record.update({k: round(v, 4) for k, v in self.last_eval.items()})
        if cfg.sample_every and (step % cfg.sample_every == 0 or step == cfg.steps):
            self.samples(step)
        with open(self.t.out / "metrics.jsonl", "a") as fh:
            fh.write(json.dumps(record) + "\n")
        if self.writer is not None:
            for k, v in record.items():
                if k != "step":
                    self.writer.add_scalar(k, v, step)
            self.writer.flush()

    @torch.no_grad()
    def _probe(self, step: int, steps: int) -> tuple[Path, list[str], torch.Tensor, np.ndarray]:
        """``(samples/step_XXXXXX folder, genres, their styles, EMA outputs)`` for "a <genre>
        track": features, or for the symbolic family note probabilities (decoded by
        :meth:`roll_samples`)."""
        g, genres = self.t.g_ema, self.t.data_.genres
        folder = self.t.out / "samples" / f"step_{step:06d}"
        folder.mkdir(parents=True, exist_ok=True)
        text = self.t.space.encode_text([f"a {x} track" for x in genres]).to(_device(g))
        lat = g.sample_latents(len(genres), steps, seed=PROBE_SEED).to(text.device)
        out = torch.sigmoid(g.logits(text, lat)) if is_symbolic(g) else g.denormalise(g(text, lat))
        return folder, genres, text, out.float().cpu().numpy()

    def samples(self, step: int, frames: int = 512) -> Path:
        """``samples/step_XXXXXX/grid.png`` and ``<genre>.wav`` (PGHI + Griffin-Lim) per genre
        (symbolic family: piano-roll grid and ``<genre>.mid``, see :meth:`roll_samples`)."""
        if is_symbolic(self.t.g_ema):
            return self.roll_samples(step)
        from mmgan.audio.io import peak_normalize, save_wav

        g = self.t.g_ema
        folder, genres, _, feats = self._probe(step, frames // g.upsample)
        mels = [f[: g.n_mels] for f in feats]
        title = f"EMA generator, step {step}: 'a <genre> track'"
        save_image_grid(folder / "grid.png", genres, mels, title, 1.3, vmin=-11.5, vmax=2.5)
        for genre, f in zip(genres, feats, strict=True):
            wave = render_features(g, np.asarray(f))  # as the pipeline renders
            save_wav(folder / f"{genre}.wav", peak_normalize(wave), 22050)
        return folder

    def roll_samples(self, step: int, beats: int = 16) -> Path:
        """Symbolic family: ``grid.png`` (every genre's four tracks over ``beats`` beats) and
        ``<genre>.mid`` (arranged with that genre's instruments, 120 BPM), decoded as the
        pipeline decodes (each piece's line floors from this export's share head, short notes
        dropped)."""
        from mmgan.audio.midi import save_midi
        from mmgan.generate.symbolic import arrange, decode_rows, piece_floors, tidy_rows
        from mmgan.generate.symbolic_pipeline import SymbolicPipeline

        g = self.t.g_ema
        folder, genres, styles, probs = self._probe(step, beats)
        shares = self.t.share_head(styles)
        rolls = decode_rows(probs, g.layout, piece_floors(probs, shares, g.layout))
        rolls = tidy_rows(rolls, g.layout, SymbolicPipeline.min_note_steps)
        bounds = [g.layout.slices[t].stop for t in g.layout.tracks[:-1]]
        title = f"EMA generator, step {step}: drums | bass | harmony | lead (bottom up)"
        show = {"cmap": "Greys", "interpolation": "nearest"}
        save_image_grid(folder / "grid.png", genres, rolls, title, 1.6, lines=bounds, **show)
        for genre, r in zip(genres, rolls, strict=True):
            save_midi(arrange(r, [(genre, 1.0)], bpm=120.0), folder / f"{genre}.mid")
        return folder

    def final(self) -> dict[str, float]:
        return dict(self.last_eval)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
