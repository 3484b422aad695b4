"""Statistics and pictures of the data set: region counts per split, the contact sheet, the MLflow data run."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rasc.imageio import atomic_path


def regions_per_image(regions: np.ndarray) -> np.ndarray:
    """Region count of each image of a stack of contiguous label maps (N, H, W) → (N,)."""
    return regions.reshape(len(regions), -1).max(axis=1).astype(np.int64) + 1


def groups_per_image(region_group: np.ndarray) -> np.ndarray:
    """Number of distinct colour-sharing groups of each image from ``region_group`` (N, Kmax), -1 padded → (N,)."""
    return np.array([len(np.unique(row[row >= 0])) for row in region_group], dtype=np.int64)


def dataset_statistics(arrays: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Images, regions per image (mean/median/p90/max/min) and colour groups per image of one split."""
    stats: dict[str, float] = {"images": float(len(arrays["color"]))}
    if "regions" in arrays:
        counts = regions_per_image(arrays["regions"])
        groups = groups_per_image(arrays["region_group"])
        stats |= {
            "regions_mean": float(counts.mean()),
            "regions_median": float(np.median(counts)),
            "regions_p90": float(np.percentile(counts, 90)),
            "regions_max": float(counts.max()),
            "regions_min": float(counts.min()),
            "groups_mean": float(groups.mean()),
            "groups_max": float(groups.max()),
        }
    return stats


def split_statistics(splits: Mapping[str, Mapping[str, np.ndarray]]) -> pd.DataFrame:
    """One row of :func:`dataset_statistics` per split."""
    return pd.DataFrame([{"split": name, **dataset_statistics(arrays)} for name, arrays in splits.items()])


def write_csv(table: pd.DataFrame, path: str | Path) -> None:
    """Write a table as CSV, atomically."""
    with atomic_path(path) as temporary:
        table.to_csv(temporary, index=False, float_format="%.4g")


def save_figure(figure: Any, path: str | Path, dpi: int = 110) -> None:
    """Save a matplotlib figure as PNG atomically and close it."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=dpi, format="png", bbox_inches="tight")
    plt.close(figure)


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
) -> None:
    """Illustrations, their sketches in each style and the ground-truth regions, one sample per column."""
    from rasc.figures import image_grid
    from rasc.regions.labels import random_colour_preview

    n = min(n_samples, len(illustrations["color"]))
    rows: list[tuple[str, list[np.ndarray]]] = [("colour", list(illustrations["color"][:n]))]
    rows += [(f"sketch ({style})", list(images[:n])) for style, images in sketches.items()]
    if "regions" in illustrations:
        rows.append(("GT regions", [random_colour_preview(r, seed=0) for r in illustrations["regions"][:n]]))
    image_grid(
        [images for _, images in rows],
        [title for title, _ in rows],
        [f"#{i}" for i in range(n)],
        path,
        "Data samples: test split (A = XDoG, B = clean, C = rough)",
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
