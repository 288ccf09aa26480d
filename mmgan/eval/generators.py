"""The ``Generator`` interface every mmgan model follows, plus reference and sanity generators.

A generator turns ``[n, D]`` L2-normalised style vectors into ``[n, T]`` float32 audio at
its ``sample_rate``, ``T = round(seconds * sample_rate)``, deterministically in ``seed``
(row ``i`` draws from the generator seeded by ``(seed, i)``)::

    >>> from mmgan.eval.generators import load_generator
    >>> gen = load_generator("real-baseline", data="data/small")
    >>> style = gen.space.encode_text(["a techno track"] * 4)       # [4, D]
    >>> audio = gen.generate(style, seed=0, seconds=6.0)            # [4, 132300] float32

Built-in generators (``load_generator`` names):

- ``real-baseline`` :class:`RealBaseline`: real training clips nearest to the style — the
  "perfect generator" whose numbers should sit near the real-vs-real reference.
- ``copy-train`` :class:`CopyTrainGenerator`: training clips with a gain change and a small
  delay — a memoriser; the copy rate must catch it.
- ``one-clip`` :class:`OneClipGenerator`: one clip for every prompt and seed — mode collapse.
- ``noise`` :class:`NoiseGenerator`: coloured noise — a broken model.

Trained models register a loader in :data:`MODEL_KINDS` under their ``config.json``
``model_type``. (Symbolic generators may later add a MIDI method beside ``generate``.)
:class:`CorpusClips`, :func:`corpus_style_embeddings` and :func:`weights_key` live in
:mod:`mmgan.eval.corpus_clips` and are re-exported here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import torch

from mmgan.eval.corpus_clips import CorpusClips, corpus_style_embeddings, weights_key

if TYPE_CHECKING:
    from mmgan.style.space import StyleSpace

__all__ = [
    "BUILTIN_GENERATORS",
    "MODEL_KINDS",
    "CopyTrainGenerator",
    "CorpusClips",
    "Generator",
    "NoiseGenerator",
    "OneClipGenerator",
    "RealBaseline",
    "corpus_style_embeddings",
    "fit_length",
    "load_generator",
    "weights_key",
]

PRETRAINED_GENERATOR = Path(__file__).resolve().parents[1] / "pretrained" / "gan"


@runtime_checkable
class Generator(Protocol):
    """What the evaluation (and the pipeline) needs from a model."""

    name: str
    sample_rate: int

    def generate(self, style: torch.Tensor, *, seed: int, seconds: float) -> np.ndarray:
        """Style ``[n, D]`` (L2-normalised) -> audio float32 ``[n, round(seconds * sr)]``."""
        ...


# -- checks and helpers ------------------------------------------------------------------


def _check_style(style: torch.Tensor | np.ndarray, dim: int | None = None) -> torch.Tensor:
    """``[n, D]`` float32 tensor, rows L2-normalised; a clear error otherwise."""
    s = torch.as_tensor(np.asarray(style) if not isinstance(style, torch.Tensor) else style)
    s = s.detach().float().cpu()
    if s.ndim != 2 or s.shape[0] == 0:
        raise ValueError(f"style must be a [n, D] tensor with n >= 1, got shape {tuple(s.shape)}")
    if dim is not None and s.shape[1] != dim:
        raise ValueError(
            f"style vectors are {s.shape[1]}-d but this generator's style space is {dim}-d; "
            "encode prompts with the same StyleSpace"
        )
    if not torch.isfinite(s).all():
        raise ValueError("style contains NaN or infinite values")
    return torch.nn.functional.normalize(s, dim=-1)


def _n_samples(seconds: float, sample_rate: int) -> int:
    seconds = float(seconds)
    if not np.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"seconds must be a positive number, got {seconds}")
    return max(1, round(seconds * sample_rate))


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _row_rng(seed: int, row: int, stream: int = 0) -> np.random.Generator:
    """Row ``row``'s generator for ``seed``; ``stream`` separates independent draws."""
    return np.random.default_rng([seed, row, stream])


def fit_length(wave: np.ndarray, n: int, offset: int = 0) -> np.ndarray:
    """Crop ``wave [T]`` to ``n`` samples from ``offset``, or zero-pad its end -> ``[n]``."""
    out = np.zeros(n, dtype=np.float32)
    piece = np.asarray(wave, dtype=np.float32)[offset : offset + n]
    out[: len(piece)] = piece
    return out


# -- generators -----------------------------------------------------------------------------


