"""Fixed patch grids used in place of region maps (paper Table IV: 1, 64, 169, 256, 1024 patches at 256²)."""

from __future__ import annotations

import math

import numpy as np


def patch_grid(height: int, width: int, n_patches: int) -> np.ndarray:
    """An n×n grid of patches (n² = n_patches) covering a (height, width) image: uint16 labels 0..n²-1, row-major.

    The grid has the same number of patches at every image size (patches scale with the image); when the size is
    not a multiple of n, patch edges fall at floor(i * size / n). Raises ValueError when n_patches is not a positive
    perfect square or n exceeds the height or width (a patch would be empty).
    """
    if int(n_patches) != n_patches or n_patches < 1:
        raise ValueError(f"n_patches must be a positive integer, got {n_patches!r}")
    per_side = math.isqrt(int(n_patches))
    if per_side * per_side != n_patches:
        raise ValueError(f"n_patches must be a perfect square (1, 64, 169, 256, 1024, ...), got {n_patches}")
    if height < 1 or width < 1:
        raise ValueError(f"image size must be positive, got {height}x{width}")
    if per_side > min(height, width):
        raise ValueError(f"{per_side}x{per_side} patches do not fit in a {height}x{width} image")
    patch_row = (np.arange(height) * per_side) // height  # (H,)
    patch_col = (np.arange(width) * per_side) // width  # (W,)
    return (patch_row[:, None] * per_side + patch_col[None, :]).astype(np.uint16)  # (H, W)
