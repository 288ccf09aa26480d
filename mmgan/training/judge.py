"""Training and evaluation of the independent genre + tag judge (:class:`GenreJudge`).

Loss: cross-entropy on the genre (label smoothing) + ``tag_weight`` x BCE on the multi-hot
tags, on random ``window_frames`` crops of the **train split only** (light augmentation:
random crop, a random gain on the mel rows, a few short time masks, and with probability
``lowpass_p`` a band-limited view of the clip, cached beside the full-band one, so that
audio from a lower sample rate is not all heard as ambient). With probability ``mix_p`` a
row is instead an audio mix of two train clips of different genres (equal RMS, weights
``w`` and ``1 - w``, ``w`` uniform in ``mix_weight``; one fixed partner per clip) with the
targets mixed the same way, so that a blend of two genres is heard as both, not as one of
them. Validation numbers choose the settings; the test split is reported once at the end,
with :func:`evaluate_mixes` on ``mix_eval`` equal mixes of each split (how much of the
probability the two genres of a real blend hold).

Features come from :func:`mmgan.eval.judge_features.clip_features`, cached per clip as
``float16`` ``.npy`` under ``<corpus>/.cache/judge-<hash of the feature settings>/``
(keyed by path, size and mtime; atomic writes); the metrics come from
:mod:`mmgan.eval.tag_metrics` (both re-exported here). Labels, genre list and vocabulary
come from :class:`mmgan.data.dataset.MelDataset` (``corpus.json``'s order).

Every random choice derives from ``(seed, epoch)`` or ``(seed, step)``, so a resumed run
equals an uninterrupted one (same machine and thread count).

Example::

    summary = train_judge(Path("configs/judge-small.yaml"), "data/small", "runs/judge",
                          overrides=[], resume=False, progress=True)
    judge = GenreJudge.from_pretrained("runs/judge")
    evaluate_judge(judge, "data/small", "test")["accuracy"]
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mmgan.config import load_config, save_config, to_dict
from mmgan.data.dataset import MelDataset
from mmgan.data.mixes import check_mix_settings, mix_partners
from mmgan.eval.classifier import GenreJudge
from mmgan.eval.judge_features import clip_features, feature_cache_dir, mix_features
from mmgan.eval.tag_metrics import average_precision, judge_metrics, roc_auc
from mmgan.training.checkpoint import STATE_NAME, load_state, save_state, trim_metrics
from mmgan.utils import atomic_write_text

__all__ = [
    "JudgeModelConfig",
    "JudgeTrainConfig",
    "JudgeTrainer",
    "average_precision",
    "build_judge",
    "clip_features",
    "eval_mix_pairs",
    "evaluate_judge",
    "evaluate_judge_mixes",
    "evaluate_mixes",
    "mix_partners",
    "feature_cache_dir",
    "judge_metrics",
    "roc_auc",
    "train_judge",
]


@dataclass
class JudgeModelConfig:
    """Constructor arguments of :class:`GenreJudge` except the class lists (from the data)."""

    n_mels: int = 96
    n_fft: int = 2048
    hop_length: int = 512
    fmin: float = 30.0
    fmax: float = 10000.0
    width: int = 192
    dilations: list[int] = field(default_factory=lambda: [1, 2, 4, 8])
    attention_dim: int = 64
    embedding_dim: int = 256
    window_frames: int = 216


@dataclass
class JudgeTrainConfig:
    """Run settings; the model's own arguments live in ``model``."""

    model: JudgeModelConfig = field(default_factory=JudgeModelConfig)
    steps: int = 600
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.05
    warmup: int = 30
    seed: int = 0
    device: str = "cpu"
    threads: int = 1
    eval_every: int = 100
    ckpt_every: int = 100
    tag_weight: float = 1.0
    label_smoothing: float = 0.05
    gain_db: float = 6.0
    time_masks: int = 2
    time_mask_frames: int = 20
    lowpass_p: float = 0.25
    lowpass_hz: list[float] = field(default_factory=lambda: [4000.0, 6000.0, 8000.0])
    mix_p: float = 0.0
    mix_weight: list[float] = field(default_factory=lambda: [0.25, 0.75])
    mix_eval: int = 100
    export_dtype: str = "float16"


