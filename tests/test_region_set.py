"""The style encoder's view of a colour image as a set of flat regions (rasc.models.region_set)."""

from __future__ import annotations

import numpy as np
import torch
from test_models import tiny_config

from rasc.models.generator import Generator
from rasc.models.region_set import (
    MIN_AREA,
    RegionSetEncoder,
    colour_components,
    large_enough,
    region_descriptions,
)

WALL, DOT, INK = (0.6, 0.2, -0.4), (-0.8, 0.5, 0.9), (-1.0, -1.0, -1.0)


def wall_with_dots(size: int = 16, dot: tuple = DOT) -> torch.Tensor:
    """(1, 3, size, size): a wall of one colour with two 2×2 dots of another and one ink pixel at the corner."""
    image = torch.tensor(WALL)[:, None, None].repeat(1, size, size)
    image[:, 2:4, 2:4] = torch.tensor(dot)[:, None, None]
    image[:, 10:12, 6:8] = torch.tensor(dot)[:, None, None]
    image[:, 0, 0] = torch.tensor(INK)
    return image[None]


def test_colour_components_cut_an_image_into_4_connected_pieces_of_one_colour():
    labels = colour_components(wall_with_dots())[0]  # (16, 16)
    assert labels.dtype == torch.int64 and int(labels.max()) + 1 == 4  # wall, two dots, ink pixel
    assert labels[2, 2] == labels[3, 3] != labels[10, 6]  # one colour, two pieces
    diagonal = wall_with_dots()
    diagonal[0, :, 4, 4] = torch.tensor(DOT)  # touches the first dot at a corner only
    assert int(colour_components(diagonal)[0].max()) + 1 == 5
    nearly = wall_with_dots() + 0.01  # a shift below the quantisation step keeps the pieces
    assert torch.equal(colour_components(nearly), colour_components(wall_with_dots()))


def test_region_descriptions_give_each_piece_its_mean_colour_centroid_and_size_differentiably():
    colour = torch.cat([wall_with_dots(), wall_with_dots(dot=WALL)]).requires_grad_()  # (2, 3, 16, 16)
    labels = colour_components(colour)
    descriptions, image_of_region, area = region_descriptions(colour, labels)
    assert descriptions.shape == (4 + 2, 6) and image_of_region.tolist() == [0, 0, 0, 0, 1, 1]
    first_dot = int(labels[0, 2, 2])
    torch.testing.assert_close(descriptions[first_dot, :3], torch.tensor(DOT))
    step = 2 / 15  # pixel spacing of the centroid grid in [-1, 1]
    torch.testing.assert_close(descriptions[first_dot, 3:5], torch.tensor([-1 + 2.5 * step] * 2))
    assert sorted(area[:4].tolist()) == [1, 4, 4, 247] and area[4:].tolist() == [1, 255]
    assert descriptions[first_dot, 5] < descriptions[int(labels[0, 8, 8]), 5]  # a dot is smaller than the wall
    descriptions[first_dot, 0].backward()
    assert colour.grad[0, 0, 2:4, 2:4].abs().sum() > 0 and colour.grad[0, 0, 8, 8] == 0


def test_pieces_below_the_minimum_area_are_left_out_unless_an_image_has_no_other():
    area = torch.tensor([1.0, MIN_AREA, 1.0, 2.0])
    image_of_region = torch.tensor([0, 0, 1, 1])
    assert large_enough(area, image_of_region, batch=2).tolist() == [False, True, True, True]


def test_the_region_set_counts_every_region_once_whatever_its_area():
    torch.manual_seed(0)
    encoder = RegionSetEncoder(dim=8)
    colour = wall_with_dots()
    descriptions, _, area = region_descriptions(colour, colour_components(colour))
    embedded = encoder.embed(descriptions[area >= MIN_AREA])  # (3, 8): wall and two dots, not the ink pixel
    expected = torch.cat([embedded.mean(dim=0), embedded.amax(dim=0)])
    torch.testing.assert_close(encoder(colour)[0], expected)


def test_style_regions_hand_the_region_set_to_the_posterior_head():
    torch.manual_seed(3)
    plain = Generator(tiny_config()).style_encoder
    with_regions = Generator(tiny_config(style_regions=True)).style_encoder
    assert with_regions.head.weight.shape[1] == plain.head.weight.shape[1] + with_regions.region_set.out_features
    colour = torch.cat([wall_with_dots(32), wall_with_dots(32, dot=(0.9, 0.9, -0.9))])  # (2, 3, 32, 32)
    with torch.no_grad():
        with_regions.head.weight[:, : plain.head.weight.shape[1]] = 0  # only the region set speaks
    mu, _ = with_regions(colour)
    assert (mu[0] - mu[1]).abs().max() > 1e-3  # two 2×2 dots recoloured move w
    mu[0].sum().backward()
    assert np.isfinite(with_regions.region_set.embed.layers[0].weight.grad.numpy()).all()
    assert with_regions.region_set.embed.layers[0].weight.grad.abs().sum() > 0
