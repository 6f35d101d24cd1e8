"""The memory system wired through ``simulate()``: DRAM device / cores / fidelity arguments, the profile's
``[memory.<dram>] device`` and ``[compute] cores`` keys, device DRAM energy in the CostReport, the
``MemoryTiming`` record, the headline's bracket, the HTML report and the CLI flags (issue 15)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.api import simulate
from simulator.hardware import load_profile
from simulator.memsim.dram_presets import DRAM_PRESETS
from tests.memsim.builders import chain_workload, level, make_profile
from tests.mapping.test_mapper import profiles, workloads

PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOL = 1e-9


def _with_device(profile, device: str):
    return replace(profile, levels=tuple(replace(lv, device=device) if lv.kind == "dram" else lv for lv in profile.levels))


@PROPERTY
@given(workloads(), profiles(), st.sampled_from(["flat", *sorted(DRAM_PRESETS)]), st.integers(1, 3),
       st.sampled_from(["window", "full"]), st.sampled_from(["simpy", "closed-form"]))
def test_simulate_lies_within_the_bracket_and_energy_is_the_sum_of_its_breakdown(
        workload, profile, dram, cores, fidelity, engine):
    if engine == "closed-form":
        cores = 1
    report = simulate(workload, profile, dram=dram, cores=cores, fidelity=fidelity, engine=engine, timeline=False)
    mt = report.memory_timing
    assert mt is not None and mt.requestors == cores and mt.dram_model == dram
    assert mt.lower_bound_cycles * (1 - TOL) <= report.cycles <= mt.upper_bound_cycles * (1 + TOL)
    frame = report.to_frame()
    assert frame["energy_pj"].sum() == pytest.approx(report.total_energy_pj)
    assert sum(report.energy_by("component").values()) == pytest.approx(report.total_energy_pj)
    dram_pj = report.energy_by("component").get(("dram",), 0.0)
    if dram != "flat" and report.level_bits("dram") > 0:
        # the DRAM component is the device's per-command energy for one inference, not bits x per-bit energy
        assert dram_pj == pytest.approx(sum(mt.dram_energy_by_command_pj.values()))
        assert mt.dram_row_hit_rate is not None and 0.0 <= mt.dram_row_hit_rate <= 1.0
    else:
        lv = profile.dram
        flat = report.level_bits("dram", "read") * lv.read_energy_per_bit_pj
        flat += report.level_bits("dram", "write") * lv.write_energy_per_bit_pj
        assert dram_pj == pytest.approx(flat)


def _small():
    profile = make_profile([level("sram", "sram", 4096, 5.0, bandwidth=32.0),
                            level("dram", "dram", 10**9, 640.0, bandwidth=16.0, latency=40.0)])
    return chain_workload([(2, 48, 40), (2, 40, 10)]), profile


def test_cores_report_energy_per_inference():
    """Two cores play one inference each: compute, SRAM and traffic per inference are one core's."""
    workload, profile = _small()
    one = simulate(workload, profile, dram="lpddr4-3200", timeline=False)
    two = simulate(workload, profile, dram="lpddr4-3200", cores=2, timeline=False)
    for component in ("compute", "sram"):
        assert two.energy_by("component")[(component,)] == pytest.approx(one.energy_by("component")[(component,)])
    assert dict(two.traffic_bits) == pytest.approx(dict(one.traffic_bits))
    assert two.memory_timing.requestors == 2 and two.cycles >= one.cycles
    assert two.stall_cycles < two.cycles  # the cores' compute counts (core0.compute, core1.compute)


def test_profile_device_is_the_default_and_the_argument_overrides_it():
    workload, profile = _small()
    on_device = _with_device(profile, "ddr4-3200-x64")
    assert simulate(workload, on_device, timeline=False).memory_timing.dram_model == "ddr4-3200-x64"
    assert simulate(workload, on_device, dram="flat", timeline=False).memory_timing.dram_model == "flat"
    assert simulate(workload, profile, dram=DRAM_PRESETS["hbm2"], timeline=False).memory_timing.dram_model == "hbm2"
    with pytest.raises(ValueError, match=r"memory\.dram\.device: unknown DRAM device 'ddr9'"):
        simulate(workload, _with_device(profile, "ddr9"), timeline=False)
    with pytest.raises(ValueError, match="dram= of simulate\\(\\): unknown DRAM device"):
        simulate(workload, profile, dram="ddr9")
    with pytest.raises(ValueError, match="needs engine='simpy'"):
        simulate(workload, profile, cores=2, engine="closed-form")
    with pytest.raises(ValueError, match="fidelity must be one of"):
        simulate(workload, profile, fidelity="approx")