def build_judge(cfg: JudgeModelConfig, genres: Sequence[str], tags: Sequence[str]) -> GenreJudge:
    """The one place a config becomes a judge."""
    return GenreJudge(genres=genres, tags=tags, **to_dict(cfg))


# ---------------------------------------------------------------------- data


def _labels(ds: MelDataset) -> tuple[torch.Tensor, torch.Tensor]:
    """``genre [N]`` (long, -1 unknown) and multi-hot ``tags [N, V]`` of a dataset's items."""
    genre = torch.tensor([it.genre_idx for it in ds.items], dtype=torch.long)
    tags = torch.zeros(len(ds.items), len(ds.vocabulary))
    for n, it in enumerate(ds.items):
        tags[n, list(it.tag_idx)] = 1.0
    return genre, tags


def _split(data: Path, split: str, **kwargs: Any) -> MelDataset | None:
    try:
        return MelDataset.from_folder(data, split, segment_frames=None, cache=False, **kwargs)
    except ValueError:  # no clips in that split
        return None


# ---------------------------------------------------------------------- evaluation


@torch.no_grad()
def _evaluate_features(
    judge: GenreJudge, feats: Sequence[np.ndarray], genre: torch.Tensor, tags: torch.Tensor
) -> dict[str, Any]:
    emb = judge.embed_features(feats)
    genre_logits, tag_logits = judge.heads(emb)
    return judge_metrics(
        torch.softmax(genre_logits.double(), -1).cpu().numpy(),
        torch.sigmoid(tag_logits.double()).cpu().numpy(),
        genre.numpy(),
        tags.numpy(),
        judge.genres,
    )


def _judge_split(judge: GenreJudge, data: Path, split: str) -> MelDataset:
    """One split of a corpus folder, its labels mapped onto the judge's genres and tags."""
    with warnings.catch_warnings():  # corpus tags outside the judge's vocabulary are expected
        warnings.simplefilter("ignore", UserWarning)
        return MelDataset.from_folder(
            data,
            split,
            genres=judge.genres,
            vocabulary=judge.tags,
            segment_frames=None,
            cache=False,
        )


def evaluate_judge(
    judge: GenreJudge, data: str | Path, split: str = "test", *, cache: bool = True
) -> dict[str, Any]:
    """:func:`judge_metrics` of ``judge`` on one split of a corpus folder (the corpus' labels
    mapped onto the judge's genre and tag names). ``cache=False`` computes every feature
    fresh in float32, exactly as :meth:`GenreJudge.predict` does."""
    data = Path(data)
    ds = _judge_split(judge, data, split)
    cache_dir = feature_cache_dir(data, judge.feature_kwargs) if cache else None
    feats = clip_features([it.path for it in ds.items], judge.feature_kwargs, cache_dir=cache_dir)
    return {"split": split, **_evaluate_features(judge, feats, *_labels(ds))}


def eval_mix_pairs(genre: np.ndarray, n: int, seed: int = 0) -> list[tuple[int, int]]:
    """``n`` fixed pairs (i, j) of clips of different genres for :func:`evaluate_mixes`:
    the first ``n`` clips of a seeded permutation that have a partner, each with its own."""
    rng = np.random.default_rng((seed, 23))
    order = rng.permutation(len(genre))
    partner = mix_partners(genre, rng)
    return [(int(i), int(partner[i])) for i in order if partner[i] >= 0][:n]


