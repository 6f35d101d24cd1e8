"""Hardware profiles: records (``profile``), declared derivation rules (``rules``) and the TOML loader
with schema checks, ``extends`` and sweep overrides (``loader``), what-if edits (``whatif``)."""

from simulator.hardware.loader import (
    SWEEP_OVERRIDE_SOURCE,
    list_profiles,
    load_profile,
    profile_digest,
    profile_path,
    resolve_profile_table,
)
from simulator.hardware.profile import (
    LEVEL_KINDS,
    ZERO_HANDLING,
    ArrayAxis,
    ComputeArray,
    ComputeUnit,
    HardwareProfile,
    MemoryLevel,
    Precision,
)
from simulator.hardware.rules import EnergyValue
from simulator.hardware.whatif import global_buffer_name, with_sram_bits

__all__ = [
    "LEVEL_KINDS",
    "SWEEP_OVERRIDE_SOURCE",
    "ZERO_HANDLING",
    "ArrayAxis",
    "ComputeArray",
    "ComputeUnit",
    "EnergyValue",
    "global_buffer_name",
    "HardwareProfile",
    "MemoryLevel",
    "Precision",
    "list_profiles",
    "load_profile",
    "profile_digest",
    "profile_path",
    "resolve_profile_table",
    "with_sram_bits",
]
