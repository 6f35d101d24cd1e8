"""CostReport: the one result record everything downstream (reports, sweeps, CLI) reads.

Energy is kept per (layer, component, operand) in pJ for one steady-state inference:
``component`` is ``"compute"``, a memory level's name from the profile (``"rf"``, ``"sram"``,
``"dram"``) or ``"leakage"``; ``operand`` is ``"weights"``, ``"inputs"``, ``"outputs"`` or
``"none"`` (compute and leakage). The one-time cost of loading resident weights into SRAM before the
first inference is kept apart in ``cold_start_energy_pj``. No torch import.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.frozen import FrozenMap
from simulator.mapping.residency import Footprint
from simulator.units import cycles_to_s

__all__ = ["COMPONENT_ORDER", "CostReport", "EnergyKey", "TimelineEvent"]

EnergyKey = tuple[str, str, str]  # (layer, component, operand)

#: Display order of the usual components (other level names sort after these).
COMPONENT_ORDER = ("compute", "rf", "register_file", "sram", "dram", "leakage")


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One busy interval of a resource in the simulated timeline (for the Gantt chart)."""

    resource: str
    start_cycle: float
    end_cycle: float
    layer: str
    what: str


@dataclass(frozen=True, slots=True)
class CostReport:
    """Energy, time, storage and fit of one inference of one model on one profile.

    Attributes:
        model_name: the workload's model name.
        profile_name: the hardware profile's name.
        method: how it was costed (e.g. ``"no-reuse baseline"``, ``"simpy"``).
        energy_pj: steady-state energy per inference by (layer, component, operand).
        cold_start_energy_pj: extra one-time energy of the first inference (loading resident weights).
        cycles: cycles of one steady-state inference.
        stall_cycles: cycles the compute array waited for memory.
        clock_hz: the profile's clock, to turn cycles into seconds.
        macs_by_layer: MACs per layer (module name).
        weight_dense_bits: the weights at their traced dtype, uncompressed.
        weight_stored_bits: the weights in their encoding.
        peak_activation_bits: the largest set of activations live at once.
        fits_on_chip: whether weights + peak activations fit the SRAM (None = not evaluated).
        sram_capacity_bits: the profile's total SRAM.
        min_sram_bits: the smallest SRAM that would make the model fit (None = not evaluated).
        spilling_layers: layers whose data spills to DRAM.
        conventions: the counting conventions behind the numbers, in words.
        metadata: free-form labelled facts (e.g. accuracy and where it comes from).
        timeline: busy intervals per resource (may be empty).
        traffic_bits: steady-state bits moved per (level, operand, direction).
        accesses_by_level: steady-state accesses per level (bits / the level's word width).
        busy_cycles: cycles each simulated resource was busy (memory level ports and ``compute``).
        sim_events: SimPy events scheduled to simulate the inference (0 when not simulated).
        compulsory_dram_bits: each weight and model input read once, each model output written once.
        cold_start_dram_bits: DRAM bits of the one-time weight load (resident models).
        footprint: what must be on chip (``simulator.mapping.residency``); None = not evaluated.
    """

    model_name: str
    profile_name: str
    method: str
    energy_pj: FrozenMap[EnergyKey, float]
    cycles: float
    clock_hz: float
    cold_start_energy_pj: float = 0.0
    stall_cycles: float = 0.0
    macs_by_layer: FrozenMap[str, int] = field(default_factory=FrozenMap)
    weight_dense_bits: int = 0
    weight_stored_bits: int = 0
    peak_activation_bits: int = 0
    fits_on_chip: bool | None = None
    sram_capacity_bits: int | None = None
    min_sram_bits: int | None = None
    spilling_layers: tuple[str, ...] = ()
    conventions: tuple[str, ...] = ()
    metadata: FrozenMap[str, str] = field(default_factory=FrozenMap)
    timeline: tuple[TimelineEvent, ...] = ()
    traffic_bits: FrozenMap[tuple[str, str, str], float] = field(default_factory=FrozenMap)
    accesses_by_level: FrozenMap[str, float] = field(default_factory=FrozenMap)
    busy_cycles: FrozenMap[str, float] = field(default_factory=FrozenMap)
    sim_events: int = 0
    compulsory_dram_bits: float | None = None
    cold_start_dram_bits: float = 0.0
    footprint: Footprint | None = None

    @property
    def utilisation(self) -> dict[str, float]:
        """Busy fraction of each simulated resource (memory level ports and ``compute``)."""
        return {k: (v / self.cycles if self.cycles else 0.0) for k, v in self.busy_cycles.items()}

    def level_bits(self, level: str, direction: str | None = None) -> float:
        """Steady-state bits moved at ``level`` (``traffic_bits`` summed over operands)."""
        return float(
            sum(v for (lv, _, d), v in self.traffic_bits.items() if lv == level and (direction is None or d == direction))
        )

    @property
    def total_energy_pj(self) -> float:
        """Steady-state energy of one inference (sum of the breakdown)."""
        return float(sum(self.energy_pj.values()))

    @property
    def cold_energy_pj(self) -> float:
        """Energy of the first inference: steady state plus the one-time weight load."""
        return self.total_energy_pj + self.cold_start_energy_pj

    @property
    def total_macs(self) -> int:
        return int(sum(self.macs_by_layer.values()))

    @property
    def latency_s(self) -> float:
        return cycles_to_s(self.cycles, self.clock_hz)

    @property
    def energy_delay_product_pj_s(self) -> float:
        return self.total_energy_pj * self.latency_s

    @property
    def compression_ratio(self) -> float:
        return self.weight_dense_bits / self.weight_stored_bits if self.weight_stored_bits else float("nan")

    @property
    def sram_margin_bits(self) -> int | None:
        """SRAM capacity minus the bits the model needs on chip (negative = short by that much)."""
        if self.sram_capacity_bits is None or self.min_sram_bits is None:
            return None
        return self.sram_capacity_bits - self.min_sram_bits

    @property
    def layers(self) -> tuple[str, ...]:
        """Layers in first-seen order."""
        seen: dict[str, None] = dict.fromkeys(self.macs_by_layer)
        for layer, _, _ in self.energy_pj:
            seen.setdefault(layer, None)
        return tuple(seen)

    def energy_by(self, *fields_: str) -> dict[tuple[str, ...], float]:
        """Energy summed over the key fields not named; ``fields_`` from ``layer``, ``component``, ``operand``."""
        positions = [("layer", "component", "operand").index(f) for f in fields_]
        out: dict[tuple[str, ...], float] = {}
        for key, value in self.energy_pj.items():
            sub = tuple(key[p] for p in positions)
            out[sub] = out.get(sub, 0.0) + value
        return out

    def _repr_html_(self) -> str:
        """A compact HTML summary for notebooks: headline numbers and energy by component (no plotly)."""
        from html import escape

        from simulator.units import format_bits, format_energy_pj

        fit = {True: "yes", False: "no", None: "n/a"}[self.fits_on_chip]
        rows = [
            ("energy / inference (steady)", format_energy_pj(self.total_energy_pj)),
            ("first inference (cold)", format_energy_pj(self.cold_energy_pj)),
            ("latency", f"{self.latency_s * 1e3:.4g} ms ({self.cycles:,.0f} cycles, {self.stall_cycles:,.0f} stalled)"),
            ("MACs", f"{self.total_macs:,}"),
            ("weights dense -> stored", f"{format_bits(self.weight_dense_bits)} -> {format_bits(self.weight_stored_bits)}"),
            ("peak activations", format_bits(self.peak_activation_bits)),
            ("fits on chip", fit + (f" (needs {format_bits(self.min_sram_bits)})" if self.min_sram_bits is not None else "")),
        ]
        rows += [(f"metadata: {k}", str(v)) for k, v in self.metadata.items()]
        total = self.total_energy_pj or 1.0
        by_comp = sorted(self.energy_by("component").items(), key=lambda kv: -kv[1])
        head = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
        comp = "".join(
            f"<tr><td>{escape(c)}</td><td>{escape(format_energy_pj(pj))}</td><td>{100 * pj / total:.1f} %</td></tr>"
            for (c,), pj in by_comp
        )
        title = escape(f"{self.model_name} on {self.profile_name} ({self.method})")
        return (
            f"<div class='pjsim-cost'><strong>{title}</strong><table>{head}</table>"
            f"<table><tr><th>component</th><th>energy</th><th>share</th></tr>{comp}</table></div>"
        )

    def __add__(self, other: CostReport) -> CostReport:
        """Two inferences run one after the other on the same profile.

        Rule: energies sum key by key, cycles and stall cycles sum (sequential, no overlap), MACs sum
        per layer; storage, fit and activation figures take the larger of the two (the chip must hold
        either model). Timelines are concatenated with ``other`` shifted by ``self.cycles``.
        """
        if self.clock_hz != other.clock_hz:
            raise ValueError(f"cannot add CostReports at different clocks ({self.clock_hz} vs {other.clock_hz} Hz)")
        energy = dict(self.energy_pj)
        for k, v in other.energy_pj.items():
            energy[k] = energy.get(k, 0.0) + v
        macs = dict(self.macs_by_layer)
        for k, v in other.macs_by_layer.items():
            macs[k] = macs.get(k, 0) + v
        shifted = tuple(
            TimelineEvent(e.resource, e.start_cycle + self.cycles, e.end_cycle + self.cycles, e.layer, e.what)
            for e in other.timeline
        )
        fits = None if self.fits_on_chip is None or other.fits_on_chip is None else self.fits_on_chip and other.fits_on_chip
        return CostReport(
            model_name=self.model_name if self.model_name == other.model_name else f"{self.model_name}+{other.model_name}",
            profile_name=self.profile_name if self.profile_name == other.profile_name else f"{self.profile_name}+{other.profile_name}",
            method=self.method if self.method == other.method else f"{self.method}+{other.method}",
            energy_pj=FrozenMap(energy),
            cycles=self.cycles + other.cycles,
            clock_hz=self.clock_hz,
            cold_start_energy_pj=self.cold_start_energy_pj + other.cold_start_energy_pj,
            stall_cycles=self.stall_cycles + other.stall_cycles,
            macs_by_layer=FrozenMap(macs),
            weight_dense_bits=max(self.weight_dense_bits, other.weight_dense_bits),
            weight_stored_bits=max(self.weight_stored_bits, other.weight_stored_bits),
            peak_activation_bits=max(self.peak_activation_bits, other.peak_activation_bits),
            fits_on_chip=fits,
            sram_capacity_bits=self.sram_capacity_bits,
            min_sram_bits=max(self.min_sram_bits or 0, other.min_sram_bits or 0) or None,
            spilling_layers=tuple(dict.fromkeys(self.spilling_layers + other.spilling_layers)),
            conventions=tuple(dict.fromkeys(self.conventions + other.conventions)),
            metadata=FrozenMap({**self.metadata, **other.metadata}),
            timeline=self.timeline + shifted,
            traffic_bits=_sum_maps(self.traffic_bits, other.traffic_bits),
            accesses_by_level=_sum_maps(self.accesses_by_level, other.accesses_by_level),
            busy_cycles=_sum_maps(self.busy_cycles, other.busy_cycles),
            sim_events=self.sim_events + other.sim_events,
            compulsory_dram_bits=None
            if self.compulsory_dram_bits is None or other.compulsory_dram_bits is None
            else self.compulsory_dram_bits + other.compulsory_dram_bits,
            cold_start_dram_bits=self.cold_start_dram_bits + other.cold_start_dram_bits,
        )


def _sum_maps(a: FrozenMap, b: FrozenMap) -> FrozenMap:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return FrozenMap(out)
