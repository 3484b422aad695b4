"""rasc.models.style_prior: the prior of w fitted after training, and how random styles are drawn from it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rasc.models import Generator, GeneratorConfig
from rasc.models.inference import color_to_tensor, colorize, labels_to_tensor, sample_w, sketch_to_tensor
from rasc.models.style_prior import fit_style_prior, styles_from_noise
from rasc.training.checkpoint import CheckpointError, load_generator, save_generator_checkpoint

CFG = GeneratorConfig(image_size=32, base_channels=4, max_channels=8, num_blocks=2, w_dim=4)


@pytest.fixture(scope="module")
def generator():
    torch.manual_seed(0)
    return Generator(CFG).eval().requires_grad_(False)


@pytest.fixture(scope="module")
def pairs():
    """Six training pairs: sketches (N, 32, 32) uint8, region maps (N, 32, 32), colour images (N, 32, 32, 3)."""
    rng = np.random.default_rng(0)
    sketches = np.full((6, 32, 32), 255, np.uint8)
    sketches[:, 16, :] = 0
    regions = np.zeros((6, 32, 32), np.int64)
    regions[:, 17:] = 1
    colors = rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    return sketches, regions, colors


@pytest.mark.parametrize("posterior_noise", [1.0, 0.5, 0.0])
def test_fitted_prior_is_the_residual_covariance_plus_the_posterior_variance(generator, pairs, posterior_noise):
    """Σ = Cov(μ − w_pred) + s² · mean posterior variance, s the training's posterior noise scale."""
    sketches, regions, colors = pairs
    scale_tril = fit_style_prior(generator, sketches, regions, colors, batch_size=4,  # two batches
                                 posterior_noise=posterior_noise)
    assert scale_tril.shape == (4, 4) and torch.equal(scale_tril, scale_tril.tril())
    w_pred = generator.encode(sketch_to_tensor(sketches), labels_to_tensor(regions)).w_pred  # (6, 4)
    mu, logvar = generator.encode_style(color_to_tensor(colors))  # (6, 4) each
    residual = (mu - w_pred).double().numpy()
    variance = np.exp(logvar.double().numpy()).mean(axis=0)  # (4,)
    expected = np.cov(residual.T) + np.diag(posterior_noise ** 2 * variance)
    np.testing.assert_allclose((scale_tril @ scale_tril.T).double().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_fit_refuses_a_model_without_style_encoder_and_too_few_pairs(pairs):
    sketches, regions, colors = pairs
    sketch_only = Generator(GeneratorConfig(**{**CFG.__dict__, "latent": "sketch"})).eval()
    with pytest.raises(ValueError, match="style encoder"):
        fit_style_prior(sketch_only, sketches, regions, colors)
    with pytest.raises(ValueError, match="at least 2"):
        fit_style_prior(Generator(CFG).eval(), sketches[:1], regions[:1], colors[:1])


def test_styles_from_noise():
    noise = torch.randn(2, 3, 4)  # (B, n, w_dim)
    assert styles_from_noise(noise, torch.ones(2, 4), None) is noise  # the paper's N(0, 1): w = ε
    scale_tril = torch.tensor([[2.0, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0.5]])
    w_pred = torch.arange(8.0).view(2, 4)
    expected = torch.stack([torch.stack([w_pred[b] + scale_tril @ noise[b, i] for i in range(3)]) for b in range(2)])
    torch.testing.assert_close(styles_from_noise(noise, w_pred, scale_tril), expected)


def test_random_styles_under_each_prior(generator, pairs):
    """Fitted prior: w = w_pred + L·ε, so with L = 0 every sample is the predicted colouring; standard: w = ε."""
    sketches, regions, _ = pairs
    sketch, labels = sketch_to_tensor(sketches[:2]), labels_to_tensor(regions[:2])
    predicted = colorize(generator, sketch, labels)  # (2, 1, 3, 32, 32)
    try:
        generator.style_scale_tril = torch.zeros(4, 4)
        flat = colorize(generator, sketch, labels, seed=3, n_samples=3)  # (2, 3, 3, 32, 32)
        torch.testing.assert_close(flat, predicted.expand_as(flat))
        generator.style_scale_tril = torch.eye(4) * 0.5
        fitted = colorize(generator, sketch, labels, seed=3, n_samples=3)
        standard = colorize(generator, sketch, labels, seed=3, n_samples=3, prior="standard")
        w_pred = generator.encode(sketch, labels).w_pred  # (2, 4)
        noise = sample_w(6, 4, 3).view(2, 3, 4)
        torch.testing.assert_close(fitted[1, 2], generator(sketch[1:], labels[1:], w_pred[1:] + 0.5 * noise[1, 2:]).rgb[0])
        torch.testing.assert_close(standard[1, 2], generator(sketch[1:], labels[1:], noise[1, 2:]).rgb[0])
        rows = colorize(generator, sketch, labels, noise=noise[0])  # the same three draws for both sketches
        torch.testing.assert_close(rows[0], fitted[0])
    finally:
        generator.style_scale_tril = None
    torch.testing.assert_close(colorize(generator, sketch, labels, seed=3, n_samples=3), standard)  # no fitted prior
    with pytest.raises(ValueError, match="prior must be one of"):
        colorize(generator, sketch, labels, seed=3, prior="uniform")
    with pytest.raises(ValueError, match="at most one"):
        colorize(generator, sketch, labels, seed=3, noise=noise[0])


def test_checkpoint_carries_the_fitted_prior(tmp_path, generator):
    scale_tril = torch.eye(4) * 0.3
    save_generator_checkpoint(tmp_path / "fitted.pt", generator=generator, generator_config=CFG, config={}, step=1,
                              style_scale_tril=scale_tril)
    loaded, _ = load_generator(tmp_path / "fitted.pt")
    torch.testing.assert_close(loaded.style_scale_tril, scale_tril)
    assert "style_scale_tril" not in loaded.state_dict()  # beside the weights, not among them
    save_generator_checkpoint(tmp_path / "plain.pt", generator=generator, generator_config=CFG, config={}, step=1)
    assert load_generator(tmp_path / "plain.pt")[0].style_scale_tril is None
    save_generator_checkpoint(tmp_path / "bad.pt", generator=generator, generator_config=CFG, config={}, step=1,
                              style_scale_tril=torch.eye(3))
    with pytest.raises(CheckpointError, match=r"bad.pt: stored style prior is not a \(4, 4\) float tensor"):
        load_generator(tmp_path / "bad.pt")


def test_a_degenerate_covariance_is_refused_and_training_ends_without_a_prior(generator, pairs, monkeypatch, caplog):
    """Posterior variances of 0 and identical residuals give a singular Σ: the fit says so, and the end of a
    training writes its model without a prior (random styles then from N(0, 1)) instead of failing."""
    import logging

    import rasc.training.loop as loop
    from rasc.training.data import TrainData

    sketches, regions, colors = pairs
    same = (np.repeat(sketches[:1], 6, 0), np.repeat(regions[:1], 6, 0), np.repeat(colors[:1], 6, 0))
    monkeypatch.setattr(generator, "encode_style", lambda color: (torch.zeros(len(color), 4),
                                                                  torch.full((len(color), 4), -float("inf"))))
    with pytest.raises(ValueError, match="not positive definite"):
        fit_style_prior(generator, *same)
    with caplog.at_level(logging.WARNING, logger=loop.log.name):
        assert loop._fitted_style_prior(generator, TrainData(sketch=same[0], color=same[2], regions=same[1])) is None
    assert "no style prior fitted" in caplog.text


@pytest.mark.parametrize("stored, message", [
    (torch.full((4, 4), float("nan")), "not a Cholesky factor"),
    (torch.eye(4) + torch.triu(torch.ones(4, 4), 1), "not a Cholesky factor"),  # upper triangle set
    (-torch.eye(4), "not a Cholesky factor"),
    (torch.eye(4, dtype=torch.int64), "float tensor"),
])
def test_a_malformed_stored_prior_is_refused(tmp_path, generator, stored, message):
    save_generator_checkpoint(tmp_path / "g.pt", generator=generator, generator_config=CFG, config={}, step=1,
                              style_scale_tril=stored)
    with pytest.raises(CheckpointError, match=message):
        load_generator(tmp_path / "g.pt")


def test_the_prior_in_use_names_the_fallbacks(generator):
    from rasc.models import UNetGenerator
    from rasc.models.inference import prior_in_use

    assert prior_in_use(generator, "fitted") == "standard"  # asked for, but the model carries none
    try:
        generator.style_scale_tril = torch.eye(4)
        assert prior_in_use(generator, "fitted") == "fitted" and prior_in_use(generator, "standard") == "standard"
    finally:
        generator.style_scale_tril = None
    unet = UNetGenerator(GeneratorConfig(**{**CFG.__dict__, "architecture": "unet", "latent": "none", "variant": "no_region_maps"}))
    assert prior_in_use(unet, "fitted") is None  # no latent: no prior to name
