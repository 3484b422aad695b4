"""The RASC training loop (paper §III-C, §IV-B; DESIGN §4, §7): one library function, :func:`train`.

Per step (pix2pix order, one generator forward per step):

1. the generator colours the batch; with ``latent="posterior"`` the style encoder gives (mu, logvar) of the colour
   image and w = mu + ε·exp(logvar / 2) (cVAE-GAN, DESIGN §4); with ``latent="sketch"`` w is the sketch MLP's;
   with ``lambda_latent`` > 0 (BicycleGAN's cLR-GAN branch, off by default) it also colours a w drawn from N(0, 1);
2. the discriminator takes one Adam step on the logistic loss (eq. 6) of real images and detached fakes, plus the
   lazy R1 penalty on real images every ``r1_every`` D steps (weighted γ/2 · r1_every); with
   ``adversarial_every`` k > 1 this step and G's adversarial term run every k-th step only (the term weighted k);
   before step ``adversarial_from``, and with ``lambda_adv`` 0, neither runs;
3. the generator takes one Adam step on λ_adv·non-saturating loss + λ_p·perceptual L1 (eq. 7) + λ_kl·KL
   + λ_w·|w_pred − mu| (+ λ_l1·pixel L1 and λ_l1_predicted·pixel L1 of the predicted-w colouring: the paper has
   neither; + the random-w colouring's adversarial term and λ_latent·|mu(its colouring) − w|, the style encoder
   held fixed);
4. the EMA generator follows G; it is what the sample grids show and what ``generator.pt`` holds.

Outputs under ``out_dir`` (written by rank 0 only): ``snapshots/last.pt`` (resumable, every ``snapshot_every``
steps; left undeclared to Snakemake so a killed job keeps it), ``generator.pt`` (final EMA generator + config),
``stats.jsonl`` (one line per logged step), ``grad_cosine.jsonl`` (paper §IV-G histograms), ``samples/step_*.png``
(fixed sketches and fixed w), ``config.json`` (the options, written before training) and ``run.json``.

Resume: when ``snapshots/last.pt`` exists, training continues from it to the same final step count. The data order,
flips and latent noise are pure functions of (seed, step, rank) and the global RNG states are restored, so on CPU
a resumed run ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import math
import os
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rasc.atomic import stale_temporaries
from rasc.config import BOOKKEEPING_TRAIN_OPTIONS
from rasc.training.checkpoint import (
    CheckpointError,
    load_checkpoint,
    save_generator_checkpoint,
    save_training_checkpoint,
)
from rasc.training.distributed import (
    DistributedContext,
    all_reduce_gradients,
    all_reduce_mean,
    barrier,
    broadcast_module,
    init_distributed,
    shutdown_distributed,
)
from rasc.imageio import write_image
from rasc.training.losses import (
    d_logistic_loss,
    d_r1_penalty,
    g_nonsaturating_loss,
    kl_divergence,
    latent_regression_l1,
    perceptual_l1,
)
from rasc.training.perceptual import PerceptualConfig, VGGFeatures, build_vgg_features
from rasc.tracking import NullTracker
from rasc.training.data import StepSampler, TrainData, make_batch
from rasc.validation import CURVES, ValidationSet

log = logging.getLogger(__name__)

SNAPSHOT = Path("snapshots") / "last.pt"
GENERATOR = "generator.pt"
STATS = "stats.jsonl"
GRAD_COSINE = "grad_cosine.jsonl"
SAMPLES = "samples"
RUN_JSON = "run.json"
CONFIG_JSON = "config.json"
GRID_W_SEED = 20240  # seed of the fixed latent codes of the sample grids (the same for every run)
GRID_RANDOM_W = 2  # random-w columns per sketch in the sample grid
SATURATION_LEVEL = 0.99  # |rgb| above this counts as saturated


@dataclass(frozen=True)
class TrainConfig:
    """Training options; names follow the ``train`` section of the workflow config."""

    steps: int = 1500  # total optimisation steps (global batches), resumed runs included
    batch_size: int = 8  # global batch, split evenly over torchrun processes (paper §IV-B: 8)
    lr: float = 0.002  # Adam learning rate of G and D (paper §IV-B); no weight decay
    beta1: float = 0.0  # Adam beta1 (paper §IV-B)
    beta2: float = 0.99  # Adam beta2 (paper §IV-B)
    lambda_adv: float = 1.0  # weight of the non-saturating adversarial loss (eq. 6)
    lambda_perceptual: float = 1.0  # weight of the VGG-19 perceptual L1 (eq. 7); 0 = off, no VGG built
    lambda_kl: float = 0.01  # weight of KL(q(w | colour) || N(0, 1)); latent "posterior" only
    lambda_w: float = 1.0  # weight of |w_pred − mu| that trains the sketch MLP; latent "posterior" only
    lambda_l1: float = 0.0  # weight of a pixel L1 to the ground truth (not in the paper; 0 = off)
    lambda_l1_predicted: float = 0.0  # weight of a pixel L1 of the predicted-w colouring (the default output) to the
    #                                   ground truth; costs a second decoder pass on the shared sketch encoding
    #                                   (not in the paper; 0 = off)
    lambda_latent: float = 0.0  # BicycleGAN's cLR-GAN branch: > 0 also colours every sketch with a w drawn from
    #                             N(0, 1), judged by D like the posterior-w colouring, and trains the decoder to
    #                             keep that w recoverable by the style encoder (L1, this weight; BicycleGAN: 0.5),
    #                             so that random styles are colourings the decoder was trained on. A third decoder
    #                             pass; latent "posterior" only (not in the paper; 0 = off)
    perceptual_layers: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1")  # paper: relu1_1 … relu5_1
    vgg_weights: str | None = None  # local VGG-19 state_dict; None = torchvision's ImageNet weights or the fallback
    vgg_download: bool = True  # let torchvision download the ImageNet VGG-19 when it is not cached
    r1_gamma: float = 1.0  # R1 weight γ (penalty · γ / 2 on real images); 0 = off
    r1_every: int = 4  # lazy R1: computed every this many discriminator updates and scaled by it
    adversarial_every: int = 1  # steps between adversarial updates (the D step and G's adversarial term, which is
    #                             then scaled by this, as lazy R1 is); 1 = every step, as the paper
    adversarial_from: int = 0  # first step of the adversarial updates: before it G trains on its other terms only
    #                            and D not at all (a GAN phase after a regression warm-up; 0 = from the start, as
    #                            the paper)
    ema_beta: float = 0.99  # per-step EMA decay of G (ramped up over the first steps); 0 = G_ema copies G
    hflip: bool = True  # random horizontal flips of whole (sketch, colour, regions) triplets
    seed: int = 0  # seeds the initialisation, data order, flips and latent noise
    device: str = "auto"  # "auto" (cuda when available) | "cpu" | "cuda" | "cuda:N"
    threads: int = 0  # torch CPU threads for this process; 0 = leave torch's default
    log_every: int = 25  # steps between stats.jsonl lines and metric points (means over the interval)
    sample_every: int = 500  # steps between sample grids; the final grid is always written
    snapshot_every: int = 250  # steps between snapshots/last.pt; the final snapshot is always written
    grid_size: int = 8  # sketches in the fixed sample grid (the first ones of the training data)
    grad_cos_every: int = 0  # steps between gradient-cosine histograms (paper §IV-G); 0 = off
    grad_cos_bins: int = 20  # histogram bins over [-1, 1]

    def __post_init__(self) -> None:
        positive = ("steps", "batch_size", "r1_every", "adversarial_every", "log_every", "sample_every",
                    "snapshot_every", "grid_size", "grad_cos_bins")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name} must be at least 1, got {getattr(self, name)}")
        non_negative = ("lambda_adv", "lambda_perceptual", "lambda_kl", "lambda_w", "lambda_l1", "lambda_l1_predicted",
                        "lambda_latent", "r1_gamma", "adversarial_from",
                        "grad_cos_every", "threads")
        for name in non_negative:
            if getattr(self, name) < 0:
                raise ValueError(f"TrainConfig.{name} must be non-negative, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"TrainConfig.lr must be positive, got {self.lr}")
        for name in ("beta1", "beta2", "ema_beta"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name} must lie in [0, 1), got {getattr(self, name)}")
        if self.lambda_perceptual > 0:
            self.perceptual_config()  # validates the layer names

    @classmethod
    def from_section(cls, section: Mapping[str, Any], seed: int = 0) -> TrainConfig:
        """Build from the workflow config's ``train`` section (its ``seeds`` list is dropped: pass one ``seed``)."""
        values = {key: value for key, value in section.items() if key != "seeds"}
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown train option(s) {unknown}; known: {sorted(known)}")
        if "perceptual_layers" in values:
            values["perceptual_layers"] = tuple(values["perceptual_layers"])
        return cls(**{**values, "seed": seed})

    def perceptual_config(self) -> PerceptualConfig:
        return PerceptualConfig(layers=tuple(self.perceptual_layers), weights_path=self.vgg_weights,
                                download=self.vgg_download, random_seed=0)


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or infinite; the run is marked FAILED."""


@dataclass(frozen=True)
class TrainResult:
    """What a call to :func:`train` did."""

    out_dir: Path  # the training folder
    steps: int  # completed steps (== config steps unless stopped by max_steps_this_run)
    completed: bool  # True when the final outputs (generator.pt, run.json) were written
    run_id: str | None  # MLflow run id (None without tracking)
    perceptual_backbone: str  # e.g. "vgg19-imagenet" or "vgg19-random-seed0" ("none" when λ_p = 0)
    final_stats: dict[str, float] = field(default_factory=dict)  # the last logged stats line


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
    from rasc.models import Discriminator, build_generator

    if disc_cfg.image_size != gen_cfg.image_size:
        raise ValueError(f"generator image_size {gen_cfg.image_size} != discriminator image_size {disc_cfg.image_size}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        generator = build_generator(gen_cfg)
        discriminator = Discriminator(disc_cfg)
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


def _discriminator_update(nets: Networks, color: Tensor, fakes: Sequence[Tensor], condition: Tensor | None,
                          update: int, cfg: TrainConfig, ctx: DistributedContext) -> dict[str, Tensor]:
    """One D step on reals ``color`` and the colourings ``fakes`` (each (B, 3, H, W); their logits are pooled), with
    lazy R1 on D's ``update``-th step → stats."""
    D = nets.D
    D.requires_grad_(True)
    regularize = cfg.r1_gamma > 0 and update % cfg.r1_every == 0
    real = color.detach().requires_grad_(regularize)
    real_logits = D(real, condition)  # (B,)
    fake_logits = torch.cat([D(fake.detach(), condition) for fake in fakes])  # (B · len(fakes),)
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
        w = mu + noise * torch.exp(0.5 * logvar)  # (B, w_dim)
        encoding = G.encode(sketch, regions)  # shared with the predicted-w pass below
        fake, w_pred = G.decode(encoding, w), encoding.w_pred  # (B, 3, H, W), (B, w_dim)
    else:
        mu = logvar = None
        fake, w_pred = G(sketch, regions)
    fakes = [fake]
    if cfg.lambda_latent > 0 and mu is not None:  # cLR-GAN: colour a w drawn from N(0, 1) (TrainConfig.lambda_latent)
        w_random = _latent_noise(mu.shape, cfg.seed, ctx.rank, step, mu.device, RANDOM_STYLE_NOISE)  # (B, w_dim)
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
        g_kl = kl_divergence(mu, logvar)
        g_w = latent_regression_l1(w_pred, mu)
        g_total = g_total + cfg.lambda_kl * g_kl + cfg.lambda_w * g_w
        stats["loss/KL"] = g_kl.detach()
        stats["loss/w"] = g_w.detach()
    if cfg.lambda_l1 > 0:
        g_l1 = (fake - color).abs().mean()
        g_total = g_total + cfg.lambda_l1 * g_l1
        stats["loss/L1"] = g_l1.detach()
    if cfg.lambda_l1_predicted > 0 and encoding is not None:  # the default output: w predicted from the sketch
        g_l1_predicted = (G.decode(encoding) - color).abs().mean()  # decoder only: the encoding is w-independent
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


