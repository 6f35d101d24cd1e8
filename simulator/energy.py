"""Energy arithmetic: counts times per-event energies from the profile. Pure Python, no torch, no simpy.

``estimate_energy(workload, schedule, stats, profile)`` prices a mapped and simulated inference: the
memory-access counts the SimPy model moved, the operation stream of the schedule, and leakage over the
simulated time, by layer x component x operand (``CONVENTIONS`` says what counts as what).

``estimate_no_reuse`` is the "no on-chip reuse" baseline: every MAC costs one multiply and one add
at its data type, and every operand word of every op comes from (or goes to) DRAM exactly once.
It is the upper bound the memory hierarchy improves on, and what the lecture's DRAM arithmetic
(20 Hz x 1 G connections x 640 pJ = 12.8 W) assumes.
"""

from __future__ import annotations

from collections import defaultdict


from simulator.cost import CostReport, Coverage, MemoryTiming
from simulator.errors import ProfileError
from simulator.frozen import FrozenMap
from simulator.hardware.profile import HardwareProfile
from simulator.mapping.compute import op_compute_cycles
from simulator.mapping.residency import footprint, global_buffer_bits
from simulator.mapping.schedule import OperationCount, Schedule
from simulator.memsim.dram import DramDevice, stream_table
from simulator.memsim.stats import MemoryStats
from simulator.workload import DataType, Op, Workload

__all__ = [
    "CONVENTIONS",
    "NO_REUSE_CONVENTIONS",
    "compute_energy_pj",
    "dram_device_energy_pj",
    "estimate_energy",
    "estimate_no_reuse",
    "leakage_energy_pj",
    "static_energy_pj",
    "memory_timing",
    "operation_energy_pj",
]

#: Counting conventions of ``estimate_energy``; every report shows them.
CONVENTIONS = (
    "1 MAC = 1 multiply + 1 add at the operands' data type; FLOPs (Han et al.) = 2 x MACs.",
    "An access moves bits between two levels and is charged at both: a read at the level the bits leave and "
    "a write at the level they enter, each per bit at that level's access width (energy per access / word bits). "
    "Accesses per level = bits / word bits.",
    "The compute array reads each operand from the innermost level once per MAC (a sparse weight once per "
    "stored entry used) and accumulates in its accumulator; partial sums are written to the innermost level "
    "once per reduction chunk and read back for the next chunk (operand 'outputs').",
    "Tiling: per op and level the tile and loop order of least energy within the capacity "
    "(SRAM tiles double-buffered: half the capacity); an operand is re-fetched for every iteration of an "
    "irrelevant loop outside its innermost relevant loop.",
    "Residency: if all weights (on-chip encoding) + peak live activations fit the outermost on-chip level, "
    "weights stay there; the first inference's DRAM load is reported apart (cold start). Otherwise weights "
    "stream from DRAM every inference, half the buffer holds activations, and an activation stays on chip "
    "when the live activations over its lifetime fit that half.",
    "Compressed weights: DRAM holds the full encoding (Huffman codes included), on chip they are fixed width "
    "(values + relative indices + fillers + codebook); Huffman symbols are decoded once per load from DRAM; "
    "one codebook read per weight used (decode.codebook, else a read of one codebook value from the innermost "
    "level); one integer add at the index width per stored entry used.",
    "Zero handling: skip = MACs with a zero operand cost neither energy nor cycles; gate = no energy, "
    "still a cycle; none = dense. Weight zeros from the encoding, activation zeros where measured.",
    "Elementwise ops directly after their producer are fused into it (no memory round trip).",
    "Arithmetic other than MACs that the profile cannot price (e.g. a float divide) is counted and listed in "
    "the report's coverage as unpriced, at 0 pJ; a MAC the profile cannot price is an error.",
    "Leakage = each level's leakage power x simulated time of the layer.",
    "Static = the profile's static/idle power ([compute] static_power) x simulated time of the layer.",
    "Timing (simpy): DMA, compute and write-back processes per core share the global buffer's capacity, so "
    "loads overlap compute and the next op's first loads while there is room; each level has one port serving "
    "transfers first come first served; the closed form's bracket (perfect overlap .. no overlap) bounds it. "
    "closed-form: per op its phases one after the other.",
    "DRAM: flat (bits x the level's per-bit energy, e.g. 640 pJ per 32-bit word) or a device model (per-command "
    "energy from its IDD/VDD, DRAMPower-style: bursts charged to the DRAM reads/writes, activate, precharge, "
    "refresh and background to all DRAM traffic, in proportion to bits). With N cores (batch split) the "
    "numbers are per inference.",
    "KB = 1000 bytes, MB = 10^6 bytes.",
)

