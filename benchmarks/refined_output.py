"""What `rasc colorize` writes by default, scored: the region-flat refinement of a run's test-set colourings.

`rasc colorize` does not hand the network's colours to the user as they are: it segments the line art
(trapped-ball), paints every region with the median of the network's colours inside it and multiplies the lines
over (`rasc.refine.flat_refinement`). The workflow's tables score the network's own output, as the paper does. This
reads a finished workflow run, refines each stored colouring (the predicted-w output and the oracle) with its
test sketch exactly as `rasc colorize` refines a drawing at the working size, and scores both with the workflow's
region metrics (`rasc.evaluate.region_metrics`: colour error as a fraction of `reference:constant`'s, bleeding,
inconsistency).

No FID is given for the refined colourings: they carry the line art's pure black ink, and the random Inception
fallback reads ink darker than the training images' as a catastrophe (the ground truth itself with its ink set to
0 scores thousands; `benchmarks/bench_fid_sensitivity.py`, "ink" rows), so that number would measure the ink.

    python benchmarks/refined_output.py                                   # results/, full, seed 0, A B C
    python benchmarks/refined_output.py --results /tmp/clone/results --experiments full no_region_maps --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from rasc.data.prepare import TEST_SETS, drawn_from_test_split, load_npz
from rasc.evaluate import region_metrics
from rasc.refine import flat_refinement_batch

GROUND_TRUTH_TEST_SETS = sorted(name for name in TEST_SETS if drawn_from_test_split(name))  # A, B, C: not R


def load_test_sketches(results: Path, test_set: str) -> np.ndarray:
    """The sketches (N, H, W) uint8 of one test set of a workflow run."""
    split, style = TEST_SETS[test_set]
    return load_npz(results / "data" / split / f"sketch_{style}.npz")["sketch"]


def scores(colourings: np.ndarray, sketches: np.ndarray, truth: dict, constant_error: float) -> dict[str, float]:
    """Colour error × the flat colour's, bleeding and inconsistency of one colouring per sketch."""
    metrics = region_metrics(colourings, None, sketches, truth)
    return {"colour_error": metrics["colour_error"] / constant_error, "bleeding": metrics["bleeding"],
            "inconsistency": metrics["inconsistency"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", help="a workflow run's results folder")
    parser.add_argument("--experiments", nargs="+", default=["full"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--test-sets", nargs="+", default=["A", "B", "C"], choices=GROUND_TRUTH_TEST_SETS)
    args = parser.parse_args(argv)

    results = Path(args.results)
    truth = load_npz(results / "data" / "test" / "illustrations.npz")
    print("| colouring | test set | colour error / const. raw → refined | bleeding raw → refined | "
          "inconsistency raw → refined |")
    print("| --- | --- | --- | --- | --- |")
    missing = 0
    for test_set in args.test_sets:
        sketches = load_test_sketches(results, test_set)
        constant = json.loads((results / "eval" / "reference_constant" / test_set / "metrics.json").read_text())
        for experiment in args.experiments:
            for seed in args.seeds:
                stored = results / "eval" / experiment / f"seed{seed}" / test_set / "colorized.npz"
                if not stored.is_file():
                    print(f"| {experiment} seed {seed} | {test_set} | missing: {stored} | | |")
                    missing += 1
                    continue
                with np.load(stored) as archive:
                    colourings = {key: archive[key] for key in ("predicted", "oracle") if key in archive.files}
                for kind, raw in colourings.items():
                    before = scores(raw, sketches, truth, constant["colour_error"])
                    after = scores(flat_refinement_batch(raw, sketches), sketches, truth, constant["colour_error"])
                    name = experiment if kind == "predicted" else f"{experiment}:oracle"
                    print(f"| {name} seed {seed} | {test_set} | {before['colour_error']:.3f} → "
                          f"{after['colour_error']:.3f} | {before['bleeding']:.2f} → {after['bleeding']:.2f} | "
                          f"{before['inconsistency']:.2f} → {after['inconsistency']:.2f} |", flush=True)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
