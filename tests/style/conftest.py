"""Tiny randomly initialised open_clip checkpoints, saved in their real formats (the tiny CLAP
checkpoint, ``tiny_clap_dir``, lives in tests/conftest.py: the eval tests use it too).

Built offline in seconds: the adapters load them through exactly the calls users make.
"""

from __future__ import annotations

import json
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TINY_CLIP_ARCH = "mmgan-tiny-clip"
TINY_CLIP_CFG = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="session")
def tiny_open_clip(tmp_path_factory):
    """A tiny open_clip architecture, registered, with weights saved two ways.

    Returns a dict: ``arch`` (registered name), ``checkpoint`` (a state-dict ``.pt`` file for
    ``openclip:<arch>:<file>``), ``folder`` (hf-hub layout: ``open_clip_config.json`` +
    ``open_clip_model.safetensors``) and ``state_dict``.
    """
    import open_clip
    import torch
    from safetensors.torch import save_file

    root = tmp_path_factory.mktemp("tiny_open_clip")
    config_file = root / f"{TINY_CLIP_ARCH}.json"
    config_file.write_text(json.dumps(TINY_CLIP_CFG))
    open_clip.add_model_config(config_file)
    torch.manual_seed(0)
    model = open_clip.create_model(TINY_CLIP_ARCH, pretrained_text=False)
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    checkpoint = root / "tiny_clip.pt"
    torch.save(state, checkpoint)
    folder = root / "hub"
    folder.mkdir()
    preprocess = {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}
    (folder / "open_clip_config.json").write_text(
        json.dumps({"model_cfg": TINY_CLIP_CFG, "preprocess_cfg": preprocess})
    )
    save_file(state, folder / "open_clip_model.safetensors")
    return {"arch": TINY_CLIP_ARCH, "checkpoint": checkpoint, "folder": folder, "state_dict": state}
