"""How a sweep picks its points: a full grid, uniform random samples, or a Latin hypercube (seeded).

Every sampler returns one tuple of values per point, in a deterministic order for a given seed, so
the same specification always names the same points (and so the same result keys).

- ``grid``: the Cartesian product of every axis's values (first axis varies slowest).
- ``random``: ``samples`` independent draws; a listed axis draws one of its values uniformly, a
  range axis draws uniformly on its range (log-uniformly for ``scale = "log"``).
- ``lhs``: a Latin hypercube of ``samples`` points: each axis's unit interval is cut into
  ``samples`` strata, each stratum is used exactly once per axis, and the strata are matched across
  axes by independent random permutations. A listed axis maps a stratum to ``values[floor(u * n)]``.

Integer range axes round to the nearest integer, so random and LHS draws can repeat; repeated
points are dropped by the planner (it reports how many).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from simulator.sweep.spec_types import Axis

__all__ = ["SAMPLERS", "sample_points"]


def _grid(axes: Sequence[Axis], samples: int | None, rng: np.random.Generator) -> list[tuple[Any, ...]]:
    return list(itertools.product(*(axis.grid_values() for axis in axes)))


def _from_unit(axes: Sequence[Axis], unit: np.ndarray) -> list[tuple[Any, ...]]:
    """Map an (n, n_axes) array of numbers in [0, 1) to axis values, column by column (vectorised)."""
    columns = []
    for j, axis in enumerate(axes):
        u = unit[:, j]
        if axis.values is not None:
            idx = np.minimum((u * len(axis.values)).astype(np.int64), len(axis.values) - 1)
            columns.append([axis.values[i] for i in idx])
            continue
        assert axis.low is not None and axis.high is not None
        if axis.scale == "log":
            x = np.exp(np.log(axis.low) + u * (np.log(axis.high) - np.log(axis.low)))
        else:
            x = axis.low + u * (axis.high - axis.low)
        if axis.integer:
            columns.append([int(v) for v in np.rint(x)])
        else:
            columns.append([float(v) for v in x])
    return list(zip(*columns))


def _random(axes: Sequence[Axis], samples: int | None, rng: np.random.Generator) -> list[tuple[Any, ...]]:
    assert samples is not None
    return _from_unit(axes, rng.random((samples, len(axes))))


def _lhs(axes: Sequence[Axis], samples: int | None, rng: np.random.Generator) -> list[tuple[Any, ...]]:
    assert samples is not None
    n, d = samples, len(axes)
    # One random permutation of the strata per axis (argsort of uniforms, vectorised over axes),
    # then a uniform position inside each stratum.
    strata = np.argsort(rng.random((n, d)), axis=0)
    unit = (strata + rng.random((n, d))) / n
    return _from_unit(axes, unit)


#: Sampling name -> function(axes, samples, rng) -> list of value tuples.
SAMPLERS = {"grid": _grid, "random": _random, "lhs": _lhs}


def sample_points(axes: Sequence[Axis], sampling: str, samples: int | None, seed: int) -> list[tuple[Any, ...]]:
    """The value tuples (one per point, axis order) that ``sampling`` picks."""
    return SAMPLERS[sampling](axes, samples, np.random.default_rng(seed))
