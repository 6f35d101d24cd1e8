"""Identical layers traced once: ``stack_layers(workload, prefix, total)`` repeats a traced layer.

A decoder of 32 identical blocks traced on meta spends almost all its time dispatching the same ~90 ops
32 times. ``stack_layers`` takes the workload of the same model traced with two blocks (``prefix0`` and
``prefix1``, e.g. ``model.layers.0`` and ``model.layers.1``) and builds the workload of ``total`` blocks:
block 1's ops are copied for blocks 2..total-1 with

- their weights renamed (``model.layers.1.`` -> ``model.layers.<c>.``, same shape and encoding),
- their activations renamed to new, unique ``act:<op index>:<n>`` names (producer and op indices shifted),
- what block 1 reads from block 0 (the residual stream) read from the previous copy instead,
- model inputs block 1 reads and block 0 does not (its KV-cache tensors) shifted by the same input-number
  stride (``input:3`` -> ``input:5`` -> ...), and what every block reads from before block 0 (rotary
  cos/sin, masks) shared;

the ops after block 1 (final norm, head) follow the last copy. The result is the workload the full model
traces to, op for op (``tests/trace/test_stack.py`` compares costs with a direct trace). The two blocks
must trace to the same op sequence (checked; anything else raises ``ValueError``). NB: every copy takes
block 1's weight encodings (a record that compresses blocks differently needs the full trace).
"""

from __future__ import annotations

import dataclasses
import functools
import re

from simulator.workload import Op, TensorAccess, TensorInfo, Workload, make_workload

__all__ = ["stack_layers"]

_ACT = re.compile(r"^act:(\d+):(\d+)$")
_INPUT = re.compile(r"^input:(\d+)$")


