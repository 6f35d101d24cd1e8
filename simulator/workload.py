"""The workload records: what a traced model asks of the hardware, independent of any hardware.

A ``Workload`` is an ordered tuple of ``Op``s plus the ``TensorInfo`` of every tensor the ops touch.
Each op carries its operation stream (MACs and other arithmetic by data type) and the tensors it reads
and writes once, in dense bits; how often an operand is re-fetched from each memory level is decided
later by the mapper. Weights carry a ``TensorEncoding`` saying what compression did to them.

Counting conventions: one MAC is one multiply plus one accumulate; FLOPs (as Han et al. use the word)
are 2 x MACs. No torch import here, so the cost model can be tested without torch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from simulator.frozen import FrozenMap

__all__ = [
    "ACCESS_DIRECTIONS",
    "ArithCount",
    "CompressionRecord",
    "DATA_KINDS",
    "DataType",
    "FLOAT32",
    "make_workload",
    "Op",
    "OPERAND_ROLES",
    "peak_live_bits",
    "TENSOR_KINDS",
    "TensorAccess",
    "TensorEncoding",
    "TensorInfo",
    "Workload",
]

DATA_KINDS = ("int", "float")
TENSOR_KINDS = ("weight", "input", "activation")
OPERAND_ROLES = ("weights", "inputs", "outputs")
ACCESS_DIRECTIONS = ("read", "write")


@dataclass(frozen=True, slots=True)
class DataType:
    """A number format: ``kind`` is ``"int"`` or ``"float"``, ``bits`` its width (``int8``, ``float32``)."""

    kind: str
    bits: int

    def __post_init__(self) -> None:
        if self.kind not in DATA_KINDS:
            raise ValueError(f"DataType.kind must be one of {DATA_KINDS}, got {self.kind!r}")
        if self.bits <= 0:
            raise ValueError(f"DataType.bits must be positive, got {self.bits}")

    @property
    def name(self) -> str:
        """The conventional name, e.g. ``"float32"``; profiles key their energy tables by it."""
        return f"{self.kind}{self.bits}"

    @classmethod
    def parse(cls, name: str) -> DataType:
        """``"int8"`` -> ``DataType("int", 8)``."""
        for kind in DATA_KINDS:
            if name.startswith(kind) and name[len(kind):].isdigit():
                return cls(kind, int(name[len(kind):]))
        raise ValueError(f"not a data type name: {name!r} (expected e.g. 'int8' or 'float32')")


FLOAT32 = DataType("float", 32)


@dataclass(frozen=True, slots=True)
class TensorEncoding:
    """What compression did to one tensor; read by storage, the tracer and the mapper.

    Attributes:
        density: fraction of values kept, in (0, 1]; 1.0 is dense.
        value_bits: bits per stored value, or per codebook index when weights are shared.
        index_bits: relative-index bits per stored entry (0 = dense storage, no index).
        codebook_entries: number of shared values (0 = no weight sharing).
        mean_code_bits: Huffman mean code length of the value stream in bits, None = not entropy coded.
        codebook_value_bits: bits of one codebook entry (the shared value itself).
        filler_entries: filler zero entries inserted where a gap overflowed ``index_bits`` (exact when
            the tensor was packed; 0 when unknown).
        mean_index_code_bits: Huffman mean code length of the relative-index stream, None = not coded.
        mac_arithmetic: how a MAC with this weight is computed: ``"multiply"`` (multiply + add), or
            ``"sign"`` for binary/ternary weights in {-a, 0, +a} (XNOR-Net style): each MAC is an add or
            subtract at the activation's type, and the per-filter scale ``a`` costs one multiply per output.
        huffman_block_symbols: symbols per independently decodable Huffman block of a coded stream
            (its block padding and offsets are part of the mean code lengths above; the file writer
            codes with this block size, so the stream it writes is the one the means describe).
    """

    density: float = 1.0
    value_bits: int = 32
    index_bits: int = 0
    codebook_entries: int = 0
    mean_code_bits: float | None = None
    codebook_value_bits: int = 32
    filler_entries: int = 0
    mean_index_code_bits: float | None = None
    mac_arithmetic: str = "multiply"
    huffman_block_symbols: int = 4096

    def __post_init__(self) -> None:
        if self.mac_arithmetic not in ("multiply", "sign"):
            raise ValueError(f"TensorEncoding.mac_arithmetic must be 'multiply' or 'sign', got {self.mac_arithmetic!r}")
        if not (0.0 < self.density <= 1.0) or not math.isfinite(self.density):
            raise ValueError(f"TensorEncoding.density must be in (0, 1], got {self.density}")
        if self.value_bits <= 0:
            raise ValueError(f"TensorEncoding.value_bits must be positive, got {self.value_bits}")
        if self.huffman_block_symbols < 1:
            raise ValueError(f"TensorEncoding.huffman_block_symbols must be >= 1, got {self.huffman_block_symbols}")
        for name in ("index_bits", "codebook_entries", "filler_entries"):
            if getattr(self, name) < 0:
                raise ValueError(f"TensorEncoding.{name} must be >= 0, got {getattr(self, name)}")

    @classmethod
    def dense(cls, bits: int) -> TensorEncoding:
        """The encoding of an uncompressed tensor of ``bits``-bit values."""
        return cls(density=1.0, value_bits=bits)

    @property
    def is_dense(self) -> bool:
        return self.density == 1.0 and self.index_bits == 0 and self.codebook_entries == 0 and self.mean_code_bits is None

    def stored_entries(self, numel: int) -> int:
        """Entries physically stored: kept values plus filler zeros."""
        return int(round(self.density * numel)) + self.filler_entries

    def bits_per_entry(self) -> float:
        """Mean bits of one stored entry: value (or its Huffman code) plus relative index (or its code)."""
        value = self.mean_code_bits if self.mean_code_bits is not None else self.value_bits
        index = self.mean_index_code_bits if self.mean_index_code_bits is not None else self.index_bits
        return value + index

    def codebook_bits(self) -> int:
        """Bits of the codebook: ``codebook_entries`` shared values of ``codebook_value_bits`` each.

        A weight-shared layer with ``b``-bit indices records (and the file stores) all ``2^b`` entries,
        used or not: Deep Compression counts ``k * b`` with ``k = 2^b`` clusters, hardware holds a
        ``2^b``-entry codebook (EIE: 16 entries for 4-bit indices) because any index may address it,
        and the count then follows from the record alone, so the mapper and the storage accountant
        agree without looking at the weights.
        """
        return self.codebook_entries * self.codebook_value_bits

    @staticmethod
    def _stream_bits(entries: int, fixed_bits: int, mean_code_bits: float | None) -> int:
        # A coded stream's mean is its exact stored bits / entries (see compress.streams), so the
        # product is an integer up to float rounding; round-to-nearest recovers it exactly.
        if mean_code_bits is None:
            return entries * fixed_bits
        return int(math.floor(entries * mean_code_bits + 0.5))

    def value_stream_bits(self, numel: int) -> int:
        """Stored bits of the value stream: fixed-width values (or codebook indices), or their Huffman
        stream (codes, block padding, block offsets and code table)."""
        return self._stream_bits(self.stored_entries(numel), self.value_bits, self.mean_code_bits)

    def index_stream_bits(self, numel: int) -> int:
        """Stored bits of the relative-index stream: fixed width, or its Huffman stream (as above)."""
        return self._stream_bits(self.stored_entries(numel), self.index_bits, self.mean_index_code_bits)

    def stored_bits(self, numel: int) -> int:
        """Bits the tensor occupies stored off chip (DRAM, the ``.pjc`` file): the one definition.

        ``codebook + value stream + index stream``, each stream Huffman-coded where the encoding says
        so. The storage accountant's per-tensor total and the tensor's bits in the ``.pjc`` payload
        equal this number bit for bit (the file packs sections without padding).
        """
        return self.codebook_bits() + self.value_stream_bits(numel) + self.index_stream_bits(numel)

    def onchip_bits(self, numel: int) -> int:
        """Bits the tensor occupies on chip: the one definition of the mapper's on-chip form.

        Fixed-width entries (value or codebook index + relative index, fillers included) plus the
        codebook; Huffman codes are decoded when the weights are loaded, so they never sit on chip.
        """
        return self.stored_entries(numel) * (self.value_bits + self.index_bits) + self.codebook_bits()

    def stored_bits_by_part(self, numel: int) -> dict[str, int]:
        """``stored_bits`` split into ``values``, ``indices``, ``fillers`` and ``codebook`` (sums exactly).

        Each stream's bits (Huffman tables and block offsets included) are shared between kept and
        filler entries in proportion to their counts; the storage accountant, which sees the actual
        symbols, splits the same total exactly by code length and lists the tables apart.
        """
        entries = self.stored_entries(numel)
        value, index = self.value_stream_bits(numel), self.index_stream_bits(numel)
        filler_value = (value * self.filler_entries + entries // 2) // entries if entries else 0
        filler_index = (index * self.filler_entries + entries // 2) // entries if entries else 0
        return {"values": value - filler_value, "indices": index - filler_index,
                "fillers": filler_value + filler_index, "codebook": self.codebook_bits()}

    def encoded_bits(self, numel: int) -> int:
        """Same as ``stored_bits`` (the name older callers use)."""
        return self.stored_bits(numel)


@dataclass(frozen=True, slots=True)
class TensorInfo:
    """One tensor of the workload.

    Attributes:
        name: parameter name for weights (``"fc1.weight"``), ``"input:<i>"`` for model inputs,
            ``"act:<op index>:<output>"`` for activations.
        kind: ``"weight"``, ``"input"`` or ``"activation"``.
        shape: the tensor's shape.
        dtype: its number format as traced.
        encoding: what compression did to it (weights only; None = dense at ``dtype``).
        producer: index of the op that writes it, None for weights and model inputs.
        last_use: index of the last op that reads it, None if never read.
        measured_density: fraction of non-zero values measured on real inputs (activations), None =
            not measured (treated as dense); profiles that skip or gate zero activations use it.
    """

    name: str
    kind: str
    shape: tuple[int, ...]
    dtype: DataType
    encoding: TensorEncoding | None = None
    producer: int | None = None
    last_use: int | None = None
    measured_density: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in TENSOR_KINDS:
            raise ValueError(f"TensorInfo.kind must be one of {TENSOR_KINDS}, got {self.kind!r} for {self.name}")

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def dense_bits(self) -> int:
        """Bits at the traced dtype, uncompressed."""
        return self.numel * self.dtype.bits

    @property
    def stored_bits(self) -> int:
        """Bits in the tensor's encoding (its dense bits when it has none)."""
        if self.encoding is None:
            return self.dense_bits
        return self.encoding.encoded_bits(self.numel)


