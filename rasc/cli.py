"""The ``rasc`` command: the workflow's stages on your own files.

    rasc synth -o DIR [--config FILE]          procedural illustrations, their sketches and regions as PNG files
    rasc sketch IMAGE|FOLDER... -o DIR         XDoG sketches of your colour images
    rasc regions DRAWING|FOLDER... -o DIR      region maps (trapped-ball, learned or patches) of your line art
    rasc train --config FILE                   train one experiment outside Snakemake
    rasc colorize DRAWING|FOLDER... -m MODEL -o DIR  colour your line art with a trained generator

Batches: every input is processed; a bad file is reported in one line and skipped, and the command exits 2 at the
end naming the files that failed. A problem with the command as a whole (broken config, unusable model, output
folder not writable, an output that would overwrite an input, an option that would do nothing) stops it before any
work, in one line, exit 2. Ctrl-C and SIGTERM stop it in one line (status 130 / 143), leaving no input's outputs
half-made.
"""

from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rasc.config import DEFAULT_CONFIG
from rasc.drawing import DEFAULT_MAX_PIXELS
from rasc.imageio import MIN_SIDE
from rasc.logs import configure_logging
from rasc.stops import Terminated, sigterm_as_interrupt

log = logging.getLogger("rasc")

MAX_SEED = 2**32 - 1  # seeds every random generator rasc uses accepts (NumPy's legacy ones stop here)
MAX_COLOURINGS = 100  # --samples and --steps: colourings of one drawing, all held in memory at its full size
DEFAULT_SAMPLES = 4  # colourings of one drawing under --seed
DEFAULT_STEPS = 8  # colourings along --interpolate, its two ends included
DEFAULT_PATCHES = 64  # rasc regions --method patches: an 8 × 8 grid