@torch.no_grad()
def evaluate_mixes(
    judge: GenreJudge, feats: Sequence[np.ndarray], genre: torch.Tensor | np.ndarray, pairs
) -> dict[str, Any]:
    """The judge on equal mixes of two clips of different genres (``feats[k]`` is the mix
    of ``pairs[k] = (i, j)``): how much of the probability the two genres hold.

    Returns ``n``, ``min_p`` (mean over mixes of min(P(A), P(B)); 0.5 = heard as both
    evenly, 0 = heard as one), ``share`` (mean P(A) + P(B)), ``both_ge_0.2`` (share of
    mixes where both hold >= 0.2) and ``top2`` (share whose two most likely genres are A
    and B). ``{"n": 0}`` without pairs."""
    if not pairs:
        return {"n": 0}
    genre = np.asarray(genre)
    genre_logits, _ = judge.heads(judge.embed_features(feats))
    probs = torch.softmax(genre_logits.double(), -1).cpu().numpy()
    a = np.array([genre[i] for i, _ in pairs])
    b = np.array([genre[j] for _, j in pairs])
    rows = np.arange(len(pairs))
    pa, pb = probs[rows, a], probs[rows, b]
    top2 = np.sort(np.argsort(-probs, axis=1)[:, :2], axis=1)
    want = np.sort(np.stack([a, b], axis=1), axis=1)
    return {
        "n": len(pairs),
        "min_p": float(np.minimum(pa, pb).mean()),
        "share": float((pa + pb).mean()),
        "both_ge_0.2": float((np.minimum(pa, pb) >= 0.2).mean()),
        "top2": float((top2 == want).all(axis=1).mean()),
    }


def evaluate_judge_mixes(
    judge: GenreJudge,
    data: str | Path,
    split: str = "test",
    *,
    n: int = 100,
    seed: int = 0,
    cache: bool = True,
) -> dict[str, Any]:
    """:func:`evaluate_mixes` on ``n`` equal mixes of clip pairs of one split of a corpus
    folder (pairs from :func:`eval_mix_pairs`)."""
    data = Path(data)
    ds = _judge_split(judge, data, split)
    genre, _ = _labels(ds)
    pairs = eval_mix_pairs(genre.numpy(), n, seed)
    cache_dir = feature_cache_dir(data, judge.feature_kwargs) if cache else None
    paths = [it.path for it in ds.items]
    feats = mix_features(
        [(paths[i], paths[j], 0.5) for i, j in pairs], judge.feature_kwargs, cache_dir=cache_dir
    )
    return {"split": split, **evaluate_mixes(judge, feats, genre, pairs)}


# ---------------------------------------------------------------------- trainer


