"""1-D k-means: exact on separated clusters, every centroid the mean of its values, the large path agrees."""

from __future__ import annotations

import numpy as np
import pytest

import simulator.compress.kmeans as km
from simulator.compress.base import CompressError


@pytest.mark.parametrize("init", ["linear", "density"])
def test_separated_clusters_are_found(init):
    rng = np.random.default_rng(0)
    centers = np.array([-3.0, -1.0, 0.5, 2.0], dtype=np.float32)
    x = (np.repeat(centers, 500) + rng.normal(0, 0.01, 2000)).astype(np.float32)
    r = km.kmeans_1d(x, 4, init=init, seed=1)
    assert np.allclose(r.centroids, centers, atol=0.01)
    for j in range(4):  # each centroid is the mean of its members
        assert r.centroids[j] == pytest.approx(x[r.labels == j].mean(), abs=1e-6)


def test_random_init_gives_means_of_members():
    x = np.random.default_rng(2).normal(size=5000).astype(np.float32)
    r = km.kmeans_1d(x, 8, init="random", seed=3)
    assert np.all(np.diff(r.centroids) > 0)
    for j in np.unique(r.labels):
        assert r.centroids[j] == pytest.approx(x[r.labels == j].mean(), abs=1e-5)


def test_labels_are_nearest_centroid_and_large_path_agrees(monkeypatch):
    rng = np.random.default_rng(1)
    x = rng.standard_t(3, 200_000).astype(np.float32)
    exact = km.kmeans_1d(x, 16)
    monkeypatch.setattr(km, "EXACT_LIMIT", 1000)  # force the histogram path
    binned = km.kmeans_1d(x, 16)
    assert np.abs(exact.centroids - binned.centroids).max() < 1e-2 * (x.max() - x.min())
    assert (exact.labels != binned.labels).mean() < 1e-3


def test_bad_arguments():
    with pytest.raises(CompressError, match="initialisation"):
        km.kmeans_1d(np.ones(4), 2, init="kmeans++")
    with pytest.raises(CompressError, match="at least one value"):
        km.kmeans_1d(np.zeros(0), 2)
