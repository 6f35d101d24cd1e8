"""LLM generation on a phone-class NPU: Llama-2-7B shape, fp16 vs weight-only int4 (g128), KV cache in 8 GB.

``simulate_generation`` on ``models.llama.LLAMA_7B`` built on meta (float32, costed at the profile's fp16), prompt P = 512, N = 2,048 new
tokens, batch 1, profile ``edge-llm-lpddr5`` (Ethos-N77 array at fp16, 4 MB SRAM, LPDDR5-6400 51.2 GB/s,
8 GB); the closed-form engine, default 4 decode samples. Variants: fp16; int4 in groups of 128 with an
fp16 scale and an fp16 zero per group (``GroupQuantize``, LM head kept fp16); int4 + an int8 KV cache.

Columns: energy per generated token, decode tokens/s, time to first token (the prefill), the KV cache at
P + N, weights + KV cache at P + N, and the longest context whose weights + activations + KV cache fit the
8 GB DRAM (``GenerationReport.max_context_tokens`` with ``memory_bits`` = the DRAM's capacity). Speed row:
wall and process CPU time of the fp16 ``simulate_generation`` call, one torch thread (issue 16 target:
< 10 s on one core; it was 27.5 s before layers were traced once and stacked).

Bound check printed with the table: decode tokens/s <= DRAM bandwidth / (weights + KV cache bits per token).

Writes ``benchmarks/results/LLM.md``.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from models.llama import LLAMA_7B, build_llama
from simulator.compress import GroupQuantize, KVCacheQuantize
from simulator.fileio import write_text_atomic
from simulator.generation import simulate_generation
from simulator.hardware import load_profile

RESULTS = Path(__file__).parent / "results"
PROFILE = "edge-llm-lpddr5"
P, N = 512, 2048


def _variants():
    # traced in float32 and costed at the profile's fp16 precision: fp16 SDPA on meta decomposes into a
    # math path (fp32 up-casts of the whole KV cache) that no accelerator runs
    fp16 = build_llama(LLAMA_7B, device="meta")
    int4, rec = GroupQuantize(bits=4, group_size=128, scale_bits=16, zero_bits=16).apply(fp16)
    int4_kv8, rec_kv = KVCacheQuantize(bits=8).apply(int4, rec)
    return [("fp16", fp16, None), ("int4 g128", int4, rec), ("int4 g128 + KV int8", int4_kv8, rec_kv)]


def run() -> list[dict]:
    torch.set_num_threads(1)
    hw = load_profile(PROFILE)
    dram = hw.levels[-1]
    bandwidth_bits_per_s = dram.bandwidth_bits_per_cycle * hw.clock_hz
    rows, lines = [], []
    lines.append(f"# LLM generation: Llama-2-7B shape on {PROFILE}, prompt {P}, {N} new tokens, batch 1\n")
    lines.append("| variant | energy/token [mJ] | tokens/s | bound [tokens/s] | TTFT [s] | KV cache at P+N [GB] | "
                 "weights + KV at P+N [GB] | fits 8 GB | max context in 8 GB [tokens] | simulate wall [s] | CPU [s] |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, model, record in _variants():
        wall, cpu = time.perf_counter(), time.process_time()
        g = simulate_generation(model, hw, prompt_tokens=P, new_tokens=N, device="meta", record=record,
                                memory_bits=dram.capacity_bits)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        fp = g.footprint
        weights_kv = fp.weight_onchip_bits + fp.kv_cache_bits
        bound = bandwidth_bits_per_s / (fp.weight_onchip_bits + g.kv_cache_bits_per_token * P)
        fits = weights_kv + fp.peak_activation_bits <= dram.capacity_bits
        lines.append(
            f"| {name} | {g.energy_per_token_pj / 1e9:.1f} | {g.tokens_per_s:.2f} | {bound:.2f} | "
            f"{g.time_to_first_token_s:.2f} | {fp.kv_cache_bits / 8e9:.2f} | {weights_kv / 8e9:.2f} | "
            f"{'yes' if fits else 'no'} | {g.max_context_tokens} | {wall:.1f} | {cpu:.1f} |"
        )
        tag = f"llama-7b {name}"
        rows += [
            {"benchmark": "llm", "metric": f"{tag} energy per token", "value": g.energy_per_token_pj / 1e9, "unit": "mJ"},
            {"benchmark": "llm", "metric": f"{tag} tokens/s", "value": g.tokens_per_s, "unit": "1/s",
             "note": f"DRAM bound {bound:.3g}"},
            {"benchmark": "llm", "metric": f"{tag} time to first token", "value": g.time_to_first_token_s, "unit": "s"},
            {"benchmark": "llm", "metric": f"{tag} max context in 8 GB", "value": g.max_context_tokens, "unit": "tokens"},
            {"benchmark": "llm", "metric": f"{tag} simulate_generation wall", "value": wall, "unit": "s",
             "target": "< 10" if name == "fp16" else "", "note": f"process CPU {cpu:.1f} s, P={P}, N={N}"},
        ]
    lines.append("")
    lines.append(f"DRAM: {dram.capacity_bits / 8e9:.0f} GB at {bandwidth_bits_per_s / 8e9:.1f} GB/s (JESD209-5 "
                 "LPDDR5-6400, 64-bit). Bound = bandwidth / (weights + KV cache at P), the decode roofline; "
                 "energies use Horowitz's 45 nm DRAM figure (pessimistic for LPDDR5, see the profile header).")
    write_text_atomic(RESULTS / "LLM.md", "\n".join(lines) + "\n")
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
    print((RESULTS / "LLM.md").read_text())
