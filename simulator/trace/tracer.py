"""trace(model, example_inputs) -> Workload: every aten call of one forward pass, attributed to its module.

A ``TorchDispatchMode`` sees each aten call after autograd and composite decomposition (``nn.Linear``
arrives as ``aten.t`` + ``aten.addmm``, ``einsum`` as permutes + ``aten.bmm``). A module stack kept by
global forward hooks on *every* module of the model (not only leaves) names the innermost running
module by its fully qualified name.

Tensors are named by identity: parameters and buffers by their state-dict name (``kind="weight"``),
model inputs as ``input:<i>``, everything else as ``act:<op>:<i>``; the output of a free view
inherits the name of the tensor it aliases. The output of an op with a rule that aliases an input
(in-place ``relu_``/``add_``, ``out=`` variants, views with a rule), read from the aten schema's
alias annotations, gets a name of its own with ``TensorInfo.alias_of`` set to the owning tensor: it
occupies no memory and keeps its owner alive (``Workload.lifetimes``).

A ``torch.nn.utils.prune`` reparametrisation (``weight_orig * weight_mask``, computed in a forward
pre-hook) is recognised and its result named as the weight ``<module>.weight``
itself, so a pruned model has the same weights as its dense original, with the mask's density.

Activations and inputs carry their measured density (fraction of non-zero values, e.g. after a
ReLU) when traced on real tensors, for hardware that skips or gates zero activations.

Ops without a rule are counted in ``Workload.unsupported`` and warned about once, never dropped;
ops in ``IGNORED_OPS`` are free on purpose. Tracing can run on the ``meta`` device, where no weight
or activation memory is allocated (weights keep the encoding detected from their real values when
the model had any).
"""

from __future__ import annotations

import contextlib
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Self

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.weak import WeakIdKeyDictionary

import simulator.trace.rules  # noqa: F401  (registers every op rule)
from simulator.errors import TraceError
from simulator.frozen import FrozenMap
from simulator.trace.encoding import detect_encoding
from simulator.trace.meta_sdpa import FusedSdpaOnMeta
from simulator.trace.op_rules import IGNORED_OPS, OP_RULES, UNANNOTATED_VIEWS, TensorMeta, data_type_of
from simulator.workload import (
    CompressionRecord,
    DataType,
    Op,
    TensorAccess,
    TensorEncoding,
    TensorInfo,
    Workload,
    make_workload,
)

__all__ = ["trace"]

_MUL = torch.ops.aten.mul


class _ModuleStack:
    """Fully qualified names of the model's modules currently running, innermost last."""

    def __init__(self, model: torch.nn.Module) -> None:
        self._names = {id(m): name for name, m in model.named_modules(remove_duplicate=False)}
        self.stack: list[str] = []
        self._handles: list[Any] = []

    def __enter__(self) -> Self:
        hooks = torch.nn.modules.module
        self._handles = [
            hooks.register_module_forward_pre_hook(self._pre),
            hooks.register_module_forward_hook(self._post),
        ]
        return self

    def __exit__(self, *exc: object) -> None:
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


class _Tensor:
    """Mutable bookkeeping for one named tensor while tracing; becomes a ``TensorInfo`` at the end."""

    __slots__ = ("alias_of", "bits", "density", "dtype", "encoding", "kind", "last_use", "name", "producer", "shape")

    def __init__(
        self,
        name: str,
        kind: str,
        shape: tuple[int, ...],
        dtype: DataType,
        producer: int | None = None,
        encoding: TensorEncoding | None = None,
    ) -> None:
        self.name, self.kind, self.shape, self.dtype = name, kind, shape, dtype
        n = 1
        for s in shape:
            n *= s
        self.bits = n * dtype.bits
        self.encoding = encoding
        self.producer = producer
        self.last_use: int | None = None
        self.density: float | None = None
        self.alias_of: str | None = None

    def info(self, n_ops: int) -> TensorInfo:
        last = n_ops - 1
        producer = None if self.producer is None else min(self.producer, max(last, 0))
        last_use = None if self.last_use is None else min(self.last_use, max(last, 0))
        return TensorInfo(
            self.name,
            self.kind,
            self.shape,
            self.dtype,
            self.encoding,
            producer,
            last_use,
            measured_density=self.density,
            alias_of=self.alias_of,
        )


