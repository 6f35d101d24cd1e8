"""CostReport: the one result record everything downstream (reports, sweeps, CLI) reads.

Energy is kept per (layer, component, operand) in pJ for one steady-state inference:
``component`` is ``"compute"``, ``"decode"``, a memory level's name from the profile (``"rf"``,
``"sram"``, ``"dram"``), ``"leakage"`` or ``"static"``; ``operand`` is ``"weights"``, ``"inputs"``, ``"outputs"`` or
``"none"`` (arithmetic and leakage). The one-time cost of loading resident weights into SRAM before the
first inference is kept apart in ``cold_start_energy_pj``.

The record holds what the costing produced and references upstream records instead of copying their
facts: everything about fit (capacity, needed bits, peak activations, spilling layers) is the mapper's
``Footprint`` (``simulator.mapping.residency``); what the costing could not cover is a typed
``Coverage``; accuracy is a typed ``Accuracy``. Two views serve every reader: ``headline()`` (the
summary numbers and their formatted strings: CLI, notebook, HTML cards, sweep rows) and ``to_frame()``
(the tidy per layer x component x operand table: the public data API and the exports).
No torch import; pandas only inside ``to_frame``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simulator.frozen import FrozenMap
from simulator.mapping.residency import Footprint
from simulator.units import cycles_to_s, format_bits, format_count, format_energy_pj, format_power_mw, format_seconds

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "COMPONENT_ORDER",
    "FRAME_COLUMNS",
    "Accuracy",
    "CostReport",
    "Coverage",
    "EnergyKey",
    "Headline",
    "HeadlineRow",
    "MemoryTiming",
    "OpCount",
    "TimelineEvent",
    "TrafficKey",
    "format_count",
    "format_seconds",
]

EnergyKey = tuple[str, str, str]  # (layer, component, operand)
TrafficKey = tuple[str, str, str, str]  # (layer, level, operand, direction)

#: Display order of the usual components (other level names sort after these).
COMPONENT_ORDER = ("compute", "decode", "rf", "register_file", "sram", "dram", "leakage", "static")

#: Columns of ``CostReport.to_frame()`` in order.
FRAME_COLUMNS = ("model", "profile", "method", "layer", "component", "operand", "energy_pj", "bits", "accesses")


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One busy interval of a resource in the simulated timeline (for the Gantt chart)."""

    resource: str
    start_cycle: float
    end_cycle: float
    layer: str
    what: str


@dataclass(frozen=True, slots=True)
class OpCount:
    """``count`` occurrences of ``name`` (an aten op, an op kind or a ``dtype.operation``)."""

    name: str
    count: float

    @property
    def text(self) -> str:
        return f"{self.name} x{self.count:,.0f}"


def _op_counts(counts: Mapping[str, float]) -> tuple[OpCount, ...]:
    return tuple(OpCount(str(k), v) for k, v in sorted(counts.items()))


@dataclass(frozen=True, slots=True)
class Coverage:
    """What the costing could not price, so a reader never takes a partial number for a whole one.

    Attributes:
        unsupported_ops: aten ops the tracer has no rule for (not costed at all).
        unmapped_kinds: op kinds the mapper has no rule for (costed as streaming ops).
        unpriced_operations: arithmetic the profile has no energy for (counted, priced at 0 pJ).
    """

    unsupported_ops: tuple[OpCount, ...] = ()
    unmapped_kinds: tuple[OpCount, ...] = ()
    unpriced_operations: tuple[OpCount, ...] = ()

    @classmethod
    def of(
        cls,
        unsupported_ops: Mapping[str, float] | None = None,
        unmapped_kinds: Mapping[str, float] | None = None,
        unpriced_operations: Mapping[str, float] | None = None,
    ) -> Coverage:
        """A ``Coverage`` from ``name -> count`` mappings (sorted by name)."""
        return cls(_op_counts(unsupported_ops or {}), _op_counts(unmapped_kinds or {}), _op_counts(unpriced_operations or {}))

    @property
    def complete(self) -> bool:
        """True when everything was traced, mapped and priced."""
        return not (self.unsupported_ops or self.unmapped_kinds or self.unpriced_operations)

    def lines(self) -> tuple[tuple[str, str], ...]:
        """``(label, "name xN, ...")`` for each non-empty gap, in pipeline order."""
        out = []
        for label, items in (
            ("unsupported aten ops (not costed)", self.unsupported_ops),
            ("unmapped op kinds (costed as streaming)", self.unmapped_kinds),
            ("unpriced operations (counted, priced at 0 pJ)", self.unpriced_operations),
        ):
            if items:
                out.append((label, ", ".join(i.text for i in items)))
        return tuple(out)

    def __add__(self, other: Coverage) -> Coverage:
        def merged(a: tuple[OpCount, ...], b: tuple[OpCount, ...]) -> tuple[OpCount, ...]:
            counts: dict[str, float] = {}
            for item in a + b:
                counts[item.name] = counts.get(item.name, 0) + item.count
            return _op_counts(counts)

        return Coverage(
            merged(self.unsupported_ops, other.unsupported_ops),
            merged(self.unmapped_kinds, other.unmapped_kinds),
            merged(self.unpriced_operations, other.unpriced_operations),
        )


