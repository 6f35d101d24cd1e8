"""Records -> pandas tables: the only place results become DataFrames. Formats, never computes.

Every figure and every export of a report is drawn from one of these tables, so the CSV/JSON files
next to the HTML hold exactly the numbers the charts show. Tables over several configurations carry
a ``config`` column (the configuration's label).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

import numpy as np

from simulator.cost import COMPONENT_ORDER, CostReport
from simulator.report.records import STORAGE_PARTS, Configuration
from simulator.units import bits_to_kb

__all__ = [
    "EXPORT_TABLES",
    "as_configurations",
    "component_order",
    "energy_table",
    "energy_tables",
    "fit_table",
    "layer_energy_table",
    "memory_timing_table",
    "profile_constants_table",
    "sram_curve_table",
    "stall_intervals",
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
            from simulator.report.profile_facts import configuration_of

            out.append(configuration_of(item))
        elif isinstance(item, Configuration):
            out.append(item)
        else:
            raise TypeError(f"a report is built from CostReport or Configuration objects, got {type(item).__name__}")
    return out


def component_order(components: Sequence[str]) -> list[str]:
    """Components in display order: compute, rf, sram, dram, leakage, then any others by name."""
    return sorted(set(components), key=lambda c: (COMPONENT_ORDER.index(c) if c in COMPONENT_ORDER else len(COMPONENT_ORDER), c))


_ENERGY_COLUMNS = ["layer", "component", "operand", "energy_pj", "bits", "accesses"]


def energy_table(report: CostReport) -> pd.DataFrame:
    """``CostReport.to_frame()`` with the top level named: one row per (layer, component, operand)."""
    frame = report.to_frame()[_ENERGY_COLUMNS]
    frame["layer"] = frame["layer"].replace("", TOP_LEVEL)
    return frame


def energy_tables(configs: Sequence[Configuration]) -> pd.DataFrame:
    """``energy_table`` of every configuration, stacked, with a ``config`` column."""
    frames = [energy_table(c.cost).assign(config=c.label) for c in configs]
    return _concat(frames, ["config", *_ENERGY_COLUMNS])


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
    """One row per configuration with the headline numbers (``CostReport.headline()``), in display units."""
    rows = []
    for c in as_configurations(list(items)):
        h = c.cost.headline()
        rows.append(
            {
                "config": c.label,
                "model": c.cost.model_name,
                "profile": c.cost.profile_name,
                "variant": c.variant,
                "method": h.method,
                "MACs": h.total_macs,
                "energy / inference (uJ)": h.total_energy_pj * 1e-6,
                "cold first inference (uJ)": h.cold_energy_pj * 1e-6,
                "latency (ms)": h.latency_s * 1e3,
                "stall (cycles)": h.stall_cycles,
                "weights dense (KB)": bits_to_kb(h.weight_dense_bits),
                "weights stored (KB)": bits_to_kb(h.weight_stored_bits),
                "compression ratio": h.compression_ratio,
                "peak activations (KB)": None if h.peak_activation_bits is None else bits_to_kb(h.peak_activation_bits),
                "SRAM (KB)": None if h.sram_capacity_bits is None else bits_to_kb(h.sram_capacity_bits),
                "min SRAM (KB)": None if h.needed_bits is None else bits_to_kb(h.needed_bits),
                "fits on chip": {True: "yes", False: "no", None: "n/a"}[h.fits_on_chip],
                "accuracy": h.accuracy.text if h.accuracy else "",
                "accuracy source": h.accuracy.source if h.accuracy else "",
                "not costed": "; ".join(f"{label}: {text}" for label, text in h.coverage.lines()),
            }
        )
    return pd.DataFrame(rows)


def memory_timing_table(report: CostReport) -> pd.DataFrame:
    """The memory system's latency facts of one report: ``quantity, cycles`` rows: the bracket's lower
    bound, the simulated latency, the upper bound, then the stall cycles by cause (empty without
    ``report.memory_timing``)."""
    mt = report.memory_timing
    if mt is None:
        return pd.DataFrame(columns=["quantity", "kind", "cycles"])
    rows = [("lower bound (perfect overlap)", "bracket", mt.lower_bound_cycles),
            (f"simulated ({mt.fidelity})", "bracket", report.cycles),
            ("upper bound (no overlap)", "bracket", mt.upper_bound_cycles)]
    rows += [(f"stall: {cause}", "stall", cycles) for cause, cycles in mt.stall_cycles_by_cause.items()]
    return pd.DataFrame(rows, columns=["quantity", "kind", "cycles"])


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
    """On-chip fit per layer, from each report's ``Footprint``.

    Columns: ``config, layer, weight_bits`` (this layer's weights on chip), ``all_weight_bits`` (every
    weight, resident), ``live_activation_bits``, ``needed_bits`` (all weights + this layer's live
    activations; its maximum is the footprint's ``needed_bits``), ``capacity_bits``, ``spills``.
    """
    rows = []
    for c in configs:
        fp = c.cost.footprint
        if fp is None:
            continue
        spilling = set(fp.spilling_layers)
        layers = list(dict.fromkeys([*fp.layer_weight_bits, *fp.layer_live_activation_bits]))
        for layer in layers:
            live = fp.layer_live_activation_bits.get(layer, 0)
            rows.append(
                {
                    "config": c.label,
                    "layer": layer or TOP_LEVEL,
                    "weight_bits": fp.layer_weight_bits.get(layer, 0),
                    "all_weight_bits": fp.weight_onchip_bits,
                    "live_activation_bits": live,
                    "needed_bits": fp.weight_onchip_bits + live,
                    "capacity_bits": fp.capacity_bits,
                    "spills": layer in spilling,
                }
            )
    return pd.DataFrame(rows, columns=["config", "layer", "weight_bits", "all_weight_bits", "live_activation_bits", "needed_bits",
                                       "capacity_bits", "spills"])  # fmt: skip


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


def stall_intervals(report: CostReport, resource: str = "compute") -> tuple[tuple[float, float], ...]:
    """The stretches of ``[0, report.cycles]`` where ``resource`` is busy with nothing: its stalls.

    The complement of the resource's busy intervals in the timeline (overlaps merged). For the SimPy
    hierarchy the compute array's idle time is its wait for memory, so the lengths add up to
    ``report.stall_cycles``. Empty when the timeline has no ``resource`` events.
    """
    events = [(e.start_cycle, e.end_cycle) for e in report.timeline if e.resource == resource]
    if not events:
        return ()
    busy = np.asarray(sorted(events), dtype=float)
    ends = np.maximum.accumulate(busy[:, 1])
    gap_starts = np.concatenate([[0.0], ends])
    gap_ends = np.concatenate([busy[:, 0], [max(float(report.cycles), float(ends[-1]))]])
    keep = gap_ends > gap_starts
    return tuple(zip(gap_starts[keep].tolist(), gap_ends[keep].tolist()))


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