def _measured_density(t: torch.Tensor) -> float | None:
    """Fraction of non-zero values of an activation or input (None on meta, for empty or complex tensors)."""
    n = t.numel()
    if n == 0 or t.is_meta or t.is_complex() or t.is_quantized:
        return None
    return int(torch.count_nonzero(t)) / n


def _tensors_of(
    args: Sequence[Any], kwargs: Mapping[str, Any], packed: torch.Tensor | None = None
) -> list[torch.Tensor]:
    """Tensor arguments in rule order: positional (lists expanded), then keyword; a packed quantized
    weight (a TorchBind object) stands for ``packed``, the weight tensor of the running module."""
    found = []
    for group in (args, kwargs.values()):
        for a in group:
            if isinstance(a, torch.Tensor):
                found.append(a)
            elif packed is not None and isinstance(a, torch.ScriptObject):
                found.append(packed)
            elif isinstance(a, (list, tuple)):
                found.extend(b for b in a if isinstance(b, torch.Tensor))
    return found


def _packed_weights(model: torch.nn.Module) -> dict[str, tuple[str, torch.Tensor]]:
    """Packed weights of dynamic-quantized linears (``quantize_dynamic``): the module that calls the
    quantized op -> (``<module>.weight``, the weight as a plain tensor: the int8 values of a qint8
    weight, fp16 as fp16). Keyed by module: TorchBind objects have no stable Python identity."""
    found: dict[str, tuple[str, torch.Tensor]] = {}
    for name, module in model.named_modules():
        holder = getattr(module, "_packed_params", None)
        obj = getattr(holder, "_packed_params", None)
        if not isinstance(obj, torch.ScriptObject) or not hasattr(obj, "unpack"):
            continue
        weight = obj.unpack()[0]
        if weight.is_quantized:
            weight = weight.int_repr()
        elif getattr(holder, "dtype", None) == torch.float16:
            weight = weight.to(torch.float16)
        found[name] = (f"{name}.weight" if name else "weight", weight)
    return found


def _meta_of(x: Any, metas: dict[int, TensorMeta]) -> Any:
    if isinstance(x, torch.Tensor):
        return metas[id(x)]
    if isinstance(x, (list, tuple)) and any(isinstance(b, torch.Tensor) for b in x):
        return type(x)(_meta_of(b, metas) for b in x)
    return x


def _aliased_arguments(func: Any) -> tuple[int | None, ...]:
    """Per return of ``func``, the position of the schema argument it aliases (None = fresh memory).

    Read from the schema's alias annotations: ``relu_(Tensor(a!) self) -> Tensor(a!)`` returns its
    argument 0; ``add.out(..., Tensor(a!) out) -> Tensor(a!)`` its ``out`` argument.
    """
    schema = func._schema
    found: list[int | None] = []
    for ret in schema.returns:
        source = None
        if ret.alias_info is not None:
            sets = set(ret.alias_info.before_set)
            for pos, arg in enumerate(schema.arguments):
                if arg.alias_info is not None and sets & set(arg.alias_info.before_set):
                    source = pos
                    break
        found.append(source)
    return tuple(found)


def _argument(func: Any, pos: int, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
    """The value passed for the schema argument at ``pos`` (positional or keyword)."""
    if pos < len(args):
        return args[pos]
    return kwargs.get(func._schema.arguments[pos].name)


def _outputs_of(out: Any) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (list, tuple)):
        return [o for o in out if isinstance(o, torch.Tensor)]
    return []


