"""Evaluation of one trained generator on one test set (DESIGN §6).

FID, bleeding, semantic inconsistency and region colour error are measured on each method's default output (for
RASC: ``w`` predicted from the sketch); diversity on colourings from random ``w`` (under the style prior fitted
after training, or the paper's N(0, 1): ``eval.style_prior``, rasc.models.style_prior): their raw spread, and their
precision and recall against each drawing's known valid colourings (rasc.metrics.diversity). Metrics that need
ground truth are ``None`` (N/A) on sketches without it, never 0.

Test set R (real sketches without ground truth): FID needs no pairing, so it is measured, against the same test
illustrations as A–C; it then mixes colouring quality with how far the sketches' content is from the training
data, so compare methods within R, not R with A–C. Bleeding, inconsistency and region colour error need the
ground-truth regions and colours: N/A. Diversity is N/A too: DESIGN §6 averages it over ground-truth regions, and a
diversity over the sketch's own extracted regions would be a different number, not comparable with A–C's.
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
    prior: str = "fitted",
) -> np.ndarray:
    """Colourings of every sketch (N, H, W) with its region map → uint8 (N, n_samples, H, W, 3).

    ``seed=None`` uses the predicted ``w`` (one colouring each); a seed draws ``n_samples`` random ``w`` per sketch
    under the style ``prior`` ("fitted" or "standard", rasc.models.style_prior).
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
        rgb = colorize(generator, sketch, labels, seed=batch_seed, n_samples=n_samples, prior=prior)  # (B,S,3,H,W)
        outputs.append(rgb_to_uint8(rgb.flatten(0, 1)).reshape(len(sketch), n_samples, *rgb.shape[-2:], 3))
    return np.concatenate(outputs)


def region_metrics(
    predicted: np.ndarray, samples: np.ndarray, sketches: np.ndarray, illustrations: Mapping[str, np.ndarray]
) -> dict[str, float | None]:
    """Bleeding, inconsistency, region colour error and diversity over a test set (None without ground truth),
    with the fractions of ground-truth regions and colour groups they measure (``rasc.metrics.artifacts``).

    predicted (N, H, W, 3) default colourings; samples (N, S, H, W, 3) random-w colourings, or None (diversity and
    its precision and recall None: a reference colouring has one colouring per sketch). Line pixels are the sketch's ink joined with the
    ground truth's own outlines (``lines_clean``), so that the ground truth scores 0 even where a rough sketch's
    strokes miss the real outlines.
    """
    from rasc.metrics.artifacts import artifact_scores

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
        "diversity": None if samples is None else _diversity(samples, sketches, illustrations),
        "regions_measured": scores.regions_measured,
        "groups_measured": scores.groups_measured,
    } | _coverage(samples, sketches, illustrations)


def _with_regions(ground_truth: Mapping[str, np.ndarray] | None) -> Mapping[str, np.ndarray]:
    """The ground truth when it has regions to measure on (a folder's illustrations have none), else {}."""
    return ground_truth if ground_truth is not None and "regions" in ground_truth else {}


def _diversity(samples: np.ndarray, sketches: np.ndarray, ground_truth: Mapping[str, np.ndarray] | None) -> float | None:
    from rasc.metrics.artifacts import diversity_score

    truth = _with_regions(ground_truth)
    return diversity_score(samples, sketches, gt_regions=truth.get("regions"), gt_lines=truth.get("lines_clean"))


def _coverage(samples: np.ndarray | None, sketches: np.ndarray,
              ground_truth: Mapping[str, np.ndarray] | None) -> dict[str, float | None]:
    """``diversity_precision`` and ``diversity_recall`` of random-w samples (N, S, H, W, 3) against the known valid
    colourings stored with the ground truth (``alternatives``, ``alternative_count``; rasc.metrics.diversity);
    None without samples, regions or alternatives."""
    from rasc.metrics.diversity import coverage_scores

    truth = _with_regions(ground_truth)
    if samples is None or "alternatives" not in truth:
        return {"diversity_precision": None, "diversity_recall": None}
    scores = coverage_scores(samples, sketches, alternatives=truth["alternatives"],
                             alternative_count=truth.get("alternative_count"), gt_regions=truth["regions"],
                             gt_lines=truth.get("lines_clean"))
    return {"diversity_precision": scores.precision, "diversity_recall": scores.recall}


