"""Statistics and pictures of the data set: region counts per split, the contact sheet, the MLflow data run."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from rasc.imageio import atomic_path
from rasc.plotting import save_figure


def regions_per_image(regions: np.ndarray) -> np.ndarray:
    """Region count of each image of a stack of contiguous label maps (N, H, W) → (N,)."""
    return regions.reshape(len(regions), -1).max(axis=1).astype(np.int64) + 1


def groups_per_image(region_group: np.ndarray) -> np.ndarray:
    """Number of distinct colour-sharing groups of each image from ``region_group`` (N, Kmax), -1 padded → (N,)."""
    return np.array([len(np.unique(row[row >= 0])) for row in region_group], dtype=np.int64)


def line_region_colours(color: np.ndarray, lines_clean: np.ndarray, min_area: int = 5) -> np.ndarray:
    """Distinct ground-truth colours in each region of the line art alone (4-connected pieces of paper, at least
    ``min_area`` px) of one image: color (H, W, 3) uint8, lines_clean (H, W) uint8 (< 128 = line) → (R,) int."""
    n, pieces = cv2.connectedComponents((lines_clean >= 128).view(np.uint8), connectivity=4)
    codes = pieces.astype(np.int64) << 24 | (color.astype(np.int64) @ np.array([1 << 16, 1 << 8, 1]))
    colours = np.bincount(np.unique(codes[pieces > 0]) >> 24, minlength=n)  # (n,) distinct colours per piece
    big = np.bincount(pieces.ravel(), minlength=n) >= min_area
    big[0] = False  # the lines themselves
    return colours[big]


def dataset_statistics(arrays: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Images, regions per image (mean/median/p90/max/min), px per region, colour groups per image of one split and,
    where it has line art, the fraction of line-art regions holding more than one ground-truth colour (colour
    boundaries without a line: what a region extractor working from the lines alone cannot separate)."""
    stats: dict[str, float] = {"images": float(len(arrays["color"]))}
    if "regions" in arrays:
        counts = regions_per_image(arrays["regions"])
        groups = groups_per_image(arrays["region_group"])
        px_per_region = arrays["regions"][0].size / counts
        stats |= {
            "regions_mean": float(counts.mean()),
            "regions_median": float(np.median(counts)),
            "regions_p90": float(np.percentile(counts, 90)),
            "regions_max": float(counts.max()),
            "regions_min": float(counts.min()),
            "px_per_region_mean": float(px_per_region.mean()),
            "px_per_region_median": float(np.median(px_per_region)),
            "groups_mean": float(groups.mean()),
            "groups_max": float(groups.max()),
        }
    if "lines_clean" in arrays:
        colours = np.concatenate([line_region_colours(c, l) for c, l in zip(arrays["color"], arrays["lines_clean"])])
        stats["line_regions_multicolour"] = float((colours > 1).mean()) if len(colours) else float("nan")
    return stats


def split_statistics(splits: Mapping[str, Mapping[str, np.ndarray]]) -> pd.DataFrame:
    """One row of :func:`dataset_statistics` per split."""
    return pd.DataFrame([{"split": name, **dataset_statistics(arrays)} for name, arrays in splits.items()])


def write_csv(table: pd.DataFrame, path: str | Path) -> None:
    """Write a table as CSV, atomically."""
    with atomic_path(path) as temporary:
        table.to_csv(temporary, index=False, float_format="%.4g")


def plot_region_counts(splits: Mapping[str, Mapping[str, np.ndarray]], path: str | Path) -> None:
    """Histogram of regions per image for every split that has ground-truth regions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.5))
    for name, arrays in splits.items():
        if "regions" in arrays:
            counts = regions_per_image(arrays["regions"])
            axis.hist(counts, bins=30, alpha=0.6, label=f"{name} (mean {counts.mean():.0f}, max {counts.max()})")
    axis.set_xlabel("regions per image")
    axis.set_ylabel("images")
    axis.set_title("Region-count distribution (paper §IV-F: mean 166, max 729 at 256²)")
    axis.legend()
    save_figure(figure, path)


def contact_sheet(
    illustrations: Mapping[str, np.ndarray],
    sketches: Mapping[str, np.ndarray],
    path: str | Path,
    n_samples: int = 6,
    footnote: str = "",
) -> None:
    """Illustrations, their sketches in each style and the ground-truth regions, one sample per column (titled with
    the file names where the illustrations have them); ``footnote`` goes below the grid."""
    from rasc.plotting import image_grid
    from rasc.regions.labels import random_colour_preview

    n = min(n_samples, len(illustrations["color"]))
    rows: list[tuple[str, list[np.ndarray]]] = [("colour", list(illustrations["color"][:n]))]
    rows += [(f"sketch ({style})", list(images[:n])) for style, images in sketches.items()]
    if "regions" in illustrations:
        rows.append(("GT regions", [random_colour_preview(r, seed=0) for r in illustrations["regions"][:n]]))
    names = [str(name) for name in illustrations["names"][:n]] if "names" in illustrations else None
    image_grid(
        [images for _, images in rows],
        [title for title, _ in rows],
        [name if len(name) <= 16 else name[:15] + "…" for name in names] if names else [f"#{i}" for i in range(n)],
        path,
        "Data samples: test split (A = XDoG, B = clean, C = rough)",
        footnote=footnote,
    )


def log_data_run(
    arrays: Mapping[str, np.ndarray], split: str, data_cfg: Mapping[str, Any], experiment: str, rule: str
) -> None:
    """One MLflow run per data job with the data-set statistics as metrics."""
    from rasc.tracking import Tracker, config_hash

    tracker = Tracker.start(
        experiment,
        run_name=f"data-{split}",
        tags={"snakemake.rule": rule, "rasc.split": split, "config.sha256": config_hash(data_cfg)},
    )
    with tracker:
        tracker.log_params({"data": dict(data_cfg)})
        tracker.log_metrics({f"data/{k}": v for k, v in dataset_statistics(arrays).items()}, step=0)
