"""pix2pix-style U-Net generator (Isola et al. 2017), the pixel-wise U-Net baseline of paper Table I.

The paper's Table I compares against U-Net colourisers (Petalica Paint's Tanpopo, Satsuki and Canna are U-Nets;
CCGAN [9] a conditional GAN); their weights and code are not available here, so the baseline is the canonical
published recipe of that family, trained on our data like every other method:

- Encoder: `num_blocks` 4×4 stride-2 convolutions (C64-C128-... in the paper, here `base_channels` doubling up to
  `max_channels`), BatchNorm except on the first and the innermost, LeakyReLU(0.2). pix2pix's U-Net goes down to
  1×1 (8 blocks at 256²), so the shipped configs' `pix2pix` experiments set `num_blocks` to log2 of the working size
  (6 at 64²): with the RASC generator's 4, the bottleneck stays 4×4 and all three decoder blocks are among the
  dropout ones, down to half the working size (docs/recipe.md, "The pix2pix stand-in").
- Decoder: the mirror, 4×4 stride-2 transposed convolutions with BatchNorm and ReLU, each concatenated with the
  encoder features of its resolution (U-Net skips); dropout 0.5 in the innermost decoder blocks, as pix2pix's only
  source of noise; the last transposed convolution gives RGB through tanh.
- No latent: the output does not depend on `w` (it is accepted and ignored, so the shared inference and diversity
  code runs unchanged and measures a diversity of 0). `w_pred` is zeros. In eval mode dropout is off, so colourings
  are deterministic.

It is trained with the pix2pix losses through the shared training loop (experiment `pix2pix` in the configs: L1
weight 100, no perceptual loss, pix2pix's 70×70 PatchGAN discriminator seeing the sketch with the colours, Adam
β = (0.5, 0.999), pix2pix's schedule; the learning rate pix2pix's 2e-4 in `config/paper.yaml` and `gpu.yaml`, the
config's `train.lr` in the short CPU runs).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rasc.models.generator import GeneratorConfig, GeneratorOutput

DROPOUT_BLOCKS = 3  # innermost decoder blocks with dropout (pix2pix: the first three of its eight)


class UNetGenerator(nn.Module):
    """pix2pix U-Net: sketch (B, 1, H, W) in [-1, 1] → GeneratorOutput(rgb (B, 3, H, W), w_pred zeros (B, w_dim))."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        if cfg.architecture != "unet":
            raise ValueError(f"UNetGenerator needs GeneratorConfig.architecture == 'unet', got {cfg.architecture!r}")
        self.cfg = cfg
        channels = [min(cfg.base_channels * 2**m, cfg.max_channels) for m in range(cfg.num_blocks)]  # [C_1 .. C_M]
        down = []
        for m, out_channels in enumerate(channels):
            in_channels = 1 if m == 0 else channels[m - 1]
            layers = [nn.Conv2d(in_channels, out_channels, 4, stride=2, padding=1, bias=m == 0)]
            if 0 < m < cfg.num_blocks - 1:  # pix2pix: no norm on the outermost and innermost encoder layers
                layers.append(nn.BatchNorm2d(out_channels))
            layers.append(nn.LeakyReLU(0.2))
            down.append(nn.Sequential(*layers))
        self.down = nn.ModuleList(down)
        up = []
        for n in range(cfg.num_blocks - 1):  # innermost first: C_M → C_{M-1}, ..., → C_1
            level = cfg.num_blocks - 1 - n  # index of the encoder output this block starts from
            in_channels = channels[level] * (1 if n == 0 else 2)
            layers = [nn.ConvTranspose2d(in_channels, channels[level - 1], 4, stride=2, padding=1, bias=False),
                      nn.BatchNorm2d(channels[level - 1])]
            if n < DROPOUT_BLOCKS:
                layers.append(nn.Dropout(0.5))
            layers.append(nn.ReLU())
            up.append(nn.Sequential(*layers))
        self.up = nn.ModuleList(up)
        self.to_rgb = nn.ConvTranspose2d(channels[0] * (2 if cfg.num_blocks > 1 else 1), 3, 4, stride=2, padding=1)

    def forward(self, sketch: Tensor, regions: Tensor | None = None, w: Tensor | None = None) -> GeneratorOutput:
        """sketch (B, 1, H, W); regions and w are accepted for interface parity and ignored."""
        factor = 2**self.cfg.num_blocks
        if sketch.dim() != 4 or sketch.shape[1] != 1 or sketch.shape[-2] % factor or sketch.shape[-1] % factor:
            raise ValueError(f"sketch must be (B, 1, H, W) with H, W divisible by {factor}, got {tuple(sketch.shape)}")
        skips = []
        x = sketch
        for block in self.down:
            x = block(x)
            skips.append(x)  # [(B, C_1, H/2, W/2), ..., (B, C_M, H/2^M, W/2^M)]
        for n, block in enumerate(self.up):
            x = block(x if n == 0 else torch.cat([x, skips[-1 - n]], dim=1))
        if len(skips) > 1:
            x = torch.cat([x, skips[0]], dim=1)  # (B, 2·C_1, H/2, W/2)
        rgb = torch.tanh(self.to_rgb(x))  # (B, 3, H, W)
        return GeneratorOutput(rgb=rgb, w_pred=rgb.new_zeros(len(rgb), self.cfg.w_dim))

    def encode_style(self, color: Tensor) -> tuple[Tensor, Tensor]:
        raise ValueError("the U-Net baseline has no latent: it has no style encoder")

    def region_formulation_modules(self) -> list[nn.Module]:
        """None: the baseline has no Region Formulation."""
        return []
