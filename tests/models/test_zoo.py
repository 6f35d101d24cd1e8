"""The model zoo: exact parameter and MAC counts (shared/reference.md section 5), each with its arithmetic.

The ImageNet-sized models are traced on the meta device (no weight memory, a fraction of a second);
MACs are multiply-accumulates (FLOPs in Han et al.'s sense = 2 x MACs).
"""

from __future__ import annotations

import pytest
import torch

from models import MODELS, load_model, model_spec
from simulator.errors import ModelError
from simulator.trace import trace


def meta_trace(name: str):
    spec = model_spec(name)
    with torch.device("meta"):
        model = spec.factory().eval()
    return model, trace(model, spec.example_input(), model_name=name)


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def conv_macs(side_out: int, cout: int, cin_per_group: int, k: int) -> int:
    """Output positions x output channels x (input channels per group x kernel area)."""
    return side_out * side_out * cout * cin_per_group * k * k


def test_registry_has_the_zoo():
    assert {
        "lenet_300_100",
        "lenet5",
        "alexnet",
        "alexnet_caffe",
        "vgg16",
        "resnet18",
        "resnet50",
        "mobilenet_v2",
        "vit_tiny",
    } <= set(MODELS)


def test_lenet_300_100():
    """784*300 + 300*100 + 100*10 = 266,200 MACs; + 410 biases = 266,610 parameters."""
    model, w = meta_trace("lenet_300_100")
    assert w.total_macs == 784 * 300 + 300 * 100 + 100 * 10 == 266_200
    assert n_params(model) == 266_200 + 300 + 100 + 10 == 266_610


def test_lenet5():
    """conv1 24*24*20*25 + conv2 8*8*50*(20*25) + ip1 800*500 + ip2 500*10 = 2,293,000 MACs; 431,080 params."""
    model, w = meta_trace("lenet5")
    expected = conv_macs(24, 20, 1, 5) + conv_macs(8, 50, 20, 5) + 800 * 500 + 500 * 10
    assert w.total_macs == expected == 288_000 + 1_600_000 + 400_000 + 5_000 == 2_293_000
    weights = 20 * 25 + 50 * 20 * 25 + 800 * 500 + 500 * 10  # 430,500
    assert n_params(model) == weights + 20 + 50 + 500 + 10 == 431_080


def test_alexnet_torchvision():
    """torchvision AlexNet: 61,100,840 parameters, 714,188,480 MACs (0.714 G) at 224x224."""
    model, w = meta_trace("alexnet")
    convs = (
        conv_macs(55, 64, 3, 11)
        + conv_macs(27, 192, 64, 5)
        + conv_macs(13, 384, 192, 3)
        + conv_macs(13, 256, 384, 3)
        + conv_macs(13, 256, 256, 3)
    )
    fcs = 9216 * 4096 + 4096 * 4096 + 4096 * 1000
    assert w.total_macs == convs + fcs == 714_188_480
    assert n_params(model) == 61_100_840


def test_alexnet_caffe_grouped():
    """Caffe AlexNet (groups 2 in conv2/4/5, 227x227): 60,965,224 parameters, 724,406,816 MACs."""
    model, w = meta_trace("alexnet_caffe")
    convs = (
        conv_macs(55, 96, 3, 11)
        + conv_macs(27, 256, 48, 5)
        + conv_macs(13, 384, 256, 3)
        + conv_macs(13, 384, 192, 3)
        + conv_macs(13, 256, 192, 3)
    )
    assert w.total_macs == convs + 37_748_736 + 16_777_216 + 4_096_000 == 724_406_816
    weights = [34_848, 307_200, 884_736, 663_552, 442_368, 37_748_736, 16_777_216, 4_096_000]
    assert [
        m.weight.numel()
        for m in (model.conv1, model.conv2, model.conv3, model.conv4, model.conv5, model.fc6, model.fc7, model.fc8)
    ] == weights
    assert n_params(model) == sum(weights) + 96 + 256 + 384 + 384 + 256 + 4096 + 4096 + 1000 == 60_965_224
    assert not w.unsupported  # local response norm decomposes into costed ops


def test_vgg16():
    """VGG-16: 13 3x3 convs + 3 FC = 15,470,264,320 MACs (15.47 G); 138,357,544 parameters."""
    model, w = meta_trace("vgg16")
    stages = [
        (224, [(3, 64), (64, 64)]),
        (112, [(64, 128), (128, 128)]),
        (56, [(128, 256), (256, 256), (256, 256)]),
        (28, [(256, 512), (512, 512), (512, 512)]),
        (14, [(512, 512)] * 3),
    ]
    convs = sum(conv_macs(side, cout, cin, 3) for side, layers in stages for cin, cout in layers)
    fcs = 25088 * 4096 + 4096 * 4096 + 4096 * 1000
    assert convs == 15_346_630_656 and fcs == 123_633_664
    assert w.total_macs == convs + fcs == 15_470_264_320
    assert n_params(model) == 138_357_544


