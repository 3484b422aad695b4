"""Measured proxies for the paper's MOS user study (DESIGN §6), computed against ground-truth regions.

All colours are compared in CIELAB (`skimage.color.rgb2lab`, D65) with the Euclidean ΔE*76 distance. Only the
*measured pixels* of a region count, chosen per region:

- its *eroded pixels* (off the lines, with the whole 3×3 neighbourhood in the same region and off the lines: the
  region eroded by one pixel after removing the lines) when at least one survives, so outlines and their
  anti-aliased rims do not count and the ground truth scores 0;
- otherwise all its non-line pixels: a region too small or thin to survive erosion (an iris of a few pixels at
  64²) is still measured, on pixels that may touch an outline's rim. Eroding every region dropped 48% of the
  ground-truth regions at 64² (median area 23 px) and left a third of the colour groups with two or more regions
  unscorable for inconsistency (procedural data, 40 images).

Only a region lying entirely under the lines has no measured pixel; it is skipped. The fractions of regions and
of colour groups that are measured are reported beside the metrics (`ArtifactScores.regions_measured` and
`groups_measured`: measured regions over regions present, and groups with at least two measured regions over
groups with at least two regions present, pooled over the images).

Per image (each returns `nan` when nothing in the image can be measured):

- `bleeding`: for each region, the mean ΔE of its measured pixels to the region's per-channel median Lab colour;
  averaged over regions, each region weighing the same. Lower is better; a flat painting scores 0.
- `semantic_inconsistency`: for each colour-sharing group with at least two measured regions, the mean ΔE over all
  unordered pairs of its regions' mean Lab colours (every pair weighs the same, whatever the areas); averaged over
  such groups, each group weighing the same (the two irises count as much as forty hair strands). Lower is better.
- `region_colour_error`: ΔE between each region's mean Lab colour in the output and in the ground truth, averaged
  over regions, each region weighing the same (small regions such as irises matter as much as the background).
  Lower is better. It guards against flat averaged painting, which lowers the two above without being right.
- `diversity`: for S colourings of one sketch, the mean over the S(S-1)/2 pairs of the region-averaged ΔE between
  their per-region mean Lab colours. Higher is better; identical colourings score 0.

Over a data set (`artifact_scores`, `diversity_score`) the per-image values are averaged over the images where they
are defined. Without ground truth (real sketches) a metric is not applicable and is returned as `None`, never 0.
The line mask is the sketch's ink, joined with the ground truth's own outlines when given (`gt_lines`): on rough
sketches (test set C) the sketch's lines are jittered away from the outlines drawn in the ground-truth colour image,
and with the sketch's ink alone the ground truth scores bleeding 0.66 and inconsistency 2.2 (measured, 8 procedural
images at 128²) instead of 0.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial.distance import pdist
from skimage.color import rgb2lab


# ------------------------------------------------------------------------------------------------------- validation
def _check_rgb(image: np.ndarray, what: str) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"{what} must be a uint8 RGB array (H, W, 3), got "
                         f"{getattr(image, 'dtype', type(image).__name__)} {getattr(image, 'shape', None)}")


def _check_regions(gt_regions: np.ndarray, line_mask: np.ndarray, shape: tuple[int, int]) -> None:
    if not isinstance(gt_regions, np.ndarray) or not np.issubdtype(gt_regions.dtype, np.integer):
        raise ValueError(f"gt_regions must be an integer label image, got {getattr(gt_regions, 'dtype', None)}")
    if gt_regions.shape != shape:
        raise ValueError(f"gt_regions has shape {gt_regions.shape}, the image is {shape}")
    if gt_regions.size and gt_regions.min() < 0:
        raise ValueError("gt_regions has negative labels")
    if not isinstance(line_mask, np.ndarray) or line_mask.dtype != bool:
        raise ValueError(f"line_mask must be a boolean array (True on sketch lines; see line_mask_from_sketch), got "
                         f"{getattr(line_mask, 'dtype', type(line_mask).__name__)}")
    if line_mask.shape != shape:
        raise ValueError(f"line_mask has shape {line_mask.shape}, the image is {shape}")


def line_mask_from_sketch(sketch: np.ndarray, threshold: int = 128) -> np.ndarray:
    """Boolean (H, W) mask of ink pixels of a uint8 sketch (255 paper, 0 ink): `sketch < threshold`."""
    if not isinstance(sketch, np.ndarray) or sketch.dtype != np.uint8 or sketch.ndim != 2:
        raise ValueError(f"sketch must be a uint8 array (H, W), got {getattr(sketch, 'dtype', None)} "
                         f"{getattr(sketch, 'shape', None)}")
    return sketch < threshold


# -------------------------------------------------------------------------------------------------------- internals
@dataclass(frozen=True)
class _MeasuredPixels:
    """The pixels that count, as flat indices into the (H, W) image, with their region labels."""

    flat_index: np.ndarray  # (P,) int64 indices into the flattened image
    labels: np.ndarray  # (P,) int64 region label of each measured pixel
    num_labels: int  # K = max label + 1
    counts: np.ndarray  # (K,) measured pixels per region (0: region not measured)
    areas: np.ndarray  # (K,) pixels per region in the image (0: label absent)


def _measured_pixels(gt_regions: np.ndarray, line_mask: np.ndarray) -> _MeasuredPixels:
    labels = gt_regions.astype(np.int64)  # (H, W)
    num_labels = int(labels.max()) + 1 if labels.size else 0
    marked = np.where(line_mask, num_labels, labels)  # lines get a label of their own, so erosion trims their rims
    lowest = ndimage.minimum_filter(marked, size=3, mode="nearest")
    highest = ndimage.maximum_filter(marked, size=3, mode="nearest")
    eroded = (lowest == highest) & ~line_mask  # (H, W) the 3×3 neighbourhood is one region, off the lines
    survivors = np.bincount(labels[eroded], minlength=num_labels)  # (K,) eroded pixels per region
    keep = eroded | (~line_mask & (survivors[labels] == 0))  # regions erosion empties keep their non-line pixels
    flat_index = np.flatnonzero(keep)
    measured_labels = labels.ravel()[flat_index]
    return _MeasuredPixels(flat_index, measured_labels, num_labels,
                           np.bincount(measured_labels, minlength=num_labels),
                           np.bincount(labels.ravel(), minlength=num_labels))


def _measured_counts(pixels: _MeasuredPixels, region_group: np.ndarray | None) -> np.ndarray:
    """(4,) int: regions present, of them measured, groups with >= 2 regions present, of them with >= 2 measured."""
    present, measured = pixels.areas > 0, pixels.counts > 0  # (K,) each
    counts = [present.sum(), measured.sum(), 0, 0]
    if region_group is not None:
        groups = region_group[:pixels.num_labels]  # (K,)
        in_group = groups >= 0
        size = int(groups.max()) + 1 if in_group.any() else 0
        eligible = np.bincount(groups[present & in_group], minlength=size) >= 2  # (G,)
        scored = np.bincount(groups[measured & in_group], minlength=size) >= 2  # (G,)
        counts[2:] = [eligible.sum(), (eligible & scored).sum()]
    return np.array(counts, dtype=np.int64)


def _lab_values(rgb: np.ndarray, pixels: _MeasuredPixels) -> np.ndarray:
    return rgb2lab(rgb).reshape(-1, 3)[pixels.flat_index]  # (P, 3) float64


def _region_means(values: np.ndarray, pixels: _MeasuredPixels) -> np.ndarray:
    """(K, 3) mean Lab colour per region; rows of unmeasured regions are nan."""
    sums = np.stack([np.bincount(pixels.labels, weights=values[:, c], minlength=pixels.num_labels)
                     for c in range(3)], axis=1)  # (K, 3)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / pixels.counts[:, None]


def _region_medians(values: np.ndarray, pixels: _MeasuredPixels) -> np.ndarray:
    """(K, 3) per-channel median Lab colour per region (sorting by label, then value); unmeasured rows are nan."""
    counts = pixels.counts
    starts = np.cumsum(counts) - counts
    present = counts > 0
    lower = (starts + (counts - 1) // 2)[present]  # middle positions inside each region's sorted run
    upper = (starts + counts // 2)[present]
    medians = np.full((pixels.num_labels, 3), np.nan)
    for c in range(3):
        ordered = values[np.lexsort((values[:, c], pixels.labels)), c]  # (P,) sorted by label, then value
        medians[present, c] = 0.5 * (ordered[lower] + ordered[upper])
    return medians


def _bleeding(lab: np.ndarray, pixels: _MeasuredPixels) -> float:
    present = pixels.counts > 0
    if not present.any():
        return math.nan
    medians = _region_medians(lab, pixels)  # (K, 3)
    distances = np.linalg.norm(lab - medians[pixels.labels], axis=1)  # (P,)
    per_region = np.bincount(pixels.labels, weights=distances, minlength=pixels.num_labels)[present]
    return float(np.mean(per_region / pixels.counts[present]))


def _semantic_inconsistency(lab: np.ndarray, pixels: _MeasuredPixels, region_group: np.ndarray) -> float:
    means = _region_means(lab, pixels)  # (K, 3)
    groups = region_group[:pixels.num_labels]
    scored = np.flatnonzero((pixels.counts > 0) & (groups >= 0))
    order = scored[np.argsort(groups[scored], kind="stable")]  # measured regions, grouped
    _, group_sizes = np.unique(groups[order], return_counts=True)
    group_scores = [pdist(means[members]).mean()
                    for members in np.split(order, np.cumsum(group_sizes)[:-1]) if len(members) >= 2]
    return float(np.mean(group_scores)) if group_scores else math.nan


def _region_colour_error(lab: np.ndarray, gt_lab: np.ndarray, pixels: _MeasuredPixels) -> float:
    present = pixels.counts > 0
    if not present.any():
        return math.nan
    difference = _region_means(lab, pixels)[present] - _region_means(gt_lab, pixels)[present]  # (K', 3)
    return float(np.linalg.norm(difference, axis=1).mean())


def _diversity(labs: list[np.ndarray], pixels: _MeasuredPixels) -> float:
    present = pixels.counts > 0
    if not present.any():
        return math.nan
    means = np.stack([_region_means(lab, pixels)[present] for lab in labs])  # (S, K', 3)
    first, second = np.triu_indices(len(labs), k=1)
    return float(np.linalg.norm(means[first] - means[second], axis=2).mean())


def _check_region_group(region_group: np.ndarray, num_labels: int) -> None:
    if not isinstance(region_group, np.ndarray) or region_group.ndim != 1 or \
            not np.issubdtype(region_group.dtype, np.integer):
        raise ValueError(f"region_group must be a 1-D integer array (group id per region label, -1 = none), got "
                         f"{getattr(region_group, 'dtype', None)} {getattr(region_group, 'shape', None)}")
    if len(region_group) < num_labels:
        raise ValueError(f"region_group has {len(region_group)} entries but gt_regions has labels up to "
                         f"{num_labels - 1}")


# ---------------------------------------------------------------------------------------------------- per image API
def bleeding(pred: np.ndarray, gt_regions: np.ndarray, line_mask: np.ndarray) -> float:
    """Mean ΔE of measured pixels to their region's median colour, averaged over regions (nan: none measured)."""
    _check_rgb(pred, "pred")
    _check_regions(gt_regions, line_mask, pred.shape[:2])
    pixels = _measured_pixels(gt_regions, line_mask)
    return _bleeding(_lab_values(pred, pixels), pixels)


