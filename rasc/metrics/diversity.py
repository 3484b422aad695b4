"""Diversity judged against known valid colourings: precision and recall of the random-w samples.

The raw spread (`rasc.metrics.artifacts.diversity`) grows with any difference between samples, wild colours
included. Here each test drawing comes with K known valid colourings (`rasc.data.alternatives`: the ground truth
first, then the procedural generator's colour re-draws of the same drawing, or OpenMoji's colour variants of the
same line art), and the S random-w samples are compared with them:

- **distance** between two colourings of one drawing: the mean over its measured regions (`artifacts`: off the
  lines, eroded by one pixel) of the ΔE*76 between the two region-mean CIELAB colours, each region weighing the
  same: the distance whose mean over sample pairs is the raw diversity.
- a sample is **close** to a valid colouring when their distance is at most `CLOSE_DELTA_E` = 20 ΔE.
- **precision**: the fraction of samples close to at least one valid colouring (plausible samples; wild colours
  lower it). **recall**: the fraction of valid colourings close to at least one sample (how much of the known
  variety the samples reach). Both per drawing, then averaged over the drawings where something is measured.

The threshold is set from the spread of valid colourings (40 procedural drawings of the CPU default's data config
at 64², 6 colourings each): two valid colourings of one drawing are 16 ΔE apart at the median and 21 at the 75th
percentile; random colours are 62 ΔE (median) from the nearest valid one. Measured on the CPU default's test split
(60 drawings, K = S = 4): samples drawn from the generator's own colour distribution score precision 0.89, recall
0.87 and raw diversity 19; four copies of the ground truth score precision 1, recall 0.75 (the re-draws that
happen to lie near it) and diversity 0; random colours per colour group score precision 0, recall 0 and diversity
85. On the OpenMoji config's test split, 24 of 60 files have 4 known colourings (skin-tone variants, 17 ΔE from
the ground truth at the median) and 36 have only their own (K = 1: recall then says whether any sample lands near
the ground truth). Precision is a lower bound: a plausible colouring outside the known set counts as a miss, which
matters most on OpenMoji, where only skin tones and a few colours have variants.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from rasc.metrics.artifacts import (
    _check_regions,
    _lab_values,
    _line_masks,
    _mean_defined,
    _measured_pixels,
    _region_means,
)

CLOSE_DELTA_E = 20.0  # ΔE*76: a sample within this region-averaged distance of a valid colouring is close to it


def _check_colourings(images: np.ndarray, what: str, ndim: int) -> None:
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != ndim or \
            images.shape[-1] != 3:
        letters = "(S, H, W, 3)" if ndim == 4 else "(N, S, H, W, 3)"
        raise ValueError(f"{what} must be uint8 {letters}, got {getattr(images, 'dtype', type(images).__name__)} "
                         f"{getattr(images, 'shape', None)}")


def colouring_distances(samples: np.ndarray, alternatives: np.ndarray, gt_regions: np.ndarray,
                        line_mask: np.ndarray) -> np.ndarray:
    """(S, K) distances between S colourings (S, H, W, 3) and K valid colourings (K, H, W, 3) of one drawing: the
    mean over measured regions of the ΔE*76 between region-mean Lab colours (all nan when nothing is measured)."""
    _check_colourings(samples, "samples", 4)
    _check_colourings(alternatives, "alternatives", 4)
    if samples.shape[1:] != alternatives.shape[1:]:
        raise ValueError(f"samples {samples.shape} and alternatives {alternatives.shape} differ in image size")
    _check_regions(gt_regions, line_mask, samples.shape[1:3])
    pixels = _measured_pixels(gt_regions, line_mask)
    present = pixels.counts > 0  # (R,)
    if not present.any():
        return np.full((len(samples), len(alternatives)), math.nan)

    def region_means(images: np.ndarray) -> np.ndarray:  # (n, H, W, 3) → (n, R', 3)
        return np.stack([_region_means(_lab_values(image, pixels), pixels)[present] for image in images])

    sample_means, valid_means = region_means(samples), region_means(alternatives)  # (S, R', 3), (K, R', 3)
    return np.linalg.norm(sample_means[:, None] - valid_means[None], axis=-1).mean(axis=-1)  # (S, K)


def precision_recall(distances: np.ndarray, threshold: float = CLOSE_DELTA_E) -> tuple[float, float]:
    """(precision, recall) of one drawing from its (S, K) sample-to-valid distances; (nan, nan) if all are nan."""
    if distances.ndim != 2 or 0 in distances.shape:
        raise ValueError(f"distances must be (S, K) with S, K >= 1, got shape {distances.shape}")
    if np.isnan(distances).all():
        return math.nan, math.nan
    close = distances <= threshold  # (S, K)
    return float(close.any(axis=1).mean()), float(close.any(axis=0).mean())


@dataclass(frozen=True)
class CoverageScores:
    """Data-set means of precision and recall of random-w samples against known valid colourings (None: N/A)."""

    precision: float | None  # higher is better: fraction of samples close to a valid colouring
    recall: float | None  # higher is better: fraction of valid colourings close to a sample
    threshold: float  # ΔE*76 of "close"
    num_images: int  # drawings scored

    def as_dict(self) -> dict[str, float | None]:
        return asdict(self)


def coverage_scores(samples: np.ndarray, sketches: np.ndarray, *, alternatives: np.ndarray | None = None,
                    alternative_count: np.ndarray | None = None, gt_regions: np.ndarray | None = None,
                    gt_lines: np.ndarray | None = None, line_threshold: int = 128,
                    threshold: float = CLOSE_DELTA_E) -> CoverageScores:
    """Precision and recall of samples (N, S, H, W, 3) against each drawing's valid colourings.

    ``alternatives`` (N, K, H, W, 3) of which the first ``alternative_count[i]`` (N,) are valid for drawing i (all K
    when None); lines as in `rasc.metrics.artifacts.artifact_scores`. Both None without ``alternatives`` or
    ``gt_regions``.
    """
    _check_colourings(samples, "samples", 5)
    count = len(samples)
    line_masks = _line_masks(sketches, gt_lines, count, samples.shape[2:4], line_threshold)  # (N, H, W)
    if alternatives is None or gt_regions is None:
        return CoverageScores(None, None, threshold, num_images=0)
    _check_colourings(alternatives, "alternatives", 5)
    if len(alternatives) != count or alternatives.shape[2:] != samples.shape[2:] or \
            gt_regions.shape != (count, *samples.shape[2:4]):
        raise ValueError(f"alternatives {alternatives.shape} and gt_regions {gt_regions.shape} must match samples "
                         f"{samples.shape} in N, H and W")
    valid = np.full(count, alternatives.shape[1]) if alternative_count is None else np.asarray(alternative_count)
    if valid.shape != (count,) or valid.min() < 1 or valid.max() > alternatives.shape[1]:
        raise ValueError(f"alternative_count must be (N,) = ({count},) in 1..{alternatives.shape[1]}, got {valid}")
    precision, recall = [], []
    for index in range(count):
        distances = colouring_distances(samples[index], alternatives[index, : valid[index]], gt_regions[index],
                                        line_masks[index])  # (S, K_i)
        scores = precision_recall(distances, threshold)
        precision.append(scores[0])
        recall.append(scores[1])
    return CoverageScores(_mean_defined(precision), _mean_defined(recall), threshold, num_images=count)
