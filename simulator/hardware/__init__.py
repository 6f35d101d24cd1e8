"""Hardware profiles: records (``profile``) and the TOML loader with schema checks (``loader``)."""

from simulator.hardware.loader import list_profiles, load_profile, profile_path
from simulator.hardware.profile import ComputeUnit, HardwareProfile, MemoryLevel

__all__ = ["ComputeUnit", "HardwareProfile", "MemoryLevel", "list_profiles", "load_profile", "profile_path"]
