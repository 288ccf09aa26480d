"""One inference object: prompt / picture / reference clip -> a finished track.

    >>> from mmgan import Pipeline
    >>> pipe = Pipeline.from_pretrained()                      # shipped default, offline
    >>> result = pipe("dreamy folk with ambient textures", seconds=20, seed=3)
    >>> result.audio.shape, result.sample_rate                  # ((441000,), 22050)
    >>> result.save("out/")                                     # track.wav + metadata.json

The prompt may be any expression the style space parses ("techno - monotonous + jazz
harmony", "0.7*jazz + 0.3*metal"); a picture and a reference clip join the text by a
weighted sum. The generator is fully convolutional in time, so the whole track is one
batched pass; :mod:`mmgan.generate.compose` shapes sections and morphs, a renderer turns the
log-mel into audio — the shipped GAN vocoder (:mod:`mmgan.models.vocoder`) when there is one,
otherwise ``"pghi"``: magnitudes placed on the pitch classes of the generator's chroma rows
(an 80-band mel cannot name the semitone below ~2 kHz), phase from the magnitude's gradients
(:mod:`mmgan.audio.phase`) and 4 fast Griffin-Lim iterations; ``"griffinlim"`` is the classic
32 iterations from random phase on the mel alone (``benchmarks/phase.py`` compares them) —
and the result is loudness-normalised.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mmgan.generate import compose
from mmgan.generate.latent import slerp, w_mean
from mmgan.models.specgan import SpecGenerator

__all__ = ["DEFAULT_MODEL", "GenerationResult", "Pipeline", "MAX_SECONDS"]

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "pretrained" / "gan"
SYMBOLIC_MODEL = Path(__file__).resolve().parents[1] / "pretrained" / "gan-symbolic"
DEFAULT_VOCODER = Path(__file__).resolve().parents[1] / "pretrained" / "vocoder"
RENDERERS = ("vocoder", "pghi", "griffinlim")
RENDER_ITERS = {"pghi": 4, "griffinlim": 32}  # Griffin-Lim iterations (benchmarks/phase.py)
PIANO_TYPE = "mmgan-pianoroll"
MAX_SECONDS = 600.0
DEFAULT_WEIGHTS = {"prompt": 1.0, "image": 0.5, "audio": 0.5, "style": 1.0}
TARGET_LUFS = -16.0


@dataclass
class GenerationResult:
    """``audio [T]`` float32 at ``sample_rate``; ``style [D]``; ``mel [80, frames]`` log-mel;
    ``style_track [D, steps]`` the style at each coarse step (sections, morphs)."""

    audio: np.ndarray
    sample_rate: int
    style: np.ndarray
    metadata: dict[str, Any]
    mel: np.ndarray | None = None
    timings: dict[str, float] = field(default_factory=dict)
    style_track: np.ndarray | None = None
    score: Any = None  # symbolic engine: the arranged Score (MIDI stems come from it)
    rolls: np.ndarray | None = None  # symbolic engine: on/off rows [R, steps]

    @property
    def seconds(self) -> float:
        return len(self.audio) / self.sample_rate

    def save(self, directory: str | Path) -> Path:
        """Write ``track.wav`` and ``metadata.json`` (atomically) into ``directory``; from
        the symbolic engine also ``arrangement.mid`` and ``stems/<track>.mid``."""
        from mmgan.audio.io import save_wav
        from mmgan.utils import atomic_write_text, ensure_writable_dir

        folder = ensure_writable_dir(directory)
        save_wav(folder / "track.wav", self.audio, self.sample_rate)
        if self.score is not None:
            from mmgan.generate.symbolic import write_midi

            write_midi(self.score, folder)
        text = json.dumps(self.metadata, indent=2, ensure_ascii=False) + "\n"
        atomic_write_text(folder / "metadata.json", text)
        return folder


def _model_type(folder: Path) -> str | None:
    """``model_type`` of a model folder's config.json (``None`` if unreadable: the loader
    then names the problem)."""
    try:
        return json.loads((folder / "config.json").read_text()).get("model_type")
    except (OSError, ValueError, AttributeError):
        return None


def _load_vocoder(gen_config: dict[str, Any], renderer: str | None, path: str | Path | None):
    """The vocoder a spectrogram pipeline renders with (``None``: a phase reconstruction).

    Raises:
        ValueError: an unknown renderer. FileNotFoundError: ``renderer="vocoder"`` with no
        vocoder there. CheckpointError: not a vocoder, or one for other mel features.
    """
    from mmgan.models.vocoder import Vocoder
    from mmgan.weights import CheckpointError, run_model_dir

    if renderer not in (None, *RENDERERS):
        raise ValueError(f"renderer must be one of {RENDERERS} (or None), got {renderer!r}")
    if renderer in RENDER_ITERS:
        return None
    folder = DEFAULT_VOCODER if path is None else run_model_dir(path)
    if not (folder / "config.json").is_file():
        if renderer is None and path is None:
            return None  # nothing shipped: PGHI + Griffin-Lim
        raise FileNotFoundError(
            f"no vocoder at {folder}; train one with `mmgan train vocoder --config "
            "configs/vocoder-small.yaml --data data/small --out runs/vocoder` and pass it, "
            "or use renderer='pghi'"
        )
    voc, config = Vocoder.from_pretrained(folder)
    for key in ("sample_rate", "hop_length", "n_fft"):
        if key in gen_config and int(gen_config[key]) != int(config[key]):
            raise CheckpointError(
                f"{folder}: the vocoder inverts {key}={config[key]} features but the generator "
                f"makes {key}={gen_config[key]}"
            )
    config.setdefault("name", folder.parent.name if folder.name == "model" else folder.name)
    voc.loaded_config = config
    return voc


def _check(seconds: float, truncation: float, seed: int) -> None:
    if not isinstance(seconds, int | float) or not math.isfinite(seconds):
        raise ValueError(f"seconds must be a number, got {seconds!r}")
    if not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"seconds must be in (0, {MAX_SECONDS:g}], got {seconds:g}")
    if not isinstance(truncation, int | float) or not 0.0 <= truncation <= 1.0:
        raise ValueError(f"truncation must be in [0, 1] (1 = none), got {truncation!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


class Pipeline:
    """A trained :class:`SpecGenerator` plus the style space it was conditioned in.

    Also a :class:`mmgan.eval.generators.Generator` (``generate``), so ``mmgan eval``
    scores it directly.
    """

    def __init__(
        self, generator: SpecGenerator, space, config: dict[str, Any], name: str, vocoder=None
    ):
        self.g = generator.eval()
        self.vocoder = vocoder
        self.renderer = "vocoder" if vocoder is not None else "pghi"  # the default
        self.space = space
        self.config = config
        self.name = name
        self.sample_rate = int(config.get("sample_rate", 22050))
        self.hop = int(config.get("hop_length", 256))
        self.chunk_steps = 256
        self.eval_truncation = 1.0  # `generate` (evaluation) scores the raw model
        self._axis: torch.Tensor | None = None

    @classmethod
    def from_pretrained(
        cls,
        path_or_name: str | Path | None = None,
        *,
        space=None,
        engine: str | None = None,
        renderer: str | None = None,
        vocoder: str | Path | None = None,
    ) -> Pipeline:
        """The shipped default (``None``/``"default"``) or a model folder / training run.

        ``renderer``: ``"vocoder"`` (the shipped GAN vocoder, or the folder / run
        ``vocoder`` names), ``"pghi"``, ``"griffinlim"``, or ``None`` = the vocoder when one
        is there, else ``"pghi"``.

        ``engine``: ``"spectrogram"`` (the default shipped model) or ``"symbolic"`` (the
        shipped piano-roll model, a :class:`~mmgan.generate.symbolic_pipeline.SymbolicPipeline`
        with MIDI stems); a folder's own ``model_type`` decides when a path is given.

        Raises:
            FileNotFoundError: no model there. CheckpointError: not a GAN model folder,
            weights of other shapes, or a style space other than the one it was trained in.
        """
        from mmgan.style.space import StyleSpace
        from mmgan.weights import CheckpointError, run_model_dir

        if engine not in (None, "spectrogram", "symbolic"):
            raise ValueError(f"engine must be 'spectrogram' or 'symbolic', got {engine!r}")
        shipped = SYMBOLIC_MODEL if engine == "symbolic" else DEFAULT_MODEL
        folder = shipped if path_or_name in (None, "default") else run_model_dir(path_or_name)
        if not folder.is_dir():
            if folder == SYMBOLIC_MODEL:
                raise FileNotFoundError(
                    f"no symbolic model is shipped at {folder}; train one with `mmgan train gan "
                    "--config configs/symbolic-small.yaml --data data/small --out runs/symbolic` "
                    "and pass it (--model runs/symbolic)"
                )
            if folder == shipped:
                raise FileNotFoundError(
                    f"the shipped GAN is missing ({folder}); reinstall mmgan or pass a model "
                    "folder / training run written by `mmgan train gan`"
                )
            raise FileNotFoundError(
                f"no GAN model at {folder}; pass a folder written by `mmgan train gan` "
                f"(RUN/model) or leave it out for the shipped default"
            )
        gen_cls, pipe_cls = SpecGenerator, cls
        if _model_type(folder) == PIANO_TYPE:
            from mmgan.generate.symbolic_pipeline import SymbolicPipeline
            from mmgan.models.pianoroll import PianoRollGenerator

            gen_cls, pipe_cls = PianoRollGenerator, SymbolicPipeline
        found = "symbolic" if gen_cls is not SpecGenerator else "spectrogram"
        if engine is not None and engine != found:
            raise CheckpointError(f"{folder} holds a {found} model, not a {engine} one")
        g, config = gen_cls.from_pretrained(folder)
        space = space or StyleSpace.from_pretrained(config.get("style_model", "default"))
        want = config.get("style_space_id")
        if want and space.name != want:
            raise CheckpointError(
                f"{folder} was trained in style space {want!r} but {space.name!r} was given; "
                "load the style model it names in config.json ('style_model')"
            )
        if space.dim != g.style_dim:
            raise CheckpointError(f"{folder}: style_dim {g.style_dim} != space dim {space.dim}")
        default = folder.parent.name if folder.name == "model" else folder.name
        name = config.get("name", default)
        if found == "symbolic":  # renders its own MIDI; no mel to invert
            return pipe_cls(g, space, config, name=name)
        pipe = pipe_cls(
            g, space, config, name=name, vocoder=_load_vocoder(config, renderer, vocoder)
        )
        if renderer is not None:  # the one asked for becomes the default
            pipe.renderer = renderer
        return pipe

    @property
    def vocoder_name(self) -> str | None:
        """``"vocoder:<folder name>@<trained steps>"`` of the loaded vocoder (metadata)."""
        if self.vocoder is None:
            return None
        cfg = getattr(self.vocoder, "loaded_config", {}) or {}
        return f"vocoder:{cfg.get('name', 'vocoder')}@{cfg.get('trained_steps', '?')}"

    # -- style ------------------------------------------------------------------------------

    @property
    def segment_seconds(self) -> float:
        """Where long tracks are split into chunks for memory (outputs equal one pass)."""
        return self.chunk_steps * self.g.upsample * self.hop / self.sample_rate

    @property
    def anchor_seconds(self) -> float:
        """The coordinate latent's anchor spacing in seconds (noise anchors every
        ``z_every`` coarse steps, interpolated between: ``SpecGenerator(latent_interp=)``)."""
        return self.g.z_every * self.g.upsample * self.hop / self.sample_rate

    def energy_axis(self) -> torch.Tensor:
        """Unit direction "high energy, dense texture" minus "low energy, sparse texture"."""
        if self._axis is None:
            v = self.space.encode_text(
                ["high energy", "dense texture", "low energy", "sparse texture"]
            )
            self._axis = F.normalize(v[0] + v[1] - v[2] - v[3], dim=-1)
        return self._axis

    def style_of(
        self, prompt=None, image=None, audio=None, audio_sr=None, style=None, weights=None
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        """``([D] unit style vector, info)`` from any mix of the four inputs."""
        w = {**DEFAULT_WEIGHTS, **(weights or {})}
        parts, info = [], {}
        if prompt is not None:
            if not isinstance(prompt, str) or not prompt.strip():
                raise ValueError("prompt must be a non-empty string (or leave it out)")
            vec, info["expression"] = self.space.parse(prompt)
            parts.append(w["prompt"] * vec[0])
        if image is not None:
            vec, img = self.space.encode_image(image, return_info=True)
            info["image"] = {"path": img.get("path"), "weights": img.get("weights")}
            parts.append(w["image"] * vec[0])
        if audio is not None:
            parts.append(w["audio"] * self._audio_style(audio, audio_sr)[0])
            info["audio"] = str(audio) if isinstance(audio, str | Path) else "array"
        if style is not None:
            vec = torch.as_tensor(np.asarray(style, dtype=np.float32)).flatten()
            if vec.numel() != self.space.dim or not torch.isfinite(vec).all():
                raise ValueError(f"style must be {self.space.dim} finite numbers")
            parts.append(w["style"] * F.normalize(vec, dim=0))
        if not parts:
            raise ValueError("give at least one of prompt, image, audio or style")
        total = torch.stack(parts).sum(0)
        if total.norm() < 1e-6:
            raise ValueError("the weighted inputs cancel out; change the weights")
        return F.normalize(total, dim=0), info

    def _audio_style(self, audio, audio_sr) -> torch.Tensor:
        if isinstance(audio, str | Path):
            from mmgan.audio.io import load_audio

            wave, sr = load_audio(audio, sr=None)
            return self.space.encode_audio(wave, sr)
        if audio_sr is None:
            raise ValueError("audio given as an array needs audio_sr (its sample rate)")
        return self.space.encode_audio(np.asarray(audio, dtype=np.float32), int(audio_sr))

    # -- generation -------------------------------------------------------------------------

    def frames_for(self, seconds: float) -> tuple[int, int, int]:
        """``(samples, mel frames, coarse steps)`` of a ``seconds``-long output."""
        n = int(round(seconds * self.sample_rate))
        frames = 1 + n // self.hop
        return n, frames, math.ceil(frames / self.g.upsample)

    @torch.no_grad()
    def features(
        self, style: torch.Tensor, *, seed: int, steps: int, truncation: float = 1.0
    ) -> torch.Tensor:
        """Log-mel + log-chroma ``[n, rows, steps * 8]`` for style ``[n, D]`` or
        ``[n, D, steps]``; row ``i`` uses the latents of ``(seed, i)``."""
        lat = self.g.sample_latents(style.shape[0], steps, seed=int(seed))
        mean = w_mean(self.g, style, seed=int(seed)) if truncation < 1.0 else None
        x = self.g.generate_features(
            style.float(), lat, psi=float(truncation), w_mean=mean, chunk_steps=self.chunk_steps
        )
        if not torch.isfinite(x).all():
            raise RuntimeError(
                "the generator produced NaN or infinite values; the model file may be damaged "
                "(re-export it from its training run)"
            )
        return self.g.denormalise(x)

    def render(
        self,
        mel: np.ndarray,
        n_samples: int,
        seed: int,
        n_iter: int | None = None,
        renderer: str | None = None,
        chroma: np.ndarray | None = None,
    ) -> np.ndarray:
        """Log-mel ``[80, frames]`` -> audio ``[n_samples]``: the GAN vocoder, or fast NNLS
        magnitudes with PGHI phase (``"pghi"``) or random phase (``"griffinlim"``), then
        ``n_iter`` Griffin-Lim iterations (``None``: :data:`RENDER_ITERS`). ``renderer``
        ``None`` = this pipeline's default. ``chroma``: the generator's 12 log-chroma rows
        for the same frames; ``"pghi"`` then puts the mel's energy on the pitch classes they
        name (:func:`~mmgan.audio.features.chroma_guided_linear`); the others ignore them."""
        renderer = self.renderer if renderer is None else renderer
        if renderer not in RENDERERS:
            raise ValueError(f"renderer must be one of {RENDERERS}, got {renderer!r}")
        if renderer == "vocoder":
            if self.vocoder is None:
                raise ValueError(
                    "this pipeline has no vocoder (none shipped or loaded); use "
                    "renderer='pghi' or load one with Pipeline.from_pretrained(vocoder=...)"
                )
            return self.vocoder.synthesise(mel, length=n_samples)
        from mmgan.audio.features import griffin_lim

        iters = RENDER_ITERS[renderer] if n_iter is None else int(n_iter)
        guide = chroma if renderer == "pghi" else None
        init = "pghi" if renderer == "pghi" else "random"
        return griffin_lim(
            mel, n_iter=iters, length=n_samples, seed=int(seed), inverse="fast", init=init,
            chroma=guide,
        )  # fmt: skip

    def split_features(self, feats: np.ndarray, frames: int):
        """Generator features ``[rows, >= frames]`` -> ``(log-mel [n_mels, frames], log-chroma
        [12, frames] or None when the model makes no chroma rows)``."""
        m = self.g.n_mels
        chroma = feats[m : m + 12, :frames] if feats.shape[0] >= m + 12 else None
        return feats[:m, :frames], chroma

    def generate(self, style: torch.Tensor, *, seed: int, seconds: float) -> np.ndarray:
        """The evaluation interface: ``[n, D]`` -> ``[n, round(seconds * sr)]`` float32."""
        _check(seconds, self.eval_truncation, seed)
        n, frames, steps = self.frames_for(seconds)
        s = F.normalize(torch.as_tensor(style).float(), dim=-1)
        feats = self.features(s, seed=seed, steps=steps, truncation=self.eval_truncation).numpy()
        parts = [self.split_features(f, frames) for f in feats]
        return np.stack([self.render(m, n, seed, chroma=c) for m, c in parts]).astype(np.float32)

    def __call__(
        self,
        prompt: str | None = None,
        image: Any = None,
        audio: Any = None,
        style: Any = None,
        seconds: float = 20.0,
        seed: int = 0,
        truncation: float = 0.7,
        *,
        audio_sr: int | None = None,
        weights: dict[str, float] | None = None,
        sections: bool = True,
        section_depth: float = 0.3,
        morph_to: str | None = None,
        n_iter: int | None = None,
        describe: bool = True,
        renderer: str | None = None,
    ) -> GenerationResult:
        """A track of ``seconds`` for the given inputs (see the module docstring).
        ``renderer``: ``"vocoder"``, ``"pghi"`` or ``"griffinlim"`` (:meth:`render`;
        ``n_iter`` Griffin-Lim iterations); ``None`` = the vocoder when the pipeline has
        one, else ``"pghi"``.

        Raises:
            ValueError: no input, an empty prompt, seconds outside (0, 600], truncation
                outside [0, 1], a negative seed, a malformed expression or style.
            RuntimeError: the model produced NaN values.
        """
        import time

        from mmgan.audio.io import loudness_normalize

        _check(seconds, truncation, seed)
        renderer = self.renderer if renderer is None else renderer
        if renderer not in RENDERERS:
            raise ValueError(f"renderer must be one of {RENDERERS}, got {renderer!r}")
        t0 = time.perf_counter()
        s, info = self.style_of(prompt, image, audio, audio_sr, style, weights)
        n, frames, steps = self.frames_for(seconds)
        step_s = self.g.upsample * self.hop / self.sample_rate
        plan, track = self.style_track(
            s, info, seconds, steps, step_s, sections, section_depth, morph_to
        )
        t1 = time.perf_counter()
        feats = self.features(track[None], seed=seed, steps=steps, truncation=truncation)[0]
        mel, chroma = self.split_features(feats.numpy(), frames)
        t2 = time.perf_counter()
        wave = self.render(mel, n, seed, n_iter, renderer, chroma=chroma)
        wave = compose.fade(wave, self.sample_rate, plan)
        wave = loudness_normalize(wave, self.sample_rate, TARGET_LUFS).astype(np.float32)
        t3 = time.perf_counter()
        meta = self._metadata(prompt, s, info, seconds, seed, truncation, plan)
        meta["renderer"] = self.vocoder_name if renderer == "vocoder" else renderer
        if describe:
            meta["predicted_tags"] = self.heard_as(wave)
        timings = {
            "style_s": t1 - t0,
            "generator_s": t2 - t1,
            "render_s": t3 - t2,  # vocoder or phase reconstruction, fades, loudness
            "describe_s": time.perf_counter() - t3,
        }
        result = GenerationResult(wave, self.sample_rate, s.numpy(), meta, mel, timings)
        result.style_track = track.numpy()  # [D, steps]: the style at each coarse step
        return result

    def style_track(
        self, s, info, seconds, steps, step_s, sections, section_depth, morph_to
    ) -> tuple[list, torch.Tensor]:
        """``(section plan, style [D, steps])``: sections and a morph shape the style over
        time (``info`` gains the morph target's normal form)."""
        target = None
        if morph_to is not None:
            target, info["morph_to"] = self.space.parse(morph_to)
        plan = compose.plan_sections(seconds, sections)
        track = compose.shaped_style(
            s,
            steps,
            step_s,
            plan,
            energy_axis=self.energy_axis() if sections else None,
            depth=section_depth,
            morph_to=None if target is None else target[0],
        )
        return plan, track

    def heard_as(self, wave: np.ndarray, k: int = 8) -> list[list]:
        """The style space's ``k`` nearest descriptors of the finished audio."""
        heard = self.space.encode_audio(wave, self.sample_rate)
        return [[name, round(float(v), 4)] for name, v in self.space.describe(heard, k=k)]

    def _metadata(self, prompt, s, info, seconds, seed, truncation, plan) -> dict[str, Any]:
        import mmgan

        return {
            "prompt": prompt,
            **info,
            "seed": int(seed),
            "seconds": float(seconds),
            "sample_rate": self.sample_rate,
            "truncation": float(truncation),
            "model": self.name,
            "style_space": self.space.name,
            "trained_steps": self.config.get("trained_steps"),
            "mmgan_version": mmgan.__version__,
            "sections": [sec.to_dict() for sec in plan],
            "style_descriptors": [
                [name, round(float(v), 4)] for name, v in self.space.describe(s[None], k=8)
            ],
            "style": [round(float(v), 6) for v in s],
        }

    # -- latent tools -------------------------------------------------------------------------

    def _vec(self, x) -> torch.Tensor:
        if isinstance(x, str):
            return self.space.parse(x)[0][0]
        return F.normalize(torch.as_tensor(np.asarray(x, dtype=np.float32)).flatten(), dim=0)

    def blend(self, a, b, alpha: float, **kwargs) -> GenerationResult:
        """A hybrid: the style ``slerp(a, b, alpha)`` (``a``, ``b`` prompts or vectors)."""
        if not 0.0 <= float(alpha) <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        result = self(style=slerp(self._vec(a), self._vec(b), float(alpha)), **kwargs)
        result.metadata["blend"] = {"a": str(a)[:200], "b": str(b)[:200], "alpha": float(alpha)}
        return result

    def variations(self, prompt: str, n: int = 4, seed: int = 0, **kwargs):
        """``n`` tracks of one style with different noise (seeds ``seed .. seed + n - 1``)."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        return [self(prompt, seed=seed + i, **kwargs) for i in range(n)]

    def morph(self, a: str, b: str, seconds: float = 30.0, **kwargs) -> GenerationResult:
        """A track that turns from genre ``a`` into genre ``b`` over its length."""
        return self(a, seconds=seconds, morph_to=b, **kwargs)
