"""``pjsim simulate``: tables in the terminal, JSON and CSV on request (through click's runner)."""

from __future__ import annotations

import csv
import json

from click.testing import CliRunner

from simulator.cli.cmd_simulate import command


def test_simulate_prints_tables_and_writes_json_and_csv(tmp_path):
    out_json, out_csv = tmp_path / "r.json", tmp_path / "r.csv"
    result = CliRunner().invoke(command, ["lenet_300_100", "--profile", "horowitz45-sram512k",
                                          "--json", str(out_json), "--csv", str(out_csv)])
    assert result.exit_code == 0, result.output
    for text in ("energy by component x operand", "fits on chip", "spilling layers", "resources", "fc1"):
        assert text in result.output
    payload = json.loads(out_json.read_text())
    assert payload["fits_on_chip"] is False
    assert payload["total_energy_pj"] == sum(row["energy_pj"] for row in payload["energy_pj"])
    rows = list(csv.DictReader(out_csv.open()))
    assert {r["component"] for r in rows} >= {"compute", "dram", "sram", "rf"}
    assert sum(float(r["energy_pj"]) for r in rows) == payload["total_energy_pj"]
