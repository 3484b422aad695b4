"""Generator (every variant), discriminator and the inference API, on tiny models (32², base 8 channels)."""

import itertools

import numpy as np
import pytest
import torch

from rasc.models import (Discriminator, DiscriminatorConfig, Generator, GeneratorConfig, PatchDiscriminator,
                         UNetGenerator, build_discriminator, build_generator)
from rasc.models.generator import (PALETTE_SLOTS, apply_gate, ink_mask, region_input_channels,
                                   skeleton_input_channel)
from rasc.models.inference import (color_to_tensor, colorize, interpolate_w, labels_to_tensor, rgb_to_uint8,
                                   sketch_to_tensor)

SIZE, W_DIM = 32, 8
COMBINATIONS = list(itertools.product(["full", "no_region_maps", "no_region_formulation", "skeleton_input"],
                                      ["plain", "skip"],
                                      ["posterior", "sketch"]))


def tiny_config(**overrides) -> GeneratorConfig:
    fields = dict(image_size=SIZE, base_channels=8, max_channels=32, num_blocks=3, w_dim=W_DIM)
    return GeneratorConfig(**{**fields, **overrides})


def tiny_batch(batch=2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    sketch = torch.rand(batch, 1, SIZE, SIZE, generator=gen) * 2 - 1
    color = torch.rand(batch, 3, SIZE, SIZE, generator=gen) * 2 - 1
    blocks = torch.arange(SIZE) // 6  # 6-pixel stripes: 36 rectangular regions, some vanish at coarse scales
    regions = (blocks[:, None] * 6 + blocks[None, :]).expand(batch, -1, -1).clone()
    regions[1:] = regions[1:].flip(-1)
    return sketch, color, regions


@pytest.mark.parametrize("variant, correlation, latent", COMBINATIONS)
def test_shapes_and_a_gradient_reaches_every_parameter(variant, correlation, latent):
    torch.manual_seed(0)
    generator = Generator(tiny_config(variant=variant, correlation=correlation, latent=latent))
    sketch, color, regions = tiny_batch()
    w = None
    if latent == "posterior":
        mu, logvar = generator.encode_style(color)
        assert mu.shape == logvar.shape == (2, W_DIM)
        w = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
    out = generator(sketch, regions, w)
    assert out.rgb.shape == (2, 3, SIZE, SIZE)
    assert out.w_pred.shape == (2, W_DIM)
    assert out.rgb.abs().max() <= 1
    (out.rgb.square().mean() + out.w_pred.square().mean()).backward()
    for name, param in generator.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    expected_modules = generator.cfg.num_blocks if variant == "full" else 0
    assert len(generator.region_formulation_modules()) == expected_modules


def test_two_latents_give_two_colourings():
    torch.manual_seed(1)
    generator = Generator(tiny_config())
    sketch, _, regions = tiny_batch(batch=1)
    first = generator(sketch, regions, torch.randn(1, W_DIM)).rgb
    second = generator(sketch, regions, torch.randn(1, W_DIM)).rgb
    assert (first - second).abs().mean() > 1e-3


def test_predicted_latent_is_used_when_w_is_none():
    torch.manual_seed(2)
    generator = Generator(tiny_config())
    sketch, _, regions = tiny_batch()
    out = generator(sketch, regions)
    torch.testing.assert_close(generator(sketch, regions, out.w_pred).rgb, out.rgb)


def test_images_of_a_batch_are_independent():
    torch.manual_seed(3)
    generator = Generator(tiny_config(correlation="skip"))
    sketch, _, regions = tiny_batch()
    w = torch.randn(2, W_DIM)
    out = generator(sketch, regions, w).rgb
    sketch2, regions2 = sketch.clone(), regions.clone()
    sketch2[1] = -sketch2[1]
    regions2[1] = torch.randint(0, 200, (SIZE, SIZE))
    out2 = generator(sketch2, regions2, w).rgb
    torch.testing.assert_close(out2[0], out[0], atol=1e-6, rtol=1e-6)
    assert (out2[1] - out[1]).abs().max() > 1e-3


@pytest.mark.parametrize("variant, uses_regions", [("full", True), ("no_region_formulation", True),
                                                   ("skeleton_input", True), ("no_region_maps", False)])
def test_region_maps_matter_only_where_they_should(variant, uses_regions):
    torch.manual_seed(4)
    generator = Generator(tiny_config(variant=variant, latent="sketch"))
    sketch, _, regions = tiny_batch()
    other = torch.flip(regions, dims=[1]) * 3 + 1
    changed = (generator(sketch, regions).rgb - generator(sketch, other).rgb).abs().max()
    assert (changed > 1e-4) == uses_regions
    if not uses_regions:
        torch.testing.assert_close(generator(sketch, None).rgb, generator(sketch, regions).rgb)


def test_ink_mask_per_level():
    sketch = torch.ones(1, 1, 4, 4)  # paper
    sketch[0, 0, :, 0] = -1.0  # a 1-px stroke
    sketch[0, 0, 2:, 2:] = -0.5  # a 2×2 blob of dark grey (< 0: ink)
    assert ink_mask(sketch, 1)[0].tolist() == [[True, False, False, False], [True, False, False, False],
                                               [True, False, True, True], [True, False, True, True]]
    assert ink_mask(sketch, 2)[0].tolist() == [[False, False], [False, True]]  # half ink is not "most"


def test_ink_out_of_the_max_changes_the_output_only_where_there_is_ink():
    torch.manual_seed(5)
    ink_in = Generator(tiny_config(latent="sketch"))
    ink_out = Generator(tiny_config(latent="sketch", ink_in_region_max=False))
    ink_out.load_state_dict(ink_in.state_dict())
    sketch, _, regions = tiny_batch()  # uniform noise in [-1, 1]: about half the pixels are ink
    assert (ink_in(sketch, regions).rgb - ink_out(sketch, regions).rgb).abs().max() > 1e-4
    paper = sketch.abs() * 0.5 + 0.5  # the same drawing without any ink (all values >= 0.5)
    torch.testing.assert_close(ink_in(paper, regions).rgb, ink_out(paper, regions).rgb)


def test_gates_are_bounded():
    huge = torch.randn(10_000) * 1e4
    assert apply_gate(huge, "one_plus_tanh").min() >= 0 and apply_gate(huge, "one_plus_tanh").max() <= 2
    assert apply_gate(huge, "sigmoid").min() >= 0 and apply_gate(huge, "sigmoid").max() <= 1
    assert apply_gate(torch.zeros(3), "one_plus_tanh").eq(1).all()


@pytest.mark.parametrize("gate, low, high", [("one_plus_tanh", 0.0, 2.0), ("sigmoid", 0.0, 1.0)])
def test_region_factor_stays_bounded_with_exploding_region_features(gate, low, high):
    torch.manual_seed(5)
    generator = Generator(tiny_config(gate=gate))
    factors = []
    for block in generator.blocks:
        with torch.no_grad():
            block.region_formulation.value.weight.mul_(1e4)  # pre-gate activations in the thousands
        block.region_formulation.register_forward_hook(lambda m, i, out: factors.append(out))  # the gated X^f
    sketch, _, regions = tiny_batch()
    rgb = generator(sketch, regions).rgb
    assert torch.isfinite(rgb).all()
    assert len(factors) == generator.cfg.num_blocks
    assert all(f.min() >= low and f.max() <= high for f in factors)
    assert max(f.max() for f in factors) > 0.99 * high  # the hook did see huge activations


def test_region_input_channels():
    labels = torch.tensor([[[0, 0, 1], [0, 0, 1], [2, 2, 2]]])
    channels = region_input_channels(labels)
    assert channels.shape == (1, 2, 3, 3)
    assert channels[0, 0].tolist() == [[-1, 1, -1], [1, 1, 1], [-1, -1, -1]]
    hashed = channels[0, 1]
    assert hashed[0, 0] == hashed[1, 1] and len({hashed[0, 0].item(), hashed[0, 2].item(), hashed[2, 2].item()}) == 3
    assert hashed.abs().max() <= 1


def test_skeleton_input_channel_is_the_skeleton_field_of_each_map():
    labels = torch.zeros(2, 12, 12, dtype=torch.long)
    labels[0, :, 6:] = 1  # two 6-pixel strips: boundary at columns 5-6, skeletons in the middle of each strip
    labels[1] = labels[0] * 2 + 5  # the same partition with other label values: the same field
    channel = skeleton_input_channel(labels)  # (2, 1, 12, 12) in [-1, 1]
    assert channel.shape == (2, 1, 12, 12) and channel.min() >= -1 and channel.max() <= 1
    assert channel[0, 0, 6, 5] == -1 and channel[0, 0, 6, 6] == -1  # on the boundary between the strips
    assert channel[0, 0, 6].max() == 1  # a skeleton pixel in the row
    torch.testing.assert_close(channel[1], channel[0])
    assert not torch.equal(channel[0], skeleton_input_channel(torch.zeros(1, 12, 12, dtype=torch.long))[0])


@pytest.mark.parametrize("overrides, message", [
    (dict(variant="no_regions"), "variant"), (dict(correlation="cross"), "correlation"),
    (dict(latent="z"), "latent"), (dict(gate="relu"), "gate"), (dict(image_size=36), "divisible"),
    (dict(w_dim=0), "w_dim"), (dict(encoder_norm_groups=-1), "encoder_norm_groups"), (dict(to_rgb="adain"), "to_rgb"),
    (dict(style_thumbnail=-1), "style_thumbnail"),
])
def test_bad_config_raises(overrides, message):
    with pytest.raises(ValueError, match=message):
        tiny_config(**overrides)


def generator_with_gradients(seed: int, **overrides) -> tuple[Generator, torch.Tensor]:
    """A tiny generator after one backward pass through the posterior-w colouring, which must reach every parameter
    (its output layer's own included), and that w (B, w_dim)."""
    torch.manual_seed(seed)
    generator = Generator(tiny_config(**overrides))
    sketch, color, regions = tiny_batch()
    w = generator.encode_style(color)[0]
    out = generator(sketch, regions, w)
    (out.rgb.square().mean() + out.w_pred.square().mean()).backward()
    for name, param in generator.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    return generator, w


def test_modulated_to_rgb_scales_each_feature_by_w_without_demodulation():
    generator, w = generator_with_gradients(6, to_rgb="modulated")
    to_rgb = generator.to_rgb
    features = torch.randn(2, to_rgb.conv.weight.shape[1], 4, 4)  # (B, I, h, w)
    style = generator.mapping(w)  # (B, w_dim)
    for i in range(2):  # per image: the 1×1 weights times that image's styles, no renormalisation, plus the bias
        weight = to_rgb.conv.weight * to_rgb.conv.scale * to_rgb.conv.affine(style[i:i + 1])[0][None, :, None, None]
        expected = torch.nn.functional.conv2d(features[i:i + 1], weight) + to_rgb.bias[None, :, None, None]
        torch.testing.assert_close(to_rgb(features, style)[i:i + 1], expected)
    assert "to_rgb.weight" in Generator(tiny_config()).state_dict()  # the default keeps the checkpoints' layout


@pytest.mark.parametrize("slots", [PALETTE_SLOTS, 5])
def test_palette_to_rgb_paints_each_pixel_a_mixture_of_colours_set_by_w_alone(slots):
    generator, w = generator_with_gradients(8, to_rgb="palette", palette_slots=slots)
    to_rgb = generator.to_rgb
    style = generator.mapping(w)  # (B, w_dim)
    colors = to_rgb.slot_colors(style).view(2, slots, 3)  # (B, K, 3) before the output's tanh
    features = torch.randn(2, to_rgb.slot_logits.weight.shape[1], 4, 4)  # (B, I, h, w)
    with torch.no_grad():
        mixed = to_rgb(features, style)  # (B, 3, h, w)
        low, high = colors.min(dim=1).values, colors.max(dim=1).values  # (B, 3): a mixture stays within its palette
        assert (mixed >= low[:, :, None, None] - 1e-5).all() and (mixed <= high[:, :, None, None] + 1e-5).all()
        to_rgb.slot_logits.bias.copy_(torch.arange(slots) * 1e4)  # the last slot wins every pixel
        torch.testing.assert_close(to_rgb(features, style), colors[:, -1, :, None, None].expand(-1, -1, 4, 4))
        other_w = generator.mapping(torch.randn_like(w))
        assert not torch.allclose(to_rgb(features, other_w), to_rgb(features, style))  # w sets the colours


def test_style_thumbnail_hands_the_block_means_of_the_colours_to_the_posterior():
    torch.manual_seed(7)
    encoder = Generator(tiny_config(style_thumbnail=2, encoder_norm_groups=4)).style_encoder
    _, colour, _ = tiny_batch()  # (2, 3, 32, 32)
    with torch.no_grad():
        encoder.head.weight[:, :-12] = 0  # silence the convolutional features: only the 2×2 block means remain
    detail = torch.randn_like(colour)
    detail -= torch.nn.functional.interpolate(torch.nn.functional.adaptive_avg_pool2d(detail, 2), scale_factor=16)
    torch.testing.assert_close(encoder(colour)[0], encoder(colour + 0.1 * detail)[0])  # same block means, same w
    shifted = colour.clone()
    shifted[:, :, :16, :16] += 0.2  # one block's mean colour changes
    assert (encoder(shifted)[0] - encoder(colour)[0]).abs().max() > 1e-3
    (encoder(colour)[0].sum()).backward()
    assert encoder.head.weight.grad[:, -12:].abs().sum() > 0


def test_encoder_group_norm_normalises_each_encoder_level_and_images_stay_independent():
    torch.manual_seed(5)
    plain, normed = Generator(tiny_config()), Generator(tiny_config(encoder_norm_groups=4))
    assert not any(isinstance(m, torch.nn.GroupNorm) for m in plain.modules())
    norms = [m for m in normed.modules() if isinstance(m, torch.nn.GroupNorm)]
    assert len(norms) == 2 * (1 + 2 * normed.cfg.num_blocks)  # stem + two convolutions per block, both encoders
    sketch, color, regions = tiny_batch()
    sketch = torch.cat([sketch[:1], sketch[1:] * 10])  # a much stronger second sketch
    features = normed.encode(sketch, regions).features
    for level in features:  # every level leaves GroupNorm with zero mean and unit variance per image and group
        grouped = level.reshape(level.shape[0], min(4, level.shape[1]), -1)  # (B, groups, C/groups·h·w)
        torch.testing.assert_close(grouped.mean(-1), torch.zeros(grouped.shape[:2]), atol=1e-5, rtol=0)
        torch.testing.assert_close(grouped.var(-1, unbiased=False), torch.ones(grouped.shape[:2]), atol=1e-2, rtol=0)
    w = torch.randn(2, W_DIM)
    out = normed(sketch, regions, w).rgb
    changed = sketch.clone()
    changed[1] = -changed[1]
    torch.testing.assert_close(normed(changed, regions, w).rgb[0], out[0])  # GroupNorm never mixes images


def test_one_encoding_serves_every_style():
    """decode(encode(...), w) is forward for the predicted and for given w, and a repeated encoding repeats rows."""
    torch.manual_seed(11)
    generator = Generator(tiny_config())
    sketch, _, regions = tiny_batch()
    encoding = generator.encode(sketch, regions)
    assert all(factor is not None for factor in encoding.region_factors)
    for w in (None, torch.randn(2, W_DIM), torch.randn(2, W_DIM)):
        torch.testing.assert_close(generator.decode(encoding, w), generator(sketch, regions, w).rgb)
    torch.testing.assert_close(encoding.w_pred, generator(sketch, regions).w_pred)
    repeated = encoding.repeat_interleave(3)
    assert repeated.w_pred.shape == (6, W_DIM) and repeated.features[0].shape[0] == 6
    torch.testing.assert_close(repeated.region_factors[-1][3:6], encoding.region_factors[-1][1:2].expand(3, -1, -1, -1))


def test_a_shared_encoding_gives_the_gradients_of_two_separate_passes():
    """The training step colours a batch with two styles from one encoding: its gradients are those of two full
    passes (in float64, so that only the algorithm is compared, not summation order)."""
    torch.manual_seed(12)
    generator = Generator(tiny_config()).double()
    sketch, color, regions = (t.double() if t.is_floating_point() else t for t in tiny_batch())
    w = torch.randn(2, W_DIM, dtype=torch.float64)

    def gradients(loss):
        generator.zero_grad()
        loss.backward()
        return {name: param.grad.clone() for name, param in generator.named_parameters() if param.grad is not None}

    encoding = generator.encode(sketch, regions)
    shared = gradients((generator.decode(encoding, w) - color).abs().mean()
                       + (generator.decode(encoding) - color).abs().mean())
    separate = gradients((generator(sketch, regions, w).rgb - color).abs().mean()
                         + (generator(sketch, regions).rgb - color).abs().mean())
    assert shared.keys() == separate.keys() and len(shared) > 0
    for name in shared:
        torch.testing.assert_close(shared[name], separate[name], atol=1e-10, rtol=1e-9, msg=name)


def test_bad_inputs_raise():
    generator = Generator(tiny_config())
    sketch, _, regions = tiny_batch()
    with pytest.raises(ValueError, match="sketch"):
        generator(sketch[:, 0], regions)
    with pytest.raises(ValueError, match="divisible"):
        generator(sketch[..., :28, :28], regions[..., :28, :28])
    with pytest.raises(ValueError, match="region map"):
        generator(sketch, None)
    with pytest.raises(ValueError, match="integer"):
        generator(sketch, regions.float())
    with pytest.raises(ValueError, match="w must be"):
        generator(sketch, regions, torch.randn(2, W_DIM + 1))
    with pytest.raises(ValueError, match="posterior"):
        Generator(tiny_config(latent="sketch")).encode_style(torch.zeros(1, 3, SIZE, SIZE))


def unet_config(**overrides) -> GeneratorConfig:
    return tiny_config(architecture="unet", latent="none", variant="no_region_maps", **overrides)


def test_unet_baseline_shapes_gradients_and_no_latent():
    torch.manual_seed(6)
    generator = build_generator(unet_config())
    assert isinstance(generator, UNetGenerator) and isinstance(build_generator(tiny_config()), Generator)
    sketch, color, regions = tiny_batch(batch=4)
    out = generator(sketch, regions)
    assert out.rgb.shape == (4, 3, SIZE, SIZE) and out.w_pred.shape == (4, W_DIM) and not out.w_pred.any()
    (out.rgb - color).abs().mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in generator.parameters())
    generator.eval()  # dropout off: w and regions change nothing, the colouring is deterministic
    with torch.no_grad():
        first = generator(sketch, None).rgb
        torch.testing.assert_close(generator(sketch, regions, torch.randn(4, W_DIM)).rgb, first)
        assert (generator(-sketch).rgb - first).abs().max() > 1e-4  # but the sketch matters
    assert generator.region_formulation_modules() == []
    with pytest.raises(ValueError, match="no latent"):
        generator.encode_style(color)


