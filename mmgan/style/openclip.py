"""open_clip CLIP models loaded from a local folder, checkpoint or the HF cache (never downloaded).

``load_open_clip(spec)`` returns an :class:`OpenClip` bundle (model, preprocessing,
tokenizer) shared by the text adapter (``load_text_encoder("openclip:...")``) and
the picture path (``mmgan.style.image``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

OPENCLIP_EXAMPLE = "laion/CLIP-ViT-B-32-laion2B-s34B-b79K"
_CHECKPOINT_NAMES = (
    "open_clip_model.safetensors",
    "open_clip_pytorch_model.safetensors",
    "open_clip_pytorch_model.bin",
    "open_clip_pytorch_model.pth",
    "model.safetensors",
    "pytorch_model.bin",
)


@dataclass(eq=False)
class OpenClip:
    """A loaded open_clip model (CPU, eval mode), shared by the text adapter and the image path.

    Attributes:
        id: the canonical spec, ``"openclip:<spec>"``.
        model: the open_clip ``CLIP`` module.
        preprocess: ``PIL.Image -> Tensor[3, H, W]`` (the model's eval transform).
        tokenizer: ``list[str] -> LongTensor[B, context_length]``.
        embed_dim: width of the joint embedding ``E``.
        context_length: token limit, start/end tokens included.
    """

    id: str
    model: Any
    preprocess: Any
    tokenizer: Any
    embed_dim: int = 0
    context_length: int = 77
    text_cache: dict[tuple[str, ...], torch.Tensor] = field(default_factory=dict, repr=False)

    @property
    def logit_scale(self) -> float:
        """The learned inverse temperature ``exp(logit_scale)``, capped at 100 like CLIP."""
        scale = getattr(self.model, "logit_scale", None)
        return min(float(scale.detach().exp()), 100.0) if scale is not None else 100.0

    def count_tokens(self, text: str) -> int:
        inner = getattr(self.tokenizer, "tokenizer", None)
        if callable(inner):  # HFTokenizer / SigLipTokenizer wrap a transformers tokenizer
            return len(inner(text)["input_ids"])
        return len(self.tokenizer.encode(text)) + 2  # SimpleTokenizer: + <start>, <end>

    @torch.inference_mode()
    def encode_text(self, texts: Sequence[str]) -> torch.Tensor:
        """``Tensor[B, E]`` L2-normalised text embeddings (tokenizer truncates long prompts)."""
        tokens = self.tokenizer(list(texts))
        return F.normalize(self.model.encode_text(tokens).float(), dim=-1)

    @torch.inference_mode()
    def encode_image(self, images: Sequence[Any]) -> torch.Tensor:
        """``Tensor[B, E]`` L2-normalised image embeddings of RGB ``PIL.Image`` s."""
        pixels = torch.stack([self.preprocess(im) for im in images])  # [B, 3, H, W]
        return F.normalize(self.model.encode_image(pixels).float(), dim=-1)


_CLIP_CACHE: dict[str, OpenClip] = {}
_CLIP_LOCK = threading.Lock()


def load_open_clip(spec: str) -> OpenClip:
    """Load an open_clip model from local files only (once per process).

    ``spec`` (an ``"openclip:"`` prefix is optional) is one of:

    - ``<folder>``: an hf-hub style folder with ``open_clip_config.json`` and weights
      (``open_clip_model.safetensors`` or ``open_clip_pytorch_model.bin``);
    - ``<arch>:<checkpoint file>``: a built-in (or registered) architecture such as
      ``ViT-B-32`` with a state-dict checkpoint, as for
      ``open_clip.create_model_and_transforms(arch, pretrained=file)``;
    - ``<arch>:<pretrained tag>``: e.g. ``ViT-B-32:laion2b_s34b_b79k``, when its weights are in
      the local Hugging Face cache;
    - ``hf-hub:<org/repo>`` or ``<org/repo>``: a repository in the local Hugging Face cache.

    Raises:
        ImportError: open_clip is not installed.
        FileNotFoundError: no local weights; the message says what to download and where.
        ValueError: an unknown architecture.
    """
    rest = spec.strip()
    if rest.lower().startswith(("openclip:", "open_clip:")):
        rest = rest.split(":", 1)[1]
    if not rest:
        raise ValueError("empty open_clip spec; see load_open_clip's docstring for the forms")
    try:
        import open_clip
    except ImportError as err:
        raise ImportError("the CLIP adapter needs `pip install open_clip_torch`") from err
    with _CLIP_LOCK:
        if rest in _CLIP_CACHE:
            return _CLIP_CACHE[rest]
        name, kwargs = _resolve_open_clip(open_clip, rest)
        model, _, preprocess = open_clip.create_model_and_transforms(
            name, device="cpu", pretrained_text=False, **kwargs
        )
        model.eval()
        tokenizer = open_clip.get_tokenizer(name)
        context = getattr(tokenizer, "context_length", None) or model.context_length
        clip = OpenClip(f"openclip:{rest}", model, preprocess, tokenizer, context_length=context)
        clip.embed_dim = int(clip.encode_text(["music"]).shape[-1])
        _CLIP_CACHE[rest] = clip
        return clip


def _resolve_open_clip(open_clip: Any, rest: str) -> tuple[str, dict[str, Any]]:
    """``(model_name, create_model_and_transforms kwargs)`` for a spec, from local files only."""
    path = Path(rest).expanduser()
    if path.is_dir():
        return _open_clip_dir(path, rest), {}
    if rest.startswith("hf-hub:"):
        repo = rest[len("hf-hub:") :]
        return _open_clip_dir(_hf_snapshot(repo, rest), rest), {}
    if looks_like_path(rest) and not Path(rest).expanduser().exists() and ":" not in rest:
        raise FileNotFoundError(
            f"no open_clip folder at {rest!r}; it should hold open_clip_config.json and "
            f"open_clip_model.safetensors, e.g. from `huggingface-cli download "
            f"{OPENCLIP_EXAMPLE} --local-dir {rest}`"
        )
    arch, sep, weights = rest.partition(":")
    if not sep and rest.count("/") == 1 and not path.exists():
        return _open_clip_dir(_hf_snapshot(rest, rest), rest), {}
    if arch not in open_clip.list_models():
        raise ValueError(
            f"open_clip has no architecture {arch!r} (and {rest!r} is not a local folder); "
            f"known: {', '.join(open_clip.list_models()[:8])}, ..."
        )
    if not weights:
        raise FileNotFoundError(
            f"openclip:{rest} names an architecture but no weights. Use "
            f"'openclip:{arch}:/path/to/open_clip_pytorch_model.bin', or download a checkpoint "
            f"with `huggingface-cli download {OPENCLIP_EXAMPLE}` and use "
            f"'openclip:hf-hub:{OPENCLIP_EXAMPLE}'"
        )
    if Path(weights).expanduser().is_file():
        return arch, {"pretrained": str(Path(weights).expanduser().resolve())}
    tag = open_clip.get_pretrained_cfg(arch, weights)
    if not tag or not tag.get("hf_hub"):
        raise FileNotFoundError(
            f"no checkpoint file at {weights!r}, and it is not a Hugging Face hosted pretrained "
            f"tag of {arch} (tags: {open_clip.list_pretrained_tags_by_model(arch)})"
        )
    repo = tag["hf_hub"].strip("/")
    repo = "/".join(repo.split("/")[:2])
    ckpt = _find_checkpoint(_hf_snapshot(repo, rest))
    if ckpt is None:
        raise FileNotFoundError(
            f"the cached {repo} has no weights; `huggingface-cli download {repo}`"
        )
    kwargs: dict[str, Any] = {
        "pretrained": str(ckpt),
        "force_quick_gelu": tag.get("quick_gelu", False),
    }
    for key, arg in (
        ("mean", "image_mean"),
        ("std", "image_std"),
        ("interpolation", "image_interpolation"),
    ):
        if tag.get(key):
            kwargs[arg] = tag[key]
    return arch, kwargs


def _open_clip_dir(path: Path, spec: str) -> str:
    config = path / "open_clip_config.json"
    if not config.is_file():
        raise FileNotFoundError(
            f"{path} (from {spec!r}) has no open_clip_config.json; an open_clip folder holds "
            "open_clip_config.json and open_clip_model.safetensors (as on the Hub, e.g. "
            f"`huggingface-cli download {OPENCLIP_EXAMPLE} --local-dir models/clip`)"
        )
    try:
        json.loads(config.read_text(encoding="utf-8"))["model_cfg"]
    except (ValueError, KeyError) as err:
        raise ValueError(f"{config} is not a valid open_clip config (needs 'model_cfg')") from err
    if _find_checkpoint(path) is None:
        raise FileNotFoundError(
            f"{path} has open_clip_config.json but no weights ({', '.join(_CHECKPOINT_NAMES[:3])})"
            f"; download them, e.g. `huggingface-cli download {OPENCLIP_EXAMPLE} --local-dir "
            f"{path}`"
        )
    return f"local-dir:{path.resolve()}"


def _find_checkpoint(folder: Path) -> Path | None:
    for name in _CHECKPOINT_NAMES:
        if (folder / name).is_file():
            return folder / name
    found = sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin"))
    return found[0] if found else None


def _hf_snapshot(repo: str, spec: str) -> Path:
    """The local snapshot folder of ``repo`` in the Hugging Face cache (never downloads)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo, local_files_only=True))
    except LocalEntryNotFoundError as err:
        raise FileNotFoundError(
            f"{spec!r}: {repo} is not a local folder and not in the local Hugging Face cache "
            f"(nothing is downloaded at run time). Fetch it while online with "
            f"`huggingface-cli download {repo}`, or put the files in a folder and pass its path"
        ) from err
    except HFValidationError as err:
        raise FileNotFoundError(f"{spec!r} is neither a local folder nor a valid HF id") from err


def looks_like_path(source: str) -> bool:
    """True for strings that cannot be a Hugging Face ``org/name`` id."""
    return (
        Path(source).is_absolute()
        or source.startswith((".", "~"))
        or source.count("/") > 1
        or "\\" in source
    )
