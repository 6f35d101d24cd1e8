"""LeNet-300-100 and LeNet-5 (the Caffe MNIST variant Deep Compression used).

Shapes (shared/reference.md section 5):
LeNet-300-100: 784-300-100-10 fully connected with ReLU; 266,200 weights + 410 biases; 266,200 MACs.
LeNet-5 (Caffe): conv1 20x5x5 (no ReLU) -> maxpool 2 -> conv2 50x5x5 -> maxpool 2 -> ip1 500 + ReLU -> ip2 10;
430,500 weights + 580 biases = 431,080 parameters; 2,293,000 MACs.
"""

from __future__ import annotations

import torch
from torch import nn

from models.registry import register_model

__all__ = ["LeNet300100", "LeNet5", "lenet_300_100", "lenet5"]


class LeNet300100(nn.Module):
    """784-300-100-10 MLP with ReLU (LeCun et al. 1998; Han et al. 2015)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(784, 300)
        self.fc2 = nn.Linear(300, 100)
        self.fc3 = nn.Linear(100, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


class LeNet5(nn.Module):
    """The Caffe MNIST LeNet: no ReLU after the convolutions, ReLU after ip1."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(20, 50, 5)
        self.pool2 = nn.MaxPool2d(2)
        self.ip1 = nn.Linear(800, 500)
        self.ip2 = nn.Linear(500, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.conv1(x))
        x = self.pool2(self.conv2(x))
        x = torch.relu(self.ip1(x.flatten(1)))
        return self.ip2(x)


@register_model("lenet_300_100", (1, 1, 28, 28), "LeNet-300-100 MLP for MNIST (266,200 MACs)")
def lenet_300_100() -> nn.Module:
    return LeNet300100()


@register_model("lenet5", (1, 1, 28, 28), "LeNet-5, Caffe MNIST variant (431,080 parameters, 2.293M MACs)")
def lenet5() -> nn.Module:
    return LeNet5()
