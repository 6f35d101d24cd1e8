"""trace(model, example_inputs) -> Workload: every aten call of one forward pass, attributed to its module.

A ``TorchDispatchMode`` sees each aten call after autograd and composite decomposition (``nn.Linear``
arrives as ``aten.t`` + ``aten.addmm``). A module stack kept by global forward hooks on *every*
module of the model (not only leaves) names the innermost running module by its fully qualified name.
Tensors are named by identity: parameters and buffers by their state-dict name, model inputs as
``input:<i>``, everything else as ``act:<op>:<i>``; views inherit the name of the tensor they alias.
Ops without a rule are counted in ``Workload.unsupported`` and warned about once, never dropped silently.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map
from torch.utils.weak import WeakIdKeyDictionary

from simulator.errors import TraceError
from simulator.frozen import FrozenMap
from simulator.trace.op_rules import IGNORED_OPS, OP_RULES, TensorMeta, data_type_of
from simulator.workload import CompressionRecord, Op, TensorAccess, TensorEncoding, TensorInfo, Workload, make_workload

__all__ = ["trace"]


class _ModuleStack:
    """Fully qualified names of the model's modules currently running, innermost last."""

    def __init__(self, model: torch.nn.Module) -> None:
        self._names = {id(m): name for name, m in model.named_modules()}
        self.stack: list[str] = []
        self._handles: list[Any] = []

    def __enter__(self) -> _ModuleStack:
        hooks = torch.nn.modules.module
        self._handles = [
            hooks.register_module_forward_pre_hook(self._pre),
            hooks.register_module_forward_hook(self._post),
        ]
        return self

    def __exit__(self, *exc: Any) -> None:
        for h in self._handles:
            h.remove()

    def _pre(self, module: torch.nn.Module, args: Any) -> None:
        name = self._names.get(id(module))
        if name is not None:
            self.stack.append(name)

    def _post(self, module: torch.nn.Module, args: Any, output: Any) -> None:
        # Not called when forward raises, so the failing layer stays on top for the error message;
        # frames left by an exception the model caught itself are popped here.
        name = self._names.get(id(module))
        if name is not None and name in self.stack:
            while self.stack.pop() != name:
                pass

    @property
    def current(self) -> str:
        return self.stack[-1] if self.stack else ""


