"""Colouring a user's drawing at its own size and shape (what ``rasc colorize`` writes).

0. by default the drawing is cropped to the smallest square that holds all its ink and is at least the working
   size (:func:`rasc.data.sketch.ink_square`): the training drawings fill their frame, and a drawing on a page with
   paper margins would otherwise reach the generator smaller than anything it was trained on (measured:
   ``benchmarks/colorize_framing.py --margins``);
1. the drawing is brought to the generator's working size the paper's way (mirror padding to a square, resize;
   traced to one-pixel centre lines when shrunk, :func:`rasc.data.sketch.line_art_to_size`), its region map is
   taken there with the generator's own region source, and the generator colours it (a drawing with no line left
   there is refused);
2. the padding is cropped back out and the colouring resized to the drawing's size in one resampling
   (:func:`rasc.data.sketch.crop_padding`), and continued to the page outside the square by its edge colours: the
   *raw* output;
3. by default, the region-flat refinement (:mod:`rasc.refine`): trapped-ball regions of the original drawing at
   its own resolution, each painted with the median of the raw colours inside it, the lines multiplied over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from skimage.util import montage
from torch import nn

from rasc.data.sketch import crop_padding, working_view
from rasc.drawing import DrawingError
from rasc.models.inference import (
    colorize,
    interpolate_w,
    labels_to_tensor,
    rgb_to_uint8,
    sample_w,
    sketch_to_tensor,
)
from rasc.refine import flat_refinement
from rasc.regions import trapped_ball_regions
from rasc.regions.trapped_ball import TrappedBallConfig


@dataclass(frozen=True)
class Style:
    """Where the latent w comes from: at most one of ``seed`` (with ``n_samples``), ``noise``, ``reference``;
    random draws become styles under ``prior`` (rasc.models.style_prior: "fitted" or "standard")."""

    seed: int | None = None  # n_samples draws ε ~ N(0, 1) from this seed (sample i of seed S is row i)
    n_samples: int = 1
    noise: torch.Tensor | None = None  # (N, w_dim) given draws ε, one colouring each (e.g. an interpolation)
    reference: torch.Tensor | None = None  # (1, 3, S, S) in [-1, 1]: the style encoder's w of a reference image
    prior: str = "fitted"


def interpolation_style(w_dim: int, seed_a: int, seed_b: int, steps: int, prior: str = "fitted") -> Style:
    """The transition between two random styles (paper Fig. 8): the draw of ``--seed A`` to that of ``--seed B``."""
    return Style(noise=interpolate_w(sample_w(1, w_dim, seed_a)[0], sample_w(1, w_dim, seed_b)[0], steps),
                 prior=prior)


@torch.no_grad()
def network_colourings(generator: nn.Module, extract: Callable[[np.ndarray], np.ndarray], square: np.ndarray,
                       style: Style) -> np.ndarray:
    """The generator's colourings of one working-size sketch (S, S) uint8 → (N, S, S, 3) uint8."""
    sketch = sketch_to_tensor(square[None])  # (1, 1, S, S)
    labels = labels_to_tensor(np.asarray(extract(square))[None])  # (1, S, S)
    rgb = colorize(generator, sketch, labels, seed=style.seed, noise=style.noise, reference=style.reference,
                   n_samples=style.n_samples if style.seed is not None else 1, prior=style.prior)  # (1, N, 3, S, S)
    return rgb_to_uint8(rgb[0])


def to_page(square: np.ndarray, shape: tuple[int, int], view: tuple[slice, slice]) -> np.ndarray:
    """A colouring (S, S, 3) of the ``view`` (rows, columns) of a drawing of ``shape`` (H, W) → (H, W, 3): the
    padding cropped out, resized to the view (:func:`rasc.data.sketch.crop_padding`), continued to the page's edges
    by its edge colours."""
    rows, cols = view
    part = crop_padding(square, (rows.stop - rows.start, cols.stop - cols.start))  # (h, w, 3)
    return np.pad(part, ((rows.start, shape[0] - rows.stop), (cols.start, shape[1] - cols.stop), (0, 0)), mode="edge")


def colorize_drawing(generator: nn.Module, extract: Callable[[np.ndarray], np.ndarray], drawing: np.ndarray,
                     style: Style = Style(), raw: bool = False, crop_to_ink: bool = True) -> np.ndarray:
    """Colourings of a drawing (H, W) uint8 (dark lines on light paper) at its own size → (N, H, W, 3) uint8.

    ``raw``: the network's colours, only cropped and resized; otherwise the region-flat refinement of them.
    ``crop_to_ink``: the network sees the square around the drawing's ink (:func:`rasc.data.sketch.ink_square`; at
    least the working size, so that line art is never enlarged: enlarged lines are thicker and greyer than any
    training line), else the whole page.
    """
    view, square = working_view(drawing, generator.cfg.image_size, crop_to_ink)  # square (S, S)
    lines = TrappedBallConfig()
    if not lines.has_lines(square):  # as test set R refuses a blank sketch (rasc.data.prepare.read_real_sketch)
        raise DrawingError(f"no line left at the working size {square.shape[0]}x{square.shape[1]} px (no pixel darker "
                           f"than {lines.line_threshold}: lines too faint, or only specks), nothing to colour")
    colourings = network_colourings(generator, extract, square, style)  # (N, S, S, 3)
    full = [to_page(image, drawing.shape, view) for image in colourings]  # N × (H, W, 3)
    if raw:
        return np.stack(full)
    labels = trapped_ball_regions(drawing)  # (H, W), once for every colouring
    return np.stack([flat_refinement(image, drawing, labels) for image in full])


def contact_sheet(images: list[np.ndarray], tile: int = 512, gap: int = 8) -> np.ndarray:
    """Colourings (H, W, 3) uint8 of one drawing side by side on white, in rows of at most 4, each shrunk to a long
    side of at most ``tile`` px → (rows·h + gaps, columns·w + gaps, 3) uint8."""
    height, width = images[0].shape[:2]
    scale = min(1.0, tile / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))  # (w, h)
    tiles = np.stack([cv2.resize(image, size, interpolation=cv2.INTER_AREA) for image in images])  # (N, h, w, 3)
    columns = min(4, len(images))
    rows = -(-len(images) // columns)
    return montage(tiles, grid_shape=(rows, columns), padding_width=gap, fill=(255, 255, 255), channel_axis=-1,
                   rescale_intensity=False).astype(np.uint8)
