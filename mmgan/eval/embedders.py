"""Audio embedders for FAD, diversity and memorisation: one clip -> one vector.

:func:`get_embedder` maps a spec to an :class:`Embedder` (``name``, ``dim`` and
``embed(waves, sample_rate) -> float32 [N, E]``). Specs:

- ``"style"`` / ``"style:PATH"``: the style space's audio encoder (the shipped
  ``mmgan/pretrained/style`` by default; ``PATH`` as ``StyleSpace.from_pretrained`` takes it).
- ``"judge"`` / ``"judge:PATH"``: the penultimate layer of the independent genre judge
  (:func:`mmgan.eval.classifier.load_judge`).
- ``"clap:PATH"``: LAION-CLAP's audio tower (``transformers.ClapModel``) from a local folder
  or the local Hugging Face cache, at 48 kHz; clips longer than the model's window are cut
  into windows whose normalised embeddings are averaged.
- ``"vggish:PATH"``: VGGish (Hershey et al. 2017) as in ``harritaylor/torchvggish`` from its
  state-dict file ``vggish-10086976.pth`` (or a ``.safetensors`` of the same keys, or a
  folder holding one): 0.96 s log-mel patches at 16 kHz, 128-d per patch, averaged per clip
  (the network and its features: :mod:`mmgan.eval.vggish`, re-exported here).

Nothing here downloads anything; missing weights raise ``FileNotFoundError`` saying what to
fetch and where to put it. Example::

    emb = get_embedder("style").embed([wave_a, wave_b], 22050)   # [2, 384]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mmgan.audio.io import AudioError, resample, to_mono
from mmgan.eval.vggish import VGGish, vggish_examples

__all__ = ["Embedder", "get_embedder", "EMBEDDER_SPECS", "VGGish", "vggish_examples"]

EMBEDDER_SPECS = ("style", "style:PATH", "judge", "judge:PATH", "clap:PATH", "vggish:PATH")
CLAP_REPO = "laion/clap-htsat-unfused"


class Embedder(ABC):
    """``embed(waves, sample_rate) -> np.ndarray [N, dim]`` float32, one row per clip."""

    name: str
    dim: int

    def embed(self, waves: Sequence[np.ndarray] | np.ndarray, sample_rate: int) -> np.ndarray:
        """Embed clips.

        Args:
            waves: a sequence of clips, each ``[T]`` or ``[C, T]`` (any lengths), or an
                ``[N, T]`` array.
            sample_rate: their sample rate in Hz (resampled as the model needs).

        Returns:
            ``[N, dim]`` float32 (``[0, dim]`` for no clips).

        Raises:
            ValueError: a single 1-D clip instead of a list, a bad sample rate, or an empty,
                NaN/inf or multi-dimensional clip (the message names its index).
        """
        clips = _check_waves(waves, sample_rate)
        if not clips:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.asarray(self._embed(clips, int(sample_rate)), dtype=np.float32)
        if out.shape != (len(clips), self.dim):
            raise RuntimeError(
                f"{self.name} returned {out.shape}, expected {(len(clips), self.dim)}"
            )
        return out

    @abstractmethod
    def _embed(self, waves: list[np.ndarray], sample_rate: int) -> np.ndarray:
        """Checked mono float32 clips ``[T_i]`` -> ``[N, dim]``."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim})"


def _check_waves(waves: Any, sample_rate: Any) -> list[np.ndarray]:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int | np.integer):
        raise ValueError(f"sample_rate must be an int in Hz, got {sample_rate!r}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if isinstance(waves, np.ndarray | torch.Tensor) and waves.ndim == 1:
        raise ValueError("waves is one 1-D clip; pass a list of clips, e.g. [wave]")
    out = []
    for i, w in enumerate(waves):
        if isinstance(w, torch.Tensor):
            w = w.detach().cpu().numpy()
        x = np.asarray(w, dtype=np.float32)
        if x.ndim not in (1, 2):
            raise ValueError(f"clip {i} has shape {x.shape}; expected [T] or [C, T]")
        if x.shape[-1] == 0 or x.size == 0:
            raise ValueError(f"clip {i} has no samples")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"clip {i} contains NaN or infinite samples")
        out.append(np.ascontiguousarray(to_mono(x), dtype=np.float32))
    return out


# --------------------------------------------------------------------------- adapters


class StyleEmbedder(Embedder):
    """The style space's audio encoder: ``StyleModel.embed_waveform`` per clip (unit norm)."""

    def __init__(self, path: str | None = None) -> None:
        from mmgan.style.audio_encoder import StyleModel
        from mmgan.style.space import resolve_model_dir

        self.model = StyleModel.from_pretrained(resolve_model_dir(path))
        self.name = "style" if path is None else f"style:{path}"
        self.dim = int(self.model.config["embed_dim"])

    def _embed(self, waves: list[np.ndarray], sample_rate: int) -> np.ndarray:
        rows = []
        for i, w in enumerate(waves):
            try:
                rows.append(self.model.embed_waveform(w, sample_rate)[0].numpy())
            except AudioError as err:
                raise AudioError(f"clip {i}: {err}") from err
        return np.stack(rows)


class JudgeEmbedder(Embedder):
    """The genre judge's penultimate layer (``load_judge(path).embed``)."""

    def __init__(self, path: str | None = None) -> None:
        from mmgan.eval.classifier import load_judge

        self.judge = load_judge(path)
        self.name = "judge" if path is None else f"judge:{path}"
        self.dim = int(self.judge.embedding_dim)

    def _embed(self, waves: list[np.ndarray], sample_rate: int) -> np.ndarray:
        return self.judge.embed(waves, sample_rate)


