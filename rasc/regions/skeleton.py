"""DanbooRegion's skeleton field of a label image (paper [23]): the learned extractor's training target and the
CWR-style baseline's extra input. Numpy and scikit-image only, so the generator can use it without importing the
extractor's training code."""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.morphology import skeletonize

from rasc.regions.labels import check_label_image, region_boundaries


def skeleton_field(regions: np.ndarray) -> np.ndarray:
    """DanbooRegion's training target for a label image (H, W): float32 (H, W) in [0, 1].

    Boundary pixels (a 4-neighbour of another label, on both sides of each border) are 0; the skeleton of each
    region's interior (skimage skeletonize; interiors of different regions never touch, so one call does all) is 1;
    in between d_b / (d_b + d_s). The image frame counts as a boundary, as it does for skeletonize. Regions at most
    two pixels wide are all boundary and have no skeleton. d_s is measured to the nearest skeleton pixel of any
    region; where that lies in a neighbouring region the value is too high, but it stays below 0.5 (the path
    crosses the boundary band, so d_s > d_b), so markers thresholded at >= 0.5 never cross a boundary.
    """
    regions = check_label_image(regions, "regions")
    boundary = region_boundaries(regions)  # (H, W) bool
    skeleton = skeletonize(~boundary) & ~boundary  # (H, W) bool
    # Distance to the boundary or to the image frame: pad with a boundary frame, transform, crop.
    framed = np.pad(~boundary, 1, constant_values=False)
    distance_to_boundary = ndimage.distance_transform_edt(framed)[1:-1, 1:-1]  # (H, W)
    if skeleton.any():
        distance_to_skeleton = ndimage.distance_transform_edt(~skeleton)  # (H, W)
    else:
        distance_to_skeleton = np.full(regions.shape, np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        field = distance_to_boundary / (distance_to_boundary + distance_to_skeleton)
    field = np.nan_to_num(field, nan=0.0, posinf=0.0)
    field[boundary] = 0.0
    field[skeleton] = 1.0
    return field.astype(np.float32)
