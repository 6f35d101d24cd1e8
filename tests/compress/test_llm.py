"""LLM compression transforms (issue 16): group-wise weight-only quantization, 2:4 sparsity, KV-cache
quantization, each with its stored bits by hand and its cost through simulate / simulate_generation."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from models.llama import LLAMA_TINY, build_llama, llama_tiny
from simulator.api import simulate
from simulator.compress import CompressError, GroupQuantize, KVCacheQuantize, SemiStructured24
from simulator.generation import simulate_generation
from simulator.hardware import load_profile, with_sram_bits
from simulator.workload import TensorEncoding


def test_int4_g128_stored_bits_by_hand():
    # A 4096 x 4096 layer, int4 in groups of 128 input channels: 4096 x 32 groups.
    numel = 4096 * 4096
    fp16_zero = TensorEncoding(value_bits=4, group_size=128, group_param_bits=16 + 16)
    assert fp16_zero.stored_bits(numel) == 4096 * 4096 * 4 + 4096 * 32 * (16 + 16) == 71_303_168
    int4_zero = TensorEncoding(value_bits=4, group_size=128, group_param_bits=16 + 4)
    assert int4_zero.stored_bits(numel) == 4096 * 4096 * 4 + 4096 * 32 * (16 + 4) == 69_730_304
    # on chip the same (no Huffman stream): values + scales; the parts sum exactly
    assert fp16_zero.onchip_bits(numel) == 71_303_168
    assert fp16_zero.stored_bits_by_part(numel) == {"values": 67_108_864, "indices": 0, "fillers": 0, "codebook": 0,
                                                    "scales": 4_194_304}
    with pytest.raises(ValueError, match="group_size and group_param_bits"):
        TensorEncoding(value_bits=4, group_size=128)


def test_group_quantize_transform_values_and_record():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 8))
    q, rec = GroupQuantize(bits=4, group_size=64, skip=()).apply(model)
    enc = rec.encodings["0.weight"]
    assert (enc.value_bits, enc.group_size, enc.group_param_bits) == (4, 64, 32)
    # 64 rows x 4 groups of 64: 256 groups x 32 bits + 16384 x 4 bits
    assert enc.stored_bits(256 * 64) == 256 * 64 * 4 + 64 * 4 * 32 == 73_728
    w = q[0].weight.detach().reshape(64, 4, 64)
    # asymmetric int4: at most 16 distinct values per group
    assert max(torch.unique(w[r, g]).numel() for r in range(64) for g in range(4)) <= 16
    assert not torch.equal(q[0].weight, model[0].weight)  # a copy was compressed, the original kept
    with pytest.raises(CompressError, match="not a multiple of 128"):
        GroupQuantize(bits=4, group_size=128, skip=()).apply(model)


def test_group_quantized_weights_cost_their_stored_bits_in_dram():
    """A layer too big for the SRAM streams its weights: DRAM weight bits = values + scales, by hand."""
    model = nn.Sequential(nn.Linear(1024, 1024, bias=False))
    profile = with_sram_bits(load_profile("horowitz45-full"), 1_000_000)
    x = torch.zeros(1, 1024)
    _, rec = GroupQuantize(bits=4, group_size=128, zero_bits=16, skip=()).apply(model)
    r = simulate(model, profile, x, record=rec, engine="closed-form", timeline=False)
    f = r.to_frame()
    dram_w = f[(f.component == "dram") & (f.operand == "weights")]["bits"].sum()
    assert dram_w == 1024 * 1024 * 4 + 1024 * 8 * 32 == 4_456_448
    dense = simulate(model, profile, x, engine="closed-form", timeline=False).to_frame()
    assert dense[(dense.component == "dram") & (dense.operand == "weights")]["bits"].sum() == 1024 * 1024 * 32


def test_2_4_pattern_metadata_and_skipped_macs():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64, bias=False))
    sparse, rec = SemiStructured24(skip=()).apply(model)
    w = sparse[0].weight.detach().reshape(64, 16, 4)
    assert ((w != 0).sum(-1) == 2).all()  # exactly 2 kept in every 4
    enc = rec.encodings["0.weight"]
    # 2048 kept float32 values, each with 2 bits of metadata
    assert enc.stored_bits(64 * 64) == 2048 * (32 + 2) == 69_632
    x = torch.randn(1, 64)
    base = load_profile("horowitz45-full")
    sparse_hw = dataclasses.replace(base, compute=dataclasses.replace(base.compute, structured_sparsity=("2:4",)))
    on = simulate(sparse, sparse_hw, x, record=rec, engine="closed-form", timeline=False).to_frame()
    off = simulate(sparse, base, x, record=rec, engine="closed-form", timeline=False).to_frame()
    mac = 64 * 64 * (load_profile("horowitz45-full").compute.op_energy_pj["float32.mult"]
                     + load_profile("horowitz45-full").compute.op_energy_pj["float32.add"])
    assert off[off.component == "compute"]["energy_pj"].sum() == pytest.approx(mac)  # no 2:4 support: all MACs
    assert on[on.component == "compute"]["energy_pj"].sum() == pytest.approx(mac / 2)  # 2:4 support: half


def test_kv_cache_quantization_shrinks_cache_and_decode_traffic():
    model = llama_tiny()
    profile = with_sram_bits(load_profile("horowitz45-full"), 1_000_000)
    q, rec = KVCacheQuantize(bits=8).apply(model)
    assert model.cache_value_bits == 32 and q.cache_value_bits == 8
    assert rec.steps == ("KV cache quantized to 8 bit",)
    fp = simulate_generation(model, profile, prompt_tokens=8, new_tokens=4, samples=2)
    i8 = simulate_generation(q, profile, prompt_tokens=8, new_tokens=4, samples=2)
    # 2 (k, v) x 2 layers x 2 kv heads x 16 x 8 bits per token
    assert i8.kv_cache_bits_per_token == 2 * 2 * 2 * 16 * 8 == 1024
    assert i8.footprint.kv_cache_bits == 1024 * 12
    for a, b in zip(fp.samples, i8.samples):
        # the step reads the cache (cache_tokens + 1 tokens) at 8 instead of 32 bits: at least that much less DRAM
        assert a.dram_bits - b.dram_bits >= (a.kv_cache_bits - b.kv_cache_bits) - 1e-6


def test_generation_with_int4_record_on_meta_7b_is_cheaper_per_token():
    """Weight-only int4 (g128) on a 7B config built on meta: the record alone is costed."""
    from models.llama import LLAMA_7B

    small = dataclasses.replace(LLAMA_7B, layers=1)
    model = build_llama(small, device="meta").half()
    _, rec = GroupQuantize(bits=4, group_size=128).apply(model)
    q_proj = rec.encodings["layers.0.self_attn.q_proj.weight"]
    assert q_proj.stored_bits(4096 * 4096) == 71_303_168
    assert "lm_head.weight" not in rec.encodings
    fp = simulate_generation(model, "horowitz45-full", prompt_tokens=4, new_tokens=2, samples=2, device="meta")
    i4 = simulate_generation(model, "horowitz45-full", prompt_tokens=4, new_tokens=2, samples=2, device="meta", record=rec)
    assert i4.energy_per_token_pj < fp.energy_per_token_pj
    assert i4.samples[0].dram_bits < fp.samples[0].dram_bits


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=50, deadline=None)
@given(rows=st.integers(1, 64), groups=st.integers(1, 16), group=st.sampled_from([32, 64, 128]),
       bits=st.sampled_from([4, 8]), param_bits=st.sampled_from([16, 20, 32]))
def test_group_encoding_parts_sum_to_stored_bits(rows, groups, group, bits, param_bits):
    numel = rows * groups * group
    enc = TensorEncoding(value_bits=bits, group_size=group, group_param_bits=param_bits)
    assert sum(enc.stored_bits_by_part(numel).values()) == enc.stored_bits(numel) == numel * bits + rows * groups * param_bits
    assert enc.onchip_bits(numel) == enc.stored_bits(numel)
