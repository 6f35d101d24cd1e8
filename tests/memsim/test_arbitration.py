"""Two requestors on one DRAM: the scheduler decides what interleaving costs (issue 15), by hand.

A tiny device keeps the arithmetic short: one channel, one bank, 256-byte rows of four 64-byte bursts;
tRCD 3, CL 2, tBURST 4, tRP 3, tRAS 8, tRC 11 (tCK 1 ns; refresh every 1,010 tCK for 10).
* One stream alone: per row ACT at a, reads at a+3, a+7, a+11, a+15; the precharge waits for the last read
  + tBURST (a+19), the next ACT for tRP: a+22. 22 tCK per 4 bursts = 5.5 tCK per burst.
* Two streams on the same bank (different rows), round robin: every burst closes the other's row; ACTs
  tRC = 11 apart (PRE at max(ACT + tRAS, RD + tBURST) = ACT + 8, ACT' = PRE + tRP = ACT + 11): 11 per burst.
* FR-FCFS serves the open row's hits first: a whole row of one, then of the other: 5.5 per burst, as alone.
"""

from __future__ import annotations

import pytest

from simulator.errors import ProfileError
from simulator.hardware import load_profile
from simulator.memsim import simulate_schedule
from simulator.memsim.arbiter import contention
from simulator.memsim.dram import (DramController, DramCurrents, DramDevice, DramGeometry, DramRequest, DramTiming,
                                   round_robin)
from tests.conftest import TOY_PROFILE
from tests.memsim.builders import level, make_profile
from tests.memsim.test_pipeline import _op, _schedule

TINY = DramDevice(
    "tiny", DramGeometry(channels=1, ranks=1, banks=1, row_bytes=256, bus_bits=64, devices_per_rank=1, burst_length=8),
    DramTiming(tck_ns=1.0, cl=2, cwl=1, rcd=3, rp=3, ras=8, rc=11, burst=4, wtr=1, rtw=1, wr=1, rfc=10, refi=1010,
               rrd=1, faw=4),
    DramCurrents(vdd=1.0, idd0=10.0, idd2n=5.0, idd3n=6.0, idd4r=20.0, idd4w=20.0, idd5b=30.0), "hand-built test device")
ROW = 1024 * 256  # requestor 1's region: same bank, another row


def _two_rows() -> list[list[DramRequest]]:
    return [[DramRequest(base + 64 * k, requestor=r) for k in range(4)] for r, base in enumerate((0, ROW))]


def test_controller_round_robin_vs_fr_fcfs_by_hand():
    """A: 4 bursts of row 0, B: 4 bursts of another row of the same bank, both queued at 0.
    Round robin A0 B0 A1 B1 ...: ACT k at 11 k, its read at 11 k + 3, data 11 k + 5 .. 11 k + 9: the
    last of 8 done at 77 + 9 = 86, 8 activates. FR-FCFS: A0..A3 (ACT 0, reads 3, 7, 11, 15), B's PRE at
    max(ACT + tRAS 8, last read 15 + tBURST 4) = 19, ACT 22, reads 25 .. 37, done 37 + 2 + 4 = 43; 2 activates."""
    rr = DramController(TINY, refresh=False, scheduler="round-robin", keep_log=True).play(
        [r for s in _two_rows() for r in s])  # given A's then B's: round robin interleaves them
    assert [e[1] for e in rr.log if e[0] == "ACT"] == [11.0 * k for k in range(8)]
    assert max(rr.done) == 86.0 and rr.counts.activates == 8 and rr.counts.row_hits == 0
    fr = DramController(TINY, refresh=False, scheduler="fr-fcfs", keep_log=True).play(round_robin(_two_rows()))
    assert [e[1] for e in fr.log if e[0] == "ACT"] == [0.0, 22.0]
    assert [e[1] for e in fr.log if e[0] == "RD"] == [3.0, 7.0, 11.0, 15.0, 25.0, 29.0, 33.0, 37.0]
    assert max(fr.done) == 43.0 and fr.counts.activates == 2 and fr.counts.row_hits == 6


def test_contention_rates_by_hand():
    rr, fr, fcfs = (contention(TINY, s) for s in ("round-robin", "fr-fcfs", "fcfs"))
    assert (rr.alone_tck_per_burst, rr.shared_tck_per_burst) == (5.5, 11.0)
    assert (rr.alone_acts_per_burst, rr.shared_acts_per_burst) == (0.25, 1.0)
    assert fr.shared_tck_per_burst == 5.5 and fr.extra_tck_per_burst == 0.0
    assert fcfs.extra_tck_per_burst == 0.0


PROFILE = make_profile([
    level("sram", "sram", 10**7, 10.0, bandwidth=512.0, latency=1.0),
    level("dram", "dram", 10**9, 100.0, bandwidth=32.0, latency=10.0),
], clock_hz=1e9)  # 1 core cycle = 1 tCK of TINY


