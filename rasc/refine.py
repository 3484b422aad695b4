"""Region-flat refinement of a colouring at the drawing's own resolution.

The network colours a small square (64² by default); upscaled, its colours are soft and bleed across lines. The
refinement uses what the paper's region maps stand for: segment the original line art at its own resolution
(trapped-ball), paint every region with a robust mean of the network's colours inside it (the per-channel median
of its paper pixels, so that a few stray pixels and the lines do not shift it), and lay the original lines over the
flat colours by multiplication (white paper keeps the colour, black ink stays black, grey anti-aliasing darkens).
"""

from __future__ import annotations

import numpy as np

from rasc.regions import TrappedBallConfig, trapped_ball_regions


def _histogram_medians(channel: np.ndarray, labels: np.ndarray, n_regions: int) -> tuple[np.ndarray, np.ndarray]:
    """Median of a uint8 channel (H, W) over each label 1..n_regions of ``labels`` (H, W; 0 = not counted), from
    one 256-bin histogram per region → (medians (K,) float, pixel counts (K,)); the median of an even count is the
    mean of the two middle values, as numpy's. O(H·W + K·256), where a sort (scipy.ndimage.median) cost 0.55 s per
    1024² drawing."""
    codes = labels.ravel().astype(np.int64) * 256 + channel.ravel()  # (H·W,) region-major (region, value) codes
    histogram = np.bincount(codes, minlength=(n_regions + 1) * 256).reshape(n_regions + 1, 256)[1:]  # (K, 256)
    cumulative = histogram.cumsum(axis=1)  # (K, 256)
    count = cumulative[:, -1]  # (K,)
    lower = (cumulative < ((count + 1) // 2)[:, None]).sum(axis=1)  # (K,) value of the ⌈n/2⌉-th pixel
    upper = (cumulative < (count // 2 + 1)[:, None]).sum(axis=1)  # (K,) value of the (⌊n/2⌋ + 1)-th pixel
    return (lower + upper) / 2, count


def region_medians(image: np.ndarray, labels: np.ndarray, counted: np.ndarray | None = None) -> np.ndarray:
    """Per-channel median colour of every region → uint8 (K, 3) for labels 0..K-1.

    image (H, W, 3) uint8; labels (H, W) integer 0..K-1; counted (H, W) bool: the pixels that vote (default all).
    A region without a counted pixel takes the median of all its pixels.
    """
    n_regions = int(labels.max()) + 1
    everyone = labels.astype(np.int64) + 1  # (H, W) labels 1..K
    voters = everyone if counted is None else np.where(counted, everyone, 0)  # 0 = does not vote
    medians = np.empty((n_regions, 3))
    for c in range(3):
        medians[:, c], count = _histogram_medians(image[..., c], voters, n_regions)
        empty = count == 0
        if empty.any():  # regions made of line pixels only: every pixel votes
            medians[empty, c] = _histogram_medians(image[..., c], everyone, n_regions)[0][empty]
    return np.floor(medians + 0.5).astype(np.uint8)


def multiply_lines(colour: np.ndarray, drawing: np.ndarray) -> np.ndarray:
    """Lay line art over colours: colour (H, W, 3) uint8 × drawing (H, W) uint8 / 255 → (H, W, 3) uint8."""
    product = colour.astype(np.uint16) * drawing[..., None].astype(np.uint16)  # (H, W, 3), at most 255²
    return ((product + 127) // 255).astype(np.uint8)


def flat_refinement(raw: np.ndarray, drawing: np.ndarray, labels: np.ndarray | None = None,
                    line_threshold: int = TrappedBallConfig.line_threshold) -> np.ndarray:
    """Region-flat colouring of ``drawing`` from the network's ``raw`` colours, both at the drawing's resolution.

    raw (H, W, 3) uint8; drawing (H, W) uint8 line art (255 = paper); labels (H, W) its regions (default:
    trapped-ball of ``drawing``). Pixels darker than ``line_threshold`` (lines) do not vote. → (H, W, 3) uint8.
    """
    if raw.shape[:2] != drawing.shape:
        raise ValueError(f"raw colours {raw.shape[:2]} and drawing {drawing.shape} must have one size")
    if labels is None:
        labels = trapped_ball_regions(drawing, TrappedBallConfig(line_threshold=line_threshold))
    palette = region_medians(raw, labels, counted=drawing >= line_threshold)  # (K, 3)
    return multiply_lines(palette[labels], drawing)


def flat_refinement_batch(colourings: np.ndarray, drawings: np.ndarray) -> np.ndarray:
    """`flat_refinement` of every colouring (N, H, W, 3) uint8 by its drawing (N, H, W) uint8 → (N, H, W, 3) uint8."""
    if len(colourings) != len(drawings):
        raise ValueError(f"{len(colourings)} colourings for {len(drawings)} drawings")
    return np.stack([flat_refinement(colouring, drawing) for colouring, drawing in zip(colourings, drawings)])
