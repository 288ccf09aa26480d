"""Conditional GAN training (:mod:`mmgan.models.specgan`): one trainer, explicit steps.

Each step reads top to bottom:

1. **discriminator**: hinge loss on real crops vs generated ones, plus the matching-aware
   term (real audio with a *mismatched* style counts as fake), both through the same
   spectrogram augmentation (:func:`augment`); every ``r1_every`` steps a lazy R1 penalty.
2. **generator**: adversarial hinge term; a diversity term (pairs share a style, differ in
   noise; their distance is pushed up to the real within-genre distance, then no further —
   mode-seeking against conditional collapse); optionally a style-consistency term through
   the frozen style-space audio encoder. Then the EMA generator is updated (warm-up).

Loss terms are namespaced (``d/real``, ``g/adv``, ``g/div``, ``g/style``, ``r1``) and
weighted by ``cfg.lambdas``. Every random draw of step ``t`` comes from a generator seeded
by ``(seed, t, rank)``, so a resumed run repeats an uninterrupted one exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from mmgan.config import to_dict
from mmgan.models.pianoroll import PianoLatents
from mmgan.models.specgan import SpecDiscriminator, SpecGenerator
from mmgan.training.distributed import unwrap

__all__ = [
    "DiscriminatorConfig",
    "GANTrainConfig",
    "GeneratorConfig",
    "PianoGeneratorConfig",
    "augment",
    "build_models",
    "d_step",
    "g_step",
    "step_generator",
]


@dataclass
class GeneratorConfig:
    """Constructor arguments of :class:`SpecGenerator` (``style_dim`` comes from the space)."""

    z_global: int = 32
    z_local: int = 32
    z_every: int = 8
    w_dim: int = 256
    mapping_layers: int = 3
    channels: list[int] = field(default_factory=lambda: [384, 256, 192, 128])
    latent_interp: str = "linear"  # or "vp": unit variance between anchors (coordinate_latent)


@dataclass
class PianoGeneratorConfig:
    """Constructor arguments of :class:`~mmgan.models.pianoroll.PianoRollGenerator`."""

    z_shared: int = 32
    z_shared_local: int = 32
    z_private: int = 16
    z_private_local: int = 16
    z_every: int = 4  # beats between time-dependent latent anchors (a bar of 4/4)
    w_dim: int = 256
    mapping_layers: int = 3
    channels: list[int] = field(default_factory=lambda: [256, 192])
    track_channels: int = 96
    binarize: bool = True


@dataclass
class DiscriminatorConfig:
    channels: list[int] = field(default_factory=lambda: [256, 256, 384, 512])
    mbstd_group: int = 4


# every loss term d_step / g_step read from ``lambdas`` (a name not here is a typo)
LOSS_TERMS = ("adv", "match", "r1", "div", "style", "div_style", "imle")


def _default_lambdas() -> dict[str, float]:
    return {"adv": 1.0, "match": 0.5, "r1": 1.0, "div": 1.0, "style": 0.0}


@dataclass
class GANTrainConfig:
    """Run settings; the networks' own arguments live in ``generator``/``discriminator``."""

    family: str = "spectrogram"  # or "symbolic": multi-track piano-rolls (mmgan.models.pianoroll)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    piano: PianoGeneratorConfig = field(default_factory=PianoGeneratorConfig)  # symbolic only
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    style_model: str = "default"  # StyleSpace.from_pretrained name or folder
    steps: int = 4000
    batch_size: int = 32  # per process
    crop_frames: int = 256  # 2.97 s at 22.05 kHz / hop 256; a multiple of 8
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: list[float] = field(default_factory=lambda: [0.0, 0.99])
    lambdas: dict[str, float] = field(default_factory=_default_lambdas)
    r1_every: int = 16
    ema_decay: float = 0.999
    augment_p: float = 0.5
    imle_batch: int = 16  # symbolic IMLE (lambdas.imle): real crops matched per step
    imle_candidates: int = 8  # symbolic IMLE: prior draws searched per real crop
    imle_refine: int = 0  # symbolic IMLE: gradient steps on the nearest draw's anchors
    imle_refine_lr: float = 0.1  # their Adam learning rate (anchors keep their norm)
    imle_refine_noise: bool = False  # refine the per-step noise too (each channel keeps its norm)
    init_from: str = ""  # a model folder whose generator weights start the run (fine-tuning)
    d_warmup: int = 0  # first steps train D alone (G and its EMA frozen): a fresh D for init_from
    note_weight: float = 4.0  # IMLE's cross-entropy: a missed note costs this many silent cells
    text_prob: float = 0.5  # chance a clip is conditioned on a caption, else its own audio
    genre_prob: float = 0.0  # chance it is conditioned on its genre's name alone instead
    hybrid_prob: float = 0.0  # chance an encoder-checked G row gets a two-genre slerp style
    mix_p: float = 0.0  # chance a real row is a real two-genre mix with its slerp style
    mix_weight: list[float] = field(default_factory=lambda: [0.25, 0.75])  # its clip's share
    roll_features: bool = True  # symbolic: D also sees chroma / onset views (RollFeatures)
    captions_per_clip: int = 8
    style_batch: int = 8  # generated crops a step through the style encoder (pairs: half)
    seed: int = 0
    device: str = "cpu"
    threads: int = 2
    amp: bool = False  # mixed precision (bfloat16 autocast) on CUDA
    log_every: int = 10
    eval_every: int = 250
    sample_every: int = 500
    ckpt_every: int = 250
    export_dtype: str = "float16"