@pytest.mark.parametrize(("scheduler", "per_burst"), [("fcfs", 5.5), ("fr-fcfs", 5.5), ("round-robin", 11.0)])
def test_two_cores_through_the_engine_by_hand(scheduler, per_burst):
    """Two cores each load 64 bursts (4 KB) of weights at cycle 0 and compute 1 cycle. Refresh stretches
    the port time by 1,010 / (1,010 - 3 - 10). Core 0 is served alone for 64 x 5.5; core 1 arrives while
    it is in service, so the controller interleaves all 64 of its bursts with core 0's: 128 bursts at the
    scheduler's rate, charged to core 1 (round robin: 128 x 11; FR-FCFS and whole-transfer FCFS: 128 x 5.5).
    The first access's latency (StreamTable.lead_tck) is 0 on this device (first data at 9 < 2 x 5.5)."""
    op = _op(0, {("dram", "weights", "read"): 64 * 512.0}, 1.0)
    stats = simulate_schedule(_schedule(op, buffer_bits=10**6), PROFILE, dram=TINY, cores=2, scheduler=scheduler)
    stretch = 1010 / 997
    loads = [(e.resource, e.start_cycle, e.end_cycle) for e in stats.timeline if e.what == "load weights"]
    assert loads == [("dram", 0.0, pytest.approx(64 * 5.5 * stretch)),
                     ("dram", pytest.approx(64 * 5.5 * stretch), pytest.approx(128 * per_burst * stretch))]
    assert stats.cycles == pytest.approx(128 * per_burst * stretch + 1.0)
    assert stats.dram_scheduler == scheduler
    assert stats.stall_cycles_by_cause["other_core"] == pytest.approx(128 * (per_burst - 5.5) * stretch + 64 * 5.5 * stretch)
    # Round robin: every one of the 128 interleaved bursts a row miss (the alone stream: 1 in 4).
    acts = 128 * (1.0 if scheduler == "round-robin" else 0.25)
    assert stats.dram_row_hit_rate == pytest.approx(1 - acts / 128)
    lower, upper = stats.bracket
    assert lower <= stats.cycles <= upper


def test_one_core_pays_no_interleaving():
    op = _op(0, {("dram", "weights", "read"): 64 * 512.0}, 1.0)
    one = [simulate_schedule(_schedule(op, buffer_bits=10**6), PROFILE, dram=TINY, scheduler=s).cycles
           for s in ("fcfs", "round-robin", "fr-fcfs")]
    assert one[0] == one[1] == one[2] == pytest.approx(64 * 5.5 * 1010 / 997 + 1.0)
    with pytest.raises(ValueError, match="DRAM scheduler must be one of"):
        simulate_schedule(_schedule(op), PROFILE, dram=TINY, scheduler="fifo")


# --- profile keys ---------------------------------------------------------------------------------------


def _load(tmp_path, text):
    path = tmp_path / "p.toml"
    path.write_text(text)
    return load_profile(path)


def test_profile_declares_scheduler_and_a_shared_sram(tmp_path):
    text = TOY_PROFILE.replace('[memory.dram]\nkind = "dram"', '[memory.dram]\nkind = "dram"\nscheduler = "fr-fcfs"')
    text = text.replace('[memory.sram]\nkind = "sram"', '[memory.sram]\nkind = "sram"\nshared = true')
    assert text != TOY_PROFILE
    p = _load(tmp_path, text)
    assert p.dram.scheduler == "fr-fcfs" and p.shared_levels == ("sram",)
    assert _load(tmp_path, TOY_PROFILE).dram.scheduler == "fcfs" and _load(tmp_path, TOY_PROFILE).shared_levels == ()


@pytest.mark.parametrize(("old", "new", "key", "expected"), [
    ('[memory.dram]\nkind = "dram"', '[memory.dram]\nkind = "dram"\nscheduler = "frfcfs"', "memory.dram.scheduler",
     "one of ['fcfs', 'round-robin', 'fr-fcfs']"),
    ('[memory.sram]\nkind = "sram"', '[memory.sram]\nkind = "sram"\nscheduler = "fr-fcfs"', "memory.sram.scheduler",
     "a scheduler only on the level of kind 'dram'"),
    ('[memory.sram]\nkind = "sram"', '[memory.sram]\nkind = "sram"\nshared = "yes"', "memory.sram.shared", "true or false"),
    ('[memory.dram]\nkind = "dram"', '[memory.dram]\nkind = "dram"\nshared = false', "memory.dram.shared",
     "every core shares the dram level"),
])
def test_bad_sharing_keys_are_named(tmp_path, old, new, key, expected):
    assert old in TOY_PROFILE
    with pytest.raises(ProfileError) as info:
        _load(tmp_path, TOY_PROFILE.replace(old, new))
    assert info.value.key == key and expected in str(info.value) and str(tmp_path) in str(info.value)


def test_shipped_two_core_profile_uses_the_keys():
    p = load_profile("horowitz45-2core-lpddr4")
    assert p.compute.cores == 2 and p.dram.device == "lpddr4-3200"
    assert p.dram.scheduler == "fr-fcfs" and p.shared_levels == ()
