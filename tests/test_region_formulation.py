"""Region Formulation: the fast segment-max path against the paper-literal dense reference, and its invariants."""

import pytest
import torch
import torch.nn.functional as F

import rasc.models.region_formulation as region_formulation
from rasc.models.region_formulation import (RegionFormulation, aggregate_regions, compact_labels,
                                            dense_region_formulation_reference, downsample_labels,
                                            fused_attention_pays, scaled_attention)


def voronoi_labels(batch: int, size: int, num_regions: int, seed: int) -> torch.Tensor:
    """Spatially coherent random regions: nearest of `num_regions` random seeds. → (B, size, size) int64."""
    gen = torch.Generator().manual_seed(seed)
    points = torch.rand(batch, num_regions, 2, generator=gen) * size
    ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    grid = torch.stack([ys, xs], dim=-1).reshape(1, -1, 1, 2).float()  # (1, P, 1, 2)
    distances = (grid - points[:, None]).square().sum(-1)  # (B, P, K)
    return distances.argmin(-1).view(batch, size, size)


def make_inputs(batch=3, channels=6, size=12, num_regions=9, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, channels, size, size, generator=gen)
    labels = voronoi_labels(batch, size, num_regions, seed)
    labels[1] = labels[1] % 4  # fewer regions in image 1 (padding), shapes need not be connected
    labels[2][labels[2] == 3] = 5  # label 3 absent from image 2 (an empty region, non-contiguous labels)
    return x, labels


@pytest.mark.parametrize("correlation", ["plain", "skip"])
@pytest.mark.parametrize("out_channels", [6, 12])
def test_fast_path_matches_dense_reference(correlation, out_channels):
    torch.manual_seed(0)
    module = RegionFormulation(6, out_channels, correlation)
    x, labels = make_inputs()
    fast = module(x, labels)
    dense = dense_region_formulation_reference(module, x, labels)
    assert fast.shape == (3, out_channels, 12, 12)
    torch.testing.assert_close(fast, dense, atol=1e-5, rtol=1e-5)


def test_fast_path_matches_dense_reference_in_gradients():
    # in float64, so that the comparison tests the algorithm rather than float32 summation order (the fused
    # attention kernel accumulates in another order than the dense reference)
    torch.manual_seed(1)
    module = RegionFormulation(6, 12, "skip").double()
    x, labels = make_inputs(seed=1)
    x_fast, x_dense = x.double().requires_grad_(), x.double().requires_grad_()
    (module(x_fast, labels) ** 2).sum().backward()
    fast_grads = [p.grad.clone() for p in module.parameters()]
    module.zero_grad()
    (dense_region_formulation_reference(module, x_dense, labels) ** 2).sum().backward()
    torch.testing.assert_close(x_fast.grad, x_dense.grad, atol=1e-9, rtol=1e-9)
    for fast_grad, param in zip(fast_grads, module.parameters()):
        torch.testing.assert_close(fast_grad, param.grad, atol=1e-9, rtol=1e-9)


def test_every_pixel_of_a_region_gets_identical_features():
    torch.manual_seed(2)
    x, labels = make_inputs(seed=2)
    out = RegionFormulation(6, 8)(x, labels)  # (B, C, h, w)
    for b in range(labels.shape[0]):
        for label in labels[b].unique():
            pixels = out[b][:, labels[b] == label]  # (C, n)
            assert torch.equal(pixels, pixels[:, :1].expand_as(pixels))
        assert out[b].flatten(1).unique(dim=1).shape[1] == labels[b].unique().numel()


