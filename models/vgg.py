"""VGG-16 (configuration D of Simonyan & Zisserman 2015), torchvision's layout without batch norm.

13 3x3 convolutions in five stages (64, 64 | 128, 128 | 256 x 3 | 512 x 3 | 512 x 3), max pool after
each stage, then fc 25088 -> 4096 -> 4096 -> 1000. 138,357,544 parameters; 15.47 GMACs at 224 x 224.
"""

from __future__ import annotations

import torch
from torch import nn

from models.registry import register_model

__all__ = ["VGG", "VGG16_CONFIG", "vgg16"]

#: Output channels per conv layer, "M" = 2x2 max pool (configuration D).
VGG16_CONFIG: tuple[int | str, ...] = (
    64,
    64,
    "M",
    128,
    128,
    "M",
    256,
    256,
    256,
    "M",
    512,
    512,
    512,
    "M",
    512,
    512,
    512,
    "M",
)


class VGG(nn.Module):
    """torchvision's VGG (same layer names: ``features.<i>``, ``classifier.<i>``)."""

    def __init__(
        self, config: tuple[int | str, ...] = VGG16_CONFIG, num_classes: int = 1000, dropout: float = 0.5
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for v in config:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(channels, int(v), kernel_size=3, padding=1), nn.ReLU(inplace=True)]
                channels = int(v)
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


@register_model("vgg16", (1, 3, 224, 224), "VGG-16 (138,357,544 parameters, 15.47 GMACs)")
def vgg16() -> nn.Module:
    return VGG()
