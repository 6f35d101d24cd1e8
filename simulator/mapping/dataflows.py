"""Profile dataflows that replace the mapper of some op kinds: ``DATAFLOW_MAPPERS``.

``[compute] dataflow`` names an entry here; its mappers are tried first for their kinds and, when one
declines an op (returns None), the dense mapper of ``registry.OP_MAPPERS`` maps it. A new dataflow is
one line: ``"name": FrozenMap({OpKind.CONV: map_x, ...}),`` with its logic in its own module.
"""

from __future__ import annotations

from simulator.frozen import FrozenMap
from simulator.mapping.registry import OpMapper
from simulator.mapping.row_stationary_map import map_row_stationary
from simulator.mapping.sparse_csc import map_eie_csc
from simulator.mapping.systolic import map_systolic
from simulator.ops import OpKind

__all__ = ["DATAFLOW_MAPPERS"]

#: Dataflow (``[compute] dataflow``) -> op kind -> mapper used instead of ``OP_MAPPERS``; when it declines
#: an op (returns None) the dense mapper maps it.
DATAFLOW_MAPPERS: FrozenMap[str, FrozenMap[OpKind, OpMapper]] = FrozenMap({
    "eie-csc": FrozenMap({OpKind.LINEAR: map_eie_csc, OpKind.MATMUL: map_eie_csc}),
    "eyeriss-rs": FrozenMap({OpKind.CONV: map_row_stationary}),
    **{f"systolic-{d}": FrozenMap({k: map_systolic for k in (OpKind.CONV, OpKind.LINEAR, OpKind.MATMUL)}) for d in ("os", "ws", "is")},
})
