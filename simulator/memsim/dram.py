"""A DRAM device model: channels, ranks, banks, open-page row buffers, JEDEC timing, refresh, command energy.

Pure python/numpy (no simpy): ``DramController.play(requests)`` times a list of 64-byte-class requests
(one burst each) command by command and counts the commands; ``DramDevice.energy_pj(counts)`` prices
them in the manner of DRAMPower (Chandrasekar et al., DATE 2012 / the DRAMPower tool) from datasheet
IDD currents:

    E_ACT  = VDD * (IDD0 - IDD3N) * tRAS          per activate
    E_PRE  = VDD * (IDD0 - IDD2N) * tRP           per precharge
    E_RD   = VDD * (IDD4R - IDD3N) * tBURST       per read burst
    E_WR   = VDD * (IDD4W - IDD3N) * tBURST       per write burst
    E_REF  = VDD * (IDD5B - IDD3N) * tRFC         per all-bank refresh
    E_BG   = VDD * IDD3N * t                      background (open-page: a row stays open; active standby)

each per device, times the devices of a rank (x8 chips on a x64 bus: 8). Times are in tCK of the device.

Address mapping (low bits to high): column (within a row) | channel | bank | rank | row, so a sequential
stream fills a row, then moves to the next channel/bank (bank-level parallelism), and a tile walk
(``tile_walk_addresses``) produces row hits inside a run and misses when it strides to another row.

Scheduling (``DramController(scheduler=...)``, ``SCHEDULERS``): ``"fcfs"`` serves requests in the given
order; ``"round-robin"`` takes one request of each requestor in turn (``DramRequest.requestor``, each
requestor's in the given order: ``round_robin``); ``"fr-fcfs"`` (first ready, first
come first served; Rixner et al., ISCA 2000) serves, among the requests that have arrived by the time
the controller issued its last column command, the oldest that hits an open row, else the oldest. A request's ACT may be issued as early as the bank and the rank's tRRD/tFAW allow
(the controller sees its queue), its column command then waits for tRCD, the bus, and the read/write
turnarounds (tWTR: write data end -> read command; tRTW: read command -> write command).
Refresh: every tREFI the channel precharges all banks (tRP if a row is open) and refreshes (tRFC).
A precharge waits for the row's last read command plus tBURST (tRTP taken as tBURST) and, after a write,
for its data plus tWR. Not modelled: bank groups (tCCD_L/tRRD_L), the command bus (one command per tCK), power-down,
VPP/VDDQ currents.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulator.hardware.profile import DRAM_SCHEDULERS

__all__ = [
    "DramCounts",
    "DramCurrents",
    "DramDevice",
    "DramGeometry",
    "DramRequest",
    "DramResult",
    "DramTiming",
    "DramController",
    "FlatDram",
    "SCHEDULERS",
    "StreamTable",
    "round_robin",
    "stream_table",
    "sequential_addresses",
    "tile_walk_addresses",
]


@dataclass(frozen=True, slots=True)
class DramTiming:
    """JEDEC timing parameters in device clock cycles (tCK), ``tck_ns`` the clock period."""

    tck_ns: float
    cl: int
    cwl: int
    rcd: int
    rp: int
    ras: int
    rc: int
    burst: int
    wtr: int
    rtw: int
    wr: int
    rfc: int
    refi: int
    rrd: int
    faw: int

    def __post_init__(self) -> None:
        if self.rc < self.ras + self.rp:
            raise ValueError(f"tRC ({self.rc}) must be at least tRAS + tRP ({self.ras} + {self.rp})")
        for name in ("cl", "rcd", "rp", "ras", "burst", "rfc", "refi"):
            if getattr(self, name) <= 0:
                raise ValueError(f"DRAM timing {name} must be > 0, got {getattr(self, name)}")


@dataclass(frozen=True, slots=True)
class DramCurrents:
    """Datasheet currents of one device (mA) at supply ``vdd`` (V)."""

    vdd: float
    idd0: float
    idd2n: float
    idd3n: float
    idd4r: float
    idd4w: float
    idd5b: float


@dataclass(frozen=True, slots=True)
class DramGeometry:
    """Organisation: ``bus_bits`` data bits per channel, ``row_bytes`` the row buffer of one rank
    (all its devices together), ``devices_per_rank`` chips that share the rank's commands."""

    channels: int
    ranks: int
    banks: int
    row_bytes: int
    bus_bits: int
    devices_per_rank: int
    burst_length: int

    @property
    def burst_bytes(self) -> int:
        """Bytes one burst moves on one channel (bus width x burst length)."""
        return self.bus_bits * self.burst_length // 8


