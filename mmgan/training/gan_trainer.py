"""The GAN training loop: data, optimisers, EMA, logging, checkpoints, resume, DDP.

``RUN/`` holds ``config.yaml``, ``state.pt`` (everything needed to resume, written
atomically), ``model/`` (the EMA generator as ``config.json`` + ``model.safetensors``),
``metrics.jsonl``, ``tb/`` (TensorBoard), ``samples/step_XXXXXX/`` (spectrogram grid PNG
and one WAV per genre) and ``summary.json``.

Example::

    cfg = load_config(GANTrainConfig, "configs/tiny.yaml")
    GANTrainer(cfg, "data/tiny", "runs/gan-tiny").fit()
"""

from __future__ import annotations

import copy
import json
import time
from functools import cached_property
from pathlib import Path
from typing import Any

import torch

from mmgan.config import save_config, to_dict
from mmgan.data.mixes import check_mix_settings
from mmgan.training.checkpoint import (
    STATE_NAME,
    load_state,
    save_state,
    stop_on_signals,
    trim_metrics,
)
from mmgan.training.distributed import init_distributed, shutdown, unwrap, wrap
from mmgan.training.gan import (
    LOSS_TERMS,
    GANTrainConfig,
    build_models,
    d_step,
    ema_update,
    g_step,
    hybrid_rows,
    step_generator,
    within_distance,
)
from mmgan.training.gan_data import load_gan_data, real_mixes
from mmgan.training.gan_monitor import Monitor
from mmgan.utils import atomic_write_text

__all__ = ["GANTrainer"]

# generator settings a fine-tune may change: no weight depends on them (the anchors are
# interpolated to one latent per beat before any layer sees them)
LATENT_ONLY = frozenset({"z_every"})

ABSENCE_SEED = 0xAB5E  # the generator's pieces measured for the presence head


def _check_init_folder(folder: str, family: str) -> None:
    """A clear error when ``init_from`` holds no model, or one of the other family
    (:func:`~mmgan.weights.read_model_folder` reads and checks it)."""
    from mmgan.models.pianoroll import MODEL_TYPE as PIANO
    from mmgan.models.specgan import MODEL_TYPE as SPEC
    from mmgan.weights import CheckpointError, read_model_folder

    if not (Path(folder) / "config.json").is_file():
        raise FileNotFoundError(
            f"init_from {folder}: no model folder there (config.json + model.safetensors, as "
            "`mmgan train gan` exports to RUN/model)"
        )
    kind = PIANO if family == "symbolic" else SPEC
    try:
        read_model_folder(folder, kind=kind, hint=f"family {family!r} fine-tunes {kind} models")
    except CheckpointError as err:
        raise CheckpointError(f"init_from {folder}: {err}") from err


