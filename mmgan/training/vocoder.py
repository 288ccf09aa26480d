"""Training the GAN vocoder (:mod:`mmgan.models.vocoder`) on a corpus' audio.

``RUN/`` holds ``config.yaml``, ``state.pt`` (generator, discriminators, optimisers, step;
written atomically), ``model/`` (the generator as ``config.json`` + ``model.safetensors``),
``metrics.jsonl``, ``tb/`` (TensorBoard), ``samples/step_XXXXXX/`` (spectrogram PNG of
a validation clip: original, vocoder, Griffin-Lim; and WAVs) and ``summary.json``.

Each step takes random crops of training clips, computes their log-mel in torch
(:class:`~mmgan.models.vocoder.MelFrontend`), and fits the generator with L1 on log-mel
plus a multi-resolution STFT loss. From ``disc_start`` on, the multi-period and
multi-resolution discriminators join (hinge loss, feature matching), as Parallel WaveGAN
warms its generator up before the adversarial phase: on a CPU the reconstruction-only
steps are ~4x cheaper and give the discriminators a sensible opponent. Every ``val_every``
steps the generator renders a few whole validation clips and logs their mel L1 and STFT
distances (``val/*``). Batches come from a generator seeded by ``(seed, step, rank)``, so
a resumed run continues exactly as an uninterrupted one.

With ``generator.phase: pghi`` the network predicts magnitudes only and the crops' audio is
that magnitude with each crop's true phase before ``pghi_start`` (one inverse STFT), then as
at inference: the PGHI phase of the predicted magnitude (no gradient) and ``pghi_iters`` fast
Griffin-Lim iterations, through which the losses reach the magnitude
(``configs/vocoder-pghi.yaml``).

Example::

    cfg = load_config(VocoderTrainConfig, "configs/vocoder-small.yaml")
    VocoderTrainer(cfg, "data/small", "runs/vocoder").fit()
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mmgan.config import save_config, to_dict
from mmgan.training.checkpoint import (
    STATE_NAME,
    load_state,
    save_state,
    stop_on_signals,
    trim_metrics,
)
from mmgan.training.distributed import init_distributed, shutdown, unwrap, wrap
from mmgan.training.gan import step_generator
from mmgan.utils import atomic_write_text

__all__ = ["VocoderNetConfig", "VocoderTrainConfig", "VocoderTrainer", "load_clips"]


@dataclass
class VocoderNetConfig:
    dim: int = 256
    hidden: int = 768
    layers: int = 8
    kernel: int = 7
    phase: str = "learned"  # or "pghi": the network predicts magnitudes (Vocoder's docstring)
    pghi_iters: int = 2


def _default_lambdas() -> dict[str, float]:
    # Vocos: mel 45, adversarial 1, feature matching 2; we add the MR-STFT distance and
    # APNet's direct log-amplitude and phase losses (see spectrum_losses)
    return {"mel": 45.0, "stft": 1.0, "amp": 10.0, "iaf": 10.0, "gd": 0.0, "adv": 1.0, "fm": 2.0}


@dataclass
class VocoderTrainConfig:
    generator: VocoderNetConfig = field(default_factory=VocoderNetConfig)
    mpd_channels: list[int] = field(default_factory=lambda: [8, 32, 64, 128])
    mrd_channels: int = 16
    steps: int = 6000
    batch_size: int = 16  # per process
    segment: int = 8192  # samples per crop (0.37 s); a multiple of the hop (256)
    disc_start: int = 1500  # discriminators join here (0: from the start)
    # generator.phase "pghi": before this step each crop is rendered with its own true phase
    # (one inverse STFT: the magnitude learns fast), from it on as at inference (PGHI phase of
    # the predicted magnitude, then pghi_iters fast Griffin-Lim iterations, differentiable)
    pghi_start: int = 0
    lr_g: float = 5e-4  # Vocos
    lr_d: float = 2e-4
    lr_decay: float = 1.0  # both learning rates x lr_decay ** step (HiFi-GAN decays too)
    betas: list[float] = field(default_factory=lambda: [0.8, 0.99])
    lambdas: dict[str, float] = field(default_factory=_default_lambdas)  # missing keys: defaults
    max_clips: int = 0  # 0: every training clip
    val_clips: int = 8
    seed: int = 0
    device: str = "cpu"
    threads: int = 2
    log_every: int = 25
    val_every: int = 500
    sample_every: int = 1000
    ckpt_every: int = 250
    export_dtype: str = "float32"
    # a saved vocoder folder whose weights start the generator (fine-tuning, e.g. a GPU run
    # continued on the full corpus); its network must match `generator`. Unused on --resume.
    init: str = ""


def load_clips(data: str | Path, split: str, limit: int = 0, sr: int = 22050) -> list[np.ndarray]:
    """The ``split`` clips of a corpus (:class:`~mmgan.eval.corpus_clips.CorpusClips`) as
    float32 mono arrays at ``sr``, the first ``limit`` (0: all)."""
    from mmgan.eval.corpus_clips import CorpusClips

    clips = CorpusClips(data, split)
    if clips.sample_rate != sr:
        raise ValueError(
            f"{data}: the corpus is at {clips.sample_rate} Hz but the mel features need {sr} Hz"
        )
    n = len(clips) if limit <= 0 else min(limit, len(clips))
    return [clips.load(i) for i in range(n)]


def _load_init(g: torch.nn.Module, folder: str | Path) -> int:
    """Copy a saved vocoder's weights into ``g`` (same network); return its trained steps."""
    from mmgan.models.vocoder import Vocoder

    src, config = Vocoder.from_pretrained(folder)
    differs = {
        k: (src.config.get(k), v)
        for k, v in g.config.items()
        if k != "pghi_iters" and src.config.get(k) != v
    }
    if differs:
        raise ValueError(
            f"init {folder}: its network differs from this run's generator "
            f"(saved, asked): {differs}"
        )
    g.load_state_dict(src.state_dict())
    return int(config.get("trained_steps", 0))


