"""A decode step traced on meta is the one traced on CPU (issue 16: the meta SDPA math path doubled the
KV-cache traffic). Model: LLAMA_TINY (2 layers, 4 query heads sharing 2 kv heads of 16), cache of 9 tokens."""

from __future__ import annotations

import pytest
import torch

from models.llama import llama_tiny
from simulator import simulate
from simulator.hardware import load_profile, with_sram_bits
from simulator.trace import trace


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_meta_decode_step_traces_like_cpu(dtype):
    model = llama_tiny().to(dtype)
    inputs = (*model.token_inputs(1, 1), *model.empty_cache(1, 9))
    cpu = trace(model.step(8), inputs)
    meta = trace(model.step(8), inputs, device="meta")
    assert [op.aten for op in meta.ops] == [op.aten for op in cpu.ops]
    assert meta.total_macs == cpu.total_macs
    # no op reads the cache to write a scaled (or up-cast) copy of it: the cache inputs are read by the attention only
    readers = {op.aten for op in meta.ops for a in op.accesses if a.tensor in ("input:1", "input:2")}
    assert readers == {"aten._scaled_dot_product_flash_attention_for_cpu.default"}
    hw = with_sram_bits(load_profile("horowitz45-full"), 100_000)
    a = simulate(cpu, hw, engine="closed-form", timeline=False)
    b = simulate(meta, hw, engine="closed-form", timeline=False)
    assert b.total_energy_pj == pytest.approx(a.total_energy_pj, rel=1e-9)
