"""EIE (Han et al., "EIE: Efficient Inference Engine on Compressed Deep Neural Network", ISCA 2016) reproduced
from its architecture on the ``eie`` profile (dataflow ``eie-csc``): batch 1, each fully connected layer alone
with the paper's weight and activation densities (Table III); cases in ``benchmarks/bench_accelerators.py``.

Targets (issue 14): per-layer time within 15 % of the paper's measured time (Table IV, EIE row, batch 1);
AlexNet fc7 on-chip energy within 25 % of 7.2 uJ; energy saved on fc7 by skipping zero activations within
10 points of ~65 %. Misses are strict xfails with the measured number; the load-balanced ideal is printed.
"""

from __future__ import annotations

import pytest

from benchmarks.bench_accelerators import ALEX7_ENERGY_UJ, ALEX7_SKIP_SAVING, EIE_LAYERS, eie_layer

TIME_TOLERANCE = 0.15
ENERGY_TOLERANCE = 0.25
SAVING_TOLERANCE = 0.10

#: Layers whose time misses the target, with the number measured (seed 14): not loosened, documented.
MISSES = {
    "Alex-8": "pjsim 8.15 us vs the paper's 9.9 us (-17.7 %); load-balanced ideal 7.50 us: the 4096 x 1000 layer "
    "leaves 15-16 rows per PE per column, and the paper's extra time is not explained by the CSC work, "
    "fillers (none: 16 local rows never leave a 16-row gap) or the 8-deep queue. Checked (issue 14, h3-acc): "
    "start-up/drain (LNZD quad-tree 3 levels + PE pipeline, ~10 cycles = 0.01 us) and the even/odd pointer banks "
    "(start and end pointer in one cycle by design) cost nothing measurable; a pointer-read cycle not overlapped "
    "with the column's entries gives Alex-8 9.97 us but Alex-7 14.60 (+20 %), VGG-7 10.03 (+15 %), VGG-8 10.22 "
    "(+22 %), so rejected. Alex-8 and VGG-8 have the same shape and work on these patterns (6006 vs 6042 "
    "entry-cycles per PE) yet the paper measured 9.9 vs 8.4 us: no mechanism of shape and densities alone can "
    "separate them; the difference lies in the real weights and activations, which seeded uniform patterns "
    "cannot carry",
    "VGG-6": "pjsim 68.21 us vs the paper's 34.4 us (+98 %): 24.69 us of PE time (load-balanced ideal 22.94 us) "
    "+ 43.52 us reloading pointers: 25,089 column pointers per PE overflow the 32 KB pointer SRAM (16,384), so "
    "8,705 per PE (1.11 MB) come from DRAM per vector at the profile's 25.6 GB/s while the PEs idle (EIE's I/O "
    "mode). The paper's 34.4 us would leave 9.7 us for that reload (115 GB/s), so its run must have kept the "
    "pointers on chip; without the reload pjsim gives 24.69 us (-28 %)",
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
