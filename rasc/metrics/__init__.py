"""Evaluation metrics: FID (`fid`), the measured MOS proxies (`artifacts`) and seed statistics (`stats`).

The FID names are imported on first use, so `import rasc.metrics` does not load torch.
"""

from __future__ import annotations

import importlib

from rasc.metrics.artifacts import (
    ArtifactScores,
    artifact_scores,
    bleeding,
    diversity,
    diversity_score,
    line_mask_from_sketch,
    region_colour_error,
    semantic_inconsistency,
)
from rasc.metrics.stats import (
    INSUFFICIENT_SEEDS,
    NO,
    VERDICTS,
    WITHIN_NOISE,
    YES,
    OrderingVerdict,
    SeedComparison,
    SeedSummary,
    judge_claim,
    judge_ordering,
    summarize_seeds,
)

_FID_NAMES = ("FIDBackbone", "FIDConfig", "FIDFallbackWarning", "FIDFeatures", "calibration_sample", "fid",
              "fid_between", "fid_floor", "frechet_distance")

__all__ = [
    "ArtifactScores", "artifact_scores", "bleeding", "diversity", "diversity_score", "line_mask_from_sketch",
    "region_colour_error", "semantic_inconsistency",
    "INSUFFICIENT_SEEDS", "NO", "VERDICTS", "WITHIN_NOISE", "YES", "OrderingVerdict", "SeedComparison",
    "SeedSummary", "judge_claim", "judge_ordering", "summarize_seeds",
    *_FID_NAMES,
]


def __getattr__(name: str) -> object:
    if name in _FID_NAMES:
        return getattr(importlib.import_module("rasc.metrics.fid"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
