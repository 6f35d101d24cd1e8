"""DRAM device presets as data, every number with its source: ``DRAM_PRESETS[name] -> DramDevice``.

NB (provenance): the timing values are the JEDEC speed-bin values (ns converted to tCK, rounded up).
The IDD currents were transcribed for this module without the datasheet PDF at hand (no network on the
build machine); they are typical values of the cited parts' IDD tables and must be checked against the
PDF before being quoted as datasheet numbers. HBM2 parts publish no IDD table: its per-command energies
are derived from O'Connor et al. (MICRO 2017) and declared as such.
"""

from __future__ import annotations

from simulator.memsim.dram import DramCurrents, DramDevice, DramGeometry, DramTiming

__all__ = ["DRAM_PRESETS", "FLAT", "dram_preset", "resolve_dram"]


def _tck(ns: float, tck_ns: float) -> int:
    """ns -> whole clock cycles, rounded up as JEDEC does (with a 1e-9 guard for exact multiples)."""
    from math import ceil

    return int(ceil(ns / tck_ns - 1e-9))


_DDR4_TCK = 0.625  # DDR4-3200: 1600 MHz clock
DDR4_3200_X64 = DramDevice(
    name="ddr4-3200-x64",
    geometry=DramGeometry(channels=1, ranks=1, banks=16, row_bytes=8 * 1024, bus_bits=64, devices_per_rank=8,
                          burst_length=8),
    timing=DramTiming(
        tck_ns=_DDR4_TCK, cl=22, cwl=16, rcd=22, rp=22,
        ras=_tck(32.0, _DDR4_TCK),          # 52
        rc=_tck(32.0, _DDR4_TCK) + 22,      # 74 = tRAS + tRP
        burst=4,                            # BL8 on a DDR bus
        wtr=_tck(7.5, _DDR4_TCK),           # tWTR_L 12
        rtw=22 + 4 + 2 - 16,                # CL + BL/2 + 2 - CWL = 12
        wr=_tck(15.0, _DDR4_TCK),           # 24
        rfc=_tck(350.0, _DDR4_TCK),         # tRFC1, 8 Gb: 560
        refi=_tck(7800.0, _DDR4_TCK),       # 12480
        rrd=4,                              # tRRD_S max(4 nCK, 2.5 ns)
        faw=_tck(21.0, _DDR4_TCK),          # x8, 1 KB page: 34
    ),
    currents=DramCurrents(vdd=1.2, idd0=58.0, idd2n=37.0, idd3n=52.0, idd4r=168.0, idd4w=150.0, idd5b=250.0),
    source=("JEDEC JESD79-4B DDR4-3200AA (22-22-22) speed bin and timing table; one x64 rank of eight "
            "Micron MT40A1G8 (8 Gb x8, 1 KB page, 16 banks in 4 groups) — IDD table, -062E column, VDD 1.2 V "
            "(VPP currents not modelled). UNCONFIRMED: the IDD values (IDD0 58, IDD2N 37, IDD3N 52, IDD4R 168, "
            "IDD4W 150, IDD5B 250 mA) were written from memory, not read off the Micron PDF; the timing values are "
            "the JEDEC speed bin's. Bank groups are not modelled: tCCD_S/tRRD_S apply to every pair."),
)

_LP4_TCK = 0.625  # LPDDR4-3200: 1600 MHz clock
LPDDR4_3200 = DramDevice(
    name="lpddr4-3200",
    geometry=DramGeometry(channels=4, ranks=1, banks=8, row_bytes=2 * 1024, bus_bits=16, devices_per_rank=1,
                          burst_length=16),
    timing=DramTiming(
        tck_ns=_LP4_TCK, cl=28, cwl=14,
        rcd=_tck(18.0, _LP4_TCK), rp=_tck(18.0, _LP4_TCK),   # 29, 29
        ras=_tck(42.0, _LP4_TCK), rc=_tck(42.0, _LP4_TCK) + _tck(18.0, _LP4_TCK),  # 68, 97
        burst=8,                            # BL16 on a DDR bus
        wtr=_tck(10.0, _LP4_TCK),           # 16
        rtw=28 + 8 + 1 - 14,                # RL + BL/2 + tDQSCK(max)/tCK(~1) - WL = 23
        wr=_tck(18.0, _LP4_TCK),            # 29
        rfc=_tck(280.0, _LP4_TCK),          # tRFCab, 8 Gb per channel: 448
        refi=_tck(3904.0, _LP4_TCK),        # 6247
        rrd=_tck(10.0, _LP4_TCK),           # 16
        faw=_tck(40.0, _LP4_TCK),           # 64
    ),
    currents=DramCurrents(vdd=1.1, idd0=60.0, idd2n=23.0, idd3n=32.0, idd4r=255.0, idd4w=230.0, idd5b=135.0),
    source=("JEDEC JESD209-4B LPDDR4-3200 (RL 28 / WL 14, tRCD/tRPpb 18 ns, tRAS 42 ns, tRFCab 280 ns, "
            "tREFI 3.904 us); four x16 channels = 64-bit, 25.6 GB/s as in the shipped profiles; VDD2 "
            "currents of a Micron MT53E (8 Gb per channel) IDD table (VDD1/VDDQ not modelled). UNCONFIRMED: the "
            "VDD2 IDD values (IDD02 60, IDD2N2 23, IDD3N2 32, IDD4R2 255, IDD4W2 230, IDD52 135 mA) were written "
            "from memory, not read off the Micron PDF; the timing values are JESD209-4's."),
)

