"""GPT-2 from plain torch modules (no ``transformers`` dependency), so the default install has it.

Each block: LayerNorm -> causal self-attention with one fused qkv projection (split into q, k, v views,
``F.scaled_dot_product_attention``) -> output projection -> residual -> LayerNorm -> MLP (4x, GELU tanh
approximation) -> residual; learned position embeddings, a final LayerNorm and the LM head tied to the
token embedding (Radford et al. 2019, "Language Models are Unsupervised Multitask Learners", Sec. 2.3,
and the released code). Parameter names follow HuggingFace's ``GPT2LMHeadModel`` (``transformer.h.0.
attn.c_attn``, ...) so a record written for one names the same layers in the other, except that the
projections here are ``nn.Linear`` (HF's ``Conv1D`` stores the transposed weight).

``GPT2_SMALL`` is the 124M model (12 layers, 768 wide, 12 heads, 1024 positions, 50,257 tokens):
124,439,808 parameters with the tied head. At 128 tokens it performs 16,114,089,984 MACs, the number
HuggingFace's GPT-2 traces to (tests/models/test_gpt2.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from models.registry import register_model

__all__ = ["GPT2_SMALL", "GPT2_TINY", "GPT2Config", "GPT2Model", "build_gpt2", "gpt2_small"]


@dataclass(frozen=True, slots=True)
class GPT2Config:
    """Shape of a GPT-2 decoder."""

    layers: int
    embed: int
    heads: int
    vocab: int
    positions: int = 1024
    norm_eps: float = 1e-5

    def __post_init__(self) -> None:
        if self.embed % self.heads:
            raise ValueError(f"GPT2Config: embed ({self.embed}) must divide by heads ({self.heads})")


#: GPT-2 small (the released 124M config.json: n_layer 12, n_embd 768, n_head 12, n_positions 1024, vocab 50257).
GPT2_SMALL = GPT2Config(layers=12, embed=768, heads=12, vocab=50257, positions=1024)
#: A tiny configuration for tests.
GPT2_TINY = GPT2Config(layers=2, embed=64, heads=4, vocab=256, positions=128)


class Attention(nn.Module):
    def __init__(self, c: GPT2Config) -> None:
        super().__init__()
        self.heads = c.heads
        self.c_attn = nn.Linear(c.embed, 3 * c.embed)
        self.c_proj = nn.Linear(c.embed, c.embed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, e = x.shape
        q, k, v = self.c_attn(x).split(e, dim=-1)
        q, k, v = (y.view(b, t, self.heads, e // self.heads).transpose(1, 2) for y in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).reshape(b, t, e))


class MLP(nn.Module):
    def __init__(self, c: GPT2Config) -> None:
        super().__init__()
        self.c_fc = nn.Linear(c.embed, 4 * c.embed)
        self.c_proj = nn.Linear(4 * c.embed, c.embed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, c: GPT2Config) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(c.embed, eps=c.norm_eps)
        self.attn = Attention(c)
        self.ln_2 = nn.LayerNorm(c.embed, eps=c.norm_eps)
        self.mlp = MLP(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, c: GPT2Config) -> None:
        super().__init__()
        self.wte = nn.Embedding(c.vocab, c.embed)
        self.wpe = nn.Embedding(c.positions, c.embed)
        self.h = nn.ModuleList(Block(c) for _ in range(c.layers))
        self.ln_f = nn.LayerNorm(c.embed, eps=c.norm_eps)


class GPT2Model(nn.Module):
    """Token ids (B, T) -> logits (B, T, vocab)."""

    def __init__(self, c: GPT2Config) -> None:
        super().__init__()
        self.config = c
        self.transformer = Transformer(c)
        self.lm_head = nn.Linear(c.embed, c.vocab, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied, as GPT-2 is

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        t = ids.shape[1]
        tr = self.transformer
        x = tr.wte(ids) + tr.wpe(torch.arange(t, device=ids.device))
        for block in tr.h:
            x = block(x)
        return self.lm_head(tr.ln_f(x))


def build_gpt2(config: GPT2Config, device: str | torch.device | None = None) -> GPT2Model:
    """A randomly initialised model (the caller seeds); ``device="meta"`` allocates no weights."""
    if device is not None and torch.device(device).type == "meta":
        with torch.device("meta"):
            return GPT2Model(config).eval()
    return GPT2Model(config).eval()


@register_model("gpt2_small", (1, 128), "GPT-2 small (124M, 12 layers, 768 wide), 128 token ids", input_dtype="int64")
def gpt2_small() -> GPT2Model:
    """``GPT2_SMALL`` with seeded random weights (about 500 MB of float32)."""
    return build_gpt2(GPT2_SMALL)
