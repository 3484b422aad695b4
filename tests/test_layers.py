"""Equalised layers and the StyleGAN2 modulated convolution."""

import pytest
import torch
import torch.nn.functional as F

from rasc.models.layers import (EqualConv2d, EqualLinear, ModulatedConv2d, StyledConv, avg_pool2x, modulated_conv2d,
                                modulated_conv2d_reference)


@pytest.mark.parametrize("demodulate", [True, False])
@pytest.mark.parametrize("kernel_size", [1, 3])
def test_fused_modulated_conv_matches_per_sample_reference(demodulate, kernel_size):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 5, 9, 7, generator=gen)
    weight = torch.randn(4, 5, kernel_size, kernel_size, generator=gen)
    styles = torch.rand(3, 5, generator=gen) + 0.5
    fused = modulated_conv2d(x, weight, styles, demodulate)
    reference = modulated_conv2d_reference(x, weight, styles, demodulate)
    assert fused.shape == (3, 4, 9, 7)
    torch.testing.assert_close(fused, reference, atol=1e-5, rtol=1e-5)


def test_each_sample_uses_its_own_style():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(1, 4, 6, 6, generator=gen).expand(2, -1, -1, -1)
    weight = torch.randn(3, 4, 3, 3, generator=gen)
    styles = torch.stack([torch.ones(4), torch.tensor([3.0, 0.1, 1.0, 2.0])])
    out = modulated_conv2d(x, weight, styles)
    assert (out[0] - out[1]).abs().max() > 1e-2


def test_demodulation_keeps_unit_scale():
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(4, 64, 16, 16, generator=gen)
    weight = torch.randn(32, 64, 3, 3, generator=gen)
    styles = torch.rand(4, 64, generator=gen) * 10  # large styles: demodulation must undo their scale
    std = modulated_conv2d(x, weight, styles).std()
    assert 0.8 < std < 1.2, std


def test_modulated_conv_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="do not agree"):
        modulated_conv2d(torch.randn(2, 4, 5, 5), torch.randn(3, 5, 3, 3), torch.ones(2, 4))
    with pytest.raises(ValueError, match="do not agree"):
        modulated_conv2d(torch.randn(2, 4, 5, 5), torch.randn(3, 4, 3, 3), torch.ones(3, 4))


def test_equalised_layers_keep_unit_scale_and_shapes():
    torch.manual_seed(3)
    linear, conv = EqualLinear(256, 128), EqualConv2d(32, 16, 3)
    assert 0.8 < linear(torch.randn(512, 256)).std() < 1.2
    out = conv(torch.randn(4, 32, 10, 10))
    assert out.shape == (4, 16, 10, 10)
    assert 0.8 < out.std() < 1.2


def test_modulated_modules_shapes_and_style_dependence():
    torch.manual_seed(4)
    conv, styled = ModulatedConv2d(6, 5, 3, w_dim=8), StyledConv(6, 5, w_dim=8)
    x, w = torch.randn(2, 6, 8, 8), torch.randn(2, 8)
    assert conv(x, w).shape == (2, 5, 8, 8)
    assert styled(x, w).shape == (2, 5, 8, 8)
    assert (styled(x, w) - styled(x, torch.randn(2, 8))).abs().max() > 1e-3


@pytest.mark.parametrize("shape", [(8, 16, 64, 64), (2, 3, 6, 10), (1, 128, 8, 8)])
def test_avg_pool2x_gives_average_pooling_s_values_and_gradients(shape):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=gen, dtype=torch.float64)  # float64: equal up to the summation order only
    pooled_x = x.clone().requires_grad_(True)
    reference_x = x.clone().requires_grad_(True)
    pooled, reference = avg_pool2x(pooled_x), F.avg_pool2d(reference_x, 2)
    assert pooled.shape == reference.shape == (*shape[:2], shape[2] // 2, shape[3] // 2)
    torch.testing.assert_close(pooled, reference, atol=1e-12, rtol=0)
    upstream = torch.randn(reference.shape, generator=gen, dtype=torch.float64)
    pooled.backward(upstream)
    reference.backward(upstream)
    torch.testing.assert_close(pooled_x.grad, reference_x.grad, atol=1e-12, rtol=0)


def test_avg_pool2x_has_a_double_backward_for_the_r1_penalty():
    x = torch.randn(2, 4, 8, 8, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(4, 4, 1, 1, dtype=torch.float64)
    (grad,) = torch.autograd.grad(F.conv2d(avg_pool2x(x), weight).square().sum(), x, create_graph=True)
    grad.square().sum().backward()  # R1's second backward reaches x through the pooling
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
