"""How well does `rasc colorize` colour drawings larger than the generator's working size?

Renders procedural drawings of the config's data (`rasc.data.synth`, a seed stream no training set uses) at the
working size and at larger sides, framed alike (`rasc.data.synth.framed_as`: the same scenes as a larger scan),
colours their clean and rough line art with `rasc.colorize.colorize_drawing` (the default output, region-flat
refinement), and scores it against the ground truth at full size with the project's region metrics (colour error
and bleeding, `rasc.evaluate.region_metrics`). Two ways of bringing a large drawing to the working size are
compared: `pad_resize` alone (area averaging: thin lines become grey strokes) and `line_art_to_size` (the same,
then binarised at `INK_COVERAGE`, what `rasc colorize` does). The reference is the same drawings drawn at the
working size, which need no resizing.

    python benchmarks/colorize_sizes.py -m results/train/full/seed0/generator.pt [--sizes 256 512 1024] [--n 30]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import rasc.colorize  # noqa: E402
import rasc.data.sketch  # noqa: E402
from rasc.config import DEFAULT_CONFIG, load_config  # noqa: E402
from rasc.data.prepare import synth_config  # noqa: E402
from rasc.data.sketch import line_art_to_size, pad_resize  # noqa: E402
from rasc.data.synth import SynthConfig, framed_as, synthesize  # noqa: E402
from rasc.evaluate import region_metrics  # noqa: E402
from rasc.regions.build import region_extractor  # noqa: E402
from rasc.training.checkpoint import load_generator, trained_region_source  # noqa: E402

LINE_STYLES = ("lines_clean", "lines_rough")
TO_SIZE = {"area (pad_resize)": pad_resize, "binarised (line_art_to_size)": line_art_to_size}  # what working_view calls
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_arguments(parser)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024], help="drawing sides to try")
    parser.add_argument("--n", type=int, default=30, help="drawings per size")
    args = parser.parse_args()
    torch.set_num_threads(1)
    generator, extract, _, base = load_model_and_data(args.model, args.config)
    native = synthesize(args.n, DATA_SEED, base)
    reference = {lines: score(generator, extract, native, lines) for lines in LINE_STYLES}
    print(f"{args.n} drawings per size, seed stream {DATA_SEED}; colour error (ΔE) / bleeding of the default output; "
          f"in brackets the colour error × that of the same drawings drawn at {base.size}²")
    print(f"{'side':>5}  {'lines':<6} {'downscale':<28} {'colour error':>18} {'bleeding':>9}")
    for lines in LINE_STYLES:
        print(f"{base.size:>5}  {lines[6:]:<6} {'none (drawn at working size)':<28} "
              f"{reference[lines]['colour_error']:>9.2f} (1.00)   {reference[lines]['bleeding']:>9.2f}")
    for size in args.sizes:
        drawings = synthesize(args.n, DATA_SEED, framed_as(base, size))
        for lines in LINE_STYLES:
            for name, to_size in TO_SIZE.items():
                with mock.patch.object(rasc.data.sketch, "line_art_to_size", to_size):
                    metrics = score(generator, extract, drawings, lines)
                ratio = metrics["colour_error"] / reference[lines]["colour_error"]
                print(f"{size:>5}  {lines[6:]:<6} {name:<28} {metrics['colour_error']:>9.2f} ({ratio:.2f})   "
                      f"{metrics['bleeding']:>9.2f}", flush=True)


if __name__ == "__main__":
    main()
