"""Generation study (issue 16): KV cache, prefill vs decode, energy per token, fit, with hand arithmetic.

Model: models.llama.LLAMA_TINY (2 layers, embed 64, 4 query heads sharing 2 kv heads of 16, SwiGLU 128,
vocabulary 256), float32, seeded random weights. Profile: horowitz45-full (Horowitz ISSCC 2014), its
SRAM shrunk with ``with_sram_bits`` where the weights must stream from DRAM.
"""

from __future__ import annotations

import warnings

import pytest
import torch

from models.llama import LLAMA_7B, LLAMA_TINY, build_llama, llama_tiny
from simulator.generation import max_context_tokens, simulate_generation
from simulator.hardware import load_profile, with_sram_bits
from simulator.trace import trace

P, N = 8, 32


@pytest.fixture(scope="module")
def model():
    return llama_tiny()


@pytest.fixture(scope="module")
def streamed(model):
    """Weights (3.4 Mbit) do not fit a 1 Mbit SRAM: every decode step streams them from DRAM."""
    profile = with_sram_bits(load_profile("horowitz45-full"), 1_000_000)
    return simulate_generation(model, profile, prompt_tokens=P, new_tokens=N, samples=3), profile


def test_kv_cache_bits_by_hand(model):
    # 2 (k, v) x 2 layers x 2 kv heads x 16 head_dim x tokens x batch x 32 bits
    assert LLAMA_TINY.kv_cache_bits(40, batch=3, bits=32) == 2 * 2 * 2 * 16 * 40 * 3 * 32 == 491_520
    # Llama-2-7B at 4k context in fp16: 2 x 32 x 32 x 128 x 4096 x 2 bytes = 2 GiB (2,147,483,648 bytes)
    assert LLAMA_7B.kv_cache_bits(4096, bits=16) == 2_147_483_648 * 8
    g = simulate_generation(model, "horowitz45-full", prompt_tokens=P, new_tokens=N, samples=4)
    assert g.kv_cache_bits_per_token == 2 * 2 * 2 * 16 * 32
    assert g.footprint.kv_cache_bits == g.kv_cache_bits_per_token * (P + N) == 163_840
    assert g.footprint.needed_bits == g.footprint.weight_onchip_bits + g.footprint.peak_activation_bits + 163_840
    # the decode steps are sampled, not run N times: 4 distinct cache sizes from P to P + N - 1
    assert [s.cache_tokens for s in g.samples] == [8, 18, 29, 39]
    assert [s.kv_cache_bits for s in g.samples] == [g.kv_cache_bits_per_token * (c + 1) for c in (8, 18, 29, 39)]
    assert g.time_to_first_token_s == g.prefill.latency_s > 0
    assert g.energy_per_token_pj == pytest.approx(g.decode_energy_pj / N)


def _weight_read_bits(model) -> int:
    """Every weight at its stored width (float32), the embedding table only for the one row a step looks up."""
    table = model.embed_tokens.weight
    return sum(p.numel() * 32 for p in model.parameters()) - table.numel() * 32 + table.shape[1] * 32


def test_decode_dram_traffic_is_at_least_weights_plus_kv_read(model, streamed):
    g, _ = streamed
    assert not g.footprint.fits
    weights = _weight_read_bits(model)
    for s in g.samples:
        assert s.dram_bits >= weights + s.kv_cache_bits, s


def test_decode_tokens_per_s_is_bounded_by_dram_bandwidth(model, streamed):
    g, profile = streamed
    dram = profile.levels[-1]
    bandwidth_bits_per_s = dram.bandwidth_bits_per_cycle * profile.clock_hz
    longest = g.samples[-1]
    bits_per_token = _weight_read_bits(model) + g.kv_cache_bits_per_token * (P + N)
    assert g.tokens_per_s <= bandwidth_bits_per_s / (_weight_read_bits(model) + g.kv_cache_bits_per_token * P)
    assert 1.0 / longest.latency_s <= bandwidth_bits_per_s / bits_per_token


def test_sampled_decode_matches_every_step_within_one_percent(model):
    profile = "horowitz45-full"
    every = simulate_generation(model, profile, prompt_tokens=P, new_tokens=6, samples=6)
    two = simulate_generation(model, profile, prompt_tokens=P, new_tokens=6, samples=2)
    assert len(every.samples) == 6 and len(two.samples) == 2
    assert two.decode_energy_pj == pytest.approx(every.decode_energy_pj, rel=0.01)
    assert two.decode_latency_s == pytest.approx(every.decode_latency_s, rel=0.01)


def test_context_length_at_which_weights_and_kv_stop_fitting():
    # 10,000 bits of room after weights and activations, 512 bits per token -> 19 tokens
    assert max_context_tokens(50_000, 40_000, 512, 100_000) == 19
    assert max_context_tokens(50_000, 60_000, 512, 100_000) == 0


def test_fit_against_a_chosen_memory(model):
    g = simulate_generation(model, "horowitz45-full", prompt_tokens=P, new_tokens=4, samples=2, memory_bits=8 * 10**6)
    fp = g.footprint
    assert g.max_context_tokens == (8 * 10**6 - fp.weight_onchip_bits - fp.peak_activation_bits) // g.kv_cache_bits_per_token


def test_llama_blocks_trace_without_unsupported_ops(model):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wl = trace(model, (torch.zeros(1, 8, dtype=torch.long),))
    attention = [op for op in wl.ops if op.kind == "attention"]
    assert len(attention) == 2
    assert all(op.dims.kv_heads == 2 and op.dims.heads == 4 and op.dims.causal for op in attention)


def test_llama_7b_config_has_its_published_parameter_count():
    model = build_llama(LLAMA_7B, device="meta")
    assert sum(p.numel() for p in model.parameters()) == 6_738_415_616  # Llama-2-7B config.json


def test_bad_arguments_are_refused_with_their_name(model):
    with pytest.raises(ValueError, match="new_tokens"):
        simulate_generation(model, "horowitz45-full", prompt_tokens=4, new_tokens=0)
    with pytest.raises(ValueError, match="samples"):
        simulate_generation(model, "horowitz45-full", prompt_tokens=4, new_tokens=8, samples=1)
    with pytest.raises(TypeError, match="token_inputs"):
        simulate_generation(torch.nn.Linear(2, 2), "horowitz45-full", prompt_tokens=4, new_tokens=8)
