"""A user's drawing made ready for the CLI: size limit, and degenerate line art caught or mended with a message.

- larger than ``max_pixels``: downscaled (area averaging) to fit, or refused (``on_large="refuse"``);
- one flat tone (all black, or blank — e.g. every pixel transparent): refused, since nothing can follow the lines;
- light lines on dark paper (white-on-black line art): inverted, so that the lines are dark on light paper.

Each change is returned as a note the caller shows the user.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from rasc.imageio import MIN_SIDE, darkest_channel

DEFAULT_MAX_PIXELS = 4096 * 4096  # above this a drawing is downscaled (or refused): a 12000² file then peaks at 1.5 GB
MIN_CONTRAST = 32  # grey levels between the darkest and the lightest pixel below which a drawing is one flat tone
DARK = 128  # a median grey below this is dark paper


class DrawingError(ValueError):
    """A drawing that cannot be used (one flat tone, too large to accept)."""


@dataclass
class Drawing:
    """A grey (or colour) image ready for a command, and the notes on what was changed to get there."""

    image: np.ndarray  # (H, W) grey or (H, W, 3) RGB uint8
    notes: list[str] = field(default_factory=list)


def refuse_above_limit(width: int, height: int, max_pixels: int) -> None:
    """DrawingError when a ``width`` × ``height`` image has more than ``max_pixels`` pixels (``--refuse-large``)."""
    if width * height > max_pixels:
        raise DrawingError(f"{width}x{height} px is more than the limit of {max_pixels} px (--max-pixels)")


def limit_pixels(image: np.ndarray, max_pixels: int, on_large: str = "downscale") -> Drawing:
    """Downscale ``image`` (H, W[, C]) to at most ``max_pixels`` keeping its aspect, or refuse (``"refuse"``)."""
    if on_large not in ("downscale", "refuse"):
        raise ValueError(f"on_large must be 'downscale' or 'refuse', got {on_large!r}")
    height, width = image.shape[:2]
    if height * width <= max_pixels:
        return Drawing(image)
    if on_large == "refuse":
        refuse_above_limit(width, height, max_pixels)
    scale = math.sqrt(max_pixels / (height * width))
    size = (max(1, int(width * scale)), max(1, int(height * scale)))  # (W, H), rounded down: stays under the limit
    if min(size) < MIN_SIDE:
        raise DrawingError(f"{width}x{height} px downscaled to fit {max_pixels} px (--max-pixels) would be "
                           f"{size[0]}x{size[1]}, below the {MIN_SIDE} px minimum")
    smaller = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return Drawing(smaller, [f"{width}x{height} px is more than {max_pixels} px (--max-pixels): "
                             f"downscaled to {size[0]}x{size[1]}"])


def check_not_flat(image: np.ndarray, alpha: np.ndarray | None = None) -> None:
    """Refuse an image (H, W[, 3]) uint8 of one flat tone: all dark, blank, or blank once its transparency is
    laid on white paper (alpha (H, W) uint8 or None)."""
    low, high = int(image.min()), int(image.max())
    if high - low >= MIN_CONTRAST:
        return
    if alpha is not None and (alpha < 255).any() and high >= DARK:
        raise DrawingError("blank once its transparency is laid on white paper: nothing to follow "
                           f"({(alpha == 0).mean():.0%} of the pixels are fully transparent)")
    if high < DARK:
        raise DrawingError("the image is all dark: one flat tone, no paper and no lines")
    raise DrawingError("the image is blank: one flat tone, no lines")


def orient_line_art(grey: np.ndarray) -> Drawing:
    """Light lines on dark paper (the median of the image and of its border both dark) are inverted."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if np.median(grey) < DARK and np.median(border) < DARK:
        return Drawing(255 - grey, ["light lines on dark paper: inverted to dark lines on white"])
    return Drawing(grey)


def prepare_line_art(rgb: np.ndarray, alpha: np.ndarray | None, max_pixels: int,
                     on_large: str = "downscale") -> Drawing:
    """A read drawing (RGB (H, W, 3) on white, alpha or None) → grey line art (H', W'), dark on light, and notes."""
    sized = limit_pixels(rgb, max_pixels, on_large)
    alpha = limit_pixels(alpha, max_pixels, on_large).image if alpha is not None else None
    grey = darkest_channel(sized.image)
    check_not_flat(grey, alpha)
    oriented = orient_line_art(grey)
    return Drawing(oriented.image, sized.notes + oriented.notes)


def prepare_colour_image(rgb: np.ndarray, alpha: np.ndarray | None, max_pixels: int,
                         on_large: str = "downscale") -> Drawing:
    """A read colour image (RGB (H, W, 3) on white, alpha or None) → RGB (H', W', 3) within the limit, and notes."""
    sized = limit_pixels(rgb, max_pixels, on_large)
    check_not_flat(sized.image, limit_pixels(alpha, max_pixels, on_large).image if alpha is not None else None)
    return sized