def _in_layer(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _span(workload: Workload, prefix: str) -> range:
    idx = [op.index for op in workload.ops if _in_layer(op.module, prefix)]
    if not idx or idx != list(range(idx[0], idx[-1] + 1)):
        raise ValueError(f"stack_layers: the ops of '{prefix}' are missing or not contiguous in {workload.model_name}")
    return range(idx[0], idx[-1] + 1)


def stack_layers(workload: Workload, prefix0: str, prefix1: str, prefix_of: str, total: int) -> Workload:
    """``workload`` (two identical blocks ``prefix0``, ``prefix1``) with ``total`` blocks; ``prefix_of``
    formats a block's module prefix from its number (``"model.layers.{}"``). See the module doc."""
    if total < 2:
        raise ValueError(f"stack_layers: total must be at least the 2 traced blocks, got {total}")
    r0, r1 = _span(workload, prefix0), _span(workload, prefix1)
    n = len(r1)
    if len(r0) != n or r0.stop != r1.start or any(
        workload.ops[i].aten != workload.ops[j].aten for i, j in zip(r0, r1)
    ):
        raise ValueError(f"stack_layers: '{prefix0}' and '{prefix1}' do not trace to the same op sequence")
    if total == 2:
        return workload
    tensors = workload.tensors
    # activation-number stride per block, from the first output of block 1 vs block 0
    first = lambda r: next(int(_ACT.match(t).group(2)) for t, i in _produced(tensors) if i in r)  # noqa: E731
    dk = first(r1) - first(r0)
    # the block's own model inputs (the KV cache): read by its ops or aliased by its views
    own0, own1 = _inputs_of(workload, r0), _inputs_of(workload, r1)
    if own0 & own1:
        raise ValueError(f"stack_layers: '{prefix0}' and '{prefix1}' share model inputs {sorted(own0 & own1)}")
    input_stride = min(own1) - min(own0) if own0 and own1 else 0
    # block-1 tensors that block 1 reads from block 0: for copy c they come from copy c - 1
    from_prev = {
        a.tensor: _twin(workload, a.tensor, r0, r1)
        for j in r1 for a in workload.ops[j].accesses
        if a.direction == "read" and tensors[a.tensor].producer in r0
    }
    extra = (total - 2) * n

    @functools.lru_cache(maxsize=None)
    def rename(name: str, c: int) -> str:
        """Block-1 name -> copy c's (c >= 1); suffix names shifted past the copies."""
        info = tensors[name]
        if info.kind == "weight":
            return name.replace(prefix1 + ".", prefix_of.format(c) + ".", 1) if name.startswith(prefix1 + ".") else name
        if info.kind == "input":
            m = _INPUT.match(name)
            if m and int(m.group(1)) in own1:
                return f"input:{int(m.group(1)) + (c - 1) * input_stride}"
            return name
        p = info.producer
        if p is not None and p in r1:
            m = _ACT.match(name)
            return f"act:{int(m.group(1)) + (c - 1) * n}:{int(m.group(2)) + (c - 1) * dk}" if m else f"{name}@{c}"
        if name in from_prev and c > 1:
            return rename(from_prev[name], c - 1)
        if p is not None and p >= r1.stop:
            m = _ACT.match(name)
            return f"act:{int(m.group(1)) + extra}:{int(m.group(2)) + (total - 2) * dk}" if m else name
        return name

    def copy_op(op: Op, c: int, new_index: int) -> Op:
        acc = tuple(TensorAccess(rename(a.tensor, c), a.role, a.direction, a.bits) for a in op.accesses)
        module = op.module.replace(prefix1, prefix_of.format(c), 1) if c > 1 else op.module
        return dataclasses.replace(op, index=new_index, module=module, accesses=acc)

    last = total - 1
    ops = list(workload.ops[: r1.stop])
    for c in range(2, total):
        ops += [copy_op(workload.ops[j], c, j + (c - 1) * n) for j in r1]
    ops += [copy_op(op, last, op.index + extra) for op in workload.ops[r1.stop:]]

    new: dict[str, TensorInfo] = {}
    for name, info in tensors.items():
        p = info.producer
        copies = range(2, total) if (p is not None and p in r1) or (name != rename(name, 2) and info.kind != "activation") else ()
        if p is not None and p >= r1.stop:
            new[rename(name, last)] = _moved(info, rename(name, last), extra, lambda a: rename(a, last))
            continue
        new[name] = info
        for c in copies:
            shift = (c - 1) * n if p is not None else 0
            new[rename(name, c)] = _moved(info, rename(name, c), shift, lambda a, c=c: rename(a, c))
    # last uses: the last op reading each tensor (a tensor no op reads keeps its shifted value)
    reads: dict[str, int] = {}
    for op in ops:
        for a in op.accesses:
            if a.direction == "read":
                reads[a.tensor] = op.index
    for name, info in new.items():
        if info.kind != "weight" and name in reads and reads[name] != info.last_use:
            new[name] = dataclasses.replace(info, last_use=reads[name])
    return make_workload(workload.model_name, ops, new, workload.unsupported, workload.batch_size)


def _produced(tensors) -> list[tuple[str, int]]:
    return sorted(((t, i.producer) for t, i in tensors.items() if i.producer is not None and _ACT.match(t)),
                  key=lambda x: (x[1], int(_ACT.match(x[0]).group(2))))


def _inputs_of(workload: Workload, r: range) -> set[int]:
    """Numbers of the model inputs the ops in ``r`` read directly or through views made in ``r``."""
    names = {a.tensor for i in r for a in workload.ops[i].accesses}
    names |= {t.alias_of for t in workload.tensors.values() if t.producer in r and t.alias_of}
    return {int(m.group(1)) for n in names if (m := _INPUT.match(n)) and workload.tensors[n].kind == "input"}


def _twin(workload: Workload, name: str, r0: range, r1: range) -> str:
    """The block-1 tensor produced at the same op offset and output slot as block-0 tensor ``name``."""
    p = workload.tensors[name].producer
    made0 = [t for t, i in _produced(workload.tensors) if i == p]
    made1 = [t for t, i in _produced(workload.tensors) if i == p + (r1.start - r0.start)]
    return made1[made0.index(name)]


def _moved(info: TensorInfo, name: str, shift: int, rename) -> TensorInfo:
    return dataclasses.replace(
        info, name=name,
        producer=None if info.producer is None else info.producer + shift,
        last_use=None if info.last_use is None else info.last_use + shift,
        alias_of=None if info.alias_of is None else rename(info.alias_of),
    )
