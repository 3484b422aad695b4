"""How well does `rasc colorize` colour drawings framed unlike its training data?

The default data frame every character alike (`data.synth.zoom`: head, hair style and outfit in view). A user's
drawing may show the character smaller (a half or full figure) or closer. This renders procedural drawings of the
config's data (a seed stream no training set uses) with the head-size factor `zoom` times each of ``--zooms`` (1 =
the training framing), at a side ``--size`` framed as a larger scan of the working size
(`rasc.data.synth.framed_as`), colours their clean line art with `rasc.colorize.colorize_drawing` (the default
output) and scores it against the ground truth (`rasc.evaluate.region_metrics`). Since the framing changes what
there is to colour (more clothes and wall, smaller hair), each row also scores the flat colour (every pixel the
training split's mean colour, `reference:constant`) on the same drawings, and gives the model's colour error as a
fraction of it, as the tables do.

``--margins``: the drawings at the training framing on a page with white paper margins of that fraction of their
side on every side (a drawing scanned with its paper), coloured as `rasc colorize` does (cropped to the square
around the ink first) and with ``--whole-page``, scored on the drawing's own area.

    python benchmarks/colorize_framing.py -m results/train/full/seed0/generator.pt [--zooms 0.5 0.7 1 1.4] [--n 30]
    python benchmarks/colorize_framing.py -m results/train/full/seed0/generator.pt --zooms --margins 0 0.3 0.6
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import rasc.colorize  # noqa: E402
from colorize_sizes import (  # noqa: E402  (the sibling benchmark: same drawings, loading and scoring)
    DATA_SEED,
    add_model_arguments,
    against_truth,
    load_model_and_data,
    score,
)
from rasc.data.prepare import prepare_illustrations  # noqa: E402
from rasc.data.synth import framed_as, synthesize  # noqa: E402
from rasc.references import constant_colouring  # noqa: E402


def flat_colour_error(drawings: dict[str, np.ndarray], train_colors: np.ndarray) -> float:
    """Colour error of `reference:constant` on ``drawings``: every pixel the mean of ``train_colors`` (N, h, w, 3)."""
    flat = constant_colouring(train_colors, len(drawings["color"]), drawings["color"].shape[1:3])  # (N, H, W, 3)
    return against_truth(flat, drawings, drawings["lines_clean"])["colour_error"]


def margin_score(generator, extract, drawings: dict[str, np.ndarray], margin: float, crop: bool) -> dict[str, float]:
    """Colour error and bleeding on their own area of ``drawings``' clean line art coloured on a white page with
    margins of ``margin`` × their side on every side, cropped to the ink first (``crop``) or whole."""
    sketches = drawings["lines_clean"]  # (N, H, W)
    pad = int(round(margin * sketches.shape[1]))
    area = (slice(pad, pad + sketches.shape[1]), slice(pad, pad + sketches.shape[2]))
    coloured = np.stack([rasc.colorize.colorize_drawing(generator, extract, np.pad(sketch, pad, constant_values=255),
                                                        crop_to_ink=crop)[0][area] for sketch in sketches])
    return against_truth(coloured, drawings, sketches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_arguments(parser)
    parser.add_argument("--zooms", type=float, nargs="*", default=[0.5, 0.7, 1.0, 1.4],
                        help="head-size factors relative to the training framing (1)")
    parser.add_argument("--margins", type=float, nargs="*", default=[],
                        help="white page margins as fractions of the drawing's side (training framing)")
    parser.add_argument("--size", type=int, default=256, help="drawing side in px")
    parser.add_argument("--n", type=int, default=30, help="drawings per framing")
    args = parser.parse_args()
    torch.set_num_threads(1)
    generator, extract, config, base = load_model_and_data(args.model, args.config)
    train_colors = prepare_illustrations(config["data"], "train")["color"]  # (N, h, w, 3) uint8
    scan = framed_as(base, args.size)
    print(f"{args.n} drawings per framing at {args.size}², clean lines, seed stream {DATA_SEED}; training framing: "
          f"zoom {base.zoom} at {base.size}²; colour error (ΔE) of the default output, of the flat colour, and their "
          f"ratio; bleeding")
    print(f"{'zoom × training':>15} {'colour error':>13} {'flat colour':>12} {'ratio':>6} {'bleeding':>9}")
    for factor in args.zooms:
        drawings = synthesize(args.n, DATA_SEED, replace(scan, zoom=scan.zoom * factor))
        metrics = score(generator, extract, drawings, "lines_clean")
        flat = flat_colour_error(drawings, train_colors)
        print(f"{factor:>15.2f} {metrics['colour_error']:>13.2f} {flat:>12.2f} {metrics['colour_error'] / flat:>6.2f} "
              f"{metrics['bleeding']:>9.2f}", flush=True)
    if args.margins:
        drawings = synthesize(args.n, DATA_SEED, scan)
        flat = flat_colour_error(drawings, train_colors)
        print(f"on a page with white margins (training framing; flat colour {flat:.2f}): colour error (ratio) / "
              f"bleeding on the drawing's area")
        print(f"{'margin':>7} {'cropped to the ink (default)':>29} {'--whole-page':>22}")
        for margin in args.margins:
            cells = [margin_score(generator, extract, drawings, margin, crop) for crop in (True, False)]
            print(f"{margin:>7.2f} " + " ".join(f"{m['colour_error']:>13.2f} ({m['colour_error'] / flat:.2f}) / "
                                                f"{m['bleeding']:.2f}" for m in cells), flush=True)


if __name__ == "__main__":
    main()