@dataclass(frozen=True, slots=True)
class TensorAccess:
    """One operand of an op: ``tensor`` is read or written once, ``bits`` dense bits (before mapping)."""

    tensor: str
    role: str
    direction: str
    bits: int

    def __post_init__(self) -> None:
        if self.role not in OPERAND_ROLES:
            raise ValueError(f"TensorAccess.role must be one of {OPERAND_ROLES}, got {self.role!r}")
        if self.direction not in ACCESS_DIRECTIONS:
            raise ValueError(f"TensorAccess.direction must be one of {ACCESS_DIRECTIONS}, got {self.direction!r}")


@dataclass(frozen=True, slots=True)
class ArithCount:
    """``count`` arithmetic operations of one kind (``add``, ``mult``, ``compare``, ``exp``, ``div``) at ``dtype``."""

    operation: str
    dtype: DataType
    count: int


@dataclass(frozen=True, slots=True)
class Op:
    """One traced operation.

    Attributes:
        index: position in the trace (0-based).
        module: fully qualified name of the innermost module running it (``""`` = top level).
        kind: op family used by the mapper (``"conv"``, ``"linear"``, ``"matmul"``, ``"elementwise"``, ...).
        aten: the aten overload, e.g. ``"aten.addmm.default"``.
        macs: multiply-accumulates (one MAC = one mult + one add).
        mac_dtype: the data type the MACs run at (None when ``macs == 0``).
        arith: arithmetic other than MACs.
        accesses: operands read and written once, in dense bits.
        dims: loop bounds the mapper tiles over (e.g. ``N, K, C, P, Q, R, S`` for a conv).
    """

    index: int
    module: str
    kind: str
    aten: str
    macs: int
    mac_dtype: DataType | None
    arith: tuple[ArithCount, ...] = ()
    accesses: tuple[TensorAccess, ...] = ()
    dims: FrozenMap[str, int] = field(default_factory=FrozenMap)

    @property
    def reads(self) -> tuple[TensorAccess, ...]:
        return tuple(a for a in self.accesses if a.direction == "read")

    @property
    def writes(self) -> tuple[TensorAccess, ...]:
        return tuple(a for a in self.accesses if a.direction == "write")


