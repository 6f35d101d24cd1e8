"""AlexNet: the torchvision variant (224 x 224) and the original Caffe variant with grouped convolutions.

torchvision (Krizhevsky 2014 "one weird trick" layout): 61,100,840 parameters, 0.714 GMACs at 224 x 224.
Caffe/original (Krizhevsky et al. 2012, the model Deep Compression prunes): 227 x 227 input, conv2,
conv4 and conv5 split into 2 groups, local response normalisation after conv1 and conv2;
60,965,224 parameters, 724.4 M MACs (shared/reference.md section 5).
"""

from __future__ import annotations

import torch
from torch import nn

from models.registry import register_model

__all__ = ["AlexNet", "AlexNetCaffe", "alexnet", "alexnet_caffe"]


class AlexNet(nn.Module):
    """torchvision's AlexNet (same layer names, so its state dicts load)."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


class AlexNetCaffe(nn.Module):
    """The original two-tower AlexNet as Caffe's ``bvlc_alexnet`` defines it (layer names conv1..fc8)."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 96, 11, stride=4)
        self.norm1 = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75)
        self.pool1 = nn.MaxPool2d(3, stride=2)
        self.conv2 = nn.Conv2d(96, 256, 5, padding=2, groups=2)
        self.norm2 = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75)
        self.pool2 = nn.MaxPool2d(3, stride=2)
        self.conv3 = nn.Conv2d(256, 384, 3, padding=1)
        self.conv4 = nn.Conv2d(384, 384, 3, padding=1, groups=2)
        self.conv5 = nn.Conv2d(384, 256, 3, padding=1, groups=2)
        self.pool5 = nn.MaxPool2d(3, stride=2)
        self.fc6 = nn.Linear(256 * 6 * 6, 4096)
        self.fc7 = nn.Linear(4096, 4096)
        self.fc8 = nn.Linear(4096, num_classes)
        self.drop = nn.Dropout(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.norm1(torch.relu(self.conv1(x))))
        x = self.pool2(self.norm2(torch.relu(self.conv2(x))))
        x = torch.relu(self.conv3(x))
        x = torch.relu(self.conv4(x))
        x = self.pool5(torch.relu(self.conv5(x)))
        x = self.drop(torch.relu(self.fc6(x.flatten(1))))
        x = self.drop(torch.relu(self.fc7(x)))
        return self.fc8(x)


@register_model("alexnet", (1, 3, 224, 224), "AlexNet, torchvision variant (61,100,840 parameters, 0.714 GMACs)")
def alexnet() -> nn.Module:
    return AlexNet()


@register_model(
    "alexnet_caffe", (1, 3, 227, 227), "AlexNet, original grouped Caffe variant (60,965,224 parameters, 724.4M MACs)"
)
def alexnet_caffe() -> nn.Module:
    return AlexNetCaffe()
