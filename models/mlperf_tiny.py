"""The four MLPerf Tiny v1.0 reference models, layer for layer as in the benchmark's Keras code.

Source: MLPerf Tiny reference code, https://github.com/mlcommons/tiny, ``benchmark/training/``:

- ``image_classification/keras_model.py`` (``resnet_v1_eembc``): ResNet-8 on CIFAR-10, 32x32x3.
  Conv 16 3x3, then three stacks of two 3x3 convs (16, 32, 64 filters; stacks 2 and 3 start with
  stride 2 and add a 1x1 stride-2 projection shortcut), 8x8 average pool, dense 10.
  12,501,632 MACs, 77,360 conv/dense weights.
- ``keyword_spotting/keras_model.py`` (``ds_cnn``): DS-CNN on 49x10 MFCCs, 12 keywords. Conv 64
  (10, 4) stride 2, four depthwise 3x3 + pointwise 64 blocks, 25x5 average pool, dense 12.
  2,656,768 MACs, 22,016 weights.
- ``visual_wake_words/vww_model.py`` (``mobilenet_v1``, alpha 0.25): MobileNetV1-0.25 at 96x96x3,
  2 classes. Conv 8 3x3 stride 2, thirteen depthwise-separable blocks (16 .. 256 filters; stride 2
  at blocks 2, 4, 6 and 12), 3x3 average pool, dense 2. 7,489,664 MACs, 208,112 weights.
- ``anomaly_detection/keras_model.py``: the FC autoencoder on 640 inputs (5 frames x 128 mel bins):
  dense 128 x4, bottleneck 8, dense 128 x4 (each with batch norm and ReLU), dense 640.
  264,192 MACs, 264,192 weights.

As in Keras (``use_bias`` defaults to True) every conv and dense layer has a bias, and batch norm
follows each conv/dense layer but the last. "Weights" above counts the conv/dense kernels only
(biases and batch-norm parameters apart). Keras ``padding="same"`` with stride 2 pads more at the
bottom/right; ``_SamePad`` reproduces that exactly (PyTorch's ``padding="same"`` refuses stride 2).
Each factory builds its weights from a fixed seed (``SEED``) without touching the global RNG.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from models.registry import register_model

__all__ = ["SEED", "DSCNN", "FCAutoencoder", "MobileNetV1VWW", "ResNet8", "ds_cnn", "fc_autoencoder",
           "mobilenet_v1_025_vww", "resnet8"]

#: Seed of every factory's initial weights.
SEED = 0


class _SamePad(nn.Module):
    """Keras ``padding="same"``: total padding ``max((ceil(n/s) - 1) * s + k - n, 0)``, the odd pixel at the end."""

    def __init__(self, kernel: tuple[int, int], stride: int) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for n, k in ((x.shape[-1], self.kernel[1]), (x.shape[-2], self.kernel[0])):
            out = -(-n // self.stride)
            total = max((out - 1) * self.stride + k - n, 0)
            pads += [total // 2, total - total // 2]
        return F.pad(x, pads) if any(pads) else x


def _conv_bn(cin: int, cout: int, kernel: int | tuple[int, int], stride: int = 1, groups: int = 1) -> list[nn.Module]:
    """Keras Conv2D/DepthwiseConv2D (``padding="same"``, bias) + BatchNormalization."""
    k = (kernel, kernel) if isinstance(kernel, int) else kernel
    return [_SamePad(k, stride), nn.Conv2d(cin, cout, k, stride, groups=groups), nn.BatchNorm2d(cout)]


class _ResidualStack(nn.Module):
    """One ResNet-8 stack: conv-BN-ReLU, conv-BN, plus the (projection) shortcut, then ReLU."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(*_conv_bn(cin, cout, 3, stride), nn.ReLU())
        self.conv2 = nn.Sequential(*_conv_bn(cout, cout, 3))
        self.shortcut = nn.Conv2d(cin, cout, 1, stride) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv2(self.conv1(x)) + self.shortcut(x))


