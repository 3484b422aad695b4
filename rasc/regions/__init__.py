"""Region maps of sketches: trapped-ball, learned (DanbooRegion-style) and fixed patches.

Every source returns uint16 (H, W) labels 0..K-1, contiguous, with every pixel labelled (line pixels belong to a
neighbouring region). `extract_regions` / `extract_regions_batch` pick a source by name:

    extract_regions(sketch, "trapped_ball", line_threshold=200)       # options: TrappedBallConfig fields
    extract_regions(sketch, "learned", checkpoint="net.pt")          # or extractor=LearnedRegionExtractor(...)
    extract_regions(sketch, "patches", n_patches=64)
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from rasc.regions.labels import (
    fill_from_nearest,
    is_contiguous,
    merge_small_regions,
    random_colour_preview,
    region_adjacency,
    region_boundaries,
    relabel_contiguous,
    resize_labels,
)
from rasc.regions.patches import patch_grid
from rasc.regions.sources import parse_source
from rasc.regions.quality import (
    adjusted_rand_index,
    boundary_scores,
    default_tolerance,
    score_regions,
)
from rasc.regions.trapped_ball import (
    TrappedBallConfig,
    check_sketch,
    trapped_ball_regions,
)

METHODS = ("trapped_ball", "learned", "patches")


def extract_regions(sketch: np.ndarray, method: str, **options: Any) -> np.ndarray:
    """Region map of one uint8 sketch (H, W) by `method` ("trapped_ball" | "learned" | "patches").

    Options: trapped_ball -> the fields of TrappedBallConfig (or cfg=TrappedBallConfig(...));
    learned -> checkpoint=path [device="cpu"] or extractor=LearnedRegionExtractor; patches -> n_patches=int.
    """
    check_sketch(sketch)
    return extract_regions_batch(sketch[None], method, **options)[0]


def extract_regions_batch(sketches: np.ndarray, method: str, **options: Any) -> np.ndarray:
    """Region maps of uint8 sketches (N, H, W) by `method`: uint16 (N, H, W). Options as for `extract_regions`."""
    sketches = np.asarray(sketches)
    if sketches.dtype != np.uint8 or sketches.ndim != 3:
        raise ValueError(f"sketches must be uint8 (N, H, W), got {sketches.dtype} {sketches.shape}")
    if method == "trapped_ball":
        cfg = options.pop("cfg", None)
        if cfg is None:
            cfg = TrappedBallConfig(**options)
        elif options:
            raise ValueError(f"pass either cfg=TrappedBallConfig(...) or its fields, not both (got {sorted(options)})")
        labels = np.zeros(sketches.shape, np.uint16)  # (N, H, W)
        for index, sketch in enumerate(sketches):
            labels[index] = trapped_ball_regions(sketch, cfg)
        return labels
    if method == "learned":
        extractor = options.pop("extractor", None)
        checkpoint = options.pop("checkpoint", None)
        device = options.pop("device", "cpu")
        batch_size = options.pop("batch_size", 16)
        if options:
            raise ValueError(f"unknown options for method 'learned': {sorted(options)}")
        if extractor is None:
            if checkpoint is None:
                raise ValueError("method 'learned' needs checkpoint=PATH or extractor=LearnedRegionExtractor")
            path = Path(checkpoint).resolve()
            modified = path.stat().st_mtime_ns if path.exists() else 0  # a rewritten checkpoint is reloaded
            extractor = _cached_extractor(str(path), modified, str(device))
        return extractor.batch(sketches, batch_size=batch_size)
    if method == "patches":
        n_patches = options.pop("n_patches", None)
        if n_patches is None or options:
            raise ValueError(f"method 'patches' takes exactly n_patches=int, got {sorted(options) or 'nothing'}")
        height, width = sketches.shape[1:]
        grid = patch_grid(height, width, n_patches)
        return np.broadcast_to(grid, sketches.shape).copy()
    raise ValueError(f"unknown region method {method!r}; expected one of {METHODS}")


@functools.lru_cache(maxsize=4)
def _cached_extractor(checkpoint: str, modified_ns: int, device: str):
    from rasc.regions.learned import LearnedRegionExtractor

    return LearnedRegionExtractor.load(checkpoint, device=device)


__all__ = [
    "METHODS",
    "TrappedBallConfig",
    "adjusted_rand_index",
    "boundary_scores",
    "check_sketch",
    "default_tolerance",
    "extract_regions",
    "extract_regions_batch",
    "fill_from_nearest",
    "is_contiguous",
    "merge_small_regions",
    "parse_source",
    "patch_grid",
    "random_colour_preview",
    "region_adjacency",
    "region_boundaries",
    "relabel_contiguous",
    "resize_labels",
    "score_regions",
    "trapped_ball_regions",
]
