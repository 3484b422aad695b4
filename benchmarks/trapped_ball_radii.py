"""Trapped-ball quality per ball-radius choice at the working sizes: mean ARI and boundary F against ground truth.

    PYTHONPATH=. python benchmarks/trapped_ball_radii.py                          # 64² and 128², default data
    PYTHONPATH=. python benchmarks/trapped_ball_radii.py --sizes 64 128 256 --styles xdog clean rough

Data: the procedural test split of a workflow config (default config/config.yaml: its data and sketch settings,
`data.size` replaced by each size), XDoG sketches (test set A) unless --styles says more; scored as
results/regions/quality.csv scores them (boundary tolerance `regions.quality_tolerance` × side). Radii are in px
at the working size (`TrappedBallConfig.radii_px`); "scaled" is the (2, 1)-at-256² rule scaled to the size.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from rasc.config import read_yaml, validate_config
from rasc.data.prepare import make_sketches, prepare_illustrations
from rasc.regions.build import quality_rows
from rasc.regions.trapped_ball import TrappedBallConfig, scaled_radii, trapped_ball_regions

CHOICES = ("scaled", "1", "2", "2,1", "3,1", "3,2,1", "4,2,1")  # radii in px at the working size, largest first


def procedural_split(
    config: dict[str, Any], size: int, split: str, styles: list[str]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """One split of a config's procedural data drawn at `size`, as the data stage draws it: (illustrations,
    style → sketches uint8 (N, H, W))."""
    illustrations = prepare_illustrations({**config["data"], "size": size}, split)
    seed = int(config["data"]["seed"])
    return illustrations, {style: make_sketches(illustrations, style, config["sketch"], seed) for style in styles}


def load_procedural_config(path: str, parser: argparse.ArgumentParser) -> dict[str, Any]:
    """A validated workflow config whose data source is procedural (else a parser error)."""
    config = validate_config(read_yaml(path))
    if config["data"]["source"] != "procedural":
        parser.error("this benchmark draws the procedural data; pick a config with data.source procedural")
    return config


def radius_config(choice: str) -> TrappedBallConfig:
    """The TrappedBallConfig of one radius choice ("scaled" or comma-separated px radii)."""
    if choice == "scaled":
        return TrappedBallConfig()
    return TrappedBallConfig(radii_px=tuple(int(r) for r in choice.split(",")))


def score_choice(sketches: np.ndarray, regions: np.ndarray, choice: str, tolerance_px: float) -> dict[str, float]:
    """Mean ARI, boundary F, regions per image and ms per image of one radius choice on sketches (N, H, W)."""
    cfg = radius_config(choice)
    start = time.perf_counter()
    labels = np.stack([trapped_ball_regions(sketch, cfg) for sketch in sketches])  # (N, H, W)
    ms_per_image = 1000 * (time.perf_counter() - start) / len(sketches)
    row = quality_rows("trapped_ball", "test", "", labels, regions, tolerance_px)
    return {"ari": row["ari"], "boundary_f": row["boundary_f"], "n_pred": row["n_pred"], "n_gt": row["n_gt"],
            "ms": ms_per_image}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="config/config.yaml", help="workflow config whose data settings to use")
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--styles", nargs="+", default=["xdog"], choices=["xdog", "clean", "rough"])
    parser.add_argument("--choices", nargs="+", default=list(CHOICES), help='"scaled" or px radii like "3,2,1"')
    args = parser.parse_args()
    config = load_procedural_config(args.config, parser)

    print("| size | style | radii (px) | ARI | boundary F | regions/img (gt) | ms/img |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for size in args.sizes:
        illustrations, sketches = procedural_split(config, size, "test", args.styles)
        tolerance_px = config["regions"]["quality_tolerance"] * size
        for style in args.styles:
            for choice in args.choices:
                scores = score_choice(sketches[style], illustrations["regions"], choice, tolerance_px)
                scaled = tuple(scaled_radii(TrappedBallConfig(), (size, size)))
                shown = choice if choice != "scaled" else f"scaled {scaled}"
                print(f"| {size}² | {style} | {shown} | {scores['ari']:.3f} | {scores['boundary_f']:.3f} | "
                      f"{scores['n_pred']:.1f} ({scores['n_gt']:.1f}) | {scores['ms']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
