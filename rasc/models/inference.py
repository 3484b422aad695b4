"""Colourising sketches with a trained generator: one call path for every source of the latent w (paper §IV-E).

- predicted w (default): the sketch MLP's w, the paper's default output;
- `seed`: `n_samples` standard-normal draws ε per sketch, from a seeded generator (paper Fig. 8, top);
- `noise`: given draws ε, the same for every sketch (e.g. the rows of `interpolate_w`, paper Fig. 8, bottom);
- `w`: a given latent;
- `reference`: the style encoder's posterior mean of a reference colour image (needs latent == "posterior").

A draw ε becomes a style under the `prior` (rasc.models.style_prior): w = w_pred + L·ε under the prior fitted after
training ("fitted", where the generator carries one), w = ε under the paper's N(0, 1) ("standard").

Plus the array conversions a command line needs (uint8 images in, uint8 images out).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from rasc.models.generator import Generator
from rasc.models.style_prior import PRIORS, styles_from_noise


def sample_w(num: int, w_dim: int, seed: int) -> Tensor:
    """(num, w_dim) draws from N(0, 1), reproducible for a seed (drawn on the CPU)."""
    return torch.randn(num, w_dim, generator=torch.Generator().manual_seed(seed))


def prior_scale_tril(generator: nn.Module, prior: str) -> Tensor | None:
    """The Cholesky factor of the generator's fitted style prior under ``prior`` "fitted" (None where it has none,
    and for generators other than the RASC one, which take ε as it is), None under "standard" (w = ε ~ N(0, 1))."""
    if prior not in PRIORS:
        raise ValueError(f"prior must be one of {PRIORS}, got {prior!r}")
    if prior == "standard" or not isinstance(generator, Generator):
        return None
    return generator.style_scale_tril


def prior_in_use(generator: nn.Module, prior: str) -> str | None:
    """The prior random styles of ``generator`` actually come from when ``prior`` is asked for: "fitted",
    "standard" (asked for, or no fitted prior stored), or None for a model without a latent (the U-Net baseline)."""
    if getattr(generator.cfg, "latent", None) == "none":
        return None
    return "fitted" if prior_scale_tril(generator, prior) is not None else "standard"


def _check_modes(w: Tensor | None, seed: int | None, reference: Tensor | None, noise: Tensor | None,
                 n_samples: int) -> None:
    if sum(x is not None for x in (w, seed, reference, noise)) > 1:
        raise ValueError("colorize takes at most one of w, seed, noise and reference")
    if n_samples < 1:
        raise ValueError(f"n_samples must be at least 1, got {n_samples}")
    if seed is None and n_samples != 1:
        raise ValueError("n_samples > 1 needs a seed (random w); the other modes give one colouring")


def _noise(batch: int, w_dim: int, seed: int | None, noise: Tensor | None, n_samples: int) -> Tensor | None:
    """Standard-normal draws ε (B, n, w_dim) from ``seed`` or ``noise`` (n, w_dim), or None."""
    if seed is not None:
        return sample_w(batch * n_samples, w_dim, seed).view(batch, n_samples, w_dim)
    if noise is None:
        return None
    if noise.dim() != 2 or noise.shape[1] != w_dim:
        raise ValueError(f"noise must be (n, w_dim = {w_dim}), got {tuple(noise.shape)}")
    return noise[None].expand(batch, -1, -1)


def _fixed_latents(generator: nn.Module, batch: int, w: Tensor | None, reference: Tensor | None,
                   like: Tensor) -> Tensor | None:
    """A given ``w`` or the posterior mean of ``reference`` as (B, 1, w_dim), on ``like``'s device; else None."""
    w_dim = generator.cfg.w_dim
    if w is not None:
        if w.dim() == 1:
            w = w.expand(batch, -1)
        if w.shape != (batch, w_dim):
            raise ValueError(f"w must be (w_dim,) or (B, w_dim) = {(batch, w_dim)}, got {tuple(w.shape)}")
        return w.to(like.device, like.dtype)[:, None]
    if reference is not None:
        if reference.dim() != 4 or reference.shape[0] not in (1, batch) or reference.shape[1] != 3:
            raise ValueError(f"reference must be (1 or B, 3, H, W), got {tuple(reference.shape)}")
        mu, _ = generator.encode_style(reference.to(like.device, like.dtype))
        return mu.expand(batch, -1)[:, None]
    return None