@dataclass(frozen=True, slots=True)
class Accuracy:
    """A model's accuracy and where the number comes from (measured, a checkpoint, a paper).

    Attributes:
        fraction: accuracy in [0, 1] (0.985 = 98.5 %).
        source: where it comes from, in words (always shown next to the number).
        metric: what was measured (``"top-1"``).
    """

    fraction: float
    source: str
    metric: str = "top-1"

    def __post_init__(self) -> None:
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"Accuracy.fraction must lie in [0, 1], found {self.fraction!r} (source: {self.source!r})")

    @property
    def percent(self) -> float:
        return 100.0 * self.fraction

    @property
    def text(self) -> str:
        """E.g. ``'98.50 % top-1'``."""
        return f"{self.percent:.2f} %" + (f" {self.metric}" if self.metric else "")


@dataclass(frozen=True, slots=True)
class MemoryTiming:
    """What the memory system's play of the schedule says beyond the latency (issue 15).

    Attributes:
        lower_bound_cycles: the closed form's perfect-overlap bound (max of compute and the busiest port).
        upper_bound_cycles: the closed form's no-overlap bound; the simulated cycles lie within the two.
        stall_cycles_by_cause: compute waiting for ``dram``, ``sram``, a ``buffer_slot``, an ``other_core``
            (summed over cores), or ``memory`` for the phase models.
        dram_row_hit_rate: the DRAM device's row-buffer hit rate (None for the flat DRAM model).
        dram_energy_by_command_pj: DRAM device energy per command class for one inference (activate,
            precharge, read, write, refresh, background); empty for the flat model. Priced into ``energy_pj``.
        buffer_peak_bits: the staging buffer's highest occupancy.
        requestors: cores that shared the DRAM (batch split: one inference each).
        fidelity: ``window``, ``full``, ``phases`` or ``closed-form``.
        dram_model: ``flat`` or the DRAM device preset's name.
        utilisation_bin_cycles: width of the bins of ``utilisation_over_time`` (0: no series).
        utilisation_over_time: per memory port (and compute array) its busy fraction in each bin of the
            run, at most 64 bins: bandwidth utilisation over time (``simulator.memsim.usage``).
    """

    lower_bound_cycles: float
    upper_bound_cycles: float
    stall_cycles_by_cause: FrozenMap[str, float] = field(default_factory=FrozenMap)
    dram_row_hit_rate: float | None = None
    dram_energy_by_command_pj: FrozenMap[str, float] = field(default_factory=FrozenMap)
    buffer_peak_bits: float = 0.0
    requestors: int = 1
    fidelity: str = "closed-form"
    dram_model: str = "flat"
    utilisation_bin_cycles: float = 0.0
    utilisation_over_time: FrozenMap[str, tuple[float, ...]] = field(default_factory=FrozenMap)

    @property
    def bracket_cycles(self) -> tuple[float, float]:
        """(lower, upper) cycles."""
        return self.lower_bound_cycles, self.upper_bound_cycles


def average_power_mw(energy_pj: float, latency_s: float) -> float | None:
    """Average power of one inference: energy / latency, in mW (None when the latency is 0)."""
    return energy_pj / latency_s * 1e-9 if latency_s > 0 else None


