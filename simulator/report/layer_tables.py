"""Per-layer tables of a report: the sortable layer table, the roofline points and the comparison
across configurations. Formats and divides numbers the records hold; computes no new results.

Per layer: MACs (``CostReport.macs_by_layer``), energy by component (``energy_pj``), bits moved per
memory level (``layer_traffic_bits``, both directions, every operand), latency (``layer_cycles`` at
the clock), utilisation (MACs / (cycles x the array's peak MACs per cycle, from the configuration's
``Roofline``)) and whether the layer spills (``Footprint.spilling_layers``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from simulator.report.records import Configuration, Roof
from simulator.report.tables import TOP_LEVEL, component_order
from simulator.units import BITS_PER_BYTE

__all__ = ["dram_and_sram_roofs", "layer_comparison_table", "layer_table", "roofline_table"]


def _layers(config: Configuration) -> list[str]:
    return list(config.cost.layers)


def layer_table(config: Configuration) -> pd.DataFrame:
    """One row per layer (execution order): ``layer, kind, macs, <component>_pj..., total_pj,
    <level>_bits..., latency_s, utilisation, on_chip`` (``fits`` / ``spills`` / ``n/a``)."""
    r = config.cost
    layers = _layers(config)
    energy = r.energy_by("layer", "component")
    comps = component_order([c for _, c in energy])
    levels = list(dict.fromkeys([*r.level_word_bits, *(lv for _, lv, _, _ in r.layer_traffic_bits)]))
    traffic: dict[tuple[str, str], float] = {}
    for (layer, level, _, _), bits in r.layer_traffic_bits.items():
        traffic[(layer, level)] = traffic.get((layer, level), 0.0) + bits
    spilling = set(r.footprint.spilling_layers) if r.footprint is not None else None
    peak_per_cycle = config.roofline.peak_macs_per_s / r.clock_hz if config.roofline and r.clock_hz else None
    rows = []
    for layer in layers:
        row: dict[str, object] = {"layer": layer or TOP_LEVEL, "kind": r.layer_kinds.get(layer, ""),
                                  "macs": int(r.macs_by_layer.get(layer, 0))}  # fmt: skip
        row.update({f"{c}_pj": float(energy.get((layer, c), 0.0)) for c in comps})
        row["total_pj"] = float(sum(energy.get((layer, c), 0.0) for c in comps))
        row.update({f"{lv}_bits": float(traffic.get((layer, lv), 0.0)) for lv in levels})
        cycles = r.layer_cycles.get(layer)
        row["latency_s"] = cycles / r.clock_hz if cycles is not None and r.clock_hz else float("nan")
        row["utilisation"] = (row["macs"] / (cycles * peak_per_cycle)
                              if cycles and peak_per_cycle and row["macs"] else float("nan"))  # fmt: skip
        row["on_chip"] = "n/a" if spilling is None else ("spills" if layer in spilling else "fits")
        rows.append(row)
    columns = ["layer", "kind", "macs", *(f"{c}_pj" for c in comps), "total_pj", *(f"{lv}_bits" for lv in levels),
               "latency_s", "utilisation", "on_chip"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def dram_and_sram_roofs(config: Configuration) -> tuple[Roof | None, Roof | None]:
    """The DRAM roof (the level of kind ``dram``) and the SRAM roof (the level just inside it, the
    global buffer); None where the profile has no such level or no roofline is known."""
    if config.roofline is None:
        return None, None
    roofs = list(config.roofline.roofs)
    dram = next((x for x in roofs if x.kind == "dram"), None)
    inner = [x for x in roofs if x is not dram]
    return dram, (inner[-1] if inner else None)


def roofline_table(config: Configuration) -> pd.DataFrame:
    """The roofline's points, one per layer with MACs: ``layer, macs, dram_bytes, sram_bytes,
    macs_per_dram_byte, macs_per_sram_byte, macs_per_s`` (achieved: MACs / the layer's latency)."""
    table = layer_table(config)
    dram, sram = dram_and_sram_roofs(config)
    out = pd.DataFrame({"layer": table["layer"], "macs": table["macs"]})
    for name, roof in (("dram", dram), ("sram", sram)):
        column = f"{roof.level}_bits" if roof is not None else None
        moved = table[column] / BITS_PER_BYTE if column in table else pd.Series(np.nan, index=table.index)
        out[f"{name}_bytes"] = moved
        out[f"macs_per_{name}_byte"] = np.where(moved > 0, table["macs"] / moved.where(moved > 0, 1), np.nan)
    out["macs_per_s"] = np.where(table["latency_s"] > 0, table["macs"] / table["latency_s"].where(table["latency_s"] > 0, 1), np.nan)
    return out[out["macs"] > 0].reset_index(drop=True)


def layer_comparison_table(configs: Sequence[Configuration]) -> pd.DataFrame:
    """Per layer, each configuration against the first one of the same model (its baseline):
    ``model, layer, config, baseline, energy_pj, baseline_pj, delta_pj, ratio, latency_s,
    baseline_latency_s`` (ratio = energy / baseline energy). Empty when no model appears twice."""
    rows = []
    by_model: dict[str, list[Configuration]] = {}
    for c in configs:
        by_model.setdefault(c.cost.model_name, []).append(c)
    for model, group in by_model.items():
        if len(group) < 2:
            continue
        base = layer_table(group[0]).set_index("layer")
        for c in group[1:]:
            table = layer_table(c).set_index("layer")
            for layer in dict.fromkeys([*base.index, *table.index]):
                e = float(table["total_pj"].get(layer, 0.0))
                b = float(base["total_pj"].get(layer, 0.0))
                rows.append({"model": model, "layer": layer, "config": c.label, "baseline": group[0].label,
                             "energy_pj": e, "baseline_pj": b, "delta_pj": e - b, "ratio": e / b if b else float("nan"),
                             "latency_s": float(table["latency_s"].get(layer, float("nan"))),
                             "baseline_latency_s": float(base["latency_s"].get(layer, float("nan")))})  # fmt: skip
    return pd.DataFrame(rows, columns=["model", "layer", "config", "baseline", "energy_pj", "baseline_pj", "delta_pj", "ratio",
                                       "latency_s", "baseline_latency_s"])  # fmt: skip
