"""Training losses as small named functions, so the maths reads like the paper (§III-C).

- :func:`d_logistic_loss` and :func:`g_nonsaturating_loss`: the logistic adversarial loss of eq. 6 in its
  softplus form (``log(1 + exp(x)) = softplus(x)``), the generator side non-saturating as in StyleGAN2.
- :func:`d_r1_penalty`: the R1 gradient penalty on real images (lazy: applied every few steps by the loop).
- :func:`perceptual_l1`: eq. 7, the L1 distance between VGG-19 activations, summed over layers.
- :func:`kl_divergence` and :func:`latent_regression_l1`: the cVAE-GAN terms of our latent reading (DESIGN §4).
- :func:`pixel_l1` and :func:`region_balance_weights`: the pixel reconstruction term (not in the paper), optionally
  weighted so that small regions count as much as large ones, as they do in region colour error.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def _check_logits(name: str, logits: Tensor) -> None:
    if logits.ndim not in (1, 2):
        raise ValueError(f"{name} must be discriminator logits of shape (B,) or (B, patches), "
                         f"got {tuple(logits.shape)}")


def d_logistic_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Discriminator side of eq. 6: softplus(-D(real)) + softplus(D(fake)), means over the batch (and the patches);
    logits (B,), or (B, P) per patch (pix2pix's PatchGAN)."""
    _check_logits("real_logits", real_logits)
    _check_logits("fake_logits", fake_logits)
    if real_logits.shape[1:] != fake_logits.shape[1:]:
        raise ValueError(f"real and fake logits judge different patches: {tuple(real_logits.shape)} and "
                         f"{tuple(fake_logits.shape)}")
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_nonsaturating_loss(fake_logits: Tensor) -> Tensor:
    """Generator side of eq. 6, non-saturating: softplus(-D(G(sketch))), mean over the batch (and the patches);
    logits (B,) or (B, P)."""
    _check_logits("fake_logits", fake_logits)
    return F.softplus(-fake_logits).mean()


def d_r1_penalty(real_images: Tensor, real_logits: Tensor) -> Tensor:
    """R1 penalty: E ||∇_x D(x)||² over real images x (B, 3, H, W) that required grad when D(x) was computed.

    Per-patch logits (B, P) are penalised through each image's mean patch logit, which has the scale of a one-logit
    discriminator's: through their sum the penalty is P² times stronger and holds a PatchGAN at chance (pix2pix's
    70×70 one at 64², P = 36: its loss at 2 ln 2 from step 400 on, docs/recipe.md). Returns the unweighted penalty;
    the loop multiplies by gamma / 2 (and by the lazy interval).
    """
    _check_logits("real_logits", real_logits)
    if not real_images.requires_grad:
        raise ValueError("d_r1_penalty needs real_images.requires_grad_(True) before the discriminator forward")
    per_image = real_logits if real_logits.ndim == 1 else real_logits.mean(dim=1)  # (B,)
    (gradient,) = torch.autograd.grad(per_image.sum(), real_images, create_graph=True)  # (B, 3, H, W)
    return gradient.pow(2).flatten(1).sum(dim=1).mean()


def kl_divergence(mu: Tensor, logvar: Tensor, prior_mean: Tensor | None = None) -> Tensor:
    """KL(N(mu, exp(logvar)) || N(prior_mean, 1)), summed over latent dimensions, mean over the batch.

    mu, logvar (B, D); ``prior_mean`` (B, D) is held fixed (None: the standard normal prior N(0, 1)). A prior centred
    on the sketch's own estimate of w makes w pay only for what the sketch does not already tell.
    """
    if mu.shape != logvar.shape or mu.ndim != 2:
        raise ValueError(f"mu and logvar must both be (B, D), got {tuple(mu.shape)} and {tuple(logvar.shape)}")
    if prior_mean is not None and prior_mean.shape != mu.shape:
        raise ValueError(f"prior_mean {tuple(prior_mean.shape)} must have mu's shape {tuple(mu.shape)}")
    offset = mu if prior_mean is None else mu - prior_mean.detach()  # (B, D)
    return (-0.5 * (1.0 + logvar - offset.pow(2) - logvar.exp())).sum(dim=1).mean()


def perceptual_l1(features_fake: Sequence[Tensor], features_real: Sequence[Tensor]) -> Tensor:
    """Eq. 7: Σ_i mean |φ_i(fake) − φ_i(real)| over VGG layers i (per-element means keep layers comparable)."""
    if len(features_fake) != len(features_real) or not features_fake:
        raise ValueError(
            f"perceptual_l1 needs the same non-zero number of layers, got {len(features_fake)} and {len(features_real)}"
        )
    total = features_fake[0].new_zeros(())
    for fake, real in zip(features_fake, features_real):
        if fake.shape != real.shape:
            raise ValueError(f"feature shapes differ: {tuple(fake.shape)} vs {tuple(real.shape)}")
        total = total + (fake - real).abs().mean()
    return total


def latent_regression_l1(w_pred: Tensor, w_target: Tensor) -> Tensor:
    """L1 between a latent estimate and its target, held fixed; (B, D) each. Trains the sketch MLP toward the style
    encoder's posterior mean, and (cLR-GAN) the decoder toward colourings whose random w the encoder recovers."""
    if w_pred.shape != w_target.shape:
        raise ValueError(f"w_pred {tuple(w_pred.shape)} and w_target {tuple(w_target.shape)} differ in shape")
    return (w_pred - w_target.detach()).abs().mean()


def region_balance_weights(regions: Tensor, power: float) -> Tensor:
    """Per-pixel weights area^(−power) of each pixel's region, normalised to mean 1 per image.

    regions (B, H, W) integer labels → (B, 1, H, W) float32. power 0: all ones (plain pixel L1); 1: every region's
    pixels weigh 1 / its area in all, so each region counts the same, as in region colour error.
    """
    if regions.dim() != 3:
        raise ValueError(f"regions must be (B, H, W) labels, got shape {tuple(regions.shape)}")
    batch = regions.shape[0]
    labels = regions.long().reshape(batch, -1)  # (B, H·W)
    unique, dense = torch.unique(labels, return_inverse=True)  # (B, H·W) labels numbered 0..K-1 over the batch
    keys = dense + torch.arange(batch, device=regions.device)[:, None] * unique.numel()  # per image apart
    area = torch.bincount(keys.reshape(-1)).to(torch.float32)[keys]  # (B, H·W) px of each pixel's region
    weights = area.pow(-power)
    weights = weights / weights.mean(dim=1, keepdim=True)
    return weights.reshape(batch, 1, *regions.shape[1:])


def pixel_l1(fake: Tensor, real: Tensor, weights: Tensor | None = None) -> Tensor:
    """Mean |fake − real| over pixels and channels, each pixel weighted by ``weights`` (B, 1, H, W) when given."""
    if fake.shape != real.shape:
        raise ValueError(f"fake {tuple(fake.shape)} and real {tuple(real.shape)} differ in shape")
    difference = (fake - real).abs()  # (B, 3, H, W)
    return difference.mean() if weights is None else (difference * weights).mean()
