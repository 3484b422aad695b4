"""RASC generator (paper §III, DESIGN §4): sketch encoder, latent w, coarse-to-fine Region-based Modulation decoder.

Layout for M = `num_blocks`, input H × W:

- Encoder: a full-resolution stem gives X^e_0 (H); M conv blocks each halve the resolution: X^e_m at H / 2^m.
- Latent: the paper's MLP on the pooled deepest features X^e_M predicts `w_pred` (always returned). With
  `latent="posterior"` (default, the cVAE-GAN reading) a style encoder of the colour image gives (mu, logvar) for
  training and reference-based colouring; with `latent="sketch"` (paper-literal) w comes from the MLP only.
  w goes through a 2-layer mapping MLP; every modulated convolution has its own affine from the mapped style.
- Decoder: X^d_0 = X^e_M; RM block n = 1..M works at H / 2^(M-n), so the last block is at full resolution and no
  final upsampling is needed. Block n: bilinear ×2 upsample of X^d_{n-1}, two StyleGAN2 modulated 3×3
  convolutions (C_e channels, C_e = channels of X^e_{M-n}), then paper eq. 1
      X^d_n = X^f_n ⊙ concat(X^e_{M-n}, Conv(Upsample(X^d_{n-1})))          (2·C_e channels)
  with X^f_n = gate(RegionFormulation(X^e_{M-n}, regions at that scale)). The value projection has 2·C_e channels.
  Gate (the paper leaves the scale of X^f open; an unbounded product diverged in a prototype):
  "one_plus_tanh" (default) X^f = 1 + tanh(H) ∈ (0, 2), identity at H = 0; "sigmoid" X^f = sigmoid(H) ∈ (0, 1);
  "none" X^f = H (paper-literal, unbounded).
  Region context (`region_context` L, not in the paper; 0 = the paper's eq. 2 on X^e_{M-n} alone): Region
  Formulation at level l aggregates X^e_l concatenated with X^e_{l+1..l+L}, upsampled (nearest), so that a region's
  row also says where in the drawing it lies (at the finest level X^e_0 is a single 3×3 convolution of the sketch;
  measured worse at 1.11× a step: docs/recipe.md row 68).
  Ink in the region max (`ink_in_region_max`, the paper is silent): True (default, the behaviour so far) lets every
  pixel of a region take part in eq. 2's max, line pixels included (region maps give them to a neighbouring
  region); False leaves the sketch's ink out of the max (`ink_mask`: sketch < 0, a coarse pixel being ink where
  more than half of its fine pixels are), so strong edge responses on a stroke do not win the max of both regions
  beside it. Ink pixels still receive their region's value; a region that is all ink at a level keeps its pixels.
- RGB: a 1×1 convolution and tanh (`to_rgb="plain"`, default); `to_rgb="modulated"` makes that convolution
  StyleGAN2's ToRGB, modulated by the style and not demodulated, so that w also weighs each decoder feature's
  contribution to the output colours directly (the paper's [37]; it does not say how its RGB is made);
  `to_rgb="palette"` mixes `palette_slots` colours (16 by default), an affine of the style, with per-pixel softmax
  weights from a 1×1 convolution of the decoder features (`PaletteToRGB`; not in the paper): the features say where
  each colour goes, w alone what the colours are.
- `forward` is `decode(encode(sketch, regions), w)`: `encode` computes what does not depend on w (encoder
  features, the sketch MLP's w_pred, every block's region factor X^f), `decode` the mapping, the modulated
  convolutions, eq. 1's product and the RGB, so one encoding serves every style a sketch is coloured with.

Variants: "full"; "no_region_maps" (no Region Formulation: X^d_n = concat(X^e, conv)); "no_region_formulation"
(the region map enters the encoder as two extra input channels, `region_input_channels`, and the decoder
concatenates without formulation); "skeleton_input", the CWR-style baseline (paper [14], Table II): DanbooRegion's
skeleton map of the region map enters the encoder as one extra channel, `skeleton_input_channel`, and is processed
pixel-wise like the sketch, without formulation. It is our stand-in for CWR's use of region information on our
backbone, not CWR's own network.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rasc.config import model_combination_problem
from rasc.models.layers import (MLP, ConvAct, EqualConv2d, EqualLinear, ModulatedToRGB, PaletteToRGB, StyledConv,
                               avg_pool2x)
from rasc.models.region_formulation import (
    CORRELATIONS,
    RegionFormulation,
    downsample_labels,
)
from rasc.models.region_set import RegionSetEncoder

VARIANTS = ("full", "no_region_maps", "no_region_formulation", "skeleton_input")
GUIDE_CHANNELS = {"no_region_formulation": 2, "skeleton_input": 1}  # extra encoder input channels per variant
LATENTS = ("posterior", "sketch", "none")
ARCHITECTURES = ("rasc", "unet")
GATES = ("one_plus_tanh", "sigmoid", "none")
TO_RGB = ("plain", "modulated", "palette")
PALETTE_SLOTS = 16  # default colours of the "palette" output layer: a drawing's flat colours, its ink and spares
GOLDEN_RATIO_FRACTION = 0.6180339887498949  # spreads consecutive labels over [0, 1) for the hashed region channel
INK_LEVEL = 0.0  # sketch pixels (in [-1, 1], dark lines on white paper) below this are ink


@dataclass(frozen=True)
class GeneratorConfig:
    image_size: int = 128          # H = W of sketches and outputs (any H, W divisible by 2**num_blocks also run)
    base_channels: int = 32        # channels of the stem and first encoder block; doubles per block up to max_channels
    max_channels: int = 256        # cap on the channels of any encoder block
    num_blocks: int = 4            # M = N (encoder blocks = RM blocks)
    w_dim: int = 64                # latent size
    variant: str = "full"          # "full" | "no_region_maps" | "no_region_formulation" | "skeleton_input"
    correlation: str = "plain"     # "plain" | "skip" (paper Fig. 11)
    latent: str = "posterior"      # "posterior" (cVAE-GAN: style encoder of the colour image) | "sketch" (literal)
    #                                | "none" (no latent; the U-Net baseline only)
    gate: str = "one_plus_tanh"    # how X^f is bounded in eq. 1: "one_plus_tanh" | "sigmoid" | "none" (unbounded)
    architecture: str = "rasc"     # "rasc" (this module) | "unet" (the pix2pix baseline, rasc.models.unet_baseline)
    ink_in_region_max: bool = True  # False: the sketch's ink stays out of Region Formulation's per-region max
    encoder_norm_groups: int = 0   # GroupNorm groups after each activation of the sketch and style encoders; 0 = none
    to_rgb: str = "plain"          # output layer: "plain" 1×1 convolution | "modulated" by w (StyleGAN2's ToRGB)
    #                                | "palette": a per-pixel mixture of colours set by w
    style_thumbnail: int = 0       # T > 0: the style encoder's head also sees the colour image's T×T block means
    style_regions: bool = False    # the style encoder's head also sees the colour image's flat regions, each once
    palette_slots: int = PALETTE_SLOTS  # colours of the "palette" output layer (ignored by the other layers)
    region_context: int = 0        # L > 0: Region Formulation at level l also aggregates X^e_{l+1..l+L}, upsampled

    def __post_init__(self):
        choices = (("variant", self.variant, VARIANTS), ("correlation", self.correlation, CORRELATIONS),
                   ("latent", self.latent, LATENTS), ("gate", self.gate, GATES),
                   ("architecture", self.architecture, ARCHITECTURES), ("to_rgb", self.to_rgb, TO_RGB))
        for name, value, allowed in choices:
            if value not in allowed:
                raise ValueError(f"GeneratorConfig.{name} must be one of {allowed}, got {value!r}")
        for name in ("image_size", "base_channels", "max_channels", "num_blocks", "w_dim", "palette_slots"):
            if getattr(self, name) < 1:
                raise ValueError(f"GeneratorConfig.{name} must be positive, got {getattr(self, name)}")
        for name in ("encoder_norm_groups", "style_thumbnail", "region_context"):
            if getattr(self, name) < 0:
                raise ValueError(f"GeneratorConfig.{name} must be 0 or positive, got {getattr(self, name)}")
        problem = model_combination_problem(self.architecture, self.latent, self.variant)
        if problem is not None:
            key, reason = problem
            raise ValueError(f"GeneratorConfig.{key}: {reason}")
        if self.image_size % 2**self.num_blocks:
            raise ValueError(f"GeneratorConfig.image_size {self.image_size} must be divisible by "
                             f"2**num_blocks = {2**self.num_blocks}")

    def encoder_channels(self) -> list[int]:
        """Channels of X^e_0 (stem) .. X^e_M."""
        return [self.base_channels] + [min(self.base_channels * 2**m, self.max_channels)
                                       for m in range(self.num_blocks)]

    def region_input_channels(self, level: int) -> int:
        """Channels Region Formulation aggregates at encoder level `level`: X^e_level's, plus those of the
        `region_context` deeper levels that exist (`region_features`)."""
        return sum(self.encoder_channels()[level:level + 1 + self.region_context])  # the slice region_features takes


class GeneratorOutput(NamedTuple):
    rgb: Tensor     # (B, 3, H, W) in [-1, 1]
    w_pred: Tensor  # (B, w_dim) the sketch MLP's prediction of w


def region_input_channels(labels: Tensor) -> Tensor:
    """Two channels describing a region map, for the "no_region_formulation" encoder input.

    Channel 0: region boundaries (1 where a pixel's label differs from its right or lower neighbour, else -1).
    Channel 1: each label hashed to a pseudo-random value in [-1, 1) (frac(label · 0.618…) · 2 - 1), so all pixels
    of a region share one value and neighbouring labels differ. labels (B, H, W) → (B, 2, H, W) float32.
    """
    labels = labels.long()
    right = F.pad(labels[:, :, 1:] != labels[:, :, :-1], (0, 1))  # (B, H, W)
    down = F.pad(labels[:, 1:, :] != labels[:, :-1, :], (0, 0, 0, 1))  # (B, H, W)
    boundary = (right | down).float() * 2 - 1
    hashed = torch.frac(labels.double() * GOLDEN_RATIO_FRACTION).float() * 2 - 1
    return torch.stack([boundary, hashed], dim=1)


def skeleton_input_channel(labels: Tensor) -> Tensor:
    """DanbooRegion's skeleton map of each region map, for the "skeleton_input" (CWR-style) encoder input.

    0 on region boundaries, 1 on region skeletons, d_b / (d_b + d_s) in between (`rasc.regions.skeleton.
    skeleton_field`, the target the learned extractor is trained on), mapped to [-1, 1].
    labels (B, H, W) → (B, 1, H, W) float32 on the labels' device. Computed on the CPU (distance transforms).
    """
    from rasc.regions.skeleton import skeleton_field

    fields = np.stack([skeleton_field(image) for image in labels.detach().cpu().numpy()])  # (B, H, W)
    return torch.from_numpy(fields).to(labels.device).unsqueeze(1) * 2 - 1


def ink_mask(sketch: Tensor, factor: int) -> Tensor:
    """The sketch's ink at 1/factor of its size: sketch (B, 1, H, W) in [-1, 1] → (B, H/factor, W/factor) bool.

    A pixel is ink where sketch < INK_LEVEL (0, mid-grey); a coarse pixel is ink where more than half of its
    factor × factor fine pixels are, so thin strokes drop out at coarse levels while solid ink stays.
    """
    ink = (sketch < INK_LEVEL).to(sketch.dtype)  # (B, 1, H, W)
    if factor > 1:
        ink = F.avg_pool2d(ink, factor)  # (B, 1, H/factor, W/factor) fraction of ink
    return ink[:, 0] > 0.5


def encoder_guide(variant: str, labels: Tensor | None) -> Tensor | None:
    """The extra encoder input channels of a variant ((B, GUIDE_CHANNELS[variant], H, W)), or None."""
    if variant == "no_region_formulation":
        return region_input_channels(labels)
    if variant == "skeleton_input":
        return skeleton_input_channel(labels)
    return None


class EncoderBlock(nn.Module):
    """Conv at the input resolution, 2× average-pool, conv: halves the resolution."""

    def __init__(self, in_channels: int, out_channels: int, norm_groups: int = 0):
        super().__init__()
        self.conv_in = ConvAct(in_channels, out_channels, norm_groups=norm_groups)
        self.conv_out = ConvAct(out_channels, out_channels, norm_groups=norm_groups)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv_out(avg_pool2x(self.conv_in(x)))


class ConvEncoder(nn.Module):
    """Stem at full resolution then `len(channels) - 1` halving blocks; returns every level [X_0, ..., X_M].

    `norm_groups` > 0 puts a GroupNorm after each convolution's activation (`ConvAct`).
    """

    def __init__(self, in_channels: int, channels: list[int], norm_groups: int = 0):
        super().__init__()
        self.stem = ConvAct(in_channels, channels[0], norm_groups=norm_groups)
        self.blocks = nn.ModuleList(EncoderBlock(a, b, norm_groups) for a, b in zip(channels[:-1], channels[1:]))

    def forward(self, x: Tensor) -> list[Tensor]:
        features = [self.stem(x)]
        for block in self.blocks:
            features.append(block(features[-1]))
        return features


class StyleEncoder(nn.Module):
    """Colour image (B, 3, H, W) → posterior (mu, logvar) of w, each (B, w_dim).

    `thumbnail` T > 0 also hands the head the image's T×T block means (3·T² values), so that the colours of large
    areas reach w without passing the encoder's group normalisation. `regions` also hands it the image's flat
    regions pooled so that each counts once (`rasc.models.region_set`), so that small pieces' colours reach w.
    """

    def __init__(self, channels: list[int], w_dim: int, norm_groups: int = 0, thumbnail: int = 0,
                 regions: bool = False):
        super().__init__()
        self.encoder = ConvEncoder(3, channels, norm_groups)
        self.thumbnail = thumbnail
        self.region_set = RegionSetEncoder() if regions else None
        region_set_features = self.region_set.out_features if regions else 0
        self.head = EqualLinear(channels[-1] + 3 * thumbnail**2 + region_set_features, 2 * w_dim)

    def forward(self, color: Tensor) -> tuple[Tensor, Tensor]:
        pooled = self.encoder(color)[-1].mean(dim=(2, 3))  # (B, C)
        if self.thumbnail:
            block_means = F.adaptive_avg_pool2d(color, self.thumbnail).flatten(1)  # (B, 3·T²)
            pooled = torch.cat([pooled, block_means], dim=1)  # (B, C + 3·T²)
        if self.region_set is not None:
            pooled = torch.cat([pooled, self.region_set(color)], dim=1)  # (B, C [+ 3·T²] + 2·dim)
        mu, logvar = self.head(pooled).chunk(2, dim=1)
        return mu, logvar


def region_features(features: list[Tensor], level: int, context: int) -> Tensor:
    """What Region Formulation aggregates at encoder level `level` (`GeneratorConfig.region_context`, not in the paper).

    features [X^e_0, ..., X^e_M] → X^e_level (B, C_level, h, w) for `context` 0 (the paper's eq. 2); else X^e_level
    concatenated with the `context` deeper levels that exist, each upsampled (nearest) to h × w:
    (B, C_level + C_{level+1} + ..., h, w). At the finest level X^e_0 is one 3×3 convolution of the sketch; the
    deeper levels tell a region's surroundings (what part of the drawing it is), not only the strokes inside it.
    """
    skip = features[level]  # (B, C_level, h, w)
    deeper = features[level + 1:level + 1 + context]
    if not deeper:
        return skip
    size = skip.shape[-2:]
    upsampled = [F.interpolate(f, size=size, mode="nearest") for f in deeper]
    return torch.cat([skip, *upsampled], dim=1)  # (B, C_level + Σ C_deeper, h, w)


def apply_gate(h: Tensor, gate: str) -> Tensor:
    """Bound the region factor X^f of eq. 1 (see the module docstring)."""
    if gate == "one_plus_tanh":
        return 1 + torch.tanh(h)
    if gate == "sigmoid":
        return torch.sigmoid(h)
    if gate == "none":
        return h
    raise ValueError(f"unknown gate {gate!r}; expected one of {GATES}")


class RMBlock(nn.Module):
    """Region-based Modulation block (paper Fig. 2(b), eq. 1); without `correlation` it only concatenates."""

    def __init__(self, in_channels: int, skip_channels: int, w_dim: int, correlation: str | None, gate: str,
                 region_channels: int | None = None):
        """`region_channels`: channels of Region Formulation's input (default `skip_channels`: X^e alone)."""
        super().__init__()
        self.conv1 = StyledConv(in_channels, skip_channels, w_dim)
        self.conv2 = StyledConv(skip_channels, skip_channels, w_dim)
        self.region_formulation = (None if correlation is None else
                                   RegionFormulation(region_channels or skip_channels, 2 * skip_channels, correlation))
        self.gate = gate
        self.out_channels = 2 * skip_channels

    def region_factor(self, skip: Tensor, labels: Tensor, ink: Tensor | None = None) -> Tensor | None:
        """X^f of eq. 1: the gated Region Formulation of the encoder features `skip` (B, C_r, h, w; C_r = C_e, or
        more with `region_context`) over `labels` (B, h, w) → (B, 2·C_e, h, w); None without formulation. It does
        not depend on w, so one sketch's factor serves every style it is coloured with. `ink`: (B, h, w) bool
        pixels left out of the region max, or None.
        """
        if self.region_formulation is None:
            return None
        gate = partial(apply_gate, gate=self.gate)  # applied per region, before the broadcast
        return self.region_formulation(skip, labels, activation=gate, exclude=ink)

    def forward(self, previous: Tensor, skip: Tensor, style: Tensor, region_factor: Tensor | None) -> Tensor:
        """previous (B, C_prev, h/2, w/2), skip (B, C_e, h, w), style (B, w_dim) → (B, 2·C_e, h, w)."""
        h = F.interpolate(previous, scale_factor=2, mode="bilinear", align_corners=False)  # (B, C_prev, h, w)
        h = self.conv2(self.conv1(h, style), style)  # (B, C_e, h, w)
        concatenated = torch.cat([skip, h], dim=1)  # (B, 2·C_e, h, w)
        return concatenated if region_factor is None else region_factor * concatenated


class SketchEncoding(NamedTuple):
    """Everything a sketch and its region map determine before a style is chosen (`Generator.encode`)."""

    features: list[Tensor]              # [X^e_0 (B, C_0, H, W), ..., X^e_M (B, C_M, H / 2^M, W / 2^M)]
    region_factors: list[Tensor | None]  # X^f_n of RM block n = 1..M (B, 2·C_e, h, w), None without formulation
    w_pred: Tensor                      # (B, w_dim) the sketch MLP's prediction of w

    def repeat_interleave(self, repeats: int) -> SketchEncoding:
        """Each sketch's encoding repeated `repeats` times along the batch (to colour it with as many styles)."""
        return SketchEncoding(
            features=[f.repeat_interleave(repeats, dim=0) for f in self.features],
            region_factors=[None if f is None else f.repeat_interleave(repeats, dim=0) for f in self.region_factors],
            w_pred=self.w_pred.repeat_interleave(repeats, dim=0),
        )


class Generator(nn.Module):
    """RASC generator; see the module docstring for the architecture."""

    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        self.cfg = cfg
        channels = cfg.encoder_channels()  # [C_0, ..., C_M]
        in_channels = 1 + GUIDE_CHANNELS.get(cfg.variant, 0)
        self.encoder = ConvEncoder(in_channels, channels, cfg.encoder_norm_groups)
        self.sketch_mlp = MLP([channels[-1], channels[-1], cfg.w_dim])
        self.style_encoder = (StyleEncoder(channels, cfg.w_dim, cfg.encoder_norm_groups, cfg.style_thumbnail,
                                           cfg.style_regions) if cfg.latent == "posterior" else None)
        self.mapping = MLP([cfg.w_dim, cfg.w_dim, cfg.w_dim])
        correlation = cfg.correlation if cfg.variant == "full" else None
        blocks, previous = [], channels[-1]
        for n in range(1, cfg.num_blocks + 1):
            level = cfg.num_blocks - n
            block = RMBlock(previous, channels[level], cfg.w_dim, correlation, cfg.gate,
                            cfg.region_input_channels(level))
            blocks.append(block)
            previous = block.out_channels
        self.blocks = nn.ModuleList(blocks)
        if cfg.to_rgb == "modulated":
            self.to_rgb = ModulatedToRGB(previous, cfg.w_dim)
        elif cfg.to_rgb == "palette":
            self.to_rgb = PaletteToRGB(previous, cfg.w_dim, cfg.palette_slots)
        else:
            self.to_rgb = EqualConv2d(previous, 3, 1)
        # (w_dim, w_dim) Cholesky factor of the style prior fitted after training (rasc.models.style_prior), or None;
        # not in the state dict: generator checkpoints store it beside the weights
        self.register_buffer("style_scale_tril", None, persistent=False)

    def forward(self, sketch: Tensor, regions: Tensor | None, w: Tensor | None = None) -> GeneratorOutput:
        """sketch (B, 1, H, W) in [-1, 1]; regions (B, H, W) integer labels (ignored by "no_region_maps", may be
        None there); w (B, w_dim) or None for the MLP's prediction → GeneratorOutput(rgb, w_pred)."""
        encoding = self.encode(sketch, regions)
        return GeneratorOutput(rgb=self.decode(encoding, w), w_pred=encoding.w_pred)

    def encode(self, sketch: Tensor, regions: Tensor | None) -> SketchEncoding:
        """The style-independent half of `forward`: encoder features, region factors and the predicted w.

        Colouring one sketch with several styles (the training step's posterior and predicted w, diversity
        samples) encodes it once and decodes it once per style.
        """
        self._validate(sketch, regions)
        uses_regions = self.cfg.variant != "no_region_maps"
        encoder_input = sketch  # (B, 1, H, W), or (B, 1 + GUIDE_CHANNELS[variant], H, W) with the guide below
        guide = encoder_guide(self.cfg.variant, regions)
        if guide is not None:
            encoder_input = torch.cat([sketch, guide.to(sketch.dtype)], dim=1)
        features = self.encoder(encoder_input)  # [X^e_0 (H), ..., X^e_M (H / 2^M)]
        w_pred = self.sketch_mlp(features[-1].mean(dim=(2, 3)))  # (B, w_dim)
        region_factors = []
        for n, block in enumerate(self.blocks, start=1):
            level = self.cfg.num_blocks - n
            factor = None
            if uses_regions and block.region_formulation is not None:
                ink = None if self.cfg.ink_in_region_max else ink_mask(sketch, 2**level)  # (B, h, w)
                factor = block.region_factor(region_features(features, level, self.cfg.region_context),
                                             downsample_labels(regions, 2**level), ink)
            region_factors.append(factor)
        return SketchEncoding(features, region_factors, w_pred)

    def decode(self, encoding: SketchEncoding, w: Tensor | None = None) -> Tensor:
        """The decoder under style w (B, w_dim), or the encoding's predicted w when None → rgb (B, 3, H, W)."""
        features = encoding.features
        if w is not None and w.shape != encoding.w_pred.shape:
            raise ValueError(f"w must be (B, w_dim) = {tuple(encoding.w_pred.shape)}, got {tuple(w.shape)}")
        style = self.mapping(encoding.w_pred if w is None else w)  # (B, w_dim)
        x = features[-1]
        for n, (block, factor) in enumerate(zip(self.blocks, encoding.region_factors), start=1):
            x = block(x, features[self.cfg.num_blocks - n], style, factor)
        rgb = self.to_rgb(x) if self.cfg.to_rgb == "plain" else self.to_rgb(x, style)  # (B, 3, H, W)
        return torch.tanh(rgb)

    def encode_style(self, color: Tensor) -> tuple[Tensor, Tensor]:
        """Colour image (B, 3, H, W) in [-1, 1] → (mu, logvar) of the posterior of w, each (B, w_dim)."""
        if self.style_encoder is None:
            raise ValueError(f"encode_style needs GeneratorConfig.latent == 'posterior', got {self.cfg.latent!r}")
        if color.dim() != 4 or color.shape[1] != 3:
            raise ValueError(f"colour images must be (B, 3, H, W), got shape {tuple(color.shape)}")
        return self.style_encoder(color)

    def decoder_parameter_names(self) -> list[str]:
        """Names (as in ``named_parameters``) of the weights that turn an encoding and a w into colours: the mapping,
        the RM blocks' styled convolutions and ToRGB; the blocks' Region Formulation belongs to ``encode``."""
        decoder = {"mapping": self.mapping, "to_rgb": self.to_rgb}
        for n, block in enumerate(self.blocks):
            decoder.update({f"blocks.{n}.conv1": block.conv1, f"blocks.{n}.conv2": block.conv2})
        return [f"{prefix}.{name}" for prefix, module in decoder.items() for name, _ in module.named_parameters()]

    def region_formulation_modules(self) -> list[RegionFormulation]:
        """The Region Formulation modules, coarse to fine (empty for the variants without them)."""
        return [b.region_formulation for b in self.blocks if b.region_formulation is not None]

    def _validate(self, sketch: Tensor, regions: Tensor | None) -> None:
        if sketch.dim() != 4 or sketch.shape[1] != 1 or not sketch.dtype.is_floating_point:
            raise ValueError(f"sketch must be a float (B, 1, H, W) tensor, got {sketch.dtype} {tuple(sketch.shape)}")
        batch, _, height, width = sketch.shape
        factor = 2**self.cfg.num_blocks
        if height % factor or width % factor:
            raise ValueError(f"sketch size {height}×{width} must be divisible by 2**num_blocks = {factor}")
        if self.cfg.variant != "no_region_maps":
            if regions is None:
                raise ValueError(f"variant {self.cfg.variant!r} needs a region map, got None")
            if regions.shape != (batch, height, width):
                raise ValueError(f"regions must be (B, H, W) = {(batch, height, width)}, got {tuple(regions.shape)}")
            if regions.dtype.is_floating_point or regions.dtype == torch.bool:
                raise ValueError(f"regions must be an integer label tensor, got {regions.dtype}")
