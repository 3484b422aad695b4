"""How much of a trained model's colour error is generalisation, and how much its weight average is worth.

Reads a finished workflow run and scores, with the workflow's own metric code (`rasc.evaluate.region_metrics`), the
default output (predicted w) of one training on the first ``--count`` of its *training* drawings (XDoG sketches,
unflipped) and on the test drawings of A (XDoG) and B (clean lines), each as a fraction of `reference:constant` on
the same images; and both the EMA generator that the workflow scores and the raw generator of the last snapshot.
A training error well below the test error is a gap that more training drawings could close (docs/recipe.md row
43 says whether they do); the raw generator's error says what the EMA (``train.ema_beta``) is worth. With
``--oracle`` each generator is also scored with w = the style encoder's posterior mean of the drawing's own colours
(the ``<method>:oracle`` row): an oracle as poor on training drawings as on test drawings is a decoder that
underfits, not one that fails to generalise.

    python benchmarks/generalisation_gap.py                                   # results/, full, seed 0
    python benchmarks/generalisation_gap.py --results /tmp/run/results --experiment no_region_maps --seed 1
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import numpy as np
import torch

from rasc.evaluate import colorize_set, region_metrics
from rasc.references import constant_colouring, oracle_colouring
from rasc.training.checkpoint import load_checkpoint, load_generator

SETS = {"train": ("train", "xdog"), "A": ("test", "xdog"), "B": ("test", "clean")}  # name → (split, sketch style)


def load_set(results: Path, split: str, style: str, count: int | None) -> tuple[dict, np.ndarray, np.ndarray]:
    """(ground truth arrays, sketches (N, H, W), trapped-ball labels (N, H, W)) of the first ``count`` images."""
    keep = slice(None, count)
    with np.load(results / "data" / split / "illustrations.npz") as archive:
        truth = {k: archive[k][keep] if archive[k].ndim else archive[k] for k in archive.files}
    with np.load(results / "data" / split / f"sketch_{style}.npz") as archive:
        sketches = archive["sketch"][keep]
    with np.load(results / "regions" / "trapped_ball" / f"{split}_{style}.npz") as archive:
        labels = archive["labels"][keep]
    return truth, sketches, labels


def snapshot_generators(run: Path) -> tuple[int, dict[str, torch.nn.Module]]:
    """(step, {"EMA": the EMA generator, "raw": the trained generator}) of a training folder's last snapshot."""
    path = run / "snapshots" / "last.pt"
    ema, _ = load_generator(path)  # rebuilt from the stored config, with the snapshot's G_ema weights
    raw = copy.deepcopy(ema)
    snapshot = load_checkpoint(path)
    raw.load_state_dict(snapshot["G"])
    return int(snapshot["step"]), {"EMA": ema, "raw": raw}


def colour_errors(results: Path, generators: dict[str, torch.nn.Module], count: int,
                  sets: tuple[str, ...] = tuple(SETS), oracle: bool = False) -> dict[str, dict[str, float]]:
    """{image set: {"constant": ΔE of reference:constant, generator name: its ΔE}} on ``sets`` (names of ``SETS``);
    with ``oracle`` also {"<generator name>:oracle": ΔE with w = the posterior mean of the ground truth}."""
    with np.load(results / "data" / "train" / "illustrations.npz") as archive:
        train_colours = archive["color"]  # (N, H, W, 3)
    errors = {}
    for set_name in sets:
        split, style = SETS[set_name]
        truth, sketches, labels = load_set(results, split, style, count if split == "train" else None)
        constant = constant_colouring(train_colours, len(sketches))  # (N, H, W, 3)
        errors[set_name] = {"constant": region_metrics(constant, None, sketches, truth)["colour_error"]}
        for name, generator in generators.items():
            predicted = colorize_set(generator, sketches, labels)[:, 0]  # (N, H, W, 3)
            errors[set_name][name] = region_metrics(predicted, None, sketches, truth)["colour_error"]
            if oracle:
                from_truth = oracle_colouring(generator, sketches, labels, truth["color"])  # (N, H, W, 3)
                errors[set_name][f"{name}:oracle"] = region_metrics(from_truth, None, sketches, truth)["colour_error"]
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", help="a workflow run's results folder")
    parser.add_argument("--experiment", default="full", help="an experiment trained on trapped-ball regions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--count", type=int, default=60, help="training drawings scored (the test sets: all)")
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS), help="image sets scored")
    parser.add_argument("--oracle", action="store_true", help="also score w = the posterior mean of the truth")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    results = Path(args.results)
    run = results / "train" / args.experiment / f"seed{args.seed}"
    step, generators = snapshot_generators(run)
    print(f"{run} at step {step}: colour error × reference:constant on the same images "
          f"({args.count} training drawings)")
    errors = colour_errors(results, generators, args.count, tuple(args.sets), oracle=args.oracle)
    columns = [name for name in next(iter(errors.values())) if name != "constant"]
    print(f"{'images':<8}" + "".join(f"{name:>12}" for name in columns))
    for set_name, set_errors in errors.items():
        print(f"{set_name:<8}" + "".join(f"{set_errors[name] / set_errors['constant']:>12.3f}" for name in columns))


if __name__ == "__main__":
    main()
