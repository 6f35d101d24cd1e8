"""A BatchNorm-folded int8 ResNet-18 (torchvision layout: in-place ReLU, max pool with indices) on meta.

Built from the zoo's ``models.resnet.resnet18`` (torchvision's module names and forward): every
(conv, BatchNorm) pair is folded into one conv with a bias (``torch.nn.utils.fusion.fuse_conv_bn_eval``,
the BatchNorm replaced by ``nn.Identity``), then every parameter becomes an int8 tensor on the meta
device, so the trace sees int8 activations and allocates nothing. The average pool becomes an
integer sum cast back to int8 (the 1/49 is a constant that folds into ``fc`` like BatchNorm does;
CPU and meta kernels have no int8 mean).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from models.resnet import resnet18

__all__ = ["folded_int8_resnet18"]


class _IntSumPool(nn.Module):
    """Global sum pool at int32, cast to int8 (the average's 1/(H W) folded into the next layer)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum((2, 3), keepdim=True, dtype=torch.int32).to(torch.int8)


def folded_int8_resnet18() -> tuple[nn.Module, torch.Tensor]:
    """(model, a 1 x 3 x 224 x 224 int8 meta input)."""
    torch.manual_seed(0)
    model = resnet18().eval()
    pairs = [("", "conv1", "bn1")]
    for name, module in model.named_modules():
        if hasattr(module, "conv2"):
            pairs += [(name, "conv1", "bn1"), (name, "conv2", "bn2")]
        if name.endswith("downsample"):
            pairs.append((name, "0", "1"))
    for parent_name, conv, bn in pairs:
        parent = model.get_submodule(parent_name)
        setattr(parent, conv, fuse_conv_bn_eval(getattr(parent, conv), getattr(parent, bn)))
        setattr(parent, bn, nn.Identity())
    model.avgpool = _IntSumPool()
    for module in model.modules():
        for name, p in list(module._parameters.items()):
            if p is not None:
                module._parameters[name] = nn.Parameter(
                    torch.empty(p.shape, dtype=torch.int8, device="meta"), requires_grad=False
                )
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    return model, torch.empty(1, 3, 224, 224, dtype=torch.int8, device="meta")
