"""Sliding-window geometry of a convolution: the input pixels a conv (or a tile of it) really reads.

The mapper views a conv as an implicit GEMM (M = output pixels, K = input channels x kernel). Two facts
of the real loop nest that the GEMM view loses live here:

* **Strided convs read only the pixels they use**: input row ``y`` is read iff ``y = p s + r d - pad``
  for some output row ``p`` and kernel row ``r``; ResNet-18's 1x1 stride-2 downsample reads a quarter of
  its input. ``used_input_fraction`` counts the touched rows x cols (exact, numpy over ``P x R``).
* **Tiles include the halo**: a tile of ``m`` output pixels (row-major over ``N, OY, OX``) and ``k``
  reduction elements (channel-major over ``C, FY, FX``) needs ``c x rows_in x cols_in`` input pixels,
  ``rows_in = min(used rows, (rows_out - 1) s + (f - 1) d + 1, rows_out f)`` (contiguous windows; the
  ``rows_out f`` cap is exact for strides above the kernel extent). Adjacent tiles overlap by the halo, so
  one pass over all tiles reads ``halo_factor >= 1`` times the used input (``input_tile_elems``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from simulator.ops import ConvDims

__all__ = ["ConvGeometry", "conv_geometry", "window_span"]


@dataclass(frozen=True, slots=True)
class ConvGeometry:
    """A 2-D (or 1-D, with height 1) conv per group: batch, channels, input/output/kernel sizes and steps."""

    batch: int
    channels: int
    in_h: int
    in_w: int
    out_h: int
    out_w: int
    k_h: int
    k_w: int
    stride_h: int = 1
    stride_w: int = 1
    dil_h: int = 1
    dil_w: int = 1
    pad_h: int = 0
    pad_w: int = 0

    @property
    def used_rows(self) -> int:
        return _touched(self.out_h, self.k_h, self.stride_h, self.dil_h, self.pad_h, self.in_h)

    @property
    def used_cols(self) -> int:
        return _touched(self.out_w, self.k_w, self.stride_w, self.dil_w, self.pad_w, self.in_w)

    @property
    def used_input_fraction(self) -> float:
        """Share of the input pixels any output reads (1/4 for a 1x1 stride-2 conv on an even input)."""
        return self.used_rows * self.used_cols / max(self.in_h * self.in_w, 1)

    @property
    def used_input_elems(self) -> int:
        """Input elements of one group any output reads."""
        return self.batch * self.channels * self.used_rows * self.used_cols

    def input_tile_elems(self, m: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Input elements (halo included) of tiles of ``m`` output pixels x ``k`` reduction elements, vectorised."""
        m = np.asarray(m, dtype=np.float64)
        k = np.asarray(k, dtype=np.float64)
        window = self.k_h * self.k_w
        plane = self.out_h * self.out_w
        images = np.where(m > plane, np.ceil(m / plane), 1.0)
        rows_out = np.where(m >= self.out_w, np.minimum(np.ceil(m / self.out_w), self.out_h), 1.0)
        cols_out = np.where(m >= self.out_w, float(self.out_w), m)
        channels = np.where(k >= window, np.ceil(k / window), 1.0)
        f_h = np.where(k >= window, float(self.k_h), np.minimum(np.ceil(k / self.k_w), self.k_h))
        f_w = np.where(k >= window, float(self.k_w), np.minimum(k, self.k_w))
        rows_in = _span(rows_out, f_h, self.stride_h, self.dil_h, self.used_rows)
        cols_in = _span(cols_out, f_w, self.stride_w, self.dil_w, self.used_cols)
        return images * channels * rows_in * cols_in


def window_span(n_out, f, stride: int, dil: int) -> np.ndarray:
    """Input positions (padding included) that ``n_out`` outputs x ``f`` kernel taps touch along one axis:
    the contiguous window, or ``n_out f`` when a stride above the kernel extent leaves gaps (the loop-nest
    model's tile widths, ``fixed.LoopProblem.footprint``)."""
    if isinstance(n_out, int) and isinstance(f, int):  # one tile: the same formula without numpy's overhead
        return min((n_out - 1) * stride + (f - 1) * dil + 1, n_out * f)
    return _span(np.asarray(n_out, dtype=np.float64), np.asarray(f, dtype=np.float64), stride, dil, np.inf)


def _span(n_out: np.ndarray, f: np.ndarray, stride: int, dil: int, cap: int) -> np.ndarray:
    contiguous = (n_out - 1.0) * stride + (f - 1.0) * dil + 1.0
    return np.minimum(np.minimum(contiguous, n_out * f), float(cap))


@lru_cache(maxsize=1024)  # pure in its ints; the geometry's properties ask it again on every use
def _touched(n_out: int, f: int, stride: int, dil: int, pad: int, size: int) -> int:
    """Distinct input positions ``p stride + r dil - pad`` inside ``[0, size)``."""
    pos = (np.arange(n_out)[:, None] * stride + np.arange(f)[None, :] * dil - pad).ravel()
    return int(np.unique(pos[(pos >= 0) & (pos < size)]).size)


def conv_geometry(dims: ConvDims) -> ConvGeometry | None:
    """The sliding-window geometry of a traced direct conv; None for a transposed conv or beyond 2-D."""
    spatial = len(dims.kernel_size)
    if dims.transposed or spatial not in (1, 2):
        return None
    out, ker = list(dims.output_size), list(dims.kernel_size)
    stride, dil, pad = list(dims.stride), list(dims.dilation), list(dims.padding)
    size = list(dims.input_size)
    if spatial == 1:
        out, ker, stride, dil, pad, size = ([1, *v] for v in (out, ker, stride, dil, pad, size))
        pad[0] = 0
    return ConvGeometry(
        batch=dims.batch, channels=dims.in_channels // dims.groups,
        in_h=size[0], in_w=size[1], out_h=out[0], out_w=out[1], k_h=ker[0], k_w=ker[1],
        stride_h=stride[0], stride_w=stride[1], dil_h=dil[0], dil_w=dil[1], pad_h=pad[0], pad_w=pad[1],
    )