NO_REUSE_CONVENTIONS = (
    "1 MAC = 1 multiply + 1 add at the operands' data type; FLOPs (Han et al.) = 2 x MACs.",
    "No on-chip reuse: every weight and activation word an op touches is read from DRAM once per op, "
    "and every output word is written to DRAM once.",
    "Memory energy is charged per bit at the level's access width (read_energy / word_bits).",
    "Weights move in their stored encoding (values + indices + codebook) when compressed.",
    "Fit: the same footprint as the mapped engines (weights in their on-chip encoding + peak live "
    "activations against the outermost on-chip level); every layer that moves an activation through DRAM spills.",
    "KB = 1000 bytes, MB = 10^6 bytes.",
    "Cycles: per op, max(compute cycles, DRAM bits / DRAM bandwidth) (no overlap between ops); compute cycles "
    "as the mapped engines count them (mapping.compute: array geometry, zero handling, other arithmetic).",
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
    traffic: dict[tuple[str, str, str, str], float] = defaultdict(float)
    total_cycles = 0.0
    layer_cycles: dict[str, float] = defaultdict(float)

    def add(key: tuple[str, str, str], pj: float) -> None:
        energy[key] = energy.get(key, 0.0) + pj

    spilling: dict[str, None] = {}
    for op in workload.ops:
        add((op.module, "compute", "none"), compute_energy_pj(op, profile))
        dram_bits = 0
        for access in op.accesses:
            info = workload.tensors[access.tensor]
            bits = info.stored_bits if info.kind == "weight" else access.bits
            if info.kind == "activation" and not (access.direction == "write" and info.last_use is None):
                spilling[op.module] = None  # an intermediate through DRAM (not a model output's store)
            dram_bits += bits
            traffic[(op.module, dram.name, access.role, access.direction)] += bits
            add((op.module, dram.name, access.role), bits * dram.energy_per_bit_pj(access.role, access.direction))
        # The same compute cycles as the mapped engines (array geometry, zero handling, other arithmetic).
        op_cycles = max(op_compute_cycles(op, workload, profile), dram_bits / dram.bandwidth_bits_per_cycle)
        total_cycles += op_cycles
        layer_cycles[op.module] += op_cycles

    fit = footprint(workload, global_buffer_bits(profile), tuple(spilling))
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
        footprint=fit,
        coverage=Coverage.of(unsupported_ops=workload.unsupported),
        conventions=NO_REUSE_CONVENTIONS,
        layer_traffic_bits=FrozenMap(traffic),
        level_word_bits=FrozenMap({dram.name: dram.word_bits}),
        layer_cycles=FrozenMap(layer_cycles),
        layer_kinds=FrozenMap(workload.kinds_by_module()),
    )


def operation_energy_pj(count: OperationCount, profile: HardwareProfile) -> float:
    """Energy of one operation of the schedule's operation stream.

    ``mac``: multiply + add; ``codebook``: ``decode.codebook`` if the profile lists it, else a read of one
    codebook value (its width in bits) from the innermost level; ``huffman_symbol``:
    ``decode.huffman_symbol``, else a read of one table entry of the value width from the innermost level;
    ``index_add``: an integer add at the index width (listed, or derived by the profile's int-add rule).

    Raises:
        ProfileError: the profile has no energy for an arithmetic operation at that data type.
    """
    dtype = DataType.parse(count.dtype)
    table = profile.compute.op_energy_pj
    innermost = profile.levels[0]
    if count.operation == "mac":
        return profile.mac_energy_pj(dtype)
    if count.operation == "codebook":
        return table["decode.codebook"] if "decode.codebook" in table else innermost.read_energy_per_bit_pj * dtype.bits
    if count.operation == "huffman_symbol":
        return table["decode.huffman_symbol"] if "decode.huffman_symbol" in table else innermost.read_energy_per_bit_pj * dtype.bits
    operation = "add" if count.operation == "index_add" else count.operation
    return profile.op_energy_pj(operation, dtype)  # unlisted int widths come from the profile's declared rules


