"""Flash-style attention tiling (issue 16): ``[compute] attention = "flash"`` keeps the scores on chip.

One head, L = S = 1024, E = Ev = 64, float32, horowitz45-full with a 2 Mbit SRAM (the 1024 x 1024 scores,
33.5 Mbit, do not fit). By hand: with flash the DRAM moves q, k, v once and writes o once:
4 x 1024 x 64 x 32 = 8,388,608 bits. Materialized, the scores spill: at least one write and one read of
1024 x 1024 x 32 bits more (measured: 104,857,600 bits; the P V tiler reads the spilled scores twice).
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from simulator import simulate
from simulator.hardware import load_profile, with_sram_bits
from simulator.mapping.flash import flash_spill_saved_bits
from simulator.ops import AttentionDims
from simulator.trace import trace

L, E = 1024, 64


class Sdpa(nn.Module):
    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v)


def _dram_bits(attention: str) -> float:
    x = torch.zeros(1, 1, L, E)
    w = trace(Sdpa(), (x, x.clone(), x.clone()))
    base = with_sram_bits(load_profile("horowitz45-full"), 2_000_000)
    hw = dataclasses.replace(base, compute=dataclasses.replace(base.compute, attention=attention))
    f = simulate(w, hw, engine="closed-form", timeline=False).to_frame()
    return f[f.component == "dram"]["bits"].sum()


def test_flash_attention_dram_traffic_for_one_head_by_hand():
    flash, materialized = _dram_bits("flash"), _dram_bits("materialize")
    assert flash == 4 * L * E * 32 == 8_388_608
    saved = flash_spill_saved_bits(AttentionDims(batch=1, heads=1, kv_heads=1, query_length=L, key_length=L,
                                                 head_dim=E, value_head_dim=E), 32)
    assert saved == 2 * L * L * 32
    assert materialized >= flash + saved
    assert materialized == 104_857_600  # measured (see the module doc)


def test_profile_declares_attention_mode(tmp_path):
    from simulator.errors import ProfileError

    text = ('[profile]\nname = "flash-test"\nextends = "horowitz45-full"\ndescription = "flash attention, 2:4"\n'
            '[compute]\nattention = "flash"\nstructured_sparsity = ["2:4"]\n')
    good = tmp_path / "flash.toml"
    good.write_text(text)
    hw = load_profile(good)
    assert hw.compute.attention == "flash" and hw.compute.structured_sparsity == ("2:4",)
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('attention = "flash"', 'attention = "tiled"'))
    with pytest.raises(ProfileError, match="compute.attention"):
        load_profile(bad)
