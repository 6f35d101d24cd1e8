"""From the sweep table to what the report shows: Pareto flags, energy sensitivity per axis, frontier rows.

The report formats these tables and computes nothing; this module is where the numbers come from.

Sensitivity of energy to an axis is its main effect: the points are grouped by the axis's value
(values binned into quintiles when an axis has more than ``MAX_LEVELS`` distinct ones, as random and
LHS sweeps do), the mean energy of each group is taken, and the spread is reported as the ratio
``max group mean / min group mean`` (1.0 = no effect), together with Spearman's rank correlation
between the axis and energy for numeric axes (the direction of the effect).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from simulator.sweep.pareto import pareto_mask

__all__ = ["Front", "add_pareto_columns", "frontier_table", "fronts_for", "report_inputs", "sensitivity_table"]

#: Axes with more distinct values than this are binned into quintiles for the main effect.
MAX_LEVELS = 12
ENERGY = "total_energy_pj"


@dataclass(frozen=True, slots=True)
class Front:
    """A Pareto front: its flag column, title and the objectives (column, maximise?)."""

    column: str
    title: str
    objectives: tuple[tuple[str, bool], ...]


def _has_accuracy(df: pd.DataFrame) -> bool:
    return "accuracy" in df.columns and df["accuracy"].notna().any()


def fronts_for(df: pd.DataFrame) -> tuple[Front, ...]:
    """The fronts this table supports: energy vs storage (vs accuracy when present), energy vs latency."""
    storage = Front(
        "pareto_energy_storage",
        "energy vs weight storage",
        ((ENERGY, False), ("weight_stored_bits", False)),
    )
    if _has_accuracy(df):
        storage = Front(
            "pareto_energy_storage_accuracy",
            "energy vs weight storage vs accuracy",
            ((ENERGY, False), ("weight_stored_bits", False), ("accuracy", True)),
        )
    latency = Front("pareto_energy_latency", "energy vs latency", ((ENERGY, False), ("latency_s", False)))
    return (storage, latency)


def add_pareto_columns(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with one boolean column per front (True = on that front)."""
    out = df.copy()
    for front in fronts_for(df):
        columns = [c for c, _ in front.objectives]
        out[front.column] = pareto_mask(df[columns].to_numpy(dtype=float), [m for _, m in front.objectives])
    return out


def frontier_table(df: pd.DataFrame, front: Front, axes: Sequence[str]) -> pd.DataFrame:
    """The points on ``front`` (``df`` must carry its flag column), sorted by energy: axes then objectives."""
    columns = ["point_index", *axes, *(c for c, _ in front.objectives if c not in axes)]
    extra = [c for c in ("fits_on_chip", "cold_energy_pj") if c in df.columns and c not in columns]
    return df.loc[df[front.column], columns + extra].sort_values(ENERGY).reset_index(drop=True)


def _levels(values: pd.Series) -> pd.Series:
    if values.nunique(dropna=True) <= MAX_LEVELS or not pd.api.types.is_numeric_dtype(values):
        return values
    return pd.qcut(values.rank(method="first"), 5, labels=False)


def sensitivity_table(df: pd.DataFrame, axes: Sequence[str], energy: str = ENERGY) -> pd.DataFrame:
    """Per axis: levels, min and max group-mean energy, their ratio, and Spearman's rho with energy.

    Rows are sorted by the ratio, most influential axis first.
    """
    rows = []
    for axis in axes:
        values = df[axis]
        means = df.groupby(_levels(values), dropna=True)[energy].mean()
        rho = float("nan")
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values) and values.nunique() > 1:
            rho = float(values.rank().corr(df[energy].rank()))
        low, high = float(means.min()), float(means.max())
        rows.append(
            {
                "axis": axis,
                "levels": int(values.nunique()),
                "min_mean_energy_pj": low,
                "max_mean_energy_pj": high,
                "max_over_min": high / low if low > 0 else float("nan"),
                "spearman_rho": rho,
            }
        )
    table = pd.DataFrame(rows)
    return table.sort_values("max_over_min", ascending=False, na_position="last").reset_index(drop=True)



def report_inputs(df: pd.DataFrame, axes: Sequence[str] | None = None) -> dict:
    """Everything the sweep report shows, computed here: keyword arguments of ``render_sweep_html``.

    Args:
        df: the table ``simulator.sweep.run`` returned.
        axes: the swept columns (default: ``df.attrs["axes"]``).
    """
    axes = list(axes if axes is not None else df.attrs.get("axes", []))
    flagged = add_pareto_columns(df)
    fronts = fronts_for(df)
    attrs = df.attrs
    facts = [
        ("sweep", attrs.get("sweep", "")),
        ("points", len(df)),
        ("sampling", (f"{attrs.get('sampling', '')} ({attrs.get('sampled', len(df))} sampled, "
                     f"{attrs.get('skipped_by_constraints', 0)} ruled out by constraints, "
                     f"{attrs.get('duplicates', 0)} duplicates)")),
        ("axes", ", ".join(axes)),
        ("constraints", "; ".join(attrs.get("constraints", [])) or "none"),
        ("model / profile", f"{df['model'].iloc[0]} / {df['profile'].iloc[0]}"),
        ("costing method", ", ".join(sorted(df["method"].astype(str).unique())) if "method" in df else ""),
        ("code version", attrs.get("code_version", "")),
    ]
    return dict(
        df=flagged,
        axes=axes,
        fronts=fronts,
        sensitivity=sensitivity_table(df, axes),
        frontier_tables={f.column: frontier_table(flagged, f, axes) for f in fronts},
        title=f"pjsim sweep: {attrs.get('sweep', '')}",
        facts=facts,
    )
