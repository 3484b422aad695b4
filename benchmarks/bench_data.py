"""Speed of the data stage on one thread: procedural illustrations and XDoG sketches, plus region-count statistics.

    python benchmarks/bench_data.py [--n 50] [--sizes 128 256] [--seed 0]

Prints, per size, the median milliseconds per image (wall clock and process CPU time) of `render_illustration`
(colour, regions, parts, groups, clean and rough line art) and of `xdog`, and the regions-per-image distribution.
A pure-Python calibration loop is printed first, so figures from different machines can be put side by side.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from rasc.data.sketch import SketchConfig, draw_sigmas, xdog  # noqa: E402
from rasc.data.synth import SynthConfig, region_count_stats, render_illustration, sample_rng  # noqa: E402


def calibration_ms() -> float:
    """Best of 3 runs of a fixed pure-Python loop (sum of 10⁷ integers), in ms."""
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        sum(range(10_000_000))
        best = min(best, time.perf_counter() - start)
    return best * 1000


def timed(fn, *args):
    """(result, wall seconds, CPU seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def bench_size(size: int, n: int, seed: int) -> None:
    cfg, sketch_cfg = SynthConfig(size=size), SketchConfig()
    render_illustration(sample_rng(seed, -1 % 2**31), cfg)  # warm-up: imports, caches
    synth_wall, synth_cpu, xdog_wall, xdog_cpu, regions = [], [], [], [], []
    sigmas = draw_sigmas(n, seed, sketch_cfg)
    for i in range(n):
        ill, wall, cpu = timed(render_illustration, sample_rng(seed, i), cfg)
        synth_wall.append(wall)
        synth_cpu.append(cpu)
        regions.append(ill.regions)
        _, wall, cpu = timed(xdog, ill.color, sigmas[i], sketch_cfg.tau, sketch_cfg.k, sketch_cfg.phi, sketch_cfg.eps)
        xdog_wall.append(wall)
        xdog_cpu.append(cpu)
    ms = lambda values: 1000 * float(np.median(values))  # noqa: E731
    stats = region_count_stats(np.stack(regions))
    print(
        f"{size:>4}²  synthesis {ms(synth_wall):6.2f} ms wall {ms(synth_cpu):6.2f} ms cpu"
        f" | xdog {ms(xdog_wall):5.2f} ms wall {ms(xdog_cpu):5.2f} ms cpu"
        f" | regions/img mean {stats['mean']:.1f} median {stats['median']:.0f} p90 {stats['p90']:.0f}"
        f" min {stats['min']:.0f} max {stats['max']:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=50, help="images per size (median over them)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256], help="image sizes in px")
    parser.add_argument("--seed", type=int, default=0, help="data seed")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    print(f"one thread; calibration: sum(range(10**7)) = {calibration_ms():.0f} ms (a 2020s desktop core: ~100-150)")
    print(f"median over {args.n} images per size (synthesis = colour, regions, parts, groups, clean + rough lines)")
    for size in args.sizes:
        bench_size(size, args.n, args.seed)


if __name__ == "__main__":
    main()
