"""EIE (Han et al., "EIE: Efficient Inference Engine on Compressed Deep Neural Network", ISCA 2016) reproduced
from its architecture on the ``eie`` profile (dataflow ``eie-csc``): batch 1, each fully connected layer alone
with the paper's weight and activation densities (Table III); cases in ``benchmarks/bench_accelerators.py``.

Targets (issue 14): per-layer time within 15 % of the paper's measured time (Table IV, EIE row, batch 1);
AlexNet fc7 on-chip energy within 25 % of 7.2 uJ; energy saved on fc7 by skipping zero activations within
10 points of ~65 %. Misses are strict xfails with the measured number; the load-balanced ideal is printed.
"""

from __future__ import annotations

import pytest

from benchmarks.bench_accelerators import (
    ALEX7_ENERGY_UJ, ALEX7_SKIP_SAVING, EIE_LAYERS, eie_layer, eie_pointer_options,
)

TIME_TOLERANCE = 0.15
ENERGY_TOLERANCE = 0.25
SAVING_TOLERANCE = 0.10

#: Layers whose time misses the target, with the number measured (seed 14): not loosened, documented.
MISSES = {
    "Alex-8": "pjsim 8.15 us vs the paper's 9.9 us (-17.7 %); load-balanced ideal 7.50 us. Measured (issue 14, h4-eie), "
    "none closes it: the 8-deep activation queue with the LNZD sending one non-zero per cycle is a cycle-level "
    "recurrence over the real per-PE work (queue depth 1/2/4/8/16/inf: 10.03/9.06/8.47/8.15/7.93/7.87 us); the 1000 "
    "rows on 64 PEs (40 PEs own 16 rows, 24 own 15: mean work 6157 vs 5782 cycles) are in the pattern already (the "
    "slowest PE alone needs 7.87 us); no fillers (16 local rows never leave a 16-row gap); destination "
    "read-modify-write hazards: 33 back-to-back same-accumulator MACs on the worst PE, hidden by the paper's bypass "
    "(without it, a 2-cycle accumulate gives 8.17 us; only a 4-cycle accumulate without forwarding, which the "
    "paper's pipeline does not have, would give 8.71 us); start-up/drain (LNZD quad-tree 3 levels + PE pipeline, "
    "~10 cycles = 0.01 us) and the even/odd pointer banks cost nothing measurable; a pointer-read cycle not "
    "overlapped with the column's entries (h3) gives 9.97 us but Alex-7 +20 %, VGG-7 +15 %, VGG-8 +22 %. Alex-8 and "
    "VGG-8 have the same shape and work (6016 vs 6076 entry-cycles per PE) yet the paper measured 9.9 vs 8.4 us: "
    "the difference lies in the real weights and activations, which seeded uniform patterns cannot carry",
    "VGG-6": "pjsim 43.51 us vs the paper's 34.4 us (+26.5 %); load-balanced ideal 22.94 us. 25,089 column pointers "
    "per PE overflow the 32 KB pointer SRAM (16,384); the profile's pointer_overflow = 'stream' (pjsim assumption: "
    "the other 8,705 per PE, 1.11 MB, streamed by DMA in column order while the PEs compute) is DRAM-bound at the "
    "profile's 25.6 GB/s (43.5 us). The other strategies (simulator/mapping/csc_pointers.py): reload-idle (I/O "
    "mode, PEs idle) 68.21 us (+98 %); double-buffer (two halves, passes of 8,191 columns) 90.47 us (+163 %); "
    "double-buffer-active 47.54 us (+38 %); stream-active (only the pointer pairs of non-zero activations) and "
    "on-chip (e.g. 8-bit column lengths) 24.69 us (-28 %): the paper's time lies between the on-chip and the "
    "streamed bounds, and how it ran the layer is not in its text",
}


def _params():
    for layer in EIE_LAYERS:
        marks = [pytest.mark.slow] if layer.inputs > 4096 else []  # fc6 layers: 10-25 s each
        if layer.name in MISSES:
            marks.append(pytest.mark.xfail(strict=True, reason=MISSES[layer.name]))
        yield pytest.param(layer, id=layer.name, marks=marks)


@pytest.mark.parametrize("layer", list(_params()))
def test_layer_time_within_15_percent_of_the_paper(layer, capsys):
    r = eie_layer(layer)
    with capsys.disabled():
        print(f"\n{layer.name}: pjsim {r.time_us:.2f} us, paper {layer.paper_time_us} us "
              f"({r.time_us / layer.paper_time_us - 1:+.1%}), load-balanced ideal {r.ideal_us:.2f} us")
    assert r.ideal_us <= r.time_us  # imbalance and queue stalls only add time
    assert r.time_us == pytest.approx(layer.paper_time_us, rel=TIME_TOLERANCE)


def test_alexnet_fc7_energy_and_the_saving_from_skipping_zero_activations():
    layer = next(x for x in EIE_LAYERS if x.name == "Alex-7")
    r = eie_layer(layer, dense_too=True)
    saving = 1.0 - r.onchip_energy_uj / r.dense_activation_energy_uj
    print(f"Alex-7 on-chip energy {r.onchip_energy_uj:.2f} uJ (paper {ALEX7_ENERGY_UJ}); skipping saves {saving:.1%}")
    assert r.onchip_energy_uj == pytest.approx(ALEX7_ENERGY_UJ, rel=ENERGY_TOLERANCE)
    assert abs(saving - ALEX7_SKIP_SAVING) <= SAVING_TOLERANCE


@pytest.mark.slow
def test_vgg6_pointer_overflow_strategies(capsys):
    """VGG-6's 8,705 overflowing pointers per PE x 64 PEs x 16 bit at 25.6 GB/s (256 bit per 800 MHz cycle) take
    8,705 x 4 cycles = 43.525 us: "reload-idle" adds them to the on-chip time; "stream" is bound by them: the
    last non-zero activation's column j waits for p[j + 1], which arrives at (j + 2 - 16,384) x 4 cycles, then
    runs a few cycles; "stream-active" fetches 18.3 % of the pairs (16 us, hidden under the PEs' 24.7 us). A
    layer that fits is the same under every strategy."""
    from simulator.mapping.sparse_csc import active_columns

    vgg6 = next(x for x in EIE_LAYERS if x.name == "VGG-6")
    load_us = 8705 * 4 / 800
    last_us = (int(active_columns(vgg6.inputs, vgg6.activation_density)[-1]) + 2 - 16384) * 4 / 800
    t = eie_pointer_options(vgg6)
    with capsys.disabled():
        print("\nVGG-6 by pointer strategy: " + ", ".join(f"{k} {v:.2f} us" for k, v in t.items()))
    assert t["reload-idle"] - t["on-chip"] == pytest.approx(load_us, abs=0.01)
    assert last_us <= t["stream"] <= last_us + 0.1
    assert t["stream-active"] == pytest.approx(t["on-chip"], abs=0.1)
    fits = eie_pointer_options(next(x for x in EIE_LAYERS if x.name == "VGG-8"))
    assert len(set(fits.values())) == 1
