"""Names of the region sources (torch-free, so the workflow can import them when it parses).

A source names how a region map is made and where its files live (``results/regions/{source}/``):

- ``trapped_ball``: trapped-ball filling of the sketch;
- ``learned``: the DanbooRegion-style U-Net trained on ``regions.learned.train_styles`` (default: XDoG sketches
  only, as the paper's DanbooRegion never saw our clean or rough line styles);
- ``learned_all_styles``: the same net trained on XDoG, clean and rough line art (the styles of test sets A, B, C);
- ``patches_N``: a fixed grid of N patches.
"""

from __future__ import annotations

from typing import Any

TRAIN_STYLES = ("xdog", "clean", "rough")  # sketch styles a learned extractor can train on (test sets A, B, C)
ALL_STYLES_SOURCE = "learned_all_styles"  # the learned extractor trained on every style in TRAIN_STYLES
LEARNED_SOURCES = ("learned", ALL_STYLES_SOURCE)  # sources that need a trained region net's checkpoint


def parse_source(source: str) -> tuple[str, dict[str, Any]]:
    """A region-source name as used in file names and config ("trapped_ball", "learned", "patches_64") ->
    (method, options) for `extract_regions`, minus the checkpoint the caller supplies for the learned ones."""
    if source == "trapped_ball":
        return source, {}
    if source in LEARNED_SOURCES:
        return "learned", {}
    if source.startswith("patches_") and source[len("patches_") :].isdigit():
        return "patches", {"n_patches": int(source[len("patches_") :])}
    raise ValueError(f"unknown region source {source!r}; expected trapped_ball, {', '.join(LEARNED_SOURCES)} or "
                     f"patches_<n>")