@dataclass(frozen=True, slots=True)
class DramCounts:
    """Commands a played request stream issued, and how long it took (tCK). Whole numbers from the
    controller; fractional for pipelined pieces of a stream (``StreamTable.pipelined``)."""

    activates: float = 0
    precharges: float = 0
    reads: float = 0
    writes: float = 0
    refreshes: float = 0
    row_hits: float = 0
    row_misses: float = 0
    cycles: float = 0.0

    @property
    def row_hit_rate(self) -> float:
        n = self.row_hits + self.row_misses
        return self.row_hits / n if n else 0.0

    def __add__(self, other: DramCounts) -> DramCounts:
        """The commands of two played streams together."""
        return DramCounts(*(getattr(self, f) + getattr(other, f) for f in
                            ("activates", "precharges", "reads", "writes", "refreshes", "row_hits", "row_misses",
                             "cycles")))

    def scaled(self, factor: float) -> DramCounts:
        """The counts of ``factor`` repetitions of this stream (window extrapolation)."""
        return DramCounts(*(round(getattr(self, f) * factor) for f in
                            ("activates", "precharges", "reads", "writes", "refreshes", "row_hits", "row_misses")),
                          cycles=self.cycles * factor)


@dataclass(frozen=True, slots=True)
class DramDevice:
    """A DRAM preset: geometry, timing, currents, the citation of its numbers.

    ``command_energy_pj`` overrides the IDD-derived per-command energies (for parts whose datasheet
    publishes no IDD table, e.g. HBM2); keys ``act``, ``pre``, ``rd``, ``wr``, ``ref``, ``bg_mw``.
    """

    name: str
    geometry: DramGeometry
    timing: DramTiming
    currents: DramCurrents | None
    source: str
    command_energy_pj: tuple[tuple[str, float], ...] = ()

    @property
    def peak_bytes_per_ns(self) -> float:
        """Peak bandwidth: every channel moving a burst every tBURST (GB/s)."""
        g, t = self.geometry, self.timing
        return g.channels * g.burst_bytes / (t.burst * t.tck_ns)

    def _per_command(self) -> dict[str, float]:
        if self.command_energy_pj:
            return dict(self.command_energy_pj)
        c, t, n = self.currents, self.timing, self.geometry.devices_per_rank
        assert c is not None, f"DRAM preset {self.name!r} has neither IDD currents nor command energies"
        # mA x V x ns = pJ
        tck = t.tck_ns
        return {
            "act": n * c.vdd * (c.idd0 - c.idd3n) * t.ras * tck,
            "pre": n * c.vdd * (c.idd0 - c.idd2n) * t.rp * tck,
            "rd": n * c.vdd * (c.idd4r - c.idd3n) * t.burst * tck,
            "wr": n * c.vdd * (c.idd4w - c.idd3n) * t.burst * tck,
            "ref": n * c.vdd * (c.idd5b - c.idd3n) * t.rfc * tck,
            "bg_mw": n * c.vdd * c.idd3n,  # mA x V = mW per rank
        }

    def energy_breakdown_pj(self, counts: DramCounts) -> dict[str, float]:
        """Energy per command class (DRAMPower-style) of a played stream; background over its time on every rank."""
        e = self._per_command()
        ranks = self.geometry.channels * self.geometry.ranks
        return {
            "activate": counts.activates * e["act"],
            "precharge": counts.precharges * e["pre"],
            "read": counts.reads * e["rd"],
            "write": counts.writes * e["wr"],
            "refresh": counts.refreshes * e["ref"],
            "background": e["bg_mw"] * ranks * counts.cycles * self.timing.tck_ns,  # mW x ns = pJ
        }

    def energy_pj(self, counts: DramCounts) -> float:
        return float(sum(self.energy_breakdown_pj(counts).values()))


@dataclass(frozen=True, slots=True)
class FlatDram:
    """The declared flat model: a fixed energy per bit and the level's bandwidth (horowitz45's 640 pJ / 32 bits)."""

    name: str
    read_energy_per_bit_pj: float
    write_energy_per_bit_pj: float
    source: str = "flat energy per bit of the profile's DRAM level"


