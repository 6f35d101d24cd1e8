"""The tracer: MACs per op, attribution to fully qualified module names, unsupported ops reported."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from models import model_spec
from simulator.errors import TraceError
from simulator.trace import trace


def test_lenet_300_100_macs_in_three_named_linear_ops():
    """LeNet-300-100 traces to 266,200 MACs in exactly three linear ops named fc1, fc2, fc3."""
    spec = model_spec("lenet_300_100")
    w = trace(spec.factory().eval(), spec.example_input())
    linear = [op for op in w.ops if op.kind == "linear"]
    assert [op.module for op in linear] == ["fc1", "fc2", "fc3"]
    # 784*300 = 235,200; 300*100 = 30,000; 100*10 = 1,000
    assert [op.macs for op in linear] == [235_200, 30_000, 1_000]
    assert w.total_macs == 266_200
    assert w.parameter_count == 266_610  # 266,200 weights + 410 biases


class TinyCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, stride=1, padding=1), nn.Conv2d(4, 8, 3, stride=2, groups=2))
        self.head = nn.Linear(8 * 3 * 3, 5)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


def test_tiny_cnn_macs_match_hand_arithmetic():
    """Conv MACs = outputs x (C/groups) x kernel; attribution uses nested module names."""
    w = trace(TinyCNN().eval(), torch.zeros(2, 3, 8, 8))
    by_module = w.macs_by_module()
    # conv0: out 2x4x8x8 = 512 outputs, each 3*3*3 = 27 MACs -> 13,824
    assert by_module["features.0"] == 2 * 4 * 8 * 8 * 3 * 3 * 3 == 13_824
    # conv1: out 2x8x3x3 = 144 outputs ((8-3)//2+1 = 3), each (4/2)*3*3 = 18 MACs -> 2,592
    assert by_module["features.1"] == 2 * 8 * 3 * 3 * 2 * 3 * 3 == 2_592
    # head: 2 x 72 x 5 = 720
    assert by_module["head"] == 720
    assert w.batch_size == 2


def test_weights_are_recognised_by_identity_and_views_alias():
    """fc1.weight reached through aten.t is still the weight tensor, read as 'weights'."""
    spec = model_spec("lenet_300_100")
    w = trace(spec.factory().eval(), spec.example_input())
    fc1 = w.ops_of("fc1")[0]
    roles = {a.tensor: a.role for a in fc1.reads}
    assert roles["fc1.weight"] == "weights" and roles["input:0"] == "inputs"
    assert w.tensors["fc1.weight"].kind == "weight"


def test_peak_activation_bits_from_liveness():
    """Peak live activations of LeNet-300-100 at batch 1: input (784) + fc1 out (300) floats live at op 0."""
    spec = model_spec("lenet_300_100")
    w = trace(spec.factory().eval(), spec.example_input())
    # op 0 reads input (784 floats) and writes 300 floats; op 1 (relu) holds 300 in + 300 out.
    assert w.peak_activation_bits == (784 + 300) * 32


@torch.library.custom_op("pjsim_test::cube", mutates_args=())
def _cube(x: torch.Tensor) -> torch.Tensor:
    return x * x * x


@_cube.register_fake
def _(x):
    return torch.empty_like(x)


def test_custom_op_is_counted_as_unsupported_with_one_warning():
    """A user's custom op has no rule: counted in Workload.unsupported (x2) with one warning, never dropped."""

    class Cubes(nn.Module):
        def forward(self, x):
            return torch.ops.pjsim_test.cube(torch.ops.pjsim_test.cube(x)) + 1

    with pytest.warns(UserWarning, match=r"no cost rule.*pjsim_test.cube x2") as record:
        w = trace(Cubes(), torch.zeros(1, 4))
    assert len([r for r in record if "no cost rule" in str(r.message)]) == 1
    assert w.unsupported == {"pjsim_test.cube": 2}
    # the op after them still sees its input and is costed: 4 adds
    assert [op.aten for op in w.ops] == ["aten.add.Tensor"]


def test_forward_error_names_model_and_layer():
    """A wrong input shape fails with a TraceError naming the model and the failing layer."""
    spec = model_spec("lenet_300_100")
    with pytest.raises(TraceError, match=r"LeNet300100.*layer 'fc1'"):
        trace(spec.factory(), torch.zeros(1, 100))


def test_non_module_is_rejected():
    """A plain function is not a model: TraceError says a torch.nn.Module is needed."""
    with pytest.raises(TraceError, match="nn.Module"):
        trace(lambda x: x, torch.zeros(1))  # type: ignore[arg-type]


def test_forward_that_raises_names_model_and_nested_layer():
    """An exception deep inside forward is reported with the model and the innermost running layer."""

    class Broken(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    model = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.ReLU(), Broken()))
    with pytest.raises(TraceError, match=r"model 'Sequential' failed in layer '1\.1': ValueError: boom"):
        trace(model, torch.zeros(1, 4))


def test_wrong_input_shape_on_conv_names_the_layer():
    """A 3-channel image into LeNet-5 (1 channel) fails in conv1 with the model's name."""
    spec = model_spec("lenet5")
    with pytest.raises(TraceError, match=r"'lenet5' failed in layer 'conv1'"):
        trace(spec.factory(), torch.zeros(1, 3, 28, 28), model_name="lenet5")


def test_in_place_ops_rename_and_keep_liveness():
    """x += y then relu_: each in-place op writes a new activation, and its input's liveness ends there."""

    class Residual(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            y = self.fc(x)
            y += x
            return torch.relu_(y)

    w = trace(Residual(), torch.rand(2, 4))
    assert [op.aten for op in w.ops] == ["aten.addmm.default", "aten.add_.Tensor", "aten.relu_.default"]
    fc_out = w.ops[0].writes[0].tensor
    assert w.tensors[fc_out].last_use == 1 and w.tensors["input:0"].last_use == 1
    assert w.ops[2].reads[0].tensor == w.ops[1].writes[0].tensor


def test_batch_size_scales_macs():
    """Doubling the batch doubles the MACs (relation, not a constant)."""
    spec = model_spec("lenet5")
    model = spec.factory().eval()
    assert trace(model, spec.example_input(2)).total_macs == 2 * trace(model, spec.example_input(1)).total_macs


def test_activation_density_is_measured_on_real_tensors():
    """After a ReLU the measured density is the fraction of positive inputs; weights carry none."""
    x = torch.tensor([[-1.0, 2.0, -3.0, 4.0, 0.0, 6.0, -7.0, 8.0]])  # 4 of 8 positive
    w = trace(nn.ReLU(), x)
    out = w.ops[0].writes[0].tensor
    assert w.tensors[out].measured_density == 4 / 8
    assert w.tensors["input:0"].measured_density == 7 / 8  # one exact zero
