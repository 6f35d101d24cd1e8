"""pjsim against the peers' own reference numbers on their own cases (``../shared/peers-data``).

Each number sits next to its source and tolerance. A target pjsim misses stays a documented miss (strict
xfail with the measured number), never a loosened assertion. Compared: the conv and fc layers of torchvision's
ResNet-18 (1,814,073,344 MACs), which is what ZigZag and SCALE-Sim cost.
"""

from __future__ import annotations

import pytest

from benchmarks.peers import PEER_REFERENCE, peer_summary, resnet18_workload

RESNET18_MACS = 1_814_073_344  # peers-data/README.md and zigzag/EXPECTED.md: conv + fc MACs of ResNet-18


@pytest.fixture(scope="module")
def resnet18():
    return resnet18_workload()


@pytest.fixture(scope="module")
def tpu_like(resnet18):
    return peer_summary("zigzag-tpu-like", resnet18)


@pytest.fixture(scope="module")
def scalesim_os(resnet18):
    return peer_summary("scalesim-32x32-os", resnet18)


def test_same_workload_as_the_peers(tpu_like):
    assert tpu_like.macs == RESNET18_MACS


def test_scalesim_os_compute_cycles(scalesim_os):
    """SCALE-Sim 3.0.0, 32x32 OS, resnet18_torch.csv: 2,210,776 cycles (peers-data/README.md); tolerance 5%
    (issue 13). pjsim's systolic-os preset: per layer folds x (window + 62) - 1 (SCALE-Sim's OS demand matrices,
    simulator/mapping/systolic.py) = 2,133,315 (-3.5%); the per-layer counts against SCALE-Sim's own run are in
    test_scalesim_systolic.py."""
    target, _source = PEER_REFERENCE["scalesim-32x32-os"]["compute_cycles"]
    assert scalesim_os.compute_cycles == pytest.approx(target, rel=0.05)
    # conv1 by hand: ceil(12544 / 32) x ceil(64 / 32) = 784 folds x (7 x 7 x 3 + 62) - 1 = 163,855
    assert scalesim_os.compute_cycles_by_layer["conv1"] == 163_855


def test_zigzag_tpu_like_first_conv_utilisation(tpu_like):
    """ZigZag tpu_like (D1: K 32, D2: C 32), ResNet-18 conv1 (C = 3): ZigZag 1,248,163 cycles (issue 13's run);
    tolerance 5%. pjsim by hand: 2 folds x 112 x 112 x 7 x 7 = 1,229,312 (-1.5%); v1 pjsim gave 177,971 (7x too fast)."""
    target, _source = PEER_REFERENCE["zigzag-tpu-like"]["conv1_cycles"]
    assert tpu_like.compute_cycles_by_layer["conv1"] == 1_229_312
    assert tpu_like.compute_cycles_by_layer["conv1"] == pytest.approx(target, rel=0.05)


def test_zigzag_tpu_like_compute_never_exceeds_its_latency(tpu_like):
    """ZigZag's 3,703,960.5 cycles (zigzag/EXPECTED.md) include memory stalls; pjsim's stall-free compute cycles
    of the same layers on the same array (2,885,633) must lie below them."""
    target, _source = PEER_REFERENCE["zigzag-tpu-like"]["latency_cycles"]
    assert tpu_like.compute_cycles < target


@pytest.fixture(scope="module")
def tpu_like_origin(resnet18):
    """ZigZag's "origin" mode: every layer reads its inputs from and writes its outputs to DRAM."""
    return peer_summary("zigzag-tpu-like", resnet18, independent_layers=True)


def test_zigzag_tpu_like_energy_layer_by_layer(tpu_like_origin):
    """zigzag/EXPECTED.md: tpu_like + resnet18.onnx = 1,871,436,380.66 pJ, each layer costed on its own; tolerance
    5% (issue 13). pjsim: 1.8595e9 pJ (0.994x). Per component against the real ZigZag run:
    tests/validation/test_zigzag_levels.py."""
    target, _source = PEER_REFERENCE["zigzag-tpu-like"]["energy_pj"]
    assert tpu_like_origin.energy_pj == pytest.approx(target, rel=0.05)


@pytest.mark.xfail(strict=True, reason=(
    "documented miss: whole-network mode (activations kept on chip) gives 1.542e9 pJ vs ZigZag's layer-by-layer "
    "1.871e9 pJ (0.824x): the two modes are different questions, ZigZag's number is the layer-by-layer one"))
def test_zigzag_tpu_like_energy_whole_network(tpu_like):
    target, _source = PEER_REFERENCE["zigzag-tpu-like"]["energy_pj"]
    assert tpu_like.energy_pj == pytest.approx(target, rel=0.05)


def test_zigzag_tpu_like_latency_layer_by_layer(tpu_like_origin):
    """zigzag/EXPECTED.md: 3,703,960.5 cycles; tolerance 10% (issue 13). Like with like: ZigZag's resnet18.onnx holds
    only the conv and fc layers, so pjsim's simulated cycles of those layers are compared: 3,651,239 (0.986x). The
    whole network (4,552,355 cycles, 1.23x) adds 886,027 cycles of pooling and residual adds through DRAM."""
    target, _source = PEER_REFERENCE["zigzag-tpu-like"]["latency_cycles"]
    assert tpu_like_origin.mac_layer_cycles == pytest.approx(target, rel=0.10)
    assert tpu_like_origin.network_cycles > tpu_like_origin.mac_layer_cycles


def test_zigzag_tpu_like_mac_energy(tpu_like):
    """ZigZag unit_energy 0.04 pJ per MAC (tpu_like.yaml) x 1,814,073,344 MACs = 72,562,933.76 pJ: exact."""
    assert tpu_like.energy_by_component_pj["compute"] == pytest.approx(0.04 * RESNET18_MACS, rel=1e-9)


@pytest.fixture(scope="module")
def edge_tpu_origin(resnet18):
    return peer_summary("zigzag-edge-tpu-like", resnet18, independent_layers=True)


def test_zigzag_edge_tpu_like_first_conv(edge_tpu_origin):
    """edge_tpu_like axes K 8, C 8, OX 4, OY 4 on conv1 (K 64, C 3, 112 x 112, 7 x 7), by hand:
    8 x 1 x 28 x 28 folds x 49 = 307,328 cycles (utilisation 3/8 of the C axis = 0.375)."""
    assert edge_tpu_origin.compute_cycles_by_layer["conv1"] == 8 * 28 * 28 * 49


def test_zigzag_edge_tpu_like_energy_layer_by_layer(edge_tpu_origin):
    """zigzag/EXPECTED.md: edge_tpu_like + resnet18.onnx = 1,903,229,377.55 pJ; tolerance 5% (issue 13). pjsim:
    1.9409e9 (1.020x). Per component: tests/validation/test_zigzag_levels.py."""
    target, _source = PEER_REFERENCE["zigzag-edge-tpu-like"]["energy_pj"]
    assert edge_tpu_origin.energy_pj == pytest.approx(target, rel=0.05)


def test_zigzag_edge_tpu_like_latency_layer_by_layer(edge_tpu_origin):
    """zigzag/EXPECTED.md: 2,887,804.5 cycles; tolerance 10% (issue 13). Conv and fc layers only, as ZigZag costs
    them: pjsim 2,855,397 simulated cycles (0.989x); the whole network's 3,759,955 adds the non-MAC ops."""
    target, _source = PEER_REFERENCE["zigzag-edge-tpu-like"]["latency_cycles"]
    assert edge_tpu_origin.mac_layer_cycles == pytest.approx(target, rel=0.10)
