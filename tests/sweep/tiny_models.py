"""Tiny models for sweep tests, importable as ``tests.sweep.tiny_models:<factory>``."""

from __future__ import annotations

import torch
from torch import nn


def one_linear() -> nn.Module:
    """A single 8 -> 4 linear layer without bias: 32 weights, 32 MACs per example."""
    torch.manual_seed(0)
    return nn.Linear(8, 4, bias=False).eval()


def two_linear() -> nn.Module:
    """Two linear layers (64 -> 32 -> 10) with a ReLU, for sweeps that need a few more ops."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)).eval()