def build_models(cfg: GANTrainConfig, style_dim: int) -> tuple[SpecGenerator, SpecDiscriminator]:
    """The one place a config becomes networks (either family; the discriminator is the same
    1-D convolution over time with the generator's rows as channels)."""
    if cfg.family == "symbolic":
        from mmgan.models.pianoroll import PianoRollGenerator

        g = PianoRollGenerator(style_dim=style_dim, **to_dict(cfg.piano))
    elif cfg.family == "spectrogram":
        g = SpecGenerator(style_dim=style_dim, **to_dict(cfg.generator))
    else:
        raise ValueError(f"family must be 'spectrogram' or 'symbolic', got {cfg.family!r}")
    if cfg.family == "symbolic" and cfg.roll_features:
        from mmgan.models.pianoroll import RollFeatures

        front = RollFeatures(g.layout)
        d = SpecDiscriminator(
            style_dim=style_dim, rows=front.out_rows, **to_dict(cfg.discriminator)
        )
        d = _WithFront(front, d)
    else:
        d = SpecDiscriminator(style_dim=style_dim, rows=g.rows, **to_dict(cfg.discriminator))
    return g, d


class _WithFront(torch.nn.Module):
    """A discriminator behind a fixed feature front-end (``RollFeatures`` for piano-rolls)."""

    def __init__(self, front: torch.nn.Module, d: SpecDiscriminator) -> None:
        super().__init__()
        self.front, self.d = front, d

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.d(self.front(x), style)


def step_generator(seed: int, step: int, rank: int = 0) -> torch.Generator:
    state = np.random.SeedSequence([int(seed), int(step), int(rank), 71]).generate_state(2)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


# ------------------------------------------------------------------------ augmentation