def test_images_do_not_attend_to_each_others_regions():
    torch.manual_seed(3)
    module = RegionFormulation(6, 8)
    x, labels = make_inputs(seed=3)
    out = module(x, labels)
    x2, labels2 = x.clone(), labels.clone()
    x2[1] = torch.randn_like(x2[1]) * 5
    labels2[1] = voronoi_labels(1, 12, 30, seed=9)[0]  # more regions: changes the padding too
    out2 = module(x2, labels2)
    torch.testing.assert_close(out2[0], out[0], atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(out2[2], out[2], atol=1e-6, rtol=1e-6)
    assert (out2[1] - out[1]).abs().max() > 1e-3
    alone = module(x[:1], labels[:1])  # no other image at all
    torch.testing.assert_close(alone[0], out[0], atol=1e-6, rtol=1e-6)


def test_aggregation_is_the_max_over_the_region_pixels_only():
    x = torch.full((1, 2, 4, 4), -3.0)
    x[0, :, 0, 0] = -1.0
    labels = torch.zeros(1, 4, 4, dtype=torch.long)
    labels[0, 2:, :] = 1
    x[0, 1, 3, 3] = 7.0
    aggregation = aggregate_regions(x, labels)
    # region 0 is all negative: its max is -1, not the 0 a literal max(X ⊙ mask) would give
    torch.testing.assert_close(aggregation.regions[0], torch.tensor([[-1.0, -1.0], [-3.0, 7.0]]))
    assert aggregation.region_mask.tolist() == [[True, True]]


def stroke_between_two_regions():
    """Two regions side by side, a 1-px stroke at column 2 given to region 0 (left): x (1, 3, 4, 5), labels, ink."""
    x = torch.randn(1, 3, 4, 5, generator=torch.Generator().manual_seed(0))
    labels = torch.zeros(1, 4, 5, dtype=torch.long)
    labels[0, :, 3:] = 1
    ink = torch.zeros(1, 4, 5, dtype=torch.bool)
    ink[0, :, 2] = True
    return x, labels, ink


def test_ink_left_out_of_the_max_does_not_lift_the_region_it_was_given_to():
    x, labels, ink = stroke_between_two_regions()
    x[0, 1, 1, 2] = 1e6  # an extreme edge response on the stroke, in channel 1
    ink_in = aggregate_regions(x, labels).regions  # (1, K, C)
    ink_out = aggregate_regions(x, labels, exclude=ink).regions
    assert ink_in[0, 0, 1] == 1e6  # without the option the stroke wins region 0's max
    paper_max = x[0, :, :, :2].amax(dim=(1, 2))  # (C,) region 0's pixels off the stroke
    torch.testing.assert_close(ink_out[0, 0], paper_max)  # with it, the stroke changes nothing
    torch.testing.assert_close(ink_out[0, 1], ink_in[0, 1])  # region 1 has no ink: unchanged
    # The stroke's pixels get no gradient through the max; they still receive the broadcast value.
    x.requires_grad_(True)
    aggregate_regions(x, labels, exclude=ink).regions.sum().backward()
    assert x.grad[0, :, :, 2].abs().max() == 0 and x.grad.sum() == 2 * 3  # one maximum per region and channel
    module = RegionFormulation(3, 3)
    out = module(x.detach(), labels, exclude=ink)  # (1, 3, 4, 5)
    torch.testing.assert_close(out[0, :, :, 2], out[0, :, :, 0])


def test_a_region_that_is_all_ink_keeps_its_pixels():
    x, labels, ink = stroke_between_two_regions()
    ink[0, :, 3:] = True  # region 1 entirely ink
    regions = aggregate_regions(x, labels, exclude=ink).regions
    torch.testing.assert_close(regions[0, 1], x[0, :, :, 3:].amax(dim=(1, 2)))
    assert torch.isfinite(regions).all()
    with pytest.raises(ValueError, match="exclude"):
        aggregate_regions(x, labels, exclude=ink[:, :2])


def test_compact_labels_renumbers_per_image():
    labels = torch.tensor([[[4, 4], [9, 2]], [[0, 0], [0, 0]]])
    local, counts = compact_labels(labels)
    assert counts.tolist() == [3, 1]
    assert local.tolist() == [[[1, 1], [2, 0]], [[0, 0], [0, 0]]]


def test_vanished_regions_at_a_coarse_scale_give_finite_output():
    torch.manual_seed(4)
    labels = voronoi_labels(2, 32, 40, seed=4)
    coarse = downsample_labels(labels, 8)  # 4×4: most of the 40 regions vanish
    assert coarse.shape == (2, 4, 4)
    assert coarse.unique().numel() < 40
    module = RegionFormulation(4, 8)
    x = torch.randn(2, 4, 4, 4, requires_grad=True)
    out = module(x, coarse)
    out.sum().backward()
    assert torch.isfinite(out).all() and torch.isfinite(x.grad).all()
    torch.testing.assert_close(out, dense_region_formulation_reference(module, x, coarse), atol=1e-5, rtol=1e-5)


def test_downsample_labels_samples_cell_centres():
    labels = torch.arange(16).view(1, 4, 4)
    assert downsample_labels(labels, 2).tolist() == [[[5, 7], [13, 15]]]
    assert downsample_labels(labels, 1) is labels
    with pytest.raises(ValueError, match="factor"):
        downsample_labels(labels, 3)


def test_captured_branch_gradients_sum_to_the_total():
    torch.manual_seed(5)
    for correlation in ("plain", "skip"):
        module = RegionFormulation(6, 6, correlation)
        module.capture_branches = True
        regions = torch.randn(2, 5, 6, requires_grad=True)
        mask = torch.tensor([[True] * 5, [True, True, True, False, False]])
        (module.correlate(regions, mask) ** 2).sum().backward()
        branches = ["q", "k", "v"] + (["skip"] if correlation == "skip" else [])
        total = sum(module.captured[name].grad for name in branches)
        torch.testing.assert_close(total, regions.grad, atol=1e-5, rtol=1e-5)
        assert all(module.captured[name].grad.abs().sum() > 0 for name in branches + ["Q", "K", "V"])
        assert module.captured["region_mask"] is mask
    module.capture_branches = False
    module(torch.randn(1, 6, 4, 4), torch.zeros(1, 4, 4, dtype=torch.long))
    assert module.captured is None


def test_every_parameter_receives_a_gradient():
    torch.manual_seed(6)
    module = RegionFormulation(6, 12, "skip")
    x, labels = make_inputs(seed=6)
    (module(x, labels) ** 2).mean().backward()
    for name, param in module.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


@pytest.mark.parametrize("labels, message", [
    (torch.zeros(2, 5, 5), "integer"),
    (torch.full((2, 5, 5), -1), "non-negative"),
    (torch.zeros(2, 4, 5, dtype=torch.long), r"\(B, H, W\)"),
])
def test_bad_labels_raise(labels, message):
    with pytest.raises(ValueError, match=message):
        RegionFormulation(3, 3)(torch.randn(2, 3, 5, 5), labels)


def test_bad_correlation_raises():
    with pytest.raises(ValueError, match="correlation"):
        RegionFormulation(3, 3, "cross")


def test_hand_written_backwards_match_autograd_with_ties():
    from rasc.models.region_formulation import _Broadcast, _SegmentMax

    gen = torch.Generator().manual_seed(7)
    x = torch.randint(0, 3, (2, 4, 30), generator=gen).float()  # many tied maxima
    index = torch.randint(0, 5, (2, 1, 30), generator=gen)
    index[1] = index[1] % 3  # segments 3, 4 empty in image 1
    grad = torch.randn(2, 4, 5, generator=gen)
    ours, builtin = x.clone().requires_grad_(), x.clone().requires_grad_()
    maxima = _SegmentMax.apply(ours, index, 5)
    expected = torch.zeros(2, 4, 5).scatter_reduce(2, index.expand(-1, 4, -1), builtin, "amax", include_self=False)
    torch.testing.assert_close(maxima, expected)
    maxima.backward(grad)
    expected.backward(grad)
    torch.testing.assert_close(ours.grad, builtin.grad)
    rows, rows_builtin = grad.clone().requires_grad_(), grad.clone().requires_grad_()
    grad_pixels = torch.randn(2, 4, 30, generator=gen)
    _Broadcast.apply(rows, index).backward(grad_pixels)
    rows_builtin.gather(2, index.expand(-1, 4, -1)).backward(grad_pixels)
    torch.testing.assert_close(rows.grad, rows_builtin.grad)


def test_activation_before_broadcast_equals_activation_after():
    torch.manual_seed(8)
    module = RegionFormulation(6, 12)
    x, labels = make_inputs(seed=8)
    torch.testing.assert_close(module(x, labels, activation=torch.tanh), torch.tanh(module(x, labels)))


def attention_inputs(batch=3, regions=10, channels=4, seed=0):
    """q, k (B, K, C), v (B, K, 2C) with gradients, and a mask leaving some slots of images 1 and 2 out."""
    gen = torch.Generator().manual_seed(seed)
    q, k = (torch.randn(batch, regions, channels, generator=gen, requires_grad=True) for _ in range(2))
    v = torch.randn(batch, regions, 2 * channels, generator=gen, requires_grad=True)
    mask = torch.ones(batch, regions, dtype=torch.bool)
    mask[1, 6:] = False
    mask[2, 1:] = False
    return q, k, v, mask


def attention_and_grads(q, k, v, mask):
    out = scaled_attention(q, k, v, mask)
    (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
    grads = [t.grad.clone() for t in (q, k, v)]
    for t in (q, k, v):
        t.grad = None
    return out.detach(), grads


def test_padded_fused_attention_equals_the_math_path(monkeypatch):
    inputs = attention_inputs()
    math_out, math_grads = attention_and_grads(*inputs)
    monkeypatch.setattr(region_formulation, "FUSED_ATTENTION_MIN_SCORES", 1)  # every attention takes the padding
    padded_out, padded_grads = attention_and_grads(*inputs)
    assert not torch.equal(padded_out, math_out)  # another kernel ran (float rounding differs)
    torch.testing.assert_close(padded_out, math_out, rtol=1e-5, atol=1e-6)
    for padded, plain in zip(padded_grads, math_grads):
        torch.testing.assert_close(padded, plain, rtol=1e-5, atol=1e-6)
    assert padded_grads[2][1, 6:].abs().max() == 0  # masked slots are never attended to
    assert padded_grads[2][2, 1:].abs().max() == 0


def test_below_the_threshold_attention_is_the_unpadded_call_bit_for_bit():
    q, k, v, mask = attention_inputs()
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, :])
    assert torch.equal(scaled_attention(q, k, v, mask), expected)


def test_padding_is_chosen_for_many_regions_on_the_cpu_only():
    cpu = torch.device("cpu")
    assert fused_attention_pays(8, 1024, cpu)  # the paper's 1,024 patches at the training batch
    assert not fused_attention_pays(8, 256, cpu)
    assert not fused_attention_pays(1, 1024, cpu)  # one image: the scores stay small
    assert not fused_attention_pays(8, 1024, torch.device("cuda"))
