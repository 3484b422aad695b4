"""Losses (signs, values, gradients) and the VGG-19 perceptual extractor (fallback and local weights)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

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
from rasc.training.perceptual import (
    PerceptualConfig,
    build_vgg_features,
    random_vgg19_trunk,
)

# ----------------------------------------------------------------------------------------------- adversarial


def test_d_loss_is_low_when_the_discriminator_is_right():
    confident = d_logistic_loss(torch.full((4,), 5.0), torch.full((4,), -5.0))
    fooled = d_logistic_loss(torch.full((4,), -5.0), torch.full((4,), 5.0))
    assert confident < 0.02 < 9.0 < fooled
    assert d_logistic_loss(torch.zeros(4), torch.zeros(4)).item() == pytest.approx(2 * math.log(2))


def test_d_loss_gradients_push_real_up_and_fake_down():
    real = torch.zeros(3, requires_grad=True)
    fake = torch.zeros(3, requires_grad=True)
    d_logistic_loss(real, fake).backward()
    assert (real.grad < 0).all() and (fake.grad > 0).all()


def test_g_nonsaturating_loss_value_and_gradient():
    fake = torch.tensor([-3.0, 0.0, 3.0], requires_grad=True)
    loss = g_nonsaturating_loss(fake)
    expected = torch.nn.functional.softplus(-fake.detach()).mean()
    assert loss.item() == pytest.approx(expected.item())
    loss.backward()
    assert (fake.grad < 0).all()  # the generator wants D(fake) higher
    # non-saturating: a confidently rejected fake still gets a strong gradient
    assert abs(fake.grad[0]) > 0.9 / 3


def test_adversarial_losses_reject_logits_neither_per_image_nor_per_patch():
    with pytest.raises(ValueError, match="shape"):
        d_logistic_loss(torch.zeros(4, 1, 3, 3), torch.zeros(4))  # a PatchGAN map not flattened
    with pytest.raises(ValueError, match="shape"):
        g_nonsaturating_loss(torch.zeros(()))
    with pytest.raises(ValueError, match="patches"):
        d_logistic_loss(torch.zeros(4, 9), torch.zeros(4, 4))


def test_adversarial_losses_average_over_patches():
    """pix2pix's PatchGAN loss: every patch's logit is a real/fake decision, averaged with the others."""
    real, fake = torch.randn(2, 9), torch.randn(3, 9)  # (B, P)
    expected = F.softplus(-real).mean() + F.softplus(fake).mean()
    assert d_logistic_loss(real, fake).item() == pytest.approx(expected.item())
    assert g_nonsaturating_loss(fake).item() == pytest.approx(F.softplus(-fake).mean().item())


# ------------------------------------------------------------------------------------------------------ R1


def test_r1_is_zero_for_a_constant_discriminator():
    images = torch.randn(2, 3, 8, 8, requires_grad=True)
    logits = (images * 0).flatten(1).sum(1) + 1.5  # D ignores its input
    assert d_r1_penalty(images, logits).item() == 0.0


def test_r1_equals_the_squared_gradient_norm_of_a_linear_discriminator():
    weight = torch.randn(3, 8, 8)
    images = torch.randn(4, 3, 8, 8, requires_grad=True)
    logits = (images * weight).flatten(1).sum(1)
    penalty = d_r1_penalty(images, logits)
    assert penalty.item() == pytest.approx(weight.pow(2).sum().item(), rel=1e-5)
    # differentiable w.r.t. D's parameters (create_graph), as lazy R1 needs
    weight_param = weight.clone().requires_grad_(True)
    logits = (images * weight_param).flatten(1).sum(1)
    d_r1_penalty(images, logits).backward()
    assert torch.allclose(weight_param.grad, 2 * weight_param.detach(), rtol=1e-5)


def test_r1_of_patch_logits_is_that_of_their_mean_per_image():
    """A PatchGAN whose P patches all judge alike is penalised as a one-logit discriminator, not P² times as hard."""
    weight = torch.randn(3, 8, 8)
    images = torch.randn(4, 3, 8, 8, requires_grad=True)
    per_image = (images * weight).flatten(1).sum(1)  # (B,)
    per_patch = per_image[:, None].expand(4, 36)  # (B, P): 36 identical patches
    assert d_r1_penalty(images, per_patch).item() == pytest.approx(weight.pow(2).sum().item(), rel=1e-5)
    halves = torch.stack([(images * weight)[..., :4].flatten(1).sum(1), (images * weight)[..., 4:].flatten(1).sum(1)],
                         dim=1)  # (B, 2): two patches, each sees half the image
    assert d_r1_penalty(images, halves).item() == pytest.approx(weight.pow(2).sum().item() / 4, rel=1e-5)


def test_r1_needs_images_that_require_grad():
    images = torch.randn(2, 3, 8, 8)
    with pytest.raises(ValueError, match="requires_grad"):
        d_r1_penalty(images, images.flatten(1).sum(1))


# ----------------------------------------------------------------------------------------- KL, w, perceptual


def test_kl_divergence_values():
    assert kl_divergence(torch.zeros(5, 4), torch.zeros(5, 4)).item() == pytest.approx(0.0)
    # mu = 1, var = 1: 0.5 per dimension, summed over 4 dimensions
    assert kl_divergence(torch.ones(5, 4), torch.zeros(5, 4)).item() == pytest.approx(2.0)
    # var = e: 0.5 (e - 1 - 1) per dimension
    assert kl_divergence(torch.zeros(1, 1), torch.ones(1, 1)).item() == pytest.approx(0.5 * (math.e - 2))
    with pytest.raises(ValueError, match="mu and logvar"):
        kl_divergence(torch.zeros(2, 3), torch.zeros(2, 4))


def test_kl_to_the_sketch_prior_charges_only_the_offset_from_it_and_leaves_the_prior_untrained():
    mu, logvar = torch.full((5, 4), 3.0, requires_grad=True), torch.zeros(5, 4)
    prior_mean = torch.full((5, 4), 2.0, requires_grad=True)
    kl = kl_divergence(mu, logvar, prior_mean)
    assert kl.item() == pytest.approx(2.0)  # offset 1 in each of 4 dimensions, as mu = 1 against N(0, 1)
    assert kl_divergence(mu, logvar, mu.detach().clone()).item() == pytest.approx(0.0)
    kl.backward()
    # the sketch MLP learns from its own regression term, not from the KL
    assert mu.grad is not None and prior_mean.grad is None
    with pytest.raises(ValueError, match="prior_mean"):
        kl_divergence(mu, logvar, torch.zeros(5, 3))


def test_latent_regression_does_not_move_its_target():
    predicted = torch.zeros(2, 3, requires_grad=True)
    target = torch.ones(2, 3, requires_grad=True)
    loss = latent_regression_l1(predicted, target)
    loss.backward()
    assert loss.item() == pytest.approx(1.0)
    assert target.grad is None and predicted.grad is not None


def test_perceptual_l1_sums_per_layer_means():
    fake = [torch.zeros(2, 4, 8, 8), torch.zeros(2, 8, 4, 4)]
    real = [torch.full((2, 4, 8, 8), 0.5), torch.full((2, 8, 4, 4), -2.0)]
    assert perceptual_l1(fake, real).item() == pytest.approx(2.5)
    assert perceptual_l1(real, real).item() == 0.0
    with pytest.raises(ValueError, match="same non-zero number"):
        perceptual_l1(fake, real[:1])
    with pytest.raises(ValueError, match="shapes differ"):
        perceptual_l1(fake, [real[1], real[0]])


# ------------------------------------------------------------------------------------------ perceptual network


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    """A torch hub cache without any weights, so the test does not depend on what this machine has cached."""
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))


def test_fallback_is_random_seeded_frozen_and_loud(empty_hub):
    cfg = PerceptualConfig(layers=("relu1_1", "relu2_1"), download=False, random_seed=0)
    with pytest.warns(RuntimeWarning, match="RANDOMLY INITIALISED"):
        network, backbone = build_vgg_features(cfg)
    assert backbone == "vgg19-random-seed0"
    with pytest.warns(RuntimeWarning):
        again, _ = build_vgg_features(cfg)
    with pytest.warns(RuntimeWarning):
        other, other_backbone = build_vgg_features(PerceptualConfig(layers=("relu1_1",), download=False,
                                                                    random_seed=1))
    assert other_backbone == "vgg19-random-seed1"
    assert torch.equal(network.trunk[0].weight, again.trunk[0].weight)
    assert not torch.equal(network.trunk[0].weight, other.trunk[0].weight)
    assert not any(p.requires_grad for p in network.parameters())
    network.train()
    assert not network.training
    images = torch.rand(2, 3, 16, 16) * 2 - 1
    features = network(images)
    assert [tuple(f.shape) for f in features] == [(2, 64, 16, 16), (2, 128, 8, 8)]
    assert all(f.min() >= 0 for f in features)  # ReLU outputs
    assert len(network.trunk) == 7  # truncated after relu2_1


def test_failed_download_falls_back_with_the_reason(empty_hub, monkeypatch):
    import rasc.training.perceptual as perceptual

    def offline(allow_download):
        raise OSError("Name or service not known")

    monkeypatch.setattr(perceptual, "_torchvision_imagenet_vgg19_file", offline)
    with pytest.warns(RuntimeWarning, match="Name or service not known"):
        _, backbone = build_vgg_features(PerceptualConfig(layers=("relu1_1",), download=True))
    assert backbone == "vgg19-random-seed0"


def test_the_hub_cache_file_is_loaded_as_the_imagenet_trunk(empty_hub, monkeypatch):
    """A vgg19-dcbb9e9d.pth in the torch hub cache is used without a download, and only its trunk is built."""
    import rasc.training.perceptual as perceptual

    trunk = random_vgg19_trunk(seed=7)
    cached = Path(torch.hub.get_dir()) / "checkpoints" / "vgg19-dcbb9e9d.pth"
    cached.parent.mkdir(parents=True)
    torch.save({f"features.{key}": value for key, value in trunk.state_dict().items()}, cached)
    monkeypatch.setattr(torch.hub, "download_url_to_file", lambda *args, **kwargs: pytest.fail("downloaded"))
    network, backbone = build_vgg_features(PerceptualConfig(layers=("relu1_1",), download=True))
    assert backbone == "vgg19-imagenet"
    assert torch.equal(network.trunk[0].weight, trunk[0].weight)
    assert perceptual._torchvision_imagenet_vgg19_file(allow_download=False) == cached


@pytest.mark.parametrize("layout", ["torchvision", "trunk"])
def test_local_weights_file_is_loaded(tmp_path, layout):
    trunk = random_vgg19_trunk(seed=5)
    state = trunk.state_dict()
    if layout == "torchvision":  # the layout of torchvision's vgg19-dcbb9e9d.pth (classifier keys left out)
        state = {f"features.{key}": value for key, value in state.items()}
    path = tmp_path / "vgg19.pth"
    torch.save(state, path)
    network, backbone = build_vgg_features(PerceptualConfig(layers=("relu1_1", "relu3_1"), weights_path=str(path)))
    assert backbone.startswith("vgg19-file-")  # not the ImageNet file, so not called "vgg19-imagenet"
    loaded = network.trunk.state_dict()
    assert loaded.keys() <= trunk.state_dict().keys() and len(loaded) == 10  # 5 convs up to relu3_1
    for key, value in loaded.items():
        assert torch.equal(value, trunk.state_dict()[key]), key


def test_unusable_local_weights_raise(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        build_vgg_features(PerceptualConfig(weights_path=str(tmp_path / "missing.pth")))
    wrong = tmp_path / "wrong.pth"
    torch.save({"0.weight": torch.zeros(3)}, wrong)
    with pytest.raises(ValueError, match="not a VGG-19 state_dict"):
        build_vgg_features(PerceptualConfig(weights_path=str(wrong)))


def test_perceptual_config_rejects_bad_layers():
    with pytest.raises(ValueError, match="unknown VGG-19 layers"):
        PerceptualConfig(layers=("relu9_1",))
    with pytest.raises(ValueError, match="network order"):
        PerceptualConfig(layers=("relu2_1", "relu1_1"))


def test_region_balance_weights_make_every_region_count_the_same():
    regions = torch.zeros(2, 4, 4, dtype=torch.int64)
    regions[0, :, 3] = 7  # image 0: a 12-px region and a 4-px one
    regions[1, 0, 0] = 3  # image 1: a 15-px region and a 1-px one
    weights = region_balance_weights(regions, power=1.0)  # (B, 1, H, W)
    assert weights.shape == (2, 1, 4, 4)
    assert torch.allclose(weights.mean(dim=(1, 2, 3)), torch.ones(2))
    for image in range(2):
        per_region = [weights[image, 0][regions[image] == label].sum() for label in regions[image].unique()]
        assert torch.allclose(torch.stack(per_region), per_region[0].expand(len(per_region)))
    assert weights[1, 0, 0, 0] == pytest.approx(15 * weights[1, 0, 1, 1].item())


def test_region_balance_power_zero_is_plain_l1():
    regions = torch.randint(0, 5, (3, 8, 8))
    assert torch.equal(region_balance_weights(regions, power=0.0), torch.ones(3, 1, 8, 8))
    fake, real = torch.randn(3, 3, 8, 8), torch.randn(3, 3, 8, 8)
    plain = (fake - real).abs().mean().item()
    assert pixel_l1(fake, real, region_balance_weights(regions, 0.0)) == pytest.approx(plain)
    half = region_balance_weights(regions, power=0.5)
    assert torch.allclose(half.mean(dim=(1, 2, 3)), torch.ones(3))


def test_pixel_l1_weights_errors_in_small_regions_up():
    regions = torch.zeros(1, 4, 4, dtype=torch.int64)
    regions[0, 0, 0] = 1  # one 1-px region beside a 15-px one
    real = torch.zeros(1, 3, 4, 4)
    fake = torch.zeros(1, 3, 4, 4)
    fake[0, :, 0, 0] = 1.0  # wrong only in the small region
    plain = pixel_l1(fake, real)
    balanced = pixel_l1(fake, real, region_balance_weights(regions, 1.0))
    assert balanced == pytest.approx(8 * plain.item())  # that pixel weighs 16 / 2 instead of 1
    with pytest.raises(ValueError, match="shape"):
        pixel_l1(fake, real[:, :2])
    with pytest.raises(ValueError, match="labels"):
        region_balance_weights(regions[0], 1.0)