def static_energy_pj(profile: HardwareProfile, cycles: float) -> float:
    """The chip's static/idle power (``[compute] static_power``) over ``cycles``: mW x s = 1e9 pJ.

    Drawn whether or not the array computes (clock tree, always-on domains, regulator quiescent
    current), so an under-used array pays it for its whole latency; component ``"static"``.
    """
    return profile.compute.static_power_mw * (cycles / profile.clock_hz) * 1e9


def leakage_energy_pj(profile: HardwareProfile, cycles: float) -> float:
    """Leakage of every memory level over ``cycles``: mW x s = 1e9 pJ."""
    seconds = cycles / profile.clock_hz
    return sum(lv.leakage_mw for lv in profile.levels) * seconds * 1e9


def estimate_energy(workload: Workload, schedule: Schedule, stats: MemoryStats, profile: HardwareProfile,
                    dram: DramDevice | None = None) -> CostReport:
    """Price one steady-state inference: traffic x per-bit energy + operations x per-op energy + leakage.

    Args:
        workload: the traced model (MACs per layer, weight sizes).
        schedule: the mapper's output (operation stream, residency, fit).
        stats: what the memory simulation (SimPy or closed form) moved and how long it took.
        profile: the hardware's per-event energies.
        dram: the DRAM device the stats were played on (None: the flat model). With a device, DRAM energy
            is the device's per-command energy (``stats.dram_energy_by_command_pj``), not bits x per-bit
            energy, and the cold-start load is priced as a sequential stream on the device.

    Returns:
        A ``CostReport`` with energy by (layer, component, operand); components are ``compute``,
        ``decode``, each memory level by name and ``leakage``. The one-time load of resident weights is in
        ``cold_start_energy_pj``.
    """
    levels = {lv.name: lv for lv in profile.levels}
    energy: dict[tuple[str, str, str], float] = defaultdict(float)
    # With N requestors (batch split) the stats hold N inferences' traffic: the report is per inference.
    share = 1.0 / max(1, stats.requestors)
    traffic = {key: bits * share for key, bits in stats.traffic_bits.items()}
    device_pj = {k: v * share for k, v in stats.dram_energy_by_command_pj.items()}
    for (layer, level, operand, direction), bits in traffic.items():
        if device_pj and level == schedule.dram:
            continue  # priced below from the device's commands
        energy[(layer, level, operand)] += bits * levels[level].energy_per_bit_pj(operand, direction)
    for key, pj in dram_device_energy_pj(traffic, device_pj, schedule.dram).items():
        energy[key] += pj
    unpriced: dict[str, float] = defaultdict(float)
    for op in schedule.ops:
        for count in op.operations:
            component = "compute" if count.operation in ("mac", "add", "mult", "compare", "exp", "div") else "decode"
            try:
                per_op = operation_energy_pj(count, profile)
            except ProfileError:
                if count.operation == "mac":
                    raise
                # NB: an operation the profile cannot price (e.g. float32.div in horowitz45) is counted
                # and reported in the coverage, priced at zero; MACs must always be priced.
                unpriced[f"{count.dtype}.{count.operation}"] += count.count
                continue
            energy[(op.layer, component, count.operand)] += count.count * per_op
    for layer, cycles in stats.layer_cycles.items():
        leak = leakage_energy_pj(profile, cycles)
        if leak:
            energy[(layer, "leakage", "none")] += leak
        static = static_energy_pj(profile, cycles)
        if static:
            energy[(layer, "static", "none")] += static

    cold = 0.0
    for (level, operand, direction), bits in schedule.cold_start_traffic_bits.items():
        lv = levels[level]
        if dram is not None and level == schedule.dram and bits > 0:
            # the one-time load played on the device as one sequential stream
            cold += dram.energy_pj(stream_table(dram, direction == "write").counts(bits / 8))
            continue
        cold += bits * lv.energy_per_bit_pj(operand, direction)
    cold += sum(c.count * operation_energy_pj(c, profile) for c in schedule.cold_start_operations)
    cold_dram_bits = sum(v for (lv, _, _), v in schedule.cold_start_traffic_bits.items() if lv == schedule.dram)

    metadata = {
        "engine": stats.method,
        "residency": ("weights resident in " if schedule.resident else "weights stream from ")
        + (schedule.global_buffer if schedule.resident and schedule.global_buffer else schedule.dram),
        "activations kept on chip": f"{len(schedule.kept_activations)}",
        "fused ops": str(sum(op.mapping == "fused" for op in schedule.ops)),
        "DRAM model": stats.dram_model + (" (device energy per command)" if device_pj else " (energy per bit)"),
    }
    if stats.requestors > 1:
        metadata["cores"] = (f"{stats.requestors} (batch split: one inference each, sharing the DRAM; "
                             "energy per inference)")
    return CostReport(
        model_name=workload.model_name,
        profile_name=profile.name,
        method=f"mapped + {stats.method}",
        energy_pj=FrozenMap({k: v for k, v in energy.items()}),
        cycles=stats.cycles,
        clock_hz=profile.clock_hz,
        cold_start_energy_pj=cold,
        stall_cycles=stats.stall_cycles,
        macs_by_layer=FrozenMap(workload.macs_by_module()),
        weight_dense_bits=workload.weight_dense_bits,
        weight_stored_bits=workload.weight_stored_bits,
        footprint=schedule.footprint,
        coverage=Coverage.of(workload.unsupported, schedule.unmapped, unpriced),
        conventions=CONVENTIONS,
        metadata=FrozenMap(metadata),
        timeline=stats.timeline,
        layer_traffic_bits=FrozenMap(traffic),
        level_word_bits=FrozenMap({lv.name: lv.word_bits for lv in profile.levels}),
        busy_cycles=stats.busy_cycles,
        sim_events=stats.events,
        compulsory_dram_bits=schedule.compulsory_dram_bits,
        cold_start_dram_bits=float(cold_dram_bits),
        memory_timing=memory_timing(stats, share),
        layer_cycles=FrozenMap({k: float(v) for k, v in stats.layer_cycles.items()}),
        layer_kinds=FrozenMap(workload.kinds_by_module()),
    )


