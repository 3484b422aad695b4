"""Reference colourings every table carries (DESIGN §6, "Reference rows"): the floor a method must beat and the
ceiling its style path allows, scored by the same evaluation code as the methods.

- ``reference:constant``: every pixel the training split's mean colour (the best single flat colour in RGB L2).
- ``reference:nearest``: the colours of the training illustration whose sketch is nearest to the test sketch.
  Distance: L2 between the two sketches after a Gaussian blur of σ = ``NEAREST_BLUR_SIGMA`` px (so that a stroke
  one pixel off still counts as close), on sketches of the same style as the test set (XDoG for A; the
  nearest-neighbour search always uses the training split's XDoG sketches, as every model is trained on them).
- ``<method>:oracle``: a latent model coloured with w = the style encoder's posterior mean of the ground-truth
  colour image, i.e. the best its style path can do when told the colours.
"""

from __future__ import annotations

import cv2
import numpy as np

NEAREST_BLUR_SIGMA = 1.0  # px; blur of both sketches before the L2 nearest-neighbour search
REFERENCES = ("constant", "nearest")  # reference rows, named "reference:<name>" in the tables
ORACLE_SUFFIX = ":oracle"  # "<method>:oracle" rows: w from the ground truth
REFERENCE_PREFIX = "reference:"


def reference_name(kind: str) -> str:
    """Table row name of a reference colouring ("reference:constant")."""
    if kind not in REFERENCES:
        raise ValueError(f"unknown reference {kind!r}; expected one of {REFERENCES}")
    return REFERENCE_PREFIX + kind


def mean_colour(train_colors: np.ndarray) -> np.ndarray:
    """The training split's mean RGB colour over all pixels of all images → (3,) float64."""
    if train_colors.ndim != 4 or train_colors.shape[-1] != 3:
        raise ValueError(f"training colours must be (N, H, W, 3), got {train_colors.shape}")
    return train_colors.reshape(-1, 3).mean(axis=0, dtype=np.float64)


def constant_colour(train_colors: np.ndarray) -> np.ndarray:
    """The training split's mean colour rounded to a displayable colour → (3,) uint8."""
    return np.clip(np.rint(mean_colour(train_colors)), 0, 255).astype(np.uint8)


def constant_colouring(train_colors: np.ndarray, count: int, shape: tuple[int, int] | None = None) -> np.ndarray:
    """``count`` images (H, W) (default: the training images' size) of the training mean colour → uint8 (N, H, W, 3)."""
    height, width = shape or train_colors.shape[1:3]
    return np.broadcast_to(constant_colour(train_colors), (count, height, width, 3)).copy()


def _blurred_rows(sketches: np.ndarray) -> np.ndarray:
    """(N, H, W) uint8 sketches → (N, H·W) float32 rows in [0, 1] after the nearest-neighbour blur."""
    return np.stack([cv2.GaussianBlur(s.astype(np.float32) / 255.0, (0, 0), NEAREST_BLUR_SIGMA).ravel()
                     for s in sketches])


def nearest_indices(train_sketches: np.ndarray, sketches: np.ndarray, batch: int = 256) -> np.ndarray:
    """Index of the nearest training sketch (blurred L2) for every sketch → (N,) int64."""
    if train_sketches.shape[1:] != sketches.shape[1:]:
        raise ValueError(f"training sketches are {train_sketches.shape[1:]}, test sketches {sketches.shape[1:]}")
    train_rows = _blurred_rows(train_sketches)  # (M, P)
    train_norms = (train_rows**2).sum(axis=1)  # (M,)
    nearest = []
    for start in range(0, len(sketches), batch):
        rows = _blurred_rows(sketches[start:start + batch])  # (b, P)
        distances = train_norms[None] - 2 * rows @ train_rows.T  # (b, M), up to the rows' own constant norms
        nearest.append(distances.argmin(axis=1))
    return np.concatenate(nearest).astype(np.int64)


def nearest_colouring(train_sketches: np.ndarray, train_colors: np.ndarray, sketches: np.ndarray) -> np.ndarray:
    """The colour image of each sketch's nearest training sketch → uint8 (N, H, W, 3)."""
    return train_colors[nearest_indices(train_sketches, sketches)]


def reference_colouring(kind: str, train_colors: np.ndarray, train_sketches: np.ndarray,
                        sketches: np.ndarray) -> np.ndarray:
    """The ``kind`` reference colouring ("constant" or "nearest") of sketches (N, H, W) → uint8 (N, H, W, 3)."""
    if kind == "constant":
        return constant_colouring(train_colors, len(sketches), sketches.shape[1:3])
    if kind == "nearest":
        return nearest_colouring(train_sketches, train_colors, sketches)
    raise ValueError(f"unknown reference {kind!r}; expected one of {REFERENCES}")


def oracle_colouring(generator, sketches: np.ndarray, regions: np.ndarray, colors: np.ndarray,
                     batch_size: int = 32, device: str = "cpu") -> np.ndarray:
    """A posterior-latent generator's colourings with w = the style encoder's mean of the ground truth.

    sketches (N, H, W) uint8, regions (N, H, W) labels, colors (N, H, W, 3) uint8 ground truth → uint8 (N, H, W, 3).
    """
    import torch

    from rasc.models.inference import (
        color_to_tensor,
        colorize,
        labels_to_tensor,
        rgb_to_uint8,
        sketch_to_tensor,
    )

    if generator.cfg.latent != "posterior":
        raise ValueError(f"an oracle colouring needs a style encoder (latent 'posterior'), got {generator.cfg.latent!r}")
    outputs = []
    with torch.no_grad():
        for start in range(0, len(sketches), batch_size):
            part = slice(start, start + batch_size)
            sketch = sketch_to_tensor(sketches[part]).to(device)  # (B, 1, H, W)
            labels = labels_to_tensor(regions[part]).to(device)  # (B, H, W)
            truth = color_to_tensor(colors[part]).to(device)  # (B, 3, H, W)
            rgb = colorize(generator, sketch, labels, reference=truth)[:, 0]  # (B, 3, H, W)
            outputs.append(rgb_to_uint8(rgb))
    return np.concatenate(outputs)