@torch.no_grad()
def colorize(generator: nn.Module, sketch: Tensor, regions: Tensor | None, w: Tensor | None = None,
             seed: int | None = None, reference: Tensor | None = None, n_samples: int = 1,
             noise: Tensor | None = None, prior: str = "fitted") -> Tensor:
    """Colourise sketches. Give at most one of `w`, `seed`, `noise`, `reference`; none of them → the predicted w.

    sketch (B, 1, H, W) in [-1, 1]; regions (B, H, W) integer labels (None allowed for "no_region_maps");
    w (w_dim,) or (B, w_dim); seed: int, draws n_samples ε per sketch; noise (n, w_dim): n given ε for every sketch;
    reference (1 or B, 3, H, W) in [-1, 1]; prior: how ε becomes w, "fitted" or "standard" (module docstring).
    Returns (B, n, 3, H, W) in [-1, 1] — always 5-D; n is n_samples with a seed, the rows of noise, else 1.
    """
    _check_modes(w, seed, reference, noise, n_samples)
    scale_tril = prior_scale_tril(generator, prior)
    batch = sketch.shape[0]
    draws = _noise(batch, generator.cfg.w_dim, seed, noise, n_samples)  # (B, n, w_dim) or None
    if draws is not None:
        draws = draws.to(sketch.device, sketch.dtype)
    if not isinstance(generator, Generator):  # the U-Net baseline: no style-independent half to share
        latents = draws if draws is not None else _fixed_latents(generator, batch, w, reference, sketch)
        if latents is None:
            return generator(sketch, regions).rgb[:, None]
        n = latents.shape[1]
        repeated_regions = None if regions is None else regions.repeat_interleave(n, dim=0)  # (B·n, H, W)
        rgb = generator(sketch.repeat_interleave(n, dim=0), repeated_regions, latents.flatten(0, 1)).rgb
        return rgb.view(batch, n, *rgb.shape[1:])
    encoding = generator.encode(sketch, regions)  # each sketch encoded once, decoded once per style
    if draws is not None:
        latents = styles_from_noise(draws, encoding.w_pred, scale_tril)  # (B, n, w_dim)
    else:
        latents = _fixed_latents(generator, batch, w, reference, sketch)  # (B, 1, w_dim) or None
    if latents is None:
        return generator.decode(encoding)[:, None]
    n = latents.shape[1]
    rgb = generator.decode(encoding.repeat_interleave(n), latents.flatten(0, 1))  # (B·n, 3, H, W)
    return rgb.view(batch, n, *rgb.shape[1:])


def interpolate_w(w0: Tensor, w1: Tensor, steps: int) -> Tensor:
    """Linear interpolation from w0 to w1 (both (w_dim,)), endpoints included → (steps, w_dim)."""
    if w0.dim() != 1 or w0.shape != w1.shape:
        raise ValueError(f"w0 and w1 must be (w_dim,) vectors of one size, got {tuple(w0.shape)} and {tuple(w1.shape)}")
    if steps < 2:
        raise ValueError(f"steps must be at least 2 (the two endpoints), got {steps}")
    t = torch.linspace(0, 1, steps, dtype=w0.dtype, device=w0.device)[:, None]  # (steps, 1)
    return (1 - t) * w0[None] + t * w1[None]


def sketch_to_tensor(sketches: np.ndarray) -> Tensor:
    """uint8 sketches (H, W) or (B, H, W), 255 = paper → float32 (B, 1, H, W) in [-1, 1]."""
    if sketches.dtype != np.uint8 or sketches.ndim not in (2, 3):
        raise ValueError(f"sketches must be uint8 (H, W) or (B, H, W), got {sketches.dtype} {sketches.shape}")
    array = sketches[None] if sketches.ndim == 2 else sketches
    return torch.from_numpy(array.astype(np.float32) / 127.5 - 1)[:, None]


def color_to_tensor(images: np.ndarray) -> Tensor:
    """uint8 RGB images (H, W, 3) or (B, H, W, 3) → float32 (B, 3, H, W) in [-1, 1]."""
    if images.dtype != np.uint8 or images.ndim not in (3, 4) or images.shape[-1] != 3:
        raise ValueError(f"colour images must be uint8 (H, W, 3) or (B, H, W, 3), got {images.dtype} {images.shape}")
    array = images[None] if images.ndim == 3 else images
    return torch.from_numpy(array.astype(np.float32) / 127.5 - 1).permute(0, 3, 1, 2)


def labels_to_tensor(labels: np.ndarray) -> Tensor:
    """Integer label maps (H, W) or (B, H, W) → int64 (B, H, W)."""
    if not np.issubdtype(labels.dtype, np.integer) or labels.ndim not in (2, 3):
        raise ValueError(f"labels must be an integer (H, W) or (B, H, W) array, got {labels.dtype} {labels.shape}")
    array = labels[None] if labels.ndim == 2 else labels
    return torch.from_numpy(array.astype(np.int64))


def rgb_to_uint8(rgb: Tensor) -> np.ndarray:
    """Float (..., 3, H, W) in [-1, 1] → uint8 (..., H, W, 3)."""
    if rgb.dim() < 3 or rgb.shape[-3] != 3:
        raise ValueError(f"rgb must be (..., 3, H, W), got {tuple(rgb.shape)}")
    scaled = ((rgb.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return scaled.movedim(-3, -1).numpy()