_HBM_TCK = 1.0  # HBM2 at 2 Gb/s per pin: 1 GHz clock
_HBM_ROW = 1024
# O'Connor et al., "Fine-Grained DRAM", MICRO 2017, Fig. 2: HBM2 ~3.9 pJ/bit moved, of which ~1.2 pJ/bit row
# activation at the streaming row-hit rate, the rest data movement (column + I/O). Declared split:
_HBM_RD_PJ_PER_BIT = 2.7
_HBM_ACT_PJ = 909.0  # per 1 KB row activate+precharge (O'Connor et al. 2017, Table 1, HBM2 row energy)
HBM2 = DramDevice(
    name="hbm2",
    geometry=DramGeometry(channels=8, ranks=1, banks=16, row_bytes=_HBM_ROW, bus_bits=128, devices_per_rank=1,
                          burst_length=4),
    timing=DramTiming(tck_ns=_HBM_TCK, cl=14, cwl=4, rcd=14, rp=14, ras=34, rc=48, burst=2, wtr=8, rtw=6, wr=16,
                      rfc=350, refi=3900, rrd=4, faw=16),
    currents=None,
    source=("JEDEC JESD235A HBM2 stack: 8 x 128-bit channels at 2 Gb/s per pin (256 GB/s), BL4, 16 banks, "
            "1 KB rows; timing of a 2 Gb/s part (CL/tRCD/tRP 14, tRAS 34, tRFC 350 ns, tREFI 3.9 us); energies "
            "per command from O'Connor et al., MICRO 2017 (HBM2 3.9 pJ/bit), no IDD table being published."),
    command_energy_pj=(("act", _HBM_ACT_PJ / 2), ("pre", _HBM_ACT_PJ / 2),
                       ("rd", _HBM_RD_PJ_PER_BIT * 512), ("wr", _HBM_RD_PJ_PER_BIT * 512),
                       ("ref", 16 * _HBM_ACT_PJ), ("bg_mw", 0.0)),
)

#: Presets by name.
DRAM_PRESETS: dict[str, DramDevice] = {d.name: d for d in (DDR4_3200_X64, LPDDR4_3200, HBM2)}


def dram_preset(name: str) -> DramDevice:
    """The preset called ``name``; raises ``KeyError`` naming the known presets."""
    try:
        return DRAM_PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown DRAM preset {name!r}; known: {sorted(DRAM_PRESETS)}") from None


#: The declared flat DRAM model: the profile's DRAM level priced per bit (horowitz45: 640 pJ per 32-bit
#: word, Han et al. 2015 Fig. 1) with its flat bandwidth and latency.
FLAT = "flat"


def resolve_dram(spec: str | DramDevice | None, profile_dram_device: str = FLAT,
                 where: str = "dram") -> DramDevice | None:
    """The device behind the DRAM level: ``spec`` (a preset name, a ``DramDevice`` or ``"flat"``), else
    the profile's ``[memory.<dram>] device``; None for the flat model.

    Raises:
        ValueError: an unknown preset name (names ``where`` it came from and the known presets).
    """
    chosen = profile_dram_device if spec is None else spec
    if isinstance(chosen, DramDevice):
        return chosen
    if chosen == FLAT:
        return None
    if chosen not in DRAM_PRESETS:
        raise ValueError(f"{where}: unknown DRAM device {chosen!r}; expected {FLAT!r} or one of {sorted(DRAM_PRESETS)}")
    return DRAM_PRESETS[chosen]