class VocoderTrainer:
    """Fits a :class:`~mmgan.models.vocoder.Vocoder` on a corpus folder (module docstring)."""

    def __init__(
        self,
        cfg: VocoderTrainConfig,
        data: str | Path,
        out: str | Path,
        *,
        resume: bool = False,
        progress: bool = True,
    ) -> None:
        from mmgan.audio.features import DEFAULT_MEL
        from mmgan.models.vocoder import (
            MelFrontend,
            Vocoder,
            VocoderDiscriminator,
        )

        hop = DEFAULT_MEL.hop_length
        if cfg.segment % hop or cfg.segment < 4 * hop or cfg.batch_size < 1:
            raise ValueError(
                f"segment must be a multiple of {hop} and >= {4 * hop} samples, batch_size >= 1;"
                f" got {cfg.segment}, {cfg.batch_size}"
            )
        if cfg.pghi_start < 0:
            raise ValueError(f"pghi_start must be >= 0, got {cfg.pghi_start}")
        unknown = set(cfg.lambdas) - set(_default_lambdas())
        if unknown:
            raise ValueError(
                f"unknown lambdas {sorted(unknown)}; known: {sorted(_default_lambdas())}"
            )
        self.cfg, self.data, self.out, self.progress = cfg, Path(data), Path(out), progress
        self.dist = init_distributed(cfg.device)
        self.device = torch.device(self.dist.device)
        if self.device.type == "cpu" and cfg.threads > 0:
            torch.set_num_threads(cfg.threads)
        torch.manual_seed(cfg.seed)  # identical initial weights on every rank
        # the networks first: a bad generator setting or --set init fails before any file
        g = Vocoder(**to_dict(cfg.generator))
        d = VocoderDiscriminator(tuple(cfg.mpd_channels), cfg.mrd_channels)
        self.init_steps = 0
        if cfg.init and not resume:
            self.init_steps = _load_init(g, cfg.init)
        self.out.mkdir(parents=True, exist_ok=True)
        self.clips = load_clips(self.data, "train", cfg.max_clips)
        self.clips = [c for c in self.clips if len(c) >= cfg.segment]
        if not self.clips:
            raise ValueError(
                f"{self.data}: no training clip is at least {cfg.segment} samples long"
            )
        self.val = load_clips(self.data, "val", cfg.val_clips)
        self.front = MelFrontend().to(self.device)
        self.g = wrap(g.to(self.device), self.dist)
        self.d = wrap(d.to(self.device), self.dist)
        betas = tuple(cfg.betas)
        self.opt_g = torch.optim.AdamW(self.g.parameters(), lr=cfg.lr_g, betas=betas)
        self.opt_d = torch.optim.AdamW(self.d.parameters(), lr=cfg.lr_d, betas=betas)
        self.step = 0
        if resume:
            self._resume()
        elif self.dist.is_main:
            (self.out / "metrics.jsonl").unlink(missing_ok=True)
        if self.dist.is_main:
            save_config(cfg, self.out / "config.yaml")
        self.writer = None
        if self.dist.is_main:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(str(self.out / "tb"))
            except ImportError:  # tensorboard is optional
                self.writer = None
        self._stop = False

    def _resume(self) -> None:
        state = load_state(self.out / STATE_NAME)
        if state.get("kind") != "vocoder":
            raise ValueError(
                f"{self.out / STATE_NAME} is not a vocoder training state (kind "
                f"{state.get('kind')!r}); pick another --out or drop --resume"
            )
        unwrap(self.g).load_state_dict(state["g"])
        unwrap(self.d).load_state_dict(state["d"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.step = int(state["step"])
        self.init_steps = int(state.get("init_steps", 0))
        if self.dist.is_main:
            trim_metrics(self.out / "metrics.jsonl", self.step)

    # -- one step --------------------------------------------------------------------------

    def batch(self, step: int) -> torch.Tensor:
        """``[B, segment]`` random crops (random gain 0.3-1) for ``step`` on this rank."""
        cfg = self.cfg
        gen = step_generator(cfg.seed, step, self.dist.rank)
        idx = torch.randint(0, len(self.clips), (cfg.batch_size,), generator=gen)
        rows = []
        for i in idx.tolist():
            clip = self.clips[i]
            start = int(torch.randint(0, len(clip) - cfg.segment + 1, (1,), generator=gen))
            rows.append(torch.from_numpy(clip[start : start + cfg.segment]))
        gain = 0.3 + 0.7 * torch.rand(cfg.batch_size, 1, generator=gen)
        return (torch.stack(rows) * gain).to(self.device)

    def train_step(self, step: int) -> dict[str, float]:
        from mmgan.models.vocoder import multi_resolution_stft_loss, spectrum_losses

        cfg, lam = self.cfg, {**_default_lambdas(), **self.cfg.lambdas}
        for opt, lr in ((self.opt_g, cfg.lr_g), (self.opt_d, cfg.lr_d)):
            for group in opt.param_groups:  # a function of the step: resumes exactly
                group["lr"] = lr * cfg.lr_decay**step
        real = self.batch(step)
        mel, real_spec = self.front(real, with_spectrum=True)
        log_mag, phase = self.g(mel, spectrum=True)
        g = unwrap(self.g)
        if phase is None:  # phase="pghi": render the magnitude (see pghi_start)
            forced = step < cfg.pghi_start
            phase = torch.angle(real_spec) if forced else g.phase_from_magnitude(log_mag)
            fake = g.render_magnitude(log_mag, real.shape[-1], phase, 0 if forced else None)
        else:
            fake = g.istft(g.complex_spectrum(log_mag, phase), real.shape[-1])
        logs: dict[str, float] = {}
        adversarial = step >= cfg.disc_start
        if adversarial:
            self.d.requires_grad_(True)
            loss_d = fake.new_zeros(())
            b = real.shape[0]
            for logits, _ in self.d(torch.cat([real, fake.detach()])):
                loss_d = loss_d + F.relu(1 - logits[:b]).mean() + F.relu(1 + logits[b:]).mean()
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
            logs["d/loss"] = loss_d.item()
            self.d.requires_grad_(False)
        loss_mel = F.l1_loss(self.front(fake), mel)
        sc, logmag = multi_resolution_stft_loss(fake, real)
        spec = spectrum_losses(log_mag, phase, real_spec)
        loss = lam["mel"] * loss_mel + lam["stft"] * (sc + logmag)
        loss = loss + sum(lam[k] * spec[k] for k in ("amp", "iaf", "gd"))
        logs.update({"g/mel_l1": loss_mel.item(), "g/sc": sc.item(), "g/logmag": logmag.item()})
        logs.update({f"g/{k}": v.item() for k, v in spec.items()})
        if adversarial:
            adv, fm = fake.new_zeros(()), fake.new_zeros(())
            b = real.shape[0]
            for logits, feats in self.d(torch.cat([fake, real])):
                adv = adv + F.relu(1 - logits[:b]).mean()
                fm = fm + sum(F.l1_loss(f[:b], f[b:].detach()) for f in feats) / len(feats)
            loss = loss + lam["adv"] * adv + lam["fm"] * fm
            logs.update({"g/adv": adv.item(), "g/fm": fm.item()})
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        logs["g/loss"] = loss.item()
        return logs

    # -- validation, samples, files ----------------------------------------------------------

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Mel L1 and MR-STFT distances of whole validation clips rendered by the vocoder."""
        from mmgan.models.vocoder import multi_resolution_stft_loss

        g = unwrap(self.g).eval()
        mel_l1, sc, mag = [], [], []
        for clip in self.val:
            real = torch.from_numpy(clip)[None].to(self.device)
            mel = self.front(real)
            fake = g(mel, length=real.shape[-1])
            mel_l1.append(float(F.l1_loss(self.front(fake), mel)))
            s, m = multi_resolution_stft_loss(fake, real)
            sc.append(float(s))
            mag.append(float(m))
        g.train()
        return {"val/mel_l1": np.mean(mel_l1), "val/sc": np.mean(sc), "val/logmag": np.mean(mag)}

    @torch.no_grad()
    def samples(self, step: int) -> Path:
        """A validation clip: original, vocoder and Griffin-Lim as WAVs and one PNG."""
        from mmgan.audio.features import DEFAULT_MEL, griffin_lim, log_mel
        from mmgan.audio.io import save_wav
        from mmgan.training.gan_monitor import save_image_grid

        folder = self.out / "samples" / f"step_{step:06d}"
        folder.mkdir(parents=True, exist_ok=True)
        clip = self.val[0] if self.val else self.clips[0]
        mel = log_mel(clip, DEFAULT_MEL.sr)
        g = unwrap(self.g).eval()
        voc = g.synthesise(mel, length=len(clip))
        g.train()
        gl = griffin_lim(mel, n_iter=32, length=len(clip), inverse="fast")
        for name, wave in (("original", clip), ("vocoder", voc), ("griffinlim", gl)):
            save_wav(folder / f"{name}.wav", wave, DEFAULT_MEL.sr)
        mels = [mel, log_mel(voc, DEFAULT_MEL.sr), log_mel(gl, DEFAULT_MEL.sr)]
        labels = ["original", "vocoder", "Griffin-Lim 32"]
        title = f"vocoder step {step}: log-mel of a validation clip"
        save_image_grid(folder / "spectrograms.png", labels, mels, title, 1.6, vmin=-11.5, vmax=2.5)
        return folder

    def export_config(self) -> dict[str, Any]:
        extra = {"trained_steps": self.step, "data": str(self.data)}
        if self.cfg.init:  # where the weights started, and that run's own steps
            extra.update(init=str(self.cfg.init), init_steps=self.init_steps)
        return extra

    def checkpoint(self) -> None:
        if not self.dist.is_main:
            return
        state = {
            "kind": "vocoder",
            "step": self.step,
            "g": unwrap(self.g).state_dict(),
            "d": unwrap(self.d).state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "config": json.dumps(to_dict(self.cfg)),
            "init_steps": self.init_steps,
        }
        save_state(self.out / STATE_NAME, state)
        dtype = {"float16": torch.float16, "float32": torch.float32}[self.cfg.export_dtype]
        unwrap(self.g).save_pretrained(self.out / "model", extra=self.export_config(), dtype=dtype)

    def _log_step(self, acc: dict[str, list[float]]) -> None:
        """Log the means of ``acc`` (then empty it), with validation when it is due."""
        cfg, step = self.cfg, self.step
        record = {"step": step, **{k: round(float(np.mean(v)), 5) for k, v in acc.items()}}
        acc.clear()
        if cfg.val_every and (step % cfg.val_every == 0 or step == cfg.steps):
            record.update({k: round(float(v), 5) for k, v in self.validate().items()})
        self._log(record)

    def _log(self, record: dict[str, Any]) -> None:
        with open(self.out / "metrics.jsonl", "a") as fh:
            fh.write(json.dumps(record) + "\n")
        if self.writer is not None:
            for k, v in record.items():
                if k != "step":
                    self.writer.add_scalar(k, v, record["step"])
            self.writer.flush()

    def _on_signal(self) -> None:
        self._stop = True

    # -- loop ----------------------------------------------------------------------------------

    def fit(self, stop_at: int | None = None) -> dict[str, Any]:
        """Train to ``cfg.steps``; SIGINT/SIGTERM checkpoint and stop; ``stop_at`` ends
        early after that step, as a killed run would."""
        from collections import defaultdict

        from tqdm.auto import tqdm

        cfg, t0, last, acc = self.cfg, time.time(), {}, defaultdict(list)
        main = self.dist.is_main
        bar = tqdm(
            total=cfg.steps, initial=self.step, desc="train vocoder",
            disable=not (self.progress and main),
        )  # fmt: skip
        with stop_on_signals(self._on_signal):
            try:
                while self.step < cfg.steps and not self._stop:
                    if stop_at is not None and self.step >= stop_at:
                        break
                    last = self.train_step(self.step)
                    self.step += 1
                    for k, v in last.items():
                        acc[k].append(v)
                    if main and (self.step % cfg.log_every == 0 or self.step == cfg.steps):
                        self._log_step(acc)
                    if main and cfg.sample_every and self.step % cfg.sample_every == 0:
                        self.samples(self.step)
                    if cfg.ckpt_every and self.step % cfg.ckpt_every == 0:
                        self.checkpoint()
                    bar.set_postfix(mel=f"{last['g/mel_l1']:.3f}", sc=f"{last['g/sc']:.3f}")
                    bar.update(1)
            finally:
                bar.close()
        self.checkpoint()
        summary = {
            "step": self.step,
            "seconds": round(time.time() - t0, 1),
            "interrupted": self._stop,
        }
        if main:
            summary.update({k: round(float(v), 5) for k, v in self.validate().items()})
            atomic_write_text(self.out / "summary.json", json.dumps(summary, indent=2) + "\n")
            if self.writer is not None:
                self.writer.close()
        shutdown(self.dist)
        return summary
