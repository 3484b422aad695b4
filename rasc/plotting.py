"""Matplotlib plumbing shared by every figure: the headless backend, an image grid, atomic PNG saving."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rasc.imageio import atomic_path


def pyplot():
    """matplotlib.pyplot on the headless Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure: Any, path: str | Path, dpi: int = 110, footnote: str = "") -> None:
    """Save a matplotlib figure as PNG atomically and close it; ``footnote`` (e.g. a licence notice) goes below."""
    import matplotlib.pyplot as plt

    if footnote:
        figure.text(0.5, 0, footnote, ha="center", va="top", fontsize=6, wrap=True)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=dpi, format="png", bbox_inches="tight")
    plt.close(figure)


def image_grid(rows: Sequence[Sequence[np.ndarray]], row_titles: Sequence[str], col_titles: Sequence[str], path: str | Path, title: str,
               footnote: str = "") -> None:
    """A grid of images (grey or RGB uint8) with titled rows and columns; ``footnote`` (a licence notice) below."""
    plt = pyplot()
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    figure, axes = plt.subplots(n_rows, n_cols, figsize=(1.6 * n_cols, 1.6 * n_rows), squeeze=False,
                                layout="constrained")  # the title sits on the first row, without a blank band
    for r, images in enumerate(rows):
        for c in range(n_cols):
            axis = axes[r, c]
            axis.set_xticks([])
            axis.set_yticks([])
            if c < len(images):
                image = images[c]
                axis.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255)
            else:
                axis.axis("off")
            if r == 0 and c < len(col_titles):
                axis.set_title(col_titles[c], fontsize=7)
        axes[r, 0].set_ylabel(row_titles[r], fontsize=7)
    figure.suptitle(title, fontsize=9)
    save_figure(figure, path, footnote=footnote)