def peak_live_bits(tensors: Iterable[TensorInfo], n_ops: int) -> int:
    """Peak bits of activations (and model inputs) live at once over the op sequence.

    A tensor is live from the op that produces it (op 0 for model inputs) through its last use;
    a tensor never read stays live only at its producer. Vectorised with a difference array.
    """
    if n_ops <= 0:
        return 0
    starts, ends, sizes = [], [], []
    for t in tensors:
        if t.kind == "weight":
            continue
        start = t.producer if t.producer is not None else 0
        end = t.last_use if t.last_use is not None else start
        starts.append(start)
        ends.append(max(end, start))
        sizes.append(t.dense_bits)
    if not sizes:
        return 0
    delta = np.zeros(n_ops + 1, dtype=np.int64)
    np.add.at(delta, np.asarray(starts), np.asarray(sizes, dtype=np.int64))
    np.add.at(delta, np.asarray(ends) + 1, -np.asarray(sizes, dtype=np.int64))
    return int(np.cumsum(delta)[:n_ops].max())


@dataclass(frozen=True, slots=True)
class Workload:
    """A traced model: ops in execution order and the tensors they touch.

    Attributes:
        model_name: the model's name (registry name or class name).
        ops: the operations in execution order.
        tensors: every tensor by name.
        unsupported: aten ops that had no rule (name -> count); never dropped silently.
        peak_activation_bits: peak live activation bits (the working set an on-chip buffer must hold).
        batch_size: leading dimension of the example input.
    """

    model_name: str
    ops: tuple[Op, ...]
    tensors: FrozenMap[str, TensorInfo]
    unsupported: FrozenMap[str, int] = field(default_factory=FrozenMap)
    peak_activation_bits: int = 0
    batch_size: int = 1

    @property
    def total_macs(self) -> int:
        return sum(op.macs for op in self.ops)

    @property
    def weights(self) -> tuple[TensorInfo, ...]:
        return tuple(t for t in self.tensors.values() if t.kind == "weight")

    @property
    def weight_dense_bits(self) -> int:
        return sum(t.dense_bits for t in self.weights)

    @property
    def weight_stored_bits(self) -> int:
        return sum(t.stored_bits for t in self.weights)

    @property
    def parameter_count(self) -> int:
        return sum(t.numel for t in self.weights)

    def macs_by_module(self) -> dict[str, int]:
        """MACs summed per module, in first-seen order."""
        out: dict[str, int] = {}
        for op in self.ops:
            out[op.module] = out.get(op.module, 0) + op.macs
        return out

    def ops_of(self, module: str) -> tuple[Op, ...]:
        return tuple(op for op in self.ops if op.module == module)


