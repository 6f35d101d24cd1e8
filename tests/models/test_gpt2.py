"""The native zoo GPT-2 (models.gpt2, issue 16): exact MACs by hand and a strict mapping.

GPT-2 small at 128 tokens, by hand (Radford et al. 2019 shape: 12 layers, d = 768, vocabulary 50,257):
per token 12 x (768 x 2304 + 768 x 768 + 2 x 768 x 3072) = 84,934,656 projection MACs plus the LM head
768 x 50,257 = 38,597,376; x 128 tokens = 15,812,100,096; attention 12 layers x 2 x 128^2 x 768 =
301,989,888 (dense, as traced). Total 16,114,089,984: the number HuggingFace's GPT2LMHeadModel traces to
(issue 16, transformers 5.x; tests/models/test_hf.py checks it against HF directly).
"""

from __future__ import annotations

import pytest
import torch

from models import model_spec
from models.gpt2 import GPT2_SMALL, GPT2_TINY, build_gpt2
from simulator.hardware import load_profile
from simulator.mapping import map_workload
from simulator.trace import trace

GPT2_SMALL_MACS_128 = 12 * (768 * 2304 + 768 * 768 + 2 * 768 * 3072) * 128 + 768 * 50257 * 128 + 12 * 2 * 128 * 128 * 768


def test_gpt2_small_macs_by_hand_and_strict_mapping():
    assert GPT2_SMALL_MACS_128 == 16_114_089_984
    model = build_gpt2(GPT2_SMALL, device="meta")
    # 124,439,808 parameters with the head tied to the token embedding (the released model's count)
    assert sum(p.numel() for p in model.parameters()) == 124_439_808
    w = trace(model, torch.zeros(1, 128, dtype=torch.long), device="meta")
    assert w.total_macs == GPT2_SMALL_MACS_128
    assert dict(w.unsupported) == {}
    schedule = map_workload(w, load_profile("horowitz45-full"), strict=True)
    assert dict(schedule.unmapped) == {}


def test_zoo_entry_takes_token_ids():
    spec = model_spec("gpt2_small")
    x = spec.example_input(batch_size=2)
    assert x.dtype == torch.long and x.shape == (2, 128)


def test_tiny_gpt2_maps_strictly():
    torch.manual_seed(0)
    w = trace(build_gpt2(GPT2_TINY), torch.zeros(1, 16, dtype=torch.long))
    # 2 x (64 x 192 + 64 x 64 + 2 x 64 x 256) x 16 + 64 x 256 x 16 + 2 x 2 x 16^2 x 64
    assert w.total_macs == 2 * (64 * 192 + 64 * 64 + 2 * 64 * 256) * 16 + 64 * 256 * 16 + 2 * 2 * 16 * 16 * 64 == 1_900_544
    assert dict(map_workload(w, load_profile("horowitz45-sram512k"), strict=True).unmapped) == {}
