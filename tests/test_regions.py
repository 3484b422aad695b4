"""Region maps: trapped-ball, patches, label utilities, quality scores and the dispatcher."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from rasc.regions import extract_regions, extract_regions_batch, parse_source
from rasc.regions.labels import (
    fill_from_nearest,
    is_contiguous,
    merge_small_regions,
    random_colour_preview,
    region_adjacency,
    relabel_contiguous,
    resize_labels,
)
from rasc.regions.build import region_extractor
from rasc.regions.patches import patch_grid
from rasc.regions.quality import adjusted_rand_index, default_tolerance, score_regions
from rasc.regions.trapped_ball import TrappedBallConfig, scaled_radii, trapped_ball_regions


def closed_shapes_sketch(size: int = 128) -> np.ndarray:
    """White paper with a frame split in four, a circle and a triangle: all regions closed and wide."""
    sketch = np.full((size, size), 255, np.uint8)
    s = size / 128
    cv2.line(sketch, (int(64 * s), 0), (int(64 * s), size - 1), 0, 2)
    cv2.line(sketch, (0, int(64 * s)), (size - 1, int(64 * s)), 0, 2)
    cv2.circle(sketch, (int(30 * s), int(30 * s)), int(18 * s), 0, 2)
    triangle = (np.array([[80, 80], [120, 90], [95, 120]]) * s).astype(np.int32)
    cv2.polylines(sketch, [triangle], True, 0, 2)
    cv2.rectangle(sketch, (int(75 * s), int(10 * s)), (int(115 * s), int(50 * s)), 0, 2)
    return sketch


def paper_components(sketch: np.ndarray) -> tuple[int, np.ndarray]:
    """4-connected components of the paper (non-line) pixels: (count, labels with 0 = line)."""
    n, components = cv2.connectedComponents((sketch >= 220).astype(np.uint8), connectivity=4)
    return n - 1, components


def assert_valid_region_map(labels: np.ndarray, shape: tuple[int, int]) -> None:
    assert labels.dtype == np.uint16
    assert labels.shape == shape
    assert is_contiguous(labels)


# ------------------------------------------------------------------------------------------------- trapped-ball


def test_closed_regions_are_found_exactly() -> None:
    sketch = closed_shapes_sketch()
    n_components, components = paper_components(sketch)
    labels = trapped_ball_regions(sketch)
    assert_valid_region_map(labels, sketch.shape)
    assert labels.max() + 1 == n_components
    paper = components > 0
    # Each closed paper area carries one label and no two areas share one: a one-to-one correspondence.
    pairs = np.unique(np.stack([components[paper], labels[paper]]), axis=1)
    assert pairs.shape[1] == n_components
    assert len(np.unique(pairs[0])) == len(np.unique(pairs[1])) == n_components


def test_small_gap_does_not_merge_but_wide_gap_does() -> None:
    size = 256
    largest_radius = scaled_radii(TrappedBallConfig(), (size, size))[0]  # 2: the ball is 5 px wide
    closed_gap, open_gap = 2 * largest_radius, 2 * largest_radius + 1
    for gap, expected_regions in ((2, 2), (closed_gap, 2), (open_gap, 1), (40, 1)):
        sketch = np.full((size, size), 255, np.uint8)
        sketch[:, 127:129] = 0  # a vertical line splitting the page ...
        sketch[100 : 100 + gap, 127:129] = 255  # ... with a gap of `gap` px
        labels = trapped_ball_regions(sketch)
        assert labels.max() + 1 == expected_regions, f"gap {gap}"
        if expected_regions == 2:
            assert labels[10, 10] != labels[10, 250]
            assert len(np.unique(labels[:, :127])) == 1 and len(np.unique(labels[:, 129:])) == 1


def test_every_pixel_labelled_and_lines_go_to_a_neighbour() -> None:
    sketch = closed_shapes_sketch()
    labels = trapped_ball_regions(sketch)
    line = sketch < 220
    near = np.ones((5, 5), np.uint8)
    for label in range(int(labels.max()) + 1):
        paper_of_label = ((labels == label) & ~line).astype(np.uint8)
        assert paper_of_label.any()  # every region has paper pixels, not just line
        reachable = cv2.dilate(paper_of_label, near).astype(bool)
        assert np.all(reachable[(labels == label) & line]), f"line pixels of region {label} far from its paper"


def test_blank_and_all_ink_pages_are_one_region() -> None:
    white = np.full((64, 80), 255, np.uint8)
    black = np.zeros((64, 80), np.uint8)
    for sketch in (white, black):
        labels = trapped_ball_regions(sketch)
        assert_valid_region_map(labels, sketch.shape)
        assert labels.max() == 0


def test_has_lines_means_a_pixel_darker_than_the_line_threshold() -> None:
    cfg = TrappedBallConfig()  # line_threshold 220
    page = np.full((8, 8), 255, np.uint8)
    assert not cfg.has_lines(page)
    page[3, 3] = cfg.line_threshold  # as light as the threshold: paper
    assert not cfg.has_lines(page)
    page[3, 3] = cfg.line_threshold - 1
    assert cfg.has_lines(page)
    assert not TrappedBallConfig(line_threshold=100).has_lines(page)


def test_page_where_no_ball_fits_is_flood_filled() -> None:
    sketch = np.full((40, 40), 255, np.uint8)
    sketch[:, ::2] = 0  # 1-px paper stripes: no ball of radius >= 1 fits anywhere
    labels = trapped_ball_regions(sketch, TrappedBallConfig(min_region_area=0))
    assert_valid_region_map(labels, sketch.shape)
    assert labels.max() + 1 == 20  # one region per stripe


def test_tiny_fragments_are_merged_into_the_longest_border_neighbour() -> None:
    labels = np.zeros((10, 10), np.int32)
    labels[:, 5:] = 1
    labels[4:6, 0] = 2  # touches only region 0
    labels[0:4, 5] = 3  # borders: 4 pixel pairs with region 0, 5 with region 1 (the larger id)
    merged = merge_small_regions(labels, min_area=5)
    assert set(np.unique(merged)) == {0, 1}
    assert np.all(merged[4:6, 0] == 0)
    assert np.all(merged[0:4, 5] == 1)
    two_fragments = np.full((3, 6), 9, np.int32)  # 9: line pixels, ignored
    two_fragments[0] = [1, 1, 1, 2, 2, 2]  # each below min_area, together not: they merge and stay
    merged = merge_small_regions(two_fragments, min_area=4, ignore_label=9)
    assert len(np.unique(merged[0])) == 1 and np.all(merged[1:] == 9)


def test_merge_respects_candidates_and_ignore_label() -> None:
    labels = np.array([[1, 1, 0, 2, 2, 2], [1, 1, 0, 2, 2, 2]])
    # Region 1 is small but only touches region 2 through line label 0: with 0 ignored it has no neighbour.
    assert np.array_equal(merge_small_regions(labels, min_area=5, ignore_label=0), labels)
    kept = merge_small_regions(labels, min_area=5, candidates=np.array([False, False, False]))
    assert np.array_equal(kept, labels)


def test_invalid_sketches_raise_value_error() -> None:
    with pytest.raises(ValueError, match="uint8"):
        trapped_ball_regions(np.full((32, 32), 1.0, np.float32))
    with pytest.raises(ValueError, match="single-channel"):
        trapped_ball_regions(np.full((32, 32, 3), 255, np.uint8))
    with pytest.raises(ValueError, match="numpy array"):
        trapped_ball_regions([[255, 0], [0, 255]])
    with pytest.raises(ValueError, match="ball_radii"):
        TrappedBallConfig(ball_radii=())


def test_radii_and_areas_scale_with_resolution() -> None:
    cfg = TrappedBallConfig()
    assert scaled_radii(cfg, (256, 256)) == [2, 1]
    assert scaled_radii(cfg, (1024, 512)) == [8, 4]
    assert scaled_radii(cfg, (64, 64)) == [1]
    assert scaled_radii(TrappedBallConfig(ball_radii=(3, 2, 1)), (128, 128)) == [2, 1]  # 1.5 rounds half up
    # Radii scale exactly from 256 to 1024 (x4), so the upscaled sketch is segmented alike.
    small = closed_shapes_sketch(256)
    large = cv2.resize(small, (1024, 1024), interpolation=cv2.INTER_NEAREST)
    small_labels = trapped_ball_regions(small)
    large_labels = trapped_ball_regions(large)
    assert small_labels.max() == large_labels.max() == paper_components(small)[0] - 1
    paper = small >= 220  # line pixels are split between neighbours by nearest paper, which rounding moves a bit
    downscaled = resize_labels(large_labels, (256, 256))
    assert adjusted_rand_index(downscaled[paper][None], small_labels[paper][None]) > 0.99


def test_radii_in_px_at_the_working_size_replace_the_scaled_ones() -> None:
    assert scaled_radii(TrappedBallConfig(radii_px=(1, 3)), (64, 64)) == [3, 1]
    assert scaled_radii(TrappedBallConfig(radii_px=(2, 1)), (1024, 1024)) == [2, 1]  # not scaled
    sketch = np.full((64, 64), 255, np.uint8)
    sketch[:, 31:33] = 0  # a vertical line splitting the page ...
    sketch[20:24, 31:33] = 255  # ... with a 4-px gap: the scaled 1-px ball (3 px wide) rolls through, a 2-px one not
    assert trapped_ball_regions(sketch).max() + 1 == 1
    assert trapped_ball_regions(sketch, TrappedBallConfig(radii_px=(2,))).max() + 1 == 2
    assert region_extractor("trapped_ball", trapped_ball_radii=[2])(sketch).max() + 1 == 2
    assert region_extractor("trapped_ball", trapped_ball_radii=None)(sketch).max() + 1 == 1
    for bad in ((), (0,), (1.5,)):
        with pytest.raises(ValueError, match="radii_px"):
            TrappedBallConfig(radii_px=bad)


def test_trapped_ball_beats_patches_on_drawn_art() -> None:
    rng = np.random.default_rng(3)
    sketch = np.full((128, 128), 255, np.uint8)
    gt_paint = np.zeros((128, 128), np.int32)
    for index in range(1, 9):
        centre = tuple(int(v) for v in rng.integers(20, 108, size=2))
        axes = tuple(int(v) for v in rng.integers(8, 30, size=2))
        cv2.ellipse(gt_paint, centre, axes, 0, 0, 360, index, -1)
    n, gt = cv2.connectedComponents((gt_paint == 0).astype(np.uint8), connectivity=4)
    edges = np.zeros_like(sketch, dtype=bool)
    edges[:, 1:] |= gt_paint[:, 1:] != gt_paint[:, :-1]
    edges[1:, :] |= gt_paint[1:, :] != gt_paint[:-1, :]
    sketch[edges] = 0
    gt = relabel_contiguous(gt_paint * 100 + gt)
    tb = score_regions(trapped_ball_regions(sketch), gt)
    patches = score_regions(patch_grid(128, 128, 64), gt)
    assert tb["ari"] > 0.8 and tb["boundary_f"] > 0.9
    assert tb["ari"] > patches["ari"] + 0.5


# ------------------------------------------------------------------------------------------------- patches


@pytest.mark.parametrize("n_patches", [1, 64, 169, 256, 1024])
def test_patch_grid_counts_at_256(n_patches: int) -> None:
    grid = patch_grid(256, 256, n_patches)
    assert_valid_region_map(grid, (256, 256))
    counts = np.bincount(grid.ravel())
    assert len(counts) == n_patches
    assert counts.max() - counts.min() <= 2 * 256 // int(np.sqrt(n_patches)) + 1  # near-equal sizes (169: 13 ∤ 256)


def test_patch_grid_other_sizes_and_errors() -> None:
    grid = patch_grid(100, 60, 64)
    assert_valid_region_map(grid, (100, 60))
    assert grid.max() + 1 == 64
    assert grid[0, 0] == 0 and grid[0, -1] == 7 and grid[-1, 0] == 56
    with pytest.raises(ValueError, match="perfect square"):
        patch_grid(64, 64, 50)
    with pytest.raises(ValueError, match="do not fit"):
        patch_grid(16, 16, 1024)
    with pytest.raises(ValueError, match="positive"):
        patch_grid(16, 16, 0)


# ------------------------------------------------------------------------------------------------- label utilities


def test_relabel_contiguous() -> None:
    labels = np.array([[5, 9], [5, 100_000]], np.int64)
    relabelled = relabel_contiguous(labels)
    assert relabelled.dtype == np.uint16
    assert relabelled.tolist() == [[0, 1], [0, 2]]
    huge = np.array([[0, 2**40]], np.int64)  # sparse ids take the np.unique path
    assert relabel_contiguous(huge).tolist() == [[0, 1]]
    with pytest.raises(ValueError, match="uint16"):
        relabel_contiguous(np.arange(70_000).reshape(350, 200))
    with pytest.raises(ValueError, match="negative"):
        relabel_contiguous(np.array([[-1, 0]]))
    with pytest.raises(ValueError, match="2-D"):
        relabel_contiguous(np.zeros((2, 2, 2), np.int32))


def test_resize_labels_relabels() -> None:
    labels = np.zeros((64, 64), np.uint16)
    labels[:, 32:] = 1
    labels[11, 11] = 2  # a one-pixel region off the sampling grid (pixel centres 2, 6, 10, ...)
    small = resize_labels(labels, (16, 16))
    assert small.shape == (16, 16) and is_contiguous(small)
    assert small.max() == 1
    assert resize_labels(labels, (128, 96)).shape == (128, 96)
    with pytest.raises(ValueError, match="size"):
        resize_labels(labels, (0, 4))


def test_random_colour_preview_is_seeded() -> None:
    labels = patch_grid(32, 32, 16)
    preview = random_colour_preview(labels, seed=1)
    assert preview.shape == (32, 32, 3) and preview.dtype == np.uint8
    assert np.array_equal(preview, random_colour_preview(labels, seed=1))
    assert not np.array_equal(preview, random_colour_preview(labels, seed=2))


def test_region_adjacency_counts_border_pairs() -> None:
    labels = np.array([[0, 0, 1], [0, 0, 1], [2, 2, 1]])
    pairs, lengths = region_adjacency(labels)
    table = {tuple(p): n for p, n in zip(pairs.tolist(), lengths.tolist())}
    assert table == {(0, 1): 2, (0, 2): 2, (1, 2): 1}


def test_fill_from_nearest() -> None:
    labels = np.array([[1, 0, 0, 0, 2]], np.int32)
    filled = fill_from_nearest(labels, labels == 0)
    assert filled.tolist() == [[1, 1, 1, 2, 2]] or filled.tolist() == [[1, 1, 2, 2, 2]]
    with pytest.raises(ValueError, match="no pixel is labelled"):
        fill_from_nearest(labels, np.ones_like(labels, bool))


# ------------------------------------------------------------------------------------------------- quality


def test_quality_of_ground_truth_against_itself_is_perfect() -> None:
    gt = trapped_ball_regions(closed_shapes_sketch())
    permuted = (gt.astype(np.int64) * 7 + 3) % 1009  # same partition, other ids
    for pred in (gt, permuted):
        scores = score_regions(pred, gt, tolerance_px=2)
        assert scores["ari"] == pytest.approx(1.0)
        assert scores["boundary_f"] == pytest.approx(1.0)
        assert scores["n_pred"] == scores["n_gt"] == gt.max() + 1


def test_quality_penalises_wrong_maps() -> None:
    gt = patch_grid(64, 64, 16)
    one_region = np.zeros_like(gt)
    scores = score_regions(one_region, gt, tolerance_px=2)
    assert scores["ari"] == pytest.approx(0.0)
    assert scores["boundary_f"] == 0.0
    for shift, low, high in ((1, 0.99, 1.0), (6, 0.0, 0.8)):
        shifted = gt.copy()
        shifted[:, shift:] = gt[:, :-shift]  # vertical borders move `shift` px right
        assert low <= score_regions(shifted, gt, tolerance_px=2)["boundary_f"] <= high
    # Known value: pred {a,a,b,b} vs gt {a,a,a,b}: ARI = (1 - 1*2/6) / (0.5*(2+3) - 2/6*... ) computed by hand.
    pred = np.array([[0, 0, 1, 1]])
    truth = np.array([[0, 0, 0, 1]])
    sum_joint, sum_pred, sum_gt, total = 1, 2, 3, 6
    expected = (sum_joint - sum_pred * sum_gt / total) / (0.5 * (sum_pred + sum_gt) - sum_pred * sum_gt / total)
    assert adjusted_rand_index(pred, truth) == pytest.approx(expected)
    with pytest.raises(ValueError, match="differs"):
        score_regions(gt, gt[:32])
    assert default_tolerance((256, 256)) == 2.0 and default_tolerance((1024, 512)) == 8.0


# ------------------------------------------------------------------------------------------------- dispatcher


def test_dispatcher() -> None:
    sketch = closed_shapes_sketch(64)
    direct = trapped_ball_regions(sketch, TrappedBallConfig(line_threshold=200))
    assert np.array_equal(extract_regions(sketch, "trapped_ball", line_threshold=200), direct)
    assert np.array_equal(extract_regions(sketch, "trapped_ball", cfg=TrappedBallConfig(line_threshold=200)), direct)
    assert extract_regions(sketch, "patches", n_patches=16).max() == 15
    batch = extract_regions_batch(np.stack([sketch, sketch]), "patches", n_patches=4)
    assert batch.shape == (2, 64, 64) and batch.dtype == np.uint16
    with pytest.raises(ValueError, match="unknown region method"):
        extract_regions(sketch, "watershed")
    with pytest.raises(ValueError, match="checkpoint"):
        extract_regions(sketch, "learned")
    with pytest.raises(ValueError, match="n_patches"):
        extract_regions(sketch, "patches")
    with pytest.raises(ValueError, match="uint8"):
        extract_regions(sketch.astype(np.int32), "patches", n_patches=4)
    assert parse_source("patches_169") == ("patches", {"n_patches": 169})
    assert parse_source("trapped_ball") == ("trapped_ball", {})
    assert parse_source("learned") == parse_source("learned_all_styles") == ("learned", {})
    with pytest.raises(ValueError, match="unknown region source"):
        parse_source("patches_x")


def test_timing_row_names_the_device_a_source_ran_on():
    from rasc.regions.build import timing_row

    labels, seconds = np.zeros((2, 8, 8), np.uint16), np.array([0.1, 0.3])
    assert timing_row("learned", "test", "xdog", seconds, labels, "cuda:0")["device"] == "cuda:0"
    assert timing_row("learned_all_styles", "test", "xdog", seconds, labels, "cuda:0")["device"] == "cuda:0"
    assert timing_row("trapped_ball", "test", "xdog", seconds, labels, "cuda:0")["device"] == "cpu"  # no network
    assert timing_row("patches_64", "test", "xdog", seconds, labels)["device"] == "cpu"
