"""One resolver for every model argument: zoo name, ``package.module:factory`` or a ``.pjc`` file.

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

__all__ = ["PJC_SUFFIX", "ResolvedModel", "parse_input_shape", "resolve_model"]

#: File suffix of the pjsim compressed format (``simulator.storage.format``).
PJC_SUFFIX = ".pjc"


@dataclass(frozen=True, eq=False)
class ResolvedModel:
    """A model argument made concrete.

    Attributes:
        name: the architecture's name (zoo name, import path, or the one a ``.pjc`` header names).
        label: what the user wrote, for titles (``"lenet.pjc"``).
        module: the network, in eval mode, with its weights.
        example_inputs: the inputs to trace with: one deterministic batch (seeded), or those given.
        record: the weights' encodings (empty unless the model came from a ``.pjc`` file).
        source: ``"zoo"``, ``"import"`` or ``"pjc"``.
        path: the ``.pjc`` file (None otherwise).
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


def resolve_model(
    spec: str,
    input_shape: tuple[int, ...] | None = None,
    batch_size: int | None = None,
    example_inputs: Any = None,
) -> ResolvedModel:
    """The model, its example input and its encodings for a model argument (see the module docstring).

    Args:
        spec: zoo name, ``package.module:factory`` or a path ending in ``.pjc``.
        input_shape: the example input's shape, batch first (required for import paths).
        batch_size: the batch when ``input_shape`` is not given (default 1).
        example_inputs: ready inputs to trace with instead (then shape and batch are theirs).

    Raises:
        ModelError: unknown name, unimportable path, unreadable ``.pjc``, missing or conflicting shape.
    """
    if not isinstance(spec, str) or not spec:
        raise ModelError(f"expected a model name, package.module:factory or a .pjc file, got {spec!r}")
    record, source, path, dtype = CompressionRecord(), "zoo", None, "float32"
    if spec.endswith(PJC_SUFFIX):
        name, label, net, known, record, source, path = _build_pjc(spec)
    elif ":" in spec:
        name, label, net, known, source = spec, spec, load_model(spec), None, "import"
    else:
        zoo = model_spec(spec)
        name, label, net, known, dtype = spec, spec, zoo.factory(), zoo.input_shape, zoo.input_dtype
    if example_inputs is None:
        example_inputs = _example(_shape(spec, known, input_shape, batch_size), dtype)
    return ResolvedModel(name, label, net.eval(), example_inputs, record, source, path)