class RealBaseline:
    """Real training clips as a generator: the "perfect generator" reference.

    For each style vector (row ``i``), a seeded choice among the ``top_k`` clips of
    ``split`` nearest to it (cosine) in the style space's audio embedding, cropped
    (seeded offset) or zero-padded to ``seconds``.

    Args:
        data: corpus folder.
        split: which clips it may return (the training split by default).
        space: the style space (default: the shipped one).
        top_k: how many nearest clips each style vector chooses among. Default: half
            the clips of an average genre (80 on ``data/small``), as the trade-off is
            between following the prompt and real diversity: on ``data/small`` the
            nearest 160 clips to "a {genre} track" are all of that genre, and their
            style-space diversity is 0.76 / 0.84 / 0.92 / 1.0 of the genre's at
            ``top_k`` 8 / 16 / 64 / 160.
        cache: cache the clip embeddings under ``<data>/.cache``.
        progress: show a progress bar while embedding the split.
    """

    name = "real-baseline"

    def __init__(
        self,
        data: str | Path,
        split: str = "train",
        space: StyleSpace | None = None,
        top_k: int | None = None,
        cache: bool = True,
        progress: bool = False,
    ) -> None:
        self.clips = CorpusClips(data, split)
        self.sample_rate = self.clips.sample_rate
        if top_k is None:
            top_k = max(1, len(self.clips) // (2 * len(set(self.clips.genres))))
        if int(top_k) < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        self.top_k = min(int(top_k), len(self.clips))
        self._space, self._cache, self._progress = space, cache, progress
        self._emb: np.ndarray | None = None

    @property
    def space(self) -> StyleSpace:
        if self._space is None:
            from mmgan.style.space import StyleSpace

            self._space = StyleSpace.from_pretrained()
        return self._space

    @property
    def embeddings(self) -> np.ndarray:
        """``[M, D]`` style embeddings of the split's clips (computed or cached once)."""
        if self._emb is None:
            self._emb = corpus_style_embeddings(
                self.clips, self.space, cache=self._cache, progress=self._progress
            )
        return self._emb

    def choose(self, style: torch.Tensor, *, seed: int) -> list[int]:
        """Index (into ``self.clips``) of the clip each style row ``[n, D]`` returns."""
        s = _check_style(style, self.space.dim).numpy()
        seed = _check_seed(seed)
        sims = s @ self.embeddings.T  # [n, M]
        out = []
        for i in range(len(s)):
            nearest = np.argsort(-sims[i], kind="stable")[: self.top_k]
            out.append(int(nearest[_row_rng(seed, i).integers(len(nearest))]))
        return out

    def generate(self, style: torch.Tensor, *, seed: int, seconds: float) -> np.ndarray:
        """Style ``[n, D]`` -> real clips float32 ``[n, round(seconds * sample_rate)]``."""
        n = _n_samples(seconds, self.sample_rate)
        chosen = self.choose(style, seed=seed)
        out = np.zeros((len(chosen), n), dtype=np.float32)
        for i, idx in enumerate(chosen):
            wave = self.clips.load(idx)
            rng = _row_rng(seed, i, stream=1)
            offset = int(rng.integers(len(wave) - n + 1)) if len(wave) > n else 0
            out[i] = self._transform(fit_length(wave, n, offset), rng)
        return out

    def _transform(self, wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return wave


class CopyTrainGenerator(RealBaseline):
    """A memoriser: :class:`RealBaseline`'s clips with a seeded gain change (``gain_db``
    range) and a small delay (``shift_ms`` range, zero-padded start). Same arguments as
    :class:`RealBaseline` plus those two ranges."""

    name = "copy-train"

    def __init__(
        self,
        data: str | Path,
        split: str = "train",
        space: StyleSpace | None = None,
        top_k: int | None = None,
        gain_db: tuple[float, float] = (-6.0, -1.0),
        shift_ms: tuple[float, float] = (5.0, 30.0),
        cache: bool = True,
        progress: bool = False,
    ) -> None:
        super().__init__(data, split, space, top_k, cache=cache, progress=progress)
        if gain_db[0] > gain_db[1] or shift_ms[0] > shift_ms[1] or shift_ms[0] < 0:
            raise ValueError(
                f"gain_db {gain_db} and shift_ms {shift_ms} must be (low, high) ranges, "
                "shift_ms non-negative"
            )
        self.gain_db, self.shift_ms = tuple(gain_db), tuple(shift_ms)

    def _transform(self, wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        gain = 10 ** (rng.uniform(*self.gain_db) / 20)
        shift = round(rng.uniform(*self.shift_ms) * self.sample_rate / 1000)
        out = np.zeros_like(wave)
        out[shift:] = wave[: len(wave) - shift] if shift else wave
        return (gain * out).astype(np.float32)


class OneClipGenerator:
    """Mode collapse: the same clip (``clip_id``, default the first of ``split`` by id)
    for every prompt and seed, cropped or zero-padded to ``seconds``."""

    name = "one-clip"

    def __init__(self, data: str | Path, split: str = "train", clip_id: str | None = None):
        clips = CorpusClips(data, split)
        ids = clips.ids
        if clip_id is not None and clip_id not in ids:
            raise ValueError(f"no clip {clip_id!r} in split {split!r} of {data}")
        self.clip_id = clip_id or ids[0]
        self.sample_rate = clips.sample_rate
        self._wave = clips.load(ids.index(self.clip_id))

    def generate(self, style: torch.Tensor, *, seed: int, seconds: float) -> np.ndarray:
        """Style ``[n, D]`` -> ``[n, T]``: ``n`` copies of one clip."""
        s = _check_style(style)
        _check_seed(seed)
        wave = fit_length(self._wave, _n_samples(seconds, self.sample_rate))
        return np.tile(wave, (s.shape[0], 1))


class NoiseGenerator:
    """A broken model: seeded noise with a ``1/f**exponent`` power spectrum (1 = pink)
    at RMS ``rms``, whatever the style."""

    name = "noise"

    def __init__(self, sample_rate: int = 22050, exponent: float = 1.0, rms: float = 0.1):
        if sample_rate <= 0 or rms <= 0:
            raise ValueError(f"sample_rate and rms must be positive, got {sample_rate}, {rms}")
        self.sample_rate, self.exponent, self.rms = int(sample_rate), float(exponent), float(rms)

    def generate(self, style: torch.Tensor, *, seed: int, seconds: float) -> np.ndarray:
        """Style ``[n, D]`` -> coloured noise float32 ``[n, T]``."""
        n_rows = _check_style(style).shape[0]
        seed = _check_seed(seed)
        n = _n_samples(seconds, self.sample_rate)
        freqs = np.fft.rfftfreq(n, d=1.0 / self.sample_rate)
        shape = np.zeros_like(freqs)
        shape[1:] = freqs[1:] ** (-self.exponent / 2)
        out = np.zeros((n_rows, n), dtype=np.float32)
        for i in range(n_rows):
            white = _row_rng(seed, i).standard_normal(n)
            x = np.fft.irfft(np.fft.rfft(white) * shape, n=n)
            out[i] = x * (self.rms / max(float(np.sqrt(np.mean(x**2))), 1e-12))
        return out


# -- loading ----------------------------------------------------------------------------------


def _load_gan(folder: Path, space: StyleSpace | None = None) -> Generator:
    """Either GAN family: the folder's ``model_type`` picks the pipeline (the symbolic one
    renders its rolls through the arrangement and the built-in synth)."""
    from mmgan.generate.pipeline import Pipeline

    return Pipeline.from_pretrained(folder, space=space)


# Trained model kinds: config.json "model_type" -> loader(folder, space) -> Generator.
MODEL_KINDS: dict[str, Callable[..., Generator]] = {
    "mmgan-specgan": _load_gan,
    "mmgan-pianoroll": _load_gan,
}

BUILTIN_GENERATORS = ("real-baseline", "copy-train", "one-clip", "noise")


def load_generator(
    name_or_path: str | Path | None,
    *,
    data: str | Path | None = None,
    space: StyleSpace | None = None,
) -> Generator:
    """A built-in generator by name, a trained model folder, or (``None``) the shipped default.

    Args:
        name_or_path: one of :data:`BUILTIN_GENERATORS`, a folder with ``config.json``, or
            ``None``.
        data: the corpus folder (needed by every built-in generator but ``noise``).
        space: the style space to share (default: the shipped one, loaded when needed).

    Raises:
        FileNotFoundError: ``None`` while no default generator is shipped; a missing corpus.
        ValueError: an unknown name or model kind, or a corpus-based generator without data.
    """
    if name_or_path is None:
        if not (PRETRAINED_GENERATOR / "config.json").is_file():
            raise FileNotFoundError(
                f"no default generator is shipped yet ({PRETRAINED_GENERATOR} has no "
                "config.json); evaluate a built-in reference with `--model real-baseline` "
                "or pass a trained model folder"
            )
        return _load_model_folder(PRETRAINED_GENERATOR, space)
    name = str(name_or_path)
    if name in BUILTIN_GENERATORS:
        if name == "noise":
            sr = 22050 if data is None else CorpusClips(data, None).sample_rate
            return NoiseGenerator(sample_rate=sr)
        if data is None:
            raise ValueError(f"generator {name!r} returns corpus clips: pass data=CORPUS_DIR")
        if name == "one-clip":
            return OneClipGenerator(data)
        cls = RealBaseline if name == "real-baseline" else CopyTrainGenerator
        return cls(data, space=space)
    from mmgan.weights import run_model_dir

    path = run_model_dir(name)  # a training run: its exported model
    if path.is_dir():
        return _load_model_folder(path, space)
    raise ValueError(
        f"unknown generator {name!r}: not a built-in ({', '.join(BUILTIN_GENERATORS)}) and "
        "not a model folder (a directory with config.json)"
    )


def _load_model_folder(folder: Path, space: StyleSpace | None) -> Generator:
    cfg_file = folder / "config.json"
    if not cfg_file.is_file():
        raise FileNotFoundError(
            f"{folder} is not a model folder: it has no config.json (expected one written "
            "by a trained mmgan generator's save_pretrained)"
        )
    try:
        config = json.loads(cfg_file.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{cfg_file}: not valid JSON ({err})") from err
    kind = config.get("model_type") if isinstance(config, dict) else None
    if kind not in MODEL_KINDS:
        known = ", ".join(sorted(MODEL_KINDS)) or "none yet (the GAN models are not built)"
        raise ValueError(
            f"{cfg_file}: unknown model kind {kind!r} (config.json 'model_type'); known "
            f"model kinds: {known}; built-in generators: {', '.join(BUILTIN_GENERATORS)}"
        )
    return MODEL_KINDS[kind](folder, space=space)
