"""Evaluation of one trained generator on one test set (DESIGN §6).

FID, bleeding, semantic inconsistency and region colour error are measured on each method's default output (for
RASC: ``w`` predicted from the sketch); diversity on colourings from random ``w ~ N(0, 1)``. Metrics that need
ground truth are ``None`` (N/A) on sketches without it, never 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

LINE_THRESHOLD = 128  # sketch pixels darker than this are line pixels, excluded from the region metrics


def colorize_set(
    generator: torch.nn.Module,
    sketches: np.ndarray,
    regions: np.ndarray,
    seed: int | None = None,
    n_samples: int = 1,
    batch_size: int = 32,
    device: str = "cpu",
) -> np.ndarray:
    """Colourings of every sketch (N, H, W) with its region map → uint8 (N, n_samples, H, W, 3).

    ``seed=None`` uses the predicted ``w`` (one colouring each); a seed draws ``n_samples`` random ``w`` per sketch.
    """
    from rasc.models.inference import colorize, labels_to_tensor, rgb_to_uint8, sketch_to_tensor

    outputs = []
    for start in range(0, len(sketches), batch_size):
        sketch = sketch_to_tensor(sketches[start : start + batch_size]).to(device)  # (B, 1, H, W)
        labels = labels_to_tensor(regions[start : start + batch_size]).to(device)  # (B, H, W)
        batch_seed = None if seed is None else seed + start
        rgb = colorize(generator, sketch, labels, seed=batch_seed, n_samples=n_samples)  # (B, S, 3, H, W)
        outputs.append(rgb_to_uint8(rgb.flatten(0, 1)).reshape(len(sketch), n_samples, *rgb.shape[-2:], 3))
    return np.concatenate(outputs)


def region_metrics(
    predicted: np.ndarray, samples: np.ndarray, sketches: np.ndarray, illustrations: Mapping[str, np.ndarray]
) -> dict[str, float | None]:
    """Mean bleeding, inconsistency, region colour error and diversity over a test set (None without ground truth).

    predicted (N, H, W, 3) default colourings; samples (N, S, H, W, 3) random-w colourings.
    """
    from rasc.metrics.artifacts import bleeding, diversity, region_colour_error, semantic_inconsistency

    if "regions" not in illustrations:
        return {"bleeding": None, "inconsistency": None, "colour_error": None, "diversity": None}
    per_image: dict[str, list[float]] = {"bleeding": [], "inconsistency": [], "colour_error": [], "diversity": []}
    for i, pred in enumerate(predicted):
        gt_regions = illustrations["regions"][i]
        line_mask = sketches[i] < LINE_THRESHOLD  # (H, W) bool
        group = illustrations["region_group"][i]
        per_image["bleeding"].append(bleeding(pred, gt_regions, line_mask))
        per_image["inconsistency"].append(semantic_inconsistency(pred, gt_regions, group[group >= 0], line_mask))
        per_image["colour_error"].append(region_colour_error(pred, illustrations["color"][i], gt_regions, line_mask))
        per_image["diversity"].append(diversity(samples[i], gt_regions, line_mask))
    return {name: float(np.nanmean(values)) for name, values in per_image.items()}


def evaluate_set(
    generator: torch.nn.Module,
    sketches: np.ndarray,
    regions: np.ndarray,
    illustrations: Mapping[str, np.ndarray],
    second_sample: np.ndarray,
    backbone: Any,
    diversity_samples: int,
    seed: int = 0,
    device: str = "cpu",
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """All metrics of one generator on one test set → (metrics, default colourings, random-w colourings).

    ``illustrations`` holds the test split's colour images (the FID reference) and, when known, its ground truth;
    ``second_sample`` is another real sample of the same distribution, whose FID is the floor.
    """
    from rasc.metrics.fid import fid

    predicted = colorize_set(generator, sketches, regions, device=device)[:, 0]  # (N, H, W, 3)
    samples = colorize_set(generator, sketches, regions, seed=seed, n_samples=diversity_samples, device=device)
    reference = illustrations["color"]
    has_ground_truth = "regions" in illustrations and len(reference) == len(sketches)
    metrics: dict[str, Any] = {
        "images": len(sketches),
        "fid": fid(backbone, predicted, reference),
        "fid_floor": fid(backbone, second_sample[: len(reference)], reference),
        "fid_backbone": backbone.name,
    }
    metrics |= region_metrics(predicted, samples, sketches, illustrations if has_ground_truth else {})
    return metrics, predicted, samples
