"""MOS proxies (rasc.metrics.artifacts): ground truth scores 0, each artifact raises its own metric."""

from __future__ import annotations

import math
import time

import cv2
import numpy as np
import pytest
from scipy import ndimage
from skimage.color import rgb2lab

from rasc.metrics.artifacts import (ArtifactScores, artifact_scores, bleeding, diversity, diversity_score,
                                    line_mask_from_sketch, region_colour_error, semantic_inconsistency)

PALETTE = np.array([[235, 225, 200],  # 0 background
                    [40, 90, 200],  # 1 left iris (group 1)
                    [40, 90, 200],  # 2 right iris (group 1)
                    [200, 60, 60]], dtype=np.uint8)  # 3 mouth (group 2)
GROUPS = np.array([0, 1, 1, 2, -1, -1], dtype=np.int32)  # padded to Kmax = 6


def cartoon(line_width: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A hand-made ground truth: colour (48, 48, 3) with black outlines and a grey anti-aliased rim, regions, lines."""
    regions = np.zeros((48, 48), np.int64)
    regions[8:22, 6:20] = 1
    regions[8:22, 28:42] = 2
    regions[30:42, 10:38] = 3
    boundary = np.zeros_like(regions, bool)
    boundary[:, :-1] |= regions[:, :-1] != regions[:, 1:]
    boundary[:-1, :] |= regions[:-1, :] != regions[1:, :]
    lines = ndimage.binary_dilation(boundary, iterations=line_width // 2) if line_width > 1 else boundary
    rim = ndimage.binary_dilation(lines) & ~lines
    color = PALETTE[regions].copy()
    color[rim] = color[rim] // 2  # anti-aliasing halo, one pixel wide, outside the sketch lines
    color[lines] = 0
    return color, regions, lines


def lab_distance(rgb_a: tuple[int, int, int], rgb_b: tuple[int, int, int]) -> float:
    lab = rgb2lab(np.array([[rgb_a, rgb_b]], dtype=np.uint8))[0]
    return float(np.linalg.norm(lab[0] - lab[1]))


def test_flat_image_has_zero_bleeding() -> None:
    _, regions, lines = cartoon()
    flat = np.full((48, 48, 3), 128, np.uint8)
    assert bleeding(flat, regions, lines) == 0.0
    assert semantic_inconsistency(flat, regions, GROUPS, lines) == 0.0


def test_ground_truth_scores_zero() -> None:
    color, regions, lines = cartoon()
    assert bleeding(color, regions, lines) == pytest.approx(0.0, abs=1e-9)
    assert semantic_inconsistency(color, regions, GROUPS, lines) == pytest.approx(0.0, abs=1e-9)
    assert region_colour_error(color, color, regions, lines) == pytest.approx(0.0, abs=1e-9)


def test_thick_lines_count_unless_excluded() -> None:
    color, regions, lines = cartoon(line_width=5)
    assert bleeding(color, regions, lines) == pytest.approx(0.0, abs=1e-9)
    assert bleeding(color, regions, np.zeros_like(lines)) > 1.0  # outlines inside regions would count as bleeding


def test_one_group_painted_differently_raises_inconsistency() -> None:
    color, regions, lines = cartoon()
    pred = color.copy()
    pred[(regions == 2) & ~lines] = (200, 180, 40)  # right iris yellow, left stays blue
    expected = lab_distance(tuple(PALETTE[1]), (200, 180, 40))  # the only group with two regions is the irises
    assert semantic_inconsistency(pred, regions, GROUPS, lines) == pytest.approx(expected, rel=1e-6)
    assert bleeding(pred, regions, lines) == pytest.approx(0.0, abs=1e-9)
    assert expected > 40


def test_wrong_flat_colour_has_no_bleeding_but_large_colour_error() -> None:
    color, regions, lines = cartoon()
    green = np.zeros_like(color)
    green[...] = (0, 255, 0)
    assert bleeding(green, regions, lines) == 0.0
    error = region_colour_error(green, color, regions, lines)
    expected = np.mean([lab_distance((0, 255, 0), tuple(PALETTE[k])) for k in range(4)])  # per-region, unweighted
    assert error == pytest.approx(expected, rel=1e-6)
    assert error > 50


def test_bleeding_grows_with_blur() -> None:
    color, regions, lines = cartoon()
    flat = PALETTE[regions]  # colours without outlines, blurred across region borders
    scores = []
    for sigma in (1.0, 2.0, 4.0):
        blurred = cv2.GaussianBlur(flat, (0, 0), sigma)
        blurred[lines] = 0
        scores.append(bleeding(blurred, regions, lines))
    assert 0.0 < scores[0] < scores[1] < scores[2]
    assert scores[2] > 3.0


def test_diversity_zero_for_identical_positive_for_different() -> None:
    color, regions, lines = cartoon()
    assert diversity(np.stack([color, color, color]), regions, lines) == 0.0
    recoloured = color.copy()
    recoloured[..., [0, 2]] = recoloured[..., [2, 0]]  # swap red and blue
    value = diversity(np.stack([color, recoloured]), regions, lines)
    assert value > 10
    # three colourings: the mean of the three pairs (two differ by `value`, one pair is identical)
    assert diversity(np.stack([color, recoloured, color]), regions, lines) == pytest.approx(2 * value / 3)


def reference_metrics(pred: np.ndarray, gt: np.ndarray, regions: np.ndarray, lines: np.ndarray,
                      groups: np.ndarray) -> tuple[float, float, float]:
    """Slow per-region loop with boolean masks, np.median and binary erosion: what the vectorised code must equal."""
    lab, gt_lab = rgb2lab(pred), rgb2lab(gt)
    bleed, error, means = [], [], {}
    for label in np.unique(regions):
        mask = ndimage.binary_erosion((regions == label) & ~lines, np.ones((3, 3)), border_value=1)
        if not mask.any():  # nothing survives erosion: the region's non-line pixels
            mask = (regions == label) & ~lines
        if not mask.any():
            continue
        pixels = lab[mask]
        bleed.append(np.linalg.norm(pixels - np.median(pixels, axis=0), axis=1).mean())
        means[label] = pixels.mean(axis=0)
        error.append(np.linalg.norm(pixels.mean(axis=0) - gt_lab[mask].mean(axis=0)))
    group_scores = []
    for group in np.unique(groups[groups >= 0]):
        members = [means[k] for k in np.flatnonzero(groups == group) if k in means]
        pairs = [np.linalg.norm(a - b) for i, a in enumerate(members) for b in members[i + 1:]]
        if pairs:
            group_scores.append(np.mean(pairs))
    return float(np.mean(bleed)), float(np.mean(group_scores)), float(np.mean(error))


def test_vectorised_metrics_match_a_per_region_loop() -> None:
    rng = np.random.default_rng(3)
    seeds = rng.integers(0, 64, size=(40, 2))
    grid = np.stack(np.mgrid[:64, :64], axis=-1)  # (64, 64, 2)
    regions = np.argmin(((grid[:, :, None, :] - seeds[None, None]) ** 2).sum(-1), axis=2)  # Voronoi, 40 cells
    lines = np.zeros((64, 64), bool)
    lines[:, :-1] |= regions[:, :-1] != regions[:, 1:]
    lines[:-1, :] |= regions[:-1, :] != regions[1:, :]
    gt = rng.integers(0, 256, size=(40, 3), dtype=np.uint8)[regions]
    pred = np.clip(gt + rng.normal(0, 25, gt.shape), 0, 255).astype(np.uint8)
    groups = rng.integers(-1, 8, size=40).astype(np.int32)
    expected = reference_metrics(pred, gt, regions, lines, groups)
    assert bleeding(pred, regions, lines) == pytest.approx(expected[0], rel=1e-9)
    assert semantic_inconsistency(pred, regions, groups, lines) == pytest.approx(expected[1], rel=1e-9)
    assert region_colour_error(pred, gt, regions, lines) == pytest.approx(expected[2], rel=1e-9)


def test_nothing_measurable_is_nan_and_no_ground_truth_is_none() -> None:
    checker = (np.indices((16, 16)).sum(axis=0) % 2).astype(np.int64)  # erosion empties every region
    image = np.zeros((16, 16, 3), np.uint8)
    all_lines = np.ones((16, 16), bool)  # every region lies under the lines
    assert math.isnan(bleeding(image, checker, all_lines))
    assert math.isnan(region_colour_error(image, image, checker, all_lines))
    assert bleeding(image, checker, ~all_lines) == 0.0  # no lines: each region falls back to its own pixels
    color, regions, lines = cartoon()
    assert math.isnan(semantic_inconsistency(color, regions, np.arange(6, dtype=np.int32), lines))  # no shared group
    sketches = np.where(lines, 0, 255).astype(np.uint8)[None]
    assert artifact_scores(color[None], sketches) == ArtifactScores(None, None, None, num_images=0)
    assert diversity_score(np.stack([color, color])[None], sketches) is None
    scores = artifact_scores(color[None], sketches, gt_color=color[None], gt_regions=regions[None],
                             region_group=np.arange(6, dtype=np.int32)[None])
    assert scores.bleeding == pytest.approx(0.0, abs=1e-9) and scores.region_colour_error == pytest.approx(0.0)
    assert scores.semantic_inconsistency is None  # defined nowhere: N/A, not 0


def test_dataset_scores_average_images() -> None:
    color, regions, lines = cartoon()
    green = np.zeros_like(color)
    green[...] = (0, 255, 0)
    preds, gts = np.stack([color, green]), np.stack([color, color])
    sketches = np.stack([np.where(lines, 0, 255).astype(np.uint8)] * 2)
    assert np.array_equal(line_mask_from_sketch(sketches[0]), lines)
    scores = artifact_scores(preds, sketches, gt_color=gts, gt_regions=np.stack([regions] * 2),
                             region_group=np.stack([GROUPS] * 2))
    assert scores.num_images == 2
    assert scores.region_colour_error == pytest.approx(region_colour_error(green, color, regions, lines) / 2)
    samples = np.stack([np.stack([color, color]), np.stack([color, green])])  # (N=2, S=2, H, W, 3)
    assert diversity_score(samples, sketches, gt_regions=np.stack([regions] * 2)) == pytest.approx(
        diversity(samples[1], regions, lines) / 2)


def two_irises() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Colour (24, 24, 3), regions, 1-px outlines and groups: a face with two 3×3 irises of one colour group.

    Off the lines each iris keeps 2×2 pixels, none of which survives a one-pixel erosion.
    """
    regions = np.zeros((24, 24), np.int64)
    regions[4:20, 2:22] = 1  # face
    regions[10:13, 6:9] = 2  # left iris
    regions[10:13, 14:17] = 3  # right iris
    lines = np.zeros_like(regions, bool)
    lines[:, :-1] |= regions[:, :-1] != regions[:, 1:]
    lines[:-1, :] |= regions[:-1, :] != regions[1:, :]
    palette = np.array([[235, 225, 200], [250, 210, 180], [40, 90, 200], [40, 90, 200]], np.uint8)
    color = palette[regions]
    color[lines] = 0
    return color, regions, lines, np.array([-1, 0, 1, 1], np.int32)


def test_small_regions_are_measured() -> None:
    color, regions, lines, groups = two_irises()
    eroded = ndimage.binary_erosion((regions == 2) & ~lines, np.ones((3, 3)), border_value=1)
    assert not eroded.any() and ((regions == 2) & ~lines).sum() == 4  # the case the erosion alone dropped
    assert semantic_inconsistency(color, regions, groups, lines) == pytest.approx(0.0, abs=1e-9)
    pred = color.copy()
    pred[(regions == 3) & ~lines] = (200, 180, 40)  # right iris yellow, left stays blue
    expected = lab_distance((40, 90, 200), (200, 180, 40))
    assert semantic_inconsistency(pred, regions, groups, lines) == pytest.approx(expected, rel=1e-6)
    sketches = np.where(lines, 0, 255).astype(np.uint8)[None]
    scores = artifact_scores(pred[None], sketches, gt_color=color[None], gt_regions=regions[None],
                             region_group=groups[None])
    assert scores.semantic_inconsistency == pytest.approx(expected, rel=1e-6)
    assert scores.region_colour_error == pytest.approx(expected / 4, rel=1e-6)  # one of four regions is wrong


def test_measured_fractions_count_regions_and_groups() -> None:
    color, regions, lines, _ = two_irises()
    regions[22, 2:22] = 4  # a strip under an outline: the only region with no measured pixel
    lines[22, 2:22] = True
    groups = np.array([-1, 0, 1, 1, 0], np.int32)  # the strip shares the face's group
    sketches = np.where(lines, 0, 255).astype(np.uint8)[None]
    scores = artifact_scores(color[None], sketches, gt_regions=regions[None], region_group=groups[None])
    assert scores.regions_measured == pytest.approx(4 / 5)
    assert scores.groups_measured == pytest.approx(1 / 2)  # irises scored; face + strip has one measured region
    pooled = artifact_scores(np.stack([color] * 2), np.concatenate([sketches, np.full_like(sketches, 255)]),
                             gt_regions=np.stack([regions] * 2), region_group=np.stack([groups] * 2))
    assert pooled.regions_measured == pytest.approx(9 / 10) and pooled.groups_measured == pytest.approx(3 / 4)
    ungrouped = artifact_scores(color[None], sketches, gt_regions=regions[None])
    assert ungrouped.regions_measured == pytest.approx(4 / 5) and ungrouped.groups_measured is None
    assert artifact_scores(color[None], sketches).regions_measured is None


def test_bad_inputs_are_rejected() -> None:
    color, regions, lines = cartoon()
    with pytest.raises(ValueError, match="line_mask"):
        bleeding(color, regions, np.where(lines, 0, 255).astype(np.uint8))  # a sketch is not a mask
    with pytest.raises(ValueError, match="pred"):
        bleeding(color.astype(np.float32), regions, lines)
    with pytest.raises(ValueError, match="shape"):
        bleeding(color, regions[:-1], lines)
    with pytest.raises(ValueError, match="region_group"):
        semantic_inconsistency(color, regions, GROUPS[:2], lines)
    with pytest.raises(ValueError, match="S >= 2"):
        diversity(color[None], regions, lines)


def test_many_regions_are_fast() -> None:
    size, cells = 256, 27  # 729 regions, the paper's maximum
    rows, cols = np.mgrid[:size, :size]
    regions = (rows * cells // size) * cells + cols * cells // size
    lines = np.zeros((size, size), bool)
    lines[:, :-1] |= regions[:, :-1] != regions[:, 1:]
    lines[:-1, :] |= regions[:-1, :] != regions[1:, :]
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 256, size=(cells * cells, 3), dtype=np.uint8)[regions]
    pred = np.clip(gt + rng.normal(0, 10, gt.shape), 0, 255).astype(np.uint8)
    groups = (np.arange(cells * cells) % 50).astype(np.int32)
    start = time.perf_counter()
    bleeding(pred, regions, lines)
    semantic_inconsistency(pred, regions, groups, lines)
    region_colour_error(pred, gt, regions, lines)
    diversity(np.stack([pred, gt, pred]), regions, lines)
    assert time.perf_counter() - start < 2.0  # ~0.1 s measured on a shared 2-core CPU


def test_procedural_ground_truth_scores_zero_on_clean_and_rough_sketches() -> None:
    synth = pytest.importorskip("rasc.data.synth")
    arrays = synth.synthesize(4, seed=0, cfg=synth.SynthConfig(size=96))
    truth = dict(gt_color=arrays["color"], gt_regions=arrays["regions"], region_group=arrays["region_group"])
    clean = artifact_scores(arrays["color"], arrays["lines_clean"], **truth)
    rough = artifact_scores(arrays["color"], arrays["lines_rough"], gt_lines=arrays["lines_clean"], **truth)
    for scores in (clean, rough):
        assert scores.bleeding == pytest.approx(0.0, abs=1e-6)
        assert scores.semantic_inconsistency == pytest.approx(0.0, abs=1e-6)
        assert scores.region_colour_error == pytest.approx(0.0, abs=1e-6)
    # the rough sketch's jittered lines alone leave the ground truth's outlines inside the regions
    assert artifact_scores(arrays["color"], arrays["lines_rough"], **truth).bleeding > 0.1
