"""MLPerf Tiny reference models: exact MACs and weights, each with its arithmetic (issue 17).

Targets from the MLPerf Tiny reference code (https://github.com/mlcommons/tiny, benchmark/training/,
the Keras models of image_classification, keyword_spotting, visual_wake_words, anomaly_detection) as
issue 17 states them. "Weights" = conv and dense kernels (biases and batch norm apart). Exact: no
tolerance.
"""

from __future__ import annotations

import pytest
import torch

from models import model_spec
from simulator.api import trace_model


def kernel_weights(model: torch.nn.Module) -> int:
    """Elements of every conv/dense kernel (parameters named ``weight`` with 2+ dimensions)."""
    return sum(p.numel() for name, p in model.named_parameters() if name.endswith("weight") and p.dim() > 1)


def hw(side: int, cout: int, taps: int) -> int:
    """MACs of a conv: output positions x output channels x taps per output."""
    return side * cout * taps


RESNET8_MACS = (
    hw(32 * 32, 16, 3 * 9)  # stem
    + 2 * hw(32 * 32, 16, 16 * 9)  # stack 1
    + hw(16 * 16, 32, 16 * 9) + hw(16 * 16, 32, 32 * 9) + hw(16 * 16, 32, 16)  # stack 2 + 1x1 shortcut
    + hw(8 * 8, 64, 32 * 9) + hw(8 * 8, 64, 64 * 9) + hw(8 * 8, 64, 32)  # stack 3 + 1x1 shortcut
    + 64 * 10
)
DSCNN_MACS = hw(25 * 5, 64, 10 * 4) + 4 * (hw(25 * 5, 64, 9) + hw(25 * 5, 64, 64)) + 64 * 12
_VWW = ((48, 8, 16), (24, 16, 32), (24, 32, 32), (12, 32, 64), (12, 64, 64), (6, 64, 128), *[(6, 128, 128)] * 5,
        (3, 128, 256), (3, 256, 256))  # (output side, depthwise channels, pointwise filters) per block
VWW_MACS = hw(48 * 48, 8, 27) + sum(hw(s * s, c, 9) + hw(s * s, f, c) for s, c, f in _VWW) + 256 * 2
FCAE_MACS = 640 * 128 + 3 * 128 * 128 + 128 * 8 + 8 * 128 + 3 * 128 * 128 + 128 * 640

CASES = {
    # name: (MACs, weights, output classes/features)
    "resnet8": (12_501_632, 77_360, 10),
    "ds_cnn": (2_656_768, 22_016, 12),
    "mobilenet_v1_025_vww": (7_489_664, 208_112, 2),
    "fc_autoencoder": (264_192, 264_192, 640),
}


def test_the_arithmetic_gives_the_reference_numbers():
    assert RESNET8_MACS == CASES["resnet8"][0]
    assert DSCNN_MACS == CASES["ds_cnn"][0]
    assert VWW_MACS == CASES["mobilenet_v1_025_vww"][0]
    assert FCAE_MACS == CASES["fc_autoencoder"][0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_traced_macs_and_weights_are_exact(name):
    macs, weights, outputs = CASES[name]
    spec = model_spec(name)
    model = spec.factory().eval()
    assert kernel_weights(model) == weights
    workload = trace_model(name)
    assert workload.total_macs == macs
    assert not workload.unsupported, workload.unsupported
    with torch.no_grad():
        assert model(spec.example_input()).shape == (1, outputs)


def test_input_shapes_are_the_benchmarks():
    assert model_spec("resnet8").input_shape == (1, 3, 32, 32)
    assert model_spec("ds_cnn").input_shape == (1, 1, 49, 10)
    assert model_spec("mobilenet_v1_025_vww").input_shape == (1, 3, 96, 96)
    assert model_spec("fc_autoencoder").input_shape == (1, 640)


@pytest.mark.parametrize("name", sorted(CASES))
def test_factories_are_seeded_and_leave_the_global_rng_alone(name):
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = model_spec(name).factory().state_dict()
    after = torch.rand(1)
    b = model_spec(name).factory().state_dict()
    assert torch.equal(before, after)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_keras_same_padding_with_stride_2():
    """Keras pads the odd pixel at the bottom/right: 49x10 with (10, 4) stride 2 -> 25x5 (4+5 rows, 1+1 columns)."""
    from models.mlperf_tiny import _SamePad

    out = _SamePad((10, 4), 2)(torch.ones(1, 1, 49, 10))
    assert out.shape == (1, 1, 58, 12)
    assert out[0, 0, :4].sum() == 0 and out[0, 0, 4].sum() > 0 and out[0, 0, -5:].sum() == 0
