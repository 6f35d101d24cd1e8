"""Eyeriss's row-stationary dataflow (``simulator.mapping.row_stationary``) on layers counted by hand, and
the run-length code of feature maps (``simulator.mapping.rlc``)."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.hardware.profile import RSConfig
from simulator.mapping.rlc import rlc_words_expected, rlc_words_of
from simulator.mapping.row_stationary import RSLayer, fold, glb_search, rs_candidates

EYERISS = RSConfig(rows=12, cols=14, filter_words=224, ifmap_words=12, psum_words=24)

# A tiny layer: 1 image, 2 filters, 1 channel, 3 x 3 kernel on a 5 x 5 input, stride 1 -> 3 x 3 output,
# on a 4 x 4 array whose PEs hold 6 filter, 3 ifmap and 2 psum words.
TINY = RSLayer(n=1, m=2, c=1, h=5, w=5, e=3, f=3, r=3, s=3, u=1)
TINY_CFG = RSConfig(rows=4, cols=4, filter_words=6, ifmap_words=3, psum_words=2)


def test_tiny_layer_pe_assignment_cycles_and_accesses_by_hand():
    fd = fold(TINY.r, TINY.e, TINY_CFG)
    # Logical set R x E = 3 x 3 fits the 4 x 4 array once: 9 of 16 PEs, one strip, one set.
    assert (fd.rc, fd.width, fd.sets, fd.strips, fd.peak_pes) == (3, 3, 1, 1, 9)
    run = rs_candidates(TINY, fd, TINY_CFG, density=0.5, glb_words_per_cycle=4, energy=(1.0, 2.0, 6.0))
    # Scratchpads: q S <= 3 -> q = 1, n = 1; p S <= 6 and p <= 2 -> p = 2 (both filters in one pass).
    assert (run.p, run.q, run.n, run.t, run.r, run.passes) == (2, 1, 1, 1, 1, 1)
    # Each PE: 2 filters x 3 outputs x 3 taps = 18 MACs, after its 3 x 3 x 2 = 18 filter words arrive
    # over a 4-word port (4.5 cycles).
    assert run.cycles == pytest.approx(18 + 4.5)
    assert run.macs == 2 * 3 * 3 * 3 * 3 == 162
    assert run.gated_macs == pytest.approx(81)  # half the ifmaps are zero
    assert run.ifmap_spad_writes == 9 * 5  # each PE (i, j) receives input row i + j, 5 words
    assert run.filter_spad_writes == 9 * 6  # each PE holds filter row i of both filters
    assert run.psum_hops == 3 * 2 * 3 * 2  # 3 rows x 2 filters x 3 px, 2 hops up each column
    assert run.glb_ifmap_reads == 25  # the input once, multicast diagonally
    assert run.glb_filter_reads == 18
    assert run.glb_psum_writes == run.outputs == 18  # one channel pass: no read-back


def test_glb_shared_by_search_when_the_layer_does_not_fit():
    # 61 words hold everything once (25 ifmap + 18 filter + 18 psum): each operand read once.
    whole = glb_search(TINY, 61)
    assert (whole.ifmap_reads, whole.filter_reads) == (1, 1)
    # 30 words: the only fitting tile is 1 filter x 1 output row (3 input rows 15 + 9 + 3 = 27 words):
    # ifmap re-read with its halo (3 tiles x 3 rows / 5 rows = 1.8x), filters per row tile (3x).
    small = glb_search(TINY, 30)
    assert (small.m_t, small.e_t) == (1, 1)
    assert small.ifmap_reads == pytest.approx(1.8) and small.filter_reads == 3
    assert small.ifmap_share == pytest.approx(15 / 30) and small.psum_share == pytest.approx(3 / 30)
    with pytest.raises(ValueError, match="global buffer"):
        glb_search(TINY, 10)


@pytest.mark.parametrize(("layer", "r", "e", "pes"), [
    # Chen et al., JSSC 2017, per-layer AlexNet table (recalled; reference.md has only the totals): active PEs.
    ("conv1", 11, 55, 154), ("conv2", 5, 27, 135), ("conv3", 3, 13, 156), ("conv4", 3, 13, 156), ("conv5", 3, 13, 156),
])
def test_alexnet_folding_uses_the_papers_pe_counts(layer, r, e, pes):
    assert fold(r, e, EYERISS).peak_pes == pes


def test_large_filters_are_cut_into_row_chunks():
    fd = fold(15, 10, EYERISS)  # 15 filter rows on 12 PE rows: 2 chunks of 8
    assert (fd.rchunks, fd.rc) == (2, 8)


def test_rlc_exact_by_hand_and_expected_against_real_values():
    # 40 zeros, 5, 3 zeros, 7: pairs (31 zeros..0 filler), (8 zeros, 5), (3 zeros, 7) = 3 pairs = one word.
    values = np.array([0] * 40 + [5] + [0] * 3 + [7])
    assert rlc_words_of(values) == 1
    assert rlc_words_of(np.zeros(64)) == 1  # 2 zero pairs of 32
    rng = np.random.default_rng(0)
    for density in (0.05, 0.4, 0.9):
        x = (rng.random(200_000) < density) * rng.integers(1, 100, 200_000)
        assert rlc_words_expected(x.size, density) == pytest.approx(rlc_words_of(x), rel=0.02)


# --- invariants over random layers (hypothesis) --------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 4), m=st.integers(1, 64), c=st.integers(1, 32), e=st.integers(1, 60),
       r=st.integers(1, 13), u=st.integers(1, 4), density=st.floats(0.05, 1.0))
def test_row_stationary_invariants(n, m, c, e, r, u, density):
    layer = RSLayer(n, m, c, (e - 1) * u + r, (e - 1) * u + r, e, e, r, r, u)
    if r > EYERISS.filter_words or r > EYERISS.ifmap_words:
        return
    fd = fold(layer.r, layer.e, EYERISS)
    assert 0 < fd.active_pes <= fd.peak_pes <= EYERISS.pes
    run = rs_candidates(layer, fd, EYERISS, density, 4.0, (1.0, 2.0, 6.0))
    # No more than the busy PEs' worth of MACs per cycle; every output row written to the GLB once at least.
    assert run.cycles * fd.peak_pes >= run.macs
    assert run.gated_macs == pytest.approx(run.macs * density)
    assert run.glb_psum_writes >= run.outputs
    assert run.glb_ifmap_reads >= n * c * min(layer.h, (e - 1) * u + r) * layer.w / max(fd.strips, 1)
    assert run.p * run.q * layer.s <= EYERISS.filter_words and run.p * run.n <= EYERISS.psum_words


# --- through the mapper -----------------------------------------------------------------------------------


def test_eyeriss_profile_maps_convs_row_stationary_gates_zeros_and_codes_feature_maps():
    """A small conv net on ``eyeriss``: convs take the ``eyeriss-rs`` mapping; a sparser input costs less
    energy but no fewer cycles (gating, not skipping); its feature map crosses DRAM run-length coded."""
    import torch

    from simulator.api import simulate, trace_model

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(),
                                torch.nn.Conv2d(32, 32, 3, padding=1))
    workload = trace_model(model, torch.randn(2, 16, 16, 16))  # fits the 108 kB buffer: read once
    reports = {d: simulate(workload, "eyeriss", activation_density={"0": d, "2": d}, engine="closed-form",
                           timeline=False, layers="independent") for d in (1.0, 0.25)}
    dense, sparse = reports[1.0], reports[0.25]
    assert "eyeriss-rs" in dense.metadata["dataflow"]
    assert sparse.total_energy_pj < dense.total_energy_pj
    compute = {d: r.busy_cycles.get("compute", 0.0) for d, r in reports.items()}
    assert compute[0.25] == pytest.approx(compute[1.0])
    # Layer "2" reads layer "0"'s output from DRAM: RLC-coded at density 0.25 (21 bits per non-zero vs 16 raw).
    def dram_reads(report):
        return sum(v for (lay, lev, op, d), v in report.layer_traffic_bits.items()
                   if lay == "2" and lev == "dram" and d == "read" and op != "weights")
    raw = 2 * 32 * 16 * 16 * 16
    assert dram_reads(sparse) == pytest.approx(raw * 0.25 * 64 / 3 / 16, rel=0.02)
    assert dram_reads(dense) == pytest.approx(raw)


def test_eyeriss_rs_on_a_profile_without_its_four_levels_is_refused():
    import torch

    from simulator.api import simulate
    from simulator.hardware import load_profile
    from simulator.mapping.schedule import MappingError

    base = load_profile("eyeriss")
    three = type(base)(base.name, base.description, base.clock_hz, base.compute, base.levels[1:])
    with pytest.raises(MappingError, match="four memory levels"):
        simulate(torch.nn.Conv2d(3, 4, 3), three, torch.randn(1, 3, 8, 8), engine="closed-form", timeline=False)


def test_rlc_from_the_density_matches_the_code_of_real_relu_activations():
    """The mapper codes feature maps from their measured density (the tracer keeps no positions): on real
    ReLU outputs of a conv (zeros clustered in space) the exact code is within 3 % of that estimate."""
    import torch

    torch.manual_seed(0)
    conv = torch.nn.Conv2d(16, 32, 3, padding=1)
    with torch.no_grad():
        for bias in (0.0, -0.3, -0.8):  # densities about 0.5, 0.3, 0.1
            y = torch.relu(conv(torch.randn(2, 16, 32, 32)) + bias).numpy()
            density = float((y != 0).mean())
            assert rlc_words_expected(y.size, density) == pytest.approx(rlc_words_of(y), rel=0.03), density


def test_eyeriss_clock_network_is_charged_as_static_power_over_each_layers_time():
    """The profile's clock network ([compute] static_power, 110 mW) is drawn every cycle whatever the data:
    energy component "static" = 110 mW x the layer's simulated time (mW x s = 1e9 pJ), zero gating or not."""
    import torch

    from simulator.api import simulate
    from simulator.hardware import load_profile

    hw = load_profile("eyeriss")
    assert hw.compute.static_power_mw == pytest.approx(110.0)
    assert "JSSC 2017" in hw.sources["compute.static_power"] and "not verified" in hw.sources["compute.static_power"]
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, bias=False))
    report = simulate(model, hw, example_inputs=torch.randn(1, 3, 16, 16), timeline=False)
    static = {layer: v for (layer, comp, _), v in report.energy_pj.items() if comp == "static"}
    assert static, report.energy_pj
    for layer, pj in static.items():
        assert pj == pytest.approx(110.0 * report.layer_cycles[layer] / hw.clock_hz * 1e9)