class ResNet8(nn.Module):
    """MLPerf Tiny image classification: ResNet-8 (``resnet_v1_eembc``) for 32x32x3 CIFAR-10."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(*_conv_bn(3, 16, 3), nn.ReLU())
        self.stack1 = _ResidualStack(16, 16, 1)
        self.stack2 = _ResidualStack(16, 32, 2)
        self.stack3 = _ResidualStack(32, 64, 2)
        self.pool = nn.AvgPool2d(8)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stack3(self.stack2(self.stack1(self.stem(x))))
        return self.fc(self.pool(x).flatten(1))


class DSCNN(nn.Module):
    """MLPerf Tiny keyword spotting: DS-CNN (``ds_cnn``) on 49x10 MFCC features, 12 classes."""

    def __init__(self, num_classes: int = 12, filters: int = 64) -> None:
        super().__init__()
        layers = [*_conv_bn(1, filters, (10, 4), 2), nn.ReLU()]
        for _ in range(4):
            layers += [*_conv_bn(filters, filters, 3, groups=filters), nn.ReLU()]  # depthwise
            layers += [*_conv_bn(filters, filters, 1), nn.ReLU()]  # pointwise
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)  # Keras AveragePooling2D over the whole 25x5 map
        self.fc = nn.Linear(filters, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.features(x)).flatten(1))


#: MobileNetV1 depthwise-separable blocks at alpha 0.25: (pointwise filters, depthwise stride).
_VWW_BLOCKS = ((16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1), (128, 1), (128, 1), (128, 1),
               (128, 1), (256, 2), (256, 1))


class MobileNetV1VWW(nn.Module):
    """MLPerf Tiny visual wake words: MobileNetV1 alpha 0.25 (``mobilenet_v1``) at 96x96x3, 2 classes."""

    def __init__(self, num_classes: int = 2) -> None:
        super().__init__()
        layers = [*_conv_bn(3, 8, 3, 2), nn.ReLU()]
        cin = 8
        for cout, stride in _VWW_BLOCKS:
            layers += [*_conv_bn(cin, cin, 3, stride, groups=cin), nn.ReLU(), *_conv_bn(cin, cout, 1), nn.ReLU()]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)  # Keras AveragePooling2D(pool_size=3x3 map)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.features(x)).flatten(1))


class FCAutoencoder(nn.Module):
    """MLPerf Tiny anomaly detection: the dense autoencoder on 640 inputs (128 x4, 8, 128 x4, 640)."""

    def __init__(self, inputs: int = 640, hidden: int = 128, bottleneck: int = 8) -> None:
        super().__init__()
        widths = [inputs, hidden, hidden, hidden, hidden, bottleneck, hidden, hidden, hidden, hidden]
        layers: list[nn.Module] = []
        for cin, cout in zip(widths, widths[1:]):
            layers += [nn.Linear(cin, cout), nn.BatchNorm1d(cout), nn.ReLU()]
        layers.append(nn.Linear(hidden, inputs))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x.flatten(1))


def _seeded(cls: type[nn.Module]) -> nn.Module:
    """``cls()`` with its initial weights drawn from ``SEED`` (the global RNG state is restored)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        return cls()


@register_model("resnet8", (1, 3, 32, 32), "MLPerf Tiny ResNet-8, CIFAR-10 (12.5M MACs, 77,360 weights)")
def resnet8() -> nn.Module:
    return _seeded(ResNet8)


@register_model("ds_cnn", (1, 1, 49, 10), "MLPerf Tiny DS-CNN keyword spotting, 49x10 MFCC (2.66M MACs)")
def ds_cnn() -> nn.Module:
    return _seeded(DSCNN)


@register_model("mobilenet_v1_025_vww", (1, 3, 96, 96), "MLPerf Tiny MobileNetV1-0.25 visual wake words (7.49M MACs)")
def mobilenet_v1_025_vww() -> nn.Module:
    return _seeded(MobileNetV1VWW)


@register_model("fc_autoencoder", (1, 640), "MLPerf Tiny FC autoencoder, anomaly detection (264,192 MACs)")
def fc_autoencoder() -> nn.Module:
    return _seeded(FCAutoencoder)