class ClapAudioEmbedder(Embedder):
    """LAION-CLAP audio tower: normalised ``get_audio_features`` (mean over windows)."""

    def __init__(self, source: str, batch_size: int = 8) -> None:
        try:
            from transformers import ClapFeatureExtractor, ClapModel
        except ImportError as err:
            raise ImportError("the CLAP embedder needs `pip install transformers`") from err
        from mmgan.style.openclip import looks_like_path
        from mmgan.style.text import quiet_transformers

        path = Path(source).expanduser()
        if not path.is_dir() and (path.exists() or looks_like_path(source)):
            raise FileNotFoundError(_clap_missing(source, f"no folder {source}"))
        where = str(path.resolve()) if path.is_dir() else source
        with quiet_transformers():
            try:
                self.model = ClapModel.from_pretrained(where, local_files_only=True).eval()
                self.extractor = ClapFeatureExtractor.from_pretrained(where, local_files_only=True)
            except OSError as err:
                raise FileNotFoundError(_clap_missing(source, str(err))) from err
        self.name, self.batch_size = f"clap:{source}", int(batch_size)
        self.dim = int(self.model.config.projection_dim)
        self.sample_rate = int(self.extractor.sampling_rate)
        self.window = int(self.extractor.nb_max_samples)
        fusion = bool(getattr(self.model.config.audio_config, "enable_fusion", False))
        self.truncation = "fusion" if fusion else "rand_trunc"  # never used: windows fit

    @torch.no_grad()
    def _embed(self, waves: list[np.ndarray], sample_rate: int) -> np.ndarray:
        from mmgan.style.audio_encoder import window_starts

        chunks, owner = [], []
        for i, w in enumerate(waves):
            x = resample(w, sample_rate, self.sample_rate).astype(np.float32)
            for s in window_starts(len(x), self.window, self.window):
                chunks.append(x[s : s + self.window])  # [<= window]: repeat-padded by CLAP
                owner.append(i)
        vecs = []
        for a in range(0, len(chunks), self.batch_size):
            inputs = self.extractor(
                chunks[a : a + self.batch_size],
                sampling_rate=self.sample_rate,
                truncation=self.truncation,
                return_tensors="pt",
            )
            out = self.model.get_audio_features(**inputs)
            out = out if isinstance(out, torch.Tensor) else out.pooler_output
            vecs.append(F.normalize(out.float(), dim=-1))
        emb, owner_t = torch.cat(vecs), torch.tensor(owner)
        rows = [F.normalize(emb[owner_t == i].mean(dim=0), dim=-1) for i in range(len(waves))]
        return torch.stack(rows).numpy()


def _clap_missing(source: str, why: str) -> str:
    return (
        f"no CLAP checkpoint at {source!r} (not a complete local folder and not in the local "
        "Hugging Face cache; nothing is downloaded at run time). While online, run "
        f"`huggingface-cli download {CLAP_REPO} --local-dir models/clap` and use "
        "'clap:models/clap' (the folder needs config.json, model.safetensors and "
        f"preprocessor_config.json), or `huggingface-cli download {CLAP_REPO}` to fill the HF "
        f"cache and use 'clap:{CLAP_REPO}'. ({why})"
    )


class VGGishEmbedder(Embedder):
    """VGGish: the mean of the 128-d embeddings of a clip's 0.96 s patches.

    Args:
        path: ``vggish-10086976.pth`` (torchvggish), a ``.safetensors`` of the same keys, or a
            folder holding one of them.
        pca_path: optional torchvggish PCA file (``vggish_pca_params-970ea276.pth``): applies
            AudioSet's PCA whitening (without the 8-bit quantisation) to each patch.
        batch_size: patches per forward pass.
    """

    def __init__(self, path: str, pca_path: str | None = None, batch_size: int = 32) -> None:
        self.model = VGGish.from_file(path)
        if pca_path is not None:
            self.model.load_pca(pca_path)
        self.name, self.dim, self.batch_size = f"vggish:{path}", 128, int(batch_size)

    @torch.no_grad()
    def _embed(self, waves: list[np.ndarray], sample_rate: int) -> np.ndarray:
        rows = []
        for w in waves:
            patches = torch.from_numpy(vggish_examples(w, sample_rate))[:, None]  # [K, 1, 96, 64]
            out = [
                self.model(patches[a : a + self.batch_size])
                for a in range(0, len(patches), self.batch_size)
            ]
            rows.append(torch.cat(out).mean(dim=0).numpy())
        return np.stack(rows)


def get_embedder(spec: str) -> Embedder:
    """The embedder named by ``spec`` (see the module docstring).

    Raises:
        ValueError: an unknown spec (the message lists the valid ones).
        FileNotFoundError: CLAP or VGGish weights not found locally (says what to download).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"embedder spec must be a non-empty string, one of {EMBEDDER_SPECS}")
    kind, _, rest = spec.strip().partition(":")
    kind, rest = kind.lower(), rest.strip() or None
    if kind == "style":
        return StyleEmbedder(rest)
    if kind == "judge":
        return JudgeEmbedder(rest)
    if kind == "clap" and rest:
        return ClapAudioEmbedder(rest)
    if kind == "vggish" and rest:
        return VGGishEmbedder(rest)
    raise ValueError(
        f"unknown embedder spec {spec!r}; valid: {', '.join(EMBEDDER_SPECS)} (e.g. 'style', "
        f"'clap:{CLAP_REPO}', 'vggish:models/vggish-10086976.pth')"
    )
