"""StyleSpace: words, descriptor sliders, a reference clip and a picture as one style vector.

Every ``encode_*`` returns a float32 ``[B, D]`` tensor with unit L2 norm, so vectors
from different inputs can be compared, mixed and subtracted::

    >>> from mmgan import StyleSpace
    >>> space = StyleSpace.from_pretrained()                # the shipped default, offline
    >>> s = space.encode_text(["dreamy folk"])              # [1, 384]
    >>> v, normal_form = space.parse("techno - monotonous + jazz harmony")
    >>> names = [name for name, _ in space.describe(v, k=5)]

Text goes through the frozen text encoder (all-MiniLM-L6-v2 by default) and the
trained linear text projection; audio through the trained log-mel CNN; pictures
become a weighted mix of descriptors (via CLIP when local open_clip weights are
given, else colour/texture statistics), embedded like text.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

log = logging.getLogger(__name__)

PRETRAINED_DIR = Path(__file__).resolve().parents[1] / "pretrained"
DEFAULT_MODEL = "style"


def resolve_model_dir(path_or_name: str | Path | None = None) -> Path:
    """A folder holding ``config.json``: a shipped name, a model folder, or a training run.

    ``None`` / ``"default"`` / ``"style"`` → the shipped default; a training run
    folder ``RUN`` resolves to ``RUN/model``.
    """
    if path_or_name in (None, "default"):
        path_or_name = DEFAULT_MODEL
    candidates = []
    p = Path(str(path_or_name)).expanduser()
    candidates += [p, p / "model"]
    if not p.is_absolute() and len(p.parts) == 1:
        candidates += [PRETRAINED_DIR / p.name]
    for c in candidates:
        if (c / "config.json").is_file():
            return c
    shipped = (
        sorted(d.name for d in PRETRAINED_DIR.iterdir() if (d / "config.json").is_file())
        if (PRETRAINED_DIR.is_dir())
        else []
    )
    raise FileNotFoundError(
        f"no style model at {str(path_or_name)!r} (looked for config.json in "
        f"{', '.join(str(c) for c in candidates)}). Shipped models: {shipped or 'none'}; "
        "train one with `mmgan train style --data DIR --out RUN` and pass RUN."
    )


class StyleSpace:
    """One embedding space for text, descriptors, audio and images (see module docstring).

    Args:
        model: a trained :class:`~mmgan.style.audio_encoder.StyleModel`.
        text_encoder: the frozen text encoder the model was trained against.
        descriptors: the descriptor vocabulary (default: ``default_descriptors()``).
        clip: optional open_clip bundle for pictures (see ``mmgan.style.image``).
    """

    def __init__(self, model, text_encoder, descriptors=None, clip=None, name: str = "custom"):
        from mmgan.style.descriptors import default_descriptors

        self.model = model.eval()
        self.text_encoder = text_encoder
        self.descriptors = list(descriptors) if descriptors is not None else default_descriptors()
        self.clip = clip
        self.name = name
        self._bank = None

    # construction -------------------------------------------------------------------

    @classmethod
    def from_pretrained(
        cls, path_or_name: str | Path | None = None, clip: str | None = None
    ) -> StyleSpace:
        """Load a shipped model by name or a trained folder; ``clip`` = optional open_clip spec."""
        from mmgan.style.audio_encoder import StyleModel
        from mmgan.style.text import load_text_encoder

        folder = resolve_model_dir(path_or_name)
        config = json.loads((folder / "config.json").read_text())
        model = StyleModel.from_pretrained(folder)
        text = load_text_encoder(config.get("text_encoder", "minilm"))
        if text.dim != model.text_projection.in_features:
            raise ValueError(
                f"{folder}: the model expects {model.text_projection.in_features}-d text "
                f"features but text encoder {text.id!r} gives {text.dim}-d"
            )
        bundle = None
        if clip is not None:
            from mmgan.style.openclip import load_open_clip

            bundle = load_open_clip(clip)
        return cls(model, text, clip=bundle, name=config.get("style_space_id", folder.name))

    @property
    def dim(self) -> int:
        return int(self.model.text_projection.out_features)

    # encoders -------------------------------------------------------------------------

    @torch.no_grad()
    def encode_text(self, texts: str | Sequence[str]) -> torch.Tensor:
        """``[B, D]`` style vectors of prompts (a single string gives ``B = 1``)."""
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        for t in texts:
            if not isinstance(t, str):
                raise TypeError(f"prompts must be strings, got {type(t).__name__}")
            if not t.strip():
                raise ValueError("empty prompt: describe the music, e.g. 'dreamy folk'")
        if not texts:
            return torch.zeros(0, self.dim)
        return self.model.project_text(
            self.text_encoder.encode(texts), self.model.text_terms(texts)
        )

    @torch.no_grad()
    def encode_audio(self, wave: np.ndarray | torch.Tensor, sample_rate: int) -> torch.Tensor:
        """``[1, D]`` style vector of a clip: any rate and length, mono ``[T]`` or ``[C, T]``."""
        if isinstance(wave, torch.Tensor):
            wave = wave.detach().cpu().numpy()
        return self.model.embed_waveform(np.asarray(wave, dtype=np.float32), int(sample_rate))

    @torch.no_grad()
    def encode_image(self, image: Any, return_info: bool = False):
        """``[1, D]`` style vector of a picture (path or PIL image) as a descriptor mix.

        With ``return_info=True`` also returns a dict saying which path was used
        (``"open_clip"`` or ``"fallback"``), the descriptor weights and statistics.
        """
        from mmgan.style.image import image_descriptor_weights
        from mmgan.style.imageio import load_image

        weights, info = image_descriptor_weights(load_image(image), self.bank.names, clip=self.clip)
        vec = self._mix(weights)
        info = dict(info, weights=weights)
        log.info("encode_image via %s: %s", info.get("path"), weights)
        return (vec, info) if return_info else vec

    def parse(self, prompt: str) -> tuple[torch.Tensor, str]:
        """Prompt algebra → (``[1, D]`` vector, readable normal form).

        ``"techno - monotonous + jazz harmony"``, ``"0.7*jazz + 0.3*metal"``, quoted
        phrases; `` - `` and `` + `` need spaces around them to be operators.
        """
        from mmgan.style.algebra import evaluate, parse_expression

        expr = parse_expression(prompt)
        vec = evaluate(expr, self.encode_text)
        return vec.reshape(1, -1), expr.normal_form()

    def slider(self, weights: dict[str, float]) -> torch.Tensor:
        """``[1, D]`` vector from descriptor sliders, e.g. ``{"dark": 0.8, "techno": 1.0}``."""
        from mmgan.style.descriptors import slider_vector

        return slider_vector(weights, self.bank).reshape(1, -1)

    # reading vectors --------------------------------------------------------------------

    @property
    def bank(self):
        """The descriptor bank embedded in this space (built on first use)."""
        if self._bank is None:
            from mmgan.style.descriptors import DescriptorBank

            self._bank = DescriptorBank.from_encoder(self.descriptors, self.encode_text)
        return self._bank

    def describe(self, s: torch.Tensor, k: int = 5, groups: Sequence[str] | None = None):
        """The ``k`` nearest descriptors ``[(name, cosine), ...]`` (a list of lists for ``[B, D]``)."""
        s = torch.as_tensor(s, dtype=torch.float32)
        if s.ndim == 2 and s.shape[0] == 1:
            s = s[0]
        return self.bank.nearest(s, k=k, groups=groups)

    @torch.no_grad()
    def zero_shot(
        self, audio_vectors: torch.Tensor, labels: Sequence[str], template: str = "a {} track"
    ) -> torch.Tensor:
        """``[B, L]`` probabilities that each audio vector matches each label's prompt."""
        labels = list(labels)
        if not labels:
            raise ValueError("zero_shot needs at least one label")
        a = torch.as_tensor(audio_vectors, dtype=torch.float32)
        a = a.reshape(1, -1) if a.ndim == 1 else a
        if a.shape[-1] != self.dim:
            raise ValueError(f"audio vectors must be [B, {self.dim}], got {tuple(a.shape)}")
        t = self.encode_text([template.format(label) for label in labels])
        scale = self.model.logit_scale.exp().clamp(max=100.0)
        return (scale * F.normalize(a, dim=-1) @ t.T).softmax(dim=-1)

    def _mix(self, weights: dict[str, float]) -> torch.Tensor:
        if not weights:
            raise ValueError("empty descriptor mix")
        vec = sum(w * self.bank.vector(n) for n, w in weights.items())
        return F.normalize(torch.as_tensor(vec, dtype=torch.float32).reshape(1, -1), dim=-1)
