"""Why FID and colour error can disagree: how saturated and how varied a run's colourings are.

A colouring that predicts each region's most likely colour from the sketch alone regresses towards the mean where
the sketch cannot tell the colour (a random wall, a shade within a hair family): its region colour error falls,
but its colours are greyer and alike from image to image, which FID, a distance between distributions, sees.
This reads a finished workflow run and prints, per colouring of one test set, the mean CIELAB chroma of its pixels,
the spread over the images of each image's mean L*, a*, b* (the standard deviation over the set), and its FID
beside the ground truth's own statistics.

    python benchmarks/colour_spread.py                                  # results/ of the main job, full, seed 0, A
    python benchmarks/colour_spread.py --results /tmp/clone/results --experiment no_region_maps --test-set B
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from skimage.color import rgb2lab


def colour_statistics(images: np.ndarray) -> tuple[float, np.ndarray]:
    """images: (N, H, W, 3) uint8 RGB → (mean chroma of all pixels, (3,) std over images of the mean L*a*b*)."""
    lab = rgb2lab(images.astype(np.float64) / 255.0)  # (N, H, W, 3)
    chroma = float(np.hypot(lab[..., 1], lab[..., 2]).mean())
    per_image_mean = lab.reshape(len(images), -1, 3).mean(axis=1)  # (N, 3)
    return chroma, per_image_mean.std(axis=0)


def read_metrics(metrics_path: Path) -> dict:
    """A colouring's metrics.json ({} when there is none)."""
    return json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", help="a workflow run's results folder")
    parser.add_argument("--experiment", default="full")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-set", default="A", choices=("A", "B", "C"))
    args = parser.parse_args()

    results = Path(args.results)
    run_dir = results / "eval" / args.experiment / f"seed{args.seed}" / args.test_set
    nearest_dir = results / "eval" / "reference_nearest" / args.test_set
    with np.load(results / "data" / "test" / "illustrations.npz") as archive:
        truth = archive["color"]
    metrics = read_metrics(run_dir / "metrics.json")
    with np.load(run_dir / "colorized.npz") as archive:
        colourings = {"ground truth": (truth, None)}
        colourings["output (predicted w)"] = (archive["predicted"], metrics.get("fid"))
        if "oracle" in archive:
            colourings["oracle w"] = (archive["oracle"], (metrics.get("oracle") or {}).get("fid"))
        if not np.array_equal(archive["samples"][:, 0], archive["predicted"]):  # a model with a latent
            colourings["random w (first sample)"] = (archive["samples"][:, 0], None)
    if (nearest_dir / "colorized.npz").is_file():
        with np.load(nearest_dir / "colorized.npz") as archive:
            nearest_fid = read_metrics(nearest_dir / "metrics.json").get("fid")
            colourings["reference:nearest"] = (archive["predicted"], nearest_fid)

    print(f"{args.experiment} seed {args.seed}, test set {args.test_set}, {len(truth)} images ({results})")
    print(f"{'colouring':<26} {'chroma':>7} {'std L*':>7} {'std a*':>7} {'std b*':>7} {'FID':>7}")
    for name, (images, fid) in colourings.items():
        chroma, spread = colour_statistics(images)
        fid_text = f"{fid:7.1f}" if fid is not None else f"{'':>7}"
        print(f"{name:<26} {chroma:7.1f} {spread[0]:7.2f} {spread[1]:7.2f} {spread[2]:7.2f} {fid_text}")


if __name__ == "__main__":
    main()
