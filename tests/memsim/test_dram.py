"""The DRAM device model: hand-computed cycles per command sequence, bandwidth and DRAMPower-style energy.

Hand device (tCK = 1): CL 10, CWL 8, tRCD 10, tRP 10, tRAS 24, tRC 34, tBURST 4, tWTR 6, tRTW 8, tWR 12,
tRFC 100, tREFI 1000, tRRD 2, tFAW 16; one channel, one rank, 4 banks, 1 KB rows, 64-bit bus, BL8 (64 B).
Address map: column | channel | bank | rank | row, so bank 0 row 1 starts at 4 banks x 1 KB = 4096.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator.memsim.dram import (
    DramController, DramCurrents, DramDevice, DramGeometry, DramRequest, DramTiming, round_robin,
    sequential_addresses, tile_walk_addresses,
)
from simulator.memsim.dram_presets import DDR4_3200_X64, DRAM_PRESETS, dram_preset

HAND = DramDevice(
    name="hand",
    geometry=DramGeometry(channels=1, ranks=1, banks=4, row_bytes=1024, bus_bits=64, devices_per_rank=1, burst_length=8),
    timing=DramTiming(tck_ns=1.0, cl=10, cwl=8, rcd=10, rp=10, ras=24, rc=34, burst=4, wtr=6, rtw=8, wr=12,
                      rfc=100, refi=1000, rrd=2, faw=16),
    currents=DramCurrents(vdd=1.0, idd0=50.0, idd2n=20.0, idd3n=30.0, idd4r=130.0, idd4w=110.0, idd5b=200.0),
    source="hand-built",
)
ROW1 = 4096  # bank 0, row 1


def _play(*reqs, device=HAND, refresh=True):
    return DramController(device, refresh=refresh, keep_log=True).play(list(reqs))


def test_row_hit_costs_cl_plus_burst():
    """Miss on a closed bank: ACT 0, RD 10, data 20..24. The hit at 100: RD 100, data 110..114 = CL + burst."""
    r = _play(DramRequest(0), DramRequest(64, arrival=100))
    assert r.done == (24.0, 114.0)
    assert r.done[1] - 100 == HAND.timing.cl + HAND.timing.burst
    assert (r.counts.row_hits, r.counts.row_misses, r.counts.activates) == (1, 1, 1)


def test_row_miss_costs_precharge_activate_cas_burst():
    """Row 1 of the open bank at 100: PRE 100, ACT 110, RD 120, data 130..134 = tRP + tRCD + CL + burst."""
    r = _play(DramRequest(0), DramRequest(ROW1, arrival=100))
    assert r.done[1] - 100 == 10 + 10 + 10 + 4
    assert [e[:2] for e in r.log] == [("ACT", 0), ("RD", 10), ("PRE", 100), ("ACT", 110), ("RD", 120)]
    assert r.counts.precharges == 1 and r.counts.activates == 2


def test_refresh_stalls_a_request():
    """A request at tREFI = 1000 with a row open: PRE-all 1000..1010, REF 1010..1110, ACT 1110, RD 1120,
    data 1130..1134: 134 = tRP + tRFC + tRCD + CL + burst later than without refresh (14, a row hit)."""
    r = _play(DramRequest(0), DramRequest(64, arrival=1000))
    assert r.done[1] == 1134.0
    assert r.counts.refreshes == 1
    assert ("REF", 1010, 0, -1) in r.log
    assert _play(DramRequest(0), DramRequest(64, arrival=1000), refresh=False).done[1] == 1014.0


def test_write_to_read_turnaround():
    """WR at 10 (after ACT 0 + tRCD), data 18..22; the read to the same row waits tWTR after the write
    data: RD 28, data 38..42."""
    r = _play(DramRequest(0, write=True), DramRequest(64))
    assert r.done == (22.0, 42.0)
    assert r.done[1] == 22 + HAND.timing.wtr + HAND.timing.cl + HAND.timing.burst


def test_read_to_write_turnaround():
    """RD at 10 (data 20..24); the write waits tRTW after the read command: WR 18, data 26..30."""
    r = _play(DramRequest(0), DramRequest(64, write=True))
    assert r.done == (24.0, 30.0)


def test_two_requestors_on_one_bank_round_robin():
    """A reads row 0 twice, B row 1 twice, same bank. Round robin A0 B0 A1 B1 turns every access into a
    row miss: A0 done 24; B0 PRE 24 (tRAS), ACT 34, RD 44, done 58; A1 PRE 58, ACT 68, RD 78, done 92;
    B1 PRE 92, ACT 102, RD 112, done 126. Alone in order (A0 A1 B0 B1) two are hits: done 62."""
    a = [DramRequest(0, requestor=0), DramRequest(64, requestor=0)]
    b = [DramRequest(ROW1, requestor=1), DramRequest(ROW1 + 64, requestor=1)]
    shared = _play(*round_robin([a, b]))
    assert shared.done == (24.0, 58.0, 92.0, 126.0)
    assert shared.counts.row_misses == 4
    alone = _play(*a, *b)
    assert alone.done == (24.0, 28.0, 58.0, 62.0)
    assert alone.counts.row_hits == 2


def test_tile_walk_hits_within_a_row_and_misses_across_rows():
    """A 4 x 256 B tile of a row-major matrix with 4 KB rows: each matrix row lands in another DRAM row
    of bank 0 (pitch 4 KB = 4 banks x 1 KB), so 4 runs -> 4 misses, 4 x 3 hits."""
    addrs = tile_walk_addresses(0, 4096, 4, 256, 64)
    assert addrs.tolist()[:5] == [0, 64, 128, 192, 4096]
    r = _play(*[DramRequest(int(a)) for a in addrs], refresh=False)
    assert (r.counts.row_misses, r.counts.row_hits) == (4, 12)


def test_ddr4_sequential_stream_reaches_90_percent_of_peak():
    """1 MB sequential reads (16,384 bursts of 64 B) with refresh: peak is one burst per tBURST = 4 tCK."""
    dev = DDR4_3200_X64
    bursts = 16384
    addrs = sequential_addresses(bursts * 64, 64)
    r = DramController(dev).play([DramRequest(int(a)) for a in addrs])
    efficiency = bursts * dev.timing.burst / r.counts.cycles
    assert efficiency >= 0.90
    assert r.counts.refreshes >= 5  # 65,536+ tCK / tREFI 12,480
    # The windowed stream (played window + average refresh) agrees with the full play within 1%.
    est = DramController(dev).stream(bursts * 64)
    assert est.cycles == pytest.approx(r.counts.cycles, rel=0.01)


def test_ddr4_random_reads_reach_the_bank_and_activate_limit():
    """64 B reads each to a new row, banks in rotation (i mod 16), no refresh. Every read needs an ACT,
    so one access per max(tRC / banks, tRRD, tFAW / 4, tBURST) = max(74 / 16, 4, 34 / 4, 4) = 8.5 tCK
    (the four-activate window binds on DDR4-3200 x8): 64 B / 8.5 tCK = 7.53 B/tCK = 12.0 GB/s of 51.2 peak."""
    dev = DDR4_3200_X64
    t, g = dev.timing, dev.geometry
    per_access = max(t.rc / g.banks, t.rrd, t.faw / 4, t.burst)
    assert per_access == 8.5
    n = 4096
    rows = np.random.default_rng(0).integers(1, 1 << 15, n)
    addrs = (rows * g.banks + np.arange(n) % g.banks) * g.row_bytes  # column 0 of row r, bank i mod 16
    r = DramController(dev, refresh=False).play([DramRequest(int(a)) for a in addrs])
    achieved = n / r.counts.cycles  # accesses per tCK
    assert 0.95 <= achieved * per_access <= 1.0 + 1e-9
    assert r.counts.row_misses == n


def test_ddr4_sequential_energy_per_bit_matches_drampower_by_hand():
    """DRAMPower equations with the preset's IDD/VDD (x8 devices, 8 per rank), 1 MB sequential read:
    E_ACT = 8 * 1.2 V * (IDD0 58 - IDD3N 52) mA * tRAS 52 * 0.625 ns = 1,872 pJ
    E_PRE = 8 * 1.2 * (58 - 37) * 22 * 0.625 = 2,772 pJ
    E_RD  = 8 * 1.2 * (168 - 52) * 4 * 0.625 = 2,784 pJ per 64 B burst
    E_REF = 8 * 1.2 * (250 - 52) * 560 * 0.625 = 665,280 pJ per refresh
    P_BG  = 8 * 1.2 * 52 = 499.2 mW
    128 rows (1 MB / 8 KB) -> 128 ACT + 128 PRE; 16,384 bursts; time 16,384 x 4 tCK / (1 - (22 + 560) / 12,480)
    = 68,741 tCK = 42,963 ns -> 5.5 refreshes, background 21.45 uJ... all per 8,388,608 bits."""
    bursts, rows = 16384, 128
    e_act = 8 * 1.2 * (58 - 52) * 52 * 0.625
    e_pre = 8 * 1.2 * (58 - 37) * 22 * 0.625
    e_rd = 8 * 1.2 * (168 - 52) * 4 * 0.625
    e_ref = 8 * 1.2 * (250 - 52) * 560 * 0.625
    p_bg_mw = 8 * 1.2 * 52
    t_ck = bursts * 4 / (1 - (22 + 560) / 12480)
    t_ns = t_ck * 0.625
    hand_pj = rows * (e_act + e_pre) + bursts * e_rd + (t_ck / 12480) * e_ref + p_bg_mw * t_ns
    hand_pj_per_bit = hand_pj / (bursts * 64 * 8)
    dev = DDR4_3200_X64
    addrs = sequential_addresses(bursts * 64, 64)
    counts = DramController(dev).play([DramRequest(int(a)) for a in addrs]).counts
    model_pj_per_bit = dev.energy_pj(counts) / (bursts * 64 * 8)
    assert model_pj_per_bit == pytest.approx(hand_pj_per_bit, rel=0.25)
    assert 3.0 < hand_pj_per_bit < 10.0  # ~6 pJ/bit, DDR4's published range


def test_random_access_costs_more_per_bit_by_the_activate_energy():
    dev = DDR4_3200_X64
    g = dev.geometry
    n = 4096
    seq = DramController(dev, refresh=False).play([DramRequest(int(a)) for a in sequential_addresses(n * 64, 64)]).counts
    rows = np.random.default_rng(1).integers(1, 1 << 15, n)
    rnd_addrs = (rows * g.banks + np.arange(n) % g.banks) * g.row_bytes
    rnd = DramController(dev, refresh=False).play([DramRequest(int(a)) for a in rnd_addrs]).counts
    e_seq, e_rnd = dev.energy_breakdown_pj(seq), dev.energy_breakdown_pj(rnd)
    assert sum(e_rnd.values()) > sum(e_seq.values())
    per_act = dev._per_command()["act"]
    assert e_rnd["activate"] - e_seq["activate"] == pytest.approx((rnd.activates - seq.activates) * per_act)
    assert e_rnd["read"] == pytest.approx(e_seq["read"])  # same bursts: the difference is activates + time


@pytest.mark.parametrize("name", sorted(DRAM_PRESETS))
def test_presets_are_consistent(name):
    dev = dram_preset(name)
    t = dev.timing
    assert t.rc >= t.ras + t.rp
    assert dev.source
    bits = 8 * 1024 * 1024
    counts = DramController(dev).stream(bits / 8)
    # 1 MB sequential: every channel busy for >= 85% of the time (HBM2: 1 KB rows, refresh 364 of 3,900 tCK).
    assert 0.85 < (bits / 8) / dev.geometry.burst_bytes * t.burst / dev.geometry.channels / counts.cycles <= 1.0
    assert dev.energy_pj(counts) / bits > 0


def test_unknown_preset_names_the_known_ones():
    with pytest.raises(KeyError, match="ddr4-3200-x64"):
        dram_preset("ddr5")


def test_fr_fcfs_serves_the_row_hit_first():
    """The round-robin queue A0 B0 A1 B1 (all arrived at 0) under FR-FCFS: A0 first (oldest; ACT 0, RD 10,
    done 24); at its RD (10) A1 hits the open row 0: RD 14, data 24..28; no pending request hits, so the
    oldest, B0: PRE 24 (tRAS), ACT 34, RD 44, done 58; B1 hits row 1: RD 48, data 58..62. Done times in
    queue order (A0, B0, A1, B1): 24, 58, 28, 62; the last data at 62 as if each requestor ran alone,
    against 126 for FCFS (every access a row miss)."""
    a = [DramRequest(0, requestor=0), DramRequest(64, requestor=0)]
    b = [DramRequest(ROW1, requestor=1), DramRequest(ROW1 + 64, requestor=1)]
    queue = round_robin([a, b])
    fr = DramController(HAND, keep_log=True, scheduler="fr-fcfs").play(queue)
    assert fr.done == (24.0, 58.0, 28.0, 62.0)
    assert (fr.counts.row_hits, fr.counts.row_misses) == (2, 2)
    assert [e[:2] for e in fr.log] == [("ACT", 0), ("RD", 10), ("RD", 14), ("PRE", 24), ("ACT", 34), ("RD", 44),
                                       ("RD", 48)]
    fcfs = DramController(HAND, scheduler="fcfs").play(queue)
    assert max(fcfs.done) == 126.0


def test_fr_fcfs_does_not_serve_a_request_before_it_arrives():
    """A0 (row 0) at 0 opens row 0: ACT 0, RD 10, done 24. A1 (a row-0 hit) arrives only at 100, so at
    A0's RD (10) the one arrived request is B0 (row 1): PRE 24 (tRAS), ACT 34, RD 44, done 58. A1 then
    misses (row 1 open): PRE 100, ACT 110, RD 120, done 134 — FR-FCFS never serves a request early."""
    reqs = [DramRequest(0), DramRequest(ROW1, requestor=1), DramRequest(64, arrival=100)]
    fr = DramController(HAND, scheduler="fr-fcfs").play(reqs)
    assert fr.done == (24.0, 58.0, 134.0)
    with pytest.raises(ValueError, match="scheduler must be one of"):
        DramController(HAND, scheduler="lifo")