class _Recorder(TorchDispatchMode):
    """Turns each aten call into an ``Op`` and tracks every tensor's name and liveness."""

    def __init__(
        self,
        modules: _ModuleStack,
        weights: Mapping[int, str],
        encodings: Mapping[str, TensorEncoding],
        pruned: Mapping[tuple[int, int], str],
        real_weights: Mapping[str, Any],
    ) -> None:
        super().__init__()
        self.modules = modules
        self.weight_names = weights  # id(param or buffer) -> state-dict name
        self.encodings = encodings
        self.pruned = pruned  # (id(weight_orig), id(weight_mask)) -> effective weight name
        self.real_weights = real_weights  # name -> real tensor (or a thunk) when tracing on meta
        self.names: WeakIdKeyDictionary = WeakIdKeyDictionary()
        self.tensors: dict[str, _Tensor] = {}
        self.ops: list[Op] = []
        self.unsupported: Counter[str] = Counter()
        self._aliases: dict[Any, bool] = {}
        self._alias_args: dict[Any, tuple[int | None, ...]] = {}
        self.packed: dict[str, torch.Tensor] = {}  # module -> the weight of its packed quantized op

    # -- tensor naming --------------------------------------------------------------------------

    def register_input(self, t: torch.Tensor, i: int) -> None:
        name = f"input:{i}"
        self.names[t] = name
        record = self.tensors[name] = _Tensor(name, "input", tuple(t.shape), data_type_of(t.dtype))
        record.density = _measured_density(t)

    def _add_weight(self, name: str, t: torch.Tensor) -> None:
        if name not in self.tensors:
            self.tensors[name] = _Tensor(
                name, "weight", tuple(t.shape), data_type_of(t.dtype), encoding=self._encoding(name, t)
            )
        self.names[t] = name

    def _name_of(self, t: torch.Tensor) -> str:
        name = self.names.get(t)
        if name is not None:
            return name
        weight = self.weight_names.get(id(t))
        if weight is not None:
            self._add_weight(weight, t)
            return weight
        # A tensor created outside the trace (a constant captured by the model): treat as an input.
        name = f"const:{len(self.tensors)}"
        self.names[t] = name
        record = self.tensors[name] = _Tensor(name, "input", tuple(t.shape), data_type_of(t.dtype))
        record.density = _measured_density(t)
        return name

    def _encoding(self, name: str, t: torch.Tensor) -> TensorEncoding | None:
        if name in self.encodings:
            return self.encodings[name]
        source = self.real_weights.get(name, t)
        if callable(source):
            source = source()
        return detect_encoding(source, name)

    def _new_activation(self, t: torch.Tensor, producer: int, alias_of: str | None = None) -> _Tensor:
        """Name an op's output; ``alias_of`` = the tensor whose memory it shares (its owner is recorded)."""
        if alias_of is not None:
            alias_of = self.tensors[alias_of].alias_of or alias_of
        name = f"act:{producer}:{len(self.tensors)}"
        self.names[t] = name
        record = _Tensor(name, "activation", tuple(t.shape), data_type_of(t.dtype), producer=producer)
        record.density = _measured_density(t)
        record.alias_of = alias_of
        self.tensors[name] = record
        return record

    def _alias_names(
        self, func: Any, args: Sequence[Any], kwargs: Mapping[str, Any], in_names: Sequence[str],
        in_tensors: Sequence[torch.Tensor], outputs: Sequence[torch.Tensor],
    ) -> list[str | None]:
        """Per output, the name of the input tensor it aliases (schema alias annotations, then identity)."""
        positions = self._alias_args.get(func)
        if positions is None:
            positions = self._alias_args[func] = _aliased_arguments(func)
        by_id = {id(t): n for t, n in zip(in_tensors, in_names)}
        found: list[str | None] = []
        for i, o in enumerate(outputs):
            name = by_id.get(id(o))  # an in-place op returns its argument itself
            if name is None and len(outputs) == len(positions) and positions[i] is not None:
                source = _argument(func, positions[i], args, kwargs)
                if isinstance(source, torch.Tensor):
                    name = by_id.get(id(source))
            found.append(name)
        return found

    # -- dispatch -------------------------------------------------------------------------------

    def __torch_dispatch__(
        self, func: Any, types: Any, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None
    ):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        packet = func.overloadpacket
        in_tensors = _tensors_of(args, kwargs, self.packed.get(self.modules.current) if self.packed else None)

        if packet is _MUL and len(in_tensors) == 2 and self.pruned:
            derived = self.pruned.get((id(in_tensors[0]), id(in_tensors[1]))) or self.pruned.get(
                (id(in_tensors[1]), id(in_tensors[0]))
            )
            if derived is not None:  # prune's weight_orig * weight_mask: the effective weight itself
                self._add_weight(derived, out)
                return out

        in_names = [self._name_of(t) for t in in_tensors]
        out_tensors = _outputs_of(out)

        if packet in IGNORED_OPS:
            aliases = self._aliases.get(func)
            if aliases is None:
                returns = func._schema.returns
                aliases = bool(returns) and returns[0].alias_info is not None
                aliases = self._aliases[func] = aliases or packet in UNANNOTATED_VIEWS
            for o in out_tensors:
                if aliases and in_names:
                    self.names[o] = in_names[0]
                else:
                    self._new_activation(o, producer=len(self.ops))
            return out

        rule = OP_RULES.get(packet)
        if rule is None:
            self.unsupported[str(packet)] += 1
            index = max(len(self.ops) - 1, 0)
            for name in in_names:
                record = self.tensors[name]
                if record.kind != "weight":
                    record.last_use = index
            aliases = self._alias_names(func, args, kwargs, in_names, in_tensors, out_tensors)
            for o, alias in zip(out_tensors, aliases):
                self._new_activation(o, producer=index, alias_of=alias)
            return out

        index = len(self.ops)
        metas = {id(t): TensorMeta(tuple(t.shape), data_type_of(t.dtype)) for t in in_tensors}
        meta_args = [_meta_of(a, metas) for a in args]
        # An ``out=`` tensor is the op's output (its alias is recorded below), not an argument a rule reads.
        meta_kwargs = {k: _meta_of(v, metas) for k, v in kwargs.items() if k != "out"}
        out_args = {id(t) for t in _outputs_of(kwargs.get("out"))}
        out_meta = TensorMeta(tuple(out_tensors[0].shape), data_type_of(out_tensors[0].dtype)) if out_tensors else None
        try:
            result = rule(*meta_args, **meta_kwargs, out=out_meta)
        except Exception as exc:  # a rule bug must name the op and layer, not vanish
            raise TraceError(f"op rule for {packet} failed in layer '{self.modules.current}': {exc}") from exc

        accesses: list[TensorAccess] = []
        seen: set[str] = set()
        partial = result.partial_reads
        positions = result.read_args
        if positions is None:
            positions = [i for i, t in enumerate(in_tensors) if id(t) not in out_args]
        for pos in (*positions, *partial):
            name = in_names[pos]
            if name in seen:
                continue
            seen.add(name)
            record = self.tensors[name]
            if pos in partial:
                bits = min(partial[pos], record.bits)
            else:
                m = metas[id(in_tensors[pos])]
                bits = min(m.numel * m.dtype.bits, record.bits)  # a view reads at most its base
            if record.kind == "weight":
                accesses.append(TensorAccess(name, "weights", "read", bits))
            else:
                accesses.append(TensorAccess(name, "inputs", "read", bits))
                record.last_use = index
        written = range(len(out_tensors)) if result.write_outputs is None else result.write_outputs
        aliases = self._alias_names(func, args, kwargs, in_names, in_tensors, out_tensors)
        for pos, o in enumerate(out_tensors):
            record = self._new_activation(o, producer=index, alias_of=aliases[pos])
            if pos in written:
                accesses.append(TensorAccess(record.name, "outputs", "write", record.bits))
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


