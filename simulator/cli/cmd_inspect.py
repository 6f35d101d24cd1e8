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
#: Huffman tables and block offsets are inside the values/indices streams they code
#: (``TensorEncoding.stored_bits_by_part``, the one encoding arithmetic the file writer follows).
PARTS = ("values", "indices", "fillers", "codebook", "raw")


def _encoding_text(encoding) -> str:
    """Compact: ``"8% kept; 6 b into 64 shared; 5 b rel. index; Huffman 4.35 b"``."""
    bits = []
    if encoding.density < 1.0:
        bits.append(f"{100 * encoding.density:.3g}% kept")
    if encoding.codebook_entries:
        bits.append(f"{encoding.value_bits} b into {encoding.codebook_entries} shared")
    else:
        bits.append(f"{encoding.value_bits} b values")
    if encoding.index_bits:
        bits.append(f"{encoding.index_bits} b rel. index")
    if encoding.mean_code_bits is not None:
        bits.append(f"Huffman {encoding.mean_code_bits:.3g} b")
    return "; ".join(bits)


def inspect_rows(header: dict, record) -> list[dict]:
    """One dict per tensor: name, shape, entries, encoding text and bits by part (``PARTS``).

    ``header`` is ``storage.read_header``'s, ``record`` the file's ``CompressionRecord``
    (``storage.read_record``); an encoded tensor's parts sum to its bits in the file.
    """
    rows = []
    for t in header["tensors"]:
        numel = math.prod(t["shape"])
        parts = dict.fromkeys(PARTS, 0)
        encoding = record.encodings.get(t["name"]) if t["kind"] == "encoded" else None
        if encoding is not None:
            parts.update(encoding.stored_bits_by_part(numel))
            text, entries = _encoding_text(encoding), encoding.stored_entries(numel)
        else:
            parts["raw"] = int(t["bits"])
            text, entries = f"raw {t.get('dtype', '?')}", numel
        rows.append({"name": t["name"], "shape": tuple(t["shape"]), "numel": numel, "entries": entries,
                     "encoding": text, "parts_bits": parts, "stored_bits": int(t["bits"])})
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

    from simulator.storage import read_header, read_record
    from simulator.units import format_bits

    header = read_header(path)  # verifies magic, version, lengths and the checksum
    with path.open("rb") as fh:
        fh.seek(-32, 2)
        digest = fh.read(32).hex()
    rows = inspect_rows(header, read_record(path))
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
    stored = sum(r["stored_bits"] for r in rows)
    total_cells = [format_bits(totals[k]) if totals[k] else "" for k in PARTS]
    table.add_row("total", "", "", "", *total_cells, format_bits(stored))
    console.print(table)
    dense_bits = 32 * sum(r["numel"] for r in rows)
    ratio = f"{dense_bits / stored:.1f}x" if stored else "-"
    console.print(f"dense float32 {format_bits(dense_bits)} -> stored {format_bits(stored)} ({ratio}); "
                  "file header not included")
    console.print(f"sha256 {digest} (verified)")