def test_unet_down_to_one_pixel_has_dropout_at_pix2pix_resolutions_only():
    """With num_blocks = log2(size), as the shipped configs' pix2pix, the bottleneck is 1×1 and dropout sits in the
    three innermost decoder blocks only (outputs 2², 4², 8², as in pix2pix's U-Net), not at the finer ones."""
    depth = SIZE.bit_length() - 1  # log2(SIZE)
    generator = build_generator(unet_config(num_blocks=depth)).train()
    decoded = []  # (output side, has dropout) of each decoder block, innermost first
    for block in generator.up:
        has_dropout = any(isinstance(layer, torch.nn.Dropout) for layer in block)
        block.register_forward_hook(lambda _, __, out, d=has_dropout: decoded.append((out.shape[-1], d)))
    bottleneck = []
    generator.down[-1].register_forward_hook(lambda _, __, out: bottleneck.append(out.shape[-2:]))
    generator(tiny_batch()[0])
    assert bottleneck == [(1, 1)]
    assert [side for side, dropout in decoded if dropout] == [2, 4, 8]
    assert all(side > 8 for side, dropout in decoded if not dropout)


@pytest.mark.parametrize("overrides, message", [
    (dict(architecture="unet"), "latent 'none'"), (dict(latent="none"), "latent 'none'"),
    (dict(architecture="unet", latent="none", variant="full"), "no_region_maps"),
])
def test_unet_config_combinations_are_checked(overrides, message):
    with pytest.raises(ValueError, match=message):
        tiny_config(**overrides)


