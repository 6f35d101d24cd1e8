"""Convolutions: a direct or transposed conv tiled as its implicit GEMM, keeping its sliding-window reuse.

The GEMM shape comes from ``gemm.gemm_view``; a direct conv's compute cycles come from its own loop nest
on the array (``spatial.conv_loop_nest``: the array may unroll filter rows, output columns ...), and its
input tiles include the halo while a strided conv reads only the input pixels some output uses
(``convgeom.conv_geometry``). A transposed conv is tiled as the scatter GEMM it is executed as.
"""

from __future__ import annotations

from simulator.mapping.context import MappingContext, Traffic
from simulator.mapping.convgeom import conv_geometry
from simulator.mapping.gemm import gemm_view, tile_gemm
from simulator.mapping.operations import gemm_schedule
from simulator.mapping.registry import register_op_mapper
from simulator.mapping.schedule import OpSchedule
from simulator.mapping.spatial import conv_loop_nest
from simulator.ops import OpKind
from simulator.workload import Op

__all__ = ["map_conv"]


@register_op_mapper(OpKind.CONV)
def map_conv(op: Op, ctx: MappingContext) -> OpSchedule | None:
    """Tile a convolution at every on-chip level as its implicit GEMM (see the module docstring)."""
    view = gemm_view(op, ctx.workload)
    if view is None or op.macs <= 0:
        return None
    traffic = Traffic(ctx, op)
    loops = conv_loop_nest(op.dims)
    geom = conv_geometry(op.dims)
    if geom is not None:
        # A strided conv reads only the input pixels some output uses.
        traffic.fraction[view.a] = traffic.fraction.get(view.a, 1.0) * geom.used_input_fraction
    result = tile_gemm(op, ctx, traffic, view, ctx.writes[op.index], op.macs, loops, geom)
    return gemm_schedule(op, ctx, traffic, [result], list(view.extras), [view.a, view.b, *view.extras])