def semantic_inconsistency(pred: np.ndarray, gt_regions: np.ndarray, region_group: np.ndarray,
                           line_mask: np.ndarray) -> float:
    """Mean pairwise ΔE of region mean colours within colour-sharing groups, averaged over groups.

    `region_group[k]` is the group of label k (negative: in no group). nan when no group has two measured regions.
    """
    _check_rgb(pred, "pred")
    _check_regions(gt_regions, line_mask, pred.shape[:2])
    pixels = _measured_pixels(gt_regions, line_mask)
    _check_region_group(region_group, pixels.num_labels)
    return _semantic_inconsistency(_lab_values(pred, pixels), pixels, region_group)


def region_colour_error(pred: np.ndarray, gt_color: np.ndarray, gt_regions: np.ndarray,
                        line_mask: np.ndarray) -> float:
    """ΔE between each region's mean colour in `pred` and in `gt_color`, averaged over regions (unweighted)."""
    _check_rgb(pred, "pred")
    _check_rgb(gt_color, "gt_color")
    if gt_color.shape != pred.shape:
        raise ValueError(f"gt_color has shape {gt_color.shape}, pred {pred.shape}")
    _check_regions(gt_regions, line_mask, pred.shape[:2])
    pixels = _measured_pixels(gt_regions, line_mask)
    return _region_colour_error(_lab_values(pred, pixels), _lab_values(gt_color, pixels), pixels)