def augment(x: torch.Tensor, p: float, g: torch.Generator, n_mels: int = 80) -> torch.Tensor:
    """Differentiable spectrogram augmentation (DiffAugment for features ``[B, rows, T]``,
    normalised units), each op applied to a sample with probability ``p``:

    - circular time shift by up to T/4 (the discriminator must not learn where a crop
      starts);
    - gain: the log-mel rows move by one common offset in [-0.5, 0.5] (chroma is
      gain-free);
    - time mask: one span of up to T/8 frames set to 0 (the row mean);
    - frequency mask: one band of up to 8 mel rows set to 0.
    """
    if p <= 0:
        return x
    b, rows, t = x.shape
    dev = x.device

    def chosen() -> torch.Tensor:
        return (torch.rand(b, generator=g) < p).to(dev)

    shift = torch.randint(-(t // 4), t // 4 + 1, (b,), generator=g)
    use = chosen().cpu()
    idx = (torch.arange(t)[None] - (shift * use)[:, None]) % t  # [B, T]
    x = torch.gather(x, 2, idx.to(dev)[:, None].expand(b, rows, t))
    gain = ((torch.rand(b, generator=g) - 0.5).to(dev) * chosen())[:, None, None]
    row_is_mel = (torch.arange(rows, device=dev) < n_mels).float()[None, :, None]
    x = x + gain * row_is_mel
    keep = torch.ones(b, rows, t, device=dev)
    w = torch.randint(1, max(2, t // 8), (b,), generator=g)
    s = (torch.rand(b, generator=g) * (t - w)).long()
    tmask = (torch.arange(t)[None] >= s[:, None]) & (torch.arange(t)[None] < (s + w)[:, None])
    keep = keep * (1 - (tmask & chosen().cpu()[:, None]).float().to(dev))[:, None, :]
    fw = torch.randint(1, 9, (b,), generator=g)
    fs = (torch.rand(b, generator=g) * (n_mels - fw)).long()
    ar = torch.arange(rows)[None]
    fmask = (ar >= fs[:, None]) & (ar < (fs + fw)[:, None]) & chosen().cpu()[:, None]
    keep = keep * (1 - fmask.float().to(dev))[:, :, None]
    return x * keep


# ------------------------------------------------------------------------------- steps


def d_step(
    d, g, real: torch.Tensor, style: torch.Tensor, lat, cfg: GANTrainConfig, gen, *, r1: bool
) -> tuple[torch.Tensor, dict[str, float]]:
    """Discriminator loss of one batch (``real`` normalised ``[B, rows, T]``)."""
    lam, p = cfg.lambdas, cfg.augment_p
    with torch.no_grad():
        fake = g(style, lat)
    mismatched = style.roll(
        1 + int(torch.randint(0, max(1, len(style) - 1), (1,), generator=gen)), 0
    )
    x = torch.cat([augment(real, p, gen), augment(fake, p, gen), augment(real, p, gen)])
    out = d(x, torch.cat([style, style, mismatched]))
    o_real, o_fake, o_mis = out.chunk(3)
    l_real, l_fake = F.relu(1 - o_real).mean(), F.relu(1 + o_fake).mean()
    l_mis = F.relu(1 + o_mis).mean()
    loss = l_real + l_fake + lam.get("match", 0.0) * l_mis
    logs = {
        "d/real": l_real.item(),
        "d/fake": l_fake.item(),
        "d/match": l_mis.item(),
        "d/acc": ((o_real > 0).float().mean() + (o_fake < 0).float().mean()).item() / 2,
    }
    if r1 and lam.get("r1", 0.0) > 0:
        real = real.detach().requires_grad_(True)
        # R1 on each clip's score (the mean of its patch logits), as the losses see it
        (grad,) = torch.autograd.grad(d(real, style).mean(dim=1).sum(), real, create_graph=True)
        penalty = grad.pow(2).sum(dim=(1, 2)).mean()
        loss = loss + 0.5 * lam["r1"] * cfg.r1_every * penalty
        logs["r1"] = penalty.item()
    logs["d/loss"] = loss.item()
    return loss, logs


def g_step(
    d,
    g,
    style: torch.Tensor,
    lat,
    cfg: GANTrainConfig,
    gen,
    *,
    div_ref: float,
    encoder=None,
    generic: torch.Tensor | None = None,
    style_ref: torch.Tensor | None = None,
    real: torch.Tensor | None = None,
    real_style: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Generator loss; rows ``i`` and ``i + B/2`` share a style (``style``'s first half).

    ``generic [B]`` marks rows conditioned on a bare genre name and ``style_ref [B]`` the
    real within-genre spread of their genre in the style encoder's embedding; with
    ``lambdas["div_style"]`` such pairs are pushed apart in that embedding up to it (what a
    listener, and ``mmgan eval``, counts as variety: other keys, tempi, instruments, not
    only other noise).

    ``real [n, R, T]`` with ``real_style [n, D]`` (symbolic, ``lambdas["imle"]``): the IMLE
    term (:func:`imle_latents`), its rows generated after the batch in the same pass.
    """
    lam, half = cfg.lambdas, len(style) // 2
    style = torch.cat([style[:half], style[:half], style[2 * half :]])
    logs: dict[str, float] = {}
    loss = torch.zeros((), device=style.device)
    if real is not None:  # symbolic IMLE: its rows after the batch
        near = imle_latents(unwrap(g), real, real_style, cfg, gen)
        out = g(torch.cat([style, real_style]), PianoLatents.cat([lat, near]), logit_rows=len(real))
        fake, close = out[: len(style)], out[len(style) :]
        l_imle, imle_logs = imle_loss(close, unwrap(g).last_logits, real, cfg)
        loss = loss + lam.get("imle", 0.0) * l_imle
        logs.update(imle_logs)
    else:
        fake = g(style, lat)
    adv = -d(augment(fake, cfg.augment_p, gen), style).mean()
    loss = loss + lam.get("adv", 1.0) * adv
    logs["g/adv"] = adv.item()
    dist = (fake[:half] - fake[half : 2 * half]).abs().mean(dim=(1, 2))  # [B/2]
    ratio = dist / div_ref
    logs["g/div_ratio"] = ratio.mean().item()
    if lam.get("div", 0.0) > 0:
        l_div = -ratio.clamp(max=1.0).mean()
        loss = loss + lam["div"] * l_div
        logs["g/div"] = l_div.item()
    want_div = lam.get("div_style", 0.0) > 0 and generic is not None and style_ref is not None
    if encoder is not None and (lam.get("style", 0.0) > 0 or want_div):
        n = max(1, min(cfg.style_batch // 2, half))  # n pairs: rows 0..n-1 and half..half+n-1
        rows = torch.cat([torch.arange(n), half + torch.arange(n)]).to(fake.device)
        emb = F.normalize(encoder(unwrap(g).denormalise(fake[rows])[:, None]), dim=-1)
        if lam.get("style", 0.0) > 0:
            l_style = (1 - (emb * style[rows]).sum(-1)).mean()
            loss = loss + lam["style"] * l_style
            logs["g/style"] = l_style.item()
        mask = generic[:n].to(fake.device) if want_div else None
        if mask is not None and mask.any():
            spread = 1 - (emb[:n] * emb[n:]).sum(-1)  # [n] cosine distance within each pair
            ratio_s = (spread / style_ref[:n].to(fake.device).clamp(min=1e-6))[mask]
            l_div_s = -ratio_s.clamp(max=1.0).mean()
            loss = loss + lam["div_style"] * l_div_s
            logs["g/div_style"] = l_div_s.item()
    logs["g/loss"] = loss.item()
    return loss, logs


def _note_bce(logits: torch.Tensor, real: torch.Tensor, cfg, reduce: bool = True):
    weight = torch.tensor(cfg.note_weight, device=logits.device)
    on = (real > 0).float()
    if reduce:
        return F.binary_cross_entropy_with_logits(logits, on, pos_weight=weight)
    out = F.binary_cross_entropy_with_logits(logits, on, pos_weight=weight, reduction="none")
    return out.mean(dim=(1, 2))


@torch.no_grad()
def imle_latents(g, real: torch.Tensor, style: torch.Tensor, cfg, gen) -> PianoLatents:
    """Implicit maximum likelihood (Li & Malik 2018): for each real roll, the latents whose
    generated roll (same style) is nearest to it — by the note cross-entropy — among
    ``cfg.imle_candidates`` prior draws. Pulling those toward the real rolls gives every real
    roll a nearby sample (no mode is dropped) and the generator a dense signal of where
    notes go, which the discriminator's alone did not give it here. With
    ``cfg.imle_refine`` the picked latents' anchors are then refined (:func:`refine_anchors`)."""
    n, m = len(real), cfg.imle_candidates
    lat = g.sample_latents(n * m, real.shape[-1] // g.upsample, generator=gen).to(real.device)
    logits = g.logits(style.repeat_interleave(m, 0), lat)
    cost = _note_bce(logits, real.repeat_interleave(m, 0), cfg, reduce=False).view(n, m)
    near = lat.index(torch.arange(n, device=cost.device) * m + cost.argmin(dim=1))
    return refine_anchors(g, near, real, style, cfg) if cfg.imle_refine > 0 else near


def refine_anchors(g, lat: PianoLatents, real: torch.Tensor, style: torch.Tensor, cfg):
    """``cfg.imle_refine`` Adam steps on the *time-dependent* anchors (shared and private)
    of the nearest draws, toward their real rolls by the same note cross-entropy; after each
    step every anchor vector is put back on its own norm, so the refined latents stay where
    the prior puts its mass (a Gaussian vector's norm is ~sqrt(dim)) and only their
    directions move.

    Why: the nearest of a few dozen draws matches a real crop's groove and register but not
    its bar-to-bar changes (chords, where the lead rests), so pulling the generator toward
    the crop from that draw teaches it the *average* over those changes: measured on the
    shipped v2, its note probabilities were stationary in time (no chord change, a lead
    that never rests a whole bar). Refined anchors differ from bar to bar in the direction
    the crop's bars differ, so the pull teaches the generator to follow its anchors."""
    time_free = (lat.z_shared, lat.z_private)
    anchors = [lat.anchors_shared.detach().clone(), lat.anchors_private.detach().clone()]
    noise = [n.detach().clone() for n in lat.noise]
    moved = anchors + (noise if cfg.imle_refine_noise else [])
    # per anchor vector (over its dimensions); per noise channel (over its steps)
    dims = [-2] * len(anchors) + [-1] * (len(moved) - len(anchors))
    norms = [a.norm(dim=d, keepdim=True) for a, d in zip(moved, dims, strict=True)]
    opt = torch.optim.Adam([a.requires_grad_(True) for a in moved], lr=cfg.imle_refine_lr)
    with torch.enable_grad():
        for _ in range(cfg.imle_refine):
            trial = PianoLatents(
                time_free[0], anchors[0], time_free[1], anchors[1], noise, lat.steps
            )
            loss = _note_bce(g.logits(style, trial), real, cfg)
            for a, grad in zip(moved, torch.autograd.grad(loss, moved), strict=True):
                a.grad = grad
            opt.step()
            with torch.no_grad():
                for a, r, d in zip(moved, norms, dims, strict=True):
                    a.mul_(r / a.norm(dim=d, keepdim=True).clamp(min=1e-8))
    return PianoLatents(
        time_free[0],
        anchors[0].detach(),
        time_free[1],
        anchors[1].detach(),
        [n.detach() for n in noise],
        lat.steps,
    )


def imle_loss(close: torch.Tensor, logits: torch.Tensor, real: torch.Tensor, cfg):
    """The IMLE term: note cross-entropy of the nearest samples' logits to their real rolls
    (notes weighted ``cfg.note_weight``), and their recall / precision for the log."""
    l_imle = _note_bce(logits, real, cfg)
    on, played = (real > 0).float(), (close > 0).float()
    hit = (played * on).sum()
    return l_imle, {
        "g/imle": l_imle.item(),
        "g/recall": (hit / on.sum().clamp(min=1)).item(),
        "g/precision": (hit / played.sum().clamp(min=1)).item(),
    }


@torch.no_grad()
def hybrid_rows(
    style: torch.Tensor, genre: torch.Tensor, prob: float, n: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Training-time hybrids for the generator step: each of rows ``0..n-1`` (the pairs the
    style encoder checks) becomes, with chance ``prob``, ``slerp(own, other, alpha)`` with
    another row of a different genre at ``alpha ~ U(0.25, 0.75)``. No real clip answers such
    a style, so only the style-consistency loss says what it should sound like: in between,
    as the style encoder hears it (the discriminator still asks for realism). Returns the
    styles and the ``[B]`` mask of mixed rows."""
    from mmgan.generate.latent import slerp

    b = len(style)
    pick = torch.rand(b, generator=gen) < prob
    partner = torch.randint(0, b, (b,), generator=gen)
    alpha = 0.25 + 0.5 * torch.rand(b, 1, generator=gen)
    pick[n:] = False
    pick &= genre.cpu() != genre.cpu()[partner]
    pick = pick.to(style.device)
    mixed = slerp(style, style[partner.to(style.device)], alpha.to(style.device))
    return torch.where(pick[:, None], mixed, style), pick


@torch.no_grad()
def ema_update(ema: SpecGenerator, g: SpecGenerator, step: int, decay: float) -> None:
    """EMA with warm-up: ``beta = min(decay, (1 + step) / (10 + step))``."""
    beta = min(decay, (1 + step) / (10 + step))
    for pe, p in zip(ema.parameters(), g.parameters(), strict=True):
        pe.lerp_(p, 1 - beta)
    for be, b in zip(ema.buffers(), g.buffers(), strict=True):
        be.copy_(b)


def within_distance(x: torch.Tensor) -> float:
    """Mean L1 distance (per row and frame) over all pairs of ``x [n, rows, T]``."""
    n = len(x)
    if n < 2:
        return math.nan
    flat = x.reshape(n, -1)
    return float(torch.cdist(flat, flat, p=1).sum() / (n * (n - 1) * flat.shape[1]))
