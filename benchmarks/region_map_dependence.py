"""Does a trained model use its region maps, and would better maps help? Swap the maps at test time.

Colours one test set of a finished workflow run with each trained generator given region maps other than its own:

- ``own``: the maps of the source it was trained on (trapped-ball for `full`): the tables' row, checked against the
  run's ``metrics.json``;
- ``ground_truth``: the data's true regions, what a perfect region extractor would give;
- ``shuffled``: its own source's maps of *another* test drawing (the right kind of map, the wrong drawing);
- ``one_region``: one region per image (no region information at all: what ``patches_1`` sees);
- ``patches_1024``: the finest patch grid of paper Table IV.

A model that ignores its maps scores alike on every row; one that needs them right gets worse with ``shuffled``; one
held back by its maps' quality gets better with ``ground_truth``. Colour error is given as a fraction of the run's
``reference:constant``, with the bleeding. Any generator can be scored on the run's data with ``-m`` (e.g. one that
``benchmarks/recipe_search.py --regions ground_truth`` trained on the true regions).

    python benchmarks/region_map_dependence.py --results results --experiments full no_region_formulation --seeds 0 1 2
    python benchmarks/region_map_dependence.py --results results -m /tmp/rasc-recipe/runs/RUN/generator.pt --test-set B
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rasc.evaluate import colorize_set, region_metrics  # noqa: E402
from rasc.regions import extract_regions_batch  # noqa: E402
from rasc.training.checkpoint import load_generator, trained_region_source  # noqa: E402
from style_sampling import test_inputs  # noqa: E402  (the sibling benchmark: a run's test set and a source's maps)

MAPS = ("own", "ground_truth", "shuffled", "one_region", "patches_1024")


def swapped_maps(own: np.ndarray, truth: dict[str, np.ndarray], sketches: np.ndarray) -> dict[str, np.ndarray]:
    """Every region map of MAPS for the test sketches (N, H, W), given their maps from the model's own source
    ``own`` (N, H, W) → {name: (N, H, W) labels}."""
    return {
        "own": own,
        "ground_truth": truth["regions"],
        "shuffled": np.roll(own, 1, axis=0),  # drawing i gets drawing i-1's map
        "one_region": np.zeros_like(own),
        "patches_1024": extract_regions_batch(sketches, "patches", n_patches=1024),
    }


def score_maps(generator: torch.nn.Module, maps: dict[str, np.ndarray], sketches: np.ndarray,
               truth: dict[str, np.ndarray], constant: float) -> dict[str, tuple[float, float]]:
    """{map name: (colour error / constant, bleeding)} of the predicted-w colourings with each map."""
    scores = {}
    for name, labels in maps.items():
        coloured = colorize_set(generator, sketches, labels)[:, 0]  # (N, H, W, 3)
        metrics = region_metrics(coloured, None, sketches, truth)
        scores[name] = (metrics["colour_error"] / constant, metrics["bleeding"])
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"), help="a finished workflow run's results")
    parser.add_argument("--experiments", nargs="*", default=["full"], help="trained experiments of the run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("-m", "--models", type=Path, nargs="*", default=[],
                        help="further generator.pt files to score on the run's data (their own maps: trapped-ball "
                             "unless the checkpoint names another source)")
    parser.add_argument("--test-set", default="A", choices=["A", "B", "C"])
    args = parser.parse_args()
    torch.set_num_threads(1)

    results = args.results
    constant = json.loads((results / "eval" / "reference_constant" / args.test_set / "metrics.json").read_text())
    constant = constant["colour_error"]

    runs = {f"{e}/seed{s}": (results / "train" / e / f"seed{s}" / "generator.pt",
                             results / "eval" / e / f"seed{s}" / args.test_set / "metrics.json")
            for e in args.experiments for s in args.seeds}  # name → (generator, the workflow's metrics of it)
    runs |= {str(path): (path, None) for path in args.models}
    table, inputs = {}, {}  # inputs: region source → the test set's sketches, truth and maps (loaded once)
    for name, (path, metrics_path) in runs.items():
        if not path.is_file():
            print(f"{name}: no {path}, skipped")
            continue
        generator, config = load_generator(path)
        source = trained_region_source(config)
        if source not in inputs:
            loaded = test_inputs(results, source, args.test_set)
            sketches, truth = loaded["sketches"], loaded["truth"]
            inputs[source] = (sketches, truth, swapped_maps(loaded["regions"], truth, sketches))
        sketches, truth, maps = inputs[source]
        scores = score_maps(generator, maps, sketches, truth, constant)
        check = ""
        if metrics_path is not None and metrics_path.is_file():
            in_table = json.loads(metrics_path.read_text())["colour_error"] / constant
            verdict = "same" if abs(in_table - scores["own"][0]) < 1e-9 else "DIFFERS"
            check = f"  (metrics.json {in_table:.3f}: {verdict})"
        table[name] = scores
        print(f"{name} [{source}]{check}")
        print("  " + ", ".join(f"{m} {scores[m][0]:.3f} / {scores[m][1]:.2f}" for m in MAPS))

    if not table:
        raise SystemExit(f"no trained generator found under {results / 'train'} or in -m: nothing to score")
    print(f"\ntest set {args.test_set}, {len(sketches)} drawings; colour error × reference:constant "
          f"({constant:.1f} ΔE) / bleeding, mean over the models above:")
    for m in MAPS:
        error = statistics.mean(scores[m][0] for scores in table.values())
        bleeding = statistics.mean(scores[m][1] for scores in table.values())
        shift = statistics.mean(scores[m][0] - scores["own"][0] for scores in table.values())
        print(f"  {m:<13} {error:.3f} / {bleeding:.2f}  ({shift:+.3f} against own)")


if __name__ == "__main__":
    main()