@dataclass(frozen=True, slots=True)
class DramRequest:
    """One burst-sized access at byte ``address``, issued no earlier than ``arrival`` (tCK)."""

    address: int
    write: bool = False
    arrival: float = 0.0
    requestor: int = 0


@dataclass(frozen=True, slots=True)
class DramResult:
    """Per-request completion times (tCK, end of the data burst) and the command counts."""

    done: tuple[float, ...]
    counts: DramCounts
    log: tuple[tuple[str, float, int, int], ...] = field(default=())
    activates_upto: tuple[int, ...] = ()


def sequential_addresses(nbytes: int, burst_bytes: int, base: int = 0) -> np.ndarray:
    """Burst addresses of a contiguous ``nbytes`` region."""
    return base + np.arange(0, max(nbytes, 0), burst_bytes, dtype=np.int64)


def tile_walk_addresses(base: int, row_pitch_bytes: int, tile_rows: int, tile_row_bytes: int,
                        burst_bytes: int) -> np.ndarray:
    """Burst addresses of one 2-D tile of a row-major matrix: ``tile_rows`` runs of ``tile_row_bytes``
    each, ``row_pitch_bytes`` apart (the matrix row length), starting at ``base``."""
    runs = base + np.arange(tile_rows, dtype=np.int64)[:, None] * row_pitch_bytes
    cols = np.arange(0, tile_row_bytes, burst_bytes, dtype=np.int64)[None, :]
    return (runs + cols).ravel()


def round_robin(streams: list[list]) -> list:
    """Interleave per-requestor queues one request at a time (round-robin arbitration)."""
    out: list = []
    longest = max((len(s) for s in streams), default=0)
    for i in range(longest):
        for s in streams:
            if i < len(s):
                out.append(s[i])
    return out


#: Request schedulers of the controller (see the module docstring); the profile key
#: ``[memory.<dram>] scheduler`` names one (``simulator.hardware.profile.DRAM_SCHEDULERS``, the same tuple).
SCHEDULERS = DRAM_SCHEDULERS


