"""How much of a run's FID is its ink: the workflow's own FID backbone on a test set's ground truth with its
outlines set to darker greys, and on a model's colourings with and without `rasc colorize`'s refinement.

The random Inception fallback (no pretrained weights here) has its batch norms calibrated on the training drawings,
whose ink is near-black but never black (14–45 per channel in the procedural data). Inputs darker than any it was
calibrated on are amplified layer after layer, so FID reads the darkness of the outlines far more than the colours
(`benchmarks/bench_fid_sensitivity.py`, "ink" rows). This prints, against the run's FID reference (the test
illustrations), the ground truth with its ink at each grey level, the model's predicted-w colourings as stored,
with every pixel lifted to at least a grey level (do its darkest pixels inflate its FID?), and region-flat refined
with the sketch's lines multiplied over in pure black (what `rasc colorize` writes).

    python benchmarks/fid_ink.py                                          # results/, full, seed 0, test set A
    python benchmarks/fid_ink.py --results /tmp/clone/results --levels 0 15 25 --lift 20
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from rasc.data.prepare import load_npz
from rasc.metrics.fid import FIDBackbone, FIDFeatures, fid_between
from rasc.refine import flat_refinement_batch
from refined_output import GROUND_TRUTH_TEST_SETS, load_test_sketches


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", help="a workflow run's results folder")
    parser.add_argument("--experiment", default="full")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-set", default="A", choices=GROUND_TRUTH_TEST_SETS)
    parser.add_argument("--levels", nargs="+", type=int, default=[0, 15, 25], help="grey levels given to the ink")
    parser.add_argument("--lift", type=int, default=20, help="the model's pixels are lifted to at least this grey")
    args = parser.parse_args(argv)

    results = Path(args.results)
    backbone = FIDBackbone.from_file(results / "eval" / "fid_backbone.pt", "cpu")
    reference = FIDFeatures.load(results / "eval" / "fid_reference.npz")
    floor = json.loads((results / "eval" / "fid_floor.json").read_text())["fid_floor"]
    illustrations = load_npz(results / "data" / "test" / "illustrations.npz")
    truth = illustrations["color"]  # (N, H, W, 3)
    ink = illustrations["lines_clean"] < 128  # (N, H, W) the drawings' own outlines, as bench_fid_sensitivity's
    sketches = load_test_sketches(results, args.test_set)
    with np.load(results / "eval" / args.experiment / f"seed{args.seed}" / args.test_set / "colorized.npz") as stored:
        predicted = stored["predicted"]

    def fid(images: np.ndarray) -> float:
        return fid_between(backbone.features(np.ascontiguousarray(images)), reference)

    rows = [("ground truth as it is", truth)]
    rows += [(f"ground truth, ink at grey {level}", np.where(ink[..., None], np.uint8(level), truth))
             for level in args.levels]
    name = f"{args.experiment} seed {args.seed}, predicted w"
    rows += [(f"{name}, as stored", predicted),
             (f"{name}, pixels lifted to grey {args.lift}", np.maximum(predicted, args.lift)),
             (f"{name}, region-flat refined (pure black ink)", flat_refinement_batch(predicted, sketches))]
    print(f"FID against the test illustrations ({backbone.name}; floor, a second real sample: {floor:.1f})")
    for label, images in rows:
        print(f"  {label:64s} {fid(images):10.1f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
