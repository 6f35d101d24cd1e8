"""One formatter for named quantities: the unit suffix of the name picks human units (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.units import format_count, format_seconds, format_value


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("total_energy_pj", 2.062e6, "2.06 uJ"),  # was "2.062e+06" in the sweep report's tables
        ("energy_dram_pj", np.float64(2.228e10), "22.3 mJ"),  # was "2.228e+04 uJ" in `pjsim report`
        ("latency_s", 0.169, "169 ms"),  # was "1.69e+05 us"
        ("latency_s", 5.91e-6, "5.91 µs"),
        ("weight_stored_bits", 237_288, "29.7 KB"),
        ("static_power_mw", 0.45, "450 µW"),
        ("energy_delay_product_pj_s", 1.5e-3, "0.0015 pJ·s"),
        ("total_macs", 266_200, "266 k"),
        ("cycles", 4_726, "4,726"),
        ("compression.density", 0.02, "0.02"),
        ("batch_size", 4, "4"),
        ("compression_ratio", 38.8312, "38.83"),
        ("fits_on_chip", np.bool_(True), "True"),
        ("model", "lenet_300_100", "lenet_300_100"),
        ("total_energy_pj", float("nan"), "nan"),
    ],
)
def test_format_value_by_name(name, value, text):
    assert format_value(name, value) == text


def test_cost_reexports_the_one_formatter():
    from simulator import cost

    assert cost.format_seconds is format_seconds and cost.format_count is format_count
