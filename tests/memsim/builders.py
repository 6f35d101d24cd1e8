"""Hand-built workloads and profiles for the mapping / memsim / energy tests (no torch)."""

from __future__ import annotations

from simulator.frozen import FrozenMap
from simulator.hardware.profile import ComputeUnit, HardwareProfile, MemoryLevel
from simulator.ops import GemmDims
from simulator.workload import FLOAT32, ArithCount, Op, TensorAccess, TensorEncoding, TensorInfo, Workload, make_workload

__all__ = ["chain_workload", "make_profile", "level"]


def level(name: str, kind: str, capacity_bits: int, read_pj: float, write_pj: float | None = None,
          bandwidth: float = 64.0, latency: float = 0.0, leakage_mw: float = 0.0, word_bits: int = 32) -> MemoryLevel:
    return MemoryLevel(name, kind, capacity_bits, word_bits, read_pj, read_pj if write_pj is None else write_pj,
                       bandwidth, latency, leakage_mw)


def make_profile(levels: list[MemoryLevel], macs_per_cycle: int = 4, zero_handling: str = "none",
                 clock_hz: float = 1e9, extra_energy: dict[str, float] | None = None) -> HardwareProfile:
    energy = {"float32.add": 1.0, "float32.mult": 2.0, "int32.add": 0.5, "float32.compare": 1.0}
    energy.update(extra_energy or {})
    return HardwareProfile(
        name="test", description="hand-built", clock_hz=clock_hz,
        compute=ComputeUnit(macs_per_cycle, 32, zero_handling, FrozenMap(energy)),
        levels=tuple(levels),
    )


def chain_workload(layers: list[tuple[int, int, int]], encodings: list[TensorEncoding | None] | None = None,
                   relu: bool = False, name: str = "chain") -> Workload:
    """A chain of linear layers ``(M, K, N)`` (x @ W, W of K x N), optionally with a ReLU after each.

    Layer i is called ``fc{i}``; the model input is ``input:0``.
    """
    tensors: dict[str, TensorInfo] = {}
    ops: list[Op] = []
    m0, k0, _ = layers[0]
    current = "input:0"
    tensors[current] = TensorInfo(current, "input", (m0, k0), FLOAT32)
    encodings = encodings or [None] * len(layers)

    def touch(name: str, index: int) -> None:
        from dataclasses import replace

        tensors[name] = replace(tensors[name], last_use=index)

    for i, ((m, k, n), enc) in enumerate(zip(layers, encodings)):
        w = f"fc{i}.weight"
        tensors[w] = TensorInfo(w, "weight", (k, n), FLOAT32, encoding=enc)
        out = f"act:{len(ops)}:0"
        tensors[out] = TensorInfo(out, "activation", (m, n), FLOAT32, producer=len(ops))
        touch(current, len(ops))
        ops.append(Op(
            index=len(ops), module=f"fc{i}", kind="linear", aten="aten.mm.default", macs=m * k * n, mac_dtype=FLOAT32,
            accesses=(TensorAccess(current, "inputs", "read", m * k * 32), TensorAccess(w, "weights", "read", k * n * 32),
                      TensorAccess(out, "outputs", "write", m * n * 32)),
            dims=GemmDims(m=m, k=k, n=n),
        ))
        current = out
        if relu:
            r = f"act:{len(ops)}:0"
            tensors[r] = TensorInfo(r, "activation", (m, n), FLOAT32, producer=len(ops))
            touch(current, len(ops))
            ops.append(Op(
                index=len(ops), module=f"relu{i}", kind="elementwise", aten="aten.relu.default", macs=0, mac_dtype=None,
                arith=(ArithCount("compare", FLOAT32, m * n),),
                accesses=(TensorAccess(current, "inputs", "read", m * n * 32), TensorAccess(r, "outputs", "write", m * n * 32)),
            ))
            current = r
    return make_workload(name, ops, tensors)