def _is_meta(device: Any) -> bool:
    return device is not None and torch.device(device).type == "meta"


def _pruned_pairs(model: torch.nn.Module, params: Mapping[str, torch.Tensor]) -> dict[tuple[int, int], str]:
    """``(id(X_orig), id(X_mask)) -> "module.X"`` for every ``torch.nn.utils.prune`` reparametrisation."""
    pairs = {}
    for name, t in params.items():
        if name.endswith("_orig"):
            base = name[: -len("_orig")]
            mask = params.get(base + "_mask")
            if mask is not None:
                pairs[(id(t), id(mask))] = base
    return pairs


def trace(
    model: torch.nn.Module,
    example_inputs: torch.Tensor | Sequence[torch.Tensor],
    record: CompressionRecord | None = None,
    model_name: str | None = None,
    device: str | torch.device | None = None,
) -> Workload:
    """Run one forward pass of ``model`` under the recorder and return its ``Workload``.

    Args:
        model: any ``nn.Module``; it runs as given (call ``.eval()`` first for inference behaviour).
            A model whose parameters are on the meta device is traced on meta.
        example_inputs: one tensor or a sequence of positional inputs; the leading dimension of the
            first tensor is the batch size.
        record: compression record whose encodings describe the weights; weights it does not name
            get an encoding detected from their values (``simulator.trace.encoding``).
        model_name: name stored in the workload (default: the model's class name).
        device: ``"meta"`` traces without allocating weights or activations: parameters and buffers
            are swapped for meta tensors for the duration of the call (the model is not modified),
            inputs are moved to meta. Default: trace where the model and inputs are.

    Raises:
        TraceError: ``model`` is not a module, ``device`` is not supported, or the forward raised
            (the message names the model and the innermost layer that was running).
    """
    if not isinstance(model, torch.nn.Module):
        raise TraceError(f"trace() needs a torch.nn.Module, got {type(model).__name__}")
    name = model_name or type(model).__name__
    if device is not None and torch.device(device).type not in ("meta", "cpu"):
        raise TraceError(f"tracing model '{name}': device must be None, 'cpu' or 'meta', got {device!r}")
    inputs = (example_inputs,) if isinstance(example_inputs, torch.Tensor) else tuple(example_inputs)
    params = dict(model.named_parameters(remove_duplicate=False))
    params.update(model.named_buffers(remove_duplicate=False))
    on_meta = _is_meta(device) or any(t.is_meta for t in params.values())
    encodings = dict(record.encodings) if record is not None else {}
    pruned = _pruned_pairs(model, params)

    real_weights: dict[str, Any] = {}
    substitutes: dict[str, torch.Tensor] | None = None
    if on_meta:
        substitutes, pruned, real_weights = _meta_substitutes(params, pruned)
        params = substitutes or params
        inputs = tuple(t.to("meta") if isinstance(t, torch.Tensor) else t for t in inputs)
    weights = {id(t): n for n, t in params.items()}
    packed = _packed_weights(model)
    weights.update({id(t): n for n, t in packed.values()})

    modules = _ModuleStack(model)
    recorder = _Recorder(modules, weights, encodings, pruned, real_weights)
    recorder.packed = {key: t for key, (_, t) in packed.items()}
    with torch.no_grad():
        for i, t in enumerate(inputs):
            if isinstance(t, torch.Tensor):
                recorder.register_input(t, i)
        try:
            with modules, recorder, (FusedSdpaOnMeta() if on_meta else contextlib.nullcontext()):
                if substitutes is not None:
                    torch.func.functional_call(model, substitutes, inputs, strict=False)
                else:
                    model(*inputs)
        except TraceError:
            raise
        except Exception as exc:
            layer = modules.current or "(top level)"
            hint = " (on the meta device, ops that need tensor values cannot run)" if on_meta else ""
            raise TraceError(
                f"tracing model '{name}' failed in layer '{layer}': {type(exc).__name__}: {exc}{hint}"
            ) from exc

    if recorder.unsupported:
        listing = ", ".join(f"{op} x{n}" for op, n in sorted(recorder.unsupported.items()))
        warnings.warn(
            f"{name}: ops with no cost rule (counted in Workload.unsupported, not costed): {listing}", stacklevel=2
        )
    n_ops = len(recorder.ops)
    tensors = {n: t.info(n_ops) for n, t in recorder.tensors.items()}
    first = inputs[0] if inputs and isinstance(inputs[0], torch.Tensor) else None
    batch = first.shape[0] if first is not None and first.dim() > 0 else 1
    return make_workload(name, recorder.ops, tensors, FrozenMap(recorder.unsupported), batch_size=int(batch))


