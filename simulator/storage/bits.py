"""Fixed-width bit packing of unsigned integer streams (MSB first), vectorised with numpy."""

from __future__ import annotations

import numpy as np

__all__ = ["pack_fixed", "unpack_fixed"]

_CHUNK = 1 << 22


def pack_fixed(values: np.ndarray, bits: int) -> bytes:
    """Pack ``values`` (each < 2^bits) into ``ceil(n * bits / 8)`` bytes, most significant bit first."""
    if not 1 <= bits <= 32:
        raise ValueError(f"fixed-width bits must be in 1..32, got {bits}")
    values = np.asarray(values).ravel().astype(np.uint64)
    if values.size and int(values.max()) >> bits:
        raise ValueError(f"a value does not fit in {bits} bits")
    shifts = np.arange(bits - 1, -1, -1, dtype=np.uint64)
    # Chunks of a multiple of 8 values keep every chunk byte-aligned.
    out = [np.packbits(((values[s:s + _CHUNK, None] >> shifts) & np.uint64(1)).astype(np.uint8).ravel()).tobytes()
           for s in range(0, values.size, _CHUNK)]
    return b"".join(out)


def unpack_fixed(data: bytes, bits: int, count: int) -> np.ndarray:
    """Inverse of ``pack_fixed``: ``count`` values of ``bits`` bits (uint32)."""
    if len(data) * 8 < count * bits:
        raise ValueError(f"{len(data)} bytes hold fewer than {count} values of {bits} bits")
    raw = np.unpackbits(np.frombuffer(data, dtype=np.uint8), count=count * bits).reshape(count, bits)
    weights = (np.uint32(1) << np.arange(bits - 1, -1, -1, dtype=np.uint32))
    return (raw.astype(np.uint32) * weights).sum(axis=1, dtype=np.uint32) if count else np.zeros(0, np.uint32)
