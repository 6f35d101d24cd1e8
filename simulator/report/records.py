"""The records a report formats: one labelled ``CostReport`` plus what is drawn beside it.

Built by ``simulator.studies`` (which traces, costs and re-simulates); saved to and re-read from a
report's JSON export. Plain frozen dataclasses: no plotly, pandas, torch, API or ``models`` import, so
studies can build them without loading the report's rendering stack. What must be on chip is not
here: it is the ``CostReport``'s ``Footprint``.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.cost import CostReport

__all__ = [
    "STORAGE_PARTS",
    "Configuration",
    "ProfileConstant",
    "Roof",
    "Roofline",
    "SramCurve",
    "SramPoint",
    "StorageBreakdown",
    "StoragePart",
    "StorageStage",
]

#: Parts of stored weights, in display order (the waterfall's and per-layer split's vocabulary).
STORAGE_PARTS = ("values", "indices", "fillers", "codebook", "huffman_tables", "biases", "other")


@dataclass(frozen=True, slots=True)
class StorageStage:
    """One bar of the storage waterfall: the model's weight bits after ``name`` (e.g. ``"pruned"``)."""

    name: str
    bits: int


@dataclass(frozen=True, slots=True)
class StoragePart:
    """Bits of one part (``STORAGE_PARTS``) of one layer's stored weights."""

    layer: str
    part: str
    bits: int


@dataclass(frozen=True, slots=True)
class StorageBreakdown:
    """Storage of the weights: the stage waterfall and the per-layer split by part.

    ``stages`` is empty when no stage-by-stage accounting was available; ``source`` says where the
    numbers come from.
    """

    stages: tuple[StorageStage, ...]
    parts: tuple[StoragePart, ...]
    source: str


@dataclass(frozen=True, slots=True)
class SramPoint:
    """Energy of one inference with the global buffer set to ``sram_bits``."""

    sram_bits: int
    steady_energy_pj: float
    cold_energy_pj: float
    latency_s: float
    fits_on_chip: bool | None


@dataclass(frozen=True, slots=True)
class SramCurve:
    """Energy per inference as a function of the global buffer's capacity (all else as in the profile)."""

    points: tuple[SramPoint, ...]
    method: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class ProfileConstant:
    """One constant of a hardware profile as shown in the report (value already in ``unit``)."""

    key: str
    value: float | None
    unit: str
    source: str


@dataclass(frozen=True, slots=True)
class Roof:
    """One bandwidth roof: memory level ``level`` (of ``kind``) moves at most ``bytes_per_s``."""

    level: str
    kind: str
    bytes_per_s: float


@dataclass(frozen=True, slots=True)
class Roofline:
    """The roofs of one profile: peak compute throughput and each level's bandwidth (one core).

    Built from the ``HardwareProfile`` (peak from ``simulator.mapping.spatial.peak_macs_per_cycle``,
    bandwidths from the levels' ``bandwidth_bits_per_cycle`` at the clock); ``source`` says so in words.
    """

    peak_macs_per_s: float
    roofs: tuple[Roof, ...]
    source: str = ""


@dataclass(frozen=True, slots=True)
class Configuration:
    """One column of a report: a labelled ``CostReport`` plus what the report draws beside it.

    Attributes:
        label: short name shown in the report ("LeNet-300-100 · dense · horowitz45").
        cost: the costed inference (its ``footprint`` draws the on-chip fit chart).
        variant: what was done to the model ("dense", "Deep Compression checkpoint ...").
        profile_description: the profile's one-line description.
        profile_constants: the profile's constants with sources.
        storage: the weight storage breakdown (None = not available).
        sram_curve: energy vs SRAM capacity (None = not computed).
        notes: what is missing from this configuration and why (shown in the report).
        roofline: the profile's compute and bandwidth roofs (None = profile not known).
    """

    label: str
    cost: CostReport
    variant: str = ""
    profile_description: str = ""
    profile_constants: tuple[ProfileConstant, ...] = ()
    storage: StorageBreakdown | None = None
    sram_curve: SramCurve | None = None
    notes: tuple[str, ...] = ()
    roofline: Roofline | None = None

    @classmethod
    def of(cls, report: CostReport) -> Configuration:
        """A configuration holding only ``report`` (the report omits what it lacks, with a note)."""
        return cls(label=f"{report.model_name} on {report.profile_name}", cost=report)
