"""Trapped-ball segmentation of line art (Zhang et al. 2009, paper [24]), vectorised with OpenCV.

Same idea as the public reference (hepesu/LineFiller): balls of decreasing radius roll through the paper and cannot
pass gaps in the lines narrower than the ball; what no ball reaches is flood-filled; fragments and line pixels join
neighbouring regions. Built differently, for speed and robustness:

1. one pass per radius over the whole image instead of one flood fill per region: erode the unassigned paper with
   the ball, take the connected components of what is left (the places a ball fits: "cores"), dilate them back by
   the radius (a morphological opening, so a fill never crosses a gap narrower than the ball) and split contested
   pixels between cores by nearest core (one distance transform with labels); fills under `min_fill_ball_areas`
   ball areas are left to smaller balls. A fill that touches an earlier fill directly (no line between) over an
   opening of at least `opening_factor` ball diameters joins it: its own ball would roll through that opening;
2. the paper left over is labelled by connected components; leftovers touching a fill directly and smaller than
   `fragment_area` are remnants (corners, tips) and join the neighbour they share the LONGEST border with (the
   reference takes the smallest id); leftovers enclosed by ink are regions in their own right (thin strips, dots);
3. paper specks enclosed by ink and smaller than `min_region_area` (holes in thick strokes, crossings) and then all
   line pixels take the label of the nearest region (one distance transform with labels).

No cap on the number of fills (the reference stops after 1000 per pass), no crash where no ball fits (that page is
flood-filled). Radii and areas are given at a 256-px long side and scale with the image, so a sketch and its
upscaled copy are segmented alike (the reference uses fixed pixel counts). The default radii (2, 1) differ from the
reference's (3, 2, 1): measured on the procedural data set, the radius-3 ball split regions at narrow necks and
cost adjusted Rand index on XDoG and clean line art without helping on rough line art (benchmarks/bench_regions.py).
At the workflow's working sizes (64², 128², 256²) on the current procedural recipe one 1-px ball scores best on
XDoG and clean line art (benchmarks/trapped_ball_radii.py, README); `radii_px` gives radii in px at the working
size (the workflow's `regions.trapped_ball_radii`), bypassing the scaling.

Output: uint16 (H, W) labels 0..K-1, contiguous, every pixel labelled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from rasc.regions.labels import (
    fill_from_nearest,
    merge_small_regions,
    region_adjacency,
    relabel_contiguous,
)

LINE = 0  # working label of line pixels and not-yet-filled paper


@dataclass(frozen=True)
class TrappedBallConfig:
    """Parameters of `trapped_ball_regions`; lengths in pixels at a `reference_size` long side, scaled with it."""

    line_threshold: int = 220  # sketch pixels darker than this (0..255) are line pixels
    ball_radii: tuple[float, ...] = (2.0, 1.0)  # ball radii, largest first; a ball closes gaps < 2r+1 px
    radii_px: tuple[int, ...] | None = None  # ball radii in px at the image's own size (not scaled); None: ball_radii
    reference_size: int = 256  # long side (px) at which ball_radii and the areas below are given
    min_fill_ball_areas: float = 4.0  # a fill counts at radius r only if its area >= this many ball areas
    opening_factor: float = 2.0  # a fill joins an earlier one it touches over >= this many ball diameters (0: off)
    fragment_area: float = 64.0  # leftover paper touching a fill (no line between) and smaller than this merges
    min_region_area: float = 4.0  # paper enclosed by ink smaller than this is shared out like line pixels

    def __post_init__(self) -> None:
        if not 1 <= self.line_threshold <= 255:
            raise ValueError(f"line_threshold must be in 1..255, got {self.line_threshold}")
        if len(self.ball_radii) == 0 or min(self.ball_radii) <= 0:
            raise ValueError(f"ball_radii must be a non-empty tuple of positive radii, got {self.ball_radii}")
        if self.radii_px is not None and (
            len(self.radii_px) == 0 or any(int(r) != r or r < 1 for r in self.radii_px)
        ):
            raise ValueError(f"radii_px must be None or a non-empty tuple of integers >= 1, got {self.radii_px}")
        if self.reference_size < 1:
            raise ValueError(f"reference_size must be positive, got {self.reference_size}")
        for name in ("min_fill_ball_areas", "opening_factor", "fragment_area", "min_region_area"):
            if getattr(self, name) < 0:
                raise ValueError(f"TrappedBallConfig.{name} must be >= 0, got {getattr(self, name)}")

    def has_lines(self, sketch: np.ndarray) -> bool:
        """Whether ``sketch`` (H, W) uint8 has a line pixel (darker than ``line_threshold``): a blank page, lines too
        faint, or a drawing whose lines did not survive the resizing has none, and nothing to colour or fill."""
        return bool(sketch.min() < self.line_threshold)


def check_sketch(sketch: np.ndarray) -> np.ndarray:
    """Validate a sketch: uint8 (H, W), 255 = paper, 0 = ink."""
    if not isinstance(sketch, np.ndarray):
        raise ValueError(f"sketch must be a numpy array, got {type(sketch).__name__}")
    if sketch.dtype != np.uint8:
        raise ValueError(f"sketch must be uint8 (0 = ink, 255 = paper), got dtype {sketch.dtype}")
    if sketch.ndim != 2:
        raise ValueError(f"sketch must be a single-channel (H, W) image, got shape {sketch.shape}")
    if sketch.shape[0] < 1 or sketch.shape[1] < 1:
        raise ValueError(f"sketch is empty (shape {sketch.shape})")
    return sketch


def scaled_radii(cfg: TrappedBallConfig, shape: tuple[int, int]) -> list[int]:
    """Integer ball radii for an image of `shape`, largest first, duplicates removed, each >= 1: `radii_px` as
    given, else `ball_radii` scaled from `reference_size`."""
    if cfg.radii_px is not None:
        return sorted({int(r) for r in cfg.radii_px}, reverse=True)
    scale = max(shape) / cfg.reference_size
    radii = sorted({max(1, math.floor(r * scale + 0.5)) for r in cfg.ball_radii}, reverse=True)  # half up
    return radii


def trapped_ball_regions(sketch: np.ndarray, cfg: TrappedBallConfig = TrappedBallConfig()) -> np.ndarray:
    """Segment a sketch (uint8 (H, W), 255 = paper) into regions: uint16 (H, W) labels 0..K-1, every pixel labelled.

    An all-ink sketch is one region.
    """
    check_sketch(sketch)
    height, width = sketch.shape
    area_scale = (max(height, width) / cfg.reference_size) ** 2
    paper = sketch >= cfg.line_threshold  # (H, W) bool
    if not paper.any():
        return np.zeros((height, width), np.uint16)

    labels = np.zeros((height, width), np.int32)  # LINE = 0 until filled
    n_filled = 0
    for radius in scaled_radii(cfg, (height, width)):
        unassigned = (paper & (labels == LINE)).astype(np.uint8)  # (H, W) 1 = paper not yet filled
        fill_labels, n_fills = _ball_fills(unassigned, radius, cfg.min_fill_ball_areas)
        if n_fills:
            is_fill = fill_labels > 0
            labels[is_fill] = fill_labels[is_fill] + n_filled
            if cfg.opening_factor > 0 and n_filled:
                min_opening = cfg.opening_factor * (2 * radius + 1)
                labels = _merge_through_openings(labels, first_new=n_filled + 1, min_opening=min_opening)
            n_filled += n_fills

    # Flood-fill what no ball reached: corners of filled regions, gaps, regions thinner than the smallest ball.
    leftover = (paper & (labels == LINE)).astype(np.uint8)
    n_leftover, leftover_labels = cv2.connectedComponents(leftover, connectivity=4)
    labels[leftover > 0] = leftover_labels[leftover > 0] + n_filled
    n_labels = n_filled + n_leftover  # labels: LINE, fills 1..n_filled, leftovers n_filled+1..n_labels-1

    # Leftovers touching a fill directly (no line between) are remnants of it, unless they are large.
    is_leftover = np.arange(n_labels) > n_filled
    labels = merge_small_regions(
        labels, min_area=cfg.fragment_area * area_scale, candidates=is_leftover, ignore_label=LINE
    )
    # Specks of paper enclosed by ink (holes in thick lines, crossings) are shared out with the line pixels.
    paper_area = np.bincount(labels.ravel(), minlength=int(labels.max()) + 1)  # (K,) LINE counted too, unused
    is_speck = paper_area < cfg.min_region_area * area_scale
    is_speck[LINE] = True
    if is_speck.all():  # nothing but specks: keep them as regions
        is_speck[1:] = False
    labels = fill_from_nearest(labels, is_speck[labels])
    return relabel_contiguous(labels)


def _merge_through_openings(labels: np.ndarray, first_new: int, min_opening: float) -> np.ndarray:
    """Merge each new fill (label >= first_new) into the earlier fill it touches directly (no line between) over
    at least `min_opening` 4-neighbour pixel pairs; the longest contact wins. Pair counts overstate the width of
    a diagonal opening up to twofold, hence a margin in `opening_factor`."""
    pairs, border_length = region_adjacency(labels, ignore_label=LINE)
    old_to_new = (pairs[:, 0] < first_new) & (pairs[:, 1] >= first_new) & (border_length >= min_opening)
    if not old_to_new.any():
        return labels
    earlier, new, length = pairs[old_to_new, 0], pairs[old_to_new, 1], border_length[old_to_new]
    order = np.lexsort((-length, new))  # per new fill, longest contact first
    earlier, new = earlier[order], new[order]
    first_of_new = np.ones(len(new), dtype=bool)
    first_of_new[1:] = new[1:] != new[:-1]
    lookup = np.arange(int(labels.max()) + 1, dtype=labels.dtype)
    lookup[new[first_of_new]] = earlier[first_of_new]
    return lookup[labels]


def _ball_fills(unassigned: np.ndarray, radius: int, min_fill_ball_areas: float) -> tuple[np.ndarray, int]:
    """Fills of one ball radius: int32 (H, W) labels 1..n (0 elsewhere) and n.

    Cores = connected components (8-connected) of the free mask eroded by the ball; each fill is the part of the free
    mask within `radius` of its core (the core dilated by the ball: an opening, so it cannot cross a gap narrower
    than the ball), contested pixels going to the nearest core. One distance transform with component labels gives
    both the dilation and the nearest core. Fills smaller than `min_fill_ball_areas` ball areas are dropped (their
    pixels stay for smaller balls).
    """
    ball = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    cores = cv2.erode(unassigned, ball)  # outside the image counts as free paper (BORDER_CONSTANT = max)
    if not cores.any():
        return np.zeros(unassigned.shape, np.int32), 0
    distance_to_core, nearest_core = cv2.distanceTransformWithLabels(
        1 - cores, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_CCOMP
    )  # (H, W) float32, (H, W) int32 component id 1..n of the nearest core
    reach = (distance_to_core <= radius) & (unassigned > 0)  # (H, W) bool
    nearest_core[~reach] = 0
    fill_area = np.bincount(nearest_core.ravel())  # (n_cores + 1,)
    keep = fill_area >= min_fill_ball_areas * int(ball.sum())
    keep[0] = False
    new_id = (np.cumsum(keep) * keep).astype(np.int32)  # kept cores -> 1..n, dropped -> 0
    return new_id[nearest_core], int(keep.sum())