BRANCH_PAIRS = (("q", "skip"), ("k", "v"))  # paper Fig. 13: the branches leaving X_u (q, skip) and X_v (k, v)
TOTAL = "total"  # the ``against`` of a branch compared with the sum of all branches (paper Fig. 12)


def _cosine_record(grad: Tensor, against: Tensor, mask: Tensor, bins: int) -> dict[str, Any]:
    """Histogram over [-1, 1] of the row-wise cos(grad, against), grad and against (B, K, C), over the rows of
    ``mask`` (B, K) where neither vanishes."""
    valid = mask & (against.norm(dim=-1) > 0) & (grad.norm(dim=-1) > 0)  # (B, K)
    cosine = F.cosine_similarity(grad, against, dim=-1)[valid].float().cpu()  # (R,)
    counts = torch.histc(cosine.clamp(-1, 1), bins=bins, min=-1.0, max=1.0)  # (bins,)
    return {
        "counts": [int(c) for c in counts.tolist()],
        "points": int(len(cosine)),
        "mean": float(cosine.mean()) if len(cosine) else None,
        "bin_edges": [round(float(e), 6) for e in torch.linspace(-1, 1, bins + 1).tolist()],
    }


def branch_cosine_histograms(modules: list[nn.Module], bins: int) -> list[dict[str, Any]]:
    """Paper §IV-G: for each Region Formulation module, histograms over [-1, 1] of gradient cosines, one point per
    real region (row of the aggregated features) of the batch.

    g_b is branch b's share of the loss gradient w.r.t. the aggregated region features (the module's captured
    per-branch inputs, read after ``backward()``); rows where a gradient vanishes are left out. Records:

    - every branch b ∈ {q, k, v (, skip)} against the sum of all branches, cos(g_b, Σ_b' g_b') (Fig. 12;
      ``against`` = "total");
    - with the skip correlation, also the paper's pairs of Fig. 13, each member against the pair's sum:
      cos(g_q, g_q + g_skip) and cos(g_skip, g_q + g_skip) (the branches leaving X_u), cos(g_k, g_k + g_v) and
      cos(g_v, g_k + g_v) (leaving X_v); ``against`` = "q+skip" or "k+v". Here X_u and X_v are the same region
      features, so each pair's sum is a part of the total gradient.
    """
    records = []
    for index, module in enumerate(modules):
        captured = getattr(module, "captured", None)
        if not captured:
            continue
        names = [name for name in ("q", "k", "v", "skip") if name in captured]
        grads = {name: captured[name].grad for name in names}
        if any(g is None for g in grads.values()):
            continue
        mask = captured["region_mask"]  # (B, K)
        total = torch.stack([grads[name] for name in names]).sum(dim=0)  # (B, K, C)
        comparisons = [(name, TOTAL, total) for name in names]
        if "skip" in grads:
            comparisons += [(name, f"{a}+{b}", grads[a] + grads[b]) for a, b in BRANCH_PAIRS for name in (a, b)]
        for name, label, against in comparisons:
            records.append({"module": index, "channels": int(total.shape[-1]), "branch": name, "against": label,
                            **_cosine_record(grads[name], against, mask, bins)})
    return records


