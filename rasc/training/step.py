"""One RASC training step (paper §III-C, §IV-B; DESIGN §4, §7): :func:`train_step`.

Per step (pix2pix order, one generator forward per step):

1. the generator colours the batch; with ``latent="posterior"`` the style encoder gives (mu, logvar) of the colour
   image and w = mu + ε·exp(logvar / 2) (cVAE-GAN, DESIGN §4); with ``latent="sketch"`` w is the sketch MLP's;
   with ``lambda_latent`` > 0 (BicycleGAN's cLR-GAN branch, off by default) it also colours a w drawn from the
   KL's prior (N(0, 1), or N(w_pred, 1) under ``kl_prior`` sketch);
2. the discriminator takes one Adam step on the logistic loss (eq. 6) of real images and detached fakes, plus the
   lazy R1 penalty on real images every ``r1_every`` D steps (weighted γ/2 · r1_every); with
   ``adversarial_every`` k > 1 this step and G's adversarial term run every k-th step only (the term weighted k);
   before step ``adversarial_from``, and with ``lambda_adv`` 0, neither runs;
3. the generator takes one Adam step on λ_adv·non-saturating loss + λ_p·perceptual L1 (eq. 7) + λ_kl·KL
   + λ_w·|w_pred − mu| (+ λ_l1·pixel L1 and λ_l1_predicted·pixel L1 of the predicted-w colouring: the paper has
   neither; the second may leave the decoder's weights out, ``predicted_l1_trains_decoder``; + the random-w
   colouring's adversarial term and λ_latent·|mu(its colouring) − w|, the style encoder held fixed);
4. the EMA generator follows G; it is what the sample grids show and what ``generator.pt`` holds.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rasc.training.distributed import DistributedContext, all_reduce_gradients
from rasc.training.grad_cosine import branch_cosine_histograms
from rasc.training.losses import (
    d_logistic_loss,
    d_r1_penalty,
    g_nonsaturating_loss,
    kl_divergence,
    latent_regression_l1,
    perceptual_l1,
    pixel_l1,
    region_balance_weights,
)
from rasc.training.options import TrainConfig
from rasc.training.perceptual import VGGFeatures, build_vgg_features

SATURATION_LEVEL = 0.99  # |rgb| above this counts as saturated


@dataclass
class Networks:
    """The trained modules and their optimisers."""

    G: nn.Module
    D: nn.Module
    G_ema: nn.Module
    opt_G: torch.optim.Optimizer
    opt_D: torch.optim.Optimizer


# ----------------------------------------------------------------------------------------------------------- set-up


def build_networks(cfg: TrainConfig, gen_cfg: Any, disc_cfg: Any, device: torch.device) -> Networks:
    """G, D (initialised from ``cfg.seed`` on the CPU, so every device starts equal), G_ema = copy of G, Adam."""
    from rasc.models import build_discriminator, build_generator

    if disc_cfg.image_size != gen_cfg.image_size:
        raise ValueError(f"generator image_size {gen_cfg.image_size} != discriminator image_size {disc_cfg.image_size}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        generator = build_generator(gen_cfg)
        discriminator = build_discriminator(disc_cfg)
    generator_ema = copy.deepcopy(generator).eval().requires_grad_(False)
    generator, discriminator, generator_ema = (m.to(device) for m in (generator, discriminator, generator_ema))
    betas = (cfg.beta1, cfg.beta2)
    return Networks(
        G=generator,
        D=discriminator,
        G_ema=generator_ema,
        opt_G=torch.optim.Adam(generator.parameters(), lr=cfg.lr, betas=betas, weight_decay=0.0),
        opt_D=torch.optim.Adam(discriminator.parameters(), lr=cfg.lr, betas=betas, weight_decay=0.0),
    )


def build_perceptual(cfg: TrainConfig, device: torch.device) -> tuple[VGGFeatures | None, str]:
    """The frozen VGG-19 extractor and the backbone name (None, "none" when the perceptual loss is off)."""
    if cfg.lambda_perceptual == 0:
        return None, "none"
    network, backbone = build_vgg_features(cfg.perceptual_config())
    return network.to(device), backbone


POSTERIOR_NOISE, RANDOM_STYLE_NOISE = 7, 8  # streams of per-step latent noise: reparameterisation, cLR-GAN's w


def _step_seed(seed: int, rank: int, step: int, stream: int = POSTERIOR_NOISE) -> int:
    return int(np.random.SeedSequence([seed, stream, rank, step]).generate_state(1)[0])


# ------------------------------------------------------------------------------------------------------------ step


def _latent_noise(shape: torch.Size, seed: int, rank: int, step: int, device: torch.device,
                  stream: int = POSTERIOR_NOISE) -> Tensor:
    generator = torch.Generator(device=device).manual_seed(_step_seed(seed, rank, step, stream))
    return torch.randn(shape, generator=generator, device=device)


def _optimise(optimizer: torch.optim.Optimizer, loss: Tensor, module: nn.Module, ctx: DistributedContext) -> None:
    """One update of ``module``: backward of ``loss``, gradients averaged over processes, optimiser step."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    all_reduce_gradients(module, ctx)
    optimizer.step()


