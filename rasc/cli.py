"""The ``rasc`` command: the workflow's stages on your own files.

    rasc synth -o DIR                      procedural illustrations, their sketches and regions as PNG files
    rasc sketch IMAGE... -o DIR            XDoG sketches of your colour images
    rasc regions SKETCH... -o DIR          region maps (trapped-ball, learned or patches) of your line art
    rasc train --config FILE               train one experiment outside Snakemake
    rasc colorize SKETCH... -m MODEL -o DIR  colourise your line art with a trained generator

Every command exits non-zero with a one-line message naming the problem (unreadable file, broken config, ...).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from rasc.logs import configure_logging

log = logging.getLogger("rasc")


class CommandError(Exception):
    """A problem with the user's input, reported as one line and exit code 2."""


def _size_arguments(parser: argparse.ArgumentParser, default: int | None) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--size", type=int, default=default,
        help="bring every image to SIZE×SIZE the paper's way: mirror padding to a square, then resize"
        + (f" (default {default})" if default else ""),
    )
    group.add_argument("--native", action="store_true", help="keep each image's own size")


def _bring_to_size(image, args):
    from rasc.data.sketch import pad_resize

    return image if args.native or not args.size else pad_resize(image, args.size)


def _output_path(folder: Path, source: Path, suffix: str = ".png") -> Path:
    return folder / f"{source.stem}{suffix}"


def cmd_synth(args: argparse.Namespace) -> None:
    """Write procedural illustrations with their sketches (XDoG, clean, rough) and region previews."""
    from rasc.data.sketch import SketchConfig, xdog_batch
    from rasc.data.synth import SynthConfig, synthesize
    from rasc.imageio import write_image
    from rasc.regions.labels import random_colour_preview

    cfg = SynthConfig(size=args.size, shadow_prob=args.shadow_prob)
    arrays = synthesize(args.n, seed=args.seed, cfg=cfg)
    xdog = xdog_batch(arrays["color"], seed=args.seed, cfg=SketchConfig())
    for i in range(args.n):
        stem = args.output / f"{i:04d}"
        write_image(f"{stem}_color.png", arrays["color"][i])
        write_image(f"{stem}_xdog.png", xdog[i])
        write_image(f"{stem}_clean.png", arrays["lines_clean"][i])
        write_image(f"{stem}_rough.png", arrays["lines_rough"][i])
        write_image(f"{stem}_regions.png", arrays["regions"][i])
        write_image(f"{stem}_regions.preview.png", random_colour_preview(arrays["regions"][i], seed=i))
    log.info("wrote %d illustrations to %s", args.n, args.output)


def cmd_sketch(args: argparse.Namespace) -> None:
    """XDoG sketches of the user's colour images."""
    from rasc.data.sketch import SketchConfig, xdog
    from rasc.imageio import read_rgb, write_image

    cfg = SketchConfig()
    for path in args.images:
        image = _bring_to_size(read_rgb(path), args)
        write_image(_output_path(args.output, path), xdog(image, sigma=args.sigma, tau=cfg.tau, k=cfg.k, phi=cfg.phi, eps=cfg.eps))
        log.info("%s → %s", path, _output_path(args.output, path))


def cmd_regions(args: argparse.Namespace) -> None:
    """Region maps of the user's line art: a 16-bit label PNG and a random-colour preview per input."""
    from rasc.imageio import read_grey, write_image
    from rasc.regions.build import region_extractor
    from rasc.regions.labels import random_colour_preview, relabel_contiguous

    source = args.method.replace("-", "_")
    if source == "patches":
        source = f"patches_{args.patches}"
    if source == "learned" and args.model is None:
        raise CommandError("--method learned needs --model results/regions/learned_model.pt (train it with snakemake)")
    extract = region_extractor(source, args.model)
    for path in args.sketches:
        sketch = _bring_to_size(read_grey(path), args)
        labels = relabel_contiguous(extract(sketch))
        write_image(_output_path(args.output, path), labels)
        write_image(_output_path(args.output, path, ".preview.png"), random_colour_preview(labels))
        log.info("%s: %d regions → %s", path, int(labels.max()) + 1, _output_path(args.output, path))


def cmd_colorize(args: argparse.Namespace) -> None:
    """Colourise the user's line art with a trained generator (predicted w, random w, or a reference image)."""
    import numpy as np
    import torch

    from rasc.checkpoint import load_generator
    from rasc.data.sketch import pad_resize
    from rasc.imageio import read_grey, read_rgb, write_image
    from rasc.models.inference import (
        color_to_tensor,
        colorize,
        labels_to_tensor,
        rgb_to_uint8,
        sketch_to_tensor,
    )
    from rasc.regions.build import region_extractor

    generator, config = load_generator(args.model)
    size = generator.cfg.image_size
    source = config.get("model", {}).get("region_source", "trapped_ball") if isinstance(config, dict) else "trapped_ball"
    if source == "learned" and args.region_model is None:
        raise CommandError("this generator was trained on learned region maps: pass --region-model")
    extract = region_extractor(source, args.region_model)
    reference = None
    if args.reference is not None:
        reference = color_to_tensor(pad_resize(read_rgb(args.reference), size)[None])
    for path in args.sketches:
        sketch = pad_resize(read_grey(path), size)  # (H, W)
        if sketch.min() > 250:
            log.warning("%s: the sketch is blank (all white); the colouring has nothing to follow", path)
        labels = extract(sketch)
        with torch.no_grad():
            rgb = colorize(
                generator, sketch_to_tensor(sketch[None]), labels_to_tensor(np.asarray(labels)[None]),
                seed=args.seed, n_samples=args.samples if args.seed is not None else 1, reference=reference,
            )[0]  # (S, 3, H, W)
        for i, image in enumerate(rgb_to_uint8(rgb)):
            suffix = ".png" if len(rgb) == 1 else f".{i}.png"
            write_image(_output_path(args.output, path, suffix), image)
        log.info("%s → %s", path, _output_path(args.output, path))


