"""One resolver for every model argument: zoo name, ``package.module:factory``, ``.pjc``, ``.pt`` or ``.onnx``.

``resolve_model(spec, input_shape, batch_size)`` is what ``pjsim trace/simulate/report/compress``
and ``simulator.api.trace_model`` call, so a model argument means the same thing everywhere:

- a zoo name (``"resnet18"``): the seeded factory; its input shape is known.
- ``package.module:factory``: a zero-argument factory (or an ``nn.Module`` attribute) imported with
  the current directory on the import path (the console script does not put it there); the input
  shape must be given.
- a ``.pjc`` file written by ``pjsim compress`` / ``simulator.storage.pack``: the architecture named
  in its header, the decoded weights, and the stored ``CompressionRecord`` (the encodings as packed),
  so the file is costed as stored. Its input shape is the architecture's (zoo) or the one recorded
  in the file's metadata by ``pjsim compress``.
- a ``.pt``/``.pth`` state dict plus a named architecture (``file.pt@resnet18`` or ``arch="resnet18"``,
  a zoo name or ``package.module:factory``): the architecture built, the tensors loaded strictly. The
  file is read with ``torch.load(weights_only=True)``, which refuses arbitrary objects: a pickled
  whole module can run any code while it is unpickled, so it is loaded only with ``allow_pickle=True``
  (``--allow-pickle``) for a file the user trusts.
- an ``.onnx`` file (``models.onnx_import``): the graph as modules; its input shape is the graph's.

Example inputs: ``inputs`` (``models.input_spec``: ``"x:float32[8,3,224,224]"``, ``"ids:int64[1,128]"``,
several for several forward arguments) replace the default single float input.

The batch: ``input_shape`` is batch first and its batch is honoured (``8,32,56,56`` traces a batch
of 8). ``batch_size`` alone replaces the batch of the model's known shape; both given and different
is an error rather than a silent choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from models.registry import load_model, model_spec
from simulator.errors import ModelError
from simulator.workload import CompressionRecord

__all__ = ["ONNX_SUFFIX", "PJC_SUFFIX", "PT_SUFFIXES", "ResolvedModel", "parse_input_shape", "resolve_model"]

#: File suffix of the pjsim compressed format (``simulator.storage.format``).
PJC_SUFFIX = ".pjc"
#: Suffixes of PyTorch files (state dicts, or pickled modules with ``allow_pickle``).
PT_SUFFIXES = (".pt", ".pth")
ONNX_SUFFIX = ".onnx"


@dataclass(frozen=True, eq=False)
class ResolvedModel:
    """A model argument made concrete.

    Attributes:
        name: the architecture's name (zoo name, import path, or the one a ``.pjc`` header names).
        label: what the user wrote, for titles (``"lenet.pjc"``).
        module: the network, in eval mode, with its weights.
        example_inputs: the inputs to trace with: one deterministic batch (seeded), or those given.
        record: the weights' encodings (empty unless the model came from a ``.pjc`` file).
        source: ``"zoo"``, ``"import"``, ``"pjc"``, ``"pt"`` or ``"onnx"``.
        path: the file (None for zoo and import models).
    """

    name: str
    label: str
    module: nn.Module
    example_inputs: Any
    record: CompressionRecord = field(default_factory=CompressionRecord)
    source: str = "zoo"
    path: Path | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of the (first) example input, batch first."""
        first = self.example_inputs[0] if isinstance(self.example_inputs, (tuple, list)) else self.example_inputs
        return tuple(first.shape)


def parse_input_shape(text: str | None) -> tuple[int, ...] | None:
    """``"8,3,224,224"`` (or ``8x3x224x224``) -> ``(8, 3, 224, 224)``; None stays None.

    Raises:
        ValueError: not a list of positive whole numbers (the message quotes the text).
    """
    if text is None:
        return None
    try:
        shape = tuple(int(s) for s in text.replace("x", ",").split(",") if s.strip())
    except ValueError:
        raise ValueError(
            f"expected comma-separated whole numbers such as 1,3,224,224 (batch first), got {text!r}"
        ) from None
    if not shape or any(s <= 0 for s in shape):
        raise ValueError(f"expected positive dimensions such as 1,3,224,224 (batch first), got {text!r}")
    return shape


