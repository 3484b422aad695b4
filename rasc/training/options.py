"""Training options: the ``train`` section of the workflow config as a validated dataclass."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rasc.training.perceptual import PerceptualConfig

KL_PRIORS = ("standard", "sketch")  # TrainConfig.kl_prior


@dataclass(frozen=True)
class TrainConfig:
    """Training options; names follow the ``train`` section of the workflow config."""

    steps: int = 1500  # total optimisation steps (global batches), resumed runs included
    batch_size: int = 8  # global batch, split evenly over torchrun processes (paper §IV-B: 8)
    lr: float = 0.002  # Adam learning rate of G and D (paper §IV-B); no weight decay
    lr_decay_from: float = 1.0  # fraction of ``steps`` after which the learning rate falls linearly, reaching 0
    #                             at the last step (1 = constant, as the paper; not in the paper)
    beta1: float = 0.0  # Adam beta1 (paper §IV-B)
    beta2: float = 0.99  # Adam beta2 (paper §IV-B)
    lambda_adv: float = 1.0  # weight of the non-saturating adversarial loss (eq. 6)
    lambda_perceptual: float = 1.0  # weight of the VGG-19 perceptual L1 (eq. 7); 0 = off, no VGG built
    lambda_kl: float = 0.01  # weight of KL(q(w | colour) || the prior kl_prior names); latent "posterior" only
    kl_prior: str = "standard"  # the KL's prior: "standard" N(0, 1) | "sketch" N(w_pred, 1), centred on the sketch
    #                            MLP's estimate (held fixed), so that w pays only for what the sketch cannot tell
    #                            (a conditional prior as in Sohn et al. 2015's CVAE; not in the paper)
    posterior_noise: float = 1.0  # scale s of the reparameterisation noise, w = mu + s·ε·σ: 1 = cVAE-GAN's
    #                               sample of the posterior; below 1 the decoder trains on w nearer the posterior
    #                               mean that the oracle and `rasc colorize --reference` use (0: the mean itself; not in
    #                               the paper); latent "posterior" only
    lambda_w: float = 1.0  # weight of |w_pred − mu| that trains the sketch MLP; latent "posterior" only
    lambda_l1: float = 0.0  # weight of a pixel L1 to the ground truth (not in the paper; 0 = off)
    lambda_l1_predicted: float = 0.0  # weight of a pixel L1 of the predicted-w colouring (the default output) to the
    #                                   ground truth; costs a second decoder pass on the shared sketch encoding
    #                                   (not in the paper; 0 = off)
    predicted_l1_trains_decoder: bool = True  # the predicted-w pixel L1 updates the decoder too (True) | only the
    #                                           sketch encoder and MLP, the decoder's weights held fixed on that
    #                                           pass (False: the decoder learns from posterior w alone, as in
    #                                           cVAE-GAN, and w_pred is fitted through it)
    l1_region_power: float = 0.0  # the pixel L1s weight each pixel by its region's area^(−p) in the batch's
    #                               loss_regions (the workflow: trapped-ball maps; else its regions), normalised to
    #                               mean 1 per image: 0 = plain pixel L1; 1 = every region counts the same, as in
    #                               region colour error (not in the paper)
    lambda_latent: float = 0.0  # BicycleGAN's cLR-GAN branch: > 0 also colours every sketch with a w drawn from
    #                             the KL's prior (kl_prior: N(0, 1) or N(w_pred, 1)), judged by D like the
    #                             posterior-w colouring, and trains the decoder to keep that w recoverable by the
    #                             style encoder (L1, this weight; BicycleGAN: 0.5), so that random styles are
    #                             colourings the decoder was trained on. A third decoder pass; latent "posterior"
    #                             only (not in the paper; 0 = off)
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
    sketch_width_jitter: float = 0.0  # share of training sketches whose ink is redrawn at a width varying along
    #                                   the lines, thinner and thicker by a pixel (`rasc.data.sketch.redraw_ink_width`):
    #                                   line width then tells less of the colours beside it (XDoG draws lines
    #                                   thicker on the darker side; clean line art does not). 0 = off, as the paper
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
        if not 0 <= self.l1_region_power <= 1:
            raise ValueError(f"TrainConfig.l1_region_power must lie in [0, 1], got {self.l1_region_power}")
        if not 0 <= self.posterior_noise <= 1:
            raise ValueError(f"TrainConfig.posterior_noise must lie in [0, 1], got {self.posterior_noise}")
        if not 0 <= self.sketch_width_jitter <= 1:
            raise ValueError(f"TrainConfig.sketch_width_jitter must lie in [0, 1], got {self.sketch_width_jitter}")
        if self.kl_prior not in KL_PRIORS:
            raise ValueError(f"TrainConfig.kl_prior must be one of {KL_PRIORS}, got {self.kl_prior!r}")
        if not self.lr > 0:
            raise ValueError(f"TrainConfig.lr must be positive, got {self.lr}")
        if not 0 <= self.lr_decay_from <= 1:
            raise ValueError(f"TrainConfig.lr_decay_from must lie in [0, 1], got {self.lr_decay_from}")
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

    def lr_at(self, step: int) -> float:
        """Learning rate of G and D for the update at 0-based ``step``: ``lr`` until ``lr_decay_from × steps``, then
        falling linearly to ``lr / (steps − decay start)`` at the last step (a function of the step alone, so a
        resumed run continues the same schedule)."""
        decay_start = round(self.lr_decay_from * self.steps)
        if step < decay_start or decay_start >= self.steps:
            return self.lr
        return self.lr * max(self.steps - step, 0) / (self.steps - decay_start)
