"""A small U-Net that maps a sketch to DanbooRegion's skeleton field (values in [0, 1])."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two 3x3 convolutions, each followed by batch norm and ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class RegionUNet(nn.Module):
    """U-Net: `depth` poolings, widths base_channels * 2**level, bilinear upsampling, sigmoid output."""

    def __init__(self, base_channels: int = 8, depth: int = 3) -> None:
        super().__init__()
        if base_channels < 1 or depth < 1:
            raise ValueError(f"base_channels and depth must be >= 1, got {base_channels}, {depth}")
        self.depth = depth
        widths = [base_channels * 2**level for level in range(depth + 1)]
        self.encoders = nn.ModuleList(
            [_conv_block(1 if level == 0 else widths[level - 1], widths[level]) for level in range(depth + 1)]
        )
        self.decoders = nn.ModuleList(
            [_conv_block(widths[level + 1] + widths[level], widths[level]) for level in reversed(range(depth))]
        )
        self.to_field = nn.Conv2d(widths[0], 1, 1)

    @property
    def size_multiple(self) -> int:
        """Input height and width must be multiples of this."""
        return 2**self.depth

    def forward(self, sketch: torch.Tensor) -> torch.Tensor:
        """sketch (B, 1, H, W) in [-1, 1], H and W multiples of `size_multiple` -> field (B, 1, H, W) in [0, 1]."""
        if sketch.ndim != 4 or sketch.shape[1] != 1:
            raise ValueError(f"sketch must be (B, 1, H, W), got {tuple(sketch.shape)}")
        if sketch.shape[-2] % self.size_multiple or sketch.shape[-1] % self.size_multiple:
            raise ValueError(f"height and width must be multiples of {self.size_multiple}, got {tuple(sketch.shape)}")
        skips = []
        features = sketch
        for level, encoder in enumerate(self.encoders):
            if level > 0:
                features = F.max_pool2d(features, 2)
            features = encoder(features)  # (B, C_level, H / 2**level, W / 2**level)
            skips.append(features)
        for decoder, skip in zip(self.decoders, reversed(skips[:-1])):
            features = F.interpolate(features, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            features = decoder(torch.cat([features, skip], dim=1))
        return torch.sigmoid(self.to_field(features))  # (B, 1, H, W)
