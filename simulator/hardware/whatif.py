"""What-if edits of a hardware profile (e.g. another SRAM size), so studies never rebuild profiles by hand.

Pure records in, record out; no file is written. A profile loaded from a file is re-loaded with the
edit as an override, so values its file derives from the edited one (``{ rule = "sqrt_capacity" }``
SRAM energies) follow; a profile built in code only gets the edited field.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from simulator.hardware.profile import HardwareProfile

__all__ = ["WHATIF_SOURCE", "global_buffer_name", "with_sram_bits"]

#: The source recorded for a capacity changed by ``with_sram_bits``.
WHATIF_SOURCE = "what-if: simulator.hardware.whatif.with_sram_bits"


def global_buffer_name(profile: HardwareProfile) -> str | None:
    """The outermost on-chip level (the one that decides whether a model fits), or None for DRAM only.

    The same choice as the mapper's residency decision: the level just inside DRAM.
    """
    buffer = profile.global_buffer
    return buffer.name if buffer is not None else None


def with_sram_bits(profile: HardwareProfile, sram_bits: int, level: str | None = None) -> HardwareProfile:
    """``profile`` with the capacity of ``level`` (default: the global buffer) set to ``sram_bits``.

    Raises:
        ValueError: ``sram_bits`` is not a positive integer, the profile has no on-chip level, or
            ``level`` is not one of its levels (the message names the levels there are).
    """
    if int(sram_bits) != sram_bits or sram_bits <= 0:
        raise ValueError(f"with_sram_bits: sram_bits must be a positive whole number of bits, got {sram_bits!r}")
    name = level if level is not None else global_buffer_name(profile)
    names = [lv.name for lv in profile.levels]
    if name is None:
        raise ValueError(f"profile {profile.name!r} has no on-chip level to resize (levels: {', '.join(names)})")
    if name not in names or name == names[-1]:
        raise ValueError(f"profile {profile.name!r}: no on-chip level {name!r} to resize (on-chip levels: {', '.join(names[:-1])})")
    if profile.path and Path(profile.path).is_file():
        from simulator.hardware.loader import load_profile

        override = {f"memory.{name}.capacity": {"value": int(sram_bits), "unit": "bit", "source": WHATIF_SOURCE}}
        return load_profile(profile.path, overrides=override)
    levels = tuple(dataclasses.replace(lv, capacity_bits=int(sram_bits)) if lv.name == name else lv for lv in profile.levels)
    return dataclasses.replace(profile, levels=levels)
