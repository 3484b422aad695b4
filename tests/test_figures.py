"""The figures drawn from workflow outputs: the colourisation-by-region-map comparison (paper Figs. 9 and 10)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from rasc.figures import region_comparison_figure, region_comparison_panels
from rasc.regions.labels import random_colour_preview

N, H, W = 4, 16, 16
DPI, INCHES_PER_PANEL = 110, 1.6  # save_figure's dpi and image_grid's panel size


@pytest.fixture
def inputs():
    """Four 16×16 sketches, two experiments with their colourings and region maps, and the ground truth."""
    rng = np.random.default_rng(0)
    sketches = rng.integers(0, 256, (N, H, W), dtype=np.uint8)  # (N, H, W)
    colorized = {name: rng.integers(0, 256, (N, H, W, 3), dtype=np.uint8) for name in ("full", "patches_4")}
    halves = np.repeat((np.arange(W) >= W // 2)[None, None], H, axis=1)  # (1, H, W): two regions
    quarters = (np.arange(H)[:, None] >= H // 2) * 2 + (np.arange(W)[None, :] >= W // 2)  # (H, W): four patches
    region_maps = {
        "trapped_ball": np.repeat(halves, N, axis=0).astype(np.uint16),  # (N, H, W)
        "patches_4": np.repeat(quarters[None], N, axis=0).astype(np.uint16),  # (N, H, W)
    }
    sources = {"full": "trapped_ball", "patches_4": "patches_4"}
    ground_truth = rng.integers(0, 256, (N, H, W, 3), dtype=np.uint8)  # (N, H, W, 3)
    return sketches, colorized, region_maps, sources, ground_truth


def test_panels_pair_each_colouring_with_its_region_map(inputs):
    sketches, colorized, region_maps, sources, ground_truth = inputs
    rows, titles = region_comparison_panels(sketches, colorized, region_maps, sources, ground_truth, n_sketches=3)
    assert titles == ["sketch", "full\ncolouring", "trapped_ball\nregion map",
                      "patches_4\ncolouring", "patches_4\nregion map", "ground truth"]
    assert len(rows) == 3 and all(len(row) == len(titles) for row in rows)
    row = rows[2]
    np.testing.assert_array_equal(row[0], sketches[2])
    np.testing.assert_array_equal(row[1], colorized["full"][2])
    np.testing.assert_array_equal(row[2], random_colour_preview(region_maps["trapped_ball"][2], seed=2))
    np.testing.assert_array_equal(row[3], colorized["patches_4"][2])
    assert len(np.unique(row[4].reshape(-1, 3), axis=0)) <= 4  # four patches, a colour each
    np.testing.assert_array_equal(row[5], ground_truth[2])
    rows, titles = region_comparison_panels(sketches, colorized, region_maps, sources, None, n_sketches=10)
    assert len(rows) == N and titles[-1] == "patches_4\nregion map" and len(rows[0]) == 5


def test_figure_is_a_png_of_the_grid(inputs, tmp_path):
    sketches, colorized, region_maps, sources, ground_truth = inputs
    path = tmp_path / "figures" / "region_sources_colorized.png"
    region_comparison_figure(sketches, colorized, region_maps, sources, ground_truth, path, "Test set A", n_sketches=3)
    width, height = Image.open(path).size
    columns, rows = 6, 3
    assert abs(width - columns * INCHES_PER_PANEL * DPI) < 0.2 * columns * INCHES_PER_PANEL * DPI
    assert abs(height - rows * INCHES_PER_PANEL * DPI) < 0.3 * rows * INCHES_PER_PANEL * DPI
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # written atomically: no temporary left


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c, m, s: c.update(full=c["full"][:2]), r"colourings of 'full' has shape \(2, 16, 16, 3\)"),
        (lambda c, m, s: m.update(patches_4=m["patches_4"][:, :8]), r"region maps of 'patches_4' has shape"),
        (lambda c, m, s: m.pop("trapped_ball"), r"no region maps of source\(s\) \['trapped_ball'\]"),
        (lambda c, m, s: s.pop("patches_4"), r"must name the same experiments"),
    ],
)
def test_mismatched_inputs_are_refused_with_what_differs(inputs, tmp_path, change, message):
    sketches, colorized, region_maps, sources, ground_truth = inputs
    change(colorized, region_maps, sources)
    path = tmp_path / "figure.png"
    with pytest.raises(ValueError, match=message):
        region_comparison_figure(sketches, colorized, region_maps, sources, ground_truth, path, "A", n_sketches=3)
    assert not path.exists()


def test_ground_truth_of_another_size_is_refused(inputs, tmp_path):
    sketches, colorized, region_maps, sources, ground_truth = inputs
    with pytest.raises(ValueError, match="ground truth has shape"):
        region_comparison_panels(sketches, colorized, region_maps, sources, ground_truth[:, :8, :8], n_sketches=3)


def test_image_grid_has_no_blank_band_under_its_title(tmp_path):
    """A tall grid (the qualitative figure has ten rows) starts right under its title, not a tenth of the page lower."""
    import cv2

    from rasc.plotting import image_grid

    rows = [[np.zeros((16, 16, 3), np.uint8)] * 3 for _ in range(10)]
    image_grid(rows, [f"row {r}" for r in range(10)], ["#0", "#1", "#2"], tmp_path / "grid.png", "title")
    page = cv2.imread(str(tmp_path / "grid.png"), cv2.IMREAD_GRAYSCALE)
    mostly_black = np.flatnonzero((page < 60).mean(axis=1) > 0.5)  # pixel rows across the black images
    assert mostly_black[0] < 0.05 * page.shape[0]