def test_conditional_discriminator_needs_the_sketch():
    torch.manual_seed(7)
    sketch, color, _ = tiny_batch()
    conditional = Discriminator(DiscriminatorConfig(image_size=SIZE, base_channels=8, max_channels=32, conditional=True))
    assert conditional(color, sketch).shape == (2,)
    assert (conditional(color, sketch) - conditional(color, -sketch)).abs().max() > 0
    with pytest.raises(ValueError, match="needs the sketch"):
        conditional(color)
    with pytest.raises(ValueError, match="takes no sketch"):
        Discriminator(DiscriminatorConfig(image_size=SIZE, base_channels=8, max_channels=32))(color, sketch)


def test_generator_runs_at_other_sizes():
    generator = Generator(tiny_config())
    out = generator(torch.zeros(1, 1, 16, 24), torch.zeros(1, 16, 24, dtype=torch.long))
    assert out.rgb.shape == (1, 3, 16, 24)


@pytest.mark.parametrize("image_size", [32, 48])
def test_discriminator_gives_one_logit_per_image(image_size):
    torch.manual_seed(6)
    discriminator = Discriminator(DiscriminatorConfig(image_size=image_size, base_channels=8, max_channels=32))
    color = torch.randn(3, 3, image_size, image_size, requires_grad=True)
    logits = discriminator(color)
    assert logits.shape == (3,)
    logits.sum().backward()
    assert color.grad.abs().sum() > 0
    for name, param in discriminator.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    with pytest.raises(ValueError, match="discriminator input"):
        discriminator(torch.randn(3, 3, image_size // 2, image_size // 2))


@pytest.mark.parametrize("layers, patch", [(1, 16), (2, 34), (3, 70)])
def test_patch_discriminator_judges_patches_of_pix2pix_size(layers, patch):
    """One logit of the PatchGAN depends on a patch × patch window of the input, and on nothing outside it."""
    size = 160
    cfg = DiscriminatorConfig(image_size=size, base_channels=4, max_channels=32, architecture="patchgan",
                              patch_layers=layers)
    torch.manual_seed(3)
    discriminator = build_discriminator(cfg).eval()  # BatchNorm's running statistics: no coupling across the batch
    assert isinstance(discriminator, PatchDiscriminator)
    color = torch.randn(1, 3, size, size, requires_grad=True)
    logits = discriminator(color)  # (1, P)
    side = size // 2**layers - 2
    assert logits.shape == (1, side * side)
    logits[0, (side // 2) * side + side // 2].backward()  # a logit in the middle: its window lies inside the image
    rows, cols = torch.nonzero(color.grad.abs().sum(dim=(0, 1)), as_tuple=True)
    assert int(rows.max() - rows.min()) + 1 == patch
    assert int(cols.max() - cols.min()) + 1 == patch


def test_patch_discriminator_trains_conditional_and_checks_its_size():
    torch.manual_seed(7)
    sketch, color, _ = tiny_batch()
    cfg = DiscriminatorConfig(image_size=SIZE, base_channels=4, max_channels=32, conditional=True,
                              architecture="patchgan", patch_layers=2)
    discriminator = build_discriminator(cfg)
    logits = discriminator(color, sketch)  # (2, P): 32 / 4 − 2 = 6 patches a side
    assert logits.shape == (2, 36)
    assert (logits - discriminator(color, -sketch)).abs().max() > 0
    logits.sum().backward()
    for name, param in discriminator.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    with pytest.raises(ValueError, match="needs the sketch"):
        discriminator(color)
    with pytest.raises(ValueError, match="at least 24"):
        DiscriminatorConfig(image_size=16, architecture="patchgan", patch_layers=3)
    with pytest.raises(ValueError, match="architecture"):
        DiscriminatorConfig(image_size=SIZE, architecture="patch")
    assert isinstance(build_discriminator(DiscriminatorConfig(image_size=SIZE)), Discriminator)


def test_colorize_modes():
    torch.manual_seed(7)
    generator = Generator(tiny_config())
    sketch, color, regions = tiny_batch()
    predicted = colorize(generator, sketch, regions)
    assert predicted.shape == (2, 1, 3, SIZE, SIZE)
    torch.testing.assert_close(predicted[:, 0], generator(sketch, regions).rgb)
    samples = colorize(generator, sketch, regions, seed=3, n_samples=4)
    assert samples.shape == (2, 4, 3, SIZE, SIZE)
    torch.testing.assert_close(colorize(generator, sketch, regions, seed=3, n_samples=4), samples)
    assert (samples[:, 0] - samples[:, 1]).abs().mean() > 1e-3
    assert (colorize(generator, sketch, regions, seed=4, n_samples=4) - samples).abs().mean() > 1e-3
    w = torch.randn(W_DIM)
    torch.testing.assert_close(colorize(generator, sketch, regions, w=w)[:, 0],
                               generator(sketch, regions, w.expand(2, -1)).rgb)
    mu, _ = generator.encode_style(color[:1])
    torch.testing.assert_close(colorize(generator, sketch, regions, reference=color[:1])[:, 0],
                               generator(sketch, regions, mu.expand(2, -1)).rgb)
    with pytest.raises(ValueError, match="at most one"):
        colorize(generator, sketch, regions, w=w, seed=1)
    with pytest.raises(ValueError, match="needs a seed"):
        colorize(generator, sketch, regions, n_samples=2)


def test_interpolate_w():
    w0, w1 = torch.zeros(W_DIM), torch.ones(W_DIM)
    path = interpolate_w(w0, w1, 5)
    assert path.shape == (5, W_DIM)
    torch.testing.assert_close(path[0], w0)
    torch.testing.assert_close(path[-1], w1)
    torch.testing.assert_close(path[2], torch.full((W_DIM,), 0.5))
    with pytest.raises(ValueError, match="steps"):
        interpolate_w(w0, w1, 1)


def test_array_conversions_round_trip():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    assert np.array_equal(rgb_to_uint8(color_to_tensor(image)), image)
    sketch = rng.integers(0, 256, (8, 8), dtype=np.uint8)
    tensor = sketch_to_tensor(sketch)
    assert tensor.shape == (1, 1, 8, 8) and tensor.min() >= -1 and tensor.max() <= 1
    assert labels_to_tensor(np.zeros((8, 8), np.uint16)).dtype == torch.int64
    with pytest.raises(ValueError, match="uint8"):
        sketch_to_tensor(sketch.astype(np.float32))


@pytest.mark.parametrize("around_prediction", [False, True])
def test_sample_grid_draws_its_fixed_codes_from_the_prior_the_kl_term_trained_against(around_prediction):
    from rasc.training.sample_grid import render_sample_grid

    torch.manual_seed(9)
    generator = Generator(tiny_config()).eval()
    sketch, color, regions = tiny_batch()
    noise = torch.randn(2, 2, generator.cfg.w_dim)  # (B, columns, w_dim)
    grid = {"sketch": sketch, "color": color, "regions": regions, "w": noise}
    image = render_sample_grid(generator, grid, around_prediction=around_prediction)  # (B·H, 5·W, 3)
    with torch.no_grad():
        centre = generator(sketch, regions).w_pred if around_prediction else torch.zeros(2, generator.cfg.w_dim)
        expected = generator(sketch, regions, centre + noise[:, 1]).rgb  # (B, 3, H, W): the last code's column
    size = sketch.shape[-1]
    expected_tile = ((expected[0].permute(1, 2, 0) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()
    np.testing.assert_array_equal(image[:size, 3 * size:4 * size], expected_tile)


def test_region_context_widens_what_region_formulation_aggregates():
    """region_context L concatenates the L deeper encoder levels (those that exist), upsampled, to each level's
    Region Formulation input; 0 is the paper's eq. 2 on X^e alone. The deeper levels reach the region factor."""
    from rasc.models.generator import region_features

    cfg = tiny_config(region_context=2)
    channels = cfg.encoder_channels()  # [8, 8, 16, 32]
    assert [cfg.region_input_channels(level) for level in range(3)] == [8 + 8 + 16, 8 + 16 + 32, 16 + 32]
    assert [tiny_config().region_input_channels(level) for level in range(3)] == channels[:3]
    generator = Generator(cfg)
    sketch, _, regions = tiny_batch()
    features = generator.encode(sketch, regions).features
    stacked = region_features(features, 0, 2)  # (B, 32, SIZE, SIZE)
    assert stacked.shape == (2, 32, SIZE, SIZE)
    assert torch.equal(stacked[:, :8], features[0]) and region_features(features, 0, 0) is features[0]
    generator_with_gradients(3, region_context=2)  # every parameter gets a gradient
    # X^e_2 reaches the finest level's region factor through the context (and only through it)
    level_2 = features[2].detach().clone().requires_grad_(True)
    factor = generator.blocks[-1].region_factor(region_features([*features[:2], level_2, *features[3:]], 0, 2),
                                                regions)  # (B, 2·8, SIZE, SIZE)
    factor.square().sum().backward()
    assert level_2.grad.abs().sum() > 0
