"""The per-kind op-mapper registry: ``OP_MAPPERS`` (``simulator.ops.OpKind`` -> mapper) and its decorator.

A mapper takes ``(op, MappingContext)`` and returns the op's ``OpSchedule``, or None when it cannot map
this particular op (its operands do not fit its dims); ``map_workload`` then costs the op as a streaming
op and lists it in ``Schedule.unmapped``. Dataflow mappers that replace a kind's mapper for one profile
dataflow are registered in ``dataflows.DATAFLOW_MAPPERS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from simulator.mapping.schedule import OpSchedule
from simulator.ops import OpKind
from simulator.workload import Op

if TYPE_CHECKING:
    from simulator.mapping.context import MappingContext

__all__ = ["OP_MAPPERS", "OpMapper", "register_op_mapper"]

OpMapper = Callable[[Op, "MappingContext"], OpSchedule | None]
#: Op kind -> mapper. A mapper returns None when it cannot map this particular op (its operands do not fit its dims).
OP_MAPPERS: dict[OpKind, OpMapper] = {}


def register_op_mapper(*kinds: OpKind) -> Callable[[OpMapper], OpMapper]:
    """Register a mapper for declared op kinds; refuses duplicates and undeclared kinds."""

    def decorator(fn: OpMapper) -> OpMapper:
        for kind in kinds:
            if not isinstance(kind, OpKind):
                raise TypeError(f"op mappers are keyed by simulator.ops.OpKind, got {kind!r}")
            if kind in OP_MAPPERS:
                raise RuntimeError(f"duplicate op mapper for kind {kind!r}")
            OP_MAPPERS[kind] = fn
        return fn

    return decorator
