"""Data-set statistics (rasc.data.stats) and the shared npz layout (rasc.data.layout)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from rasc.data.layout import stack_illustrations
from rasc.data.stats import dataset_statistics, line_region_colours, save_figure

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def two_halves_and_a_box():
    """16×16: a vertical line at x = 8; left half red above / blue below without a line between; right half white
    with a 1-px box (3 px inside) → line-art regions: left (2 colours), right outside the box, inside (< 5 px)."""
    color = np.zeros((16, 16, 3), np.uint8)
    color[:8, :8], color[8:, :8], color[:, 8:] = RED, BLUE, WHITE
    lines = np.full((16, 16), 255, np.uint8)
    lines[:, 8] = 0
    lines[10:15, 10:15] = 0
    lines[11:14, 11:14] = 255  # a 3×3 = 9 px inside; make it 2 px to be a speck
    lines[11:14, 12:14] = 0
    lines[13, 11] = 0  # inside: (11, 11), (12, 11) → 2 px
    color[lines == 0] = 0
    return color, lines


def test_line_region_colours_counts_colours_of_each_line_art_region():
    color, lines = two_halves_and_a_box()
    assert sorted(line_region_colours(color, lines)) == [1, 2]  # the 2-px speck is left out (min_area 5)
    assert sorted(line_region_colours(color, lines, min_area=1)) == [1, 1, 2]


def test_dataset_statistics_report_px_per_region_and_multicolour_line_regions():
    color, lines = two_halves_and_a_box()
    regions = np.zeros((16, 16), np.uint16)
    regions[:8, :8], regions[8:, :8], regions[:, 8:] = 0, 1, 2
    stats = dataset_statistics({"color": color[None], "lines_clean": lines[None], "regions": regions[None],
                                "region_group": np.array([[0, 1, 2]])})
    assert stats["regions_mean"] == 3 and stats["px_per_region_mean"] == pytest.approx(256 / 3)
    assert stats["line_regions_multicolour"] == pytest.approx(0.5)
    assert "line_regions_multicolour" not in dataset_statistics({"color": color[None]})  # folder data: no line art


def sample(k: int, value: int = 1):
    image = np.full((4, 4), value, np.uint8)
    return SimpleNamespace(color=np.zeros((4, 4, 3), np.uint8), regions=image.astype(np.uint16), parts=image,
                           lines_clean=image, lines_rough=image, region_group=np.arange(k, dtype=np.int32),
                           region_shadow=np.zeros(k, bool), archetype=7)


def test_stack_illustrations_pads_groups_and_checks_the_count():
    out = stack_illustrations([sample(2), sample(3, 2)], 2, 4, scalars={"archetype": np.int16})
    assert out["region_group"].tolist() == [[0, 1, -1], [0, 1, 2]]
    assert out["region_shadow"].shape == (2, 3) and out["archetype"].tolist() == [7, 7]
    assert out["regions"].dtype == np.uint16 and out["regions"][1].max() == 2
    with pytest.raises(ValueError, match="1 illustrations given, 2 announced"):
        stack_illustrations([sample(2)], 2, 4)
    with pytest.raises(ValueError, match="more than the 1"):
        stack_illustrations([sample(2), sample(2)], 1, 4)


def test_footnote_goes_below_the_figure(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = {}
    for name, footnote in (("plain", ""), ("noted", "All emojis designed by OpenMoji. " * 8)):
        figure, axis = plt.subplots(figsize=(3, 2))
        axis.imshow(np.full((8, 8), 255), cmap="gray", vmin=0, vmax=255)  # a white picture, no axes: no ink
        axis.axis("off")
        save_figure(figure, tmp_path / f"{name}.png", footnote=footnote)
        images[name] = np.asarray(Image.open(tmp_path / f"{name}.png").convert("L"))
    assert not (images["plain"] < 128).any()
    assert images["noted"].shape[0] > images["plain"].shape[0] and (images["noted"] < 128).any()