def test_device_energy_per_bit_depends_on_locality_not_on_the_flat_640():
    """horowitz45's flat model charges 640 pJ / 32 bit = 20 pJ/bit; the LPDDR4 device far less on a stream."""
    workload, profile = _small()
    flat = simulate(workload, profile, timeline=False)
    dev = simulate(workload, profile, dram="lpddr4-3200", timeline=False)
    bits = flat.level_bits("dram")
    assert flat.energy_by("component")[("dram",)] == pytest.approx(bits * 20.0)
    assert dev.level_bits("dram") == pytest.approx(bits)
    assert dev.energy_by("component")[("dram",)] < flat.energy_by("component")[("dram",)]


def test_shipped_profiles_declare_their_dram_model_and_cores():
    h45 = load_profile("horowitz45")
    assert h45.dram.device == "flat" and h45.compute.cores == 1
    assert h45.dram.read_energy_pj == 640.0 and h45.dram.word_bits == 32  # Han et al. 2015 Fig. 1
    two = load_profile("horowitz45-2core-lpddr4")
    assert two.dram.device == "lpddr4-3200" and two.compute.cores == 2
    assert "compute.cores" in two.sources
    assert two.level("sram").capacity_bits == load_profile("horowitz45-sram512k").level("sram").capacity_bits


def test_profile_device_key_is_checked(tmp_path):
    from simulator.errors import ProfileError

    path = tmp_path / "bad.toml"
    path.write_text('[profile]\nname = "bad"\nextends = "horowitz45"\n[memory.sram]\ndevice = "lpddr4-3200"\n')
    with pytest.raises(ProfileError, match=r"memory\.sram\.device"):
        load_profile(path)


def test_headline_and_html_show_the_bracket_stalls_and_row_hits():
    from simulator.report import render_html

    workload, profile = _small()
    report = simulate(workload, profile, dram="lpddr4-3200", timeline=True)
    row = report.headline().row("bracket")
    assert ".." in row.text and "lpddr4-3200" in row.detail and "row hits" in row.detail
    html = render_html(report)
    assert "Memory system" in html and "row-buffer hit rate" in html and "upper bound (no overlap)" in html
    assert "stall: dram" in html
    baseline = simulate(workload, profile, engine="baseline")
    assert baseline.memory_timing is None
    with pytest.raises(KeyError):
        baseline.headline().row("bracket")


def test_cli_flags_reach_simulate(tmp_path):
    import json

    from click.testing import CliRunner

    from simulator.cli.cmd_simulate import command

    out = tmp_path / "r.json"
    result = CliRunner().invoke(command, ["lenet_300_100", "--profile", "horowitz45-2core-lpddr4", "--fidelity", "window",
                                          "--no-layers", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "latency bracket" in result.output and "stall cycles by cause" in result.output
    payload = json.loads(out.read_text())
    timing = payload["memory_timing"]
    assert timing["requestors"] == 2 and timing["dram_model"] == "lpddr4-3200" and timing["fidelity"] == "window"
    assert timing["lower_bound_cycles"] <= payload["cycles"] <= timing["upper_bound_cycles"]
    bad = CliRunner().invoke(command, ["lenet_300_100", "--dram", "ddr9"])
    assert bad.exit_code == 2 and "unknown DRAM device 'ddr9'" in bad.output


def test_memory_timing_survives_the_saved_report_round_trip():
    from simulator.jsonio import from_jsonable, to_jsonable

    workload, profile = _small()
    report = simulate(workload, profile, dram="lpddr4-3200", cores=2, timeline=False)
    back = from_jsonable(to_jsonable(report), "test")
    assert back.memory_timing == report.memory_timing