def _example(shape: tuple[int, ...], dtype: str = "float32") -> torch.Tensor:
    """The zoo's deterministic example input (uniform [0, 1), seed 0; token ids: zeros) of ``shape``."""
    if not getattr(torch, dtype).is_floating_point:
        return torch.zeros(shape, dtype=getattr(torch, dtype))
    return torch.rand(shape, generator=torch.Generator().manual_seed(0))


def _shape(
    spec: str, known: tuple[int, ...] | None, input_shape: tuple[int, ...] | None, batch_size: int | None
) -> tuple[int, ...]:
    if input_shape is not None:
        if batch_size is not None and batch_size != input_shape[0]:
            raise ModelError(
                f"model '{spec}': batch size {batch_size} disagrees with the input shape {input_shape} "
                "(its first dimension is the batch); give one of them"
            )
        return tuple(input_shape)
    if known is None:
        raise ModelError(
            f"model '{spec}' is not in the zoo: give its input shape, batch first (--input-shape 1,3,224,224)"
        )
    return (batch_size or 1, *known[1:])


def _build_pjc(spec: str) -> tuple[str, str, nn.Module, tuple[int, ...] | None, CompressionRecord, str, Path]:
    from simulator.storage import read_header, read_record, unpack

    path = Path(spec)
    if not path.is_file():
        raise ModelError(f"model '{spec}': no such .pjc file")
    header = read_header(path)
    arch = header.get("model")
    if not isinstance(arch, str) or not arch:
        raise ModelError(f"{path}: the header names no architecture ('model'); re-write it with pjsim compress")
    known = header.get("metadata", {}).get("input_shape")
    if known is None and ":" not in arch:
        known = model_spec(arch).input_shape
    try:
        net = load_model(arch)
    except ModelError as exc:
        raise ModelError(f"{path}: its architecture '{arch}' cannot be built: {exc}") from None
    try:
        net.load_state_dict(unpack(path))
    except RuntimeError as exc:
        raise ModelError(f"{path}: its tensors do not fit architecture '{arch}': {str(exc).splitlines()[0]}") from None
    return arch, path.name, net, tuple(known) if known else None, read_record(path), "pjc", path


def _split_arch(spec: str, arch: str | None) -> tuple[str, str | None]:
    """``"w.pt@resnet18"`` -> ``("w.pt", "resnet18")``; an explicit ``arch`` must agree."""
    path, at, named = spec.rpartition("@") if "@" in spec else (spec, "", "")
    if at and arch is not None and arch != named:
        raise ModelError(f"model '{spec}': architecture '{named}' disagrees with arch '{arch}'; give one of them")
    return (path, named or arch) if at else (spec, arch)


def _state_dict(obj: Any) -> dict[str, torch.Tensor] | None:
    """The state dict in a loaded object: itself, or under ``state_dict``/``model`` (training checkpoints)."""
    for candidate in (obj, *(obj.get(k) for k in ("state_dict", "model") if isinstance(obj, dict))):
        if isinstance(candidate, dict) and candidate and all(isinstance(v, torch.Tensor) for v in candidate.values()):
            return candidate
    return None