def _meta_substitutes(
    params: Mapping[str, torch.Tensor], pruned: Mapping[tuple[int, int], str]
) -> tuple[dict[str, torch.Tensor] | None, dict[tuple[int, int], str], dict[str, Any]]:
    """Meta stand-ins for the real parameters and buffers (None if all are meta already).

    Returns the stand-ins by name (a tied tensor gets one stand-in), the prune pairs re-keyed to
    the stand-ins, and name -> real tensor (or a thunk computing a pruned weight) from which
    encodings are still detected.
    """
    real = {n: t for n, t in params.items() if not t.is_meta}
    real_weights: dict[str, Any] = dict(real)
    by_id = {id(t): t for t in real.values()}
    for (orig_id, mask_id), base in pruned.items():
        if orig_id in by_id and mask_id in by_id:
            real_weights[base] = lambda o=by_id[orig_id], m=by_id[mask_id]: o.detach() * m
    if not real:
        return None, dict(pruned), real_weights
    stand_ins: dict[int, torch.Tensor] = {}
    substitutes = {}
    for n, t in params.items():
        if id(t) not in stand_ins:
            stand_ins[id(t)] = torch.empty_like(t, device="meta")
        substitutes[n] = stand_ins[id(t)]
    repruned = {(id(stand_ins.get(o)), id(stand_ins.get(m))): base for (o, m), base in pruned.items()}
    return substitutes, repruned, real_weights
