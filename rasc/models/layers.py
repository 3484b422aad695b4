"""Building blocks shared by the generator and the discriminator.

Equalised learning-rate layers (Karras et al. 2018) and the StyleGAN2 modulated convolution (Karras et al. 2020):
the paper's optimiser settings (Adam, lr 0.002, betas (0, 0.99)) are StyleGAN2's and assume weights drawn from
N(0, 1) and scaled by 1/sqrt(fan_in) at run time, which is what these layers do.

`modulated_conv2d` is the fused path (one grouped convolution for the whole batch);
`modulated_conv2d_reference` is the per-sample loop it must agree with (tests only).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2.0)  # keeps the activations' second moment through a leaky ReLU (StyleGAN's fused_lrelu)


def avg_pool2x(x: Tensor) -> Tensor:
    """2 × 2 average pooling, (B, C, H, W) → (B, C, H/2, W/2); on the CPU as a depthwise convolution with weights 1/4.

    The numbers are ``F.avg_pool2d(x, 2)``'s (a scale by 1/4 is exact, and the convolution sums the four terms in the
    pooling's order on the Zen 3 measured), but the CPU's convolution kernels take 0.4× the pooling kernels' time,
    forward and backward (``benchmarks/bench_pooling.py``). Other devices keep ``F.avg_pool2d``.
    """
    if x.device.type != "cpu":
        return F.avg_pool2d(x, 2)
    channels = x.shape[1]
    weight = torch.full((channels, 1, 2, 2), 0.25, dtype=x.dtype, device=x.device)  # (C, 1, 2, 2)
    return F.conv2d(x, weight, stride=2, groups=channels)


def lrelu(x: Tensor) -> Tensor:
    """Leaky ReLU (slope 0.2) scaled by sqrt(2), the StyleGAN activation."""
    return F.leaky_relu(x, LRELU_SLOPE) * LRELU_GAIN


class EqualLinear(nn.Module):
    """Linear layer with equalised learning rate: weight ~ N(0, 1), scaled by lr_mul / sqrt(in_features)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, bias_init: float = 0.0,
                 lr_mul: float = 1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init))) if bias else None
        self.scale = lr_mul / math.sqrt(in_features)
        self.lr_mul = lr_mul

    def forward(self, x: Tensor) -> Tensor:
        bias = None if self.bias is None else self.bias * self.lr_mul
        return F.linear(x, self.weight * self.scale, bias)

    def extra_repr(self) -> str:
        out_features, in_features = self.weight.shape
        return f"{in_features}, {out_features}, bias={self.bias is not None}"


class EqualConv2d(nn.Module):
    """Conv2d with equalised learning rate; 'same' padding for odd kernels."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.scale = 1.0 / math.sqrt(in_channels * kernel_size**2)
        self.stride = stride
        self.padding = kernel_size // 2

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, stride=self.stride, padding=self.padding)

    def extra_repr(self) -> str:
        out_channels, in_channels, k, _ = self.weight.shape
        return f"{in_channels}, {out_channels}, kernel_size={k}, stride={self.stride}"


def _modulated_weight(weight: Tensor, styles: Tensor, demodulate: bool, eps: float = 1e-8) -> Tensor:
    """Per-sample weights: modulate the input channels by `styles`, optionally demodulate.

    weight (O, I, k, k) already scaled; styles (B, I) → (B, O, I, k, k).
    """
    w = weight.unsqueeze(0) * styles[:, None, :, None, None]  # (B, O, I, k, k)
    if demodulate:
        w = w * torch.rsqrt(w.square().sum(dim=(2, 3, 4), keepdim=True) + eps)
    return w


def modulated_conv2d(x: Tensor, weight: Tensor, styles: Tensor, demodulate: bool = True) -> Tensor:
    """StyleGAN2 modulated convolution, fused into one grouped convolution over the batch.

    x (B, I, H, W); weight (O, I, k, k) (equalised scale applied); styles (B, I) → (B, O, H, W), 'same' padding.
    """
    batch, in_channels, height, width = x.shape
    out_channels, weight_in, k, _ = weight.shape
    if weight_in != in_channels or styles.shape != (batch, in_channels):
        raise ValueError(f"modulated_conv2d: x {tuple(x.shape)}, weight {tuple(weight.shape)} and styles "
                         f"{tuple(styles.shape)} do not agree")
    w = _modulated_weight(weight, styles, demodulate)  # (B, O, I, k, k)
    out = F.conv2d(x.reshape(1, batch * in_channels, height, width),
                   w.reshape(batch * out_channels, in_channels, k, k), padding=k // 2, groups=batch)
    return out.reshape(batch, out_channels, height, width)


def modulated_conv2d_reference(x: Tensor, weight: Tensor, styles: Tensor, demodulate: bool = True) -> Tensor:
    """Per-sample loop version of `modulated_conv2d` (slow; for tests)."""
    w = _modulated_weight(weight, styles, demodulate)  # (B, O, I, k, k)
    k = weight.shape[-1]
    return torch.cat([F.conv2d(x[i:i + 1], w[i], padding=k // 2) for i in range(x.shape[0])], dim=0)


class ModulatedConv2d(nn.Module):
    """Modulated convolution that owns its style affine (w → per-input-channel scales, bias initialised to 1)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, w_dim: int, demodulate: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.scale = 1.0 / math.sqrt(in_channels * kernel_size**2)
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.demodulate = demodulate

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        styles = self.affine(w)  # (B, I)
        return modulated_conv2d(x, self.weight * self.scale, styles, self.demodulate)

    def extra_repr(self) -> str:
        out_channels, in_channels, k, _ = self.weight.shape
        return f"{in_channels}, {out_channels}, kernel_size={k}, demodulate={self.demodulate}"


