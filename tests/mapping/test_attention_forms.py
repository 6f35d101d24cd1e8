"""Attention in its traced forms (issue 16): eager vs fused SDPA, causal MACs, grouped-query k/v traffic.

Profile: horowitz45-sram512k (Horowitz ISSCC 2014 energies, a 512 KB SRAM): every tensor of these
small blocks fits on chip, so the scores stay in the SRAM in both forms.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from simulator import simulate
from simulator.hardware import load_profile
from simulator.mapping import map_workload
from simulator.ops import AttentionDims
from simulator.trace import trace

PROFILE = "horowitz45-sram512k"


class SelfAttention(nn.Module):
    """GPT-2-style attention: one fused qkv projection split into views, eager matmuls or SDPA."""

    def __init__(self, embed: int = 32, heads: int = 4, eager: bool = True) -> None:
        super().__init__()
        self.qkv, self.out, self.heads, self.eager = nn.Linear(embed, 3 * embed), nn.Linear(embed, embed), heads, eager

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, length, e = x.shape
        q, k, v = self.qkv(x).split(e, dim=-1)
        q, k, v = (t.view(b, length, self.heads, e // self.heads).transpose(1, 2) for t in (q, k, v))
        if self.eager:
            y = ((q @ k.transpose(-2, -1)) / math.sqrt(e // self.heads)).softmax(-1) @ v
        else:
            y = F.scaled_dot_product_attention(q, k, v)
        return self.out(y.transpose(1, 2).reshape(b, length, e))


def _report(eager: bool, length: int):
    torch.manual_seed(0)
    wl = trace(SelfAttention(eager=eager).eval(), torch.randn(1, length, 32))
    return wl, simulate(wl, load_profile(PROFILE), engine="closed-form")


@pytest.mark.parametrize("length", [16, 64])
def test_eager_and_sdpa_attention_cost_the_same_within_one_percent(length):
    """Measured: eager / SDPA total energy = 1.0026 (L=16), 0.9951 (L=64)."""
    wl_e, eager = _report(True, length)
    wl_s, sdpa = _report(False, length)
    assert wl_e.total_macs == wl_s.total_macs
    schedule = map_workload(wl_e, load_profile(PROFILE), strict=True)
    assert dict(schedule.unmapped) == {}
    # DRAM sees only the model input and output (weights resident) in both forms: the scores never leave the chip.
    dram_e = eager.to_frame().query("component == 'dram'")["bits"].sum()
    dram_s = sdpa.to_frame().query("component == 'dram'")["bits"].sum()
    assert dram_e == dram_s == 2 * length * 32 * 32
    assert eager.total_energy_pj == pytest.approx(sdpa.total_energy_pj, rel=0.01)


def test_the_qk_product_on_views_of_one_qkv_tensor_is_a_mapped_gemm():
    wl, _ = _report(True, 16)
    schedule = map_workload(wl, load_profile(PROFILE), strict=True)
    bmm = [s for s in schedule.ops if s.aten.startswith("aten.bmm")]
    assert [s.mapping for s in bmm] == ["gemm", "gemm"]
    # matmul's bmm -> _unsafe_view: the view aliases the product, so the product is no false model output.
    outputs = [t for t in wl.tensors.values() if t.kind == "activation" and t.last_use is None and t.alias_of is None]
    assert len(outputs) == 1


def test_causal_mask_dense_and_kernel_macs_by_hand():
    """One head, L = S = 16, E = Ev = 8: dense 16*16*(8+8) = 4096 MACs; causal 16*17/2 = 136 scores -> 2176."""
    dims = AttentionDims(batch=1, heads=1, kv_heads=1, query_length=16, key_length=16, head_dim=8,
                         value_head_dim=8, causal=True)
    assert dims.dense_macs == 4096
    assert dims.visible_scores == 136
    assert dims.kernel_macs == 136 * 16 == 2176
    # chunked prefill (L < S, top-left aligned as torch's is_causal): 4 queries see 1+2+3+4 keys
    assert AttentionDims(1, 1, 1, 4, 16, 8, 8, causal=True).visible_scores == 10
    # more queries than keys: rows beyond S see all S keys
    assert AttentionDims(1, 1, 1, 6, 4, 8, 8, causal=True).visible_scores == 10 + 2 * 4
    # without a mask the kernel does the dense work
    assert AttentionDims(2, 3, 3, 5, 7, 4, 2).kernel_macs == AttentionDims(2, 3, 3, 5, 7, 4, 2).dense_macs == 2 * 3 * 35 * 6


class Sdpa(nn.Module):
    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=q.shape[1] != k.shape[1])


@pytest.mark.parametrize("kv_heads", [8, 2, 1])
def test_grouped_query_kv_traffic_is_counted_once_per_kv_head(kv_heads):
    """q (1, 8, 16, 4) float32 = 16,384 bits; k and v (1, Hkv, 16, 4) = Hkv x 2,048 bits each, read from DRAM once."""
    q = torch.randn(1, 8, 16, 4)
    kv = torch.randn(1, kv_heads, 16, 4)
    wl = trace(Sdpa(), (q, kv, kv.clone()))
    (op,) = wl.ops
    assert op.dims.kv_heads == kv_heads and op.dims.causal
    assert op.macs == op.dims.dense_macs == 8 * 16 * 16 * 8
    assert op.dims.kernel_macs == 8 * 136 * 8
    schedule = map_workload(wl, load_profile(PROFILE), strict=True)
    (s,) = schedule.ops
    assert s.mapping == "gemm"
    dram_reads = s.traffic_bits[(schedule.dram, "inputs", "read")]
    assert dram_reads == 16384 + 2 * kv_heads * 2048
