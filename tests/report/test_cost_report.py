"""The typed CostReport: footprint-backed fit, typed coverage and accuracy, ``headline()``, ``to_frame()``, ``+``.

Each test names the breakage it kills (issue 12): ``a + b`` dropping the other report's cold start,
unsupported ops missing from what a reader sees, fit facts copied instead of read from the footprint.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from simulator.api import simulate
from simulator.cost import Accuracy, CostReport, Coverage, OpCount
from simulator.frozen import FrozenMap
from simulator.mapping.residency import Footprint
from simulator.trace import trace


def _report(**changes) -> CostReport:
    base = dict(
        model_name="m", profile_name="p", method="hand", cycles=100.0, clock_hz=1e9,
        energy_pj=FrozenMap({("fc", "compute", "none"): 10.0, ("fc", "dram", "weights"): 90.0}),
        layer_traffic_bits=FrozenMap({("fc", "dram", "weights", "read"): 640.0, ("fc", "sram", "weights", "write"): 640.0}),
        level_word_bits=FrozenMap({"dram": 64, "sram": 32}),
    )  # fmt: skip
    base.update(changes)
    return CostReport(**base)


def _footprint(capacity=8000, weights=3000, peak=1000, **changes) -> Footprint:
    return Footprint(capacity_bits=capacity, weight_onchip_bits=weights, peak_activation_bits=peak, **changes)


@pytest.fixture(scope="module")
def mlp_report() -> CostReport:
    model = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 4)).eval()
    return simulate(trace(model, torch.zeros(1, 16), model_name="mlp"), "horowitz45")


# -- a + b ---------------------------------------------------------------------------------------


def test_adding_reports_keeps_both_cold_starts():
    """Breakage: ``__add__`` dropping the other report's cold-start energy. 3 pJ + 4 pJ of weight load = 7 pJ."""
    a, b = _report(cold_start_energy_pj=3.0), _report(cold_start_energy_pj=4.0, model_name="n")
    total = a + b
    assert total.cold_start_energy_pj == 7.0
    assert total.cold_energy_pj == a.cold_energy_pj + b.cold_energy_pj == 207.0
    assert (b + a).cold_start_energy_pj == 7.0


def test_adding_reports_sums_traffic_and_coverage_and_keeps_the_larger_footprint():
    a = _report(footprint=_footprint(weights=3000), coverage=Coverage.of(unsupported_ops={"aten.x": 1}))
    b = _report(footprint=_footprint(weights=5000), coverage=Coverage.of(unsupported_ops={"aten.x": 2, "aten.y": 1}))
    total = a + b
    assert total.footprint == b.footprint  # the chip must hold either model
    assert total.coverage.unsupported_ops == (OpCount("aten.x", 3), OpCount("aten.y", 1))
    assert total.level_bits("dram") == 2 * 640.0
    assert total.cycles == 200.0


# -- fit reads the footprint ---------------------------------------------------------------------


def test_fit_names_are_views_of_the_footprint():
    fp = _footprint(capacity=8000, weights=3000, peak=1000, spilling_layers=("fc",))
    r = _report(footprint=fp)
    assert (r.fits_on_chip, r.min_sram_bits, r.sram_capacity_bits, r.sram_margin_bits) == (True, 4000, 8000, 4000)
    assert (r.peak_activation_bits, r.spilling_layers) == (1000, ("fc",))
    bare = _report()
    assert (bare.fits_on_chip, bare.min_sram_bits, bare.sram_capacity_bits, bare.peak_activation_bits) == (None,) * 4
    for name in ("fits_on_chip", "min_sram_bits", "sram_capacity_bits", "peak_activation_bits", "spilling_layers"):
        assert name not in {f.name for f in dataclasses.fields(CostReport)}, f"{name} copied into CostReport again"


def test_every_engine_fills_the_same_footprint():
    """simpy, closed form and the no-reuse baseline report the same needed bits for the same model and chip."""
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)).eval()
    workload = trace(model, torch.zeros(1, 64), model_name="mlp")
    needs = {e: simulate(workload, "horowitz45-sram512k", engine=e).footprint.needed_bits for e in ("simpy", "closed-form", "baseline")}
    # (64*32 + 32 + 32*10 + 10) float32 weights + peak live activations (input 64 + hidden 32) x 32 bits
    assert set(needs.values()) == {(64 * 32 + 32 + 32 * 10 + 10) * 32 + (64 + 32) * 32}, needs


# -- coverage: what was not costed reaches every reader -------------------------------------------


def test_unsupported_ops_reach_the_report_headline_html_and_tables(mlp_report):
    """Breakage: unsupported ops missing from the report. The tracer's count travels typed to every view."""
    from simulator.report import render_html, summary_table

    workload = trace(nn.Sequential(nn.Linear(4, 2)).eval(), torch.zeros(1, 4), model_name="m")
    workload = dataclasses.replace(workload, unsupported=FrozenMap({"aten.mystery_op": 3}))
    for engine in ("simpy", "baseline"):
        report = simulate(workload, "horowitz45", engine=engine)
        assert report.coverage.unsupported_ops == (OpCount("aten.mystery_op", 3),), engine
        assert "aten.mystery_op x3" in report.headline().row("coverage_unsupported").detail
        assert report.headline().numbers()["unsupported_ops"] == 3
        assert "aten.mystery_op x3" in report._repr_html_()
    assert "aten.mystery_op x3" in render_html(report)
    assert "aten.mystery_op x3" in summary_table([report])["not costed"].iloc[0]
    assert mlp_report.coverage.complete and not any(r.key.startswith("coverage") for r in mlp_report.headline().rows)