def make_workload(
    model_name: str,
    ops: Iterable[Op],
    tensors: Mapping[str, TensorInfo],
    unsupported: Mapping[str, int] | None = None,
    batch_size: int = 1,
) -> Workload:
    """Build a ``Workload``, computing liveness-based peak activation bits from the tensors."""
    ops = tuple(ops)
    return Workload(
        model_name=model_name,
        ops=ops,
        tensors=FrozenMap(tensors),
        unsupported=FrozenMap(unsupported or {}),
        peak_activation_bits=peak_live_bits(tensors.values(), len(ops)),
        batch_size=batch_size,
    )


@dataclass(frozen=True, slots=True)
class CompressionRecord:
    """What a chain of compression transforms did: parameter name -> ``TensorEncoding``, plus the steps.

    Produced by ``simulator.compress`` transforms, read by the tracer (weight encodings) and storage.
    Composition: a later transform's encoding for a parameter replaces the earlier one (the transform
    that builds it is responsible for carrying forward what still holds, e.g. density after sharing).
    """

    encodings: FrozenMap[str, TensorEncoding] = field(default_factory=FrozenMap)
    steps: tuple[str, ...] = ()

    def then(self, other: CompressionRecord) -> CompressionRecord:
        """This record followed by ``other``: encodings updated by ``other``'s, steps concatenated."""
        merged = dict(self.encodings)
        merged.update(other.encodings)
        return CompressionRecord(FrozenMap(merged), self.steps + other.steps)
