"""Mapping: (Workload, HardwareProfile) -> Schedule (residency, fusion, tiling, reuse). No simpy, no torch."""

from simulator.mapping.fixed import FixedMapping, LevelMapping, LoopProblem, load_fixed_mapping
from simulator.mapping.mapper import GEMM_KINDS, OP_MAPPERS, STREAMING_KINDS, gemm_view, map_workload, register_op_mapper
from simulator.mapping.schedule import MappingError, OperationCount, OpSchedule, Schedule, Tile
from simulator.mapping.tiling import search_tile

__all__ = [
    "FixedMapping",
    "LevelMapping",
    "LoopProblem",
    "load_fixed_mapping",
    "GEMM_KINDS",
    "OP_MAPPERS",
    "STREAMING_KINDS",
    "MappingError",
    "OpSchedule",
    "OperationCount",
    "Schedule",
    "Tile",
    "gemm_view",
    "map_workload",
    "register_op_mapper",
    "search_tile",
]
