"""Typed example inputs from text: ``--input 'x:float32[8,3,224,224]'``, ``'ids:int64[1,128]'``.

One parser for the CLI (``--input``, repeatable) and the API (``simulate(..., inputs=[...])``):

- ``NAME:DTYPE[D0,D1,...]`` (the name is optional: ``float32[1,3,32,32]``), batch first;
- integer dtypes take a value range ``NAME:int64[1,128]:LOW..HIGH`` (half-open, ``[LOW, HIGH)``);
  without one, token ids are drawn in ``[0, vocab)`` where ``vocab`` is the ``num_embeddings`` of the
  model's first ``nn.Embedding`` (the lookup a token input feeds), else ``[0, 2)``;
- floating-point inputs are uniform in ``[0, 1)`` as the zoo's example inputs are.

Values are drawn from one generator seeded with 0, input after input, so the same specs give the
same tensors on every run (the cost of a dense network does not depend on them; a sparse one's
measured activation density does).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["DTYPES", "InputSpec", "make_inputs", "parse_input_spec"]

#: The dtype names an input spec accepts.
DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32, "float": torch.float32, "float16": torch.float16, "half": torch.float16,
    "bfloat16": torch.bfloat16, "float64": torch.float64, "double": torch.float64,
    "int64": torch.int64, "long": torch.int64, "int32": torch.int32, "int": torch.int32,
    "int16": torch.int16, "int8": torch.int8, "uint8": torch.uint8, "bool": torch.bool,
}

_SPEC = re.compile(r"^(?:(?P<name>[A-Za-z_][\w.]*):)?(?P<dtype>[a-z0-9]+)\[(?P<dims>[^\]]*)\](?::(?P<low>-?\d+)\.\.(?P<high>-?\d+))?$")
_EXAMPLE = "'x:float32[8,3,224,224]' or 'ids:int64[1,128]' (optionally ':0..50257' for the value range)"


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One example input: name (for messages), dtype, shape (batch first), integer value range ``[low, high)``."""

    name: str
    dtype: torch.dtype
    shape: tuple[int, ...]
    low: int | None = None
    high: int | None = None

    @property
    def is_integer(self) -> bool:
        return not self.dtype.is_floating_point

    def with_batch(self, batch: int) -> InputSpec:
        """The same input with its first dimension replaced by ``batch``."""
        return InputSpec(self.name, self.dtype, (batch, *self.shape[1:]), self.low, self.high)


def parse_input_spec(text: str, index: int = 0) -> InputSpec:
    """``'ids:int64[1,128]'`` -> ``InputSpec``; an ``InputSpec`` is returned as is.

    Raises:
        ValueError: the text does not match the grammar, names an unknown dtype, has a non-positive
            dimension or an empty range (the message quotes the spec and shows the expected form).
    """
    if isinstance(text, InputSpec):
        return text
    if not isinstance(text, str):
        raise ValueError(f"input spec #{index + 1}: expected text such as {_EXAMPLE}, got {text!r}")
    m = _SPEC.match(text.strip())
    if m is None:
        raise ValueError(f"input spec {text!r}: expected NAME:DTYPE[D0,D1,...] such as {_EXAMPLE}")
    dtype_name = m["dtype"]
    if dtype_name not in DTYPES:
        raise ValueError(f"input spec {text!r}: unknown dtype {dtype_name!r}; known: {', '.join(DTYPES)}")
    try:
        shape = tuple(int(d) for d in m["dims"].split(",") if d.strip())
    except ValueError:
        raise ValueError(f"input spec {text!r}: dimensions must be whole numbers, e.g. {_EXAMPLE}") from None
    if not shape or any(d <= 0 for d in shape):
        raise ValueError(f"input spec {text!r}: expected positive dimensions, batch first, e.g. {_EXAMPLE}")
    dtype = DTYPES[dtype_name]
    low = high = None
    if m["low"] is not None:
        if dtype.is_floating_point:
            raise ValueError(f"input spec {text!r}: a value range is for integer inputs (token ids), not {dtype_name}")
        low, high = int(m["low"]), int(m["high"])
        if high <= low:
            raise ValueError(f"input spec {text!r}: empty value range {low}..{high} (expected LOW..HIGH with HIGH > LOW)")
    return InputSpec(m["name"] or f"input{index}", dtype, shape, low, high)


def _vocab(module: nn.Module | None) -> int | None:
    if module is None:
        return None
    for sub in module.modules():
        if isinstance(sub, nn.Embedding):
            return int(sub.num_embeddings)
    return None


def make_inputs(
    specs: Sequence[str | InputSpec], module: nn.Module | None = None, batch_size: int | None = None, seed: int = 0
) -> tuple[torch.Tensor, ...]:
    """Deterministic tensors for ``specs`` (see the module docstring); ``batch_size`` replaces every batch.

    Raises:
        ValueError: an unparsable spec, or an integer input whose range does not fit its dtype.
    """
    parsed = [parse_input_spec(s, i) for i, s in enumerate(specs)]
    if not parsed:
        raise ValueError(f"expected at least one input spec such as {_EXAMPLE}")
    gen = torch.Generator().manual_seed(seed)
    vocab = _vocab(module)
    out = []
    for spec in parsed:
        if batch_size is not None:
            spec = spec.with_batch(batch_size)
        if spec.dtype == torch.bool:
            out.append(torch.rand(spec.shape, generator=gen) < 0.5)
        elif spec.is_integer:
            low = 0 if spec.low is None else spec.low
            high = (vocab or 2) if spec.high is None else spec.high
            info = torch.iinfo(spec.dtype)
            if low < info.min or high - 1 > info.max:
                raise ValueError(f"input {spec.name!r}: range {low}..{high} does not fit {spec.dtype}")
            out.append(torch.randint(low, high, spec.shape, generator=gen, dtype=torch.int64).to(spec.dtype))
        else:
            out.append(torch.rand(spec.shape, generator=gen).to(spec.dtype))
    return tuple(out)
