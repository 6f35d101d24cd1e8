"""Tables as sortable, filterable HTML: numbers in human units, sorted on their raw values.

Each cell carries its raw value in ``data-sort`` (numbers) while showing the text of
``simulator.units.format_value`` (chosen by the column's unit suffix: ``_pj``, ``_bits``, ``_s``); the
report's script sorts on a header click and filters rows by the search box above the table. Headers
are the column names in words with their unit. Every text is HTML-escaped here.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping

import pandas as pd

from simulator.units import format_count, format_value

__all__ = ["column_title", "sortable_table_html"]

_TITLES = {"macs": "MACs", "total_pj": "energy total", "latency_s": "latency", "utilisation": "utilisation",
           "on_chip": "on chip", "delta_pj": "Δ energy", "ratio": "ratio", "energy_pj": "energy",
           "baseline_pj": "baseline energy", "baseline_latency_s": "baseline latency"}  # fmt: skip


def column_title(column: str) -> str:
    """A column name in words: ``sram_bits`` -> ``sram bits moved``, ``dram_pj`` -> ``energy dram``."""
    if column in _TITLES:
        return _TITLES[column]
    if column.endswith("_pj"):
        return f"energy {column[:-3]}"
    if column.endswith("_bits"):
        return f"{column[:-5]} traffic"
    return column.replace("_", " ")


def _cell(column: str, value: object) -> tuple[str, str | None]:
    """(text, raw sort value or None for text cells)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–", "-Infinity"
    if isinstance(value, str):
        return value, None
    number = float(value)  # type: ignore[arg-type]
    if column == "macs":
        return format_count(number), repr(number)
    if column in ("utilisation",):
        return f"{100 * number:.1f} %", repr(number)
    if column == "ratio":
        return f"{number:.3g}×", repr(number)
    if column == "delta_pj":
        return ("+" if number > 0 else "") + format_value(column, number), repr(number)
    return format_value(column, number), repr(number)


def sortable_table_html(frame: pd.DataFrame, table_id: str, caption: str = "",
                        titles: Mapping[str, str] | None = None,
                        row_class: Callable[[pd.Series], str] | None = None) -> str:  # fmt: skip
    """``frame`` as a ``<table class="sortable">`` with a search box; ``row_class`` may tag rows (e.g. ``spills``)."""
    titles = dict(titles or {})
    head = []
    for col in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col])
        head.append(f'<th scope="col" data-type="{"num" if numeric else "text"}" data-column="{html.escape(str(col))}" '
                    f'tabindex="0" aria-sort="none">{html.escape(titles.get(col, column_title(str(col))))}</th>')  # fmt: skip
    body = []
    for _, row in frame.iterrows():
        cells = []
        for col in frame.columns:
            shown, raw = _cell(str(col), row[col])
            attr = f' data-sort="{html.escape(raw)}"' if raw is not None else ""
            cells.append(f"<td{attr}>{html.escape(shown)}</td>")
        cls = row_class(row) if row_class else ""
        body.append(f'<tr{f" class={chr(34)}{cls}{chr(34)}" if cls else ""}>{"".join(cells)}</tr>')
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (f'<div class="table-tools"><input type="search" class="table-filter" data-table="{table_id}" '
            f'placeholder="filter rows…" aria-label="filter the rows of this table"> '
            f'<span class="table-count" data-table="{table_id}">{len(frame)} rows</span></div>'
            f'<div class="table-wrap sortable-wrap"><table class="sortable" id="{table_id}">{cap}<thead><tr>{"".join(head)}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')  # fmt: skip