def test_unsupported_ops_are_printed_by_pjsim_simulate(monkeypatch):
    from click.testing import CliRunner

    import simulator.cli.cmd_simulate as cmd

    report = _report(coverage=Coverage.of(unsupported_ops={"aten.mystery_op": 3}))
    monkeypatch.setattr(cmd, "simulate", lambda *a, **k: report)
    result = CliRunner().invoke(cmd.command, ["anything", "--no-layers"])
    assert result.exit_code == 0, result.output
    assert "aten.mystery_op x3" in result.output


# -- accuracy -----------------------------------------------------------------------------------


def test_accuracy_is_a_fraction_with_its_source():
    acc = Accuracy(0.985, "checkpoint metadata")
    assert acc.text == "98.50 % top-1" and acc.percent == pytest.approx(98.5)
    assert _report(accuracy=acc).headline().numbers()["accuracy"] == 0.985  # sweeps and tables read the same number
    with pytest.raises(ValueError, match="fraction must lie in"):
        Accuracy(98.5, "a percentage passed as a fraction")


# -- headline ------------------------------------------------------------------------------------


def test_headline_serves_cli_notebook_cards_and_sweeps(mlp_report, monkeypatch):
    from click.testing import CliRunner

    import simulator.cli.cmd_simulate as cmd
    from simulator.report.html import headline_cards
    from simulator.report.records import Configuration
    from simulator.sweep.worker import report_outputs

    head = mlp_report.headline()
    assert headline_cards(Configuration.of(mlp_report)) == list(head.rows)
    notebook = mlp_report._repr_html_()
    for row in head.rows:
        assert row.text.replace("→", "&rarr;") in notebook or row.text in notebook
    outputs = report_outputs(mlp_report)
    for key, value in head.numbers().items():
        assert outputs[key] == value or (value != value and outputs[key] != outputs[key])  # NaN compression ratio
    assert outputs["min_sram_bits"] == mlp_report.footprint.needed_bits
    monkeypatch.setattr(cmd, "simulate", lambda *a, **k: mlp_report)
    printed = CliRunner().invoke(cmd.command, ["anything", "--no-layers"], env={"COLUMNS": "200"}).output
    for row in head.rows:
        assert row.label in printed and row.text in printed, row


# -- to_frame ------------------------------------------------------------------------------------


def test_to_frame_is_the_tidy_breakdown(mlp_report):
    frame = mlp_report.to_frame()
    assert list(frame.columns) == ["model", "profile", "method", "layer", "component", "operand", "energy_pj", "bits", "accesses"]
    assert not frame.duplicated(["layer", "component", "operand"]).any()
    assert frame["energy_pj"].sum() == pytest.approx(mlp_report.total_energy_pj, rel=1e-12)
    for level, word in mlp_report.level_word_bits.items():
        rows = frame[frame["component"] == level]
        assert rows["bits"].sum() == pytest.approx(mlp_report.level_bits(level), rel=1e-12)
        assert rows["accesses"].sum() == pytest.approx(mlp_report.level_bits(level) / word, rel=1e-12)
    assert (frame.loc[frame["component"] == "compute", "bits"] == 0).all()


def test_to_frame_of_a_hand_report():
    """fc reads 640 DRAM bits (64-bit words: 10 accesses) and writes them to SRAM (32-bit words: 20 accesses)."""
    frame = _report().to_frame().set_index(["layer", "component", "operand"])
    assert frame.loc[("fc", "dram", "weights"), ["energy_pj", "bits", "accesses"]].tolist() == [90.0, 640.0, 10.0]
    assert frame.loc[("fc", "sram", "weights"), ["energy_pj", "bits", "accesses"]].tolist() == [0.0, 640.0, 20.0]
    assert frame.loc[("fc", "compute", "none"), ["energy_pj", "bits", "accesses"]].tolist() == [10.0, 0.0, 0.0]


@given(
    st.dictionaries(st.tuples(st.sampled_from(["a", "b", ""]), st.sampled_from(["compute", "sram", "dram"]), st.sampled_from(["weights", "none"])),
                    st.floats(0, 1e9), max_size=12),
    st.floats(0, 1e6), st.floats(0, 1e6),
)  # fmt: skip
def test_sum_of_reports_is_the_sum_of_their_parts(energy, cold_a, cold_b):
    a = _report(energy_pj=FrozenMap(energy), cold_start_energy_pj=cold_a)
    b = _report(energy_pj=FrozenMap(energy), cold_start_energy_pj=cold_b)
    total = a + b
    assert total.total_energy_pj == pytest.approx(a.total_energy_pj + b.total_energy_pj, rel=1e-12, abs=1e-6)
    assert total.cold_energy_pj == pytest.approx(a.cold_energy_pj + b.cold_energy_pj, rel=1e-12, abs=1e-6)
    assert total.to_frame()["energy_pj"].sum() == pytest.approx(total.total_energy_pj, rel=1e-12, abs=1e-6)


def test_a_full_report_survives_json():
    """Footprint, coverage, accuracy and per-layer traffic round-trip exactly through the saved-report encoding."""
    from simulator.jsonio import from_jsonable, to_jsonable

    r = _report(
        footprint=_footprint(layer_weight_bits=FrozenMap({"fc": 3000}), layer_live_activation_bits=FrozenMap({"fc": 1000})),
        coverage=Coverage.of({"aten.x": 2}, {"mystery": 1}, {"float32.div": 10.0}),
        accuracy=Accuracy(0.5, "a coin"),
        cold_start_energy_pj=3.0,
    )
    assert from_jsonable(to_jsonable(r)) == r
