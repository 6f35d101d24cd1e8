"""The op stream of a ``Workload`` as flat rows, written to CSV or Parquet for diffing and post-processing.

One row per op: index, module, kind, aten, macs, mac_dtype, the other arithmetic
(``add:float32=120;exp:float32=10``), bits read (weights / inputs) and written, the accessed tensors
(``name=bits;...``) and the typed loop bounds as text (``m=1;k=784;n=300;batch=1``,
``simulator.ops.format_dims``). Files are written atomically. Parquet
needs the optional ``pyarrow`` package.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from simulator.errors import ReportError
from simulator.fileio import csv_safe_cell, write_bytes_atomic, write_text_atomic
from simulator.ops import format_dims
from simulator.workload import Workload

__all__ = ["OP_COLUMNS", "check_op_stream_path", "op_rows", "write_op_stream"]

OP_COLUMNS = (
    "index",
    "module",
    "kind",
    "aten",
    "macs",
    "mac_dtype",
    "arith",
    "weight_read_bits",
    "input_read_bits",
    "write_bits",
    "reads",
    "writes",
    "dims",
)


def op_rows(workload: Workload) -> list[dict[str, Any]]:
    """One dict per op with the columns ``OP_COLUMNS``."""
    rows = []
    for op in workload.ops:
        reads = [a for a in op.accesses if a.direction == "read"]
        writes = [a for a in op.accesses if a.direction == "write"]
        rows.append(
            {
                "index": op.index,
                "module": op.module,
                "kind": op.kind.value,
                "aten": op.aten,
                "macs": op.macs,
                "mac_dtype": op.mac_dtype.name if op.mac_dtype is not None else "",
                "arith": ";".join(f"{c.operation}:{c.dtype.name}={c.count}" for c in op.arith),
                "weight_read_bits": sum(a.bits for a in reads if a.role == "weights"),
                "input_read_bits": sum(a.bits for a in reads if a.role != "weights"),
                "write_bits": sum(a.bits for a in writes),
                "reads": ";".join(f"{a.tensor}={a.bits}" for a in reads),
                "writes": ";".join(f"{a.tensor}={a.bits}" for a in writes),
                "dims": format_dims(op.dims),
            }
        )
    return rows


def write_op_stream(workload: Workload, path: str | Path) -> Path:
    """Write the op stream to ``path`` (``.csv`` or ``.parquet``), atomically.

    Raises:
        ReportError: the suffix is neither ``.csv`` nor ``.parquet``, or Parquet was asked for and
            ``pyarrow`` is not installed.
    """
    path = check_op_stream_path(path)
    rows = op_rows(workload)
    if path.suffix.lower() == ".csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=OP_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: csv_safe_cell(v) for k, v in row.items()} for row in rows)  # OWASP CSV injection
        return write_text_atomic(path, buf.getvalue())
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(rows) if rows else pa.table({c: [] for c in OP_COLUMNS})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return write_bytes_atomic(path, sink.getvalue().to_pybytes())


def check_op_stream_path(path: str | Path) -> Path:
    """Check, before any work, that ``path`` names a format ``write_op_stream`` can write.

    Raises:
        ReportError: the suffix is neither ``.csv`` nor ``.parquet``, or it is ``.parquet`` and
            ``pyarrow`` is not installed.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            import pyarrow
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            raise ReportError(
                f"{path}: writing Parquet needs the optional package pyarrow (pip install pyarrow); "
                "or write the op stream as .csv"
            ) from None
    elif suffix != ".csv":
        raise ReportError(f"{path}: op stream format must be .csv or .parquet, got '{path.suffix or '(no suffix)'}'")
    return path
