"""CostReports -> pandas tables: the only place results become DataFrames. Formats, never computes."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from simulator.cost import CostReport
from simulator.units import bits_to_kb

__all__ = ["energy_table", "layer_energy_table", "summary_table"]


def energy_table(report: CostReport) -> pd.DataFrame:
    """Tidy table: one row per (layer, component, operand) with ``energy_pj``."""
    rows = [
        {"layer": layer or "(top level)", "component": comp, "operand": operand, "energy_pj": pj}
        for (layer, comp, operand), pj in report.energy_pj.items()
    ]
    return pd.DataFrame(rows, columns=["layer", "component", "operand", "energy_pj"])


def layer_energy_table(report: CostReport) -> pd.DataFrame:
    """Energy per layer (rows, in execution order) by component (columns), in pJ, plus MACs."""
    table = energy_table(report)
    wide = table.pivot_table(index="layer", columns="component", values="energy_pj", aggfunc="sum", fill_value=0.0)
    order = [layer or "(top level)" for layer in report.layers]
    wide = wide.reindex([layer for layer in order if layer in wide.index])
    macs = {(k or "(top level)"): v for k, v in report.macs_by_layer.items()}
    wide.insert(0, "macs", [macs.get(layer, 0) for layer in wide.index])
    wide["total_pj"] = wide.drop(columns="macs").sum(axis=1)
    return wide


def summary_table(reports: Sequence[CostReport]) -> pd.DataFrame:
    """One row per report with the headline numbers, in display units."""
    rows = []
    for r in reports:
        rows.append(
            {
                "model": r.model_name,
                "profile": r.profile_name,
                "method": r.method,
                "MACs": r.total_macs,
                "energy / inference (uJ)": r.total_energy_pj * 1e-6,
                "cold first inference (uJ)": r.cold_energy_pj * 1e-6,
                "latency (ms)": r.latency_s * 1e3,
                "weights dense (KB)": bits_to_kb(r.weight_dense_bits),
                "weights stored (KB)": bits_to_kb(r.weight_stored_bits),
                "peak activations (KB)": bits_to_kb(r.peak_activation_bits),
                "fits on chip": {True: "yes", False: "no", None: "n/a"}[r.fits_on_chip],
            }
        )
    return pd.DataFrame(rows)
