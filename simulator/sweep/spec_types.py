"""The records a sweep specification is read into: ``Axis``, ``CompressionParams`` and ``SweepSpec``.

Frozen, picklable, no torch or pandas import. ``simulator.sweep.spec`` reads TOML into them and
checks them; ``simulator.sweep.plan`` turns them into points.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from simulator.sweep.expr import Constraint

__all__ = [
    "AXIS_KINDS", "COMPRESSION_KEYS", "DATASETS", "MAX_SHARED_WEIGHT_BITS", "AccuracySpec", "Axis", "CompressionParams",
    "SweepSpec", "impossible_compression",
]

#: Where an axis's value goes: a profile override, a compression parameter, or the batch size.
AXIS_KINDS = ("profile", "compression", "batch_size")


@dataclass(frozen=True, slots=True)
class CompressionParams:
    """An analytic compression applied to every conv/linear weight (tensors of 2+ dimensions).

    Attributes:
        density: fraction of weights kept, in (0, 1] (Han et al.'s pruning).
        weight_bits: bits per stored weight; with ``weight_sharing`` the bits of a codebook index
            (the codebook then has ``2 ** weight_bits`` entries of 32 bits).
        index_bits: bits of the relative index stored per kept weight (0 = dense storage; must be
            >= 1 when ``density < 1``).
        weight_sharing: whether weights index a shared codebook (k-means weight sharing).
    """

    density: float = 1.0
    weight_bits: int = 32
    index_bits: int = 0
    weight_sharing: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def is_identity(self) -> bool:
        """True when the parameters describe the dense float32 model (nothing to apply)."""
        return self.density == 1.0 and self.weight_bits == 32 and self.index_bits == 0 and not self.weight_sharing


#: Widest codebook index a weight-shared point may have: 2**16 = 65,536 shared values. Han et al.
#: (2016) share 4-8 bits; a wider "codebook" (2**32 float32 entries = 17 GB for ``weight_bits = 32``)
#: is no compression and prices nonsense, so it is refused rather than costed.
MAX_SHARED_WEIGHT_BITS = 16


def impossible_compression(params: CompressionParams) -> tuple[str, str] | None:
    """``(key, why)`` when ``params`` describe no real compression, else None.

    One home for the rule, used for the ``[compression]`` table when it is read and for every
    sampled point when a sweep is planned. Refused: a shared codebook wider than
    ``MAX_SHARED_WEIGHT_BITS``; a sparse point (density < 1) without a relative index, or with
    index bits wider than its weight bits (the index would cost more than the weight it locates).
    Densities outside (0, 1] are refused when a value is read.
    """
    if params.weight_sharing and params.weight_bits > MAX_SHARED_WEIGHT_BITS:
        return (
            "compression.weight_bits",
            f"weight_sharing with weight_bits = {params.weight_bits} means a codebook of 2**{params.weight_bits} "
            f"entries; shared weights take at most {MAX_SHARED_WEIGHT_BITS} bits (Deep Compression uses 4-8): "
            "set compression.weight_bits",
        )
    if params.density < 1.0 and params.index_bits <= 0:
        return (
            "compression.index_bits",
            f"density {params.density} < 1 but index_bits 0: a sparse tensor needs a relative index; "
            "set index_bits >= 1 or add a constraint such as 'compression.density == 1 or compression.index_bits >= 1'",
        )
    if params.density < 1.0 and params.index_bits > params.weight_bits:
        return (
            "compression.index_bits",
            f"index_bits = {params.index_bits} is wider than weight_bits = {params.weight_bits}; "
            "lower index_bits or add a constraint such as 'compression.index_bits <= compression.weight_bits'",
        )
    return None


#: The compression parameters an axis or the ``[compression]`` table may name, with their type.
COMPRESSION_KEYS: dict[str, type] = {"density": float, "weight_bits": int, "index_bits": int, "weight_sharing": bool}


@dataclass(frozen=True, slots=True)
class Axis:
    """One swept input.

    Attributes:
        key: the input's full name: ``"profile.<dotted path in the profile TOML>"``,
            ``"compression.<parameter>"`` or ``"batch_size"``.
        values: the listed values (None for a range axis).
        low, high: a range axis's bounds (inclusive).
        num: number of grid points on a range axis.
        scale: ``"linear"`` or ``"log"`` spacing/sampling of a range axis.
        integer: a range axis takes whole numbers.
    """

    key: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    num: int | None = None
    scale: str = "linear"
    integer: bool = False

    @property
    def kind(self) -> str:
        """``"profile"``, ``"compression"`` or ``"batch_size"``."""
        return self.key.split(".", 1)[0]

    @property
    def target(self) -> str:
        """The key without its kind prefix (the profile path or compression parameter)."""
        return self.key.split(".", 1)[1] if "." in self.key else self.key

    def grid_values(self) -> tuple[Any, ...]:
        """The values a grid uses: the listed ones, or ``num`` points on the range (deduplicated)."""
        if self.values is not None:
            return self.values
        assert self.low is not None and self.high is not None and self.num is not None
        if self.scale == "log":
            x = np.geomspace(self.low, self.high, self.num)
        else:
            x = np.linspace(self.low, self.high, self.num)
        if self.integer:
            return tuple(dict.fromkeys(int(v) for v in np.rint(x)))
        return tuple(float(v) for v in x)


#: Datasets the accuracy step can evaluate on.
DATASETS = ("mnist",)


@dataclass(frozen=True, slots=True)
class AccuracySpec:
    """What the accuracy step evaluates.

    Attributes:
        dataset: the test set (``"mnist"``: its 10,000 test images).
        checkpoint: the shipped checkpoint to compress (default ``"<model>-dense"``).
        test_images: evaluate on the first this-many test images (None = all).
        data_path: directory with the dataset files (None = ``PJSIM_DATA`` or the user cache).
    """

    dataset: str = "mnist"
    checkpoint: str | None = None
    test_images: int | None = None
    data_path: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "checkpoint": self.checkpoint, "test_images": self.test_images}

    def describe(self, model: str) -> str:
        n = self.test_images or "all"
        return f"{self.dataset} test ({n} images), checkpoint {self.checkpoint or model + '-dense'}, no retraining"


@dataclass(frozen=True, slots=True)
class SweepSpec:
    """A whole sweep: the base point, the axes, how points are sampled and which are skipped.

    Attributes:
        name: the sweep's name (file stem of its report and database by default).
        model: zoo name or ``package.module:factory``.
        profile: shipped profile name or path to a profile TOML.
        batch_size: the base batch size (an axis may vary it).
        compression: the base compression (axes may vary its parameters).
        axes: the swept inputs, in order.
        sampling: ``"grid"``, ``"random"`` or ``"lhs"``.
        samples: number of draws for random and LHS sampling.
        seed: seed of the random and LHS samplers.
        constraints: points for which any constraint is false are skipped.
        source: where the spec came from (file path or ``"<dict>"``), for error messages.
        input_shape: shape of one example input, batch dimension first (needed for a
            ``package.module:factory`` model; zoo models know theirs).
        inputs: typed input specs instead (``["ids:int64[1,128]"]``; ``models.input_spec``).
        accuracy: the accuracy step (None = no accuracy column).
        engine: how each point is timed (``simulator.api.simulate``'s ``engine``): ``"simpy"``
            (discrete-event, default), ``"closed-form"`` (same phases, timed by formula) or
            ``"baseline"`` (no reuse).
    """

    name: str
    model: str
    profile: str
    axes: tuple[Axis, ...]
    batch_size: int = 1
    compression: CompressionParams = field(default_factory=CompressionParams)
    sampling: str = "grid"
    samples: int | None = None
    seed: int = 0
    constraints: tuple[Constraint, ...] = ()
    source: str = "<dict>"
    input_shape: tuple[int, ...] | None = None
    inputs: tuple[str, ...] = ()
    accuracy: AccuracySpec | None = None
    engine: str = "simpy"
