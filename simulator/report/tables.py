"""Records -> pandas tables: the only place results become DataFrames. Formats, never computes.

Every figure and every export of a report is drawn from one of these tables, so the CSV/JSON files
next to the HTML hold exactly the numbers the charts show. Tables over several configurations carry
a ``config`` column (the configuration's label).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from simulator.cost import COMPONENT_ORDER, CostReport
from simulator.report_data import STORAGE_PARTS, Configuration, accuracy_fact
from simulator.units import bits_to_kb

__all__ = [
    "EXPORT_TABLES",
    "as_configurations",
    "component_order",
    "energy_table",
    "energy_tables",
    "fit_table",
    "layer_energy_table",
    "profile_constants_table",
    "sram_curve_table",
    "storage_part_table",
    "storage_stage_table",
    "summary_table",
    "timeline_table",
]

TOP_LEVEL = "(top level)"


def as_configurations(items: CostReport | Configuration | Sequence[CostReport | Configuration]) -> list[Configuration]:
    """Wrap bare ``CostReport``s as ``Configuration``s; keep configurations as they are."""
    if isinstance(items, (CostReport, Configuration)):
        items = [items]
    out = []
    for item in items:
        if isinstance(item, CostReport):
            out.append(Configuration.of(item))
        elif isinstance(item, Configuration):
            out.append(item)
        else:
            raise TypeError(f"a report is built from CostReport or Configuration objects, got {type(item).__name__}")
    return out


def component_order(components: Sequence[str]) -> list[str]:
    """Components in display order: compute, rf, sram, dram, leakage, then any others by name."""
    return sorted(set(components), key=lambda c: (COMPONENT_ORDER.index(c) if c in COMPONENT_ORDER else len(COMPONENT_ORDER), c))


def energy_table(report: CostReport) -> pd.DataFrame:
    """Tidy table: one row per (layer, component, operand) with ``energy_pj``."""
    rows = [
        {"layer": layer or TOP_LEVEL, "component": comp, "operand": operand, "energy_pj": pj}
        for (layer, comp, operand), pj in report.energy_pj.items()
    ]
    return pd.DataFrame(rows, columns=["layer", "component", "operand", "energy_pj"])


def energy_tables(configs: Sequence[Configuration]) -> pd.DataFrame:
    """``energy_table`` of every configuration, stacked, with a ``config`` column."""
    frames = [energy_table(c.cost).assign(config=c.label) for c in configs]
    return _concat(frames, ["config", "layer", "component", "operand", "energy_pj"])


def layer_energy_table(report: CostReport, by: str = "component") -> pd.DataFrame:
    """Energy per layer (rows, execution order) by ``by`` (``component`` or ``operand``) in pJ, plus MACs."""
    if by not in ("component", "operand"):
        raise ValueError(f"layer_energy_table: by must be 'component' or 'operand', got {by!r}")
    table = energy_table(report)
    wide = table.pivot_table(index="layer", columns=by, values="energy_pj", aggfunc="sum", fill_value=0.0)
    order = [layer or TOP_LEVEL for layer in report.layers]
    wide = wide.reindex([layer for layer in order if layer in wide.index])
    if by == "component":
        wide = wide[component_order(list(wide.columns))]
    macs = {(k or TOP_LEVEL): v for k, v in report.macs_by_layer.items()}
    wide.insert(0, "macs", [macs.get(layer, 0) for layer in wide.index])
    wide["total_pj"] = wide.drop(columns="macs").sum(axis=1)
    wide.columns.name = None
    return wide


def summary_table(items: Sequence[CostReport | Configuration]) -> pd.DataFrame:
    """One row per configuration with the headline numbers, in display units."""
    rows = []
    for c in as_configurations(list(items)):
        r = c.cost
        acc = accuracy_fact(r)
        rows.append(
            {
                "config": c.label,
                "model": r.model_name,
                "profile": r.profile_name,
                "variant": c.variant,
                "method": r.method,
                "MACs": r.total_macs,
                "energy / inference (uJ)": r.total_energy_pj * 1e-6,
                "cold first inference (uJ)": r.cold_energy_pj * 1e-6,
                "latency (ms)": r.latency_s * 1e3,
                "stall (cycles)": r.stall_cycles,
                "weights dense (KB)": bits_to_kb(r.weight_dense_bits),
                "weights stored (KB)": bits_to_kb(r.weight_stored_bits),
                "compression ratio": r.compression_ratio,
                "peak activations (KB)": bits_to_kb(r.peak_activation_bits),
                "SRAM (KB)": bits_to_kb(r.sram_capacity_bits) if r.sram_capacity_bits is not None else None,
                "min SRAM (KB)": bits_to_kb(r.min_sram_bits) if r.min_sram_bits is not None else None,
                "fits on chip": {True: "yes", False: "no", None: "n/a"}[r.fits_on_chip],
                "accuracy": acc[0] if acc else "",
                "accuracy source": acc[1] if acc else "",
            }
        )
    return pd.DataFrame(rows)


def storage_stage_table(configs: Sequence[Configuration]) -> pd.DataFrame:
    """The storage waterfall: ``config, stage, bits`` (stages in order)."""
    rows = [
        {"config": c.label, "stage": s.name, "bits": s.bits}
        for c in configs
        if c.storage is not None
        for s in c.storage.stages
    ]
    return pd.DataFrame(rows, columns=["config", "stage", "bits"])


def storage_part_table(configs: Sequence[Configuration]) -> pd.DataFrame:
    """Per-layer stored weight bits by part: ``config, layer, part, bits``."""
    rows = [
        {"config": c.label, "layer": p.layer or TOP_LEVEL, "part": p.part, "bits": p.bits}
        for c in configs
        if c.storage is not None
        for p in c.storage.parts
    ]
    table = pd.DataFrame(rows, columns=["config", "layer", "part", "bits"])
    order = {p: i for i, p in enumerate(STORAGE_PARTS)}
    return table.sort_values("part", key=lambda s: s.map(lambda p: order.get(p, len(order))), kind="stable")


def fit_table(configs: Sequence[Configuration]) -> pd.DataFrame:
    """On-chip fit per layer: weights, cumulative weights, live activations, SRAM capacity, spilling flag."""
    rows = []
    for c in configs:
        if c.fit is None:
            continue
        spilling = set(c.cost.spilling_layers)
        for layer in c.fit.layers:
            rows.append(
                {
                    "config": c.label,
                    "layer": layer.layer or TOP_LEVEL,
                    "weight_bits": layer.weight_bits,
                    "cumulative_weight_bits": layer.cumulative_weight_bits,
                    "live_activation_bits": layer.live_activation_bits,
                    "sram_capacity_bits": c.fit.sram_capacity_bits,
                    "spills": layer.layer in spilling,
                }
            )
    return pd.DataFrame(
        rows,
        columns=["config", "layer", "weight_bits", "cumulative_weight_bits", "live_activation_bits", "sram_capacity_bits", "spills"],
    )


def sram_curve_table(configs: Sequence[Configuration]) -> pd.DataFrame:
    """Energy per inference vs SRAM capacity: ``config, sram_bits, steady/cold energy, latency, fits``."""
    rows = [
        {
            "config": c.label,
            "sram_bits": p.sram_bits,
            "steady_energy_pj": p.steady_energy_pj,
            "cold_energy_pj": p.cold_energy_pj,
            "latency_s": p.latency_s,
            "fits_on_chip": p.fits_on_chip,
        }
        for c in configs
        if c.sram_curve is not None
        for p in c.sram_curve.points
    ]
    return pd.DataFrame(rows, columns=["config", "sram_bits", "steady_energy_pj", "cold_energy_pj", "latency_s", "fits_on_chip"])


def timeline_table(configs: Sequence[Configuration]) -> pd.DataFrame:
    """The simulated timeline: ``config, resource, start_cycle, end_cycle, layer, what``."""
    rows = [
        {
            "config": c.label,
            "resource": e.resource,
            "start_cycle": e.start_cycle,
            "end_cycle": e.end_cycle,
            "layer": e.layer or TOP_LEVEL,
            "what": e.what,
        }
        for c in configs
        for e in c.cost.timeline
    ]
    return pd.DataFrame(rows, columns=["config", "resource", "start_cycle", "end_cycle", "layer", "what"])


def profile_constants_table(configs: Sequence[Configuration]) -> pd.DataFrame:
    """Each distinct profile's constants with sources: ``profile, key, value, unit, source``."""
    rows = []
    seen: set[str] = set()
    for c in configs:
        name = c.cost.profile_name
        if name in seen or not c.profile_constants:
            continue
        seen.add(name)
        rows.extend({"profile": name, "key": k.key, "value": k.value, "unit": k.unit, "source": k.source} for k in c.profile_constants)
    return pd.DataFrame(rows, columns=["profile", "key", "value", "unit", "source"])


#: Tables exported next to the HTML, by file suffix.
EXPORT_TABLES = {
    "summary": summary_table,
    "energy": energy_tables,
    "storage_stages": storage_stage_table,
    "storage_parts": storage_part_table,
    "fit": fit_table,
    "sram_curve": sram_curve_table,
    "timeline": timeline_table,
    "profile_constants": profile_constants_table,
}


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]
