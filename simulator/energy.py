"""Energy arithmetic: counts times per-event energies from the profile. Pure Python, no torch.

``estimate_no_reuse`` is the "no on-chip reuse" baseline: every MAC costs one multiply and one add
at its data type, and every operand word of every op comes from (or goes to) DRAM exactly once.
It is the upper bound the memory hierarchy improves on, and what the lecture's DRAM arithmetic
(20 Hz x 1 G connections x 640 pJ = 12.8 W) assumes.
"""

from __future__ import annotations

import math

from simulator.cost import CostReport
from simulator.frozen import FrozenMap
from simulator.hardware.profile import HardwareProfile
from simulator.workload import Op, Workload

__all__ = ["compute_energy_pj", "estimate_no_reuse", "NO_REUSE_CONVENTIONS"]

NO_REUSE_CONVENTIONS = (
    "1 MAC = 1 multiply + 1 add at the operands' data type; FLOPs (Han et al.) = 2 x MACs.",
    "No on-chip reuse: every weight and activation word an op touches is read from DRAM once per op, "
    "and every output word is written to DRAM once.",
    "Memory energy is charged per bit at the level's access width (read_energy / word_bits).",
    "Weights move in their stored encoding (values + indices + codebook) when compressed.",
    "KB = 1000 bytes, MB = 10^6 bytes.",
    "Cycles: per op, max(MACs / MACs-per-cycle, DRAM bits / DRAM bandwidth) (no overlap between ops).",
)


def compute_energy_pj(op: Op, profile: HardwareProfile) -> float:
    """Arithmetic energy of one op: MACs at their data type plus its other arithmetic."""
    energy = 0.0
    if op.macs:
        assert op.mac_dtype is not None
        energy += op.macs * profile.mac_energy_pj(op.mac_dtype)
    for count in op.arith:
        energy += count.count * profile.op_energy_pj(count.operation, count.dtype)
    return energy


def estimate_no_reuse(workload: Workload, profile: HardwareProfile) -> CostReport:
    """Cost ``workload`` on ``profile`` with every operand moved from DRAM once per op."""
    dram = profile.dram
    energy: dict[tuple[str, str, str], float] = {}
    total_cycles = 0.0

    def add(key: tuple[str, str, str], pj: float) -> None:
        energy[key] = energy.get(key, 0.0) + pj

    for op in workload.ops:
        add((op.module, "compute", "none"), compute_energy_pj(op, profile))
        dram_bits = 0
        for access in op.accesses:
            info = workload.tensors[access.tensor]
            bits = info.stored_bits if info.kind == "weight" else access.bits
            dram_bits += bits
            per_bit = dram.read_energy_per_bit_pj if access.direction == "read" else dram.write_energy_per_bit_pj
            add((op.module, dram.name, access.role), bits * per_bit)
        compute_cycles = math.ceil(op.macs / profile.compute.macs_per_cycle)
        total_cycles += max(compute_cycles, dram_bits / dram.bandwidth_bits_per_cycle)

    sram_bits = profile.on_chip_sram_bits
    needed_bits = workload.weight_stored_bits + workload.peak_activation_bits
    return CostReport(
        model_name=workload.model_name,
        profile_name=profile.name,
        method="no-reuse baseline",
        energy_pj=FrozenMap(energy),
        cycles=total_cycles,
        clock_hz=profile.clock_hz,
        macs_by_layer=FrozenMap(workload.macs_by_module()),
        weight_dense_bits=workload.weight_dense_bits,
        weight_stored_bits=workload.weight_stored_bits,
        peak_activation_bits=workload.peak_activation_bits,
        fits_on_chip=needed_bits <= sram_bits,
        sram_capacity_bits=sram_bits,
        min_sram_bits=needed_bits,
        conventions=NO_REUSE_CONVENTIONS,
    )