def _build_pt(spec: str, arch: str | None, allow_pickle: bool) -> tuple[str, str, nn.Module, tuple[int, ...] | None, Path]:
    import pickle

    path_text, arch = _split_arch(spec, arch)
    path = Path(path_text)
    if not path.is_file():
        raise ModelError(f"model '{spec}': no such file {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        if not allow_pickle:
            raise ModelError(
                f"{path}: not a plain state dict (it holds pickled Python objects, e.g. a whole module). Unpickling "
                "runs whatever code the file names, so pjsim does not do it by default: save model.state_dict() "
                "and give the architecture (FILE.pt@ARCH or --arch), or pass --allow-pickle for a file you trust"
            ) from None
        obj = torch.load(path, map_location="cpu", weights_only=False)
    except (RuntimeError, EOFError, OSError) as exc:
        raise ModelError(f"{path}: not a readable PyTorch file ({str(exc).splitlines()[0]})") from None
    if isinstance(obj, nn.Module):
        return arch or type(obj).__name__, path.name, obj, (model_spec(arch).input_shape if arch and ":" not in arch else None), path
    state = _state_dict(obj)
    if state is None:
        raise ModelError(f"{path}: expected a state dict (name -> tensor) or an nn.Module, found {type(obj).__name__}")
    if arch is None:
        raise ModelError(f"{path}: a state dict holds no architecture: name it, e.g. {path.name}@resnet18 or --arch resnet18 "
                         "(a zoo name or package.module:factory)")
    net = load_model(arch)
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise ModelError(f"{path}: its tensors do not fit architecture '{arch}': {str(exc).splitlines()[0]}") from None
    known = model_spec(arch).input_shape if ":" not in arch else None
    return arch, path.name, net, known, path


def resolve_model(
    spec: str,
    input_shape: tuple[int, ...] | None = None,
    batch_size: int | None = None,
    example_inputs: Any = None,
    *,
    inputs: Any = None,
    arch: str | None = None,
    allow_pickle: bool = False,
) -> ResolvedModel:
    """The model, its example input and its encodings for a model argument (see the module docstring).

    Args:
        spec: zoo name, ``package.module:factory``, or a path ending in ``.pjc``, ``.pt``/``.pth``
            (``FILE.pt@ARCH``) or ``.onnx``.
        input_shape: the example input's shape, batch first (required for import paths).
        batch_size: the batch when ``input_shape`` is not given (default 1); with ``inputs``, it
            replaces every input's first dimension.
        example_inputs: ready inputs to trace with instead (then shape and batch are theirs).
        inputs: input specs (``models.input_spec``), one per forward argument, instead of a shape.
        arch: the architecture of a ``.pt`` state dict (zoo name or ``package.module:factory``).
        allow_pickle: load a ``.pt`` holding pickled objects (runs code from the file: trusted files only).

    Raises:
        ModelError: unknown name, unimportable path, unreadable ``.pjc``, missing or conflicting shape.
    """
    if not isinstance(spec, str) or not spec:
        raise ModelError(f"expected a model name, package.module:factory or a .pjc file, got {spec!r}")
    record, source, path, dtype = CompressionRecord(), "zoo", None, "float32"
    file_part = spec.rpartition("@")[0] if "@" in spec else spec
    if spec.endswith(PJC_SUFFIX):
        name, label, net, known, record, source, path = _build_pjc(spec)
    elif file_part.endswith(PT_SUFFIXES):
        (name, label, net, known, path), source = _build_pt(spec, arch, allow_pickle), "pt"
    elif spec.endswith(ONNX_SUFFIX):
        from models.onnx_import import load_onnx

        if not Path(spec).is_file():
            raise ModelError(f"model '{spec}': no such .onnx file")
        net, shapes = load_onnx(spec)
        name, label, known, source, path = Path(spec).stem, Path(spec).name, shapes[0] if shapes else None, "onnx", Path(spec)
    elif ":" in spec:
        name, label, net, known, source = spec, spec, load_model(spec), None, "import"
    else:
        zoo = model_spec(spec)
        name, label, net, known = spec, spec, zoo.factory(), zoo.input_shape
        dtype = zoo.input_dtype
    if example_inputs is None and inputs:
        from models.input_spec import make_inputs

        if input_shape is not None:
            raise ModelError(f"model '{spec}': give the input shape either as an input spec or as input_shape, not both")
        try:
            example_inputs = make_inputs(list(inputs), net, batch_size)
        except ValueError as exc:
            raise ModelError(f"model '{spec}': {exc}") from None
    if example_inputs is None:
        example_inputs = _example(_shape(spec, known, input_shape, batch_size), dtype)
    return ResolvedModel(name, label, net.eval(), example_inputs, record, source, path)
