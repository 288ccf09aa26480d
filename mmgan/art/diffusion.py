"""Covers from a local ``diffusers`` text-to-image pipeline (SD-Turbo / SDXL-Turbo / SD 1.5).

Nothing is downloaded: the pipeline loads from a folder (``save_pretrained`` layout) or, given
a Hugging Face repo id, from the local HF cache only. Without either, the error says how to
fetch the weights once on a machine with network. The prompt joins the user's words, the
style's nearest descriptors and what the audio sounds like (tempo, key, brightness); with an
``init`` image (the procedural cover) it runs image-to-image, so the composition follows the
procedural cover and the diffusion model repaints it. CPU-friendly defaults: 4 steps, 512 px,
no classifier-free guidance (what the Turbo models are distilled for).

Example::

    image = diffusion_cover("models/sd-turbo", "dreamy folk", inputs, seed=3, init=procedural)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_MODEL", "build_prompt", "diffusion_cover", "load_pipeline", "resolve_model"]

DEFAULT_MODEL = "stabilityai/sd-turbo"
HOW_TO_GET = (
    "download a pipeline once on a machine with network, e.g. `huggingface-cli download "
    "stabilityai/sd-turbo --local-dir models/sd-turbo`, then pass that folder "
    "(--diffusion-model models/sd-turbo), or use --cover procedural"
)


def resolve_model(model: str | Path | None) -> Path:
    """A local pipeline folder: ``model`` itself when it is one, else the HF cache's snapshot
    of the repo id ``model`` (default :data:`DEFAULT_MODEL`), never the network."""
    candidate = Path(str(model)).expanduser() if model is not None else None
    if candidate is not None and candidate.is_dir():
        if not (candidate / "model_index.json").is_file():
            raise FileNotFoundError(
                f"{candidate} is not a diffusers pipeline folder (no model_index.json); "
                + HOW_TO_GET
            )
        return candidate
    repo = str(model) if model is not None else DEFAULT_MODEL
    if candidate is not None and (candidate.is_absolute() or str(model).startswith(".")):
        raise FileNotFoundError(f"no diffusers pipeline at {candidate}; " + HOW_TO_GET)
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo, local_files_only=True))
    except Exception as err:  # LocalEntryNotFoundError, HFValidationError, ...
        raise FileNotFoundError(
            f"the diffusion cover needs local weights: {repo!r} is neither a folder nor in the "
            f"Hugging Face cache ({type(err).__name__}); " + HOW_TO_GET
        ) from err


_PIPES: dict[tuple[str, bool], Any] = {}


def load_pipeline(model: str | Path | None, img2img: bool = False):
    """The text-to-image (or image-to-image) pipeline at :func:`resolve_model` (cached per
    process), float32 on the CPU, without the safety checker's extra download."""
    import torch
    from diffusers import AutoPipelineForImage2Image, AutoPipelineForText2Image

    folder = resolve_model(model)
    key = (str(folder), img2img)
    if key not in _PIPES:
        base = _PIPES.get((str(folder), False))
        if base is None:
            base = AutoPipelineForText2Image.from_pretrained(
                folder, dtype=torch.float32, local_files_only=True, safety_checker=None
            )
            base.set_progress_bar_config(disable=True)
            _PIPES[(str(folder), False)] = base
        if img2img:
            pipe = AutoPipelineForImage2Image.from_pipe(base)
            pipe.set_progress_bar_config(disable=True)
            _PIPES[key] = pipe
    return _PIPES[key]


def build_prompt(user_prompt: str, inputs=None, limit: int = 300) -> str:
    """User words + nearest descriptors + audio feel, as a cover-art prompt."""
    parts = [" ".join(str(user_prompt or "").split())[:150]]
    if inputs is not None:
        genres = " and ".join(sorted(inputs.genre_weights, key=lambda g: -inputs.genre_weights[g]))
        parts.append(f"{genres} album cover art")
        parts += list(inputs.descriptors[:4])
        feel = (
            "fast, energetic" if inputs.tempo >= 130 else "slow, calm" if inputs.tempo < 90 else ""
        )
        mood = "dark, moody" if inputs.minor else "bright, warm"
        parts += [p for p in (feel, mood) if p]
    else:
        parts.append("album cover art")
    parts.append("no text")
    return ", ".join(p for p in parts if p)[:limit]


def diffusion_cover(
    model: str | Path | None,
    prompt: str,
    inputs=None,
    *,
    seed: int = 0,
    init=None,
    steps: int = 4,
    size: int = 512,
    strength: float = 0.6,
    guidance: float = 0.0,
):
    """A ``size`` x ``size`` PIL cover from the local pipeline ``model`` (see module docs).

    Raises:
        FileNotFoundError: no local pipeline (the message says how to get one).
        ValueError: steps < 1, size not a multiple of 8, or strength outside (0, 1].
    """
    import torch

    if steps < 1 or size % 8 or not 0 < strength <= 1:
        raise ValueError("need steps >= 1, size a multiple of 8 and 0 < strength <= 1")
    text = build_prompt(prompt, inputs)
    gen = torch.Generator().manual_seed(int(seed))
    if init is not None:
        pipe = load_pipeline(model, img2img=True)
        image = init.convert("RGB").resize((size, size))
        # img2img runs int(steps * strength) denoising steps: ask for enough to do >= 1
        n = max(steps, int(round(1 / strength + 0.5)))
        out = pipe(text, image=image, num_inference_steps=n, strength=strength,
                   guidance_scale=guidance, generator=gen)  # fmt: skip
    else:
        pipe = load_pipeline(model, img2img=False)
        out = pipe(text, num_inference_steps=steps, guidance_scale=guidance, height=size,
                   width=size, generator=gen)  # fmt: skip
    return out.images[0].convert("RGB")
