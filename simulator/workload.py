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
from simulator.ops import NO_DIMS, OpDims, OpKind, check_dims, op_kind

__all__ = [
    "ACCESS_DIRECTIONS",
    "ArithCount",
    "CompressionRecord",
    "DATA_KINDS",
    "DataType",
    "FLOAT32",
    "make_workload",
    "Lifetimes",
    "Op",
    "OPERAND_ROLES",
    "STRUCTURED_SPARSITY",
    "TENSOR_KINDS",
    "TensorAccess",
    "TensorEncoding",
    "TensorInfo",
    "Workload",
]

#: ``bfloat`` is bfloat16's family (8-bit exponent, 8-bit significand): its own type, not float16.
DATA_KINDS = ("int", "float", "bfloat")
#: Semi-structured sparsity patterns an encoding may declare (``TensorEncoding.structure``) and a compute
#: array may support (``[compute] structured_sparsity``).
STRUCTURED_SPARSITY = ("", "2:4")
TENSOR_KINDS = ("weight", "input", "activation")
OPERAND_ROLES = ("weights", "inputs", "outputs")
ACCESS_DIRECTIONS = ("read", "write")


@dataclass(frozen=True, slots=True)
class DataType:
    """A number format: ``kind`` is ``"int"``, ``"float"`` or ``"bfloat"``, ``bits`` its width (``int8``, ``bfloat16``)."""

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
        for kind in sorted(DATA_KINDS, key=len, reverse=True):
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
        group_size: values sharing one quantization scale (and zero point) in group-wise quantization
            (GPTQ/AWQ-style weight-only int4/int8, e.g. 128 consecutive input channels); 0 = no groups.
        group_param_bits: bits stored per group: its scale plus its zero point (16 + 16 for fp16 scale
            and zero, 16 + 4 for an fp16 scale and a 4-bit zero, 16 for symmetric); 0 without groups.
        structure: a hardware sparsity pattern the entries follow, ``""`` (none) or ``"2:4"`` (NVIDIA's
            semi-structured sparsity: 2 kept values in every 4, each with ``index_bits = 2`` bits of
            metadata selecting its position; hardware that declares the pattern skips the pruned MACs).
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
    group_size: int = 0
    group_param_bits: int = 0
    structure: str = ""

    def __post_init__(self) -> None:
        if self.structure not in STRUCTURED_SPARSITY:
            raise ValueError(f"TensorEncoding.structure must be one of {STRUCTURED_SPARSITY}, got {self.structure!r}")
        if self.group_size < 0 or self.group_param_bits < 0 or (self.group_size == 0) != (self.group_param_bits == 0):
            raise ValueError(
                f"TensorEncoding.group_size and group_param_bits must both be positive (groups) or both 0, "
                f"got {self.group_size} and {self.group_param_bits}"
            )
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
        return (self.density == 1.0 and self.index_bits == 0 and self.codebook_entries == 0 and self.mean_code_bits is None
                and self.group_size == 0)

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

    def group_params_bits(self, numel: int) -> int:
        """Bits of the per-group scales and zero points: ``ceil(numel / group_size) x group_param_bits``.

        Groups run along the dense tensor (the transform refuses rows that do not divide by the group
        size, so ``numel / group_size`` is exact): a 4096 x 4096 int4 layer in groups of 128 holds
        4096 x 32 groups. 0 without groups.
        """
        return -(-numel // self.group_size) * self.group_param_bits if self.group_size else 0

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
        return self.codebook_bits() + self.value_stream_bits(numel) + self.index_stream_bits(numel) + self.group_params_bits(numel)

    def onchip_bits(self, numel: int) -> int:
        """Bits the tensor occupies on chip: the one definition of the mapper's on-chip form.

        Fixed-width entries (value or codebook index + relative index, fillers included) plus the
        codebook and the group scales/zero points; Huffman codes are decoded when the weights are loaded,
        so they never sit on chip.
        """
        return self.stored_entries(numel) * (self.value_bits + self.index_bits) + self.codebook_bits() + self.group_params_bits(numel)

    def stored_bits_by_part(self, numel: int) -> dict[str, int]:
        """``stored_bits`` split into ``values``, ``indices``, ``fillers``, ``codebook`` and, for group-wise
        quantization, ``scales`` (sums exactly).

        Each stream's bits (Huffman tables and block offsets included) are shared between kept and
        filler entries in proportion to their counts; the storage accountant, which sees the actual
        symbols, splits the same total exactly by code length and lists the tables apart.
        """
        entries = self.stored_entries(numel)
        value, index = self.value_stream_bits(numel), self.index_stream_bits(numel)
        filler_value = (value * self.filler_entries + entries // 2) // entries if entries else 0
        filler_index = (index * self.filler_entries + entries // 2) // entries if entries else 0
        parts = {"values": value - filler_value, "indices": index - filler_index,
                 "fillers": filler_value + filler_index, "codebook": self.codebook_bits()}
        if self.group_size:
            parts["scales"] = self.group_params_bits(numel)
        return parts

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
        alias_of: name of the tensor whose memory this one shares (the output of an in-place op such as
            ``relu_``/``add_``, or of a view with a cost rule), always the owner itself, never another
            alias; None = a tensor of its own. An alias occupies no memory and keeps its owner alive.
    """

    name: str
    kind: str
    shape: tuple[int, ...]
    dtype: DataType
    encoding: TensorEncoding | None = None
    producer: int | None = None
    last_use: int | None = None
    measured_density: float | None = None
    alias_of: str | None = None

    def __post_init__(self) -> None:
        if self.alias_of == self.name:
            raise ValueError(f"TensorInfo {self.name}: alias_of names the tensor itself")
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
        kind: op family used by the mapper, from the declared set ``simulator.ops.OpKind`` (a plain
            string naming a declared kind is converted; any other string is refused).
        aten: the aten overload, e.g. ``"aten.addmm.default"``.
        macs: multiply-accumulates (one MAC = one mult + one add).
        mac_dtype: the data type the MACs run at (None when ``macs == 0``).
        arith: arithmetic other than MACs.
        accesses: operands read and written once, in dense bits.
        dims: the loop bounds the mapper tiles over, as the typed record ``simulator.ops.OP_KIND_DIMS``
            declares for ``kind`` (``ConvDims`` for a conv, ``GemmDims`` for a linear, ``NoDims`` for
            streaming kinds).
    """

    index: int
    module: str
    kind: OpKind
    aten: str
    macs: int
    mac_dtype: DataType | None
    arith: tuple[ArithCount, ...] = ()
    accesses: tuple[TensorAccess, ...] = ()
    dims: OpDims = NO_DIMS

    def __post_init__(self) -> None:
        where = f"op {self.index} '{self.module}' ({self.aten})"
        object.__setattr__(self, "kind", op_kind(self.kind, where))
        check_dims(self.kind, self.dims, where)

    @property
    def reads(self) -> tuple[TensorAccess, ...]:
        return tuple(a for a in self.accesses if a.direction == "read")

    @property
    def writes(self) -> tuple[TensorAccess, ...]:
        return tuple(a for a in self.accesses if a.direction == "write")


@dataclass(frozen=True, slots=True, eq=False)
class Lifetimes:
    """The activation buffers of a workload and the ops they are live over (inclusive), as numpy arrays.

    One entry per tensor that owns memory: model inputs and activations that are not aliases and that
    some op writes or reads (directly or through one of their aliases). Weights are not here (their
    residency is decided apart); neither are aliases (in-place and view outputs share their owner's
    buffer) nor outputs no op writes or reads (the int64 indices of ``max_pool2d_with_indices`` in
    inference), which are never materialised.
    """

    names: tuple[str, ...]
    start: np.ndarray
    end: np.ndarray
    bits: np.ndarray


def _lifetimes(ops: tuple[Op, ...], tensors: Mapping[str, TensorInfo]) -> Lifetimes:
    """Lifetimes of the buffers that own memory (see ``Lifetimes``).

    A buffer is live from the op that produces it (op 0 for model inputs) through the last op that
    reads it or any of its aliases, or writes one of its aliases; a buffer nobody reads stays live
    only at its producer.
    """
    n_ops = len(ops)
    touched = {a.tensor for op in ops for a in op.accesses}
    touched.update(name for name, t in tensors.items() if t.last_use is not None)
    end_of: dict[str, int] = {}
    used: set[str] = set()
    for t in tensors.values():
        if t.kind == "weight":
            continue
        owner = t.alias_of or t.name
        if owner not in tensors:
            raise ValueError(f"tensor {t.name}: alias_of names {owner!r}, which is not a tensor of the workload")
        if tensors[owner].alias_of is not None:
            raise ValueError(f"tensor {t.name}: alias_of must name the owning tensor, {owner!r} is itself an alias")
        if t.name in touched or t.kind == "input":
            used.add(owner)
        if t.last_use is not None:
            end_of[owner] = max(end_of.get(owner, -1), t.last_use)
        if t.alias_of is not None and t.producer is not None:  # the buffer is written (again) there
            end_of[owner] = max(end_of.get(owner, -1), t.producer)
    owners = [t for t in tensors.values() if t.kind != "weight" and t.alias_of is None and t.name in used]
    last = max(n_ops - 1, 0)
    start = np.fromiter((min(t.producer or 0, last) for t in owners), dtype=np.int64, count=len(owners))
    end = np.fromiter((min(end_of.get(t.name, -1), last) for t in owners), dtype=np.int64, count=len(owners))
    bits = np.fromiter((t.dense_bits for t in owners), dtype=np.int64, count=len(owners))
    return Lifetimes(tuple(t.name for t in owners), start, np.maximum(end, start), bits)


@dataclass(frozen=True, slots=True)
class Workload:
    """A traced model: ops in execution order and the tensors they touch.

    Attributes:
        model_name: the model's name (registry name or class name).
        ops: the operations in execution order.
        tensors: every tensor by name.
        unsupported: aten ops that had no rule (name -> count); never dropped silently.
        batch_size: leading dimension of the example input.

    Liveness has its one home here: ``lifetimes()``, ``live_bits_per_op()`` and
    ``peak_activation_bits`` are computed once, when the workload is built.
    """

    model_name: str
    ops: tuple[Op, ...]
    tensors: FrozenMap[str, TensorInfo]
    unsupported: FrozenMap[str, int] = field(default_factory=FrozenMap)
    batch_size: int = 1
    _lifetimes: Lifetimes = field(init=False, repr=False, compare=False)
    _live_bits: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        spans = _lifetimes(self.ops, self.tensors)
        # Two slots past the last op: a model input of a workload with no costed op (everything
        # unsupported) still has a span [0, 0], whose end + 1 must land inside the array.
        delta = np.zeros(len(self.ops) + 2, dtype=np.int64)
        np.add.at(delta, spans.start, spans.bits)
        np.add.at(delta, spans.end + 1, -spans.bits)
        live = np.cumsum(delta)[: len(self.ops)]
        for array in (spans.start, spans.end, spans.bits, live):
            array.setflags(write=False)
        object.__setattr__(self, "_lifetimes", spans)
        object.__setattr__(self, "_live_bits", live)

    def lifetimes(self) -> Lifetimes:
        """The buffers that own memory and the ops each is live over (read-only arrays)."""
        return self._lifetimes

    def live_bits_per_op(self) -> np.ndarray:
        """Bits of model inputs and activations live while each op runs (int64, one per op, read-only).

        Aliases (in-place and view outputs) add nothing but keep their owner live; outputs no op writes
        or reads add nothing.
        """
        return self._live_bits

    @property
    def peak_activation_bits(self) -> int:
        """Peak live activation bits: the working set an on-chip buffer must hold (0 without ops)."""
        return int(self._live_bits.max()) if self._live_bits.size else 0

    def owner_of(self, tensor: str) -> str:
        """The tensor whose buffer ``tensor`` occupies: itself, or the tensor it aliases."""
        return self.tensors[tensor].alias_of or tensor

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

    def kinds_by_module(self) -> dict[str, str]:
        """Each module's op kinds (``OpKind`` values, first-seen order, joined by ``+``): the report's layer kind."""
        out: dict[str, dict[str, None]] = {}
        for op in self.ops:
            out.setdefault(op.module, {})[str(getattr(op.kind, "value", op.kind))] = None
        return {module: "+".join(kinds) for module, kinds in out.items()}

    def ops_of(self, module: str) -> tuple[Op, ...]:
        return tuple(op for op in self.ops if op.module == module)


def make_workload(
    model_name: str,
    ops: Iterable[Op],
    tensors: Mapping[str, TensorInfo],
    unsupported: Mapping[str, int] | None = None,
    batch_size: int = 1,
) -> Workload:
    """Build a ``Workload`` (its liveness is computed on construction)."""
    return Workload(
        model_name=model_name,
        ops=tuple(ops),
        tensors=FrozenMap(tensors),
        unsupported=FrozenMap(unsupported or {}),
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
