"""Test doubles shared by the style tests (imported as a sibling module)."""

import hashlib

import torch


def fake_encoder(dim: int):
    """A deterministic text encoder: each text hashes to a fixed random unit vector ``[B, dim]``."""

    def encode(texts: list[str]) -> torch.Tensor:
        rows = []
        for t in texts:
            seed = int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "little")
            rows.append(torch.randn(dim, generator=torch.Generator().manual_seed(seed)))
        out = torch.stack(rows)
        return out / out.norm(dim=1, keepdim=True)

    return encode
