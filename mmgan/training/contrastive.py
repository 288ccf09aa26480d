"""Contrastive (CLAP/LiT-style) training of the style space's audio tower and text projection.

Loss: symmetric InfoNCE between audio crops and *frozen* text-encoder embeddings of their
captions, through the trainable linear text projection, with a learnable temperature::

    a = audio_encoder(mel)                 # [B, D], normalised
    t = project_text(frozen_text(caption)) # [B, D], normalised
    logits = exp(logit_scale) * a @ t.T    # [B, B]
    loss = (CE(logits, arange B) + CE(logits.T, arange B)) / 2

Caption augmentation: each training clip gets the stored caption plus ``captions_per_clip``
variants from its structured tags (random tag subsets, several templates, the composer's
label or the plain genre name); all are embedded once and one is drawn per step.

Every random choice derives from ``(seed, step)`` or ``(seed, epoch)``, so ``--resume``
reproduces an uninterrupted run exactly (on the same machine and thread count).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, default_collate

from mmgan.audio.features import MelParams
from mmgan.config import save_config, to_dict
from mmgan.data.corpus import read_metadata
from mmgan.data.dataset import MelDataset
from mmgan.style.audio_encoder import LOG_PAD, StyleModel, window_starts
from mmgan.style.music_terms import KEYS, music_terms
from mmgan.training.captions import (  # re-exported: callers import them from here
    TextFn,
    augmented_captions,
    embed_texts,
    load_text_fn,
    row_id,
)
from mmgan.training.checkpoint import STATE_NAME, load_state, save_state, trim_metrics
from mmgan.utils import atomic_write_text


@dataclass
class StyleModelConfig:
    """Constructor arguments of :class:`StyleModel` (see there)."""

    channels: list[int] = field(default_factory=lambda: [24, 48, 96, 192])
    width: int = 384
    embed_dim: int = 384
    window_frames: int = 256
    text_encoder: str = "minilm"
    style_space_id: str = "mmgan-style-minilm-v2"
    temperature: float = 0.07
    text_hidden: int = 0
    chroma: bool = False
    rhythm: bool = False
    music_terms: bool = False


@dataclass
class StyleTrainConfig:
    """Run settings; the model's own arguments live in ``model``."""

    model: StyleModelConfig = field(default_factory=StyleModelConfig)
    steps: int = 1000
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 0.02
    warmup: int = 50
    seed: int = 0
    device: str = "cpu"
    threads: int = 2
    workers: int = 0
    eval_every: int = 250
    ckpt_every: int = 250
    captions_per_clip: int = 8
    export_dtype: str = "float32"
    aux_tags: float = 0.0
    aux_key: float = 0.0
    init_from: str | None = None  # model folder to start from (its weights; new parts stay new)
    freeze_audio: bool = False  # train only the text side against the fixed audio tower
    frozen_hop: int = 64  # with freeze_audio: hop of the precomputed audio windows (frames)


def build_model(cfg: StyleModelConfig) -> StyleModel:
    """The one place a config becomes a model."""
    return StyleModel(**to_dict(cfg))


# ---------------------------------------------------------------------- loss and eval


def info_nce(audio: torch.Tensor, text: torch.Tensor, scale: torch.Tensor) -> dict[str, Any]:
    """Symmetric InfoNCE of matched rows of ``audio [B, D]`` and ``text [B, D]``."""
    logits = scale * audio @ text.T  # [B, B]
    target = torch.arange(len(audio), device=audio.device)
    a2t = F.cross_entropy(logits, target)
    t2a = F.cross_entropy(logits.T, target)
    return {
        "loss": (a2t + t2a) / 2,
        "acc/a2t": (logits.argmax(1) == target).float().mean().item(),
        "acc/t2a": (logits.argmax(0) == target).float().mean().item(),
    }


@torch.no_grad()
def clip_embeddings(model: StyleModel, dataset: MelDataset, batch: int = 128) -> torch.Tensor:
    """Whole-clip embeddings ``[N, D]`` of every item (windowed average), eval mode."""
    was = model.training
    model.eval()
    try:
        out = [model.embed_clip_mel(dataset.load_mel(i)) for i in range(len(dataset))]
    finally:
        model.train(was)
    return torch.stack(out).cpu()


