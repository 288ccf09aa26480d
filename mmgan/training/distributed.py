"""Single-process or ``torchrun`` multi-process training: one small helper, no framework.

Under ``torchrun --nproc_per_node N`` (``WORLD_SIZE > 1`` in the environment) the process
group starts with ``gloo`` on CPU or ``nccl`` on CUDA, each rank takes its own GPU
(``LOCAL_RANK``), and :func:`wrap` puts a module in ``DistributedDataParallel`` so its
gradients are averaged across ranks. Outside ``torchrun`` everything is a no-op.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

__all__ = ["DistInfo", "init_distributed", "shutdown", "unwrap", "wrap"]


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: str = "cpu"

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world > 1


def init_distributed(device: str = "cpu") -> DistInfo:
    """Join the ``torchrun`` process group when there is one; return this rank's place."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for but torch sees no CUDA device")
    if world <= 1:
        return DistInfo(device=device)
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.startswith("cuda"):
        torch.cuda.set_device(local)
        device = f"cuda:{local}"
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo")
    return DistInfo(rank=rank, world=world, local_rank=local, device=device)


def wrap(module: nn.Module, info: DistInfo) -> nn.Module:
    """``DistributedDataParallel(module)`` when distributed, else ``module``.

    ``broadcast_buffers=False``: spectral-norm power-iteration vectors start equal (same
    seed) and evolve identically from identical weights, so there is nothing to broadcast.
    """
    if not info.enabled:
        return module
    from torch.nn.parallel import DistributedDataParallel

    ids = [info.local_rank] if info.device.startswith("cuda") else None
    return DistributedDataParallel(module, device_ids=ids, broadcast_buffers=False)


def unwrap(module: nn.Module) -> nn.Module:
    return getattr(module, "module", module)


def shutdown(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()