def diversity(preds: np.ndarray, gt_regions: np.ndarray, line_mask: np.ndarray) -> float:
    """Mean pairwise region-averaged ΔE between S >= 2 colourings (S, H, W, 3) of one sketch (0: all identical)."""
    if not isinstance(preds, np.ndarray) or preds.ndim != 4 or len(preds) < 2:
        raise ValueError(f"diversity needs S >= 2 colourings as an array (S, H, W, 3), got "
                         f"{getattr(preds, 'shape', type(preds).__name__)}")
    for sample in preds:
        _check_rgb(sample, "each colouring")
    _check_regions(gt_regions, line_mask, preds.shape[1:3])
    pixels = _measured_pixels(gt_regions, line_mask)
    return _diversity([_lab_values(sample, pixels) for sample in preds], pixels)


# ------------------------------------------------------------------------------------------------------ data set API
@dataclass(frozen=True)
class ArtifactScores:
    """Data-set means of the per-image proxies; None = not applicable (no ground truth, or nothing measurable)."""

    bleeding: float | None  # lower is better
    semantic_inconsistency: float | None  # lower is better
    region_colour_error: float | None  # lower is better
    num_images: int  # images scored
    regions_measured: float | None = None  # fraction of ground-truth regions with a measured pixel
    groups_measured: float | None = None  # fraction of groups (>= 2 regions) with >= 2 measured regions

    def as_dict(self) -> dict[str, float | None]:
        return asdict(self)