@torch.no_grad()
def evaluate(
    model: StyleModel, dataset: MelDataset, text_fn: TextFn, text_cache: dict | None = None
) -> dict[str, float]:
    """Zero-shot genre accuracy ("a {genre} track") and caption->audio recall@1/5/10."""
    cache = text_cache if text_cache is not None else {}
    prompts = [f"a {g} track" for g in dataset.genres]
    captions = [it.caption for it in dataset.items]
    key = hashlib.sha1("\n".join(prompts + captions).encode()).hexdigest()
    if key not in cache:
        cache[key] = (embed_texts(text_fn, prompts), embed_texts(text_fn, captions))
    prompt_raw, caption_raw = cache[key]
    was = model.training
    model.eval()
    try:
        audio = clip_embeddings(model, dataset)
        device = next(model.parameters()).device
        prompt_emb = model.project_text(prompt_raw.to(device), model.text_terms(prompts)).cpu()
        caption_emb = model.project_text(caption_raw.to(device), model.text_terms(captions))
        caption_emb = caption_emb.cpu()
    finally:
        model.train(was)
    genre = torch.tensor([it.genre_idx for it in dataset.items])
    known = genre >= 0
    pred = (audio @ prompt_emb.T).argmax(1)
    zero_shot = (pred[known] == genre[known]).float().mean().item() if known.any() else float("nan")
    sims = caption_emb @ audio.T  # [N captions, N clips]
    rank = (sims > sims.diagonal()[:, None]).sum(1)  # clips scored above the true one
    out = {"zero_shot_genre_acc": round(zero_shot, 4)}
    for k in (1, 5, 10):
        out[f"recall@{k}"] = round((rank < k).float().mean().item(), 4)
    return out


# ---------------------------------------------------------------------- trainer