def cmd_train(args: argparse.Namespace) -> None:
    """Train one experiment of a config outside Snakemake (the same library call as the train_model rule)."""
    from rasc.config import load_config
    from rasc.experiment import train_experiment

    config = load_config(args.config)
    train_experiment(
        config, args.experiment, args.seed,
        illustrations=args.illustrations, sketches=args.sketches, regions=args.regions, out_dir=args.output,
        progress=True,
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="rasc", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    synth = commands.add_parser("synth", help="write procedural illustrations, sketches and regions as PNG files")
    synth.add_argument("-o", "--output", type=Path, required=True, help="folder for the PNG files")
    synth.add_argument("-n", type=int, default=8, help="number of illustrations (default 8)")
    synth.add_argument("--size", type=int, default=256, help="image side in px (default 256)")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    synth.add_argument("--shadow-prob", type=float, default=0.0, help="probability of cel shadows (default 0)")
    synth.set_defaults(func=cmd_synth)

    sketch = commands.add_parser("sketch", help="XDoG sketches of your colour images (paper §IV-A)")
    sketch.add_argument("images", type=Path, nargs="+", help="colour images (PNG/JPEG/WebP, any size)")
    sketch.add_argument("-o", "--output", type=Path, required=True, help="folder for NAME.png sketches")
    sketch.add_argument("--sigma", type=float, default=0.6, help="XDoG sigma: larger = thicker, fewer lines (default 0.6)")
    _size_arguments(sketch, default=None)
    sketch.set_defaults(func=cmd_sketch)

    regions = commands.add_parser("regions", help="region maps of your line art")
    regions.add_argument("sketches", type=Path, nargs="+", help="line art (PNG/JPEG, grey/RGB/RGBA, dark lines on light paper)")
    regions.add_argument("-o", "--output", type=Path, required=True, help="folder for NAME.png (16-bit labels) and NAME.preview.png")
    regions.add_argument("--method", choices=["trapped-ball", "learned", "patches"], default="trapped-ball", help="region source (default trapped-ball)")
    regions.add_argument("--patches", type=int, default=64, help="patch count for --method patches, a perfect square (default 64)")
    regions.add_argument("--model", type=Path, help="learned extractor checkpoint for --method learned")
    _size_arguments(regions, default=None)
    regions.set_defaults(func=cmd_regions)

    train = commands.add_parser("train", help="train one experiment of a config (outside Snakemake)")
    train.add_argument("--config", type=Path, default=Path("config/config.yaml"), help="config file (default config/config.yaml)")
    train.add_argument("--experiment", default="full", help="experiment name from the config (default full)")
    train.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    train.add_argument("--illustrations", type=Path, default=Path("results/data/train/illustrations.npz"), help="training illustrations (.npz)")
    train.add_argument("--sketches", type=Path, default=Path("results/data/train/sketch_xdog.npz"), help="training sketches (.npz)")
    train.add_argument("--regions", type=Path, help="region maps of the sketches (.npz; default: the experiment's source)")
    train.add_argument("-o", "--output", type=Path, help="output folder (default results/train/EXPERIMENT/seedSEED)")
    train.set_defaults(func=cmd_train)

    color = commands.add_parser("colorize", help="colourise your line art with a trained generator")
    color.add_argument("sketches", type=Path, nargs="+", help="line art (PNG/JPEG, any size)")
    color.add_argument("-m", "--model", type=Path, required=True, help="trained generator, e.g. results/train/full/seed0/generator.pt")
    color.add_argument("-o", "--output", type=Path, required=True, help="folder for the colourings")
    color.add_argument("--seed", type=int, help="draw random latents w ~ N(0, 1) from this seed instead of the predicted w")
    color.add_argument("--samples", type=int, default=4, help="colourings per sketch with --seed (default 4)")
    color.add_argument("--reference", type=Path, help="take the colour style of this reference image")
    color.add_argument("--region-model", type=Path, help="learned extractor checkpoint, for generators trained on learned maps")
    color.set_defaults(func=cmd_colorize)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rasc`` console command."""
    args = build_parser().parse_args(argv)
    configure_logging(logging.DEBUG if args.verbose else logging.INFO)
    from rasc.checkpoint import CheckpointError
    from rasc.config import ConfigError
    from rasc.imageio import ImageReadError

    if getattr(args, "output", None) is not None:
        args.output.mkdir(parents=True, exist_ok=True)
    try:
        args.func(args)
    except (CommandError, ConfigError, ImageReadError, CheckpointError, ValueError) as error:
        print(f"rasc {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