def cosine_metric_name(record: dict[str, Any]) -> str:
    """The MLflow metric of one record's mean: ``grad_cos/m<module>/<branch>`` against the total (as before the
    pairs existed), ``grad_cos/m<module>/<branch>_vs_<a>_<b>`` against a pair's sum."""
    against = record.get("against", TOTAL)
    suffix = "" if against == TOTAL else "_vs_" + against.replace("+", "_")
    return f"grad_cos/m{record['module']}/{record['branch']}{suffix}"


# --------------------------------------------------------------------------------------------------- RNG and grids


def capture_rng_state() -> dict[str, Any]:
    """Global RNG states (torch CPU and CUDA, numpy's legacy global, Python's ``random``) as weights-only data."""
    name, keys, position, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(position),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "python": random.getstate(),
    }


def restore_rng_state(state: Mapping[str, Any]) -> None:
    """Inverse of :func:`capture_rng_state` (missing entries are left alone)."""
    if "torch" in state:
        torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])
    if "numpy" in state:
        saved = state["numpy"]
        np.random.set_state((saved["name"], saved["keys"].numpy().astype(np.uint32), saved["pos"],
                             saved["has_gauss"], saved["cached_gaussian"]))
    if "python" in state:
        version, internal, gauss = state["python"]
        random.setstate((version, tuple(internal), gauss))


