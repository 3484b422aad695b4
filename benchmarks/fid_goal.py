"""Where the FID goal sits: FID of colourings on the way from a trained model's to the ground truth.

The issue "Models that learn to colour" asks for `full`'s FID below `reference:nearest`'s. That row paints each
test sketch with the colour image of a *training* illustration, so its images are real drawings, and whatever the
backbone its FID is close to that of two real samples (`fid_floor`): FID compares two sets of images, not each
colouring with its own drawing. A colouring of the test sketches goes below it only by coming close to the test
illustrations themselves (the ground truth scores 0). This benchmark measures how close, with the workflow's own
backbone, reference features and metric code (`rasc.evaluate.fixed_colouring_metrics`), on colourings between a
finished run's colouring of a test set and its ground truth:

- ``blend t``: every pixel (1 - t) × the model's colouring + t × the ground truth (a model better everywhere);
- ``regions f``: a random fraction f of each drawing's ground-truth regions in their true colours, the rest as the
  model painted them (a model perfect on some regions, unchanged on the others).

It prints each colouring's region colour error as a fraction of `reference:constant` and its FID, and, per family,
the colour error at which FID falls to `reference:nearest`'s and to the floor (linear between levels).

    python benchmarks/fid_goal.py                                      # results/, full, seed 0, A and B
    python benchmarks/fid_goal.py --results /tmp/run/results --colouring oracle --sets A B C
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from rasc.data.prepare import TEST_SETS, load_npz
from rasc.evaluate import fixed_colouring_metrics
from rasc.metrics.fid import FIDBackbone, FIDFeatures
from refined_output import load_test_sketches

LEVELS = (0.0, 0.25, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)  # t of the blend, f of the regions


def blend(colouring: np.ndarray, truth: np.ndarray, t: float) -> np.ndarray:
    """(1 - t) × colouring + t × truth, pixel by pixel, both uint8 (N, H, W, 3) → uint8 (N, H, W, 3)."""
    mixed = (1.0 - t) * colouring.astype(np.float64) + t * truth.astype(np.float64)
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def true_regions(colouring: np.ndarray, truth: np.ndarray, regions: np.ndarray, fraction: float,
                 seed: int = 0) -> np.ndarray:
    """The colouring (N, H, W, 3) with round(fraction × its label count) of each drawing's ground-truth regions
    (labels (N, H, W)), drawn at random, in the ground truth's pixels (N, H, W, 3) → uint8 (N, H, W, 3)."""
    rng = np.random.default_rng(seed)
    painted = colouring.copy()
    for index, labels in enumerate(regions):
        present = np.unique(labels)
        chosen = rng.permutation(present)[: int(round(fraction * len(present)))]
        where = np.isin(labels, chosen)  # (H, W)
        painted[index][where] = truth[index][where]
    return painted


def crossing(points: list[tuple[float, float]], target: float) -> float | None:
    """The colour error at which FID reaches ``target`` along (colour error, FID) points ordered from the model to
    the ground truth, linear between the first two points that straddle it; None if FID never gets there."""
    for (error_a, fid_a), (error_b, fid_b) in zip(points, points[1:]):
        if fid_a > target >= fid_b:
            return error_a + (error_b - error_a) * (fid_a - target) / (fid_a - fid_b)
    return None


def read_metrics(path: Path) -> dict:
    """A workflow JSON file (a ``metrics.json`` or ``fid_floor.json``)."""
    return json.loads(path.read_text())


def constant_error(results: Path, test_set: str) -> float:
    """Region colour error of `reference:constant` on a test set: the unit of the colour-error column."""
    return read_metrics(results / "eval" / "reference_constant" / test_set / "metrics.json")["colour_error"]