def _integer_in(text: str, minimum: int, maximum: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise argparse.ArgumentTypeError(f"must be at most {maximum}, got {value}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer ≥ 1 (``-n 0`` is refused rather than meaning "none")."""
    return _integer_in(text, 1)


def seed_int(text: str) -> int:
    """argparse type: a seed, an integer in [0, 2³² − 1]."""
    return _integer_in(text, 0, MAX_SEED)


def side_px(text: str) -> int:
    """argparse type: an image side in px, at least ``MIN_SIDE`` (``--size 0`` is refused rather than meaning "no
    resize"); its upper bound is ``--max-pixels``, checked once both are parsed (`check_size_within_limit`)."""
    return _integer_in(text, MIN_SIDE)


def pixel_count(text: str) -> int:
    """argparse type: a pixel budget (``--max-pixels``), at least ``MIN_SIDE``² so an image can stay usable."""
    return _integer_in(text, MIN_SIDE**2)


def colouring_count(text: str) -> int:
    """argparse type: colourings of one drawing (``--samples``), 1 to ``MAX_COLOURINGS``."""
    return _integer_in(text, 1, MAX_COLOURINGS)


def interpolation_steps(text: str) -> int:
    """argparse type: colourings along ``--interpolate``, its two ends included: 2 to ``MAX_COLOURINGS``."""
    return _integer_in(text, 2, MAX_COLOURINGS)


def folder_path(text: str) -> Path:
    """argparse type: an output folder; an empty path is refused rather than meaning the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path; name a folder (use . for the current one)")
    return Path(text)


def perfect_square(text: str) -> int:
    """argparse type: a patch count N ≥ 1 with a whole √N (patches are laid out as a √N × √N grid)."""
    value = positive_int(text)
    if math.isqrt(value) ** 2 != value:
        raise argparse.ArgumentTypeError(f"must be a perfect square (1, 4, 9, …, 64, …), got {value}")
    return value


def blur_sigma(text: str) -> float:
    """argparse type: an XDoG sigma in px, finite, above 0 and at most 100 (larger blurs erase every line)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 100:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must lie in (0, 100], got {text}")
    return value


def _input_arguments(parser: argparse.ArgumentParser, what: str, sized: bool = True) -> None:
    parser.add_argument("inputs", type=Path, nargs="+", metavar="INPUT",
                        help=f"{what} (PNG/JPEG/WebP/BMP/TIFF, any size), or folders of them")
    parser.add_argument("--max-pixels", type=pixel_count, default=DEFAULT_MAX_PIXELS,
                        help=f"larger images are downscaled to this many pixels, with a message "
                             f"(default {DEFAULT_MAX_PIXELS} = 4096²)")
    parser.add_argument("--refuse-large", action="store_true", help="refuse images above --max-pixels instead")
    if sized:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--size", type=side_px,
                           help="bring every image to SIZE×SIZE the paper's way: mirror padding to a square, then "
                                "resize (default: each image's own size)")
        group.add_argument("--native", action="store_true", help="keep each image's own size (the default)")


def _read(path: Path, args: argparse.Namespace, line_art: bool):
    """Read one input and make it usable (size limit; degenerate drawings refused or mended, with a message)."""
    from rasc.drawing import prepare_colour_image, prepare_line_art, refuse_above_limit
    from rasc.imageio import header_size, read_rgb_alpha

    size = header_size(path) if args.refuse_large else None
    if size is not None:  # refused before its pixels take any memory (run_batch names the file)
        refuse_above_limit(*size, args.max_pixels)
    prepare = prepare_line_art if line_art else prepare_colour_image
    drawing = prepare(*read_rgb_alpha(path), args.max_pixels, "refuse" if args.refuse_large else "downscale")
    for note in drawing.notes:
        log.warning("%s: %s", path, note)
    return drawing.image


def check_size_within_limit(args: argparse.Namespace) -> None:
    """CommandError when ``--size`` asks for more pixels than ``--max-pixels`` allows (the inputs are brought to
    that size after the limit, so the output would be over it)."""
    from rasc.batch import CommandError

    if getattr(args, "size", None) is not None and args.size**2 > args.max_pixels:
        raise CommandError(f"--size {args.size} makes {args.size**2} px images, more than --max-pixels "
                           f"{args.max_pixels}; raise --max-pixels if you mean it")


def _bring_to_size(image, args: argparse.Namespace):
    from rasc.data.sketch import pad_resize

    return image if getattr(args, "size", None) is None else pad_resize(image, args.size)


def _run_over_inputs(args: argparse.Namespace, names: Callable[[str], list[str]],
                     work: Callable[[Path, str], None]) -> None:
    """Expand the inputs, give each distinct output names, check the output folder, run ``work(path, base)`` on
    each input; raise one line naming every failed input at the end."""
    from rasc.batch import (CommandError, all_or_none, expand_inputs, failure_summary, output_folder, plan_outputs,
                            run_batch)

    inputs, failures = expand_inputs(args.inputs)
    total = len(inputs) + len(failures)
    for failure in failures:
        print(f"rasc {args.command}: skipped {failure.message}", file=sys.stderr)
    also_read = [getattr(args, name) for name in ("model", "reference", "region_model") if getattr(args, name, None)]
    plan = plan_outputs(inputs, args.output, names, also_read=also_read)

    def attempt(path: Path) -> None:  # an input that fails or is stopped leaves none of its new outputs
        with all_or_none(args.output / name for name in names(plan[path])):
            work(path, plan[path])

    with output_folder(args.output):
        failures += run_batch(inputs, attempt, args.command)
    if failures:
        raise CommandError(failure_summary(failures, total))
    log.info("%d inputs done → %s", total, args.output)


def _synth_settings(args: argparse.Namespace):
    """The drawing and XDoG settings of ``rasc synth``: the config's ``data.synth`` drawn at ``--size`` but framed
    as at the config's ``data.size`` (`rasc.data.synth.framed_as`: the head as large in the image, the same detail),
    and its ``sketch`` section, so that the drawings look like the data its models learned from; the built-in
    settings where the default config file is absent. Returns (SynthConfig, SketchConfig)."""
    import dataclasses

    from rasc.config import load_config
    from rasc.data.prepare import synth_config
    from rasc.data.sketch import SketchConfig
    from rasc.data.synth import SynthConfig, framed_as

    if args.model is not None:  # the data settings stored in a trained generator: its own training data's look
        from rasc.batch import CommandError
        from rasc.training.checkpoint import load_checkpoint, trained_data_section

        data = trained_data_section(load_checkpoint(args.model).get("config"))
        try:
            if data is None:
                raise ValueError("none stored: trained outside the workflow")
            drawing = framed_as(synth_config(data), args.size)
        except (TypeError, KeyError, ValueError) as error:  # or settings this rasc does not know
            raise CommandError(f"{args.model}: the checkpoint stores no usable data settings ({error}); "
                               f"give --config instead") from None
        sketch = SketchConfig()
        log.info("drawing with the data.synth settings stored in %s", args.model)
    elif args.config.is_file() or args.config != DEFAULT_CONFIG:
        config = load_config(args.config)
        drawing = framed_as(synth_config(config["data"]), args.size)
        sketch = SketchConfig(**config["sketch"])
        log.info("drawing with the data.synth and sketch settings of %s", args.config)
    else:
        drawing, sketch = SynthConfig(size=args.size), SketchConfig()
        log.warning("%s not found (run from the repository, or give --config or --model): drawing with the "
                    "generator's built-in settings, not framed like the default's training data", args.config)
    if args.shadow_prob is not None:
        drawing = dataclasses.replace(drawing, shadow_prob=args.shadow_prob)
    return drawing, sketch


def cmd_synth(args: argparse.Namespace) -> None:
    """Write procedural illustrations with their sketches and regions, one folder a kind (``color/``, ``xdog/``,
    ``clean/``, ``rough/``, ``regions/`` with 16-bit labels and previews), so that a folder is a batch for
    ``rasc colorize``. Drawing by drawing (as ``synthesize`` and ``xdog_batch`` draw them: sample i does not depend
    on ``-n``), so memory stays one drawing's; a drawing whose files cannot all be written leaves none of them."""
    from rasc.batch import CommandError, all_or_none, output_folder
    from rasc.data.sketch import draw_sigmas, xdog
    from rasc.data.synth import render_illustration, sample_rng
    from rasc.imageio import write_image
    from rasc.regions.labels import random_colour_preview

    drawing, sketch = _synth_settings(args)
    sigmas = draw_sigmas(args.n, args.seed, sketch)
    with output_folder(args.output, SYNTH_KINDS) as out:
        for i in range(args.n):
            art = render_illustration(sample_rng(args.seed, i), drawing)
            name = f"{i:04d}.png"
            images = {out / "color" / name: art.color,
                      out / "xdog" / name: xdog(art.color, sigmas[i], sketch.tau, sketch.k, sketch.phi, sketch.eps),
                      out / "clean" / name: art.lines_clean, out / "rough" / name: art.lines_rough,
                      out / "regions" / name: art.regions,
                      out / "regions" / f"{i:04d}.preview.png": random_colour_preview(art.regions, seed=i)}
            try:
                with all_or_none(images):
                    for path, image in images.items():
                        write_image(path, image)
            except OSError as error:
                raise CommandError(f"drawing {i:04d}: {error.strerror or error} ({error.filename or out}); "
                                   f"{i} drawings written, none of this one's files kept") from None
    log.info("wrote %d illustrations to %s", args.n, args.output)


SYNTH_KINDS = ("color", "xdog", "clean", "rough", "regions")  # rasc synth's folders, one a kind of image


def cmd_sketch(args: argparse.Namespace) -> None:
    """XDoG sketches of the user's colour images."""
    from rasc.data.sketch import SketchConfig, xdog
    from rasc.imageio import write_image

    check_size_within_limit(args)
    cfg = SketchConfig()

    def work(path: Path, base: str) -> None:
        image = _bring_to_size(_read(path, args, line_art=False), args)
        write_image(args.output / f"{base}.png", xdog(image, sigma=args.sigma, tau=cfg.tau, k=cfg.k, phi=cfg.phi,
                                                      eps=cfg.eps))
        log.debug("%s → %s", path, args.output / f"{base}.png")

    _run_over_inputs(args, lambda base: [f"{base}.png"], work)


def cmd_regions(args: argparse.Namespace) -> None:
    """Region maps of the user's line art: a 16-bit label PNG and a random-colour preview per input."""
    from rasc.batch import CommandError
    from rasc.imageio import write_image
    from rasc.regions.build import region_extractor
    from rasc.regions.labels import random_colour_preview, relabel_contiguous

    check_size_within_limit(args)
    source = args.method.replace("-", "_")
    if args.patches is not None and source != "patches":
        raise CommandError("--patches sets the grid of --method patches: add --method patches, or drop --patches")
    if args.model is not None and source != "learned":
        raise CommandError("--model is the extractor of --method learned: add --method learned, or drop --model")
    if source == "patches":
        source = f"patches_{args.patches or DEFAULT_PATCHES}"
    if source == "learned" and args.model is None:
        raise CommandError("--method learned needs --model results/regions/learned_model.pt (train it with snakemake)")
    extract = region_extractor(source, args.model)

    def work(path: Path, base: str) -> None:
        labels = relabel_contiguous(extract(_bring_to_size(_read(path, args, line_art=True), args)))
        write_image(args.output / f"{base}.png", labels)
        write_image(args.output / f"{base}.preview.png", random_colour_preview(labels))
        log.debug("%s: %d regions → %s", path, int(labels.max()) + 1, args.output / f"{base}.png")

    _run_over_inputs(args, lambda base: [f"{base}.png", f"{base}.preview.png"], work)


def _colorize_style(args: argparse.Namespace, generator):
    """The latent source the options ask for (predicted w, random w, an interpolation or a reference image)."""
    from rasc.colorize import Style, interpolation_style
    from rasc.data.sketch import pad_resize
    from rasc.imageio import read_rgb
    from rasc.models.inference import color_to_tensor

    if args.interpolate is not None:
        return interpolation_style(generator.cfg.w_dim, *args.interpolate, args.steps, prior=args.prior)
    if args.reference is not None:
        if generator.cfg.latent != "posterior":
            raise ValueError(f"--reference needs a generator with a style encoder (latent 'posterior'), this one has "
                             f"latent '{generator.cfg.latent}'")
        return Style(reference=color_to_tensor(pad_resize(read_rgb(args.reference), generator.cfg.image_size)[None]))
    if args.seed is not None:
        return Style(seed=args.seed, n_samples=args.samples, prior=args.prior)
    return Style()


def _colorize_names(args: argparse.Namespace) -> Callable[[str], list[str]]:
    """The files one drawing gets: NAME.png, or NAME.I.png per sample / NAME.interpI.png per step, (+ NAME.sheet.png)."""
    if args.interpolate is not None:
        width = len(str(args.steps - 1))
        names = lambda base: [f"{base}.interp{i:0{width}d}.png" for i in range(args.steps)]  # noqa: E731
    elif args.seed is not None and args.samples > 1:
        names = lambda base: [f"{base}.{i}.png" for i in range(args.samples)]  # noqa: E731
    else:
        return lambda base: [f"{base}.png"]
    return (lambda base: names(base) + [f"{base}.sheet.png"]) if args.sheet else names


def _check_colorize_options(args: argparse.Namespace) -> None:
    """Refuse options that would do nothing with the others given (CommandError), then fill in their defaults."""
    from rasc.batch import CommandError

    if args.samples is not None and args.seed is None:
        raise CommandError("--samples counts the random styles of --seed: add --seed S, or drop --samples")
    if args.steps is not None and args.interpolate is None:
        raise CommandError("--steps counts the colourings along --interpolate A B: add it, or drop --steps")
    if args.prior is not None and args.seed is None and args.interpolate is None:
        raise CommandError("--prior says where random styles come from: add --seed S or --interpolate A B, or drop it")
    args.samples = DEFAULT_SAMPLES if args.samples is None else args.samples
    args.steps = DEFAULT_STEPS if args.steps is None else args.steps
    args.prior = args.prior or "fitted"


def cmd_colorize(args: argparse.Namespace) -> None:
    """Colour the user's line art at its own size (region-flat refinement by default, or the raw network output)."""
    from rasc.batch import CommandError
    from rasc.training.checkpoint import load_generator, trained_region_source
    from rasc.colorize import colorize_drawing, contact_sheet
    from rasc.models.inference import prior_in_use
    from rasc.imageio import write_image
    from rasc.regions.build import region_extractor
    from rasc.regions.sources import parse_source

    _check_colorize_options(args)
    if args.sheet and args.interpolate is None and (args.seed is None or args.samples < 2):
        raise CommandError("--sheet needs several colourings: --seed S --samples N (N ≥ 2) or --interpolate A B")
    if args.interpolate is not None and (args.seed is not None or args.reference is not None):
        raise CommandError("--interpolate takes its two styles from its own seeds: drop --seed/--reference")
    if args.seed is not None and args.reference is not None:
        raise CommandError("--seed draws random styles and --reference copies one: give one of them")
    generator, config = load_generator(args.model)
    source = trained_region_source(config)
    if parse_source(source)[0] == "learned" and args.region_model is None:
        raise CommandError("this generator was trained on learned region maps: pass --region-model")
    if parse_source(source)[0] != "learned" and args.region_model is not None:
        raise CommandError(f"this generator was trained on {source} region maps and needs no --region-model: drop it")
    extract = region_extractor(source, args.region_model)
    style = _colorize_style(args, generator)
    if (args.seed is not None or args.interpolate is not None) and args.prior == "fitted" \
            and prior_in_use(generator, "fitted") == "standard":
        log.warning("%s carries no fitted style prior (a model without a style encoder, or trained before rasc "
                    "fitted one): random styles come from N(0, 1)", args.model)
    names = _colorize_names(args)

    def work(path: Path, base: str) -> None:
        colourings = colorize_drawing(generator, extract, _read(path, args, line_art=True), style, raw=args.raw,
                                      crop_to_ink=not args.whole_page)
        files = names(base)
        for image, name in zip(colourings, files):
            write_image(args.output / name, image)
        if args.sheet:
            write_image(args.output / files[-1], contact_sheet(list(colourings)))
        log.debug("%s → %s", path, ", ".join(files))

    _run_over_inputs(args, names, work)


def cmd_train(args: argparse.Namespace) -> None:
    """Train one experiment of a config outside Snakemake (the same library call as the train_model rule)."""
    from rasc.batch import output_folder
    from rasc.config import check_paths, experiment_config, load_config
    from rasc.experiment import default_paths, resolve_loss_regions, train_experiment

    config = load_config(args.config)
    check_paths(config)
    settings = experiment_config(config, args.experiment)
    source = settings["model"]["region_source"]
    defaults = default_paths(args.experiment, args.seed, source)
    inputs = {name: getattr(args, name) or defaults[name] for name in ("illustrations", "sketches", "regions")}
    weighting = resolve_loss_regions(settings, args.regions, args.loss_regions)  # None: the L1 is not weighted
    if weighting is not None:
        inputs["loss_regions"] = weighting
    for name, path in inputs.items():
        if not path.is_file():
            option = "--" + name.replace("_", "-")
            raise FileNotFoundError(2, "no such file" if not path.exists() else "not a file", f"{option} {path}")
    with output_folder(args.output or defaults["out_dir"]) as out_dir:
        train_experiment(
            config, args.experiment, args.seed,
            illustrations=args.illustrations, sketches=args.sketches, regions=args.regions, out_dir=out_dir,
            progress=True, loss_regions=inputs.get("loss_regions"),
        )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="rasc", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    synth = commands.add_parser("synth", help="write procedural illustrations, sketches and regions as PNG files")
    synth.add_argument("-o", "--output", type=folder_path, required=True, help="folder for the PNG files")
    synth.add_argument("-n", type=positive_int, default=8, help="number of illustrations (default 8)")
    synth.add_argument("--size", type=positive_int, default=256, help="image side in px (default 256)")
    synth.add_argument("--seed", type=seed_int, default=0, help="random seed (default 0)")
    looks = synth.add_mutually_exclusive_group()
    looks.add_argument("--config", type=Path, default=DEFAULT_CONFIG,
                       help="draw with this config's data.synth settings, as its models' training data (default "
                            f"{DEFAULT_CONFIG}; the generator's built-in settings where that file is absent)")
    looks.add_argument("--model", type=Path,
                       help="draw as this trained generator's training data (the data.synth settings stored in the "
                            "checkpoint; instead of --config)")
    synth.add_argument("--shadow-prob", type=float, default=None,
                       help="probability of cel shadows (default: the config's)")
    synth.set_defaults(func=cmd_synth)

    sketch = commands.add_parser("sketch", help="XDoG sketches of your colour images (paper §IV-A)")
    _input_arguments(sketch, "colour images")
    sketch.add_argument("-o", "--output", type=folder_path, required=True, help="folder for NAME.png sketches")
    sketch.add_argument("--sigma", type=blur_sigma, default=0.6, help="XDoG sigma: larger = thicker, fewer lines (default 0.6)")
    sketch.set_defaults(func=cmd_sketch)

    regions = commands.add_parser("regions", help="region maps of your line art")
    _input_arguments(regions, "line art (grey/RGB/RGBA, dark lines on light paper or on a transparent layer)")
    regions.add_argument("-o", "--output", type=folder_path, required=True, help="folder for NAME.png (16-bit labels) and NAME.preview.png")
    regions.add_argument("--method", choices=["trapped-ball", "learned", "patches"], default="trapped-ball", help="region source (default trapped-ball)")
    regions.add_argument("--patches", type=perfect_square,
                         help=f"patch count for --method patches, a perfect square (default {DEFAULT_PATCHES})")
    regions.add_argument("--model", type=Path, help="learned extractor checkpoint for --method learned")
    regions.set_defaults(func=cmd_regions)

    train = commands.add_parser("train", help="train one experiment of a config (outside Snakemake)")
    train.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help=f"config file (default {DEFAULT_CONFIG})")
    train.add_argument("--experiment", default="full", help="experiment name from the config (default full)")
    train.add_argument("--seed", type=seed_int, default=0, help="training seed (default 0)")
    train.add_argument("--illustrations", type=Path, default=Path("results/data/train/illustrations.npz"), help="training illustrations (.npz)")
    train.add_argument("--sketches", type=Path, default=Path("results/data/train/sketch_xdog.npz"), help="training sketches (.npz)")
    train.add_argument("--regions", type=Path, help="region maps of the sketches (.npz; default: the experiment's source)")
    train.add_argument("--loss-regions", type=Path,
                       help="trapped-ball region maps of the sketches that weight the pixel L1 when train.l1_region_power > 0 "
                            "(.npz; default: --regions when the experiment's source is trapped-ball, else the workflow's)")
    train.add_argument("-o", "--output", type=folder_path, help="output folder (default results/train/EXPERIMENT/seedSEED)")
    train.set_defaults(func=cmd_train)

    color = commands.add_parser(
        "colorize", help="colour your line art with a trained generator",
        description="Colour line art at its own size and shape. Default output: the region-flat refinement "
                    "(trapped-ball regions of the drawing at full resolution, each painted with the median of the "
                    "network's colours inside it, the drawing's lines multiplied over). --raw writes the network's "
                    "own colours instead, cropped and resized to the drawing.")
    _input_arguments(color, "line art", sized=False)
    color.add_argument("-m", "--model", type=Path, required=True, help="trained generator, e.g. results/train/full/seed0/generator.pt")
    color.add_argument("-o", "--output", type=folder_path, required=True, help="folder for the colourings")
    color.add_argument("--raw", action="store_true",
                       help="write the network's raw colours (cropped, resized) instead of the region-flat refinement "
                            "(the default)")
    color.add_argument("--whole-page", action="store_true",
                       help="let the network see the whole image instead of the square around its lines (the "
                            "default crops to it, so that a drawing with paper margins is framed like the training "
                            "drawings)")
    color.add_argument("--seed", type=seed_int, help="draw random styles from this seed instead of the predicted w")
    color.add_argument("--samples", type=colouring_count,
                       help=f"colourings per drawing with --seed (default {DEFAULT_SAMPLES}, at most {MAX_COLOURINGS}): "
                            f"NAME.0.png …")
    color.add_argument("--interpolate", type=seed_int, nargs=2, metavar=("SEED_A", "SEED_B"),
                       help="the transition between the random styles of two seeds (paper Fig. 8): NAME.interp0.png …")
    color.add_argument("--steps", type=interpolation_steps,
                       help=f"colourings along --interpolate, ends included (default {DEFAULT_STEPS}, 2 to "
                            f"{MAX_COLOURINGS})")
    color.add_argument("--prior", choices=("fitted", "standard"),  # rasc.models.style_prior.PRIORS
                       help="where random styles (--seed, --interpolate) come from: fitted (default), around the "
                            "sketch's predicted w with the spread the model showed on its training data; standard, "
                            "the paper's w ~ N(0, 1), which our models were not trained to colour")
    color.add_argument("--sheet", action="store_true", help="also write NAME.sheet.png, a contact sheet of the colourings")
    color.add_argument("--reference", type=Path, help="take the colour style of this reference image")
    color.add_argument("--region-model", type=Path, help="learned extractor checkpoint, for generators trained on learned maps")
    color.set_defaults(func=cmd_colorize)
    return parser


def _one_line(error: BaseException) -> str:
    """An exception as the one line the CLI prints."""
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rasc`` console command."""
    args = build_parser().parse_args(argv)
    configure_logging(logging.DEBUG if args.verbose else logging.INFO)
    with sigterm_as_interrupt():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    """Run the parsed command → exit status, its errors in one line."""
    from rasc.batch import CommandError
    from rasc.training.checkpoint import CheckpointError
    from rasc.config import ConfigError

    try:
        args.func(args)
    except (CommandError, ConfigError, CheckpointError, ValueError, OSError) as error:
        print(f"rasc {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:  # Ctrl-C or SIGTERM: outputs are written atomically, nothing is half-written
        terminated = isinstance(stop, Terminated)
        print(f"rasc {args.command}: {'terminated' if terminated else 'interrupted'}", file=sys.stderr)
        return 128 + (signal.SIGTERM if terminated else signal.SIGINT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
