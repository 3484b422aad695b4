"""Where does a trained RASC model's colour error come from: the sketch path's w, or the decoder?

Reads a finished workflow run (procedural data: the archetypes are known) and colours test set A with four
latents, each scored with the workflow's metric code as a fraction of `reference:constant`:

- `predicted`: w predicted from the sketch (the default output);
- `archetype_centre`: w = the mean posterior mean of the training drawings of the test drawing's *true*
  archetype: what the sketch path could give if it recognised every archetype, with this decoder;
- `oracle`: w = the style encoder's posterior mean of the test drawing's own colours;
- `swapped`: the posterior mean of the *next* test drawing: which colours follow w (close to that drawing's) and
  which do not (close to neither).

Per part class (hair, top, ...) it prints the ΔE between the output's and the ground truth's mean CIELAB colour of
the part, beside two colourings that know the answer's statistics: the training mean of the part, and its mean
within the archetype, and beside a linear read-out of the part's colour from the posterior mean w itself (ridge
regression fitted on the training split): where the read-out is close and the oracle colouring is not, w carries
the colour and the decoder does not paint it. Then the sketch path itself: how well the archetype can be read off
the pooled deepest sketch features and off w_pred (nearest class centroid, centroids from the training split), and
the L1 between w_pred and the posterior mean on the training and the test split (equal values: the sketch MLP
underfits).

Then where the region colour error sits: the predicted and the oracle colouring's per-region ΔE (each ground-truth
region once, its pixels off the lines, as the metric measures), by part class and by region area, with each
group's share of the total; for the regions of at most 32 px, how many the trapped-ball map merges with a
neighbour and their ΔE on the pixels that touch no line; and the wallpaper's or floor's pattern colour (the
background colour group with the most small regions), read out linearly from w and painted by the oracle, beside
its training mean.

    python benchmarks/latent_diagnosis.py                          # results/ of the main job, full, seed 0
    python benchmarks/latent_diagnosis.py --results /tmp/clone/results --experiment no_region_maps
    python benchmarks/latent_diagnosis.py --recipe --generator RUN/snapshots/...  # a recipe_search run's data
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from recipe_search import build_split
from scipy.ndimage import binary_dilation
from skimage.color import rgb2lab

from rasc.config import load_config
from rasc.data.synth import PART_NAMES
from rasc.evaluate import region_metrics
from rasc.models.generator import SketchEncoding
from rasc.models.inference import color_to_tensor, labels_to_tensor, rgb_to_uint8, sketch_to_tensor
from rasc.references import constant_colouring
from rasc.training.checkpoint import load_generator

PARTS = ("hair", "top", "bottom", "skin", "iris", "accessory", "background")


def load_split(results: Path, split: str) -> dict[str, np.ndarray]:
    """Illustrations, XDoG sketches and trapped-ball regions of one split of a workflow run."""
    with np.load(results / "data" / split / "illustrations.npz") as archive:
        arrays = dict(archive)
    if "archetype" not in arrays:
        raise SystemExit(f"{results}: the data have no archetypes (procedural data only)")
    with np.load(results / "data" / split / "sketch_xdog.npz") as archive:
        arrays["sketch"] = archive["sketch"]
    with np.load(results / "regions" / "trapped_ball" / f"{split}_xdog.npz") as archive:
        arrays["trapped_ball"] = archive["labels"]
    return arrays


@torch.no_grad()
def sketch_path(generator, split: dict[str, np.ndarray]) -> tuple[SketchEncoding, torch.Tensor]:
    """(the split's sketch encoding, encoded once for every latent it is coloured with; posterior mean mu (N, w_dim))."""
    encoding = generator.encode(sketch_to_tensor(split["sketch"]), labels_to_tensor(split["trapped_ball"]))
    mu, _ = generator.encode_style(color_to_tensor(split["color"]))
    return encoding, mu


def pooled_features(encoding: SketchEncoding) -> np.ndarray:
    """The deepest sketch features averaged over space (N, C): what the sketch MLP sees."""
    return encoding.features[-1].mean(dim=(2, 3)).numpy()


def to_lab(images: np.ndarray) -> np.ndarray:
    """uint8 RGB images (N, H, W, 3) → CIELAB float (N, H, W, 3)."""
    return np.stack([rgb2lab(image) for image in images])


def part_means(lab: np.ndarray, parts: np.ndarray, part: int) -> np.ndarray:
    """Mean colour (N, 3) of each CIELAB image's (N, H, W, 3) pixels of one part class; NaN rows where it is absent."""
    means = np.full((len(lab), 3), np.nan)
    for i, (image, image_parts) in enumerate(zip(lab, parts)):
        mask = image_parts == part
        if mask.any():
            means[i] = image[mask].mean(axis=0)
    return means


def linear_readout(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, ridge: float = 1.0) -> np.ndarray:
    """Ridge regression train_x (N, D) → train_y (N, 3), rows with NaN targets left out, applied to test_x (M, D)."""
    rows = ~np.isnan(train_y).any(axis=1)
    mean, std = train_x[rows].mean(axis=0), train_x[rows].std(axis=0) + 1e-8
    design = np.c_[(train_x[rows] - mean) / std, np.ones(rows.sum())]  # (n, D + 1)
    penalty = ridge * np.eye(design.shape[1])
    penalty[-1, -1] = 0.0  # the intercept is not shrunk
    coefficients = np.linalg.solve(design.T @ design + penalty, design.T @ train_y[rows])  # (D + 1, 3)
    return np.c_[(test_x - mean) / std, np.ones(len(test_x))] @ coefficients


def centroid_accuracy(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray) -> float:
    """Held-out accuracy of the nearest class centroid (features standardised on the training split)."""
    mean, std = train_x.mean(axis=0), train_x.std(axis=0) + 1e-8
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    classes = np.unique(train_y)
    centroids = np.stack([train_x[train_y == c].mean(axis=0) for c in classes])  # (K, D)
    nearest = ((test_x[:, None] - centroids[None]) ** 2).sum(axis=-1).argmin(axis=1)
    return float((classes[nearest] == test_y).mean())


def region_errors(colourings_lab: dict[str, np.ndarray], truth_lab: np.ndarray, split: dict[str, np.ndarray]
                  ) -> pd.DataFrame:
    """One row per (colouring, image, ground-truth region): the region's measured area, its part class, the ΔE of
    its mean colour (line pixels, sketch or ground-truth outline darker than 128, left out as in the metric), the
    same ΔE on its pixels that touch no line, and whether its trapped-ball region lies mostly in other regions."""
    ink = (split["sketch"] < 128) | (split["lines_clean"] < 128)  # (N, H, W)
    rows = []
    for i, (regions, parts, maps) in enumerate(zip(split["regions"], split["parts"], split["trapped_ball"])):
        off_lines = ~binary_dilation(ink[i])  # (H, W) pixels with no line among their 4 neighbours
        for label in np.unique(regions):
            measured = (regions == label) & ~ink[i]
            if not measured.any():
                continue
            inner = measured & off_lines
            trapped = (maps == np.bincount(maps[measured]).argmax()) & ~ink[i]
            merged = (trapped & (regions != label)).sum() > trapped.sum() / 2
            part = PART_NAMES[np.bincount(parts[measured]).argmax()]
            for name, lab in colourings_lab.items():
                delta = np.linalg.norm(lab[i][measured].mean(axis=0) - truth_lab[i][measured].mean(axis=0))
                delta_inner = (np.linalg.norm(lab[i][inner].mean(axis=0) - truth_lab[i][inner].mean(axis=0))
                               if inner.any() else np.nan)
                rows.append((name, i, int(measured.sum()), part, delta, delta_inner, merged))
    return pd.DataFrame(rows, columns=["colouring", "image", "area", "part", "delta_e", "delta_e_off_lines", "merged"])


def print_error_shares(errors: pd.DataFrame) -> None:
    """Mean ΔE, region count and share of the total per part class and per area bin, for each colouring."""
    errors = errors.assign(area_px=pd.cut(errors["area"], [0, 16, 32, 64, 128, 1 << 20],
                                          labels=["<=16", "17-32", "33-64", "65-128", ">128"]))
    for key in ("part", "area_px"):
        table = errors.groupby(["colouring", key], observed=True)["delta_e"].agg(["count", "mean", "sum"])
        table["share"] = table["sum"] / table.groupby(level=0)["sum"].transform("sum")
        print(f"\nper-region ΔE by {key} (share: of the colouring's summed region error)")
        print(table.drop(columns="sum").unstack(0).round(3).to_string())
    small = errors[errors["area"] <= 32]
    print(f"\nregions of at most 32 px ({small['image'].size // errors['colouring'].nunique()} per colouring): "
          f"merged with another in the trapped-ball map {small['merged'].mean():.2f}; " + ", ".join(
              f"{name} ΔE {rows['delta_e'].mean():.1f}, on the pixels touching no line {rows['delta_e_off_lines'].mean():.1f}"
              for name, rows in small.groupby("colouring")))


def pattern_masks(split: dict[str, np.ndarray]) -> list[np.ndarray | None]:
    """Per drawing, the pixels of the background colour group with the most small regions (≥ 4 regions of mean
    area < 60 px: a wallpaper's or the floor's pattern), or None where there is none."""
    background = PART_NAMES.index("background")
    masks = []
    for regions, parts, groups in zip(split["regions"], split["parts"], split["region_group"]):
        best, best_count = None, 0
        region_areas = np.bincount(regions.ravel(), minlength=len(groups))  # (≥ R,) px per label
        for group in np.unique(groups[groups >= 0]):
            labels = np.flatnonzero(groups == group)
            areas = region_areas[labels][region_areas[labels] > 0]
            mask = np.isin(regions, labels)
            if (len(areas) >= 4 and areas.mean() < 60 and len(areas) > best_count
                    and np.bincount(parts[mask]).argmax() == background):
                best, best_count = mask, len(areas)
        masks.append(best)
    return masks


def masked_means(lab: np.ndarray, masks: list[np.ndarray | None]) -> np.ndarray:
    """Mean colour (N, 3) of each CIELAB image's masked pixels; NaN rows where the mask is None."""
    means = np.full((len(lab), 3), np.nan)
    for i, mask in enumerate(masks):
        if mask is not None:
            means[i] = lab[i][mask].mean(axis=0)
    return means


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", help="a workflow run's results folder")
    parser.add_argument("--experiment", default="full")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--generator", default=None, help="a generator checkpoint (default: the experiment's)")
    parser.add_argument("--recipe", action="store_true",
                        help="data of benchmarks/recipe_search.py on --config (its cache) instead of --results")
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--cache", default="/tmp/rasc-recipe")
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = Path(args.results)
    checkpoint = args.generator or results / "train" / args.experiment / f"seed{args.seed}" / "generator.pt"
    generator, _ = load_generator(checkpoint)
    if generator.cfg.latent != "posterior":
        raise SystemExit(f"{checkpoint}: needs a style encoder (latent 'posterior')")
    if args.recipe:
        config = load_config(args.config)
        train, test = (build_split(config, split, Path(args.cache)) for split in ("train", "test"))
    else:
        train, test = load_split(results, "train"), load_split(results, "test")
    train_encoding, train_mu = sketch_path(generator, train)
    test_encoding, test_mu = sketch_path(generator, test)
    train_w_pred, test_w_pred = train_encoding.w_pred, test_encoding.w_pred

    centres = {int(a): train_mu[torch.from_numpy(train["archetype"] == a)].mean(dim=0)
               for a in np.unique(train["archetype"])}
    latents = {
        "predicted": test_w_pred,
        "archetype_centre": torch.stack([centres[int(a)] for a in test["archetype"]]),
        "oracle": test_mu,
        "swapped": test_mu.roll(-1, dims=0),
    }
    with torch.no_grad():
        colourings = {name: rgb_to_uint8(generator.decode(test_encoding, w)) for name, w in latents.items()}
    constant = region_metrics(constant_colouring(train["color"], len(test["sketch"])), None, test["sketch"],
                              test)["colour_error"]
    print(f"{checkpoint}: test set A, {len(test['sketch'])} drawings")
    print("colour error / reference:constant: " + ", ".join(
        f"{name} {region_metrics(images, None, test['sketch'], test)['colour_error'] / constant:.3f}"
        for name, images in colourings.items()))

    print(f"\n{'part':<11} {'images':>6} {'train mean':>10} {'archetype':>10} | {'predicted':>9} {'arch.centre':>11} "
          f"{'oracle':>7} {'swapped→own':>11} {'swapped→src':>11} | {'w read-out':>10}   (ΔE of the part's mean colour)")
    warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)  # a part absent from an archetype
    train_lab, test_lab = to_lab(train["color"]), to_lab(test["color"])
    colourings_lab = {name: to_lab(images) for name, images in colourings.items()}
    for name in PARTS:
        part = PART_NAMES.index(name)
        truth, train_parts = part_means(test_lab, test["parts"], part), part_means(train_lab, train["parts"], part)
        present = ~np.isnan(truth).any(axis=1)
        source_present = present & np.roll(present, -1)
        if present.sum() < 2:
            continue

        def error(means: np.ndarray, truth: np.ndarray = truth, rows: np.ndarray = present) -> float:
            """Mean ΔE over the rows where both colours exist."""
            distances = np.linalg.norm(means - truth, axis=1)[rows]
            return float(np.nanmean(distances)) if np.isfinite(distances).any() else float("nan")

        by_archetype = np.stack([np.nanmean(train_parts[train["archetype"] == a], axis=0) for a in test["archetype"]])
        outputs = {key: part_means(lab, test["parts"], part) for key, lab in colourings_lab.items()}
        readout = linear_readout(train_mu.numpy(), train_parts, test_mu.numpy())  # (N, 3) from w alone
        print(f"{name:<11} {int(present.sum()):>6} {error(np.nanmean(train_parts, axis=0)):>10.1f} {error(by_archetype):>10.1f} | "
              f"{error(outputs['predicted']):>9.1f} {error(outputs['archetype_centre']):>11.1f} "
              f"{error(outputs['oracle']):>7.1f} {error(outputs['swapped'], rows=source_present):>11.1f} "
              f"{error(outputs['swapped'], np.roll(truth, -1, axis=0), source_present):>11.1f} | "
              f"{error(readout):>10.1f}")

    print_error_shares(region_errors({key: colourings_lab[key] for key in ("predicted", "oracle")}, test_lab, test))
    test_masks = pattern_masks(test)
    train_pattern, test_pattern = masked_means(train_lab, pattern_masks(train)), masked_means(test_lab, test_masks)
    has_pattern = ~np.isnan(test_pattern).any(axis=1)
    painted = masked_means(colourings_lab["oracle"], test_masks)
    readout = linear_readout(train_mu.numpy(), train_pattern, test_mu.numpy())
    pattern_error = {name: np.linalg.norm(means - test_pattern, axis=1)[has_pattern].mean() for name, means in
                     (("train mean", np.nanmean(train_pattern, axis=0)), ("w read-out", readout), ("oracle", painted))}
    print(f"\nbackground pattern colour ({int(has_pattern.sum())} test drawings): ΔE " +
          ", ".join(f"{name} {value:.1f}" for name, value in pattern_error.items()))

    archetype_train, archetype_test = train["archetype"], test["archetype"]
    print(f"\nsketch path: archetype accuracy (nearest centroid, chance {1 / len(centres):.3f}): pooled features "
          f"{centroid_accuracy(pooled_features(train_encoding), archetype_train, pooled_features(test_encoding), archetype_test):.2f}, "
          f"w_pred {centroid_accuracy(train_w_pred.numpy(), archetype_train, test_w_pred.numpy(), archetype_test):.2f}, "
          f"posterior mean of the colours {centroid_accuracy(train_mu.numpy(), archetype_train, test_mu.numpy(), archetype_test):.2f}")
    print(f"|w_pred - mu| (mean L1): train {(train_w_pred - train_mu).abs().mean():.3f}, "
          f"test {(test_w_pred - test_mu).abs().mean():.3f}")


if __name__ == "__main__":
    main()