def inferences_per_s(latency_s: float) -> float | None:
    """Inferences per second run back to back: 1 / latency (None when the latency is 0)."""
    return 1.0 / latency_s if latency_s > 0 else None


def tops_per_w(macs: float, energy_pj: float) -> float | None:
    """Efficiency in TOPS/W counting 2 ops per MAC: 2 * MACs / energy in pJ (ops/pJ = 10^12 ops/J = TOPS/W)."""
    return 2 * macs / energy_pj if energy_pj > 0 else None


@dataclass(frozen=True, slots=True)
class HeadlineRow:
    """One summary number as displayed: ``text`` (with ``detail`` beneath), ``value`` the number behind it.

    ``tone`` is ``"good"``, ``"bad"`` or ``""`` (how a card is coloured).
    """

    key: str
    label: str
    text: str
    detail: str = ""
    value: float | None = None
    tone: str = ""


@dataclass(frozen=True, slots=True)
class Headline:
    """The one summary view of a ``CostReport``: its numbers and their formatted rows.

    The CLI prints ``rows``, the notebook repr and the HTML cards show them, the sweep worker stores
    ``numbers()``. Fit numbers are the footprint's (None when the costing did not evaluate fit).
    """

    title: str
    method: str
    total_energy_pj: float
    cold_energy_pj: float
    cold_start_energy_pj: float
    latency_s: float
    cycles: float
    stall_cycles: float
    energy_delay_product_pj_s: float
    total_macs: int
    weight_dense_bits: int
    weight_stored_bits: int
    compression_ratio: float
    peak_activation_bits: int | None
    fits_on_chip: bool | None
    sram_capacity_bits: int | None
    needed_bits: int | None
    margin_bits: int | None
    accuracy: Accuracy | None
    coverage: Coverage
    rows: tuple[HeadlineRow, ...]

    @property
    def average_power_mw(self) -> float | None:
        """Energy per inference / latency, in mW (None when the latency is 0)."""
        return average_power_mw(self.total_energy_pj, self.latency_s)

    @property
    def inferences_per_s(self) -> float | None:
        """Inferences per second back to back: 1 / latency (None when the latency is 0)."""
        return inferences_per_s(self.latency_s)

    @property
    def tops_per_w(self) -> float | None:
        """Energy efficiency in TOPS/W counting 2 ops per MAC: 2 * MACs / energy (pJ) = ops/pJ = TOPS/W."""
        return tops_per_w(self.total_macs, self.total_energy_pj)

    def row(self, key: str) -> HeadlineRow:
        """The row named ``key`` (KeyError naming the keys there are)."""
        for r in self.rows:
            if r.key == key:
                return r
        raise KeyError(f"headline has no row {key!r}; rows: {', '.join(r.key for r in self.rows)}")

    def numbers(self) -> dict[str, Any]:
        """The summary numbers by name (``min_sram_bits`` is ``needed_bits``), for tables and sweep rows."""
        return {
            "total_energy_pj": self.total_energy_pj,
            "cold_energy_pj": self.cold_energy_pj,
            "cold_start_energy_pj": self.cold_start_energy_pj,
            "cycles": float(self.cycles),
            "stall_cycles": float(self.stall_cycles),
            "latency_s": self.latency_s,
            "energy_delay_product_pj_s": self.energy_delay_product_pj_s,
            "total_macs": self.total_macs,
            "weight_dense_bits": self.weight_dense_bits,
            "weight_stored_bits": self.weight_stored_bits,
            "compression_ratio": self.compression_ratio,
            "peak_activation_bits": self.peak_activation_bits,
            "fits_on_chip": self.fits_on_chip,
            "sram_capacity_bits": self.sram_capacity_bits,
            "min_sram_bits": self.needed_bits,
            "method": self.method,
            **({"accuracy": self.accuracy.fraction} if self.accuracy is not None else {}),
            "unsupported_ops": sum(int(i.count) for i in self.coverage.unsupported_ops),
        }


