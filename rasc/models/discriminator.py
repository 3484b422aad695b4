"""Convolutional discriminators on colour images (paper eq. 6).

- :class:`Discriminator` (``architecture="stylegan2"``, RASC's): a StyleGAN2-style residual design. fromRGB (1×1) →
  residual blocks, each halving the resolution while it is even and above 4 → minibatch standard deviation channel
  → 3×3 conv → two linear layers → one logit per image. Equalised learning rate throughout.
- :class:`PatchDiscriminator` (``architecture="patchgan"``, the pix2pix baseline's): pix2pix's N-layer PatchGAN
  (Isola et al. 2017, §3.2.2), one logit per overlapping patch (70×70 px with its 3 layers).

Both are unconditional by default, as in the paper; `conditional=True` also shows them the sketch (concatenated to
the colour image), as the pix2pix baseline's discriminator sees the input with the output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rasc.config import patchgan_min_size
from rasc.models.layers import ConvAct, EqualConv2d, EqualLinear, avg_pool2x, lrelu

ARCHITECTURES = ("stylegan2", "patchgan")


@dataclass(frozen=True)
class DiscriminatorConfig:
    image_size: int = 128          # H = W of the colour images it judges
    base_channels: int = 32        # channels at full resolution; doubles per block up to max_channels
    max_channels: int = 256        # cap on the channels of any block
    conditional: bool = False      # also judge the sketch: input (B, 3 + 1, S, S)
    architecture: str = "stylegan2"  # "stylegan2" (Discriminator) | "patchgan" (PatchDiscriminator, pix2pix's)
    patch_layers: int = 3          # PatchGAN's stride-2 layers: its patches are 16, 34, 70, 142 px for 1, 2, 3, 4

    def __post_init__(self):
        for name in ("image_size", "base_channels", "max_channels", "patch_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"DiscriminatorConfig.{name} must be positive, got {getattr(self, name)}")
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"DiscriminatorConfig.architecture must be one of {ARCHITECTURES}, "
                             f"got {self.architecture!r}")
        smallest = 8 if self.architecture == "stylegan2" else patchgan_min_size(self.patch_layers)
        if self.image_size < smallest:
            raise ValueError(f"DiscriminatorConfig.image_size must be at least {smallest} for this {self.architecture} "
                             f"discriminator (patch_layers {self.patch_layers}), got {self.image_size}")


def discriminator_input(cfg: DiscriminatorConfig, color: Tensor, sketch: Tensor | None) -> Tensor:
    """Check the shapes and join the sketch to the colour image when the discriminator is conditional.

    color (B, 3, S, S) in [-1, 1]; sketch (B, 1, S, S), required iff conditional → (B, 3 [+ 1], S, S)."""
    size = cfg.image_size
    if color.dim() != 4 or color.shape[1:] != (3, size, size):
        raise ValueError(f"discriminator input must be (B, 3, {size}, {size}), got {tuple(color.shape)}")
    if cfg.conditional:
        if sketch is None or sketch.shape != (color.shape[0], 1, size, size):
            shape = None if sketch is None else tuple(sketch.shape)
            raise ValueError(f"a conditional discriminator needs the sketch (B, 1, {size}, {size}), got {shape}")
        return torch.cat([color, sketch.to(color.dtype)], dim=1)  # (B, 4, S, S)
    if sketch is not None:
        raise ValueError("an unconditional discriminator takes no sketch")
    return color


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
        x = self.from_rgb(discriminator_input(self.cfg, color, sketch))
        for block in self.blocks:
            x = block(x)
        x = self.final_conv(minibatch_stddev(x))  # (B, C, r, r)
        x = lrelu(self.final_linear(x.flatten(1)))  # (B, C)
        return self.logit(x).squeeze(1)  # (B,)


class PatchDiscriminator(nn.Module):
    """pix2pix's PatchGAN: colour image (B, 3, S, S) in [-1, 1] → (B, P) logits, one per overlapping patch.

    4×4 convolutions: ``patch_layers`` of stride 2 (the first without normalisation), one of stride 1, each with
    BatchNorm and LeakyReLU(0.2), then a stride-1 convolution to one channel. Channels ``base_channels`` · 2^n, capped
    at ``max_channels`` (pix2pix: 64 · 2^n up to 512, so a cap of 8 × the base). Plain convolutions initialised from
    N(0, 0.02), BatchNorm's scale from N(1, 0.02), as pix2pix's code; no equalised learning rate.
    """

    def __init__(self, cfg: DiscriminatorConfig):
        super().__init__()
        self.cfg = cfg
        channels = [3 + int(cfg.conditional)] + [min(cfg.base_channels * 2**n, cfg.max_channels)
                                                  for n in range(cfg.patch_layers + 1)]
        layers: list[nn.Module] = []
        for n, (c_in, c_out) in enumerate(zip(channels[:-1], channels[1:])):
            stride, normalise = (2 if n < cfg.patch_layers else 1), n > 0
            layers.append(nn.Conv2d(c_in, c_out, 4, stride=stride, padding=1, bias=not normalise))
            if normalise:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.LeakyReLU(0.2))
        layers.append(nn.Conv2d(channels[-1], 1, 4, stride=1, padding=1))
        self.layers = nn.Sequential(*layers)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.weight, 0.0, 0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.normal_(module.weight, 1.0, 0.02)
                nn.init.zeros_(module.bias)

    def forward(self, color: Tensor, sketch: Tensor | None = None) -> Tensor:
        """color (B, 3, S, S) in [-1, 1]; sketch (B, 1, S, S), required iff the discriminator is conditional."""
        return self.layers(discriminator_input(self.cfg, color, sketch)).flatten(1)  # (B, P)


def build_discriminator(cfg: DiscriminatorConfig) -> nn.Module:
    """The discriminator a config describes: RASC's StyleGAN2-style one or pix2pix's PatchGAN."""
    return PatchDiscriminator(cfg) if cfg.architecture == "patchgan" else Discriminator(cfg)
