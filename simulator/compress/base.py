"""The transform contract and registry every compression method plugs into.

A transform is one small class: it declares ``NAME`` (its registry key) and ``KIND`` (one of
``TRANSFORM_KINDS``) and implements ``apply(model, record=None) -> (model, record)``. ``apply``
returns the compressed model and the input record followed by what this transform did
(``record.then(new)``), so transforms compose left to right::

    model, rec = MagnitudePrune(keep={"fc1": 0.08}).apply(model)
    model, rec = WeightSharing(bits={"fc1": 6}).apply(model, rec)

Transforms never modify the caller's model unless constructed with ``inplace=True`` (they deep-copy
it first). Layers are named by module name (``"fc1"``) or parameter name (``"fc1.weight"``); a name
that matches nothing raises ``CompressError`` naming it and listing the layers that exist.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping

from torch import nn

from simulator.errors import PjsimError
from simulator.workload import CompressionRecord

__all__ = [
    "CompressError",
    "per_layer",
    "prepare_model",
    "register_transform",
    "resolve_layers",
    "Transform",
    "TRANSFORM_KINDS",
    "TRANSFORMS",
    "weight_params",
]

#: The kinds a transform declares (style.md habit 6).
TRANSFORM_KINDS = ("unstructured", "structured", "codebook", "quantization", "coding", "training")


class CompressError(PjsimError):
    """A compression request is invalid: names the layer, parameter or setting and what was expected."""


class Transform(ABC):
    """One compression step. Subclasses set ``NAME`` and ``KIND`` and implement ``apply``."""

    NAME: str = ""
    KIND: str = ""

    @abstractmethod
    def apply(self, model: nn.Module, record: CompressionRecord | None = None) -> tuple[nn.Module, CompressionRecord]:
        """Compress ``model``; return it with ``record`` followed by this step's encodings."""


#: Registry: transform name -> class (refuses duplicates).
TRANSFORMS: dict[str, type[Transform]] = {}


def register_transform(cls: type[Transform]) -> type[Transform]:
    """Class decorator adding a transform to ``TRANSFORMS`` under its ``NAME``; refuses duplicates and bad kinds."""
    if not cls.NAME:
        raise RuntimeError(f"{cls.__name__} has no NAME")
    if cls.KIND not in TRANSFORM_KINDS:
        raise RuntimeError(f"{cls.__name__}.KIND must be one of {TRANSFORM_KINDS}, got {cls.KIND!r}")
    if cls.NAME in TRANSFORMS:
        raise RuntimeError(f"duplicate transform registration: {cls.NAME}")
    TRANSFORMS[cls.NAME] = cls
    return cls


def prepare_model(model: nn.Module, inplace: bool) -> nn.Module:
    """The model a transform works on: ``model`` itself when ``inplace``, else a deep copy."""
    return model if inplace else copy.deepcopy(model)


def weight_params(model: nn.Module) -> dict[str, nn.Parameter]:
    """The compressible weights: parameters with 2 or more dimensions (linear and conv kernels), by name.

    Biases and norm parameters (1-D) are left to the storage's dense path.
    """
    return {name: p for name, p in model.named_parameters() if p.dim() >= 2}


def resolve_layers(model: nn.Module, names: Iterable[str], what: str = "layer") -> dict[str, str]:
    """Map each layer name (``"fc1"`` or ``"fc1.weight"``) to its weight parameter name.

    Raises:
        CompressError: a name matches no compressible weight; the message names it and lists the layers.
    """
    weights = weight_params(model)
    out = {}
    for name in names:
        param = name if name in weights else f"{name}.weight"
        if param not in weights:
            layers = ", ".join(p.removesuffix(".weight") for p in weights)
            raise CompressError(f"{what} {name!r} does not exist in {type(model).__name__}; layers: {layers}")
        out[name] = param
    return out


def per_layer(setting: float | Mapping[str, float | int], model: nn.Module, what: str) -> dict[str, float | int]:
    """A per-parameter setting from a scalar (every weight) or a ``{layer: value}`` mapping (those layers)."""
    if isinstance(setting, Mapping):
        return {param: setting[name] for name, param in resolve_layers(model, setting, what).items()}
    return {param: setting for param in weight_params(model)}