class _Decode(nn.Module):
    """``Generator.decode`` as a module call, so that ``torch.func.functional_call`` can swap its parameters."""

    def __init__(self, generator: nn.Module):
        super().__init__()
        self.generator = generator

    def forward(self, encoding: Any) -> Tensor:
        return self.generator.decode(encoding)


def _decode_with_fixed_decoder(G: nn.Module, encoding: Any) -> Tensor:
    """The predicted-w colouring (B, 3, H, W) with the decoder's weights detached: its gradient reaches w_pred (the
    sketch MLP) and the encoder features, never the decoder (``TrainConfig.predicted_l1_trains_decoder`` False)."""
    parameters = dict(G.named_parameters())
    fixed = {f"generator.{name}": parameters[name].detach() for name in G.decoder_parameter_names()}
    return torch.func.functional_call(_Decode(G), fixed, (encoding,))


def _discriminator_update(nets: Networks, color: Tensor, fakes: Sequence[Tensor], condition: Tensor | None,
                          update: int, cfg: TrainConfig, ctx: DistributedContext) -> dict[str, Tensor]:
    """One D step on reals ``color`` and the colourings ``fakes`` (each (B, 3, H, W); their logits are pooled), with
    lazy R1 on D's ``update``-th step → stats."""
    D = nets.D
    D.requires_grad_(True)
    regularize = cfg.r1_gamma > 0 and update % cfg.r1_every == 0
    real = color.detach().requires_grad_(regularize)
    real_logits = D(real, condition)  # (B,), or (B, P) from a PatchGAN
    fake_logits = torch.cat([D(fake.detach(), condition) for fake in fakes])  # (B · len(fakes)[, P])
    d_loss = d_logistic_loss(real_logits, fake_logits)
    d_total = d_loss
    stats = {}
    if regularize:
        r1 = d_r1_penalty(real, real_logits)
        d_total = d_total + (cfg.r1_gamma / 2) * cfg.r1_every * r1
        stats["loss/R1"] = r1.detach()
    _optimise(nets.opt_D, d_total, D, ctx)
    stats["loss/D"] = d_loss.detach()
    stats["D/real_logit"] = real_logits.detach().mean()
    stats["D/fake_logit"] = fake_logits.detach().mean()
    return stats


