"""``publish_table`` rewrites one benchmark's cost rows and keeps every other benchmark's (the rows live in
``benchmarks/results/lecture_costs/``, committed): running only the distillation benchmark once dropped the
lottery and low-rank rows from LECTURE_METHODS.md."""

from __future__ import annotations

import json

import benchmarks._costing as costing


def _row(method: str) -> dict:
    return {"method": method, "profile": "horowitz45", "accuracy_percent": 98.0, "weight_stored_kb": 1.0,
            "weight_dense_kb": 1.0, "fits_on_chip": True, "energy_uj": 1.0, "macs": 10, "cost_method": "mapped + simpy",
            "note": ""}


def test_one_benchmark_rewrites_only_its_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(costing, "HERE", tmp_path)
    monkeypatch.setattr(costing, "COSTS", tmp_path / "results" / "lecture_costs")
    (tmp_path / "results").mkdir()
    costing.publish_table("lottery", [_row("lottery: ticket")])
    costing.publish_table("distillation", [_row("distillation: old")])
    out = costing.publish_table("distillation", [_row("distillation: new")])
    text = out.read_text()
    assert "lottery: ticket" in text and "distillation: new" in text and "distillation: old" not in text
    assert json.loads((tmp_path / "results" / "lecture_costs" / "lottery.json").read_text())[0]["method"] == "lottery: ticket"


def test_the_committed_store_holds_every_lecture_benchmark():
    assert sorted(p.stem for p in costing.COSTS.glob("*.json")) == ["distillation", "lottery", "lowrank_binary"]