class JudgeTrainer:
    """Fits a :class:`GenreJudge` on a corpus folder; writes RUN/{state.pt, model/,
    metrics.jsonl, config.yaml, summary.json}.

    Example::

        JudgeTrainer(JudgeTrainConfig(steps=20), "data/tiny", "runs/judge").fit()
    """

    def __init__(
        self,
        cfg: JudgeTrainConfig,
        data: str | Path,
        out: str | Path,
        *,
        resume: bool = False,
        progress: bool = True,
    ) -> None:
        self.cfg, self.data, self.out, self.progress = cfg, Path(data), Path(out), progress
        if cfg.device.startswith("cuda") and not torch.cuda.is_available():
            raise RuntimeError("--device cuda was asked for but torch sees no CUDA device")
        if cfg.device == "cpu" and cfg.threads > 0:
            from threadpoolctl import threadpool_limits  # a librosa dependency

            torch.set_num_threads(cfg.threads)
            threadpool_limits(cfg.threads)  # numpy's BLAS too (the feature front end)
        check_mix_settings(cfg.mix_p, cfg.mix_weight)
        if cfg.time_masks * cfg.time_mask_frames >= cfg.model.window_frames // 2:
            raise ValueError(
                f"time_masks x time_mask_frames ({cfg.time_masks} x {cfg.time_mask_frames}) must "
                f"mask less than half of window_frames ({cfg.model.window_frames})"
            )
        self.out.mkdir(parents=True, exist_ok=True)
        train = _split(self.data, "train")
        if train is None:
            raise ValueError(f"{self.data} has no clips in the 'train' split; the judge needs them")
        self.genres, self.tags = list(train.genres), list(train.vocabulary)
        splits = {"train": train}
        for name in ("val", "test"):  # scored only; never trained on
            ds = _split(self.data, name, genres=self.genres, vocabulary=self.tags)
            splits.update({name: ds} if ds is not None else {})
        torch.manual_seed(cfg.seed)
        self.model = build_judge(cfg.model, self.genres, self.tags)
        kw, cache_dir = (
            self.model.feature_kwargs,
            feature_cache_dir(self.data, self.model.feature_kwargs),
        )
        paths = {name: [it.path for it in ds.items] for name, ds in splits.items()}
        self.feats = {
            name: clip_features(p, kw, cache_dir=cache_dir, progress=progress)
            for name, p in paths.items()
        }
        self.labels = {name: _labels(ds) for name, ds in splits.items()}
        self.model.set_feature_stats(self.feats["train"])
        self.lowpassed: list[np.ndarray] = []  # band-limited views of the train clips
        if cfg.lowpass_p > 0 and cfg.lowpass_hz:
            rng = np.random.default_rng((cfg.seed, 11))
            cutoffs = [float(c) for c in rng.choice(cfg.lowpass_hz, size=len(paths["train"]))]
            self.lowpassed = clip_features(
                paths["train"], kw, cache_dir=cache_dir, lowpass_hz=cutoffs, progress=progress
            )
        self.mixes: list[np.ndarray] = []  # train mixes, one per clip with a partner
        self.mix_of: dict[int, tuple[int, int, float]] = {}  # clip -> (mix index, partner, w)
        if cfg.mix_p > 0:
            rng = np.random.default_rng((cfg.seed, 13))
            partner = mix_partners(self.labels["train"][0].numpy(), rng)
            lo, hi = cfg.mix_weight
            jobs = []
            for i in np.flatnonzero(partner >= 0):
                w = round(float(rng.uniform(lo, hi)), 4)
                self.mix_of[int(i)] = (len(jobs), int(partner[i]), w)
                jobs.append((paths["train"][i], paths["train"][partner[i]], w))
            self.mixes = mix_features(jobs, kw, cache_dir=cache_dir, progress=progress)
        self.mix_eval: dict[str, tuple[list[tuple[int, int]], list[np.ndarray]]] = {}
        for name in ("val", "test"):  # equal mixes of held-out clips: scored only
            if cfg.mix_eval > 0 and name in paths:
                pairs = eval_mix_pairs(self.labels[name][0].numpy(), cfg.mix_eval, cfg.seed)
                p = paths[name]
                jobs = [(p[i], p[j], 0.5) for i, j in pairs]
                feats = mix_features(jobs, kw, cache_dir=cache_dir, progress=progress)
                self.mix_eval[name] = (pairs, feats)
        self.model.to(cfg.device)
        decay = [p for p in self.model.parameters() if p.ndim > 1]
        rest = [p for p in self.model.parameters() if p.ndim <= 1]
        self.opt = torch.optim.AdamW(
            [
                {"params": decay, "weight_decay": cfg.weight_decay},
                {"params": rest, "weight_decay": 0.0},
            ],
            lr=cfg.lr,
        )
        self.step = 0
        if resume:
            self._resume()
        else:
            (self.out / "metrics.jsonl").unlink(missing_ok=True)
        save_config(cfg, self.out / "config.yaml")

    def _resume(self) -> None:
        state = load_state(self.out / STATE_NAME)
        self.model.load_checked(state["model"], where=str(self.out / STATE_NAME))
        self.opt.load_state_dict(state["optimizer"])
        self.step = int(state["step"])
        trim_metrics(self.out / "metrics.jsonl", self.step)

    def lr_at(self, step: int) -> float:
        """Linear warm-up, then cosine decay to 5 % of ``lr``."""
        cfg = self.cfg
        if step < cfg.warmup:
            return cfg.lr * (step + 1) / cfg.warmup
        frac = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
        return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))

    def batch_indices(self, step: int) -> list[int]:
        """Clip indices of ``step``: consecutive slices of a seeded permutation per epoch."""
        n = len(self.feats["train"])
        b = min(self.cfg.batch_size, n)
        epoch, k = divmod(step, n // b)
        perm = np.random.default_rng((self.cfg.seed, epoch)).permutation(n)
        return perm[k * b : (k + 1) * b].tolist()

    def make_batch(
        self, idx: list[int], step: int
    ) -> tuple[torch.Tensor, torch.Tensor, list[tuple[int, int, float]]]:
        """Augmented crops ``features [B, C, window]``, valid-frame ``mask [B, window]`` and
        the rows that are mixes: ``(row, partner clip, weight of the row's own clip)``."""
        cfg, w, n_mels = self.cfg, self.model.window_frames, self.cfg.model.n_mels
        rng = np.random.default_rng((cfg.seed, 7, step))
        x = np.zeros((len(idx), self.model.channels, w), dtype=np.float32)
        mask = np.zeros((len(idx), w), dtype=bool)
        mixed: list[tuple[int, int, float]] = []
        for r, i in enumerate(idx):
            mix = cfg.mix_p > 0 and i in self.mix_of and rng.random() < cfg.mix_p
            lowpass = rng.random() < cfg.lowpass_p and bool(self.lowpassed)
            if mix:
                k, partner, weight = self.mix_of[i]
                feat = self.mixes[k]
                mixed.append((r, partner, weight))
            else:
                feat = self.lowpassed[i] if lowpass else self.feats["train"][i]
            start = int(rng.integers(0, feat.shape[1] - w + 1)) if feat.shape[1] > w else 0
            part = feat[:, start : start + w]
            x[r, :, : part.shape[1]], mask[r, : part.shape[1]] = part, True
            x[r, :n_mels] += rng.uniform(-cfg.gain_db, cfg.gain_db) * math.log(10) / 10
            for _ in range(cfg.time_masks):
                width = int(rng.integers(0, cfg.time_mask_frames + 1))
                at = int(rng.integers(0, w - width + 1))
                mask[r, at : at + width] = False
            mask[r, 0] |= not mask[r].any()
        return torch.from_numpy(x), torch.from_numpy(mask), mixed

    def targets(
        self, idx: list[int], mixed: list[tuple[int, int, float]]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Genre distributions ``[B, G]`` (label-smoothed; all zero for an unknown genre) and
        tag targets ``[B, V]`` of a batch, mixes weighted as their audio."""
        genre, tags = self.labels["train"]
        g = len(self.genres)
        probs = torch.zeros(len(idx), g)
        known = genre[idx] >= 0
        probs[known] = F.one_hot(genre[idx][known], g).float()
        tag = tags[idx].clone()
        for r, partner, w in mixed:
            probs[r] = w * probs[r] + (1.0 - w) * F.one_hot(genre[partner], g).float()
            tag[r] = w * tag[r] + (1.0 - w) * tags[partner]
        eps = self.cfg.label_smoothing
        probs[known] = (1.0 - eps) * probs[known] + eps / g
        return probs, tag

    def train_step(self, step: int) -> dict[str, float]:
        """One optimiser step; returns namespaced scalars."""
        cfg, dev = self.cfg, self.cfg.device
        idx = self.batch_indices(step)
        x, mask, mixed = self.make_batch(idx, step)
        for group in self.opt.param_groups:
            group["lr"] = self.lr_at(step)
        self.model.train()
        genre_logits, tag_logits, _ = self.model(x.to(dev), mask.to(dev))
        if mixed:  # soft genre targets (equal to the branch below on rows that are not mixes)
            probs, tags = (t.to(dev) for t in self.targets(idx, mixed))
            known = probs.sum(1) > 0
            logp = torch.log_softmax(genre_logits[known], -1)
            genre_loss = -(probs[known] * logp).sum(1).mean()
            genre = probs.argmax(1).masked_fill(~known, -1)
        else:
            genre, tags = (t[torch.as_tensor(idx)].to(dev) for t in self.labels["train"])
            genre_loss = F.cross_entropy(
                genre_logits, genre, ignore_index=-1, label_smoothing=cfg.label_smoothing
            )
        tag_loss = F.binary_cross_entropy_with_logits(tag_logits, tags)
        loss = genre_loss + cfg.tag_weight * tag_loss
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {
            "loss": loss.item(),
            "genre_ce": genre_loss.item(),
            "tag_bce": tag_loss.item(),
            "acc": (genre_logits.argmax(1) == genre).float().mean().item(),
            "mixed": len(mixed) / len(idx),
            "lr": self.lr_at(step),
        }

    def evaluate(self, split: str) -> dict[str, Any]:
        """:func:`judge_metrics` on a split's cached features (``{}`` if it has no clips),
        with ``"mixes"``: :func:`evaluate_mixes` on its equal mixes (``mix_eval`` > 0)."""
        if split not in self.feats:
            return {}
        out = _evaluate_features(self.model, self.feats[split], *self.labels[split])
        if split in self.mix_eval:
            pairs, feats = self.mix_eval[split]
            out["mixes"] = evaluate_mixes(self.model, feats, self.labels[split][0], pairs)
        return out

    def checkpoint(self) -> None:
        state = {
            "step": self.step,
            "model": self.model.state_dict(),
            "optimizer": self.opt.state_dict(),
        }
        save_state(self.out / STATE_NAME, state)
        dtype = {"float16": torch.float16, "float32": torch.float32}[self.cfg.export_dtype]
        self.model.save_pretrained(self.out / "model", dtype=dtype)

    def log(self, record: dict[str, Any]) -> None:
        with open(self.out / "metrics.jsonl", "a") as fh:
            fh.write(json.dumps(record) + "\n")

    def fit(self, stop_at: int | None = None) -> dict[str, Any]:
        """Train to ``cfg.steps`` (from the resumed step), checkpoint, export, report.

        ``stop_at`` ends early after that step, as a killed run would; a later
        ``resume=True`` trainer carries on. Returns (and writes to ``summary.json``) the
        step, seconds, parameters and the val and test :func:`judge_metrics`.
        """
        from tqdm.auto import tqdm

        cfg, t0, cpu0 = self.cfg, time.time(), time.process_time()
        bar = tqdm(
            total=cfg.steps, initial=self.step, desc="train judge", disable=not self.progress
        )
        while self.step < cfg.steps and (stop_at is None or self.step < stop_at):
            last = self.train_step(self.step)
            self.step += 1
            record = {"step": self.step, **{f"train/{k}": round(v, 5) for k, v in last.items()}}
            if cfg.eval_every and self.step % cfg.eval_every == 0 and "val" in self.feats:
                val = self.evaluate("val")
                for k in ("accuracy", "tag_map", "tag_auc"):
                    record[f"val/{k}"] = None if val[k] is None else round(val[k], 4)
                if "mixes" in val and val["mixes"]["n"]:
                    record["val/mix_min_p"] = round(val["mixes"]["min_p"], 4)
            self.log(record)
            if cfg.ckpt_every and self.step % cfg.ckpt_every == 0:
                self.checkpoint()
            bar.set_postfix(loss=f"{last['loss']:.3f}", acc=f"{last['acc']:.2f}")
            bar.update(1)
        bar.close()
        self.checkpoint()
        summary = {
            "step": self.step,
            "seconds": round(time.time() - t0, 1),
            "cpu_seconds": round(time.process_time() - cpu0, 1),  # all threads of this process
            "parameters": self.model.num_parameters(),
            "val": self.evaluate("val"),
            "test": self.evaluate("test"),
        }
        atomic_write_text(self.out / "summary.json", json.dumps(summary, indent=2) + "\n")
        return summary


def train_judge(
    config_path: Path | None,
    data: str | Path,
    out: str | Path,
    *,
    overrides: list[str] | None = None,
    resume: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """``mmgan train judge``: defaults, then the YAML delta, then ``k=v`` overrides; fit."""
    cfg = load_config(JudgeTrainConfig, config_path, list(overrides or []))
    return JudgeTrainer(cfg, data, out, resume=resume, progress=progress).fit()
