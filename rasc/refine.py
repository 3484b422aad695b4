"""Region-flat refinement of a colouring at the drawing's own resolution.

The network colours a small square (64² by default); upscaled, its colours are soft and bleed across lines. The
refinement uses what the paper's region maps stand for: segment the original line art at its own resolution
(trapped-ball), paint every region with a robust mean of the network's colours inside it (the per-channel median
of its paper pixels, so that a few stray pixels and the lines do not shift it), and lay the original lines over the
flat colours by multiplication (white paper keeps the colour, black ink stays black, grey anti-aliasing darkens).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from rasc.regions import TrappedBallConfig, trapped_ball_regions


def region_medians(image: np.ndarray, labels: np.ndarray, counted: np.ndarray | None = None) -> np.ndarray:
    """Per-channel median colour of every region → uint8 (K, 3) for labels 0..K-1.

    image (H, W, 3) uint8; labels (H, W) integer 0..K-1; counted (H, W) bool: the pixels that vote (default all).
    A region without a counted pixel takes the median of all its pixels.
    """
    n_regions = int(labels.max()) + 1
    index = np.arange(1, n_regions + 1)
    voters = labels.astype(np.int64) + 1  # (H, W); 0 = does not vote
    if counted is not None:
        voters = np.where(counted, voters, 0)
    medians = np.stack([ndimage.median(image[..., c], voters, index) for c in range(3)], axis=1)  # (K, 3)
    empty = np.isnan(medians).any(axis=1)
    if empty.any():  # regions made of line pixels only: every pixel votes
        fallback = np.stack([ndimage.median(image[..., c], labels + 1, index[empty]) for c in range(3)], axis=1)
        medians[empty] = fallback
    return np.round(medians).astype(np.uint8)


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
