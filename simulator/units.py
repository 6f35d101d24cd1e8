"""The one unit convention of pjsim and every conversion between units.

Inside pjsim quantities are kept in base units and the unit is part of the name:
``*_bits`` (bits), ``*_pj`` (picojoules), ``*_cycles`` (clock cycles), ``*_hz`` (hertz),
``*_mw`` (milliwatts). Conversions happen here and at the report edge only.

Storage prefixes are decimal, as in the Deep Compression paper: 1 KB = 1000 bytes,
1 MB = 10**6 bytes (1070 KB = 266,610 float32 parameters of LeNet-300-100).
Binary prefixes (KiB, MiB) are accepted where a user writes them explicitly.
"""

from __future__ import annotations

__all__ = [
    "BITS_PER_BYTE",
    "CAPACITY_UNITS_BITS",
    "ENERGY_UNITS_PJ",
    "FREQUENCY_UNITS_HZ",
    "POWER_UNITS_MW",
    "bits_to_bytes",
    "bits_to_kb",
    "bits_to_mb",
    "bytes_to_bits",
    "cycles_to_s",
    "format_bits",
    "format_count",
    "format_energy_pj",
    "format_power_mw",
    "format_seconds",
    "format_value",
    "pj_to_j",
    "pj_to_uj",
]

BITS_PER_BYTE = 8

#: Capacity units a profile may use, as a number of bits.
CAPACITY_UNITS_BITS: dict[str, int] = {
    "bit": 1,
    "B": 8,
    "KB": 8 * 1000,
    "MB": 8 * 1000**2,
    "GB": 8 * 1000**3,
    "KiB": 8 * 1024,
    "MiB": 8 * 1024**2,
    "GiB": 8 * 1024**3,
}

#: Energy units a profile may use, as a number of picojoules.
ENERGY_UNITS_PJ: dict[str, float] = {"fJ": 1e-3, "pJ": 1.0, "nJ": 1e3, "uJ": 1e6}

#: Frequency units, as hertz.
FREQUENCY_UNITS_HZ: dict[str, float] = {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9}

#: Power units, as milliwatts.
POWER_UNITS_MW: dict[str, float] = {"uW": 1e-3, "mW": 1.0, "W": 1e3}


def bits_to_bytes(bits: float) -> float:
    """Bits to bytes (8 bits per byte)."""
    return bits / BITS_PER_BYTE


def bytes_to_bits(n_bytes: float) -> float:
    """Bytes to bits."""
    return n_bytes * BITS_PER_BYTE


def bits_to_kb(bits: float) -> float:
    """Bits to decimal kilobytes (1 KB = 1000 B)."""
    return bits / (BITS_PER_BYTE * 1000)


def bits_to_mb(bits: float) -> float:
    """Bits to decimal megabytes (1 MB = 10**6 B)."""
    return bits / (BITS_PER_BYTE * 1000**2)


def pj_to_j(energy_pj: float) -> float:
    """Picojoules to joules."""
    return energy_pj * 1e-12


def pj_to_uj(energy_pj: float) -> float:
    """Picojoules to microjoules."""
    return energy_pj * 1e-6


def cycles_to_s(cycles: float, clock_hz: float) -> float:
    """Clock cycles to seconds at ``clock_hz``."""
    return cycles / clock_hz


def format_bits(bits: float) -> str:
    """Human-readable decimal size of a bit count, e.g. ``'1.07 MB'``."""
    n_bytes = bits / BITS_PER_BYTE
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{n_bytes:.3g} B"


def format_energy_pj(energy_pj: float) -> str:
    """Human-readable energy, e.g. ``'172 uJ'``."""
    for unit, scale in (("J", 1e12), ("mJ", 1e9), ("uJ", 1e6), ("nJ", 1e3)):
        if abs(energy_pj) >= scale:
            return f"{energy_pj / scale:.3g} {unit}"
    return f"{energy_pj:.3g} pJ"


def format_seconds(seconds: float) -> str:
    """Human-readable duration, e.g. ``'41.6 µs'``, ``'169 ms'``."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_count(n: float) -> str:
    """A large count in short form, e.g. ``'714 M'``; below 100,000 with thousands separators."""
    for unit, scale in (("G", 1e9), ("M", 1e6)):
        if abs(n) >= scale:
            return f"{n / scale:.3g} {unit}"
    if abs(n) >= 100_000:
        return f"{n / 1e3:.3g} k"
    return f"{n:,.0f}"


def format_power_mw(power_mw: float) -> str:
    """Human-readable power, e.g. ``'3.2 mW'``, ``'450 µW'``."""
    for unit, scale in (("W", 1e3), ("mW", 1.0), ("µW", 1e-3)):
        if abs(power_mw) >= scale:
            return f"{power_mw / scale:.3g} {unit}"
    return f"{power_mw / 1e-6:.3g} nW"


#: Name suffix -> formatter: the unit is part of every quantity's name (``energy_pj``, ``latency_s``).
_SUFFIX_FORMATTERS = (
    ("_pj_s", lambda v: f"{v:.3g} pJ·s"),
    ("_pj", format_energy_pj),
    ("_bits", format_bits),
    ("_s", format_seconds),
    ("_mw", format_power_mw),
    ("_macs", format_count),
    ("_cycles", format_count),
)


def format_value(name: str, value: object) -> str:
    """``value`` of the quantity called ``name``, in human units chosen by the name's unit suffix.

    ``format_value("total_energy_pj", 2.062e6)`` -> ``'2.06 uJ'``; ``("latency_s", 0.169)`` ->
    ``'169 ms'``; other numbers get 4 significant digits (integers thousands separators), other
    values ``str``. The one place tables (CLI, sweep report) turn named quantities into text.
    """
    if value is None or type(value).__name__ in ("bool", "bool_"):  # numpy booleans too
        return str(value)
    if isinstance(value, (int, float)) or hasattr(value, "__float__"):
        number = float(value)  # numpy scalars too
        if number != number:
            return "nan"
        key = name.lower()
        if key in ("cycles", "stall_cycles", "total_macs"):
            return format_count(number)
        for suffix, formatter in _SUFFIX_FORMATTERS:
            if key.endswith(suffix):
                return formatter(number)
        if number == int(number) and abs(number) < 1e15:
            return f"{int(number):,}"
        return f"{number:.4g}"
    return str(value)