class DramController:
    """Times request streams on one ``DramDevice`` (open-page policy; ``scheduler`` in ``SCHEDULERS``)."""

    def __init__(self, device: DramDevice, refresh: bool = True, keep_log: bool = False,
                 scheduler: str = "fcfs") -> None:
        if scheduler not in SCHEDULERS:
            raise ValueError(f"DRAM scheduler must be one of {SCHEDULERS}, got {scheduler!r}")
        self.device = device
        self.refresh = refresh
        self.keep_log = keep_log
        self.scheduler = scheduler

    def _order(self, requests: list[DramRequest], bank_ix: np.ndarray, row_ix: np.ndarray, open_row: list[int]):
        """Indices of ``requests`` in service order; reads the controller's state (``open_row``, and the
        cycle of the last column command sent back through ``send``) as it plays (FR-FCFS)."""
        if self.scheduler in ("fcfs", "round-robin"):
            order = range(len(requests))
            if self.scheduler == "round-robin":
                queues: dict[int, list[int]] = {}
                for k, r in enumerate(requests):
                    queues.setdefault(r.requestor, []).append(k)
                order = [k for k in round_robin([queues[q] for q in sorted(queues)])]
            for k in order:
                yield k
            return
        pending = list(range(len(requests)))
        now = 0.0
        while pending:
            arrived = [k for k in pending if requests[k].arrival <= now]
            if not arrived:
                first = min(pending, key=lambda k: requests[k].arrival)
                arrived = [first]
            pick = next((k for k in arrived if open_row[int(bank_ix[k])] == int(row_ix[k])), arrived[0])
            pending.remove(pick)
            issued = yield pick
            now = max(now, issued if issued is not None else now)

    def decode(self, addresses: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(channel, global bank index, row) of each address (vectorised)."""
        g = self.device.geometry
        a = np.asarray(addresses, dtype=np.int64) // g.row_bytes
        channel = a % g.channels
        a = a // g.channels
        bank = a % g.banks
        a = a // g.banks
        rank = a % g.ranks
        row = a // g.ranks
        return channel, (channel * g.ranks + rank) * g.banks + bank, row

    def play(self, requests: list[DramRequest]) -> DramResult:
        """Serve ``requests`` in the given order; returns completion times and command counts."""
        g, t = self.device.geometry, self.device.timing
        n_banks = g.channels * g.ranks * g.banks
        channel, bank_ix, row_ix = self.decode(np.array([r.address for r in requests], dtype=np.int64))
        open_row = [-1] * n_banks
        last_act = [-1e18] * n_banks          # time of the bank's last ACT
        col_ok = [0.0] * n_banks              # earliest column command (after tRCD)
        pre_ok = [0.0] * n_banks              # earliest precharge (tRAS, read to precharge, write recovery tWR)
        act_ok = [0.0] * n_banks              # earliest ACT (after tRP)
        rank_acts: list[list[float]] = [[] for _ in range(g.channels * g.ranks)]
        bus_free = [0.0] * g.channels
        last_wr_end = [-1e18] * g.channels
        last_rd_cmd = [-1e18] * g.channels
        next_ref = [float(t.refi)] * g.channels
        c = dict(activates=0, precharges=0, reads=0, writes=0, refreshes=0, row_hits=0, row_misses=0)
        done: list[float] = [0.0] * len(requests)
        acts_upto: list[int] = [0] * len(requests)
        log: list[tuple[str, float, int, int]] = []
        end = 0.0
        order = self._order(requests, bank_ix, row_ix, open_row)
        i = next(order, None)
        while i is not None:
            req = requests[i]
            ch, b, row = int(channel[i]), int(bank_ix[i]), int(row_ix[i])
            rank = b // g.banks
            start = max(req.arrival, 0.0)
            if self.refresh:
                # Refreshes due before this request can start (the bus time is the controller's now).
                while max(start, bus_free[ch]) >= next_ref[ch]:
                    lo, hi = ch * g.ranks * g.banks, (ch + 1) * g.ranks * g.banks
                    ref_at = max(next_ref[ch], max(pre_ok[lo:hi]), bus_free[ch])
                    if any(open_row[k] >= 0 for k in range(lo, hi)):
                        c["precharges"] += sum(open_row[k] >= 0 for k in range(lo, hi))
                        ref_at += t.rp
                    ref_end = ref_at + t.rfc
                    for k in range(lo, hi):
                        open_row[k] = -1
                        act_ok[k] = max(act_ok[k], ref_end)
                    c["refreshes"] += 1
                    if self.keep_log:
                        log.append(("REF", ref_at, ch, -1))
                    next_ref[ch] += t.refi
            if open_row[b] == row:
                c["row_hits"] += 1
                cmd = max(start, col_ok[b])
            else:
                c["row_misses"] += 1
                act = max(start, act_ok[b], last_act[b] + t.rc)
                if open_row[b] >= 0:
                    pre = max(start, pre_ok[b])
                    c["precharges"] += 1
                    if self.keep_log:
                        log.append(("PRE", pre, ch, b))
                    act = max(act, pre + t.rp)
                acts = rank_acts[rank]
                if acts:
                    act = max(act, acts[-1] + t.rrd)
                if len(acts) >= 4:
                    act = max(act, acts[-4] + t.faw)
                acts.append(act)
                del acts[:-4]
                c["activates"] += 1
                if self.keep_log:
                    log.append(("ACT", act, ch, b))
                last_act[b] = act
                open_row[b] = row
                pre_ok[b] = act + t.ras
                cmd = act + t.rcd
            if req.write:
                cmd = max(cmd, last_rd_cmd[ch] + t.rtw, bus_free[ch] - t.cwl)
                data = cmd + t.cwl
                last_wr_end[ch] = data + t.burst
                pre_ok[b] = max(pre_ok[b], data + t.burst + t.wr)
                c["writes"] += 1
            else:
                cmd = max(cmd, last_wr_end[ch] + t.wtr, bus_free[ch] - t.cl)
                data = cmd + t.cl
                last_rd_cmd[ch] = cmd
                pre_ok[b] = max(pre_ok[b], cmd + t.burst)  # read to precharge: tRTP, taken as tBURST
                c["reads"] += 1
            if self.keep_log:
                log.append(("WR" if req.write else "RD", cmd, ch, b))
            col_ok[b] = cmd + t.burst  # tCCD = tBURST
            bus_free[ch] = data + t.burst
            done[i] = data + t.burst
            acts_upto[i] = c["activates"]
            end = max(end, data + t.burst)
            try:
                i = order.send(cmd)  # the generator picks the next request knowing the last command's cycle
            except StopIteration:
                i = None
        return DramResult(tuple(done), DramCounts(**c, cycles=end), tuple(log), tuple(acts_upto))

    def stream(self, nbytes: float, write: bool = False) -> DramCounts:
        """Counts and time of moving ``nbytes`` sequentially from a precharged device (see ``StreamTable``)."""
        return stream_table(self.device, write, self.refresh).counts(nbytes)


class StreamTable:
    """Sequential-stream timing of one device, played once: ``counts(nbytes)`` for any size in O(1).

    The first ``window_bursts`` bursts of a sequential stream from precharged banks are played without
    refresh; a stream of n bursts takes ``done[n-1]`` tCK (n <= window) or the window's time scaled
    linearly (n > window: steady state). Refresh is added at its average rate, one tRP + tRFC per tREFI
    on every channel. This is what a DMA transfer of a tile costs on the device.
    """

    def __init__(self, device: DramDevice, write: bool, refresh: bool = True, window_bursts: int = 2048) -> None:
        g = device.geometry
        self.device, self.write, self.refresh = device, write, refresh
        addrs = sequential_addresses(window_bursts * g.burst_bytes, g.burst_bytes)
        played = DramController(device, refresh=False).play([DramRequest(int(a), write) for a in addrs])
        self.done = np.asarray(played.done)
        self.acts = np.asarray(played.activates_upto)
        self.window = window_bursts
        # Pipelined view (what a controller with many outstanding requests sustains): the second half of
        # the window gives the steady cycles and activates per burst; the lead is the first access's
        # latency the steady rate does not account for (lead + n x steady = done[n-1] at n = window).
        half = window_bursts // 2
        self.steady_tck_per_burst = float(self.done[-1] - self.done[half - 1]) / (window_bursts - half)
        self.acts_per_burst = float(self.acts[-1]) / window_bursts
        self.lead_tck = max(0.0, float(self.done[-1]) - window_bursts * self.steady_tck_per_burst)

    def counts(self, nbytes: float) -> DramCounts:
        g, t = self.device.geometry, self.device.timing
        if nbytes <= 0:
            return DramCounts()
        n = max(1.0, float(nbytes) / g.burst_bytes)
        if n <= self.window:
            k = int(np.ceil(n)) - 1
            cycles, acts = float(self.done[k]) * n / (k + 1), float(self.acts[k])
        else:
            cycles, acts = float(self.done[-1]) * n / self.window, float(self.acts[-1]) * n / self.window
        reads, writes = (0, round(n)) if self.write else (round(n), 0)
        refreshes = 0
        if self.refresh:
            busy = t.refi - t.rp - t.rfc
            refreshes = round(cycles / busy * g.channels)
            cycles *= t.refi / busy
        acts_i = round(acts)
        return DramCounts(acts_i, acts_i + refreshes, reads, writes, refreshes, round(n) - acts_i, acts_i, cycles)


    def pipelined(self, nbytes: float) -> DramCounts:
        """Commands and port time of ``nbytes`` of a stream that continues the previous requests (pipelined
        with them: no first-access latency, which ``lead_tck`` gives separately). Linear in ``nbytes``
        (fractional counts), so a stream cut in steps costs what it costs whole."""
        g, t = self.device.geometry, self.device.timing
        if nbytes <= 0:
            return DramCounts()
        n = float(nbytes) / g.burst_bytes
        cycles, acts = n * self.steady_tck_per_burst, n * self.acts_per_burst
        refreshes = 0.0
        if self.refresh:
            busy = t.refi - t.rp - t.rfc
            refreshes = cycles / busy * g.channels
            cycles *= t.refi / busy
        return DramCounts(acts, acts + refreshes, 0.0 if self.write else n, n if self.write else 0.0, refreshes,
                          n - acts, acts, cycles)


_TABLES: dict[tuple[DramDevice, bool, bool], StreamTable] = {}


def stream_table(device: DramDevice, write: bool, refresh: bool = True) -> StreamTable:
    """The (memoised) ``StreamTable`` of a device and direction."""
    key = (device, write, refresh)
    if key not in _TABLES:
        _TABLES[key] = StreamTable(device, write, refresh)
    return _TABLES[key]
