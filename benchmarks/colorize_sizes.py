"""How well does `rasc colorize` colour drawings larger than the generator's working size?

Renders procedural drawings of the config's data (`rasc.data.synth`, a seed stream no training set uses) at the
working size and at larger sides, framed alike (`rasc.data.synth.framed_as`: the same scenes as a larger scan),
colours their clean and rough line art with `rasc.colorize.colorize_drawing` (the default output, region-flat
refinement), and scores it against the ground truth at full size with the project's region metrics (colour error
and bleeding, `rasc.evaluate.region_metrics`). Three ways of bringing a large drawing to the working size are
compared: `pad_resize` alone (area averaging: thin lines become grey strokes), area averaging binarised at 30% ink
coverage (what `rasc colorize` did before session x), and `line_art_to_size` (centre lines: one working-size pixel
wide whatever the pen, what it does now). The reference is the same drawings drawn at the working size, which need
no resizing. With ``--pens`` the clean lines of each size are also redrawn with a thin pen (their centre lines,
3 px wide) and a thick one (dilated by a disc of ``--thick`` px), the same drawings as scanned with other pens.

    python benchmarks/colorize_sizes.py -m results/train/full/seed0/generator.pt [--sizes 256 512 1024] [--n 30]
    python benchmarks/colorize_sizes.py -m results/train/full/seed0/generator.pt --sizes 512 --pens [--figure PNG]

``--figure``: one drawing of the last size, each line style a row: its line art, then per downscale what the
generator sees and the default output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import cv2
import numpy as np
import torch
from skimage.morphology import skeletonize

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import rasc.colorize  # noqa: E402
import rasc.data.sketch  # noqa: E402
from rasc.config import DEFAULT_CONFIG, load_config  # noqa: E402
from rasc.data.prepare import synth_config  # noqa: E402
from rasc.data.sketch import INK_LEVEL, line_art_to_size, pad_resize  # noqa: E402
from rasc.data.synth import SynthConfig, framed_as, synthesize  # noqa: E402
from rasc.evaluate import region_metrics  # noqa: E402
from rasc.plotting import image_grid  # noqa: E402
from rasc.regions.build import region_extractor  # noqa: E402
from rasc.training.checkpoint import load_generator, trained_region_source  # noqa: E402

LINE_STYLES = ("lines_clean", "lines_rough")
COVERAGE = 0.3  # the ink share of a working-size pixel at which the binarised reference makes it ink


def binarised_at_coverage(line_art: np.ndarray, size: int) -> np.ndarray:
    """Area averaging, then ink where at least ``COVERAGE`` of a working-size pixel's area was ink (the reference)."""
    square = pad_resize(line_art, size)
    if max(line_art.shape[:2]) <= size:
        return square
    return np.where(square <= 255 * (1 - COVERAGE), 0, 255).astype(np.uint8)


TO_SIZE = {"area (pad_resize)": pad_resize, "30% coverage": binarised_at_coverage,
           "centre lines (line_art_to_size)": line_art_to_size}  # the candidates for what working_view calls


def redrawn_with_pen(line_art: np.ndarray, pen: str, thick: int) -> np.ndarray:
    """Line art (H, W) uint8 redrawn with another pen: ``thin`` (its centre lines, 3 px wide), ``thick`` (its ink
    dilated by a disc of ``thick`` px) or ``as drawn``."""
    ink = line_art < INK_LEVEL  # (H, W) bool
    if pen == "thin":
        ink = cv2.dilate(skeletonize(ink).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    elif pen == "thick":
        ink = cv2.dilate(ink.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (thick, thick))) > 0
    return np.where(ink, 0, 255).astype(np.uint8)


DATA_SEED = 991  # a seed stream of its own: the training and test splits draw from data.seed's streams


def load_model_and_data(model: Path, config_path: Path) -> tuple[Any, Any, dict, SynthConfig]:
    """The generator of ``model``, its region extractor, the config and its drawing settings; exits when the config
    draws at another size than the generator works at."""
    generator, model_config = load_generator(model)
    extract = region_extractor(trained_region_source(model_config))
    config = load_config(config_path)
    base = synth_config(config["data"])
    if base.size != generator.cfg.image_size:
        raise SystemExit(f"{config_path} draws at {base.size}² but the generator works at "
                         f"{generator.cfg.image_size}²")
    return generator, extract, config, base


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """``-m`` (the trained generator) and ``--config`` (its data), as `load_model_and_data` takes them."""
    parser.add_argument("-m", "--model", type=Path, required=True, help="a trained generator.pt")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="config of its data")