class GANTrainer:
    """Fits a :class:`SpecGenerator` on a corpus folder (see the module docstring)."""

    def __init__(
        self,
        cfg: GANTrainConfig,
        data: str | Path,
        out: str | Path,
        *,
        resume: bool = False,
        progress: bool = True,
        space=None,
    ) -> None:
        unit = 12 if cfg.family == "symbolic" else 8  # frames per coarse step (x 4 for D)
        if cfg.crop_frames % unit or cfg.batch_size < 4 or cfg.batch_size % 2:
            raise ValueError(
                f"crop_frames must be a multiple of {unit} and batch_size even and >= 4, got "
                f"{cfg.crop_frames}, {cfg.batch_size}"
            )
        if cfg.family == "symbolic":
            audio_only = {k: v for k, v in cfg.lambdas.items() if k in ("style", "div_style") and v}
            if audio_only or cfg.hybrid_prob > 0:
                raise ValueError(
                    f"the symbolic family has no audio for the style encoder to hear: set "
                    f"lambdas {sorted(audio_only)} and hybrid_prob to 0"
                )
        counts = {k: getattr(cfg, k) for k in ("steps", "imle_batch", "imle_candidates")}
        bad = {k: v for k, v in counts.items() if not isinstance(v, int) or v < 1}
        if bad:
            raise ValueError(f"{', '.join(bad)} must be whole numbers >= 1, got {bad}")
        if (
            not isinstance(cfg.imle_refine, int)
            or cfg.imle_refine < 0
            or cfg.imle_refine_lr <= 0
            or not isinstance(cfg.imle_refine_noise, bool)
        ):
            raise ValueError(
                f"imle_refine must be a whole number >= 0, imle_refine_lr > 0 and "
                f"imle_refine_noise true or false, got {cfg.imle_refine!r}, "
                f"{cfg.imle_refine_lr!r} and {cfg.imle_refine_noise!r}"
            )
        warm = cfg.d_warmup
        if isinstance(warm, bool) or not isinstance(warm, int) or not 0 <= warm < cfg.steps:
            raise ValueError(
                f"d_warmup must be a whole number of steps in [0, steps = {cfg.steps}), "
                f"got {cfg.d_warmup!r}"
            )
        if resume and not (Path(out) / STATE_NAME).is_file():  # before minutes of data loading
            raise FileNotFoundError(
                f"no training checkpoint at {Path(out) / STATE_NAME}; start without --resume to "
                "train from scratch"
            )
        if cfg.init_from and not resume:  # before minutes of data loading
            _check_init_folder(cfg.init_from, cfg.family)
        unknown = sorted(set(cfg.lambdas) - set(LOSS_TERMS))
        if unknown:
            raise ValueError(
                f"unknown loss term(s) in lambdas: {unknown}; known: {', '.join(LOSS_TERMS)}"
            )
        check_mix_settings(cfg.mix_p, cfg.mix_weight)  # before minutes of data loading
        if cfg.mix_p > 0 and cfg.family != "spectrogram":
            raise ValueError("mix_p (real two-genre mixes) is for the spectrogram family")
        self.imle = cfg.lambdas.get("imle", 0.0) > 0
        if self.imle and cfg.family != "symbolic":
            raise ValueError("lambdas.imle is for the symbolic family (piano-rolls)")
        self.cfg, self.data, self.out, self.progress = cfg, Path(data), Path(out), progress
        self.dist = init_distributed(cfg.device)
        self.device = torch.device(self.dist.device)
        if self.device.type == "cpu" and cfg.threads > 0:
            torch.set_num_threads(cfg.threads)
        self.out.mkdir(parents=True, exist_ok=True)
        from mmgan.style.space import StyleSpace

        self.space = space or StyleSpace.from_pretrained(cfg.style_model)
        cache = self.out / "gan_bank.pt" if self.dist.is_main else None
        self.data_ = load_gan_data(
            self.data,
            self.space,
            captions_per_clip=cfg.captions_per_clip,
            min_frames=cfg.crop_frames,
            seed=cfg.seed,
            cache=cache,
            progress=progress and self.dist.is_main,
            family=cfg.family,
        )
        self.mixes = None
        if cfg.mix_p > 0:
            self.mixes = real_mixes(
                self.data_,
                seed=cfg.seed,
                weight_range=tuple(cfg.mix_weight),
                cache=self.out / "gan_mixes.pt" if self.dist.is_main else None,
                progress=progress and self.dist.is_main,
            )
        torch.manual_seed(cfg.seed)  # identical initial weights on every rank
        g, d = build_models(cfg, self.space.dim)
        g.set_feature_stats(self.data_.mean, self.data_.std)
        if hasattr(d, "front"):  # symbolic: standardise what D sees by the real data's stats
            gen = torch.Generator().manual_seed(cfg.seed + 23)
            idx = torch.randint(0, len(self.data_), (512,), generator=gen)
            d.front.fit_stats(g.normalise(self.data_.crops(idx, cfg.crop_frames, gen)))
        if cfg.init_from and not resume:
            self._init_from(g, cfg.init_from)
        self.g_ema = copy.deepcopy(g).eval().requires_grad_(False).to(self.device)
        self.g, self.d = wrap(g.to(self.device), self.dist), wrap(d.to(self.device), self.dist)
        self.opt_g = torch.optim.Adam(self.g.parameters(), lr=cfg.lr_g, betas=tuple(cfg.betas))
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=cfg.lr_d, betas=tuple(cfg.betas))
        self.encoder = None
        if cfg.lambdas.get("style", 0.0) > 0 or cfg.lambdas.get("div_style", 0.0) > 0:
            self.encoder = self.space.model.to(self.device).eval().requires_grad_(False)
            self.encoder = self.encoder.embed_mel
        self.real_within = self._real_within()  # {genre: distance}
        finite = [v for v in self.real_within.values() if v == v]
        self.div_ref = float(sum(finite) / len(finite)) if finite else 1.0
        self.step = 0
        if resume:
            self._resume()
        elif self.dist.is_main:
            (self.out / "metrics.jsonl").unlink(missing_ok=True)
        if self.dist.is_main:
            save_config(cfg, self.out / "config.yaml")
        self.monitor = Monitor(self) if self.dist.is_main else None
        self._stop = False

    # -- setup ---------------------------------------------------------------------------

    def _real_within(self) -> dict[str, float]:
        """Per genre, the mean L1 between crops of two different clips (normalised units):
        how far apart two real answers to one prompt are. Their mean is the diversity
        target; the monitor compares the EMA generator's spread with each."""
        gen = torch.Generator().manual_seed(self.cfg.seed + 17)
        g = unwrap(self.g)
        out = {}
        for k, genre in enumerate(self.data_.genres):
            idx = torch.nonzero(self.data_.genre == k).flatten()
            if len(idx) < 2:
                continue
            pick = idx[torch.randperm(len(idx), generator=gen)[:16]]
            crops = g.normalise(self.data_.crops(pick, self.cfg.crop_frames, gen).to(self.device))
            out[genre] = within_distance(crops)
        return out

    def _init_from(self, g, folder: str) -> None:
        """Start the generator (and its EMA) from an exported model's weights: fine-tuning a
        shipped model (its exported weights are the EMA generator's; the discriminator and
        the optimisers start fresh). The model must be of this config's family and
        architecture and use this style space; settings that only shape the latents
        (:data:`LATENT_ONLY`: how far apart the time anchors sit) may differ."""
        from mmgan.weights import CheckpointError

        other, config = type(g).from_pretrained(folder)
        mine = {k: v for k, v in g.config.items() if k not in LATENT_ONLY}
        theirs = {k: config.get(k) for k in mine}
        if theirs != mine:
            diff = {k: (theirs[k], mine[k]) for k in mine if theirs[k] != mine[k]}
            raise CheckpointError(
                f"init_from {folder}: its generator differs from this config's "
                f"(key: (model, config)) {diff}"
            )
        if config.get("style_space_id") not in (None, self.space.name):
            raise CheckpointError(
                f"init_from {folder}: trained on style space {config.get('style_space_id')!r}, "
                f"this run uses {self.space.name!r}"
            )
        g.load_state_dict({k: v.float() for k, v in other.state_dict().items()})

    def _resume(self) -> None:
        state = load_state(self.out / STATE_NAME)
        unwrap(self.g).load_state_dict(state["g"])
        unwrap(self.d).load_state_dict(state["d"])
        self.g_ema.load_state_dict(state["g_ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.step = int(state["step"])
        if self.dist.is_main:
            trim_metrics(self.out / "metrics.jsonl", self.step)

    # -- one step --------------------------------------------------------------------------

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor, torch.Generator, dict]:
        """Real crops (normalised), their style vectors, the step's generator, and
        ``{"generic": [B] bool, "style_ref": [B], "genre": [B]}`` (rows conditioned on a bare
        genre name; their genre's real spread in the style embedding; the clips' genres)
        for ``step`` on this rank."""
        cfg, data = self.cfg, self.data_
        gen = step_generator(cfg.seed, step, self.dist.rank)
        idx = torch.randint(0, len(data), (cfg.batch_size,), generator=gen)
        real = unwrap(self.g).normalise(data.crops(idx, cfg.crop_frames, gen).to(self.device))
        k = data.styles.shape[1]
        col = torch.where(
            torch.rand(cfg.batch_size, generator=gen) < cfg.text_prob,
            torch.randint(1, max(2, k), (cfg.batch_size,), generator=gen).clamp(max=k - 1),
            torch.zeros(cfg.batch_size, dtype=torch.long),
        )
        style = data.styles[idx, col]
        generic = torch.zeros(cfg.batch_size, dtype=torch.bool)
        if cfg.genre_prob > 0:
            generic = torch.rand(cfg.batch_size, generator=gen) < cfg.genre_prob
            which = torch.randint(0, data.genre_styles.shape[1], (cfg.batch_size,), generator=gen)
            style = torch.where(generic[:, None], data.genre_styles[data.genre[idx], which], style)
        extra = {
            "generic": generic,
            "style_ref": data.style_within[data.genre[idx]],
            "genre": data.genre[idx],
        }
        if self.mixes is not None:  # some real rows become real mixes with their partner
            mix = torch.rand(cfg.batch_size, generator=gen) < cfg.mix_p
            mix &= self.mixes.partner[idx] >= 0
            rows = torch.nonzero(mix).flatten()
            if len(rows):
                from mmgan.generate.latent import slerp

                crops = data.crops(idx[rows], cfg.crop_frames, gen, feats=self.mixes.feats)
                real[rows] = unwrap(self.g).normalise(crops.to(self.device))
                partner = self.mixes.partner[idx[rows]]
                other = data.styles[partner, col[rows]]  # the partner's style, drawn alike
                if cfg.genre_prob > 0:
                    named = data.genre_styles[data.genre[partner], which[rows]]
                    other = torch.where(generic[rows, None], named, other)
                alpha = 1.0 - self.mixes.weight[idx[rows]][:, None]
                style[rows] = slerp(style[rows], other, alpha)
                generic[rows] = False  # no longer one genre's name
            extra["mixed"] = mix
        return real, style.to(self.device), gen, extra

    def train_step(self, step: int) -> dict[str, float]:
        cfg = self.cfg
        real, style, gen, extra = self.batch(step)
        g_mod = unwrap(self.g)
        steps = cfg.crop_frames // g_mod.upsample
        amp = torch.autocast(self.device.type, torch.bfloat16, enabled=cfg.amp)
        self.g.requires_grad_(False)
        self.d.requires_grad_(True)
        lat = g_mod.sample_latents(cfg.batch_size, steps, generator=gen).to(self.device)
        with amp:
            loss_d, logs = d_step(
                self.d, self.g, real, style, lat, cfg, gen, r1=step % cfg.r1_every == 0
            )
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        real_mixed = extra.pop("mixed", None)
        if real_mixed is not None:
            logs["data/mixed"] = real_mixed.float().mean().item()
        if step < cfg.d_warmup:  # a fresh discriminator catches up before it steers G
            return {**logs, "data/d_warmup": 1.0}
        self.g.requires_grad_(True)
        self.d.requires_grad_(False)
        lat = g_mod.sample_latents(cfg.batch_size, steps, generator=gen).to(self.device)
        if self.imle:
            n_real = min(cfg.imle_batch, cfg.batch_size)
            extra.update(real=real[:n_real], real_style=style[:n_real])
        genre = extra.pop("genre")
        if cfg.hybrid_prob > 0:
            n = min(cfg.style_batch // 2, cfg.batch_size // 2)
            style, mixed = hybrid_rows(style, genre, cfg.hybrid_prob, n, gen)
            extra["generic"] = extra["generic"] & ~mixed.cpu()
        with amp:
            loss_g, logs_g = g_step(
                self.d,
                self.g,
                style,
                lat,
                cfg,
                gen,
                div_ref=self.div_ref,
                encoder=self.encoder,
                **extra,
            )
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        ema_update(self.g_ema, g_mod, step, cfg.ema_decay)
        return {**logs, **logs_g}

    # -- files -------------------------------------------------------------------------------

    def export_config(self) -> dict[str, Any]:
        """What the exported model needs besides its constructor arguments."""
        from mmgan.audio.features import DEFAULT_MEL

        extra = {}
        if self.cfg.family == "symbolic":
            layout = unwrap(self.g).layout
            extra = {
                "family": "symbolic",
                "tempo_head": self.data_.tempo_head(),
                "share_head": self.share_head.to_config(),
                "rest_head": self.data_.rest_head(layout, playing_only=True).to_config(),
                "voice_head": self.data_.voice_head(layout).to_config(),
                "figure_head": self.data_.figure_head(layout).to_config(),
                "key_head": self.data_.key_head(layout).to_config(),
                **self.groove_config(),
            }
            absent = self.generator_absence({**extra, "genres": self.data_.genres})
            extra["presence_head"] = self.data_.presence_head(layout, absent).to_config()
        if self.cfg.init_from:  # provenance of a fine-tune: where it started, and how far in
            start = Path(self.cfg.init_from) / "config.json"
            before = json.loads(start.read_text()).get("trained_steps") if start.is_file() else None
            extra.update(init_from=self.cfg.init_from, init_trained_steps=before)
        return {
            **extra,
            "style_space_id": self.space.name,
            "style_model": self.cfg.style_model,
            "sample_rate": DEFAULT_MEL.sr,
            "n_fft": DEFAULT_MEL.n_fft,
            "hop_length": DEFAULT_MEL.hop_length,
            "crop_frames": self.cfg.crop_frames,
            "genres": self.data_.genres,
            "trained_steps": self.step,
        }

    @torch.no_grad()
    def generator_absence(self, config: dict[str, Any], n: int = 32):
        """Symbolic family, ``[G, tracks]``: per training genre, the share of ``n`` pieces
        for "a <genre> track" (the EMA generator, its own seeds, as long as the corpus's
        clips at the tempo head's tempo) in which a track plays nothing when decoded as the
        pipeline decodes with ``config``'s heads (no presence head), for the presence head."""
        import numpy as np

        from mmgan.generate.symbolic_pipeline import SymbolicPipeline
        from mmgan.models.pianoroll import STEPS_PER_BEAT

        pipe = SymbolicPipeline(copy.deepcopy(self.g_ema).cpu(), self.space, config, "export")
        data, layout = self.data_, pipe.g.layout
        seconds = (data.clip_steps.double() / STEPS_PER_BEAT * 60.0 / data.bpm.double()).median()
        text = self.space.encode_text([f"a {x} track" for x in data.genres]).cpu()
        out = []
        for k, style in enumerate(text):
            steps = pipe.beats_for(float(seconds), pipe.tempo(style))
            batch = style[None].expand(n, -1)
            rows = pipe.features(batch, seed=ABSENCE_SEED + k, steps=steps).numpy() > 0.5
            out.append(
                [(~rows[:, layout.slices[t]].any(axis=(1, 2))).mean() for t in layout.tracks]
            )
        return np.asarray(out, dtype=np.float64)

    @cached_property
    def share_head(self):
        """Symbolic family: the :class:`~mmgan.generate.symbolic.ShareHead` of the training
        data, fitted once (the data do not change within a run); written at every export and
        used to decode the monitor's samples."""
        return self.data_.share_head(unwrap(self.g).layout)

    def groove_config(self) -> dict[str, Any]:
        """``{"groove_head": ...}`` of the training data, or ``{}`` when no clip has drums."""
        head = self.data_.groove_head(unwrap(self.g).layout)
        return {"groove_head": head.to_config()} if head is not None else {}

    def checkpoint(self) -> None:
        if not self.dist.is_main:
            return
        state = {
            "step": self.step,
            "g": unwrap(self.g).state_dict(),
            "d": unwrap(self.d).state_dict(),
            "g_ema": self.g_ema.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "config": json.dumps(to_dict(self.cfg)),
        }
        save_state(self.out / STATE_NAME, state)
        dtype = {"float16": torch.float16, "float32": torch.float32}[self.cfg.export_dtype]
        self.g_ema.save_pretrained(self.out / "model", extra=self.export_config(), dtype=dtype)

    def _on_signal(self) -> None:
        self._stop = True

    # -- loop ----------------------------------------------------------------------------------

    def fit(self, stop_at: int | None = None) -> dict[str, Any]:
        """Train to ``cfg.steps`` from the resumed step; SIGINT/SIGTERM checkpoint and stop.

        ``stop_at`` ends early after that step, as a killed run would.
        """
        from tqdm.auto import tqdm

        cfg, t0, last = self.cfg, time.time(), {}
        bar = tqdm(
            total=cfg.steps,
            initial=self.step,
            desc="train gan",
            disable=not (self.progress and self.dist.is_main),
        )
        with stop_on_signals(self._on_signal):
            try:
                while self.step < cfg.steps and not self._stop:
                    if stop_at is not None and self.step >= stop_at:
                        break
                    last = self.train_step(self.step)
                    self.step += 1
                    if self.monitor is not None:
                        self.monitor.after_step(self.step, last)
                    if cfg.ckpt_every and self.step % cfg.ckpt_every == 0:
                        self.checkpoint()
                    bar.set_postfix(d=f"{last['d/loss']:.2f}", g=f"{last.get('g/adv', 0.0):.2f}")
                    bar.update(1)
            finally:
                bar.close()
        self.checkpoint()
        summary = {
            "step": self.step,
            "seconds": round(time.time() - t0, 1),
            "interrupted": self._stop,
            **(self.monitor.final() if self.monitor is not None else {}),
        }
        if self.dist.is_main:
            atomic_write_text(self.out / "summary.json", json.dumps(summary, indent=2) + "\n")
            self.monitor.close()
        shutdown(self.dist)
        return summary
