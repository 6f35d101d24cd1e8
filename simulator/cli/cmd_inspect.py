"""``pjsim inspect FILE.pjc``: what a compressed file holds, read from its verified header.

Prints the architecture and the compression steps, one row per tensor (shape, stored entries, its
encoding and its bits by part: values, indices, fillers, codebook, Huffman tables, raw), the totals
by part against the dense float32 size, and the file's SHA-256 checksum (verified on reading: a
corrupt or truncated file is refused). Nothing is decoded, so it is fast on any file size.
"""

from __future__ import annotations

import math
from pathlib import Path

import click

__all__ = ["command", "inspect_rows"]

#: The parts a tensor's stored bits split into, in print order (``raw``: tensors stored uncompressed).
PARTS = ("values", "indices", "fillers", "codebook", "huffman_tables", "raw")


def _encoding_text(encoding: dict) -> str:
    """Compact: ``"8% kept; 6 b into 52 shared; 5 b rel. index; Huffman 4.35 b"``."""
    bits = []
    if encoding.get("density", 1.0) < 1.0:
        bits.append(f"{100 * encoding['density']:.3g}% kept")
    if encoding.get("codebook_entries"):
        bits.append(f"{encoding['value_bits']} b into {encoding['codebook_entries']} shared")
    else:
        bits.append(f"{encoding.get('value_bits', 32)} b values")
    if encoding.get("index_bits"):
        bits.append(f"{encoding['index_bits']} b rel. index")
    if encoding.get("mean_code_bits"):
        bits.append(f"Huffman {encoding['mean_code_bits']:.3g} b")
    return "; ".join(bits)


def inspect_rows(header: dict) -> list[dict]:
    """One dict per tensor: name, shape, entries, encoding text and bits by part (``PARTS``)."""
    rows = []
    for t in header["tensors"]:
        numel = math.prod(t["shape"])
        parts = dict.fromkeys(PARTS, 0)
        if t["kind"] == "encoded":
            for key, bits in t.get("parts_bits", {}).items():
                if key in parts:
                    parts[key] += int(bits)
            text, entries = _encoding_text(t["encoding"]), int(t["entries"])
        else:
            parts["raw"] = 8 * int(t["sections"]["raw"][1])
            text, entries = f"raw {t['dtype']}", numel
        rows.append({"name": t["name"], "shape": tuple(t["shape"]), "numel": numel, "entries": entries,
                     "encoding": text, "parts_bits": parts, "stored_bits": sum(parts.values())})
    return rows


@click.command("inspect")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def command(path: Path) -> None:
    """Print a .pjc file's encodings, its sizes by part and its checksum.

    \b
    Examples:
      pjsim inspect reports/lenet_300_100-deep-compression.pjc
    """
    from rich.console import Console
    from rich.table import Table

    from simulator.storage import read_header
    from simulator.units import format_bits

    header = read_header(path)  # verifies magic, version, lengths and the checksum
    with path.open("rb") as fh:
        fh.seek(-32, 2)
        digest = fh.read(32).hex()
    rows = inspect_rows(header)
    console = Console(width=max(Console().width, 200))
    console.print(f"{path}: architecture [bold]{header.get('model') or '?'}[/bold], {len(rows)} tensors, "
                  f"{path.stat().st_size:,} bytes")
    for step in header.get("steps", []):
        console.print(f"  step: {step}")
    for key, value in header.get("metadata", {}).items():
        console.print(f"  {key}: {value}")
    table = Table(title="tensors", title_justify="left")
    for col in ("tensor", "shape", "entries", "encoding", *PARTS, "stored"):
        table.add_column(col.replace("_", " "), justify="left" if col in ("tensor", "shape", "encoding") else "right",
                         no_wrap=True)
    totals = dict.fromkeys(PARTS, 0)
    for r in rows:
        for k in PARTS:
            totals[k] += r["parts_bits"][k]
        table.add_row(r["name"], "x".join(map(str, r["shape"])), f"{r['entries']:,}", r["encoding"],
                      *[format_bits(r["parts_bits"][k]) if r["parts_bits"][k] else "" for k in PARTS],
                      format_bits(r["stored_bits"]))
    table.add_section()
    stored = sum(totals.values())
    total_cells = [format_bits(totals[k]) if totals[k] else "" for k in PARTS]
    table.add_row("total", "", "", "", *total_cells, format_bits(stored))
    console.print(table)
    dense_bits = 32 * sum(r["numel"] for r in rows)
    ratio = f"{dense_bits / stored:.1f}x" if stored else "-"
    console.print(f"dense float32 {format_bits(dense_bits)} -> stored {format_bits(stored)} ({ratio}); "
                  "file header not included")
    console.print(f"sha256 {digest} (verified)")
