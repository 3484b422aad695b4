"""Convolutional discriminator on colour images (paper eq. 6), StyleGAN2-style residual design.

Unconditional by default, as in the paper; `conditional=True` also shows it the sketch (concatenated to the colour
image), as the pix2pix baseline's discriminator sees the input with the output.

fromRGB (1×1) → residual blocks, each halving the resolution while it is even and above 4 → minibatch standard
deviation channel → 3×3 conv → two linear layers → one logit per image. Equalised learning rate throughout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rasc.models.layers import ConvAct, EqualConv2d, EqualLinear, avg_pool2x, lrelu


@dataclass(frozen=True)
class DiscriminatorConfig:
    image_size: int = 128          # H = W of the colour images it judges
    base_channels: int = 32        # channels at full resolution; doubles per block up to max_channels
    max_channels: int = 256        # cap on the channels of any block
    conditional: bool = False      # also judge the sketch: input (B, 3 + 1, S, S)

    def __post_init__(self):
        for name in ("image_size", "base_channels", "max_channels"):
            if getattr(self, name) < 1:
                raise ValueError(f"DiscriminatorConfig.{name} must be positive, got {getattr(self, name)}")
        if self.image_size < 8:
            raise ValueError(f"DiscriminatorConfig.image_size must be at least 8, got {self.image_size}")


class ResidualDownBlock(nn.Module):
    """conv → conv → 2× average-pool, plus a pooled 1×1 skip; the sum is scaled by 1/sqrt(2)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv1 = ConvAct(in_channels, in_channels)
        self.conv2 = ConvAct(in_channels, out_channels)
        self.skip = EqualConv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        out = avg_pool2x(self.conv2(self.conv1(x)))
        skip = self.skip(avg_pool2x(x))
        return (out + skip) / math.sqrt(2.0)


def minibatch_stddev(x: Tensor, group_size: int = 4) -> Tensor:
    """Append the mean standard deviation over groups of samples as one extra channel. (B, C, h, w) → (B, C+1, h, w).

    The group is the largest size ≤ `group_size` that divides the batch.
    """
    batch, channels, height, width = x.shape
    group = next(g for g in range(min(group_size, batch), 0, -1) if batch % g == 0)
    y = x.reshape(group, batch // group, channels, height, width)
    y = torch.sqrt(y.var(dim=0, unbiased=False) + 1e-8).mean(dim=(1, 2, 3))  # (B / group,)
    y = y.repeat(group).view(batch, 1, 1, 1).expand(batch, 1, height, width)
    return torch.cat([x, y], dim=1)


class Discriminator(nn.Module):
    """Colour image (B, 3, S, S) in [-1, 1] → (B,) real/fake logits."""

    def __init__(self, cfg: DiscriminatorConfig):
        super().__init__()
        self.cfg = cfg
        resolution, level, blocks = cfg.image_size, 0, []
        while resolution > 4 and resolution % 2 == 0:
            blocks.append(ResidualDownBlock(self._channels(level), self._channels(level + 1)))
            resolution, level = resolution // 2, level + 1
        final_channels = self._channels(level)
        self.from_rgb = ConvAct(3 + int(cfg.conditional), self._channels(0), 1)
        self.blocks = nn.ModuleList(blocks)
        self.final_conv = ConvAct(final_channels + 1, final_channels)
        self.final_linear = EqualLinear(final_channels * resolution**2, final_channels)
        self.logit = EqualLinear(final_channels, 1)

    def _channels(self, level: int) -> int:
        return min(self.cfg.base_channels * 2**level, self.cfg.max_channels)

    def forward(self, color: Tensor, sketch: Tensor | None = None) -> Tensor:
        """color (B, 3, S, S) in [-1, 1]; sketch (B, 1, S, S), required iff the discriminator is conditional."""
        size = self.cfg.image_size
        if color.dim() != 4 or color.shape[1:] != (3, size, size):
            raise ValueError(f"discriminator input must be (B, 3, {size}, {size}), got {tuple(color.shape)}")
        if self.cfg.conditional:
            if sketch is None or sketch.shape != (color.shape[0], 1, size, size):
                shape = None if sketch is None else tuple(sketch.shape)
                raise ValueError(f"a conditional discriminator needs the sketch (B, 1, {size}, {size}), got {shape}")
            color = torch.cat([color, sketch.to(color.dtype)], dim=1)  # (B, 4, S, S)
        elif sketch is not None:
            raise ValueError("an unconditional discriminator takes no sketch")
        x = self.from_rgb(color)
        for block in self.blocks:
            x = block(x)
        x = self.final_conv(minibatch_stddev(x))  # (B, C, r, r)
        x = lrelu(self.final_linear(x.flatten(1)))  # (B, C)
        return self.logit(x).squeeze(1)  # (B,)