def _mean_defined(values: list[float]) -> float | None:
    defined = [value for value in values if not math.isnan(value)]
    return float(np.mean(defined)) if defined else None


def _fraction(part: int, whole: int) -> float | None:
    return float(part / whole) if whole else None


def _line_masks(sketches: np.ndarray, gt_lines: np.ndarray | None, count: int, shape: tuple[int, ...],
                threshold: int) -> np.ndarray:
    """(N, H, W) bool: ink of the sketches, plus ink of the ground truth's own line art when given."""
    masks = np.zeros((count, *shape), bool)
    for name, art in (("sketches", sketches), ("gt_lines", gt_lines)):
        if art is None:
            continue
        if not isinstance(art, np.ndarray) or art.dtype != np.uint8 or art.shape != (count, *shape):
            raise ValueError(f"{name} must be uint8 (N, H, W) = {(count, *shape)}, got "
                             f"{getattr(art, 'dtype', None)} {getattr(art, 'shape', None)}")
        masks |= art < threshold
    return masks


def artifact_scores(preds: np.ndarray, sketches: np.ndarray, *, gt_color: np.ndarray | None = None,
                    gt_regions: np.ndarray | None = None, region_group: np.ndarray | None = None,
                    gt_lines: np.ndarray | None = None, line_threshold: int = 128) -> ArtifactScores:
    """Bleeding, semantic inconsistency and region colour error of outputs (N, H, W, 3) on their sketches (N, H, W).

    Line pixels are those darker than `line_threshold` in the sketch or, when given, in `gt_lines` (N, H, W), the
    ground truth's own outlines (e.g. the clean line art): pass it whenever the sketch's lines do not coincide with
    the outlines of the ground-truth colour image (rough sketches), or the ground truth itself does not score 0.
    Each metric is None when the ground truth it needs is absent (`gt_regions`; plus `region_group` for
    inconsistency and `gt_color` for the colour error) or when no image had anything to measure.
    """
    if not isinstance(preds, np.ndarray) or preds.ndim != 4:
        raise ValueError(f"preds must be uint8 (N, H, W, 3), got {getattr(preds, 'shape', type(preds).__name__)}")
    count = len(preds)
    line_masks = _line_masks(sketches, gt_lines, count, preds.shape[1:3], line_threshold)
    if gt_regions is None:
        return ArtifactScores(None, None, None, num_images=0)
    if gt_regions.shape != preds.shape[:3]:
        raise ValueError(f"gt_regions has shape {gt_regions.shape}, preds {preds.shape}")
    for name, array in (("gt_color", gt_color), ("region_group", region_group)):
        if array is not None and len(array) != count:
            raise ValueError(f"{name} has {len(array)} entries for {count} images")
    bleed, inconsistency, colour_error = [], [], []
    measured = np.zeros(4, np.int64)  # (4,) pooled _measured_counts
    for index in range(count):
        _check_rgb(preds[index], "pred")
        _check_regions(gt_regions[index], line_masks[index], preds.shape[1:3])
        pixels = _measured_pixels(gt_regions[index], line_masks[index])
        lab = _lab_values(preds[index], pixels)
        bleed.append(_bleeding(lab, pixels))
        groups = None if region_group is None else region_group[index]
        if groups is not None:
            _check_region_group(groups, pixels.num_labels)
            inconsistency.append(_semantic_inconsistency(lab, pixels, groups))
        measured += _measured_counts(pixels, groups)
        if gt_color is not None:
            _check_rgb(gt_color[index], "gt_color")
            colour_error.append(_region_colour_error(lab, _lab_values(gt_color[index], pixels), pixels))
    return ArtifactScores(_mean_defined(bleed), _mean_defined(inconsistency), _mean_defined(colour_error),
                          num_images=count, regions_measured=_fraction(measured[1], measured[0]),
                          groups_measured=_fraction(measured[3], measured[2]) if region_group is not None else None)


def diversity_score(samples: np.ndarray, sketches: np.ndarray, *, gt_regions: np.ndarray | None = None,
                    gt_lines: np.ndarray | None = None, line_threshold: int = 128) -> float | None:
    """Mean over sketches of `diversity` of their S colourings, samples (N, S, H, W, 3); None without gt_regions.

    Lines as in `artifact_scores`.
    """
    if not isinstance(samples, np.ndarray) or samples.ndim != 5:
        raise ValueError(f"samples must be uint8 (N, S, H, W, 3), got "
                         f"{getattr(samples, 'shape', type(samples).__name__)}")
    line_masks = _line_masks(sketches, gt_lines, len(samples), samples.shape[2:4], line_threshold)
    if gt_regions is None:
        return None
    if gt_regions.shape != (len(samples), *samples.shape[2:4]):
        raise ValueError(f"gt_regions has shape {gt_regions.shape}, samples {samples.shape}")
    return _mean_defined([diversity(samples[index], gt_regions[index], line_masks[index])
                          for index in range(len(samples))])
