"""HuggingFace transformers models built from local configs (the optional ``llm`` extra, issue 16).

Skipped when transformers is not installed (it is not in the default set-up). Measured with
transformers 5.24 / torch 2.13: tiny GPT-2 eager / SDPA total energy on horowitz45-sram512k =
93,581,342 / 93,544,483 pJ (0.04 %).
"""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("transformers")

from models.gpt2 import GPT2_TINY, build_gpt2  # noqa: E402
from models.hf import GPT2_SMALL_HF, hf_gpt2, hf_llama, token_ids  # noqa: E402
from simulator import simulate  # noqa: E402
from simulator.hardware import load_profile  # noqa: E402
from simulator.mapping import map_workload  # noqa: E402
from simulator.trace import trace  # noqa: E402
from tests.models.test_gpt2 import GPT2_SMALL_MACS_128  # noqa: E402

PROFILE = "horowitz45-sram512k"


def _strict(w):
    assert dict(w.unsupported) == {}
    assert dict(map_workload(w, load_profile(PROFILE), strict=True).unmapped) == {}


def test_tiny_hf_gpt2_eager_and_sdpa_map_strictly_and_cost_the_same():
    """Scores (4 heads x 16 x 16) fit on chip: both forms within 1 %."""
    reports = {}
    for attn in ("eager", "sdpa"):
        w = trace(hf_gpt2(attn=attn), token_ids(1, 16))
        _strict(w)
        native = trace(build_gpt2(GPT2_TINY), token_ids(1, 16))
        assert w.total_macs == native.total_macs == 1_900_544
        reports[attn] = simulate(w, load_profile(PROFILE), engine="closed-form")
    assert reports["eager"].total_energy_pj == pytest.approx(reports["sdpa"].total_energy_pj, rel=0.01)


@pytest.mark.slow
def test_hf_gpt2_small_matches_the_native_count():
    """On CPU with random weights (HF's causal-mask construction calls ``.item()``, which meta cannot run)."""
    torch.set_num_threads(1)
    w = trace(hf_gpt2(**GPT2_SMALL_HF), token_ids(1, 128))
    assert w.total_macs == GPT2_SMALL_MACS_128 == 16_114_089_984
    _strict(w)


def test_tiny_hf_llama_maps_strictly():
    w = trace(hf_llama(), token_ids(1, 16))
    assert w.total_macs > 0
    _strict(w)
