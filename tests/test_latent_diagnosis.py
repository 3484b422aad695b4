"""benchmarks/latent_diagnosis.py: its part-colour means, nearest-centroid archetype accuracy, per-region errors and
background patterns."""

import numpy as np
import pytest
from conftest import import_benchmark
from skimage.color import rgb2lab


@pytest.fixture(scope="module")
def diagnosis():
    yield from import_benchmark("latent_diagnosis")


def test_part_means_are_cielab_means_of_the_part_and_nan_where_it_is_absent(diagnosis):
    images = np.zeros((2, 2, 2, 3), np.uint8)
    images[0, 0] = (200, 30, 30)
    images[0, 1] = (30, 30, 200)
    parts = np.array([[[2, 2], [0, 0]], [[0, 0], [0, 0]]])  # part 2 in the top row of image 0 only
    means = diagnosis.part_means(diagnosis.to_lab(images), parts, part=2)
    expected = rgb2lab(images[0, 0]).mean(axis=0)  # the two top-row pixels, red and blue
    np.testing.assert_allclose(means[0], expected, atol=1e-6)
    assert np.isnan(means[1]).all()


def test_centroid_accuracy_reads_separated_classes_and_not_shuffled_labels(diagnosis):
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 30)
    features = np.eye(4)[labels] * 5 + rng.normal(0, 0.3, (len(labels), 4))  # four well separated clusters
    train, test = slice(0, None, 2), slice(1, None, 2)
    assert diagnosis.centroid_accuracy(features[train], labels[train], features[test], labels[test]) == 1.0
    shuffled = rng.permutation(labels)
    accuracy = diagnosis.centroid_accuracy(features[train], shuffled[train], features[test], labels[test])
    assert accuracy < 0.6


def _two_regions() -> np.ndarray:
    """(1, 8, 8) labels: a 2-px-wide region 0 at the left, region 1 the rest."""
    regions = np.ones((1, 8, 8), np.int32)
    regions[0, :, :2] = 0
    return regions


def _two_region_split(trapped_ball: np.ndarray) -> dict[str, np.ndarray]:
    """One 8×8 drawing of `_two_regions`, with no ink, and the given trapped-ball map."""
    return {"regions": _two_regions(), "parts": np.zeros((1, 8, 8), np.uint8), "trapped_ball": trapped_ball,
            "sketch": np.full((1, 8, 8), 255, np.uint8), "lines_clean": np.full((1, 8, 8), 255, np.uint8)}


def test_region_errors_score_each_region_once_and_tell_a_merged_map(diagnosis):
    truth = np.zeros((1, 8, 8, 3))
    truth[0, :, 2:] = (50.0, 0.0, 0.0)
    painted = truth.copy()
    painted[0, :, :2] = (0.0, 30.0, 40.0)  # region 0 painted 50 ΔE off, region 1 right
    errors = diagnosis.region_errors({"oracle": painted}, truth, _two_region_split(_two_regions()))
    assert errors["delta_e"].tolist() == pytest.approx([50.0, 0.0]) and errors["area"].tolist() == [16, 48]
    assert not errors["merged"].any()
    merged = diagnosis.region_errors({"oracle": painted}, truth, _two_region_split(np.zeros((1, 8, 8), np.int32)))
    assert merged["merged"].tolist() == [True, False]  # one trapped-ball region, mostly region 1


def test_pattern_masks_pick_the_background_group_of_many_small_regions(diagnosis):
    regions = np.zeros((1, 12, 12), np.int32)  # region 0: the wall
    for k, (y, x) in enumerate([(1, 1), (1, 7), (7, 1), (7, 7)], start=1):
        regions[0, y:y + 3, x:x + 3] = k  # four 3×3 dots
    split = {"regions": regions, "parts": np.full((1, 12, 12), diagnosis.PART_NAMES.index("background"), np.uint8),
             "region_group": np.array([[0, 1, 1, 1, 1]])}
    mask = diagnosis.pattern_masks(split)[0]
    assert mask is not None and mask.sum() == 36 and mask[regions[0] > 0].all()
    split["region_group"] = np.array([[0, 1, 1, 2, 2]])  # two groups of two dots: no pattern
    assert diagnosis.pattern_masks(split) == [None]