def _resnet_macs(bottleneck: bool, blocks: tuple[int, ...]) -> int:
    """Stem 7x7/2 conv + stages (v1.5: stride in the 3x3) + fc, written from the architecture."""
    total = conv_macs(112, 64, 3, 7)
    cin, side = 64, 56
    for stage, (width, n) in enumerate(zip((64, 128, 256, 512), blocks)):
        cout = width * 4 if bottleneck else width
        for i in range(n):
            stride = 2 if stage > 0 and i == 0 else 1
            out = side // stride
            if bottleneck:
                total += (
                    conv_macs(side, width, cin, 1) + conv_macs(out, width, width, 3) + conv_macs(out, cout, width, 1)
                )
            else:
                total += conv_macs(out, width, cin, 3) + conv_macs(out, width, width, 3)
            if stride != 1 or cin != cout:
                total += conv_macs(out, cout, cin, 1)  # downsample projection
            cin, side = cout, out
    return total + cin * 1000


def test_resnet18():
    """ResNet-18: 1,814,073,344 MACs (1.814 G); 11,689,512 parameters."""
    model, w = meta_trace("resnet18")
    assert w.total_macs == _resnet_macs(False, (2, 2, 2, 2)) == 1_814_073_344
    assert n_params(model) == 11_689_512


def test_resnet50_v1_5():
    """ResNet-50 v1.5: 4,089,184,256 MACs (4.089 G; v1 would be 3.86 G); 25,557,032 parameters."""
    model, w = meta_trace("resnet50")
    assert w.total_macs == _resnet_macs(True, (3, 4, 6, 3)) == 4_089_184_256
    assert n_params(model) == 25_557_032
    assert w.unsupported == {}


def test_mobilenet_v2():
    """MobileNetV2 1.0: 300,774,272 MACs (~0.30 G, depthwise convs included); 3,504,872 parameters."""
    model, w = meta_trace("mobilenet_v2")
    total, cin, side = conv_macs(112, 32, 3, 3), 32, 112
    for t, c, n, s in (
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ):
        for i in range(n):
            hidden, out = cin * t, side // (s if i == 0 else 1)
            if t != 1:
                total += conv_macs(side, hidden, cin, 1)  # expand
            total += conv_macs(out, hidden, 1, 3)  # depthwise: one input channel per group
            total += conv_macs(out, c, hidden, 1)  # project
            cin, side = c, out
    total += conv_macs(7, 1280, 320, 1) + 1280 * 1000
    assert w.total_macs == total == 300_774_272
    assert n_params(model) == 3_504_872


def test_vit_tiny_fused_on_cpu_equals_unfused_on_meta():
    """vit_tiny: patch conv + 6 x (attention + MLP) + head = 182,849,664 MACs, fused fast path or not."""
    tokens, dim, mlp = 65, 192, 768  # 64 patches + class token
    per_layer = 4 * tokens * dim * dim + 2 * tokens * tokens * dim + 2 * tokens * dim * mlp
    expected = conv_macs(8, dim, 3, 4) + 6 * per_layer + dim * 10
    _, meta = meta_trace("vit_tiny")
    spec = model_spec("vit_tiny")
    real = trace(spec.factory().eval(), spec.example_input())
    assert meta.total_macs == real.total_macs == expected == 182_849_664
    assert sum(op.aten == "aten._transformer_encoder_layer_fwd.default" for op in real.ops) == 6
    assert not meta.unsupported and not real.unsupported


def test_load_model_by_import_path_and_errors():
    """load_model accepts package.module:factory and names what is wrong otherwise."""
    assert type(load_model("models.resnet:resnet18")).__name__ == "ResNet"
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        load_model("nope")
    with pytest.raises(ModelError, match="cannot import module"):
        load_model("no_such_pkg.mod:f")
    with pytest.raises(ModelError, match="has no attribute 'missing'"):
        load_model("models.vgg:missing")


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2", "vit_tiny", "alexnet_caffe"])
def test_doubling_the_batch_doubles_macs(name):
    """A relation, not a constant: batch 2 costs exactly twice the MACs of batch 1."""
    spec = model_spec(name)
    with torch.device("meta"):
        model = spec.factory().eval()
    one = trace(model, spec.example_input(1)).total_macs
    assert trace(model, spec.example_input(2)).total_macs == 2 * one
