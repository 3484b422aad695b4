"""benchmarks/region_map_dependence.py: the swapped region maps, and that only a model with region maps sees them."""

import numpy as np
import pytest
import torch
from conftest import import_benchmark

from rasc.models import GeneratorConfig, build_generator

SIZE = 64  # the working size: 1,024 patches are 2×2 px cells


@pytest.fixture(scope="module")
def dependence():
    yield from import_benchmark("region_map_dependence")


def drawings(count: int = 3) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Sketches (N, H, W) of a vertical line and their ground truth: left half red (region 0), right half blue (1)."""
    sketches = np.full((count, SIZE, SIZE), 255, np.uint8)
    sketches[:, :, SIZE // 2] = 0
    regions = np.zeros((count, SIZE, SIZE), np.uint16)
    regions[:, :, SIZE // 2:] = 1
    color = np.zeros((count, SIZE, SIZE, 3), np.uint8)
    color[:, :, : SIZE // 2] = (220, 40, 40)
    color[:, :, SIZE // 2:] = (40, 40, 220)
    lines = np.full((count, SIZE, SIZE), 255, np.uint8)
    lines[:, :, SIZE // 2] = 0
    return sketches, {"color": color, "regions": regions, "lines_clean": lines}


def test_the_swapped_maps_are_the_neighbour_s_none_the_truth_and_the_finest_grid(dependence):
    sketches, truth = drawings()
    own = np.stack([np.full((SIZE, SIZE), i, np.uint16) for i in range(3)])  # drawing i: one region labelled i
    maps = dependence.swapped_maps(own, truth, sketches)
    assert set(maps) == set(dependence.MAPS)
    np.testing.assert_array_equal(maps["own"], own)
    np.testing.assert_array_equal(maps["shuffled"][:, 0, 0], [2, 0, 1])  # each drawing gets the previous one's map
    np.testing.assert_array_equal(maps["ground_truth"], truth["regions"])
    assert not maps["one_region"].any()
    assert all(len(np.unique(labels)) == 1024 for labels in maps["patches_1024"])


def tiny_generator(variant: str) -> torch.nn.Module:
    torch.manual_seed(0)
    cfg = GeneratorConfig(image_size=SIZE, base_channels=4, max_channels=8, num_blocks=2, w_dim=4, variant=variant)
    return build_generator(cfg).eval()


def test_a_model_with_region_maps_colours_differently_with_other_maps_and_one_without_does_not(dependence):
    sketches, truth = drawings()
    maps = {"own": truth["regions"], "one_region": np.zeros_like(truth["regions"])}
    with_maps = dependence.score_maps(tiny_generator("full"), maps, sketches, truth, constant=1.0)
    without = dependence.score_maps(tiny_generator("no_region_maps"), maps, sketches, truth, constant=1.0)
    assert with_maps["own"] != with_maps["one_region"]  # the region factor sees the map
    assert without["own"] == without["one_region"]  # nothing of the map reaches this generator
    assert all(np.isfinite(value) for scores in (with_maps, without) for pair in scores.values() for value in pair)
