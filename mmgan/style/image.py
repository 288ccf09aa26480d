"""Picture -> a weighted mix of musical descriptors (the image path of the style space).

:func:`image_descriptor_weights` returns ``({descriptor: weight}, info)`` with the weights of
the top few descriptors summing to 1; the style space embeds the mix as the weighted sum of the
descriptors' text embeddings. ``info["path"]`` says which of two paths produced it:

**"open_clip"** (when a CLIP model is given, see :func:`mmgan.style.openclip.load_open_clip`): the
CLIP image embedding is scored against every descriptor, each described by the prompts
``"music that sounds {d}"`` and ``"{d} music"`` (embeddings averaged); a softmax at CLIP's own
temperature gives probabilities and the top ``k`` are renormalised.

**"fallback"** (no CLIP weights): colour and texture statistics of the picture (analysed at
<= 256 px), each in [0, 1]:

=============  ==========================================================================
brightness B   mean luma (Rec. 601)
saturation S   mean HSV saturation, near-black pixels (value < 0.1) counted as grey
warmth W       0.5 + 2 * mean(R - B), clipped: 0 = blue cast, 0.5 = neutral, 1 = red cast
contrast C     RMS contrast (std of luma) / 0.3, clipped
edges E        fraction of pixels with luma gradient > 0.1, / 0.25, clipped
hues           share of the picture in each named hue (pixels with S > 0.25, value > 0.2)
=============  ==========================================================================

Arousal A = 0.35 S + 0.35 C + 0.3 E. Each descriptor scores the geometric mean ("and") of its
rule's terms (table ``MOOD_RULES``; e.g. melancholic = (1-B) and (1-S), uplifting = B and S,
calm = 1-A, aggressive = A and (1-B) and W), plus 0.3 x the share of its hues (``HUE_MOODS``:
red -> aggressive/energetic/tense, orange/yellow -> warm/joyful/uplifting, green ->
relaxed/calm, cyan/blue -> calm/melancholic/dreamy, purple/magenta -> mysterious/dreamy/
ethereal). Energy: low = 1-A, high = A, medium = 1-|2A-1|; texture: sparse = 1-E, dense = E,
medium = 1-|2E-1|. The mix takes up to 3 moods, 1 energy and 1 texture (``k`` = 5 in all),
weights proportional to score. So a dark, desaturated picture reads as dark / melancholic /
calm / low energy, and a bright, saturated, high-contrast one as bright / uplifting / energetic
/ high energy. Only names present in ``descriptors`` are emitted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from mmgan.data.composers.base import ENERGIES, TEXTURES
from mmgan.data.tags import MOODS
from mmgan.style.imageio import ImageError, load_image
from mmgan.style.openclip import OpenClip, load_open_clip

__all__ = [
    "ImageError",
    "ImageStats",
    "image_statistics",
    "fallback_scores",
    "image_descriptor_weights",
    "PROMPT_TEMPLATES",
]

PROMPT_TEMPLATES = ("music that sounds {}", "{} music")
ANALYSIS_SIDE = 256
# Hue name -> (start, end) in degrees; red wraps around 0.
HUES = {
    "red": (345, 15),
    "orange": (15, 45),
    "yellow": (45, 70),
    "green": (70, 165),
    "cyan": (165, 200),
    "blue": (200, 260),
    "purple": (260, 300),
    "magenta": (300, 345),
}
HUE_MOODS = {
    "red": ("aggressive", "energetic", "tense"),
    "orange": ("warm", "joyful", "uplifting"),
    "yellow": ("warm", "joyful", "uplifting"),
    "green": ("relaxed", "calm"),
    "cyan": ("calm", "melancholic", "dreamy"),
    "blue": ("calm", "melancholic", "dreamy"),
    "purple": ("mysterious", "dreamy", "ethereal"),
    "magenta": ("mysterious", "dreamy", "ethereal"),
}


@dataclass(frozen=True)
class ImageStats:
    """Colour and texture statistics of a picture; every field but ``hues`` is in [0, 1]."""

    brightness: float
    saturation: float
    warmth: float
    contrast: float
    edge_density: float
    hues: tuple[tuple[str, float], ...]  # dominant hues, largest share first

    @property
    def arousal(self) -> float:
        return 0.35 * self.saturation + 0.35 * self.contrast + 0.3 * self.edge_density


# Mood -> the terms combined with a geometric mean (each a function of the stats).
_Term = Callable[[ImageStats], float]
MOOD_RULES: dict[str, tuple[_Term, ...]] = {
    "dark": (lambda s: 1 - s.brightness,),
    "bright": (lambda s: s.brightness,),
    "melancholic": (lambda s: 1 - s.brightness, lambda s: 1 - s.saturation),
    "uplifting": (lambda s: s.brightness, lambda s: s.saturation),
    "aggressive": (lambda s: s.arousal, lambda s: 1 - s.brightness, lambda s: s.warmth),
    "calm": (lambda s: 1 - s.arousal,),
    "dreamy": (lambda s: s.brightness, lambda s: 1 - s.contrast, lambda s: 1 - s.edge_density),
    "playful": (lambda s: s.saturation, lambda s: s.edge_density, lambda s: s.brightness),
    "tense": (lambda s: s.contrast, lambda s: 1 - s.brightness),
    "epic": (lambda s: s.contrast, lambda s: s.arousal),
    "warm": (lambda s: s.warmth, lambda s: s.saturation),
    "mysterious": (lambda s: 1 - s.brightness, lambda s: 1 - s.warmth),
    "nostalgic": (
        lambda s: s.warmth,
        lambda s: 1 - s.saturation,
        lambda s: 1 - abs(2 * s.brightness - 1),
    ),
    "hypnotic": (lambda s: s.saturation, lambda s: 1 - s.warmth, lambda s: s.edge_density),
    "energetic": (lambda s: s.arousal,),
    "relaxed": (lambda s: 1 - s.arousal, lambda s: s.brightness),
    "majestic": (lambda s: s.contrast, lambda s: 1 - s.edge_density),
    "gritty": (lambda s: s.edge_density, lambda s: 1 - s.saturation),
    "ethereal": (lambda s: s.brightness, lambda s: 1 - s.saturation, lambda s: 1 - s.edge_density),
    "joyful": (lambda s: s.brightness, lambda s: s.saturation, lambda s: s.warmth),
}
MAX_MOODS, MAX_ENERGY, MAX_TEXTURE = 3, 1, 1


def image_statistics(image: Any) -> ImageStats:
    """Measure brightness, saturation, warmth, contrast, edge density and dominant hues.

    Args:
        image: anything :func:`mmgan.style.imageio.load_image` accepts.
    """
    rgb = load_image(image, max_side=ANALYSIS_SIDE)
    px = np.asarray(rgb, dtype=np.float32) / 255.0  # [H, W, 3]
    r, g, b = px[..., 0], px[..., 1], px[..., 2]
    luma = 0.299 * r + 0.587 * g + 0.114 * b
    value = px.max(axis=-1)
    chroma = value - px.min(axis=-1)
    sat = np.where(value >= 0.1, chroma / np.maximum(value, 1e-6), 0.0)
    grad = np.zeros_like(luma)
    if luma.shape[1] > 1:
        grad[:, :-1] += np.abs(np.diff(luma, axis=1))
    if luma.shape[0] > 1:
        grad[:-1, :] += np.abs(np.diff(luma, axis=0))
    return ImageStats(
        brightness=float(luma.mean()),
        saturation=float(sat.mean()),
        warmth=_clip01(0.5 + 2.0 * float((r - b).mean())),
        contrast=_clip01(float(luma.std()) / 0.3),
        edge_density=_clip01(float((grad > 0.1).mean()) / 0.25),
        hues=_dominant_hues(px, value, chroma, sat),
    )


def fallback_scores(stats: ImageStats) -> dict[str, float]:
    """Score in [0, 1] of every mood, energy and texture tag under the documented rules."""
    scores = {mood: _geomean([term(stats) for term in terms]) for mood, terms in MOOD_RULES.items()}
    for hue, share in stats.hues:
        for mood in HUE_MOODS[hue]:
            scores[mood] = min(1.0, scores[mood] + 0.3 * share)
    a, e = stats.arousal, stats.edge_density
    levels = {"low": 1 - a, "medium": 1 - abs(2 * a - 1), "high": a}
    scores.update({f"{name} energy": levels[name] for name in ENERGIES})
    levels = {"sparse": 1 - e, "medium": 1 - abs(2 * e - 1), "dense": e}
    scores.update({f"{name} texture": levels[name] for name in TEXTURES})
    return {name: round(float(v), 6) for name, v in scores.items()}


def image_descriptor_weights(
    image: Any,
    descriptors: Sequence[str],
    clip: OpenClip | str | None = None,
    k: int = 5,
) -> tuple[dict[str, float], dict[str, Any]]:
    """A weighted descriptor mix for a picture.

    Args:
        image: a path, bytes, ``PIL.Image`` or array (see :func:`load_image`).
        descriptors: candidate descriptor names (the style space's vocabulary).
        clip: an :class:`OpenClip` (or a spec for :func:`load_open_clip`) to use CLIP
            zero-shot scoring; ``None`` uses the colour/texture fallback.
        k: how many descriptors the mix keeps.

    Returns:
        ``(weights, info)``: ``weights`` maps up to ``k`` names from ``descriptors`` to
        positive floats summing to 1, largest first; ``info`` holds ``"path"`` ("open_clip"
        or "fallback"), ``"model"`` (the CLIP id or None), ``"stats"`` (the measured
        statistics), ``"scores"`` (score of each candidate considered) and ``"size"``.

    Raises:
        ImageError: the picture cannot be read; ValueError: bad ``descriptors`` or ``k``.
    """
    names = _check_descriptors(descriptors)
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    rgb = load_image(image)
    stats = image_statistics(rgb)
    info: dict[str, Any] = {"stats": asdict(stats) | {"arousal": stats.arousal}, "size": rgb.size}
    if clip is not None:
        clip = load_open_clip(clip) if isinstance(clip, str) else clip
        scores = _clip_scores(clip, rgb, names)
        top = sorted(scores, key=scores.__getitem__, reverse=True)[:k]
        info.update(path="open_clip", model=clip.id, scores=scores)
    else:
        all_scores = fallback_scores(stats)
        scores = {n: all_scores[n] for n in names if n in all_scores}
        if not scores:
            raise ValueError(
                "none of the descriptors is a mood, energy or texture tag the colour fallback "
                f"can score (e.g. {MOODS[:3]}, 'low energy', 'dense texture'); pass the style "
                "space's vocabulary, or a CLIP model"
            )
        top = _pick_grouped(scores, k)
        info.update(path="fallback", model=None, scores=scores)
    total = sum(max(scores[n], 1e-6) for n in top)
    weights = {n: max(scores[n], 1e-6) / total for n in top}
    return weights, info


def _clip_scores(clip: OpenClip, rgb: Image.Image, names: list[str]) -> dict[str, float]:
    key = tuple(names)
    text = clip.text_cache.get(key)
    if text is None:
        per_template = [clip.encode_text([t.format(n) for n in names]) for t in PROMPT_TEMPLATES]
        text = torch.nn.functional.normalize(torch.stack(per_template).mean(0), dim=-1)  # [N, E]
        clip.text_cache[key] = text
    image = clip.encode_image([rgb])  # [1, E]
    probs = torch.softmax(clip.logit_scale * image @ text.T, dim=-1)[0]  # [N]
    return {n: float(p) for n, p in zip(names, probs.tolist(), strict=True)}


def _pick_grouped(scores: dict[str, float], k: int) -> list[str]:
    """Best-scoring names, at most MAX_MOODS moods, MAX_ENERGY energies, MAX_TEXTURE textures."""
    caps = {"mood": MAX_MOODS, "energy": MAX_ENERGY, "texture": MAX_TEXTURE}
    taken = dict.fromkeys(caps, 0)
    out: list[str] = []
    for name in sorted(scores, key=lambda n: (-scores[n], n)):
        group = name.rsplit(" ", 1)[-1] if name.endswith((" energy", " texture")) else "mood"
        if taken[group] < caps[group] and len(out) < k:
            taken[group] += 1
            out.append(name)
    return out


def _check_descriptors(descriptors: Sequence[str]) -> list[str]:
    if isinstance(descriptors, str):
        raise ValueError("descriptors must be a list of names, not one string")
    names = list(dict.fromkeys(descriptors))
    if not names:
        raise ValueError("descriptors is empty: give the names the picture may map to")
    bad = [d for d in names if not isinstance(d, str) or not d.strip()]
    if bad:
        raise ValueError(f"descriptors must be non-empty strings; got {bad[:3]}")
    return names


def _dominant_hues(
    px: np.ndarray, value: np.ndarray, chroma: np.ndarray, sat: np.ndarray
) -> tuple[tuple[str, float], ...]:
    """Up to three (hue name, share of all pixels) with share >= 0.05, largest first."""
    mask = (sat > 0.25) & (value > 0.2)
    if not mask.any():
        return ()
    r, g, b = (px[..., i][mask] for i in range(3))
    v, c = value[mask], np.maximum(chroma[mask], 1e-6)
    hue = np.where(v == r, ((g - b) / c) % 6, np.where(v == g, (b - r) / c + 2, (r - g) / c + 4))
    degrees = hue * 60.0
    shares = []
    for name, (lo, hi) in HUES.items():
        inside = (degrees >= lo) | (degrees < hi) if lo > hi else (degrees >= lo) & (degrees < hi)
        shares.append((name, float(inside.sum()) / value.size))
    shares.sort(key=lambda t: -t[1])
    return tuple((n, round(s, 4)) for n, s in shares[:3] if s >= 0.05)


def _geomean(values: list[float]) -> float:
    clipped = [_clip01(v) for v in values]
    return float(np.prod(clipped) ** (1.0 / len(clipped)))


def _clip01(x: float) -> float:
    return min(1.0, max(0.0, float(x)))