def fixed_colouring_metrics(
    colouring: np.ndarray,
    sketches: np.ndarray,
    ground_truth: Mapping[str, np.ndarray] | None,
    backbone: Any,
    reference_features: Any,
    floor: float,
    coverage: bool = False,
) -> dict[str, Any]:
    """FID, bleeding, inconsistency and colour error of one colouring per sketch (N, H, W, 3) — a reference
    colouring or an oracle — with diversity None (one colouring per sketch has no spread). With ``coverage`` the
    colouring is also scored as the one sample of each drawing (``diversity_precision``, ``diversity_recall``): the
    score random-w samples must beat to be more than a fixed answer (with ground truth and its alternatives)."""
    from rasc.metrics.fid import fid_between

    metrics: dict[str, Any] = {
        "images": len(sketches),
        "fid": fid_between(backbone.features(colouring), reference_features),
        "fid_floor": floor,
        "fid_backbone": backbone.name,
    }
    metrics |= region_metrics(colouring, None, sketches, _with_regions(ground_truth))
    if coverage:
        metrics |= _coverage(colouring[:, None], sketches, ground_truth)
    return metrics


def evaluate_set(
    generator: torch.nn.Module,
    sketches: np.ndarray,
    regions: np.ndarray,
    ground_truth: Mapping[str, np.ndarray] | None,
    backbone: Any,
    reference_features: Any,
    floor: float,
    diversity_samples: int,
    seed: int = 0,
    device: str = "cpu",
    prior: str = "fitted",
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """All metrics of one generator on one test set → (metrics, colourings).

    ``ground_truth`` holds the illustrations the sketches were drawn from, image by image (the test split's, for
    A–C; their ``regions`` and groups when known), or None for sketches without any (R): the metrics that need it
    are then None. ``reference_features`` are the backbone's features of the test split's colour images (computed
    once) and ``floor`` the FID of a second real sample of the same size as ``sketches`` against them.

    Colourings: ``predicted`` (N, H, W, 3) with the predicted w, ``samples`` (N, S, H, W, 3) from random w under
    the style ``prior`` (``style_prior`` in the metrics names the one used: "fitted" falls back to "standard" for a
    model that carries no fitted prior) and,
    for a model with a style encoder and ground-truth colours, ``oracle`` (N, H, W, 3) with w = the posterior mean
    of the ground truth (reference row ``<method>:oracle``), whose metrics are stored under ``oracle``.
    """
    from rasc.models.inference import prior_in_use
    from rasc.references import oracle_colouring

    if ground_truth is not None and len(ground_truth["color"]) != len(sketches):
        raise ValueError(f"ground truth has {len(ground_truth['color'])} images for {len(sketches)} sketches: "
                         f"pass None for sketches without ground truth")
    colourings = {
        "predicted": colorize_set(generator, sketches, regions, device=device)[:, 0],  # (N, H, W, 3)
        "samples": colorize_set(generator, sketches, regions, seed=seed, n_samples=diversity_samples, device=device,
                                prior=prior),
    }
    metrics = fixed_colouring_metrics(colourings["predicted"], sketches, ground_truth, backbone, reference_features,
                                      floor)
    metrics["diversity"] = _diversity(colourings["samples"], sketches, ground_truth)
    metrics |= _coverage(colourings["samples"], sketches, ground_truth)
    metrics["style_prior"] = prior_in_use(generator, prior)  # None for a model without a latent
    if ground_truth is not None and getattr(generator.cfg, "latent", None) == "posterior":
        colourings["oracle"] = oracle_colouring(generator, sketches, regions, ground_truth["color"], device=device)
        metrics["oracle"] = fixed_colouring_metrics(colourings["oracle"], sketches, ground_truth, backbone,
                                                    reference_features, floor)
    return metrics, colourings
