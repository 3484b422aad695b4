"""Region Formulation (paper §III-B(3), eqs. 2–5): aggregate, correlate and broadcast features region-wise.

Fast path, O(C·H·W + K²·C) time and O(C·H·W + K·C) memory per image:

1. aggregation (eq. 2): a segment max over each region's pixels — `scatter_reduce(..., "amax", include_self=False)`
   along the flattened pixel axis of each image, indexed by the region labels. Eq. 2 literally takes
   `max(X ⊙ X^r_k)`, whose maximum also runs over the zeros of the masked-out pixels (so a region whose features are
   all negative would aggregate to 0). We define the aggregation as the max over the region's own pixels, which is
   what a segment max computes; the dense reference below does the same (masked with -inf).
   Optionally (`exclude`, the generator's `ink_in_region_max=False`) some pixels — the sketch's ink — are left out
   of the max: line pixels belong to a neighbouring region, so their strong edge responses would otherwise win the
   max and make neighbours that share a stroke alike. They still receive their region's broadcast value; a region
   whose pixels are all excluded keeps them (otherwise it would have nothing to aggregate). The paper is silent.
2. correlation (eqs. 3–4): single-head self-attention softmax(QKᵀ/√C)V over the regions of each image. Regions are
   laid out as (B, Kmax, C), one row block per image, so an image's softmax only ever sees its own regions; a key
   mask keeps the padded slots (images with fewer than Kmax regions) out of it, through PyTorch's
   `scaled_dot_product_attention`. On the CPU its fused (flash) kernel needs V as wide as Q and K, and RASC's V is
   twice as wide; without it the math path stores the (B, K, K) scores. Where those scores outgrow the cache
   (`fused_attention_pays`) Q and K are zero-padded to V's width (the same scores; the scale is given explicitly)
   so that the fused kernel runs.
3. broadcast (eq. 5): every pixel takes its region's row (a gather).

Aggregation and broadcast have hand-written backward passes (first-order only: no double backward) that keep the
backward's memory near two feature maps; they match autograd through `scatter_reduce`/`gather` (tested).

Labels are compacted per image first (labels absent at a scale are dropped and the rest renumbered 0..K_b-1), so
the labels given need not be contiguous and regions that vanish at a coarse scale cost nothing.

`dense_region_formulation_reference` follows the paper literally (K binary masks, masked max, sum over K) and exists
for tests and the benchmark only: its memory grows as K·C·H·W.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

from rasc.models.layers import EqualLinear

CORRELATIONS = ("plain", "skip")
# Attention score entries (B·K·K) from which the CPU's fused kernel on zero-padded Q and K runs instead of the math
# path (`python benchmarks/bench_attention.py`, forward + backward, one thread, Zen 5): at batch 8 and K = 1,024 (8 Mi
# scores, 32 MiB of float32 that outgrow the cache) padding is 1.7x / 1.3x / level at C = 16 / 32 / 64, at batch 128
# and K = 256 (an evaluation's random-w samples) 2.3x / 1.4x / level; with fewer scores the math path is as fast or
# faster for C ≥ 32 (at C = 16 padding gains about a millisecond, not taken). Below the threshold nothing changes:
# the models on trapped-ball regions (K ≤ 110 at 64²) and on up to 256 patches train exactly as before.
FUSED_ATTENTION_MIN_SCORES = 8 * 1024 * 1024


def fused_attention_pays(batch: int, regions: int, device: torch.device) -> bool:
    """Whether the CPU attention over `regions` slots per image should take the fused kernel on padded Q and K."""
    return device.type == "cpu" and batch * regions * regions >= FUSED_ATTENTION_MIN_SCORES


def downsample_labels(labels: Tensor, factor: int) -> Tensor:
    """Nearest-neighbour downsampling of a label map by an integer factor, sampling each cell's centre pixel.

    labels (B, H, W) → (B, H // factor, W // factor). Regions smaller than a cell may vanish.
    """
    if factor < 1 or labels.shape[-1] % factor or labels.shape[-2] % factor:
        raise ValueError(f"cannot downsample labels of shape {tuple(labels.shape)} by a factor of {factor}")
    if factor == 1:
        return labels
    offset = factor // 2
    return labels[:, offset::factor, offset::factor]


def compact_labels(labels: Tensor) -> tuple[Tensor, Tensor]:
    """Renumber each image's labels to 0..K_b-1 (in increasing order of the original label).

    labels (B, H, W) non-negative integers → (local labels (B, H, W) int64, region counts K_b (B,) int64).
    """
    batch = labels.shape[0]
    labels = labels.long()
    low, high = (int(v) for v in torch.aminmax(labels))  # one host sync for both
    if low < 0:
        raise ValueError("region labels must be non-negative")
    span = high + 1
    image = torch.arange(batch, device=labels.device).view(batch, 1, 1)
    unique, inverse = torch.unique(labels + image * span, return_inverse=True)  # sorted: image-major
    counts = torch.bincount(unique // span, minlength=batch)  # (B,)
    starts = torch.cumsum(counts, 0) - counts  # (B,) first compact id of each image
    return inverse - starts.view(batch, 1, 1), counts


def validate_features_and_labels(x: Tensor, labels: Tensor) -> None:
    """Raise ValueError unless x is (B, C, H, W) and labels an integer (B, H, W) map (signs: see compact_labels)."""
    if x.dim() != 4:
        raise ValueError(f"region features must be (B, C, H, W), got shape {tuple(x.shape)}")
    if labels.dim() != 3 or labels.shape != (x.shape[0], *x.shape[2:]):
        raise ValueError(f"region labels must be (B, H, W) = {(x.shape[0], *x.shape[2:])}, "
                         f"got shape {tuple(labels.shape)}")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise ValueError(f"region labels must be an integer tensor, got {labels.dtype}")
    if labels.numel() == 0:
        raise ValueError("region labels are empty")


class RegionAggregation(NamedTuple):
    regions: Tensor      # (B, Kmax, C) channel-wise max over each region's pixels (0 in padded slots)
    region_mask: Tensor  # (B, Kmax) bool, True for the K_b real regions of image b
    index: Tensor        # (B, 1, h·w) int64 compact region label of each pixel (row-major), 0..K_b-1


class _SegmentMax(torch.autograd.Function):
    """Per-image segment max along the pixel axis, with a lean backward.

    The built-in backward of `scatter_reduce(..., "amax")` materialises the broadcast index and several pixel-sized
    temporaries (measured ~8 feature maps); this one saves a boolean "is a maximum" mask and the tie counts, and
    splits each region's gradient evenly among its tied maxima, as `amax` does.
    """

    @staticmethod
    def forward(ctx, x: Tensor, index: Tensor, num_segments: int, keep: Tensor | None = None) -> Tensor:
        # x (B, C, P); index (B, 1, P); keep (B, 1, P) bool or None (all pixels) → (B, C, num_segments)
        expanded = index.expand(-1, x.shape[1], -1)  # a view, no copy
        source = x if keep is None else x.masked_fill(~keep, float("-inf"))  # a temporary, not saved
        maxima = x.new_zeros(x.shape[0], x.shape[1], num_segments).scatter_reduce(
            2, expanded, source, "amax", include_self=False)
        is_max = x == maxima.gather(2, expanded)  # (B, C, P) bool
        if keep is not None:
            is_max &= keep  # an excluded pixel equal to its region's max is not one of the maxima
        ties = torch.zeros_like(maxima).scatter_add_(2, expanded, is_max.to(x.dtype))  # (B, C, K), 0 if empty
        ctx.save_for_backward(index, is_max, ties)
        return maxima

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_maxima: Tensor):
        index, is_max, ties = ctx.saved_tensors
        per_maximum = (grad_maxima / ties.clamp_min(1)).gather(2, index.expand(-1, grad_maxima.shape[1], -1))
        return per_maximum.masked_fill_(~is_max, 0), None, None, None


class _Broadcast(torch.autograd.Function):
    """Per-image gather of region rows to pixels; its backward scatter-adds without materialising the index."""

    @staticmethod
    def forward(ctx, rows: Tensor, index: Tensor) -> Tensor:
        # rows (B, C, K); index (B, 1, P) → (B, C, P)
        ctx.save_for_backward(index)
        ctx.num_segments = rows.shape[2]
        return rows.gather(2, index.expand(-1, rows.shape[1], -1))

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_pixels: Tensor):
        (index,) = ctx.saved_tensors
        batch, channels, _ = grad_pixels.shape
        grad_rows = grad_pixels.new_zeros(batch, channels, ctx.num_segments)
        return grad_rows.scatter_add_(2, index.expand(-1, channels, -1), grad_pixels), None


def aggregate_regions(x: Tensor, labels: Tensor, exclude: Tensor | None = None) -> RegionAggregation:
    """Region feature aggregation (eq. 2) as a segment max. x (B, C, h, w), labels (B, h, w) non-negative;
    exclude (B, h, w) bool or None: pixels left out of the max (the sketch's ink), except in regions where every
    pixel is excluded.

    Each image's pixels are reduced into its own row of the (B, C, Kmax) output (`scatter_reduce(..., "amax",
    include_self=False)` along the pixel axis, index broadcast over channels without a copy) — the batch-offset
    segment max, without the offsets.
    """
    validate_features_and_labels(x, labels)
    if exclude is not None and (exclude.dtype != torch.bool or exclude.shape != labels.shape):
        raise ValueError(f"exclude must be a bool mask of the labels' shape {tuple(labels.shape)}, "
                         f"got {exclude.dtype} {tuple(exclude.shape)}")
    batch, channels, height, width = x.shape
    local, counts = compact_labels(labels)  # (B, h, w), (B,)
    max_regions = int(counts.max())
    index = local.view(batch, 1, height * width)  # (B, 1, h·w)
    keep = None if exclude is None else _kept_pixels(exclude, index, max_regions)  # (B, 1, h·w) bool
    regions = _SegmentMax.apply(x.reshape(batch, channels, height * width), index, max_regions, keep)  # (B, C, Kmax)
    region_mask = torch.arange(max_regions, device=x.device)[None, :] < counts[:, None]  # (B, Kmax)
    return RegionAggregation(regions.transpose(1, 2), region_mask, index)


def _kept_pixels(exclude: Tensor, index: Tensor, max_regions: int) -> Tensor:
    """Pixels that take part in the max: exclude (B, h, w) bool, index (B, 1, h·w) → (B, 1, h·w) bool, True where a
    pixel is not excluded or where its region has no pixel that is not (that region keeps all its pixels)."""
    free = ~exclude.reshape(index.shape)  # (B, 1, h·w)
    free_count = torch.zeros(index.shape[0], 1, max_regions, device=index.device).scatter_add_(
        2, index, free.float())  # (B, 1, Kmax) non-excluded pixels per region
    return free | (free_count.gather(2, index) == 0)


def broadcast_regions(formulated: Tensor, index: Tensor, height: int, width: int) -> Tensor:
    """Region feature broadcast (eq. 5) as a gather: formulated (B, K, C), index (B, 1, h·w) → (B, C, h, w)."""
    batch, _, channels = formulated.shape
    return _Broadcast.apply(formulated.transpose(1, 2), index).view(batch, channels, height, width)


def scaled_attention(q: Tensor, k: Tensor, v: Tensor, region_mask: Tensor) -> Tensor:
    """softmax(QKᵀ/√C)V over each image's region slots, the masked-out slots never attended to.

    q, k (B, K, C); v (B, K, C_v) with C_v ≥ C; region_mask (B, K) bool → (B, K, C_v).
    """
    batch, regions, channels = q.shape
    key_mask = region_mask[:, None, :]  # (B, 1, K): the same for every query
    if v.shape[-1] > channels and fused_attention_pays(batch, regions, q.device):
        widen = (0, v.shape[-1] - channels)  # zero channels add nothing to QKᵀ, but would change the default scale
        return F.scaled_dot_product_attention(F.pad(q, widen), F.pad(k, widen), v, attn_mask=key_mask,
                                              scale=1.0 / math.sqrt(channels))
    return F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask)


class RegionFormulation(nn.Module):
    """Region Formulation module: features (B, C_in, h, w) + labels (B, h, w) → formulated (B, C_out, h, w).

    Q and K project C_in → C_in (the softmax scale is 1/sqrt(C_in)), V projects C_in → C_out, so C_out can match the
    channels of the concatenation that eq. 1 modulates. `correlation="skip"` adds the skip connection around the
    attention of paper Fig. 11(b): H = softmax(QKᵀ/√C)V + X·W_skip, with W_skip the identity when C_in == C_out and a
    linear projection otherwise (the value has C_out channels).

    Gradient branches (paper §IV-G): set `capture_branches = True` and each forward stores, in `self.captured`,
    - "q", "k", "v" (and "skip"): the aggregated region features (B, Kmax, C_in) as they enter each branch; they
      are separate autograd nodes that retain their gradient, so after `backward()` `captured[b].grad` is branch b's
      contribution to the gradient w.r.t. the region features (they sum to the total);
    - "Q", "K", "V": the projections themselves (B, Kmax, ·), also retaining their gradient;
    - "region_mask": (B, Kmax) bool, True for real (non-padded) regions.
    """

    def __init__(self, in_channels: int, out_channels: int, correlation: str = "plain"):
        super().__init__()
        if correlation not in CORRELATIONS:
            raise ValueError(f"correlation must be one of {CORRELATIONS}, got {correlation!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.correlation = correlation
        self.query = EqualLinear(in_channels, in_channels, bias=False)
        self.key = EqualLinear(in_channels, in_channels, bias=False)
        self.value = EqualLinear(in_channels, out_channels, bias=False)
        self.skip = None
        if correlation == "skip" and in_channels != out_channels:
            self.skip = EqualLinear(in_channels, out_channels, bias=False)
        self.capture_branches = False
        self.captured: dict[str, Tensor] | None = None

    def forward(
        self,
        x: Tensor,
        labels: Tensor,
        activation: Callable[[Tensor], Tensor] | None = None,
        exclude: Tensor | None = None,
    ) -> Tensor:
        """x (B, C_in, h, w), labels (B, h, w) → (B, C_out, h, w).

        `activation`: an element-wise function applied to the region rows before the broadcast — the same as
        applying it to the output, at K/(h·w) of the cost (the generator passes its gate here).
        `exclude`: (B, h, w) bool pixels left out of the aggregation's max (see `aggregate_regions`), or None.
        """
        aggregation = aggregate_regions(x, labels, exclude)  # validates x and labels
        formulated = self.correlate(aggregation.regions, aggregation.region_mask)  # (B, Kmax, C_out)
        if activation is not None:
            formulated = activation(formulated)
        return broadcast_regions(formulated, aggregation.index, *x.shape[2:])  # (B, C_out, h, w)

    def correlate(self, regions: Tensor, region_mask: Tensor) -> Tensor:
        """Self-attention over each image's regions (eqs. 3–4).

        regions (B, K, C_in); region_mask (B, K) bool, False for padded/empty slots (never attended to; each image
        needs at least one True) → H (B, K, C_out).
        """
        branch_inputs = self._branch_inputs(regions)
        q = self.query(branch_inputs["q"])  # (B, K, C_in)
        k = self.key(branch_inputs["k"])  # (B, K, C_in)
        v = self.value(branch_inputs["v"])  # (B, K, C_out)
        # softmax(QKᵀ/√C_in)V with the padded slots masked out of every key row (module doc: which kernel)
        attended = scaled_attention(q, k, v, region_mask)  # (B, K, C_out)
        if self.correlation == "skip":
            skip_input = branch_inputs["skip"]
            attended = attended + (skip_input if self.skip is None else self.skip(skip_input))
        if self.captured is not None:
            for name, tensor in (("Q", q), ("K", k), ("V", v)):
                tensor.retain_grad()
                self.captured[name] = tensor
            self.captured["region_mask"] = region_mask
        return attended

    def _branch_inputs(self, regions: Tensor) -> dict[str, Tensor]:
        names = ("q", "k", "v", "skip") if self.correlation == "skip" else ("q", "k", "v")
        capture = self.capture_branches and regions.requires_grad and torch.is_grad_enabled()
        if not capture:
            self.captured = None
            return {name: regions for name in names}
        inputs = {name: regions.clone() for name in names}  # separate nodes: one gradient per branch
        for tensor in inputs.values():
            tensor.retain_grad()
        self.captured = dict(inputs)
        return inputs

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, correlation={self.correlation!r}"


def dense_region_formulation_reference(module: RegionFormulation, x: Tensor, labels: Tensor) -> Tensor:
    """The paper's eqs. 2–5 read literally, with `module`'s weights (TESTS AND BENCHMARK ONLY: K·C·H·W memory).

    K binary masks X^r_k; eq. 2 as the max over each region's pixels (masked with -inf, see the module docstring);
    eqs. 3–4 image by image over the regions present in that image (labels absent from an image are left out);
    eq. 5 as the sum over k of X^r_k · H_k. x (B, C, h, w), labels (B, h, w) → (B, C_out, h, w).
    """
    validate_features_and_labels(x, labels)
    if int(labels.min()) < 0:
        raise ValueError("region labels must be non-negative")
    num_regions = int(labels.max()) + 1
    masks = labels.long()[:, None] == torch.arange(num_regions, device=x.device).view(1, -1, 1, 1)  # (B, K, h, w)
    masked = torch.where(masks[:, :, None], x[:, None], torch.tensor(float("-inf"), device=x.device, dtype=x.dtype))
    regions = masked.amax(dim=(3, 4))  # (B, K, C)
    present = masks.any(dim=(2, 3))  # (B, K)
    formulated = []
    for b in range(x.shape[0]):
        x_regions = regions[b, present[b]]  # (K_b, C) the rows of X^e_m present in image b
        q, k, v = module.query(x_regions), module.key(x_regions), module.value(x_regions)
        attention = torch.softmax(q @ k.T / math.sqrt(module.in_channels), dim=-1)  # (K_b, K_b)
        h = attention @ v  # (K_b, C_out)
        if module.correlation == "skip":
            h = h + (x_regions if module.skip is None else module.skip(x_regions))
        rows = torch.zeros(num_regions, module.out_channels, device=x.device, dtype=x.dtype)
        formulated.append(rows.index_put((present[b].nonzero()[:, 0],), h))  # (K, C_out), 0 for absent labels
    formulated = torch.stack(formulated)  # (B, K, C_out)
    return (masks[:, :, None].to(x.dtype) * formulated[..., None, None]).sum(dim=1)  # (B, C_out, h, w)