def load_test_set(results: Path, test_set: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(ground truth arrays, sketches (N, H, W)) of test set A, B or C of a workflow run."""
    split, _ = TEST_SETS[test_set]
    return load_npz(results / "data" / split / "illustrations.npz"), load_test_sketches(results, test_set)


def score_path(results: Path, experiment: str, seed: int, test_set: str, colouring_name: str,
               backbone: FIDBackbone, reference: FIDFeatures, floor: float,
               levels: tuple[float, ...] = LEVELS) -> list[dict]:
    """One row per family and level: {"family", "level", "colour_error_vs_constant", "fid"}."""
    truth, sketches = load_test_set(results, test_set)
    colourings = load_npz(results / "eval" / experiment / f"seed{seed}" / test_set / "colorized.npz")
    if colouring_name not in colourings:
        raise ValueError(f"{experiment} seed {seed} on {test_set} has no {colouring_name!r} colouring "
                         f"(it has {', '.join(colourings)})")
    colouring = colourings[colouring_name]  # (N, H, W, 3)
    constant = constant_error(results, test_set)
    families = {
        "blend": lambda level: blend(colouring, truth["color"], level),
        "regions": lambda level: true_regions(colouring, truth["color"], truth["regions"], level, seed=seed),
    }
    rows = []
    for family, make in families.items():
        for level in levels:
            metrics = fixed_colouring_metrics(make(level), sketches, truth, backbone, reference, floor)
            rows.append({"family": family, "level": level, "fid": metrics["fid"],
                         "colour_error_vs_constant": metrics["colour_error"] / constant})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", help="a finished workflow run's results folder")
    parser.add_argument("--experiment", default="full")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sets", nargs="+", default=["A", "B"], choices=["A", "B", "C"])
    parser.add_argument("--colouring", default="predicted", choices=["predicted", "oracle"],
                        help="the model's default output (predicted w) or its oracle row (w from the ground truth)")
    args = parser.parse_args()
    results = Path(args.results)
    needed = [results / "eval" / name for name in ("fid_backbone.pt", "fid_reference.npz", "fid_floor.json")]
    needed += [results / "eval" / row / test_set / "metrics.json" for test_set in args.sets
               for row in (f"{args.experiment}/seed{args.seed}", "reference_constant", "reference_nearest")]
    missing = [str(path) for path in needed if not path.is_file()]
    if missing:
        sys.exit(f"{results} is not a finished run of these rows; missing: {', '.join(missing)}")
    backbone = FIDBackbone.from_file(results / "eval" / "fid_backbone.pt")
    reference = FIDFeatures.load(results / "eval" / "fid_reference.npz")
    floor = read_metrics(results / "eval" / "fid_floor.json")["fid_floor"]
    print(f"{args.experiment} seed {args.seed}, {args.colouring} colouring; backbone {backbone.name}; "
          f"FID floor (two real samples) {floor:.1f}")
    for test_set in args.sets:
        start = time.perf_counter()
        nearest = read_metrics(results / "eval" / "reference_nearest" / test_set / "metrics.json")
        try:
            rows = score_path(results, args.experiment, args.seed, test_set, args.colouring, backbone, reference,
                              floor)
        except ValueError as error:
            sys.exit(str(error))
        print(f"\ntest set {test_set}: reference:nearest FID {nearest['fid']:.1f} at colour error "
              f"{nearest['colour_error'] / constant_error(results, test_set):.3f} × constant "
              f"({time.perf_counter() - start:.0f} s)")
        print(f"{'family':8s} {'level':>5s} {'colour error':>12s} {'FID':>7s}")
        for row in rows:
            print(f"{row['family']:8s} {row['level']:5.2f} {row['colour_error_vs_constant']:12.3f} {row['fid']:7.1f}")
        for family in ("blend", "regions"):
            points = [(r["colour_error_vs_constant"], r["fid"]) for r in rows if r["family"] == family]
            for name, target in (("reference:nearest", nearest["fid"]), ("the floor", floor)):
                error = crossing(points, target)
                where = "not reached" if error is None else f"at colour error {error:.3f} × constant"
                print(f"{family}: FID reaches {name} ({target:.1f}) {where}")


if __name__ == "__main__":
    main()
