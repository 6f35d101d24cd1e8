"""Model registry: zoo name -> factory, and ``load_model`` for zoo names or ``package.module:factory``.

Zoo factories are seeded: every registered factory builds its model under a fixed seed (the entry's
``seed``), inside ``torch.random.fork_rng`` so the caller's global RNG state is left untouched. A
random initialisation can contain exact zeros, which the tracer reads as sparsity; without the seed
the same command would flag different layers sparse on each run (issue 12).
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

import torch

from simulator.errors import ModelError

__all__ = ["DEFAULT_SEED", "ModelSpec", "MODELS", "register_model", "load_model", "model_spec", "seeded"]

#: Seed of every zoo factory unless its registration names another. 0 because the shipped demo
#: records (``simulator/demo_records``) were made from ``torch.manual_seed(0); load_model(name)``,
#: which gives the same weights as the seeded factory.
DEFAULT_SEED = 0


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A zoo entry: the (seeded) factory, the shape of one example input (batch 1), a one-line
    description, the seed the factory initialises its weights with and the input's dtype (``"int64"``
    for token ids)."""

    name: str
    factory: Callable[..., torch.nn.Module]
    input_shape: tuple[int, ...]
    description: str
    seed: int = DEFAULT_SEED
    input_dtype: str = "float32"

    def example_input(self, batch_size: int = 1, device: str | torch.device = "cpu") -> torch.Tensor:
        """A deterministic example input of the model's shape (token ids: zeros; the cost does not depend on them)."""
        dtype = getattr(torch, self.input_dtype)
        if not dtype.is_floating_point:
            return torch.zeros((batch_size, *self.input_shape[1:]), dtype=dtype, device=device)
        gen = torch.Generator().manual_seed(0)
        x = torch.rand((batch_size, *self.input_shape[1:]), generator=gen)
        return x.to(device)


MODELS: dict[str, ModelSpec] = {}


def seeded(factory: Callable[[], torch.nn.Module], seed: int) -> Callable[..., torch.nn.Module]:
    """``factory`` built under ``torch.manual_seed(seed)`` with the global RNG state saved and restored.

    The returned builder takes an optional keyword ``seed`` to build another initialisation
    (e.g. several seeds of one architecture); without it every call gives the same weights.
    """
    default_seed = int(seed)

    @functools.wraps(factory)
    def build(*, seed: int | None = None) -> torch.nn.Module:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(default_seed if seed is None else int(seed))
            return factory()

    return build


def register_model(name: str, input_shape: tuple[int, ...], description: str, seed: int = DEFAULT_SEED,
                   input_dtype: str = "float32"):
    """Decorator registering a zero-argument factory under ``name``; refuses duplicates.

    Returns the seeded builder (``seeded(factory, seed)``), so a direct call of the decorated
    function is as reproducible as ``load_model(name)``.
    """

    def decorator(factory: Callable[[], torch.nn.Module]):
        if name in MODELS:
            raise RuntimeError(f"duplicate model registration: {name}")
        build = seeded(factory, seed)
        MODELS[name] = ModelSpec(name, build, input_shape, description, seed, input_dtype)
        return build

    return decorator


def model_spec(name: str) -> ModelSpec:
    """The zoo entry called ``name``."""
    import models  # noqa: F401  (registers the zoo)

    try:
        return MODELS[name]
    except KeyError:
        raise ModelError(f"unknown model '{name}'; zoo models: {', '.join(sorted(MODELS))} (or give package.module:factory)") from None


def load_model(name: str) -> torch.nn.Module:
    """Build a model from a zoo name or an import path ``package.module:factory`` (factory takes no arguments).

    The current directory is put on the import path first (as ``python -m`` would): the ``pjsim``
    console script does not, and a user's own module usually lives there.
    """
    if ":" not in name:
        return model_spec(name).factory()
    module_name, _, attr = name.partition(":")
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ModelError(f"cannot import module '{module_name}' for model '{name}': {exc}") from None
    factory = getattr(module, attr, None)
    if factory is None:
        raise ModelError(f"module '{module_name}' has no attribute '{attr}' (model '{name}')")
    model = factory() if callable(factory) and not isinstance(factory, torch.nn.Module) else factory
    if not isinstance(model, torch.nn.Module):
        raise ModelError(f"'{name}' did not give a torch.nn.Module but {type(model).__name__}")
    return model
