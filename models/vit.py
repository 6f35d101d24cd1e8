"""A small vision transformer built from ``nn.TransformerEncoderLayer`` (and so ``nn.MultiheadAttention``).

``vit_tiny``: 32 x 32 RGB input (CIFAR-sized), 4 x 4 patches -> 64 tokens + a class token, width 192,
6 layers, 4 heads (even, as PyTorch's fused fast path requires), MLP 768, pre-norm, GELU, 10 classes
(Dosovitskiy et al. 2021 layout at a small scale). In eval mode without grad each layer takes PyTorch's fused fast path
(``aten._transformer_encoder_layer_fwd``); the tracer counts it as the unfused layers.
"""

from __future__ import annotations

import torch
from torch import nn

from models.registry import register_model

__all__ = ["VisionTransformer", "vit_tiny"]


class VisionTransformer(nn.Module):
    """Patch embedding (a strided conv), class token, learned positions, an encoder stack, a linear head."""

    def __init__(
        self,
        image_size: int = 32,
        patch_size: int = 4,
        in_channels: int = 3,
        dim: int = 192,
        depth: int = 6,
        heads: int = 4,
        mlp_dim: int = 768,
        num_classes: int = 10,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"image_size {image_size} must be a multiple of patch_size {patch_size}")
        tokens = (image_size // patch_size) ** 2
        self.patch_embed = nn.Conv2d(in_channels, dim, kernel_size=patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, tokens + 1, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(
            dim, heads, mlp_dim, dropout=dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos_embed
        x = self.norm(self.encoder(x))
        return self.head(x[:, 0])


@register_model("vit_tiny", (1, 3, 32, 32), "Small vision transformer: 32x32 input, 4x4 patches, width 192, 6 layers")
def vit_tiny() -> nn.Module:
    return VisionTransformer()
