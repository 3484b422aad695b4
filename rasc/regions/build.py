"""Region maps for a whole split, timed per image, and the stage's summary tables.

A *source* names how a region map is made: ``trapped_ball``, ``learned`` / ``learned_all_styles`` (the
DanbooRegion-style U-Net trained on XDoG sketches / on every sketch style) or ``patches_N`` (a fixed grid of N
patches); see `rasc.regions.sources`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rasc.regions import extract_regions, parse_source
from rasc.regions.labels import relabel_contiguous


def region_extractor(
    source: str,
    model_path: str | Path | None = None,
    trapped_ball_radii: Sequence[int] | None = None,
    device: str = "cpu",
) -> Callable[[np.ndarray], np.ndarray]:
    """A function sketch (H, W) uint8 → labels (H, W) uint16 for ``source`` (the learned ones need their
    checkpoint and run their network on ``device``). ``trapped_ball_radii``: ball radii in px at the sketch's size
    (``regions.trapped_ball_radii``); None scales the default (2, 1) at 256² to the sketch."""
    method, options = parse_source(source)
    if method == "learned":
        if model_path is None:
            raise ValueError(f"the {source} region source needs the trained model's checkpoint")
        options |= {"checkpoint": model_path, "device": device}
    if method == "trapped_ball" and trapped_ball_radii is not None:
        options["radii_px"] = tuple(int(r) for r in trapped_ball_radii)
    return functools.partial(extract_regions, method=method, **options)


def build_region_maps(
    sketches: np.ndarray,
    source: str,
    model_path: str | Path | None = None,
    trapped_ball_radii: Sequence[int] | None = None,
    device: str = "cpu",
) -> tuple[np.ndarray, np.ndarray]:
    """Region maps of every sketch (N, H, W) → (labels (N, H, W) uint16, seconds per image (N,)); a learned
    source's network runs on ``device`` (the other sources always run on the CPU)."""
    extract = region_extractor(source, model_path, trapped_ball_radii, device)
    labels = np.empty(sketches.shape, dtype=np.uint16)
    seconds = np.empty(len(sketches))
    for i, sketch in enumerate(sketches):
        start = time.perf_counter()
        labels[i] = relabel_contiguous(extract(sketch))
        seconds[i] = time.perf_counter() - start
    return labels, seconds


def timing_row(
    source: str, split: str, style: str, seconds: np.ndarray, labels: np.ndarray, device: str = "cpu"
) -> dict[str, float | str]:
    """One row of ``results/regions/timing.csv``: median and p90 sec/img, the device it ran on (a learned
    source's ``device``; the CPU for the others) and regions per image."""
    counts = labels.reshape(len(labels), -1).max(axis=1) + 1
    return {
        "method": source,
        "split": split,
        "style": style,
        "device": device if parse_source(source)[0] == "learned" else "cpu",
        "images": len(seconds),
        "sec_per_img_median": float(np.median(seconds)),
        "sec_per_img_p90": float(np.percentile(seconds, 90)),
        "regions_per_img_mean": float(counts.mean()),
        "regions_per_img_max": int(counts.max()),
    }


def quality_rows(
    source: str, split: str, style: str, labels: np.ndarray, ground_truth: np.ndarray, tolerance_px: float
) -> dict[str, float | str]:
    """Mean quality of a source's maps against the ground-truth regions (ARI and boundary F-score)."""
    from rasc.regions.quality import score_regions

    scores = pd.DataFrame([score_regions(p, g, tolerance_px) for p, g in zip(labels, ground_truth)])
    return {"method": source, "split": split, "style": style, "images": len(scores), **scores.mean().to_dict()}


def summary_table(rows: Sequence[Mapping[str, object]]) -> pd.DataFrame:
    """Rows sorted by split, style and method."""
    return pd.DataFrame(list(rows)).sort_values(["split", "style", "method"]).reset_index(drop=True)