def _seed_globals(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def fixed_grid_inputs(data: TrainData, cfg: TrainConfig, w_dim: int, device: torch.device) -> dict[str, Tensor]:
    """The first ``grid_size`` training triplets (unflipped) and fixed latent codes (B, GRID_RANDOM_W, w_dim)."""
    count = min(cfg.grid_size, len(data))
    indices = np.arange(count)
    batch = make_batch(data, indices, np.zeros(count, dtype=bool), device)
    generator = torch.Generator().manual_seed(GRID_W_SEED)
    batch["w"] = torch.randn(count, GRID_RANDOM_W, w_dim, generator=generator).to(device)
    return batch


def _to_uint8(images: Tensor) -> np.ndarray:
    """(B, C, H, W) in [-1, 1] → (B, H, W, 3) uint8."""
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    scaled = ((images.detach().float().cpu() + 1.0) * 127.5).round().clamp(0, 255)
    return scaled.permute(0, 2, 3, 1).to(torch.uint8).numpy()


@torch.no_grad()
def render_sample_grid(generator: nn.Module, grid: Mapping[str, Tensor]) -> np.ndarray:
    """One row per fixed sketch: sketch | predicted w | fixed w ×2 | ground truth → (rows·H, 5·W, 3) uint8."""
    was_training = generator.training
    generator.eval()
    columns = [grid["sketch"], generator(grid["sketch"], grid["regions"]).rgb]
    for column in range(grid["w"].shape[1]):
        columns.append(generator(grid["sketch"], grid["regions"], grid["w"][:, column]).rgb)
    columns.append(grid["color"])
    generator.train(was_training)
    tiles = [_to_uint8(images) for images in columns]  # each (B, H, W, 3)
    rows = [np.concatenate([tile[i] for tile in tiles], axis=1) for i in range(len(tiles[0]))]
    return np.concatenate(rows, axis=0)


# ------------------------------------------------------------------------------------------------------- file I/O


def _plain(data: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-normal copy (tuples → lists, paths → strings): safe for weights-only checkpoints and comparable."""
    return json.loads(json.dumps(dict(data), default=str))


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data, indent=2, default=str) + "\n")
    os.replace(temporary, path)


def _append_jsonl(path: Path, rows: list[Mapping[str, Any]]) -> None:
    with open(path, "a") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def _truncate_jsonl(path: Path, last_step: int) -> None:
    """Drop lines logged after ``last_step`` by a run that died after its last snapshot (they are redone)."""
    if not path.is_file():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            if json.loads(line)["step"] <= last_step:
                kept.append(line)
        except (ValueError, KeyError, TypeError):  # a line cut short by the kill
            continue
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text("".join(line + "\n" for line in kept))
    os.replace(temporary, path)


def snapshot_run_id(out_dir: str | Path) -> str | None:
    """The MLflow run id stored in ``out_dir``'s resumable snapshot, if there is one (to resume that run)."""
    path = Path(out_dir) / SNAPSHOT
    if not path.is_file():
        return None
    try:
        return load_checkpoint(path).get("meta", {}).get("run_id")
    except CheckpointError:
        return None


def start_training_tracker(out_dir: str | Path, experiment: str, run_name: str,
                           tags: Mapping[str, Any] | None = None) -> NullTracker:
    """Start the MLflow run of a training in ``out_dir`` on rank 0, resuming the run its snapshot names.

    Other ranks of a torchrun job get a :class:`NullTracker`.
    """
    from rasc.tracking import Tracker

    if int(os.environ.get("RANK", "0")) != 0:
        return NullTracker()
    return Tracker.start(experiment, run_name, tags=dict(tags or {}), resume_run_id=snapshot_run_id(out_dir))


# ------------------------------------------------------------------------------------------------------------ loop


def train(
    cfg: TrainConfig,
    gen_cfg: Any,
    disc_cfg: Any,
    data: TrainData,
    out_dir: str | Path,
    tracker: NullTracker | None = None,
    progress: bool = True,
    full_config: Mapping[str, Any] | None = None,
    max_steps_this_run: int | None = None,
    validation: ValidationSet | None = None,
) -> TrainResult:
    """Train (or resume) one RASC model; see the module docstring for what is written where.

    ``gen_cfg``/``disc_cfg``: :class:`rasc.models.GeneratorConfig` / ``DiscriminatorConfig``. ``tracker``: an
    MLflow run (rank 0's; see :func:`start_training_tracker`), finished here with FINISHED, FAILED or KILLED.
    ``full_config``: the workflow config as a plain dict, stored in checkpoints. ``max_steps_this_run``: stop after
    this many steps in this call (a snapshot is saved, final outputs are not written: for time-limited jobs).
    ``validation``: a fixed subset scored with the EMA generator at step 0 and at every snapshot (learning curves,
    ``curves.jsonl`` and MLflow ``val/*``; :mod:`rasc.validation`). Runs unchanged under ``torchrun``.
    """
    out_dir = Path(out_dir)
    tracker = tracker if tracker is not None else NullTracker()
    joined_here = not torch.distributed.is_initialized()
    ctx = init_distributed(cfg.device)
    if not ctx.is_main:
        tracker = NullTracker()
    status = "FAILED"
    try:
        result = _train(cfg, gen_cfg, disc_cfg, data, out_dir, tracker, progress, dict(full_config or {}),
                        max_steps_this_run, ctx, validation)
        status = "FINISHED" if result.completed else "KILLED"
        return result
    except KeyboardInterrupt:
        status = "KILLED"
        raise
    finally:
        tracker.finish(status)
        if joined_here:
            shutdown_distributed()


def _check_image_size(data: TrainData, gen_cfg: Any) -> None:
    if data.image_size != gen_cfg.image_size:
        raise ValueError(f"training images are {data.image_size}² but the generator is configured for "
                         f"{gen_cfg.image_size}² (GeneratorConfig.image_size)")


def _train(cfg: TrainConfig, gen_cfg: Any, disc_cfg: Any, data: TrainData, out_dir: Path, tracker: NullTracker,
           progress: bool, full_config: dict[str, Any], max_steps_this_run: int | None,
           ctx: DistributedContext, validation: ValidationSet | None) -> TrainResult:
    from tqdm.auto import tqdm

    _check_image_size(data, gen_cfg)
    if cfg.threads > 0 and ctx.device.type == "cpu":
        torch.set_num_threads(cfg.threads)
    if ctx.is_main:
        (out_dir / SNAPSHOT).parent.mkdir(parents=True, exist_ok=True)
        (out_dir / SAMPLES).mkdir(parents=True, exist_ok=True)
    options = _plain({"train": dataclasses.asdict(cfg), "generator": dataclasses.asdict(gen_cfg),
                      "discriminator": dataclasses.asdict(disc_cfg)})
    full_config = _plain(full_config)

    nets = build_networks(cfg, gen_cfg, disc_cfg, ctx.device)
    perceptual, backbone = build_perceptual(cfg, ctx.device)
    sampler = StepSampler(len(data), cfg.batch_size, cfg.seed, ctx.rank, ctx.world_size, cfg.hflip)
    _seed_globals(cfg.seed + ctx.rank)

    start_step = _resume_if_possible(out_dir, nets, gen_cfg, disc_cfg, cfg, ctx)
    broadcast_module(nets.G, ctx)
    broadcast_module(nets.D, ctx)
    broadcast_module(nets.G_ema, ctx)
    resumed = start_step > 0
    meta = {"run_id": tracker.run_id, "perceptual_backbone": backbone, "world_size": ctx.world_size}
    if ctx.is_main:
        _write_json(out_dir / CONFIG_JSON, {**options, "config": full_config, "perceptual_backbone": backbone})
        if resumed:
            for name in (STATS, GRAD_COSINE, CURVES):
                _truncate_jsonl(out_dir / name, start_step)
        else:
            for name in (STATS, GRAD_COSINE, CURVES):
                (out_dir / name).unlink(missing_ok=True)
            tracker.log_params({**options, "data": {"samples": len(data), "image_size": data.image_size},
                                **({"config": full_config} if full_config else {})})
        tracker.set_tags({"perceptual_backbone": backbone, "rasc.variant": gen_cfg.variant,
                          "rasc.latent": gen_cfg.latent, "rasc.seed": cfg.seed, "device": str(ctx.device),
                          "world_size": ctx.world_size})
        log.info("training %s for %d steps on %s ×%d (start at step %d; perceptual backbone %s)",
                 out_dir, cfg.steps, ctx.device, ctx.world_size, start_step, backbone)

    grid = fixed_grid_inputs(data, cfg, gen_cfg.w_dim, ctx.device) if ctx.is_main else None
    end_step = cfg.steps if max_steps_this_run is None else min(cfg.steps, start_step + max_steps_this_run)
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    last_stats: dict[str, float] = {}
    interval_start = time.perf_counter()
    run_start = time.perf_counter()
    bar = tqdm(total=cfg.steps, initial=start_step, disable=not (progress and ctx.is_main), desc="train",
               dynamic_ncols=True)

    def score(done: int) -> None:
        if validation is None:
            return
        point = validation.score(nets.G_ema)
        _append_jsonl(out_dir / CURVES, [{"step": done, "epoch": round(sampler.epoch_of(done), 4), **point}])
        tracker.log_metrics(point, step=done)

    def snapshot(done: int) -> None:
        score(done)
        save_training_checkpoint(
            out_dir / SNAPSHOT, generator=nets.G, discriminator=nets.D, generator_ema=nets.G_ema,
            g_optimizer=nets.opt_G, d_optimizer=nets.opt_D, generator_config=gen_cfg, discriminator_config=disc_cfg,
            config={**options, "config": full_config}, step=done, rng_state=capture_rng_state(), meta=meta)

    def samples(done: int) -> None:
        image = render_sample_grid(nets.G_ema, grid)
        write_image(out_dir / SAMPLES / f"step_{done:06d}.png", image)
        tracker.log_image(image, key="samples", step=done)

    if ctx.is_main and not resumed:
        score(0)
    with bar:
        for step in range(start_step, end_step):
            done = step + 1
            indices, flips = sampler.batch(step)
            batch = make_batch(data, indices, flips, ctx.device)
            capture = cfg.grad_cos_every > 0 and ctx.is_main and done % cfg.grad_cos_every == 0
            stats, records = train_step(nets, batch, step, cfg, perceptual, ctx, capture_branches=capture)
            names = sorted(stats)
            values = all_reduce_mean(torch.stack([stats[n].float() for n in names]), ctx).cpu().tolist()
            bad = [n for n, v in zip(names, values) if not math.isfinite(v)]
            if bad:
                raise NonFiniteLossError(
                    f"non-finite {', '.join(bad)} at step {done} of {out_dir} "
                    f"(values {dict((n, v) for n, v in zip(names, values) if n in bad)}); lower lr or raise r1_gamma")
            for name, value in zip(names, values):
                sums[name] = sums.get(name, 0.0) + value
                counts[name] = counts.get(name, 0) + 1
            bar.update(1)
            if not ctx.is_main:
                continue
            epoch = sampler.epoch_of(done)
            if records:
                _append_jsonl(out_dir / GRAD_COSINE, [{"step": done, "epoch": round(epoch, 4), **r} for r in records])
                tracker.log_metrics({cosine_metric_name(r): r["mean"] for r in records}, step=done)
            if done % cfg.log_every == 0 or done == end_step:
                elapsed = time.perf_counter() - interval_start
                steps_in_interval = max(counts.values())
                last_stats = {name: sums[name] / counts[name] for name in sums}
                last_stats["time/sec_per_step"] = elapsed / steps_in_interval
                _append_jsonl(out_dir / STATS, [{"step": done, "epoch": round(epoch, 4),
                                                 "time_s": round(time.perf_counter() - run_start, 3), **last_stats}])
                tracker.log_metrics({**last_stats, "train/epoch": epoch}, step=done)
                bar.set_postfix({k.split("/")[-1]: f"{v:.3g}" for k, v in last_stats.items()
                                 if k in ("loss/D", "loss/G_adv", "loss/perceptual")})
                sums.clear()
                counts.clear()
                interval_start = time.perf_counter()
            if done % cfg.sample_every == 0 and done != cfg.steps:
                samples(done)
            if done % cfg.snapshot_every == 0 and done != end_step:
                snapshot(done)

    done = max(end_step, start_step)
    completed = done >= cfg.steps
    if ctx.is_main:
        if end_step > start_step or not (out_dir / SNAPSHOT).is_file():
            snapshot(done)
        if completed:
            _write_final_outputs(out_dir, nets, gen_cfg, options, full_config, done, meta, last_stats, backbone,
                                 tracker, samples, ctx, time.perf_counter() - run_start, data)
    barrier(ctx)
    return TrainResult(out_dir=out_dir, steps=done, completed=completed, run_id=tracker.run_id,
                       perceptual_backbone=backbone, final_stats=last_stats)


def _resume_if_possible(out_dir: Path, nets: Networks, gen_cfg: Any, disc_cfg: Any, cfg: TrainConfig,
                        ctx: DistributedContext) -> int:
    """Load ``snapshots/last.pt`` into ``nets`` if it exists → the step to start from (0 without a snapshot)."""
    path = out_dir / SNAPSHOT
    if ctx.is_main:
        for stale in stale_temporaries(path):  # a snapshot write killed midway (last.pt itself is whole)
            stale.unlink(missing_ok=True)
    if not path.is_file():
        return 0
    checkpoint = load_checkpoint(path)
    if checkpoint["kind"] != "training":
        raise CheckpointError(f"{path}: expected a training snapshot, found a {checkpoint['kind']!r} checkpoint")
    for name, current in (("generator_config", gen_cfg), ("discriminator_config", disc_cfg)):
        # fields added to the config since the snapshot was written take their defaults (the old architecture)
        stored = _plain({**dataclasses.asdict(type(current)()), **checkpoint[name]})
        if stored != _plain(dataclasses.asdict(current)):
            raise CheckpointError(
                f"{path}: snapshot was trained with {name} {stored}, not {dataclasses.asdict(current)}; "
                "delete the snapshot or train into another folder")
    # options added since the snapshot was written take their defaults (what the older code did)
    stored_train = _plain({**dataclasses.asdict(TrainConfig()), **checkpoint["config"].get("train", {})})
    changed = {k: (stored_train.get(k), v) for k, v in _plain(dataclasses.asdict(cfg)).items()
               if k not in BOOKKEEPING_TRAIN_OPTIONS and stored_train.get(k) != v}
    if changed:
        listed = ", ".join(f"{k} {old!r} → {new!r}" for k, (old, new) in changed.items())
        raise CheckpointError(f"{path}: snapshot was trained with other train options ({listed}); restore them, or "
                              "delete the snapshot (or train into another folder) to train anew")
    step = int(checkpoint["step"])
    if step > cfg.steps:
        raise CheckpointError(f"{path}: snapshot is at step {step}, past train.steps {cfg.steps}; "
                              "raise train.steps, or delete the snapshot to train anew with fewer steps")
    nets.G.load_state_dict(checkpoint["G"])
    nets.D.load_state_dict(checkpoint["D"])
    nets.G_ema.load_state_dict(checkpoint["G_ema"])
    nets.opt_G.load_state_dict(checkpoint["opt_G"])
    nets.opt_D.load_state_dict(checkpoint["opt_D"])
    if ctx.world_size == checkpoint.get("meta", {}).get("world_size", 1):
        restore_rng_state(checkpoint["rng"] if ctx.is_main else {})
    log.info("resuming from %s at step %d", path, step)
    return step


def _fitted_style_prior(generator: nn.Module, data: TrainData) -> torch.Tensor | None:
    """The style prior's Cholesky factor fitted on the training pairs (rasc.models.style_prior), or None for a
    model without a style encoder."""
    from rasc.models.style_prior import fit_style_prior

    if getattr(generator.cfg, "latent", None) != "posterior" or len(data) < 2:
        return None
    try:
        return fit_style_prior(generator, data.sketch, data.regions, data.color)
    except (ValueError, RuntimeError) as error:  # a sampling aid (RuntimeError: torch's, e.g. out of memory)
        log.warning("no style prior fitted (%s): random styles of this model will come from N(0, 1)", error)
        return None


def _write_final_outputs(out_dir: Path, nets: Networks, gen_cfg: Any, options: dict[str, Any],
                         full_config: dict[str, Any], done: int, meta: dict[str, Any], last_stats: dict[str, float],
                         backbone: str, tracker: NullTracker, samples, ctx: DistributedContext,
                         seconds: float, data: TrainData) -> None:
    samples(done)
    generator_path = out_dir / GENERATOR
    scale_tril = _fitted_style_prior(nets.G_ema, data)  # (w_dim, w_dim) or None
    save_generator_checkpoint(generator_path, generator=nets.G_ema, generator_config=gen_cfg,
                              config={**options, "config": full_config}, step=done, meta=meta,
                              style_scale_tril=scale_tril)
    tracker.log_artifact(generator_path, artifact_path="checkpoints")
    if not last_stats and (out_dir / STATS).is_file():
        lines = (out_dir / STATS).read_text().splitlines()
        last_stats = {k: v for k, v in json.loads(lines[-1]).items() if k not in ("step", "epoch", "time_s")} \
            if lines else {}
    _write_json(out_dir / RUN_JSON, {
        "run_id": tracker.run_id,
        "steps": done,
        "generator": GENERATOR,
        "perceptual_backbone": backbone,
        "device": str(ctx.device),
        "world_size": ctx.world_size,
        "seconds_this_call": round(seconds, 3),
        "final_stats": last_stats,
        "style_prior": None if scale_tril is None else {  # random w ~ N(w_pred, Σ): Σ's size, fitted on the data
            "fitted_on": len(data), "rms_sd": float(scale_tril.square().sum().div(scale_tril.shape[0]).sqrt())},
    })
    tracker.log_artifact(out_dir / RUN_JSON)
