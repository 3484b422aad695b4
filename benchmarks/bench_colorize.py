"""Time and memory of `rasc colorize` per drawing on one thread: the network at its working size, the crop back to
the drawing's shape, and the region-flat refinement at full size (trapped-ball of the whole drawing included).

    python benchmarks/bench_colorize.py [--sizes 1024] [--shape 980 1820] [--n 5] [-m generator.pt]

Drawings: the procedural generator's clean line art (`rasc.data.synth`) at each size, and optionally one
non-square shape (rows, columns), made by resizing a drawing. Generator: ``-m`` or, by default, an untrained one
with the default config's architecture (timing does not depend on the weights). Prints the median milliseconds per
drawing of every stage and of the whole call (`rasc.colorize.colorize_drawing`, reading and writing files excluded),
the peak of numpy/Python allocations during one call (tracemalloc) and the process's peak resident memory.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from rasc.colorize import Style, colorize_drawing, network_colourings, to_page  # noqa: E402
from rasc.data.sketch import working_view  # noqa: E402
from rasc.data.synth import SynthConfig, synthesize  # noqa: E402
from rasc.refine import flat_refinement  # noqa: E402
from rasc.regions import trapped_ball_regions  # noqa: E402
from rasc.regions.build import region_extractor  # noqa: E402


def load_or_build_generator(path: Path | None):
    """The generator of ``path``, or an untrained one of config/config.yaml's architecture; with its extractor."""
    if path is not None:
        from rasc.training.checkpoint import load_generator, trained_region_source

        generator, config = load_generator(path)
        return generator, region_extractor(trained_region_source(config))
    from rasc.config import load_config
    from rasc.experiment import model_configs
    from rasc.models import build_generator

    config = load_config(Path(__file__).resolve().parent.parent / "config" / "config.yaml")
    gen_cfg, _ = model_configs(config["model"], config["data"]["size"])
    return build_generator(gen_cfg).eval(), region_extractor(config["model"]["region_source"])


def median_ms(fn, repeats: int) -> tuple[float, object]:
    """Median wall-clock ms of ``repeats`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times)), result


def bench(drawing: np.ndarray, generator, extract, repeats: int) -> dict[str, float]:
    """Stage and total times (ms) and the allocation peak (MiB) of colouring one drawing (H, W) uint8."""
    size = generator.cfg.image_size
    colorize_drawing(generator, extract, drawing)  # warm-up
    figures = {}
    view, _ = working_view(drawing, size)
    figures["network (crop to ink, to size, regions at working size, G)"], colours = median_ms(
        lambda: network_colourings(generator, extract, working_view(drawing, size)[1], Style()), repeats)
    figures["crop and resize to the drawing"], full = median_ms(lambda: to_page(colours[0], drawing.shape, view),
                                                                repeats)
    figures["trapped-ball, full size"], labels = median_ms(lambda: trapped_ball_regions(drawing), repeats)
    figures["medians, paint, multiply lines"], _ = median_ms(lambda: flat_refinement(full, drawing, labels), repeats)
    figures["total (colorize_drawing)"], _ = median_ms(lambda: colorize_drawing(generator, extract, drawing), repeats)
    figures["total, --raw"], _ = median_ms(lambda: colorize_drawing(generator, extract, drawing, raw=True), repeats)
    tracemalloc.start()
    colorize_drawing(generator, extract, drawing)
    figures["peak numpy/Python allocation (MiB)"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024], help="square drawing sides (default 1024)")
    parser.add_argument("--shape", type=int, nargs=2, metavar=("ROWS", "COLUMNS"),
                        help="also a non-square drawing of this shape (e.g. 980 1820)")
    parser.add_argument("--n", type=int, default=3, help="drawings per size (default 3)")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per drawing and stage (default 3)")
    parser.add_argument("-m", "--model", type=Path, help="a trained generator.pt (default: untrained, same timing)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    generator, extract = load_or_build_generator(args.model)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"generator {generator.cfg.image_size}² (base {generator.cfg.base_channels}, {generator.cfg.num_blocks} "
          f"blocks); torch threads {torch.get_num_threads()}")
    cases = []
    for size in args.sizes:
        lines = synthesize(args.n, seed=0, cfg=SynthConfig(size=size))["lines_clean"]
        cases += [(f"{size}x{size} #{i}", drawing) for i, drawing in enumerate(lines)]
    if args.shape:
        rows, columns = args.shape
        base = synthesize(1, seed=1, cfg=SynthConfig(size=max(rows, columns)))["lines_clean"][0]
        cases.append((f"{columns}x{rows}", cv2.resize(base, (columns, rows), interpolation=cv2.INTER_AREA)))
    rows_out = {name: bench(drawing, generator, extract, args.repeats) for name, drawing in cases}
    for name, figures in rows_out.items():
        print(f"\n{name} ({int(rows_out[name]['total (colorize_drawing)'])} ms)")
        for stage, value in figures.items():
            print(f"  {stage:<42} {value:8.1f}")
    totals = [figures["total (colorize_drawing)"] for figures in rows_out.values()]
    print(f"\nmedian total over {len(totals)} drawings: {np.median(totals):.0f} ms; "
          f"process peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB "
          f"({baseline:.0f} MiB after loading torch and the generator)")


if __name__ == "__main__":
    main()
