"""On the meta device, trace ``F.scaled_dot_product_attention`` as the fused kernel CPU tensors run.

With real CPU tensors PyTorch runs SDPA as one fused op (``aten._scaled_dot_product_flash_attention_for_cpu``),
which the tracer maps as attention (scores on chip). On meta it has no kernel choice and falls back to the
math decomposition: ``q`` and ``k`` each multiplied by sqrt(scale) (``mul.Scalar`` writing a scaled copy
of the whole key tensor, i.e. of the whole KV cache in a decode step), ``bmm``, softmax, ``bmm``, and for
float16 inputs up-casts of q, k and v to float32. An LLM traced on meta (the only way to trace a 7B
model) was therefore charged about twice its KV-cache traffic per decode step, and more in fp16.

``FusedSdpaOnMeta`` (a ``TorchFunctionMode`` the tracer enters on meta) calls the fused CPU op instead
whenever CPU tensors would take it: no ``attn_mask``, no dropout, 4-D inputs (grouped-query k/v with
fewer heads included; the op's meta kernel accepts them). Anything else runs as before.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

__all__ = ["FusedSdpaOnMeta"]


def _bind(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
    return query, key, value, attn_mask, dropout_p, is_causal, scale


class FusedSdpaOnMeta(TorchFunctionMode):
    """Route meta-device SDPA to ``aten._scaled_dot_product_flash_attention_for_cpu`` (module doc)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.scaled_dot_product_attention:
            q, k, v, mask, dropout, causal, scale = _bind(*args, **kwargs)
            if q.is_meta and mask is None and dropout == 0.0 and q.dim() == k.dim() == v.dim() == 4:
                return torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(
                    q, k, v, dropout_p=0.0, is_causal=bool(causal), scale=scale)[0]
        return func(*args, **kwargs)
