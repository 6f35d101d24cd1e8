"""HuggingFace ``transformers`` models built from a local config with random weights (the ``llm`` extra).

Nothing is downloaded: ``hf_gpt2(...)`` and ``hf_llama(...)`` build a config object in memory from the
keyword arguments and initialise the weights randomly (seeded), or on the meta device, where no weight is
allocated. ``attn`` picks HF's attention implementation: ``"sdpa"`` (fused
``F.scaled_dot_product_attention``) or ``"eager"`` (explicit ``q @ k^T``, softmax, ``@ v``); both are
mapped (tests/models/test_hf.py).

Install with ``pip install -e .[llm]`` (transformers 5.x; tested with 5.24 on torch 2.13). Without it
these functions raise ``ModelError`` saying so; the native zoo GPT-2 (``models.gpt2``) needs nothing.
"""

from __future__ import annotations

from typing import Any

import torch

from simulator.errors import ModelError

__all__ = ["GPT2_SMALL_HF", "GPT2_TINY_HF", "hf_gpt2", "hf_llama", "token_ids"]

#: GPT-2 small's released config.json (the shape only).
GPT2_SMALL_HF = {"n_layer": 12, "n_embd": 768, "n_head": 12, "n_positions": 1024, "vocab_size": 50257}
#: A tiny GPT-2 for tests (token ids 0..255; bos/eos set inside the vocabulary).
GPT2_TINY_HF = {"n_layer": 2, "n_embd": 64, "n_head": 4, "n_positions": 128, "vocab_size": 256,
                "bos_token_id": 0, "eos_token_id": 0}


def _transformers() -> Any:
    try:
        import transformers
    except ImportError:
        raise ModelError("HuggingFace models need the 'llm' extra: pip install -e '.[llm]' (transformers)") from None
    return transformers


def _build(cls: Any, config: Any, device: str | None, seed: int) -> torch.nn.Module:
    if device is not None and torch.device(device).type == "meta":
        with torch.device("meta"):
            return cls(config).eval()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return cls(config).eval()


def hf_gpt2(attn: str = "sdpa", device: str | None = None, seed: int = 0, **config: Any) -> torch.nn.Module:
    """``GPT2LMHeadModel`` of ``GPT2_TINY_HF`` updated by ``config`` (e.g. ``**GPT2_SMALL_HF``), random weights."""
    t = _transformers()
    cfg = t.GPT2Config(**{**GPT2_TINY_HF, **config}, attn_implementation=attn, use_cache=False)
    return _build(t.GPT2LMHeadModel, cfg, device, seed)


def hf_llama(attn: str = "sdpa", device: str | None = None, seed: int = 0, **config: Any) -> torch.nn.Module:
    """``LlamaForCausalLM`` from ``config`` (HF ``LlamaConfig`` keywords; default a tiny GQA model), random weights."""
    t = _transformers()
    tiny = {"num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 2,
            "intermediate_size": 128, "vocab_size": 256, "max_position_embeddings": 128,
            "bos_token_id": 0, "eos_token_id": 0, "pad_token_id": 0}
    cfg = t.LlamaConfig(**{**tiny, **config}, attn_implementation=attn, use_cache=False)
    return _build(t.LlamaForCausalLM, cfg, device, seed)


def token_ids(batch: int, tokens: int, device: str | None = None) -> torch.Tensor:
    """Example token ids ``(batch, tokens)`` (zeros: the cost does not depend on the values)."""
    return torch.zeros((batch, tokens), dtype=torch.long, device=device)
