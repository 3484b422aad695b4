"""The region-source comparison figure: sketch, each source's map, ground truth (the maps of paper Figs. 9 and 10;
the colourisations beside them are drawn by `rasc.figures.region_comparison_figure`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from rasc.regions.labels import random_colour_preview


def region_sources_figure(
    sketches: np.ndarray,
    maps: Mapping[str, np.ndarray],
    illustrations: Mapping[str, np.ndarray],
    path: str | Path,
    n_samples: int = 5,
    footnote: str = "",
) -> None:
    """One row per sample: colour, sketch, the map of every source (with its region count), ground truth;
    ``footnote`` (a licence notice) below."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rasc.plotting import save_figure

    n = min(n_samples, len(sketches))
    columns = ["colour", "sketch", *maps, *(["ground truth"] if "regions" in illustrations else [])]
    figure, axes = plt.subplots(n, len(columns), figsize=(1.7 * len(columns), 1.7 * n), squeeze=False)
    for row in range(n):
        images = [illustrations["color"][row], sketches[row]]
        titles = ["colour", "sketch"]
        for source, labels in maps.items():
            images.append(random_colour_preview(labels[row], seed=row))
            titles.append(f"{source} ({int(labels[row].max()) + 1})")
        if "regions" in illustrations:
            images.append(random_colour_preview(illustrations["regions"][row], seed=row))
            titles.append(f"ground truth ({int(illustrations['regions'][row].max()) + 1})")
        for col, (image, title) in enumerate(zip(images, titles)):
            axes[row, col].imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255)
            axes[row, col].set_title(title, fontsize=7)
            axes[row, col].axis("off")
    figure.suptitle("Region maps by source on test set A (region count in brackets)", fontsize=9)
    save_figure(figure, path, footnote=footnote)