class StyledConv(nn.Module):
    """Modulated 3×3 convolution + bias + scaled leaky ReLU."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int):
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_dim)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        return lrelu(self.conv(x, w) + self.bias[None, :, None, None])


class ModulatedToRGB(nn.Module):
    """StyleGAN2's ToRGB: a 1×1 convolution modulated by w and not demodulated, plus a bias, so that w scales each
    feature's contribution to the output colours directly."""

    def __init__(self, in_channels: int, w_dim: int, out_channels: int = 3):
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        """x (B, I, H, W), w (B, w_dim) → (B, out_channels, H, W), before the output activation."""
        return self.conv(x, w) + self.bias[None, :, None, None]


class PaletteToRGB(nn.Module):
    """Output colours as a per-pixel mixture of K colours that w sets: a 1×1 convolution of the decoder features
    gives each pixel's softmax weights over K slots, an affine of the style gives the slots' colours, so that the
    decoder's features choose where each colour goes and w alone what the colours are."""

    def __init__(self, in_channels: int, w_dim: int, slots: int, out_channels: int = 3):
        super().__init__()
        self.slot_logits = EqualConv2d(in_channels, slots, 1)
        self.slot_colors = EqualLinear(w_dim, slots * out_channels)
        self.slots, self.out_channels = slots, out_channels

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        """x (B, I, H, W), w (B, w_dim) → (B, out_channels, H, W), before the output activation."""
        weights = self.slot_logits(x).softmax(dim=1)  # (B, K, H, W)
        colors = self.slot_colors(w).view(len(w), self.slots, self.out_channels)  # (B, K, out_channels)
        return torch.einsum("bkhw,bkc->bchw", weights, colors)


class ConvAct(nn.Module):
    """Equalised convolution and the scaled leaky ReLU, optionally followed by group normalisation.

    `norm_groups`: 0 for no normalisation (StyleGAN's blocks), else GroupNorm with min(norm_groups, out_channels)
    groups after the activation.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, norm_groups: int = 0):
        super().__init__()
        self.conv = EqualConv2d(in_channels, out_channels, kernel_size)
        self.norm = nn.GroupNorm(min(norm_groups, out_channels), out_channels) if norm_groups else None

    def forward(self, x: Tensor) -> Tensor:
        x = lrelu(self.conv(x))
        return x if self.norm is None else self.norm(x)


class MLP(nn.Module):
    """Stack of equalised linear layers with the scaled leaky ReLU between them (none after the last)."""

    def __init__(self, dims: list[int], lr_mul: float = 1.0):
        super().__init__()
        if len(dims) < 2:
            raise ValueError(f"MLP needs at least an input and an output size, got {dims}")
        self.layers = nn.ModuleList(EqualLinear(a, b, lr_mul=lr_mul) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x: Tensor) -> Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = lrelu(x)
        return x