def train_step(
    nets: Networks,
    batch: Mapping[str, Tensor],
    step: int,
    cfg: TrainConfig,
    perceptual: VGGFeatures | None,
    ctx: DistributedContext,
    capture_branches: bool = False,
) -> tuple[dict[str, Tensor], list[dict[str, Any]]]:
    """One G update (and, every ``adversarial_every`` steps, one D update) on ``batch`` at 0-based ``step``.

    Returns (detached losses/stats, gradient-cosine records).
    """
    G, D = nets.G, nets.D
    sketch, color, regions = batch["sketch"], batch["color"], batch["regions"]  # (B,1,H,W), (B,3,H,W), (B,H,W)
    for optimizer in (nets.opt_G, nets.opt_D):
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr_at(step)
    gen_cfg = G.cfg
    stats: dict[str, Tensor] = {}

    region_modules = G.region_formulation_modules() if capture_branches else []
    for module in region_modules:
        module.capture_branches = True

    # 1. colour the batch (the graph is kept for the generator update)
    encoding = None
    if gen_cfg.latent == "posterior":
        mu, logvar = G.encode_style(color)  # (B, w_dim) each
        noise = _latent_noise(mu.shape, cfg.seed, ctx.rank, step, mu.device)
        w = mu + cfg.posterior_noise * noise * torch.exp(0.5 * logvar)  # (B, w_dim)
        encoding = G.encode(sketch, regions)  # shared with the predicted-w pass below
        fake, w_pred = G.decode(encoding, w), encoding.w_pred  # (B, 3, H, W), (B, w_dim)
    else:
        mu = logvar = None
        fake, w_pred = G(sketch, regions)
    fakes = [fake]
    # the centre (B, w_dim) of the KL's prior N(centre, 1), held fixed; None: N(0, 1) (or no style encoder, no KL)
    prior_centre = w_pred.detach() if mu is not None and cfg.kl_prior == "sketch" else None
    if cfg.lambda_latent > 0 and mu is not None:  # cLR-GAN: colour a w drawn from the KL's prior (lambda_latent)
        draw = _latent_noise(mu.shape, cfg.seed, ctx.rank, step, mu.device, RANDOM_STYLE_NOISE)  # (B, w_dim)
        w_random = draw if prior_centre is None else prior_centre + draw  # (B, w_dim)
        fakes.append(G.decode(encoding, w_random))  # (B, 3, H, W)

    # 2. discriminator update: logistic loss (eq. 6) + lazy R1 on reals; every `adversarial_every` steps
    adversarial = (cfg.lambda_adv > 0 and step >= cfg.adversarial_from
                   and (step - cfg.adversarial_from) % cfg.adversarial_every == 0)
    condition = sketch if D.cfg.conditional else None  # the pix2pix baseline's D also sees the sketch
    if adversarial:
        update = (step - cfg.adversarial_from) // cfg.adversarial_every  # D's own step count (lazy R1 counts it)
        stats.update(_discriminator_update(nets, color, fakes, condition, update, cfg, ctx))

    # 3. generator update
    g_total = torch.zeros((), device=fake.device)
    if adversarial:
        D.requires_grad_(False)
        for name, colouring in zip(("loss/G_adv", "loss/G_adv_random"), fakes):  # posterior w, then random w
            g_adv = g_nonsaturating_loss(D(colouring, condition))
            g_total = g_total + cfg.lambda_adv * cfg.adversarial_every * g_adv
            stats[name] = g_adv.detach()
    if len(fakes) > 1:  # the random style stays recoverable; trains the decoder only, as in BicycleGAN
        G.style_encoder.requires_grad_(False)
        try:
            mu_random, _ = G.encode_style(fakes[1])  # (B, w_dim)
        finally:
            G.style_encoder.requires_grad_(True)
        g_latent = latent_regression_l1(mu_random, w_random)
        g_total = g_total + cfg.lambda_latent * g_latent
        stats["loss/latent"] = g_latent.detach()
    if perceptual is not None:
        with torch.no_grad():
            real_features = perceptual(color)
        g_perceptual = perceptual_l1(perceptual(fake), real_features)
        g_total = g_total + cfg.lambda_perceptual * g_perceptual
        stats["loss/perceptual"] = g_perceptual.detach()
    if mu is not None:
        g_kl = kl_divergence(mu, logvar, prior_centre)
        g_w = latent_regression_l1(w_pred, mu)
        g_total = g_total + cfg.lambda_kl * g_kl + cfg.lambda_w * g_w
        stats["loss/KL"] = g_kl.detach()
        stats["loss/w"] = g_w.detach()
    l1_weights = None  # (B, 1, H, W): pixels weighted by their region's area (TrainConfig.l1_region_power)
    if cfg.l1_region_power > 0 and (cfg.lambda_l1 > 0 or cfg.lambda_l1_predicted > 0):
        l1_weights = region_balance_weights(batch.get("loss_regions", regions), cfg.l1_region_power)
    if cfg.lambda_l1 > 0:
        g_l1 = pixel_l1(fake, color, l1_weights)
        g_total = g_total + cfg.lambda_l1 * g_l1
        stats["loss/L1"] = g_l1.detach()
    if cfg.lambda_l1_predicted > 0 and encoding is not None:  # the default output: w predicted from the sketch
        predicted = (G.decode(encoding) if cfg.predicted_l1_trains_decoder
                     else _decode_with_fixed_decoder(G, encoding))  # (B, 3, H, W); the encoding is w-free
        g_l1_predicted = pixel_l1(predicted, color, l1_weights)
        g_total = g_total + cfg.lambda_l1_predicted * g_l1_predicted
        stats["loss/L1_predicted"] = g_l1_predicted.detach()
    _optimise(nets.opt_G, g_total, G, ctx)
    stats["loss/G"] = g_total.detach()
    stats["train/saturated_frac"] = (fake.detach().abs() > SATURATION_LEVEL).float().mean()

    records = branch_cosine_histograms(region_modules, cfg.grad_cos_bins) if region_modules else []
    for module in region_modules:
        module.capture_branches = False
        module.captured = None

    # 4. EMA of the generator (decay ramped up so early snapshots are not dominated by the initialisation)
    update_ema(nets.G_ema, G, min(cfg.ema_beta, (1 + step) / (10 + step)))
    return stats, records


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """ema ← decay · ema + (1 − decay) · model for parameters; buffers are copied."""
    for ema_param, param in zip(ema.parameters(), model.parameters()):
        ema_param.lerp_(param, 1.0 - decay)
    for ema_buffer, buffer in zip(ema.buffers(), model.buffers()):
        ema_buffer.copy_(buffer)
