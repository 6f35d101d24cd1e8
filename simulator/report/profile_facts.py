"""What a report shows about a hardware profile: its cited constants and its roofline.

The one place a ``HardwareProfile`` becomes report records (``ProfileConstant``, ``Roofline``), used by
``simulator.studies`` when it builds a configuration and by ``configuration_of`` when a report is
built straight from ``CostReport``s (``write_html(simulate(...), ...)``): the profile is then looked
up by the report's ``profile_name``, so an API-built report has its profile section too. Imports no
plotly, pandas, torch, API or model zoo.
"""

from __future__ import annotations

from simulator.cost import CostReport
from simulator.errors import PjsimError
from simulator.hardware import HardwareProfile
from simulator.mapping.spatial import peak_macs_per_cycle
from simulator.report.records import Configuration, ProfileConstant, Roof, Roofline
from simulator.units import BITS_PER_BYTE

__all__ = ["configuration_of", "profile_constants", "roofline_of"]

_LEVEL_FIELDS = {
    "capacity": ("capacity_bits", "KB", 1 / 8000),
    "word": ("word_bits", "bit", 1),
    "read_energy": ("read_energy_pj", "pJ", 1),
    "write_energy": ("write_energy_pj", "pJ", 1),
    "bandwidth": ("bandwidth_bits_per_cycle", "bit/cycle", 1),
    "latency": ("latency_cycles", "cycle", 1),
    "leakage": ("leakage_mw", "mW", 1),
}


def profile_constants(profile: HardwareProfile) -> tuple[ProfileConstant, ...]:
    """Every sourced constant of ``profile``, in file order, converted to a display unit.

    Keys the report does not know how to read back from the record keep their source with no value
    (``value=None``), so nothing cited is ever dropped.
    """
    rows = []
    for key, source in profile.sources.items():
        value, unit = _constant_value(profile, key)
        rows.append(ProfileConstant(key, value, unit, source))
    return tuple(rows)


def _constant_value(profile: HardwareProfile, key: str) -> tuple[float | None, str]:
    parts = key.split(".")
    try:
        if key == "clock.frequency":
            return profile.clock_hz / 1e6, "MHz"
        if key == "compute.macs_per_cycle":
            return float(profile.compute.macs_per_cycle), "MAC/cycle"
        if key == "compute.accumulator_bits":
            return float(profile.compute.accumulator_bits), "bit"
        if parts[0] == "energy" and len(parts) == 3:
            return float(profile.compute.op_energy_pj[f"{parts[1]}.{parts[2]}"]), "pJ"
        if parts[0] == "memory" and len(parts) == 3 and parts[2] == "capacity":
            bits = float(profile.level(parts[1]).capacity_bits)
            for unit, scale in (("GB", 8e9), ("MB", 8e6), ("KB", 8e3)):
                if bits >= scale:
                    return bits / scale, unit
            return bits / 8, "B"
        if parts[0] == "memory" and len(parts) == 3 and parts[2] in _LEVEL_FIELDS:
            attr, unit, scale = _LEVEL_FIELDS[parts[2]]
            return float(getattr(profile.level(parts[1]), attr)) * scale, unit
    except (KeyError, AttributeError):
        pass
    return None, ""


def roofline_of(profile: HardwareProfile) -> Roofline:
    """The profile's roofs for one core: peak MACs/s and each memory level's bandwidth in bytes/s."""
    peak_cycle = peak_macs_per_cycle(profile.compute)
    roofs = tuple(
        Roof(lv.name, lv.kind, lv.bandwidth_bits_per_cycle * profile.clock_hz / BITS_PER_BYTE)
        for lv in profile.levels
        if lv.bandwidth_bits_per_cycle > 0
    )
    source = (f"{profile.name}: {peak_cycle:,} MACs/cycle x {profile.clock_hz / 1e6:g} MHz; bandwidths = each level's "
              f"bandwidth (bits/cycle) x clock")  # fmt: skip
    if profile.compute.cores > 1:
        source += f"; one of {profile.compute.cores} cores (one inference runs on one core)"
    return Roofline(peak_macs_per_s=peak_cycle * profile.clock_hz, roofs=roofs, source=source)


def configuration_of(report: CostReport, profile: HardwareProfile | None = None) -> Configuration:
    """A configuration for a bare ``CostReport``, with its profile's constants and roofline.

    ``profile`` defaults to the shipped profile named ``report.profile_name``; when that name does not
    resolve (a profile file that moved, a what-if edit) the configuration says so in a note.
    """
    config = Configuration.of(report)
    if profile is None:
        from simulator.hardware import load_profile

        try:
            profile = load_profile(report.profile_name)
        except (PjsimError, OSError, ValueError) as err:  # not resolvable: say so, draw the rest
            note = f"Profile '{report.profile_name}' could not be loaded to show its constants and roofline ({err})."
            return Configuration(label=config.label, cost=report, notes=(note,))
        if profile.clock_hz != report.clock_hz:
            note = (f"Profile '{report.profile_name}' as shipped runs at {profile.clock_hz:g} Hz, this report at "
                    f"{report.clock_hz:g} Hz: the profile was edited before costing, so its constants are not shown.")  # fmt: skip
            return Configuration(label=config.label, cost=report, notes=(note,))
    return Configuration(label=config.label, cost=report, profile_description=profile.description,
                         profile_constants=profile_constants(profile), roofline=roofline_of(profile))  # fmt: skip