def memory_timing(stats: MemoryStats, share: float = 1.0) -> MemoryTiming:
    """The report's record of the memory system's facts (device energy scaled to one inference by ``share``)."""
    return MemoryTiming(
        lower_bound_cycles=stats.lower_bound_cycles,
        upper_bound_cycles=stats.upper_bound_cycles,
        stall_cycles_by_cause=stats.stall_cycles_by_cause,
        dram_row_hit_rate=stats.dram_row_hit_rate,
        dram_energy_by_command_pj=FrozenMap({k: v * share for k, v in stats.dram_energy_by_command_pj.items()}),
        buffer_peak_bits=stats.buffer_peak_bits,
        requestors=stats.requestors,
        fidelity=stats.fidelity,
        dram_model=stats.dram_model,
        utilisation_bin_cycles=stats.utilisation_bin_cycles,
        utilisation_over_time=stats.utilisation_over_time,
    )


#: Which DRAM traffic direction carries each command class's energy (None: all DRAM traffic).
_COMMAND_DIRECTION = {"read": "read", "write": "write"}


def dram_device_energy_pj(traffic_bits: dict[tuple[str, str, str, str], float], device_pj: dict[str, float],
                          dram: str) -> dict[tuple[str, str, str], float]:
    """The DRAM device's energy per command class, charged to (layer, dram, operand).

    Declared rule: read (write) burst energy goes to the DRAM reads (writes) in proportion to their bits;
    activate, precharge, refresh and background energy to all DRAM traffic in proportion to its bits (the
    device model plays the run's DRAM transfers as one command stream, so per-layer row locality is not
    kept apart). The parts sum to the device's total, so energy = sum of the breakdown still holds.
    """
    out: dict[tuple[str, str, str], float] = defaultdict(float)
    if not device_pj:
        return out
    dram_traffic = {k: b for k, b in traffic_bits.items() if k[1] == dram and b > 0}
    for command, pj in device_pj.items():
        direction = _COMMAND_DIRECTION.get(command)
        carriers = {k: b for k, b in dram_traffic.items() if direction is None or k[3] == direction} or dram_traffic
        total = sum(carriers.values())
        if not total:
            out[("", dram, "none")] += pj  # device energy with no traffic to carry it (e.g. refresh only)
            continue
        for (layer, level, operand, _), bits in carriers.items():
            out[(layer, level, operand)] += pj * bits / total
    return out
