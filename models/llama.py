"""A Llama-style decoder-only transformer from plain torch modules (no ``transformers`` dependency).

Each block: RMSNorm -> grouped-query attention with rotary position embeddings (q, k, v, o
projections without bias; ``kv_heads`` <= ``heads``) -> residual -> RMSNorm -> SwiGLU feed-forward
(``down(silu(gate(x)) * up(x))``) -> residual; a final RMSNorm and the LM head (Touvron et al.,
"Llama 2", 2023, Sec. 2.2 and the reference implementation).

The KV cache is explicit: ``forward(ids, cache=None, start=0)`` takes, per layer, preallocated key and
value tensors ``(batch, kv_heads, max_tokens, head_dim)``; the step writes its new keys and values at
``start .. start + T`` (a slice copy) and attends over ``[0, start + T)`` (a view), so a traced decode
step reads the cache once and writes one token's entries, as an inference engine with a
preallocated cache does. Prefill (``start = 0``, T = prompt) uses a causal mask, decode (T = 1) none.

``LLAMA_7B`` is the Llama-2-7B shape (32 layers, 4096 wide, 32 heads, 11008 FFN, 32000 vocabulary;
6.74 B parameters); build it on the meta device (``build_llama(LLAMA_7B, device="meta")``) to trace
without allocating weights.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["CachedStep", "LLAMA_7B", "LLAMA_TINY", "LlamaConfig", "LlamaModel", "build_llama", "llama_7b", "llama_tiny"]


@dataclass(frozen=True, slots=True)
class LlamaConfig:
    """Shape of a Llama-style decoder."""

    layers: int
    embed: int
    heads: int
    kv_heads: int
    ffn: int
    vocab: int
    max_tokens: int = 4096
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5

    def __post_init__(self) -> None:
        if self.embed % self.heads or self.heads % self.kv_heads:
            raise ValueError(
                f"LlamaConfig: embed ({self.embed}) must divide by heads ({self.heads}) and heads by kv_heads ({self.kv_heads})"
            )

    @property
    def head_dim(self) -> int:
        return self.embed // self.heads

    def kv_cache_bits(self, tokens: int, batch: int = 1, bits: int = 16) -> int:
        """KV-cache size: 2 (k and v) x layers x kv_heads x head_dim x tokens x batch x bits."""
        return 2 * self.layers * self.kv_heads * self.head_dim * tokens * batch * bits


#: Llama-2-7B (Touvron et al. 2023, Table 1 / the released config.json): 6,738,415,616 parameters.
LLAMA_7B = LlamaConfig(layers=32, embed=4096, heads=32, kv_heads=32, ffn=11008, vocab=32000, max_tokens=4096)
#: A tiny configuration with grouped-query attention (4 query heads share 2 kv heads) for tests.
LLAMA_TINY = LlamaConfig(layers=2, embed=64, heads=4, kv_heads=2, ffn=128, vocab=256, max_tokens=128)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary embedding (half-split form): (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin)."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)


class Attention(nn.Module):
    def __init__(self, c: LlamaConfig) -> None:
        super().__init__()
        self.c = c
        d = c.head_dim
        self.q_proj = nn.Linear(c.embed, c.heads * d, bias=False)
        self.k_proj = nn.Linear(c.embed, c.kv_heads * d, bias=False)
        self.v_proj = nn.Linear(c.embed, c.kv_heads * d, bias=False)
        self.o_proj = nn.Linear(c.heads * d, c.embed, bias=False)

    def forward(self, x, cos, sin, cache, start):
        b, t, _ = x.shape
        c, d = self.c, self.c.head_dim
        q = self.q_proj(x).view(b, t, c.heads, d).transpose(1, 2)
        k = self.k_proj(x).view(b, t, c.kv_heads, d).transpose(1, 2)
        v = self.v_proj(x).view(b, t, c.kv_heads, d).transpose(1, 2)
        q, k = _rotate(q, cos, sin), _rotate(k, cos, sin)
        if cache is not None:
            k_cache, v_cache = cache
            k_cache[:, :, start : start + t] = k
            v_cache[:, :, start : start + t] = v
            k, v = k_cache[:, :, : start + t], v_cache[:, :, : start + t]
        y = F.scaled_dot_product_attention(q, k, v, is_causal=t > 1, enable_gqa=c.kv_heads != c.heads)
        return self.o_proj(y.transpose(1, 2).reshape(b, t, c.heads * d))


class MLP(nn.Module):
    def __init__(self, c: LlamaConfig) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(c.embed, c.ffn, bias=False)
        self.up_proj = nn.Linear(c.embed, c.ffn, bias=False)
        self.down_proj = nn.Linear(c.ffn, c.embed, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, c: LlamaConfig) -> None:
        super().__init__()
        self.input_layernorm = RMSNorm(c.embed, c.norm_eps)
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c.embed, c.norm_eps)
        self.mlp = MLP(c)

    def forward(self, x, cos, sin, cache, start):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, cache, start)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(nn.Module):
    """Token ids (B, T) -> logits (B, T, vocab); see the module docstring for the cache."""

    def __init__(self, c: LlamaConfig) -> None:
        super().__init__()
        self.config = c
        #: Set by ``simulator.compress.llm.KVCacheQuantize``: the cache's bits per value (None: the weights' width).
        self.kv_cache_value_bits: int | None = None
        self.embed_tokens = nn.Embedding(c.vocab, c.embed)
        self.layers = nn.ModuleList(Block(c) for _ in range(c.layers))
        self.norm = RMSNorm(c.embed, c.norm_eps)
        self.lm_head = nn.Linear(c.embed, c.vocab, bias=False)
        inv = 1.0 / (c.rope_theta ** (torch.arange(0, c.head_dim, 2, dtype=torch.float32) / c.head_dim))
        self.register_buffer("inv_freq", inv, persistent=False)

    def forward(self, ids: torch.Tensor, cache: list[torch.Tensor] | None = None, start: int = 0) -> torch.Tensor:
        """``cache``: 2 x layers tensors (k0, v0, k1, v1, ...), each (B, kv_heads, max_tokens, head_dim)."""
        t = ids.shape[1]
        pos = torch.arange(start, start + t, device=ids.device, dtype=torch.float32)
        angles = pos[:, None] * self.inv_freq[None, :].float()
        x = self.embed_tokens(ids)
        cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
        for i, layer in enumerate(self.layers):
            pair = None if cache is None else (cache[2 * i], cache[2 * i + 1])
            x = layer(x, cos, sin, pair, start)
        return self.lm_head(self.norm(x))

    def shallow(self, layers: int) -> "LlamaModel":
        """This model with only its first ``layers`` blocks (the same module objects, nothing copied): traced
        once and repeated by ``simulator.trace.stack.stack_layers`` (``simulate_generation``)."""
        m = copy.copy(self)
        m._modules = dict(self._modules)
        m._modules["layers"] = nn.ModuleList(list(self.layers)[:layers])
        m.config = dataclasses.replace(self.config, layers=layers)
        return m

    #: Module prefixes of block 0, block 1 and block ``i`` as ``stack_layers`` reads them in a traced step.
    LAYER_PREFIX = "model.layers.{}"

    def step(self, start: int) -> "CachedStep":
        """The module one cached forward at position ``start`` is traced as (``simulator.generation``)."""
        return CachedStep(self, start)

    def token_inputs(self, batch: int, tokens: int, device=None) -> tuple[torch.Tensor]:
        """Example token ids ``(batch, tokens)`` (zeros: the cost does not depend on the token values)."""
        return (torch.zeros((batch, tokens), dtype=torch.long, device=device or self.lm_head.weight.device),)

    @property
    def cache_value_bits(self) -> int:
        """Bits of one cached key/value element (a quantized cache's, else the weights' floating-point width)."""
        if self.kv_cache_value_bits is not None:
            return self.kv_cache_value_bits
        dtype = self.lm_head.weight.dtype
        return torch.finfo(dtype).bits if dtype.is_floating_point else 8

    def empty_cache(self, batch: int, tokens: int, device=None, dtype=None) -> list[torch.Tensor]:
        """A preallocated cache of ``tokens`` positions (zeros; on meta nothing is allocated)."""
        c = self.config
        w = self.lm_head.weight
        shape = (batch, c.kv_heads, tokens, c.head_dim)
        return [torch.zeros(shape, device=device or w.device, dtype=dtype or w.dtype) for _ in range(2 * c.layers)]


def build_llama(config: LlamaConfig, device: str | torch.device | None = None, seed: int = 0) -> LlamaModel:
    """A randomly initialised model (seeded); ``device="meta"`` allocates no weights."""
    if device is not None and torch.device(device).type == "meta":
        with torch.device("meta"):
            return LlamaModel(config).eval()
    torch.manual_seed(seed)
    return LlamaModel(config).eval()


def llama_tiny() -> LlamaModel:
    """``LLAMA_TINY`` on CPU with seeded random weights."""
    return build_llama(LLAMA_TINY)


def llama_7b() -> LlamaModel:
    """``LLAMA_7B`` on the meta device (shapes only)."""
    return build_llama(LLAMA_7B, device="meta")


class CachedStep(nn.Module):
    """One forward of ``model`` writing its keys and values at ``start`` of a cache passed as separate inputs.

    ``forward(ids, k0, v0, k1, v1, ...)``: the cache tensors are model inputs of the traced step
    (``input:1`` ...), so the workload reads them as inputs, not as anonymous constants.
    """

    def __init__(self, model: LlamaModel, start: int) -> None:
        super().__init__()
        self.model = model
        self.start = start

    def forward(self, ids: torch.Tensor, *cache: torch.Tensor) -> torch.Tensor:
        return self.model(ids, list(cache), self.start)