def against_truth(coloured: np.ndarray, drawings: dict[str, np.ndarray], sketches: np.ndarray) -> dict[str, float]:
    """Region metrics (colour error, bleeding, ...) of colourings (N, H, W, 3) of ``sketches`` (N, H, W) against the
    ground truth of ``drawings``."""
    truth = {key: drawings[key] for key in ("color", "regions", "lines_clean")}
    return region_metrics(coloured, None, sketches, truth)


def score(generator, extract, drawings: dict[str, np.ndarray], lines: str) -> dict[str, float]:
    """Colour error and bleeding of the default colourings of ``drawings[lines]`` (N, H, W) against the truth."""
    sketches = drawings[lines]
    coloured = np.stack([rasc.colorize.colorize_drawing(generator, extract, sketch)[0] for sketch in sketches])
    return against_truth(coloured, drawings, sketches)


def downscale_figure(generator, extract, drawings: dict[str, np.ndarray], styles: dict[str, str], path: Path,
                     index: int = 0) -> None:
    """Drawing ``index`` of each line style (label → key of ``drawings``) in a row: the line art, then for every
    downscale of ``TO_SIZE`` the working-size sketch the generator sees and the default output."""
    rows = []
    for lines in styles.values():
        art = drawings[lines][index]  # (H, W)
        row = [art]
        for to_size in TO_SIZE.values():
            with mock.patch.object(rasc.data.sketch, "line_art_to_size", to_size):
                row += [to_size(art, generator.cfg.image_size),
                        rasc.colorize.colorize_drawing(generator, extract, art)[0]]
        rows.append(row)
    columns = ["line art"] + [f"{name.split(' (')[0]}\n{what}" for name in TO_SIZE for what in ("sees", "output")]
    side = drawings["color"].shape[1]
    image_grid(rows, list(styles), columns, path, f"rasc colorize of a {side} px drawing: what the generator sees")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_arguments(parser)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024], help="drawing sides to try")
    parser.add_argument("--n", type=int, default=30, help="drawings per size")
    parser.add_argument("--pens", action="store_true", help="also the clean lines redrawn with a thin and a thick pen")
    parser.add_argument("--thick", type=int, default=9, help="the thick pen's disc diameter in px of the drawing")
    parser.add_argument("--figure", type=Path, help="PNG: one drawing of the last size, per line style and downscale")
    args = parser.parse_args()
    torch.set_num_threads(1)
    generator, extract, _, base = load_model_and_data(args.model, args.config)
    native = synthesize(args.n, DATA_SEED, base)
    reference = {lines: score(generator, extract, native, lines) for lines in LINE_STYLES}
    print(f"{args.n} drawings per size, seed stream {DATA_SEED}; colour error (ΔE) / bleeding of the default output; "
          f"in brackets the colour error × that of the same drawings drawn at {base.size}²")
    print(f"{'side':>5}  {'lines':<16} {'downscale':<32} {'colour error':>18} {'bleeding':>9}")
    for lines in LINE_STYLES:
        print(f"{base.size:>5}  {lines[6:]:<16} {'none (drawn at working size)':<32} "
              f"{reference[lines]['colour_error']:>9.2f} (1.00)   {reference[lines]['bleeding']:>9.2f}")
    for size in args.sizes:
        drawings = synthesize(args.n, DATA_SEED, framed_as(base, size))
        styles = {lines[6:]: lines for lines in LINE_STYLES}
        for pen in ("thin", "thick") if args.pens else ():
            drawings[f"lines_{pen}"] = np.stack([redrawn_with_pen(art, pen, args.thick)
                                                 for art in drawings["lines_clean"]])
            styles[f"clean, {pen} pen"] = f"lines_{pen}"
        for label, lines in styles.items():
            against = reference[lines if lines in reference else "lines_clean"]["colour_error"]
            for name, to_size in TO_SIZE.items():
                with mock.patch.object(rasc.data.sketch, "line_art_to_size", to_size):
                    metrics = score(generator, extract, drawings, lines)
                print(f"{size:>5}  {label:<16} {name:<32} {metrics['colour_error']:>9.2f} "
                      f"({metrics['colour_error'] / against:.2f})   {metrics['bleeding']:>9.2f}", flush=True)
    if args.figure:
        downscale_figure(generator, extract, drawings, styles, args.figure)
        print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
