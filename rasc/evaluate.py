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
    from rasc.models.inference import (
        colorize,
        labels_to_tensor,
        rgb_to_uint8,
        sketch_to_tensor,
    )

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
    """Bleeding, inconsistency, region colour error and diversity over a test set (None without ground truth).

    predicted (N, H, W, 3) default colourings; samples (N, S, H, W, 3) random-w colourings. Line pixels are the
    sketch's ink joined with the ground truth's own outlines (``lines_clean``), so that the ground truth scores 0
    even where a rough sketch's strokes miss the real outlines.
    """
    from rasc.metrics.artifacts import artifact_scores, diversity_score

    truth = {
        "gt_color": illustrations.get("color"),
        "gt_regions": illustrations.get("regions"),
        "gt_lines": illustrations.get("lines_clean"),
    }
    scores = artifact_scores(predicted, sketches, region_group=illustrations.get("region_group"), **truth)
    return {
        "bleeding": scores.bleeding,
        "inconsistency": scores.semantic_inconsistency,
        "colour_error": scores.region_colour_error,
        "diversity": diversity_score(samples, sketches, gt_regions=truth["gt_regions"], gt_lines=truth["gt_lines"]),
    }


def evaluate_set(
    generator: torch.nn.Module,
    sketches: np.ndarray,
    regions: np.ndarray,
    illustrations: Mapping[str, np.ndarray],
    backbone: Any,
    reference_features: Any,
    floor: float,
    diversity_samples: int,
    seed: int = 0,
    device: str = "cpu",
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """All metrics of one generator on one test set → (metrics, default colourings, random-w colourings).

    ``illustrations`` holds the test split's colour images and, when known, its ground truth;
    ``reference_features`` are the backbone's features of those colour images (computed once per test split) and
    ``floor`` the FID of a second real sample against them.
    """
    from rasc.metrics.fid import fid_between

    predicted = colorize_set(generator, sketches, regions, device=device)[:, 0]  # (N, H, W, 3)
    samples = colorize_set(generator, sketches, regions, seed=seed, n_samples=diversity_samples, device=device)
    has_ground_truth = "regions" in illustrations and len(illustrations["color"]) == len(sketches)
    metrics: dict[str, Any] = {
        "images": len(sketches),
        "fid": fid_between(backbone.features(predicted), reference_features),
        "fid_floor": floor,
        "fid_backbone": backbone.name,
    }
    metrics |= region_metrics(predicted, samples, sketches, illustrations if has_ground_truth else {})
    return metrics, predicted, samples
