"""Loading exported weights into a module, with one clear error when they do not fit.

Every mmgan model folder is ``config.json`` + ``model.safetensors`` (see ARCHITECTURE.md);
weights may be stored float16 and are loaded as float32.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["CheckpointError", "load_checked"]


class CheckpointError(ValueError):
    """A model folder is missing, foreign, or does not fit the model it describes."""


def load_checked(module: nn.Module, state: dict[str, torch.Tensor], where: str) -> None:
    """``module.load_state_dict(state)`` with floating tensors cast to float32.

    Raises:
        CheckpointError: one message listing missing, unexpected and misshapen keys (the
            first five of each), naming ``where`` the state came from and the module class.
    """
    own = module.state_dict()
    missing, extra = sorted(set(own) - set(state)), sorted(set(state) - set(own))
    shapes = [
        f"{k}: {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
        for k in own
        if k in state and state[k].shape != own[k].shape
    ]
    if missing or extra or shapes:
        parts = [
            f"missing {missing[:5]}" if missing else "",
            f"unexpected {extra[:5]}" if extra else "",
            f"shape mismatch {shapes[:5]}" if shapes else "",
        ]
        raise CheckpointError(
            f"{where} does not fit this {type(module).__name__} "
            f"({'; '.join(p for p in parts if p)}); was it saved by another model or with "
            "other constructor arguments?"
        )
    module.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