class StyleTrainer:
    """Fits a :class:`StyleModel` on a corpus folder; writes RUN/{state.pt, model/, metrics.jsonl}.

    Example::

        cfg = StyleTrainConfig(steps=10, batch_size=8)
        StyleTrainer(cfg, "data/tiny", "runs/style").fit()
    """

    def __init__(
        self,
        cfg: StyleTrainConfig,
        data: str | Path,
        out: str | Path,
        *,
        resume: bool = False,
        text_fn: TextFn | None = None,
        progress: bool = True,
    ) -> None:
        self.cfg, self.data, self.out, self.progress = cfg, Path(data), Path(out), progress
        if cfg.device.startswith("cuda") and not torch.cuda.is_available():
            raise RuntimeError("--device cuda was asked for but torch sees no CUDA device")
        if cfg.device == "cpu" and cfg.threads > 0:
            torch.set_num_threads(cfg.threads)
        self.out.mkdir(parents=True, exist_ok=True)
        self.text_fn = text_fn or load_text_fn(cfg.model.text_encoder)
        seg = cfg.model.window_frames
        self.mel_params = MelParams(chroma=cfg.model.chroma)
        self.train_set = MelDataset.from_folder(
            self.data, "train", segment_frames=seg, seed=cfg.seed, params=self.mel_params
        )
        self.val_set = self._optional_split("val")
        torch.manual_seed(cfg.seed)
        self.model = build_model(cfg.model).to(cfg.device)
        if cfg.init_from:
            self._init_from(cfg.init_from)
        if cfg.freeze_audio:
            self.model.audio_encoder.requires_grad_(False)
        trainable = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        decay = [p for n, p in trainable if p.ndim > 1 and "text_proj" not in n]
        rest = [p for n, p in trainable if not (p.ndim > 1 and "text_proj" not in n)]
        self.opt = torch.optim.AdamW(
            [
                {"params": decay, "weight_decay": cfg.weight_decay},
                {"params": rest, "weight_decay": 0},
            ],
            lr=cfg.lr,
        )
        self.step = 0
        self.text_cache: dict = {}
        self.bank, self.bank_terms = self._caption_bank()  # [N, K + 1, D], 2 x [N, K + 1]
        self.key_idx = self._key_targets()  # [N] in 0..23, -1 unknown
        self.audio_bank = self._audio_bank() if cfg.freeze_audio else None  # [N, W, D]
        self.aux_head = torch.nn.Linear(
            cfg.model.embed_dim, len(self.train_set.vocabulary) + len(KEYS)
        ).to(cfg.device)
        if cfg.aux_tags > 0 or cfg.aux_key > 0:
            self.opt.add_param_group({"params": self.aux_head.parameters(), "weight_decay": 0})
        if resume:
            self._resume()
        else:
            (self.out / "metrics.jsonl").unlink(missing_ok=True)
        save_config(cfg, self.out / "config.yaml")

    def _optional_split(self, split: str) -> MelDataset | None:
        try:
            return MelDataset.from_folder(
                self.data,
                split,
                segment_frames=self.cfg.model.window_frames,
                random_crop=False,
                params=self.mel_params,
            )
        except ValueError:
            return None

    def _init_from(self, folder: str) -> None:
        """Start from a trained model folder: every one of its weights must fit this model;
        parts it lacks (music terms, a text MLP) keep their zero-initialised start."""
        source = StyleModel.from_pretrained(folder)
        own = {k: v.shape for k, v in self.model.state_dict().items()}
        bad = [k for k, v in source.state_dict().items() if own.get(k) != v.shape]
        if bad:
            raise ValueError(
                f"init_from {folder!r} does not fit this model config ({len(bad)} weights "
                f"differ, e.g. {bad[0]!r}); use the same audio settings as that model"
            )
        self.model.load_state_dict(source.state_dict(), strict=False)

    def _caption_bank(self) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        rows = {row_id(r): r for r in read_metadata(self.data)}
        k = self.cfg.captions_per_clip
        texts: list[str] = []
        for n, item in enumerate(self.train_set.items):
            row = rows.get(item.id, {"caption": item.caption})
            texts += augmented_captions(row, k, np.random.default_rng((self.cfg.seed, n)))
        shape = (len(self.train_set), k + 1)
        key_idx, bpm = music_terms(texts)
        terms = (key_idx.reshape(shape), bpm.reshape(shape))
        key = hashlib.sha1(("\n".join(texts) + self.cfg.model.text_encoder).encode()).hexdigest()
        cache = self.out / "caption_bank.pt"
        if cache.is_file():
            stored = torch.load(cache, weights_only=True)
            if stored.get("key") == key:
                return stored["emb"], terms
        emb = embed_texts(self.text_fn, texts).reshape(*shape, -1)
        save_state(cache, {"key": key, "emb": emb, "step": 0})
        return emb, terms

    @torch.no_grad()
    def _audio_bank(self) -> torch.Tensor:
        """With ``freeze_audio``: every train clip's window embeddings ``[N, W, D]`` (eval
        mode, windows every ``frozen_hop`` frames), computed once; a step draws one each."""
        from tqdm.auto import tqdm

        model, w = self.model.eval(), self.cfg.model.window_frames
        out = []
        for i in tqdm(range(len(self.train_set)), desc="audio bank", disable=not self.progress):
            mel = torch.from_numpy(np.array(self.train_set.load_mel(i), dtype=np.float32))
            if mel.shape[1] < w:
                mel = F.pad(mel, (0, w - mel.shape[1]), value=LOG_PAD)
            starts = window_starts(mel.shape[1], w, self.cfg.frozen_hop)
            crops = torch.stack([mel[:, s : s + w] for s in starts])[:, None]
            out.append(model.embed_mel(crops.to(self.cfg.device)).cpu())
        n = min(len(e) for e in out)  # equal-length clips give equal counts; else the first n
        return torch.stack([e[:n] for e in out])

    def _key_targets(self) -> torch.Tensor:
        rows = {row_id(r): r for r in read_metadata(self.data)}
        index = {k: i for i, k in enumerate(KEYS)}
        keys = [str(rows.get(it.id, {}).get("key", "")) for it in self.train_set.items]
        return torch.tensor([index.get(k, -1) for k in keys])

    def aux_loss(self, audio: torch.Tensor, idx: list[int], batch: dict[str, Any]) -> dict:
        """Auxiliary supervision of the audio tower from the clips' own tags (training only).

        ``aux_tags``: multi-label BCE over the tag vocabulary; ``aux_key``: 24-way key
        cross-entropy. A linear head on the audio embedding, not exported with the model.
        """
        cfg, out = self.cfg, {}
        if cfg.aux_tags <= 0 and cfg.aux_key <= 0:
            return {"total": audio.new_zeros(())}
        logits = self.aux_head(audio)
        n_tags = logits.shape[1] - len(KEYS)
        total = audio.new_zeros(())
        if cfg.aux_tags > 0:
            tags = batch["tags"].to(audio.device).float()
            out["aux_tags"] = F.binary_cross_entropy_with_logits(logits[:, :n_tags], tags)
            total = total + cfg.aux_tags * out["aux_tags"]
        if cfg.aux_key > 0:
            key = self.key_idx[torch.as_tensor(idx)].to(audio.device)
            if (key >= 0).any():
                out["aux_key"] = F.cross_entropy(logits[:, n_tags:], key, ignore_index=-1)
                out["acc/key"] = (logits[:, n_tags:].argmax(1) == key).float().mean().item()
                total = total + cfg.aux_key * out["aux_key"]
        return {"total": total, **out}

    def _resume(self) -> None:
        state = load_state(self.out / STATE_NAME)
        self.model.load_checked(state["model"], where=str(self.out / STATE_NAME))
        if "aux_head" in state:
            self.aux_head.load_state_dict(state["aux_head"])
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

    def batches(self, start: int):
        """Index batches for steps ``start..steps-1``: a seeded permutation per epoch."""
        n, b = len(self.train_set), min(self.cfg.batch_size, len(self.train_set))
        per_epoch = n // b
        step = start
        while step < self.cfg.steps:
            epoch, first = divmod(step, per_epoch)
            perm = torch.randperm(
                n, generator=torch.Generator().manual_seed(self.cfg.seed * 1000 + epoch)
            )
            self.train_set.set_epoch(epoch)
            chunks = [perm[i * b : (i + 1) * b].tolist() for i in range(first, per_epoch)]
            chunks = chunks[: self.cfg.steps - step]
            if self.audio_bank is not None:  # frozen audio: no mel crops to load
                for idx in chunks:
                    yield step, idx, {}
                    step += 1
                continue
            loader = DataLoader(
                self.train_set,
                batch_sampler=chunks,
                num_workers=self.cfg.workers,
                collate_fn=default_collate,
            )
            for idx, batch in zip(chunks, loader, strict=True):
                yield step, idx, batch
                step += 1

    def train_step(self, step: int, idx: list[int], batch: dict[str, Any]) -> dict[str, float]:
        """One optimiser step on a batch; returns namespaced scalars."""
        rng = np.random.default_rng((self.cfg.seed, 7, step))
        rows = torch.as_tensor(idx)
        pick = torch.as_tensor(rng.integers(0, self.bank.shape[1], size=len(idx)))
        text_raw = self.bank[rows, pick].to(self.cfg.device)  # [B, D]
        terms = tuple(t[rows, pick] for t in self.bank_terms)
        for group in self.opt.param_groups:
            group["lr"] = self.lr_at(step)
        self.model.train()
        if self.audio_bank is not None:
            self.model.audio_encoder.eval()  # frozen: its batch-norm statistics stay put
            window = torch.as_tensor(rng.integers(0, self.audio_bank.shape[1], size=len(idx)))
            audio = self.audio_bank[rows, window].to(self.cfg.device)
        else:
            audio = self.model.embed_mel(batch["mel"].to(self.cfg.device))
        text = self.model.project_text(text_raw, terms if self.cfg.model.music_terms else None)
        out = info_nce(audio, text, self.model.scale())
        aux = self.aux_loss(audio, idx, batch) if self.audio_bank is None else {"total": 0.0}
        self.opt.zero_grad(set_to_none=True)
        (out["loss"] + aux.pop("total")).backward()
        self.opt.step()
        return {
            **out,
            **{k: float(torch.as_tensor(v).detach()) for k, v in aux.items()},
            "loss": out["loss"].item(),
            "temp": 1.0 / self.model.scale().item(),
            "lr": self.lr_at(step),
        }

    def log(self, record: dict[str, Any]) -> None:
        with open(self.out / "metrics.jsonl", "a") as fh:
            fh.write(json.dumps(record) + "\n")

    def checkpoint(self) -> None:
        state = {
            "step": self.step,
            "model": self.model.state_dict(),
            "aux_head": self.aux_head.state_dict(),
            "optimizer": self.opt.state_dict(),
        }
        save_state(self.out / STATE_NAME, state)
        dtype = {"float16": torch.float16, "float32": torch.float32}[self.cfg.export_dtype]
        self.model.save_pretrained(self.out / "model", dtype=dtype)

    def validate(self) -> dict[str, float]:
        if self.val_set is None:
            return {}
        return {
            f"val/{k}": v
            for k, v in evaluate(self.model, self.val_set, self.text_fn, self.text_cache).items()
        }

    def fit(self, stop_at: int | None = None) -> dict[str, Any]:
        """Train to ``cfg.steps`` (from the resumed step), then checkpoint and export.

        ``stop_at`` ends early after that step, as a killed run would (the schedule still
        runs to ``cfg.steps``); a later ``resume=True`` trainer carries on.
        """
        from tqdm.auto import tqdm

        cfg, t0, last = self.cfg, time.time(), {}
        bar = tqdm(
            total=cfg.steps, initial=self.step, desc="train style", disable=not self.progress
        )
        for step, idx, batch in self.batches(self.step):
            if stop_at is not None and step >= stop_at:
                break
            last = self.train_step(step, idx, batch)
            self.step = step + 1
            record = {"step": self.step, **{f"train/{k}": round(v, 5) for k, v in last.items()}}
            if cfg.eval_every and self.step % cfg.eval_every == 0:
                record.update(self.validate())
            self.log(record)
            if cfg.ckpt_every and self.step % cfg.ckpt_every == 0:
                self.checkpoint()
            bar.set_postfix(loss=f"{last['loss']:.3f}", temp=f"{last['temp']:.3f}")
            bar.update(1)
        bar.close()
        self.checkpoint()
        final = self.validate()
        summary = {"step": self.step, "seconds": round(time.time() - t0, 1), **final}
        atomic_write_text(self.out / "summary.json", json.dumps(summary, indent=2) + "\n")
        return summary
