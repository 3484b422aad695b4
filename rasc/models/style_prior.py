"""Where random styles come from: the paper's N(0, 1), or a prior of w fitted to the trained model.

Training (DESIGN §4, cVAE-GAN) draws w from the style encoder's posterior q(w | colour image), pulled only weakly
toward N(0, 1) (λ_KL 0.01), and the generator never colours a w drawn from N(0, 1) (BicycleGAN's cLR-GAN branch,
which would train it to, is not part of the paper). So w ~ N(0, 1) lands where the decoder was never trained:
on the CPU default its colourings are close to none of a drawing's valid colourings (diversity precision 0).

The fitted prior is estimated after training, from the training split (ex-post density estimation, Ghosh et al.
2020, "From variational to deterministic autoencoders"): w given a sketch is Gaussian around the sketch MLP's
prediction, p(w | sketch) = N(w_pred(sketch), Σ), with Σ the covariance of the residuals μ(colour) − w_pred(sketch)
over the training pairs plus the mean posterior variance, i.e. what the sketch leaves open of its colouring's style.
Both priors map one standard-normal draw ε to a style: ε itself (``standard``) or w_pred + L·ε with L the Cholesky
factor of Σ (``fitted``), so a seed draws the same ε under either, and interpolating ε interpolates styles.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

PRIORS = ("fitted", "standard")  # fitted: N(w_pred, Σ) fitted after training; standard: the paper's N(0, 1)


@torch.no_grad()
def fit_style_prior(generator: nn.Module, sketches: np.ndarray, regions: np.ndarray, colors: np.ndarray,
                    batch_size: int = 64, posterior_noise: float = 1.0) -> Tensor:
    """Cholesky factor L (w_dim, w_dim) of Σ = Cov(μ(colour) − w_pred(sketch)) + s² · mean posterior variance,
    where s is the training's ``posterior_noise`` (the scale of the posterior noise the decoder was trained on).

    sketches (N, H, W) uint8, regions (N, H, W) labels, colors (N, H, W, 3) uint8: training pairs (N ≥ 2) of a
    generator with a style encoder (``latent == "posterior"``), which is run in eval mode as given. ValueError
    when Σ is not positive definite.
    """
    from rasc.models.inference import color_to_tensor, labels_to_tensor, sketch_to_tensor

    if getattr(generator.cfg, "latent", None) != "posterior":
        raise ValueError(f"a style prior is fitted to a model with a style encoder, got latent "
                         f"{getattr(generator.cfg, 'latent', None)!r}")
    if len(sketches) < 2:
        raise ValueError(f"fitting a style prior needs at least 2 training pairs, got {len(sketches)}")
    device = next(generator.parameters()).device
    residuals, variances = [], []
    for start in range(0, len(sketches), batch_size):
        batch = slice(start, start + batch_size)
        w_pred = generator.encode(sketch_to_tensor(sketches[batch]).to(device),
                                  labels_to_tensor(regions[batch]).to(device)).w_pred  # (B, w_dim)
        mu, logvar = generator.encode_style(color_to_tensor(colors[batch]).to(device))  # (B, w_dim) each
        residuals.append((mu - w_pred).double().cpu())
        variances.append(logvar.double().exp().cpu())
    residual = torch.cat(residuals)  # (N, w_dim)
    noise_variance = posterior_noise ** 2 * torch.cat(variances).mean(dim=0)  # (w_dim,)
    covariance = torch.cov(residual.T) + torch.diag(noise_variance)  # (w_dim, w_dim)
    scale_tril, info = torch.linalg.cholesky_ex(covariance)
    if int(info) != 0 or not torch.isfinite(scale_tril).all():
        raise ValueError("the style prior's covariance is not positive definite (degenerate or non-finite posterior "
                         "statistics on the training pairs)")
    return scale_tril.float()


def styles_from_noise(noise: Tensor, w_pred: Tensor, scale_tril: Tensor | None) -> Tensor:
    """Styles (B, n, w_dim) from standard-normal draws ``noise`` (B, n, w_dim): w_pred (B, w_dim) + L·ε under a
    fitted prior with Cholesky factor ``scale_tril`` (w_dim, w_dim), ε itself (the paper's N(0, 1)) when None."""
    if scale_tril is None:
        return noise
    return w_pred[:, None] + noise @ scale_tril.to(noise).T
