"""Random styles under the paper's N(0, 1) and under the prior fitted after training (rasc.models.style_prior).

Reads a finished workflow run, colours one test set with ``--samples`` random w per sketch under each prior (the
same standard-normal draws ε: w = ε, or w = w_pred + L·ε) and scores the samples as the evaluation does: their
spread (``diversity``) and how many of them are close to one of the drawing's known valid colourings
(``diversity_precision``) and how many valid colourings a sample comes close to (``diversity_recall``). A model
whose checkpoint predates the fitted prior gets it fitted here, on the run's own training split (what training
now does at its end).

    python benchmarks/style_sampling.py                                       # results/, full, seed 0, test set A
    python benchmarks/style_sampling.py --results /tmp/clone/results --experiments full no_region_maps --seeds 0 1 2
    python benchmarks/style_sampling.py --figure docs/style_sampling.png     # + the first model's samples, drawn
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np
import torch

from rasc.data.prepare import TEST_SETS, load_npz
from rasc.evaluate import colorize_set, region_metrics
from rasc.experiment import default_paths
from rasc.metrics.fid import FIDBackbone, FIDFeatures, fid_between
from rasc.models.style_prior import PRIORS, fit_style_prior
from rasc.plotting import image_grid
from rasc.training.checkpoint import load_generator, trained_region_source
from rasc.training.data import load_train_data

def fitted_generator(results: Path, experiment: str, seed: int) -> tuple[torch.nn.Module, str, bool]:
    """The run's generator with its fitted style prior → (generator, its region source, whether the prior was
    fitted here); a model without a style encoder has none."""
    generator, config = load_generator(results / "train" / experiment / f"seed{seed}" / "generator.pt")
    source = trained_region_source(config)
    if generator.cfg.latent != "posterior" or generator.style_scale_tril is not None:
        return generator, source, False
    paths = default_paths(experiment, seed, source)
    data = load_train_data(*(results.parent / paths[key] for key in ("illustrations", "sketches", "regions")))
    generator.style_scale_tril = fit_style_prior(generator, data.sketch, data.regions, data.color)
    return generator, source, True


def test_inputs(results: Path, region_source: str, test_set: str) -> dict[str, np.ndarray]:
    """The test set's sketches (N, H, W), their region maps from the model's source (N, H, W) and the ground truth
    with the drawings' known valid colourings."""
    split, style = TEST_SETS[test_set]
    return {
        "sketches": load_npz(results / "data" / split / f"sketch_{style}.npz")["sketch"],
        "regions": load_npz(results / "regions" / region_source / f"{split}_{style}.npz")["labels"],
        "truth": load_npz(results / "data" / split / "illustrations.npz")
        | load_npz(results / "data" / split / "alternatives.npz"),
    }


def sample_scores(generator: torch.nn.Module, inputs: dict[str, np.ndarray], samples: int,
                  prior: str, fid: tuple[FIDBackbone, FIDFeatures] | None = None) -> tuple[dict[str, float], np.ndarray]:
    """diversity, precision and recall of ``samples`` random-w colourings per sketch of the test set ``inputs``
    (:func:`test_inputs`) under ``prior``, and with ``fid`` (the run's backbone and the test illustrations'
    features) the FID of all the samples → (scores, the colourings (N, samples, H, W, 3) uint8)."""
    sketches = inputs["sketches"]
    colourings = colorize_set(generator, sketches, inputs["regions"], seed=0, n_samples=samples, prior=prior)
    metrics = region_metrics(colourings[:, 0], colourings, sketches, inputs["truth"])
    scores = {key: metrics[key] for key in ("diversity", "diversity_precision", "diversity_recall")}
    if fid is not None:  # do the samples look like the data's colourings at all, whichever drawing's?
        backbone, reference = fid
        scores["fid"] = fid_between(backbone.features(colourings.reshape(-1, *colourings.shape[2:])), reference)
    return scores, colourings


def draw_samples(sketches: np.ndarray, predicted: np.ndarray, by_prior: dict[str, np.ndarray], title: str,
                 path: Path, drawings: int = 6) -> None:
    """A grid per drawing: its sketch, the predicted-w colouring, then the random-w samples under each prior."""
    samples = next(iter(by_prior.values())).shape[1]
    rows = [[sketches[i], predicted[i], *(image for prior in by_prior for image in by_prior[prior][i])]
            for i in range(min(drawings, len(sketches)))]
    columns = ["sketch", "predicted w"] + [f"{prior} {k}" for prior in by_prior for k in range(samples)]
    image_grid(rows, [f"#{i}" for i in range(len(rows))], columns, path, title)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", help="a workflow run's results folder")
    parser.add_argument("--experiments", nargs="+", default=["full"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--test-set", default="A", choices=("A", "B", "C"))
    parser.add_argument("--samples", type=int, default=4, help="random w per sketch (the evaluation's default 4)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--figure", type=Path, help="also draw the first model's samples of six drawings (PNG)")
    parser.add_argument("--fid", action="store_true", help="also the FID of all samples against the test "
                        "illustrations, with the run's backbone (results/eval/fid_backbone.pt)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    results = Path(args.results).resolve()
    fid = None
    if args.fid:
        fid = (FIDBackbone.from_file(results / "eval" / "fid_backbone.pt", "cpu"),
               FIDFeatures.load(results / "eval" / "fid_reference.npz"))
    print(f"{args.samples} random w per sketch of test set {args.test_set} ({results}); diversity / precision / "
          f"recall under each prior (fitted: w_pred + L·ε; standard: the paper's w = ε ~ N(0, 1))")
    for experiment in args.experiments:
        rows = {prior: [] for prior in PRIORS}
        for seed in args.seeds:
            generator, source, fitted_here = fitted_generator(results, experiment, seed)
            inputs = test_inputs(results, source, args.test_set)
            drawn = {}
            for prior in PRIORS:
                scores, drawn[prior] = sample_scores(generator, inputs, args.samples, prior, fid)
                rows[prior].append(scores)
                print(f"  {experiment:<22} seed {seed} {prior:<8} diversity {scores['diversity']:5.1f}  precision "
                      f"{scores['diversity_precision']:.3f}  recall {scores['diversity_recall']:.3f}"
                      + (f"  FID {scores['fid']:.1f}" if fid else "")
                      + ("  (prior fitted here)" if fitted_here and prior == "fitted" else ""))
            if args.figure is not None and experiment == args.experiments[0] and seed == args.seeds[0]:
                predicted = colorize_set(generator, inputs["sketches"], inputs["regions"])[:, 0]
                draw_samples(inputs["sketches"], predicted, drawn, f"{experiment}, seed {seed}, test set "
                             f"{args.test_set}: random w under each prior", args.figure)
        if len(args.seeds) > 1:
            for prior, scores in rows.items():
                means = {key: statistics.mean(row[key] for row in scores) for key in scores[0]}
                print(f"  {experiment:<22} mean   {prior:<8} diversity {means['diversity']:5.1f}  precision "
                      f"{means['diversity_precision']:.3f}  recall {means['diversity_recall']:.3f}"
                      + (f"  FID {means['fid']:.1f}" if fid else ""))


if __name__ == "__main__":
    main()
