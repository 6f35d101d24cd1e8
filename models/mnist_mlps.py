"""The MNIST multilayer perceptrons of Hinton, Vinyals & Dean (2015), the distillation experiment.

Teacher: 784-1200-1200-10 with ReLU and dropout (0.2 on the input, 0.5 on the hidden layers, as in
Srivastava et al. 2014 whose MNIST nets Hinton et al. reuse) plus a max-norm weight constraint
applied during training (``simulator.compress.training.apply_max_norm``). Student: 784-800-800-10
with ReLU and no regularisation. Paper (shared/reference.md section 3): teacher 67 test errors, student alone 146,
student distilled at T = 20: 74.

Dropout is the identity in eval mode, so a traced teacher costs what its three Linear layers cost.
"""

from __future__ import annotations

import torch
from torch import nn

from models.registry import register_model

__all__ = ["MnistMLP", "mlp_800_800", "mlp_1200_1200_dropout"]


class MnistMLP(nn.Module):
    """A 784-h1-h2-10 ReLU perceptron with optional input and hidden dropout.

    Args:
        hidden: the two hidden widths.
        input_dropout: dropout probability on the flattened input (0 = none).
        hidden_dropout: dropout probability after each hidden ReLU (0 = none).
    """

    def __init__(self, hidden: tuple[int, int] = (800, 800), input_dropout: float = 0.0, hidden_dropout: float = 0.0) -> None:
        super().__init__()
        h1, h2 = hidden
        self.drop_in = nn.Dropout(input_dropout) if input_dropout > 0 else nn.Identity()
        self.fc1 = nn.Linear(784, h1)
        self.drop1 = nn.Dropout(hidden_dropout) if hidden_dropout > 0 else nn.Identity()
        self.fc2 = nn.Linear(h1, h2)
        self.drop2 = nn.Dropout(hidden_dropout) if hidden_dropout > 0 else nn.Identity()
        self.fc3 = nn.Linear(h2, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop_in(x.flatten(1))
        x = self.drop1(torch.relu(self.fc1(x)))
        x = self.drop2(torch.relu(self.fc2(x)))
        return self.fc3(x)


@register_model("mlp_1200_1200_dropout", (1, 1, 28, 28), "Hinton et al. 2015 distillation teacher: MNIST MLP 784-1200-1200-10, dropout")
def mlp_1200_1200_dropout() -> nn.Module:
    return MnistMLP((1200, 1200), input_dropout=0.2, hidden_dropout=0.5)


@register_model("mlp_800_800", (1, 1, 28, 28), "Hinton et al. 2015 distillation student: MNIST MLP 784-800-800-10, no regularisation")
def mlp_800_800() -> nn.Module:
    return MnistMLP((800, 800))
