"""Precision and recall of random-w samples against known valid colourings (rasc.metrics.diversity)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.color import rgb2lab

from rasc.metrics.diversity import CLOSE_DELTA_E, colouring_distances, coverage_scores, precision_recall

SIZE, BANDS = 32, 4  # drawings of four vertical bands, 8 px wide: 6 measured columns each after erosion
REGIONS = np.repeat(np.arange(BANDS), SIZE // BANDS)[None].repeat(SIZE, axis=0)  # (H, W)
NO_LINES = np.zeros((SIZE, SIZE), bool)
BLANK_SKETCHES = np.full((1, SIZE, SIZE), 255, np.uint8)  # (N, H, W): no ink


def paint(palette: np.ndarray) -> np.ndarray:
    """A colouring (H, W, 3) of the bands from a palette (BANDS, 3)."""
    return np.asarray(palette, np.uint8)[REGIONS]


def far_apart_alternatives() -> np.ndarray:
    """(K=4, H, W, 3) valid colourings whose every band differs by a saturated hue: pairwise far beyond the threshold."""
    hues = np.array([[220, 40, 40], [40, 180, 40], [40, 60, 220], [230, 210, 40]])
    return np.stack([paint(np.roll(hues, shift, axis=0)) for shift in range(4)])


def scores(samples: np.ndarray, alternatives: np.ndarray, count: np.ndarray | None = None):
    """coverage_scores of one drawing's samples (S, H, W, 3) against its alternatives (K, H, W, 3)."""
    return coverage_scores(samples[None], BLANK_SKETCHES, alternatives=alternatives[None],
                           alternative_count=count, gt_regions=REGIONS[None])


def test_distance_is_the_mean_over_regions_of_the_region_mean_delta_e():
    base = np.array([[200, 200, 200], [30, 60, 90], [120, 40, 40], [10, 200, 100]], np.uint8)
    changed = base.copy()
    changed[2] = [40, 40, 120]
    expected = np.linalg.norm(rgb2lab(base[2:3][None] / 255.0) - rgb2lab(changed[2:3][None] / 255.0)) / BANDS
    distances = colouring_distances(paint(changed)[None], np.stack([paint(base), paint(changed)]), REGIONS, NO_LINES)
    assert distances.shape == (1, 2)
    assert distances[0, 0] == pytest.approx(expected, rel=1e-6) and distances[0, 1] == pytest.approx(0.0, abs=1e-9)


def test_threshold_decides_close():
    distances = np.array([[CLOSE_DELTA_E, 30.0], [25.0, 40.0]])  # (S=2, K=2)
    assert precision_recall(distances) == (0.5, 0.5)  # the threshold itself counts as close
    assert precision_recall(distances, threshold=26.0) == (1.0, 0.5)
    assert all(math.isnan(v) for v in precision_recall(np.full((2, 3), np.nan)))


def test_samples_equal_to_the_alternatives_score_one():
    alternatives = far_apart_alternatives()
    result = scores(alternatives.copy(), alternatives)
    assert result.precision == 1.0 and result.recall == 1.0 and result.threshold == CLOSE_DELTA_E


def test_one_sample_repeated_reaches_at_most_one_valid_colouring():
    alternatives = far_apart_alternatives()
    result = scores(np.repeat(alternatives[:1], 6, axis=0), alternatives)
    assert result.precision == 1.0 and result.recall <= 1 / len(alternatives)


def test_random_hues_score_low_precision_even_with_a_large_spread():
    rng = np.random.default_rng(0)
    truth = np.array([[230, 220, 200], [250, 200, 180], [60, 40, 30], [40, 60, 150]], np.uint8)
    jitter = [np.clip(truth.astype(int) + rng.integers(-6, 7, truth.shape), 0, 255) for _ in range(3)]
    alternatives = np.stack([paint(truth)] + [paint(p) for p in jitter])  # a tight cluster of plausible colourings
    wild = np.stack([paint(rng.integers(0, 256, (BANDS, 3))) for _ in range(16)])  # (S, H, W, 3)
    result = scores(wild, alternatives)
    assert result.precision <= 0.1 and result.recall <= 0.25
    assert scores(alternatives[[1, 2]], alternatives).precision == 1.0


def test_padding_beyond_the_count_is_ignored():
    alternatives = far_apart_alternatives()
    truth_only = scores(alternatives[:1].copy(), alternatives, count=np.array([1]))
    assert truth_only.recall == 1.0  # the three padded colourings are not asked for
    assert scores(alternatives[:1].copy(), alternatives).recall == 0.25


def test_not_applicable_without_alternatives_or_regions():
    samples = far_apart_alternatives()[None]
    assert coverage_scores(samples, BLANK_SKETCHES, gt_regions=REGIONS[None]).precision is None
    missing = coverage_scores(samples, BLANK_SKETCHES, alternatives=samples)
    assert missing.precision is None and missing.recall is None and missing.num_images == 0


def test_lines_are_not_measured():
    alternatives = far_apart_alternatives()[:1]
    inked = alternatives.copy()
    inked[:, :, ::8] = 0  # black on every band's first column
    sketches = np.where(inked[..., 0] == 0, 0, 255).astype(np.uint8)  # (1, H, W): that column is ink
    result = coverage_scores(inked[None], sketches, alternatives=alternatives[None], gt_regions=REGIONS[None])
    assert result.precision == 1.0


def test_mismatched_inputs_are_refused():
    alternatives = far_apart_alternatives()
    with pytest.raises(ValueError, match="alternative_count"):
        scores(alternatives, alternatives, count=np.array([5]))
    with pytest.raises(ValueError, match="must match samples"):
        coverage_scores(alternatives[None], BLANK_SKETCHES, alternatives=alternatives[None, :, :16],
                        gt_regions=REGIONS[None])
    with pytest.raises(ValueError, match="uint8"):
        coverage_scores(alternatives[None].astype(float), BLANK_SKETCHES)