@dataclass(frozen=True, slots=True)
class CostReport:
    """Energy, time and storage of one inference of one model on one profile.

    Attributes:
        model_name: the workload's model name.
        profile_name: the hardware profile's name.
        method: how it was costed (e.g. ``"no-reuse baseline"``, ``"mapped + simpy"``).
        energy_pj: steady-state energy per inference by (layer, component, operand).
        cycles: cycles of one steady-state inference.
        clock_hz: the profile's clock, to turn cycles into seconds.
        cold_start_energy_pj: extra one-time energy of the first inference (loading resident weights).
        stall_cycles: cycles the compute array waited for memory.
        macs_by_layer: MACs per layer (module name).
        weight_dense_bits: the weights at their traced dtype, uncompressed.
        weight_stored_bits: the weights in their stored encoding.
        footprint: what must be on chip and whether it fits (``simulator.mapping.residency``); None = not evaluated.
        coverage: what the costing could not trace, map or price.
        accuracy: the model's accuracy and its source; None = not known.
        conventions: the counting conventions behind the numbers, in words.
        metadata: free-form labelled facts for people (engine, residency, checkpoint name ...); nothing
            a program reads back lives here.
        timeline: busy intervals per resource (may be empty).
        layer_traffic_bits: steady-state bits moved per (layer, level, operand, direction).
        level_word_bits: each memory level's access width (accesses = bits / word bits).
        busy_cycles: cycles each simulated resource was busy (memory level ports and ``compute``).
        sim_events: SimPy events scheduled to simulate the inference (0 when not simulated).
        compulsory_dram_bits: each weight and model input read once, each model output written once.
        cold_start_dram_bits: DRAM bits of the one-time weight load (resident models).
        memory_timing: the memory system's bracket, stalls by cause, DRAM device facts; None when the
            costing did not play the schedule (the no-reuse baseline).
        layer_cycles: simulated cycles per layer (what the engine recorded; empty when unknown).
        layer_kinds: each layer's op kinds (``OpKind`` values joined by ``+``; empty when unknown).
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
    footprint: Footprint | None = None
    coverage: Coverage = field(default_factory=Coverage)
    accuracy: Accuracy | None = None
    conventions: tuple[str, ...] = ()
    metadata: FrozenMap[str, str] = field(default_factory=FrozenMap)
    timeline: tuple[TimelineEvent, ...] = ()
    layer_traffic_bits: FrozenMap[TrafficKey, float] = field(default_factory=FrozenMap)
    level_word_bits: FrozenMap[str, int] = field(default_factory=FrozenMap)
    busy_cycles: FrozenMap[str, float] = field(default_factory=FrozenMap)
    sim_events: int = 0
    compulsory_dram_bits: float | None = None
    cold_start_dram_bits: float = 0.0
    memory_timing: MemoryTiming | None = None
    layer_cycles: FrozenMap[str, float] = field(default_factory=FrozenMap)
    layer_kinds: FrozenMap[str, str] = field(default_factory=FrozenMap)

    # -- fit: read-only views of the footprint (the one home of what must be on chip) ------------

    @property
    def fits_on_chip(self) -> bool | None:
        """``footprint.fits`` (None = fit not evaluated)."""
        return None if self.footprint is None else self.footprint.fits

    @property
    def min_sram_bits(self) -> int | None:
        """``footprint.needed_bits``: the smallest global buffer that keeps the model resident."""
        return None if self.footprint is None else self.footprint.needed_bits

    @property
    def sram_capacity_bits(self) -> int | None:
        """``footprint.capacity_bits``: the global buffer's capacity."""
        return None if self.footprint is None else self.footprint.capacity_bits

    @property
    def sram_margin_bits(self) -> int | None:
        """``footprint.margin_bits``: capacity minus need (negative = short by that much)."""
        return None if self.footprint is None else self.footprint.margin_bits

    @property
    def peak_activation_bits(self) -> int | None:
        """``footprint.peak_activation_bits``: the largest set of activations live at once."""
        return None if self.footprint is None else self.footprint.peak_activation_bits

    @property
    def spilling_layers(self) -> tuple[str, ...]:
        """``footprint.spilling_layers``: layers whose data spills to DRAM."""
        return () if self.footprint is None else self.footprint.spilling_layers

    # -- traffic ---------------------------------------------------------------------------------

    @property
    def traffic_bits(self) -> FrozenMap[tuple[str, str, str], float]:
        """Steady-state bits per (level, operand, direction), summed over layers."""
        out: dict[tuple[str, str, str], float] = {}
        for (_, level, operand, direction), bits in self.layer_traffic_bits.items():
            out[(level, operand, direction)] = out.get((level, operand, direction), 0.0) + bits
        return FrozenMap(out)

    @property
    def accesses_by_level(self) -> dict[str, float]:
        """Steady-state accesses per level: bits moved there / the level's word width."""
        out: dict[str, float] = {}
        for (_, level, _, _), bits in self.layer_traffic_bits.items():
            word = self.level_word_bits.get(level)
            if word:
                out[level] = out.get(level, 0.0) + bits / word
        return out

    def level_bits(self, level: str, direction: str | None = None, operand: str | None = None) -> float:
        """Steady-state bits moved at ``level``, optionally for one direction and/or operand."""
        return float(
            sum(
                v
                for (_, lv, o, d), v in self.layer_traffic_bits.items()
                if lv == level and (direction is None or d == direction) and (operand is None or o == operand)
            )
        )

    # -- derived totals --------------------------------------------------------------------------

    @property
    def utilisation(self) -> dict[str, float]:
        """Busy fraction of each simulated resource (memory level ports and ``compute``)."""
        return {k: (v / self.cycles if self.cycles else 0.0) for k, v in self.busy_cycles.items()}

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

    # -- the two views ---------------------------------------------------------------------------

    def to_frame(self) -> pd.DataFrame:
        """The tidy table of this report: one row per (layer, component, operand).

        Columns (``FRAME_COLUMNS``): ``model, profile, method, layer, component, operand, energy_pj, bits,
        accesses``. ``bits`` are the steady-state bits read plus written at that component (a memory
        level) for that layer and operand, ``accesses`` those bits over the level's word width; both are
        0 for compute, decode and leakage. Energies sum to ``total_energy_pj``; the one-time cold-start
        load is not in the table (``cold_start_energy_pj``).
        """
        import pandas as pd

        bits: dict[EnergyKey, float] = {}
        for (layer, level, operand, _), b in self.layer_traffic_bits.items():
            bits[(layer, level, operand)] = bits.get((layer, level, operand), 0.0) + b
        keys = list(dict.fromkeys([*self.energy_pj, *bits]))
        words = [self.level_word_bits.get(k[1], 0) for k in keys]
        bit_values = [bits.get(k, 0.0) for k in keys]
        return pd.DataFrame(
            {
                "model": self.model_name,
                "profile": self.profile_name,
                "method": self.method,
                "layer": [k[0] for k in keys],
                "component": [k[1] for k in keys],
                "operand": [k[2] for k in keys],
                "energy_pj": [float(self.energy_pj.get(k, 0.0)) for k in keys],
                "bits": bit_values,
                "accesses": [b / w if w else 0.0 for b, w in zip(bit_values, words)],
            },
            columns=list(FRAME_COLUMNS),
        )

    def headline(self) -> Headline:
        """The summary numbers with their formatted rows (one view for CLI, notebook, HTML and sweeps)."""
        fp = self.footprint
        ratio = self.compression_ratio
        rows = [
            HeadlineRow("energy", "energy / inference", format_energy_pj(self.total_energy_pj), "steady state", self.total_energy_pj),
            HeadlineRow(
                "cold_energy", "first inference", format_energy_pj(self.cold_energy_pj),
                f"cold: + {format_energy_pj(self.cold_start_energy_pj)} to load resident weights"
                if self.cold_start_energy_pj else "cold = steady (no weights kept resident)", self.cold_energy_pj,
            ),  # fmt: skip
            HeadlineRow("latency", "latency", format_seconds(self.latency_s),
                        f"{self.cycles:,.0f} cycles · {self.stall_cycles:,.0f} stalled", self.latency_s),  # fmt: skip
            HeadlineRow(
                "storage", "weights dense → stored", f"{format_bits(self.weight_dense_bits)} → {format_bits(self.weight_stored_bits)}",
                f"{ratio:.1f}× smaller" if self.weight_stored_bits and ratio > 1.0001 else "not compressed",
                float(self.weight_stored_bits), "good" if self.weight_stored_bits and ratio > 1.0001 else "",
            ),  # fmt: skip
        ]
        power_mw, rate, efficiency = (average_power_mw(self.total_energy_pj, self.latency_s), inferences_per_s(self.latency_s),
                                      tops_per_w(self.total_macs, self.total_energy_pj))  # fmt: skip
        if power_mw is not None:
            rows.append(HeadlineRow("power", "average power", format_power_mw(power_mw), "energy / inference ÷ latency", power_mw))
        if rate is not None:
            rows.append(HeadlineRow("throughput", "inferences / s", format_count(rate), "one after another at the traced batch", rate))
        if efficiency is not None:
            rows.append(HeadlineRow("efficiency", "TOPS/W", f"{efficiency:.3g}", "2 ops per MAC, steady-state energy", efficiency))
        mt = self.memory_timing
        if mt is not None:
            lo, hi = (cycles_to_s(c, self.clock_hz) for c in mt.bracket_cycles)
            detail = f"{mt.lower_bound_cycles:,.0f} .. {mt.upper_bound_cycles:,.0f} cycles (perfect .. no overlap)"
            detail += f" · DRAM {mt.dram_model}"
            if mt.dram_row_hit_rate is not None:
                detail += f", {mt.dram_row_hit_rate:.0%} row hits"
            if mt.requestors > 1:
                detail += f" · {mt.requestors} cores share the DRAM"
            bracket = f"{format_seconds(lo)} .. {format_seconds(hi)}"
            rows.append(HeadlineRow("bracket", "latency bracket", bracket, detail, self.latency_s))
        if fp is None:
            rows.append(HeadlineRow("fits", "fits on chip", "n/a", "fit not evaluated by this costing"))
        else:
            margin = fp.margin_bits
            detail = f"{format_bits(abs(margin))} {'to spare' if margin >= 0 else 'short'} · needs {format_bits(fp.needed_bits)}"
            detail += f" of {format_bits(fp.capacity_bits)} SRAM · peak activations {format_bits(fp.peak_activation_bits)}"
            rows.append(HeadlineRow("fits", "fits on chip", "yes" if fp.fits else "no", detail, float(fp.fits),
                                    "good" if fp.fits else "bad"))  # fmt: skip
            if fp.spilling_layers:
                names = [x or "(top level)" for x in fp.spilling_layers]
                shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
                rows.append(HeadlineRow("spilling", "spilling layers", f"{len(names)}", shown, float(len(names))))
        if self.accuracy is not None:
            rows.append(HeadlineRow("accuracy", "accuracy", self.accuracy.text, self.accuracy.source, self.accuracy.fraction))
        rows.append(HeadlineRow("macs", "MACs", format_count(self.total_macs),
                                f"{self.total_macs:,} MACs = {format_count(2 * self.total_macs)} FLOPs (Han)", float(self.total_macs)))  # fmt: skip
        for (label, text), key in zip(self.coverage.lines(), ("unsupported", "unmapped", "unpriced")):
            rows.append(HeadlineRow(f"coverage_{key}", label, text.split(",")[0] + (" ..." if "," in text else ""), text, tone="bad"))
        return Headline(
            title=f"{self.model_name} on {self.profile_name} ({self.method})",
            method=self.method,
            total_energy_pj=self.total_energy_pj,
            cold_energy_pj=self.cold_energy_pj,
            cold_start_energy_pj=self.cold_start_energy_pj,
            latency_s=self.latency_s,
            cycles=self.cycles,
            stall_cycles=self.stall_cycles,
            energy_delay_product_pj_s=self.energy_delay_product_pj_s,
            total_macs=self.total_macs,
            weight_dense_bits=self.weight_dense_bits,
            weight_stored_bits=self.weight_stored_bits,
            compression_ratio=ratio,
            peak_activation_bits=None if fp is None else fp.peak_activation_bits,
            fits_on_chip=None if fp is None else fp.fits,
            sram_capacity_bits=None if fp is None else fp.capacity_bits,
            needed_bits=None if fp is None else fp.needed_bits,
            margin_bits=None if fp is None else fp.margin_bits,
            accuracy=self.accuracy,
            coverage=self.coverage,
            rows=tuple(rows),
        )

    def _repr_html_(self) -> str:
        """A compact HTML summary for notebooks: the headline rows and energy by component (no plotly)."""
        from html import escape

        head = self.headline()
        rows = "".join(
            f"<tr><th style='text-align:left'>{escape(r.label)}</th><td>{escape(r.text)}</td><td>{escape(r.detail)}</td></tr>"
            for r in head.rows
        )
        total = self.total_energy_pj or 1.0
        by_comp = sorted(self.energy_by("component").items(), key=lambda kv: -kv[1])
        comp = "".join(
            f"<tr><td>{escape(c)}</td><td>{escape(format_energy_pj(pj))}</td><td>{100 * pj / total:.1f} %</td></tr>"
            for (c,), pj in by_comp
        )
        return (
            f"<div class='pjsim-cost'><strong>{escape(head.title)}</strong><table>{rows}</table>"
            f"<table><tr><th>component</th><th>energy</th><th>share</th></tr>{comp}</table></div>"
        )

    def __add__(self, other: CostReport) -> CostReport:
        """Two inferences run one after the other on the same profile.

        Rule: energies (steady and cold start) sum key by key, cycles and stall cycles sum (sequential,
        no overlap), MACs and traffic sum per layer; storage takes the larger of the two and the footprint
        is the one that needs more on chip (the chip must hold either model). Timelines are concatenated
        with ``other`` shifted by ``self.cycles``. Accuracy survives only when both agree.
        """
        if self.clock_hz != other.clock_hz:
            raise ValueError(f"cannot add CostReports at different clocks ({self.clock_hz} vs {other.clock_hz} Hz)")
        shifted = tuple(
            TimelineEvent(e.resource, e.start_cycle + self.cycles, e.end_cycle + self.cycles, e.layer, e.what)
            for e in other.timeline
        )
        footprint = None
        if self.footprint is not None and other.footprint is not None:
            footprint = max(self.footprint, other.footprint, key=lambda f: f.needed_bits)

        def joined(a: str, b: str) -> str:
            return a if a == b else f"{a}+{b}"

        return CostReport(
            model_name=joined(self.model_name, other.model_name),
            profile_name=joined(self.profile_name, other.profile_name),
            method=joined(self.method, other.method),
            energy_pj=_sum_maps(self.energy_pj, other.energy_pj),
            cycles=self.cycles + other.cycles,
            clock_hz=self.clock_hz,
            cold_start_energy_pj=self.cold_start_energy_pj + other.cold_start_energy_pj,
            stall_cycles=self.stall_cycles + other.stall_cycles,
            macs_by_layer=_sum_maps(self.macs_by_layer, other.macs_by_layer),
            weight_dense_bits=max(self.weight_dense_bits, other.weight_dense_bits),
            weight_stored_bits=max(self.weight_stored_bits, other.weight_stored_bits),
            footprint=footprint,
            coverage=self.coverage + other.coverage,
            accuracy=self.accuracy if self.accuracy == other.accuracy else None,
            conventions=tuple(dict.fromkeys(self.conventions + other.conventions)),
            metadata=FrozenMap({**self.metadata, **other.metadata}),
            timeline=self.timeline + shifted,
            layer_traffic_bits=_sum_maps(self.layer_traffic_bits, other.layer_traffic_bits),
            level_word_bits=FrozenMap({**self.level_word_bits, **other.level_word_bits}),
            busy_cycles=_sum_maps(self.busy_cycles, other.busy_cycles),
            sim_events=self.sim_events + other.sim_events,
            compulsory_dram_bits=None
            if self.compulsory_dram_bits is None or other.compulsory_dram_bits is None
            else self.compulsory_dram_bits + other.compulsory_dram_bits,
            cold_start_dram_bits=self.cold_start_dram_bits + other.cold_start_dram_bits,
            layer_cycles=_sum_maps(self.layer_cycles, other.layer_cycles),
            layer_kinds=FrozenMap({**self.layer_kinds, **other.layer_kinds}),
        )


def _sum_maps(a: Mapping, b: Mapping) -> FrozenMap:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return FrozenMap(out)
