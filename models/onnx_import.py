"""An ONNX file as an ``nn.Module`` pjsim can trace: the graph read with ``onnx``, each node a torch module.

Why not a converter package: ``onnx2torch`` (the maintained ONNX -> PyTorch converter) imports
``torchvision`` at import time, and PyPI's torchvision wheels are CUDA builds that do not load
against the CPU build of torch 2.13 this project runs on (``operator torchvision::nms does not
exist``), so it cannot be imported here. The graph is therefore read with the reference ``onnx``
library (the ``onnx`` extra) and the operators found in CNN/MLP exports (the peers' ZigZag workloads
included) are mapped to torch modules below; any other operator is refused naming the node.

Weights: initializers stored in the file are used as stored. Initializers whose data lives in a
missing external file (shape-only graphs, as ZigZag ships them) get seeded random values of their
declared shape, so MACs, shapes and bit counts are exact while values are not (say so in reports).

Module names follow the node names (``/layer1/layer1.0/conv1/Conv`` -> ``layer1_layer1_0_conv1_Conv``),
so per-layer tables can be read against the ONNX graph.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from simulator.errors import ModelError

__all__ = ["OnnxModule", "load_onnx"]


class _Fn(nn.Module):
    """A parameter-free node: ``fn(*inputs)``."""

    def __init__(self, fn: Callable[..., torch.Tensor], op: str) -> None:
        super().__init__()
        self.fn, self.op = fn, op

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return self.fn(*xs)

    def extra_repr(self) -> str:
        return self.op


class _Padded(nn.Module):
    """Asymmetric ONNX ``pads`` (begin..., end...) applied before a symmetric-padding torch module."""

    def __init__(self, pads: list[int], inner: nn.Module, value: float = 0.0) -> None:
        super().__init__()
        half = len(pads) // 2
        self.pad = [p for i in reversed(range(half)) for p in (pads[i], pads[i + half])]
        self.inner, self.value = inner, value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(F.pad(x, self.pad, value=self.value))


def _pads(attrs: dict, spatial: int) -> tuple[list[int], bool]:
    if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise ValueError(f"auto_pad={attrs['auto_pad']!r} is not supported (export with explicit pads)")
    pads = list(attrs.get("pads", [0] * 2 * spatial))
    return pads, pads[:spatial] == pads[spatial:]


def _conv(node, attrs, w, b) -> nn.Module:
    spatial = w.dim() - 2
    cls = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[spatial]
    groups = int(attrs.get("group", 1))
    pads, symmetric = _pads(attrs, spatial)
    conv = cls(w.shape[1] * groups, w.shape[0], tuple(w.shape[2:]), stride=tuple(attrs.get("strides", [1] * spatial)),
               padding=tuple(pads[:spatial]) if symmetric else 0, dilation=tuple(attrs.get("dilations", [1] * spatial)),
               groups=groups, bias=b is not None)
    with torch.no_grad():
        conv.weight.copy_(w)
        if b is not None:
            conv.bias.copy_(b)
    return conv if symmetric else _Padded(pads, conv)


def _linear(weight_out_in: torch.Tensor, bias: torch.Tensor | None) -> nn.Linear:
    lin = nn.Linear(weight_out_in.shape[1], weight_out_in.shape[0], bias=bias is not None)
    with torch.no_grad():
        lin.weight.copy_(weight_out_in)
        if bias is not None:
            lin.bias.copy_(bias.reshape(-1).expand(weight_out_in.shape[0]))
    return lin


def _pool(op: str, attrs: dict) -> nn.Module:
    k = list(attrs["kernel_shape"])
    spatial = len(k)
    pads, symmetric = _pads(attrs, spatial)
    kw = dict(kernel_size=tuple(k), stride=tuple(attrs.get("strides", [1] * spatial)),
              padding=tuple(pads[:spatial]) if symmetric else 0, ceil_mode=bool(attrs.get("ceil_mode", 0)))
    if op == "MaxPool":
        inner = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}[spatial](**kw)
        return inner if symmetric else _Padded(pads, inner, float("-inf"))
    inner = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}[spatial](
        **kw, count_include_pad=bool(attrs.get("count_include_pad", 0)))
    return inner if symmetric else _Padded(pads, inner)


def _build(node, attrs: dict, consts: dict[str, torch.Tensor]) -> tuple[nn.Module, list[str]]:
    """The torch module of one node and the names of its runtime (non-constant) inputs."""
    op, ins = node.op_type, [i for i in node.input if i]
    const = lambda i: consts.get(ins[i]) if i < len(ins) else None  # noqa: E731
    runtime = [i for i in ins if i not in consts]
    if op == "Conv":
        return _conv(node, attrs, const(1), const(2)), runtime
    if op == "Gemm" and const(1) is not None and not attrs.get("transA", 0) \
            and attrs.get("alpha", 1.0) == 1.0 and attrs.get("beta", 1.0) == 1.0:
        w = const(1) if attrs.get("transB", 0) else const(1).T
        return _linear(w, const(2)), runtime
    if op == "MatMul" and const(1) is not None and const(1).dim() == 2:
        return _linear(const(1).T, None), runtime
    if op in ("MaxPool", "AveragePool"):
        return _pool(op, attrs), runtime
    if op == "BatchNormalization":
        scale, bias, mean, var = (const(i) for i in range(1, 5))
        bn = nn.BatchNorm2d(scale.numel(), eps=float(attrs.get("epsilon", 1e-5))).eval()
        with torch.no_grad():
            bn.weight.copy_(scale); bn.bias.copy_(bias); bn.running_mean.copy_(mean); bn.running_var.copy_(var)  # noqa: E702
        return bn, runtime
    if op == "LRN":
        return nn.LocalResponseNorm(int(attrs["size"]), float(attrs.get("alpha", 1e-4)), float(attrs.get("beta", 0.75)),
                                    float(attrs.get("bias", 1.0))), runtime
    simple: dict[str, Callable[..., torch.Tensor]] = {
        "Relu": torch.relu, "Sigmoid": torch.sigmoid, "Tanh": torch.tanh, "Identity": lambda x: x,
        "Dropout": lambda x, *_: x, "GlobalAveragePool": lambda x: x.mean(dim=tuple(range(2, x.dim())), keepdim=True),
        "Softmax": lambda x: torch.softmax(x, int(attrs.get("axis", -1))),
        "LeakyRelu": lambda x: F.leaky_relu(x, float(attrs.get("alpha", 0.01))),
        "Flatten": lambda x: x.flatten(int(attrs.get("axis", 1))) if int(attrs.get("axis", 1)) else x.reshape(1, -1),
        "Transpose": lambda x: x.permute(*attrs["perm"]),
    }
    if op in simple:
        return _Fn(simple[op], op), runtime[:1]
    if op == "Clip":
        lo = const(1) if const(1) is not None else attrs.get("min")
        hi = const(2) if const(2) is not None else attrs.get("max")
        lo, hi = (None if v is None else float(v) for v in (lo, hi))
        return _Fn(lambda x: torch.clamp(x, lo, hi), "Clip"), runtime[:1]
    if op == "Reshape":
        shape = [int(s) for s in const(1).tolist()]
        return _Fn(lambda x: x.reshape([x.shape[i] if s == 0 else s for i, s in enumerate(shape)]), "Reshape"), runtime[:1]
    if op == "Concat":
        return _Fn(lambda *xs: torch.cat(xs, int(attrs["axis"])), "Concat"), runtime
    binary = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div, "MatMul": torch.matmul}
    if op in binary:
        fn = binary[op]
        if len(runtime) == 2:
            return _Fn(fn, op), runtime
        other, first = (const(1), True) if ins[0] in runtime else (const(0), False)
        holder = _Fn(lambda x: fn(x, holder.other) if first else fn(holder.other, x), op)
        holder.register_buffer("other", other)
        return holder, runtime
    raise ValueError(f"operator {op} is not supported by pjsim's ONNX import")


class OnnxModule(nn.Module):
    """The graph as a module: nodes run in file order, values kept by ONNX tensor name."""

    def __init__(self, nodes: list[tuple[str, nn.Module, list[str], list[str]]], inputs: list[str], output: str) -> None:
        super().__init__()
        self.order = []
        for name, module, ins, outs in nodes:
            self.add_module(name, module)
            self.order.append((name, ins, outs))
        self.input_names, self.output_name = inputs, output

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        env: dict[str, Any] = dict(zip(self.input_names, xs))
        for name, ins, outs in self.order:
            env[outs[0]] = getattr(self, name)(*(env[i] for i in ins))
        return env[self.output_name]


def _tensor(init, path: Path, gen: torch.Generator) -> torch.Tensor:
    from onnx import TensorProto, numpy_helper

    external = init.data_location == TensorProto.EXTERNAL
    if external:
        location = {e.key: e.value for e in init.external_data}.get("location", "")
        if (path.parent / location).is_file():
            from onnx.external_data_helper import load_external_data_for_tensor

            load_external_data_for_tensor(init, str(path.parent))
            external = False
    if not external:
        return torch.from_numpy(np.array(numpy_helper.to_array(init)))
    dims = tuple(int(d) for d in init.dims)
    if init.data_type in (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE):
        fan_in = int(np.prod(dims[1:])) if len(dims) > 1 else max(dims[0] if dims else 1, 1)
        return (torch.rand(dims, generator=gen) * 2 - 1) / np.sqrt(max(fan_in, 1))
    raise ValueError(f"initializer {init.name!r}: its data is in a missing external file and it is not a float tensor")


def load_onnx(path: str | Path, seed: int = 0) -> tuple[nn.Module, list[tuple[int, ...]]]:
    """The module of an ONNX file and the declared shapes of its graph inputs (batch first).

    Raises:
        ModelError: the ``onnx`` package is missing (install the ``onnx`` extra), the file cannot be
            parsed, or a node uses an operator or attribute the import does not support (names the node).
    """
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise ModelError(f"model '{path}': reading ONNX needs the 'onnx' package (pip install 'pjsim[onnx]')") from None
    path = Path(path)
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises several types for a corrupt file
        raise ModelError(f"model '{path}': not a readable ONNX file ({type(exc).__name__}: {exc})") from None
    graph = model.graph
    gen = torch.Generator().manual_seed(seed)
    try:
        consts = {init.name: _tensor(init, path, gen) for init in graph.initializer}
    except ValueError as exc:
        raise ModelError(f"model '{path}': {exc}") from None
    inputs = [i for i in graph.input if i.name not in consts]
    shapes = [tuple(max(int(d.dim_value), 1) for d in i.type.tensor_type.shape.dim) for i in inputs]
    nodes, used = [], set()
    for k, node in enumerate(graph.node):
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Constant":
            consts[node.output[0]] = torch.from_numpy(np.array(numpy_helper.to_array(attrs["value"])))
            continue
        name = re.sub(r"\W+", "_", node.name or f"{node.op_type}_{k}").strip("_") or f"node{k}"
        name = name if name not in used else f"{name}_{k}"
        used.add(name)
        try:
            module, runtime = _build(node, attrs, consts)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelError(f"model '{path}': node {node.name or k} ({node.op_type}): {exc}") from None
        nodes.append((name, module, runtime, list(node.output)))
    return OnnxModule(nodes, [i.name for i in inputs], graph.output[0].name).eval(), shapes
