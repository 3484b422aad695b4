"""Quality of the learned region extractor by training styles: XDoG only (`learned`, the default) against XDoG,
clean and rough line art (`learned_all_styles`), with trapped-ball beside them, on test sets A, B and C.

    PYTHONPATH=. python benchmarks/learned_train_styles.py                # default data at 64², 600 steps

Does what the workflow's region stage does (`results/regions/quality.csv`): the procedural train and test splits of
a config (default config/config.yaml), the net trained with its `regions.learned` settings, ARI and boundary F
against the ground-truth regions with the tolerance `regions.quality_tolerance` × side. One torch thread.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

from rasc.regions import extract_regions_batch
from rasc.regions.build import quality_rows
from rasc.regions.learned import LearnedRegionExtractor, RegionNetConfig, train_region_net, training_set
from rasc.regions.sources import ALL_STYLES_SOURCE, TRAIN_STYLES
from trapped_ball_radii import load_procedural_config, procedural_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="config/config.yaml", help="workflow config whose settings to use")
    parser.add_argument("--size", type=int, default=None, help="working size (default: the config's data.size)")
    args = parser.parse_args()
    config = load_procedural_config(args.config, parser)
    torch.set_num_threads(1)
    size = args.size or int(config["data"]["size"])
    settings = {k: v for k, v in config["regions"]["learned"].items() if k != "train_styles"}
    train, train_sketches = procedural_split(config, size, "train", ["xdog"])
    test, test_sketches = procedural_split(config, size, "test", list(TRAIN_STYLES))
    tolerance_px = config["regions"]["quality_tolerance"] * size
    radii = config["regions"]["trapped_ball_radii"]
    maps = {"trapped_ball": {
        style: extract_regions_batch(sketches, "trapped_ball", **({"radii_px": tuple(radii)} if radii else {}))
        for style, sketches in test_sketches.items()
    }}
    folder = Path(tempfile.mkdtemp(prefix="learned_train_styles_"))
    for source, styles in (("learned", ("xdog",)), (ALL_STYLES_SOURCE, TRAIN_STYLES)):
        sketches, regions = training_set(train, train_sketches["xdog"], styles)
        checkpoint = folder / f"{source}.pt"
        stats = train_region_net(sketches, regions, RegionNetConfig(**settings), checkpoint, progress=False)
        print(f"trained {source} on {list(styles)}: {len(sketches)} sketches, {stats['train_seconds']:.0f} s")
        extractor = LearnedRegionExtractor.load(checkpoint)
        maps[source] = {style: extractor.batch(sketches) for style, sketches in test_sketches.items()}

    print(f"\n| source ({size}², test split, {len(test['regions'])} images) | A (XDoG) | B (clean) | C (rough) |")
    print("| --- | --- | --- | --- |")
    for source, by_style in maps.items():
        rows = [quality_rows(source, "test", style, by_style[style], test["regions"], tolerance_px)
                for style in TRAIN_STYLES]
        print(f"| {source} | " + " | ".join(f"ARI {r['ari']:.3f}, bF {r['boundary_f']:.3f}" for r in rows) + " |")


if __name__ == "__main__":
    main()
