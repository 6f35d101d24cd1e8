"""Layer-by-layer mode (``map_workload(independent_layers=True)``, ``simulate(layers="independent")``): every
layer reads its inputs from and writes its outputs to DRAM, as ZigZag's and SCALE-Sim's reference numbers do."""

from __future__ import annotations

import pytest

from simulator.api import simulate
from simulator.mapping import map_workload
from tests.memsim.builders import chain_workload, level, make_profile


def _profile():
    return make_profile([level("rf", "register_file", 1 << 14, 1.0), level("sram", "sram", 1 << 24, 5.0),
                         level("dram", "dram", 1 << 40, 640.0)])


def test_intermediate_activation_goes_through_dram():
    """Two linear layers (8 x 16 x 32, then 8 x 32 x 4), everything fits the SRAM. Whole network: the 8 x 32 fp32
    activation between them never reaches DRAM. Layer by layer: fc0 writes its 8,192 bits to DRAM, fc1 reads them."""
    w = chain_workload([(8, 16, 32), (8, 32, 4)])
    whole = map_workload(w, _profile())
    alone = map_workload(w, _profile(), independent_layers=True)
    assert whole.resident and not alone.resident
    assert ("dram", "outputs", "write") not in whole.ops[0].traffic_bits
    assert alone.ops[0].traffic_bits[("dram", "outputs", "write")] == pytest.approx(8 * 32 * 32)
    assert alone.ops[1].traffic_bits[("dram", "inputs", "read")] == pytest.approx(8 * 32 * 32)
    assert alone.kept_activations == frozenset()


def test_simulate_layers_argument():
    w = chain_workload([(8, 16, 32), (8, 32, 4)])
    assert simulate(w, _profile(), layers="independent", engine="closed-form").total_energy_pj > \
        simulate(w, _profile(), engine="closed-form").total_energy_pj
    with pytest.raises(ValueError, match="layers must be one of"):
        simulate(w, _profile(), layers="per-op")
