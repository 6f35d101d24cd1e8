"""Studies build what a report shows; the fit chart, the SRAM curve's marker and step, and the verdict
all read one ``Footprint``. Kills the breakage "the SRAM-curve fit point removed"."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from simulator.api import resolve_profile, simulate
from simulator.report.figures import fit_figure, sram_curve_figure
from simulator.report.records import Configuration
from simulator.report.tables import fit_table
from simulator.studies import build_configuration, checkpoint_facts, configuration_for, sram_capacity_grid
from simulator.trace import trace


@given(st.integers(8_000, 10**10), st.integers(1, 10**10), st.integers(2, 20))
def test_the_grid_holds_the_profile_the_fit_point_and_one_below(profile_bits, needed_bits, points):
    grid = sram_capacity_grid(profile_bits, needed_bits, points)
    assert list(grid) == sorted(set(grid))
    assert {profile_bits, needed_bits, max(1, int(needed_bits * 0.98))} <= set(grid)


def _marker_x(fig, name: str) -> float:
    (trace_,) = [t for t in fig.data if t.name == name]
    return trace_.x[0]


def test_sram_curve_steps_at_the_footprint_with_its_marker_there():
    """256-128-10 float32 MLP on horowitz45: needs (256*128 + 128 + 128*10 + 10) weights + (256 + 128) live
    activations = 34,186 x 32 = 1,093,952 + 12,288 bits = 1,106,240 bits; the curve must hold that point,
    spill below it, fit from it, and draw "fits from here" exactly there."""
    model = nn.Sequential(nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)).eval()
    workload = trace(model, torch.zeros(1, 256), model_name="mlp")
    config = build_configuration("mlp", workload, resolve_profile("horowitz45"), sram_curve=(600_000, 4_000_000))
    needed = config.cost.footprint.needed_bits
    assert needed == (256 * 128 + 128 + 128 * 10 + 10) * 32 + (256 + 128) * 32 == 1_106_240
    points = {p.sram_bits: p for p in config.sram_curve.points}
    assert needed in points, "the SRAM curve lost its fit point"
    assert [p.fits_on_chip for p in config.sram_curve.points] == [p.sram_bits >= needed for p in config.sram_curve.points]
    assert points[600_000].steady_energy_pj > points[needed].steady_energy_pj  # the step: resident weights stop streaming
    fig = sram_curve_figure(config)
    bscale = 8000.0  # KB (the curve's median is 1.1 MB of bits = 138 KB)
    assert _marker_x(fig, "fits from here (weights + peak activations)") == pytest.approx(needed / bscale)


def test_fit_chart_of_a_tiny_model_on_a_big_sram_is_readable():
    """A 16-8-4 MLP (0.7 KB) on 8 MB: the axis zooms to the need, the SRAM is named off scale, and the
    tallest stacked bar reaches the needed line exactly."""
    model = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 4)).eval()
    config = build_configuration("mlp", trace(model, torch.zeros(1, 16), model_name="mlp"), resolve_profile("horowitz45"),
                                 sram_curve=False)  # fmt: skip
    fp = config.cost.footprint
    fig = fit_figure(config)
    weights, live = (t for t in fig.data if t.type == "bar")
    tops = [w + a for w, a in zip(weights.y, live.y)]
    (needed_line,) = [s for s in fig.layout.shapes if s.line.dash == "dot"]
    assert max(tops) == pytest.approx(needed_line.y0)
    top = fig.layout.yaxis.range[1]
    assert needed_line.y0 < top < 2 * needed_line.y0  # zoomed to the need, not to 8 MB
    assert any("off scale" in a.text for a in fig.layout.annotations)
    assert fp.capacity_bits > 1000 * fp.needed_bits


def test_checkpoint_facts_make_a_typed_accuracy():
    facts, acc = checkpoint_facts({"test_error_percent": 1.5, "model": "lenet_300_100", "nested": {"a": 1}}, "ck")
    assert acc is not None and acc.fraction == pytest.approx(0.985) and "'ck'" in acc.source
    assert facts == {"test_error_percent": "1.5", "model": "lenet_300_100", "checkpoint": "ck"}
    assert checkpoint_facts({}, "ck")[1] is None


def test_shipped_compressed_lenet_agrees_on_needed_bits_everywhere():
    """Issue 12's check: on lenet_300_100-deep-compression with horowitz45-sram512k the fit chart, the SRAM
    curve's marker and step, the verdict and all three engines give the same needed bits."""
    config = configuration_for(None, "horowitz45-sram512k", checkpoint="lenet_300_100-deep-compression", sram_points=2)
    fp = config.cost.footprint
    needed = fp.needed_bits
    assert config.cost.min_sram_bits == needed and config.cost.fits_on_chip == (needed <= fp.capacity_bits)
    assert fit_table([config])["needed_bits"].max() == needed
    fits = {p.sram_bits: p.fits_on_chip for p in config.sram_curve.points}
    assert fits[needed] is True and all(f == (bits >= needed) for bits, f in fits.items())
    from models import model_spec
    from models.pretrained import load_checkpoint

    net, record, _ = load_checkpoint("lenet_300_100-deep-compression")
    workload = trace(net.eval(), model_spec("lenet_300_100").example_input(1), record=record, model_name="lenet_300_100")
    engines = {e: simulate(workload, "horowitz45-sram512k", engine=e).footprint.needed_bits for e in ("simpy", "closed-form", "baseline")}
    assert set(engines.values()) == {needed}, engines


def test_a_bare_report_makes_a_configuration_without_a_fit_chart():
    from simulator.cost import CostReport
    from simulator.frozen import FrozenMap

    bare = CostReport("m", "p", "hand", FrozenMap({("a", "compute", "none"): 1.0}), cycles=1.0, clock_hz=1e9)
    assert fit_table([Configuration.of(bare)]).empty
    assert dataclasses.replace(Configuration.of(bare), label="x").label == "x"
