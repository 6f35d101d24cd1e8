"""Cost a traced model at a declared precision without rewriting it: ``at_precision(workload, precision)``.

A float-trained model on an integer accelerator (Eyeriss at int16, an NPU at int8) is costed as that
accelerator runs it: every *float* tensor is re-typed (weights to ``precision.weights``, model inputs and
activations to ``precision.activations``), each op's accesses shrink by the same ratio, and MACs and
other float arithmetic run at the activation type. Integer tensors (indices, weights already quantized
by a compression transform) keep their traced type; a float weight's encoding follows the new type where
it stores values at the traced width (dense or pruned values, codebook entries), and keeps the widths a
compression transform chose (codebook indices, relative indices, Huffman codes). Partial sums are the
profile's business: they move at ``max(output bits, accumulator_bits)`` until their final write (see the mapper).
"""

from __future__ import annotations

from dataclasses import replace

from simulator.frozen import FrozenMap
from simulator.hardware.profile import Precision
from simulator.workload import ArithCount, DataType, TensorAccess, TensorInfo, Workload, make_workload

__all__ = ["at_precision", "retype_tensors"]


def _target(info: TensorInfo, precision: Precision) -> DataType:
    if info.dtype.kind != "float":
        return info.dtype
    wanted = precision.weights if info.kind == "weight" else precision.activations
    return wanted if wanted is not None else info.dtype


def _retype(info: TensorInfo, dtype: DataType) -> TensorInfo:
    """``info`` at ``dtype``; values its encoding stores at the traced width (dense or pruned values, codebook
    entries) move to the new width, widths a compression transform chose (indices, Huffman codes) stay."""
    if dtype == info.dtype:
        return info
    enc = info.encoding
    if enc is not None:
        if enc.codebook_entries == 0 and enc.value_bits == info.dtype.bits:
            enc = replace(enc, value_bits=dtype.bits)
        if enc.codebook_value_bits == info.dtype.bits:
            enc = replace(enc, codebook_value_bits=dtype.bits)
    return replace(info, dtype=dtype, encoding=enc)


def at_precision(workload: Workload, precision: Precision | None) -> Workload:
    """``workload`` with its float tensors, accesses and arithmetic at ``precision`` (unchanged if None or no-op)."""
    if precision is None or (precision.weights is None and precision.activations is None):
        return workload
    tensors = {name: _retype(info, _target(info, precision)) for name, info in workload.tensors.items()}
    if all(tensors[n] is workload.tensors[n] for n in tensors):
        return workload
    act = precision.activations

    def arith_type(dtype: DataType | None) -> DataType | None:
        return act if dtype is not None and dtype.kind == "float" and act is not None else dtype

    ops = []
    for op in workload.ops:
        accesses = tuple(
            TensorAccess(a.tensor, a.role, a.direction, _scaled_bits(a, workload.tensors[a.tensor], tensors[a.tensor]))
            for a in op.accesses
        )
        arith = tuple(ArithCount(c.operation, arith_type(c.dtype), c.count) for c in op.arith)
        ops.append(replace(op, mac_dtype=arith_type(op.mac_dtype), arith=arith, accesses=accesses))
    return make_workload(workload.model_name, ops, FrozenMap(tensors), workload.unsupported, workload.batch_size)


def _scaled_bits(access: TensorAccess, old: TensorInfo, new: TensorInfo) -> int:
    """An access's dense bits at the tensor's new element width (same elements)."""
    if old.dtype == new.dtype:
        return access.bits
    return access.bits // old.dtype.bits * new.dtype.bits



def retype_tensors(workload: Workload, dtypes: dict[str, DataType]) -> Workload:
    """``workload`` with the named tensors (and every view aliasing them) stored at new types; their
    accesses shrink or grow by the same ratio, arithmetic is unchanged (values are converted on the way
    in, e.g. a KV cache held at int8 and dequantized for an fp16 attention: ``simulator.generation``)."""
    wanted = {n: d for n, d in dtypes.items() if n in workload.tensors}
    for name, info in workload.tensors.items():
        if info.alias_of in dtypes:
            wanted[name] = dtypes[info.alias_of]
    tensors = {name: _retype(info, wanted[name]) if name in wanted else info for name, info in workload.tensors.items()}
    if all(tensors[n] is workload.tensors[n] for n in tensors):
        return workload
    ops = [
        replace(op, accesses=tuple(
            TensorAccess(a.tensor, a.role, a.direction, _scaled_bits(a, workload.tensors[a.tensor], tensors[a.tensor]))
            for a in op.accesses))
        for op in workload.ops
    ]
    return make_workload(workload.model_name, ops, FrozenMap(tensors), workload.unsupported, workload.batch_size)
