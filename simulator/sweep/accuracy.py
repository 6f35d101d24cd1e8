"""The optional accuracy step of a sweep point: a shipped trained checkpoint, compressed as the point says, tested.

With an ``[accuracy]`` table in the spec, every distinct compression of the sweep is applied to the
model's trained checkpoint (``models.pretrained.load_checkpoint``) with the real transforms of
``simulator.compress``: magnitude pruning to ``density`` (``MagnitudePrune``), then k-means weight
sharing to ``2 ** weight_bits`` centroids (``WeightSharing``) or, without sharing, linear
quantisation to ``weight_bits`` (``LinearQuantize``); the result is evaluated on the MNIST test set
(``simulator.compress.training.evaluate``). There is no retraining: the numbers are the accuracy
straight after compression, a lower bound of what Deep Compression's retraining recovers.

Accuracy depends on the compression only, not on the hardware, so it is computed once per distinct
compression (in the coordinator, before the points are dispatched) and joined to every point that
uses it. This module calls into ``models`` and ``compress`` (which use torch) and imports no torch itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulator.sweep.spec_types import AccuracySpec, CompressionParams

__all__ = ["accuracies", "accuracy_of"]

def _test_data(spec: AccuracySpec) -> tuple[Any, Any]:
    from models.mnist import load_mnist

    images, labels = load_mnist("test", path=spec.data_path)
    if spec.test_images is not None:
        images, labels = images[: spec.test_images], labels[: spec.test_images]
    return images, labels


def accuracy_of(model_name: str, params: CompressionParams, spec: AccuracySpec, data: tuple[Any, Any]) -> float:
    """Top-1 accuracy (fraction) of ``model_name``'s checkpoint compressed by ``params`` on ``data``."""
    from models.pretrained import load_checkpoint
    from simulator.compress.prune import MagnitudePrune
    from simulator.compress.quantize import LinearQuantize
    from simulator.compress.sharing import WeightSharing
    from simulator.compress.training import evaluate

    model, _, _ = load_checkpoint(spec.checkpoint or f"{model_name}-dense")
    record = None
    if params.density < 1.0:
        model, record = MagnitudePrune(keep=params.density, index_bits=max(1, params.index_bits)).apply(model)
    if params.weight_sharing:
        model, record = WeightSharing(bits=params.weight_bits).apply(model, record)
    elif params.weight_bits < 32:
        model, record = LinearQuantize(bits=params.weight_bits).apply(model, record)
    result = evaluate(model, data)
    return 1.0 - result.errors / result.count


def accuracies(model_name: str, params: Iterable[CompressionParams], spec: AccuracySpec) -> dict[CompressionParams, float]:
    """Accuracy of every distinct compression in ``params`` (test data loaded once)."""
    data = _test_data(spec)
    return {p: accuracy_of(model_name, p, spec, data) for p in dict.fromkeys(params)}