class _Recorder(TorchDispatchMode):
    """Turns each aten call into an ``Op`` and tracks every tensor's name and liveness."""

    def __init__(self, modules: _ModuleStack, weights: Mapping[int, str], encodings: Mapping[str, TensorEncoding]):
        super().__init__()
        self.modules = modules
        self.weight_names = weights  # id(param or buffer) -> state-dict name
        self.encodings = encodings
        self.names: WeakIdKeyDictionary = WeakIdKeyDictionary()
        self.tensors: dict[str, TensorInfo] = {}
        self.ops: list[Op] = []
        self.unsupported: Counter[str] = Counter()
        self._weight_objects: dict[str, torch.Tensor] = {}

    # -- tensor naming --------------------------------------------------------------------------

    def register_input(self, t: torch.Tensor, i: int) -> None:
        name = f"input:{i}"
        self.names[t] = name
        self.tensors[name] = TensorInfo(name, "input", tuple(t.shape), data_type_of(t.dtype))

    def _name_of(self, t: torch.Tensor) -> str:
        name = self.names.get(t)
        if name is not None:
            return name
        weight = self.weight_names.get(id(t))
        if weight is not None:
            self.names[t] = weight
            if weight not in self.tensors:
                self.tensors[weight] = TensorInfo(
                    weight, "weight", tuple(t.shape), data_type_of(t.dtype), encoding=self._encoding(weight, t)
                )
            return weight
        # A tensor created outside the trace (a constant captured by the model): treat as an input.
        name = f"const:{len(self.tensors)}"
        self.names[t] = name
        self.tensors[name] = TensorInfo(name, "input", tuple(t.shape), data_type_of(t.dtype))
        return name

    def _encoding(self, name: str, t: torch.Tensor) -> TensorEncoding | None:
        if name in self.encodings:
            return self.encodings[name]
        if t.is_meta or t.numel() == 0:
            return None
        nonzero = int(torch.count_nonzero(t))
        if nonzero == t.numel() or nonzero == 0:
            return None
        return TensorEncoding(density=nonzero / t.numel(), value_bits=data_type_of(t.dtype).bits)

    def _touch(self, name: str, op_index: int) -> None:
        info = self.tensors[name]
        if info.kind != "weight":
            self.tensors[name] = _replace_last_use(info, op_index)

    # -- dispatch -------------------------------------------------------------------------------

    def __torch_dispatch__(self, func: Any, types: Any, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        packet = func.overloadpacket
        in_tensors = [a for a in tree_flatten((args, kwargs))[0] if isinstance(a, torch.Tensor)]
        out_tensors = [o for o in tree_flatten(out)[0] if isinstance(o, torch.Tensor)]
        in_names = [self._name_of(t) for t in in_tensors]

        if packet in IGNORED_OPS:
            aliases = bool(func._schema.returns) and func._schema.returns[0].alias_info is not None
            for o in out_tensors:
                if aliases and in_names:
                    self.names[o] = in_names[0]
                else:
                    self._new_activation(o, producer=len(self.ops))
            return out

        rule = OP_RULES.get(packet)
        if rule is None:
            self.unsupported[str(packet)] += 1
            for name in in_names:
                self._touch(name, max(len(self.ops) - 1, 0))
            for o in out_tensors:
                self._new_activation(o, producer=max(len(self.ops) - 1, 0))
            return out

        index = len(self.ops)
        meta_args, meta_kwargs = tree_map(_to_meta, (tuple(args), dict(kwargs)))
        out_meta = _to_meta(out_tensors[0]) if out_tensors else None
        try:
            result = rule(*meta_args, **meta_kwargs, out=out_meta)
        except Exception as exc:  # a rule bug must name the op and layer, not vanish
            raise TraceError(f"op rule for {packet} failed in layer '{self.modules.current}': {exc}") from exc
        read_positions = range(len(in_tensors)) if result.read_args is None else result.read_args
        accesses: list[TensorAccess] = []
        seen: set[str] = set()
        for pos in read_positions:
            name = in_names[pos]
            if name in seen:
                continue
            seen.add(name)
            info = self.tensors[name]
            role = "weights" if info.kind == "weight" else "inputs"
            accesses.append(TensorAccess(name, role, "read", info.dense_bits))
            self._touch(name, index)
        for o in out_tensors:
            name = self._new_activation(o, producer=index)
            accesses.append(TensorAccess(name, "outputs", "write", self.tensors[name].dense_bits))
        self.ops.append(
            Op(
                index=index,
                module=self.modules.current,
                kind=result.kind,
                aten=str(func),
                macs=int(result.macs),
                mac_dtype=result.mac_dtype if result.macs else None,
                arith=result.arith,
                accesses=tuple(accesses),
                dims=result.dims,
            )
        )
        return out

    def _new_activation(self, t: torch.Tensor, producer: int) -> str:
        name = f"act:{producer}:{len(self.tensors)}"
        self.names[t] = name
        self.tensors[name] = TensorInfo(name, "activation", tuple(t.shape), data_type_of(t.dtype), producer=producer)
        return name


def _replace_last_use(info: TensorInfo, op_index: int) -> TensorInfo:
    from dataclasses import replace

    return replace(info, last_use=op_index)


def _to_meta(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return TensorMeta(tuple(x.shape), data_type_of(x.dtype))
    return x


def trace(
    model: torch.nn.Module,
    example_inputs: torch.Tensor | Sequence[torch.Tensor],
    record: CompressionRecord | None = None,
    model_name: str | None = None,
) -> Workload:
    """Run one forward pass of ``model`` under the recorder and return its ``Workload``.

    Args:
        model: any ``nn.Module``; it runs as given (call ``.eval()`` first for inference behaviour).
        example_inputs: one tensor or a sequence of positional input tensors; the leading dimension
            of the first is the batch size.
        record: compression record whose encodings describe the weights; weights it does not name
            get an encoding detected from their values (density from zeros).
        model_name: name stored in the workload (default: the model's class name).

    Raises:
        TraceError: ``model`` is not a module, or its forward raised (the message names the model
            and the innermost layer that was running).
    """
    if not isinstance(model, torch.nn.Module):
        raise TraceError(f"trace() needs a torch.nn.Module, got {type(model).__name__}")
    name = model_name or type(model).__name__
    inputs = (example_inputs,) if isinstance(example_inputs, torch.Tensor) else tuple(example_inputs)
    weights = {id(p): n for n, p in model.named_parameters(remove_duplicate=False)}
    weights.update({id(b): n for n, b in model.named_buffers(remove_duplicate=False)})
    encodings = dict(record.encodings) if record is not None else {}

    modules = _ModuleStack(model)
    recorder = _Recorder(modules, weights, encodings)
    with torch.no_grad():
        for i, t in enumerate(inputs):
            recorder.register_input(t, i)
        try:
            with modules, recorder:
                model(*inputs)
        except TraceError:
            raise
        except Exception as exc:
            layer = modules.current or "(top level)"
            raise TraceError(f"tracing model '{name}' failed in layer '{layer}': {type(exc).__name__}: {exc}") from exc

    if recorder.unsupported:
        listing = ", ".join(f"{op} x{n}" for op, n in sorted(recorder.unsupported.items()))
        warnings.warn(f"{name}: ops with no cost rule (counted in Workload.unsupported, not costed): {listing}", stacklevel=2)
    batch = inputs[0].shape[0] if inputs and inputs[0].dim() > 0 else 1
    return make_workload(name, recorder.ops, recorder.tensors, FrozenMap(recorder.unsupported), batch_size=int(batch))
