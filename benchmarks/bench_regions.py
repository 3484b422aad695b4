"""Benchmark the region-map sources: speed (median sec/img) and quality against ground truth (ARI, boundary F).

    PYTHONPATH=. python benchmarks/bench_regions.py                      # trapped-ball + patches (+ learned speed)
    PYTHONPATH=. python benchmarks/bench_regions.py --linefiller /tmp/lf # side by side with hepesu/LineFiller
    PYTHONPATH=. python benchmarks/bench_regions.py --learned results/regions/learned_net.pt

Input sketches, in order of preference: the data stage's files under --data-dir (results/data/{split}/), the
procedural generator `rasc.data.synth` + XDoG, or (fallback) simple line drawings made here with OpenCV. Timings are
single-process with one torch/OpenCV thread; on a shared machine they are noisy.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
import types
from pathlib import Path

import cv2
import numpy as np

from rasc.regions.labels import relabel_contiguous
from rasc.regions.patches import patch_grid
from rasc.regions.quality import default_tolerance, score_regions
from rasc.regions.trapped_ball import trapped_ball_regions


def drawn_line_art(height: int, width: int, n_shapes: int, seed: int, gap_probability: float = 0.0):
    """Fallback test scene: random filled shapes and their outlines. Returns (sketch uint8 (H, W), gt uint16 (H, W)).

    Ground truth = connected pieces of the painted shapes; lines (~1 px at 256, scaled) lie on region borders;
    with `gap_probability`, that fraction of shapes gets a small gap erased from its outline.
    """
    rng = np.random.default_rng(seed)
    scale = max(height, width) / 256
    painted = np.zeros((height, width), np.int32)  # (H, W) shape id, 0 = background
    for shape_id in range(1, n_shapes + 1):
        kind = rng.integers(3)
        centre = (int(rng.integers(width)), int(rng.integers(height)))
        size = rng.uniform(6, 50) * scale
        if kind == 0:
            axes = (int(size), int(size * rng.uniform(0.3, 1.0)))
            cv2.ellipse(painted, centre, axes, float(rng.uniform(0, 180)), 0, 360, shape_id, -1)
        elif kind == 1:
            angles = np.sort(rng.uniform(0, 2 * np.pi, size=int(rng.integers(3, 8))))
            radii = size * rng.uniform(0.5, 1.0, size=len(angles))
            points = np.stack([centre[0] + radii * np.cos(angles), centre[1] + radii * np.sin(angles)], axis=1)
            cv2.fillPoly(painted, [points.astype(np.int32)], shape_id)
        else:
            thickness = max(1, int(rng.uniform(3, 10) * scale))
            end = (int(centre[0] + rng.uniform(-2, 2) * size), int(centre[1] + rng.uniform(-2, 2) * size))
            cv2.line(painted, centre, end, shape_id, thickness)
    gt = _split_into_connected_pieces(painted)
    edges = np.zeros((height, width), bool)
    edges[:, 1:] |= gt[:, 1:] != gt[:, :-1]
    edges[1:, :] |= gt[1:, :] != gt[:-1, :]
    line_width = max(1, int(round(scale)))
    ink = cv2.dilate(edges.astype(np.uint8), np.ones((line_width, line_width), np.uint8))
    for _ in range(int(rng.binomial(n_shapes, gap_probability))):
        ys, xs = np.nonzero(ink)
        if len(ys) == 0:
            break
        pick = rng.integers(len(ys))
        cv2.circle(ink, (int(xs[pick]), int(ys[pick])), max(1, int(round(1.0 * scale))), 0, -1)
    sketch = np.where(ink > 0, 0, 255).astype(np.uint8)
    return sketch, gt


def _split_into_connected_pieces(painted: np.ndarray) -> np.ndarray:
    pieces = np.zeros(painted.shape, np.int64)
    next_label = 0
    for value in np.unique(painted):
        n, component = cv2.connectedComponents((painted == value).astype(np.uint8), connectivity=4)
        mask = component > 0
        pieces[mask] = component[mask] - 1 + next_label
        next_label += n - 1
    return relabel_contiguous(pieces)


def load_benchmark_set(n_images: int, size: int, seed: int, data_dir: Path | None, style: str):
    """((sketches (N, H, W) uint8, gt (N, H, W)), description) for one sketch style (xdog | clean | rough)."""
    if data_dir is not None:
        sketch_file = data_dir / "test" / f"sketch_{style}.npz"
        illustration_file = data_dir / "test" / "illustrations.npz"
        if sketch_file.exists() and illustration_file.exists():
            sketches = np.load(sketch_file)["sketch"][:n_images]
            gt = np.load(illustration_file)["regions"][:n_images]
            return _resize_set(sketches, gt, size), f"{sketch_file} (resized to {size})"
    procedural = _procedural_set(n_images, size, seed, style)
    if procedural is not None:
        return procedural, f"rasc.data.synth at {size}, {style} sketches"
    pairs = [drawn_line_art(size, size, n_shapes=40, seed=seed + i, gap_probability=0.3) for i in range(n_images)]
    sketches = np.stack([p[0] for p in pairs])
    gt = np.stack([p[1] for p in pairs])
    return (sketches, gt), f"fallback OpenCV line drawings at {size} (40 shapes, gaps in 30%; style ignored)"


def _procedural_set(n_images: int, size: int, seed: int, style: str):
    """The data stage's generator drawn at `size` (no resampling), or None where it is not available."""
    try:
        from rasc.data import synth
        from rasc.data.sketch import xdog_batch
    except ImportError:
        return None
    illustrations = synth.synthesize(n_images, seed, synth.SynthConfig(size=size))
    if style == "xdog":
        sketches = xdog_batch(illustrations["color"], seed=seed)
    elif style in ("clean", "rough"):
        sketches = illustrations[f"lines_{style}"]
    else:
        raise ValueError(f"unknown sketch style {style!r}; expected xdog, clean or rough")
    return np.asarray(sketches), np.asarray(illustrations["regions"])


def _resize_set(sketches: np.ndarray, gt: np.ndarray, size: int):
    if sketches.shape[1:] == (size, size):
        return sketches, gt
    resized_sketches = np.stack([cv2.resize(s, (size, size), interpolation=cv2.INTER_LINEAR) for s in sketches])
    resized_gt = np.stack([cv2.resize(g.astype(np.int32), (size, size), interpolation=cv2.INTER_NEAREST) for g in gt])
    return resized_sketches, resized_gt


def load_linefiller(path: Path):
    """The reference pipeline (binarise, balls 3/2/1, flood fill, merge, line thinning) from a checkout at `path`."""
    logger_module = types.ModuleType("log.logger")
    logger_module.logger = logging.getLogger("linefiller-reference")
    logger_module.logger.setLevel(logging.WARNING)
    sys.modules.setdefault("log", types.ModuleType("log"))
    sys.modules["log.logger"] = logger_module
    sys.path.insert(0, str(path))
    from linefiller import trappedball_fill as tb  # noqa: E402  (imported from the user's checkout)
    from linefiller.thinning import thinning  # noqa: E402

    def linefiller_regions(sketch: np.ndarray) -> np.ndarray:
        _, binary = cv2.threshold(sketch, 220, 255, cv2.THRESH_BINARY)
        fills, result = [], binary
        for radius, method in ((3, "max"), (2, "mean"), (1, "mean")):
            fill = tb.trapped_ball_fill_multi(result, radius, method=method)
            fills += fill
            result = tb.mark_fill(result, fill)
        fills += tb.flood_fill_multi(result)
        fillmap = tb.merge_fill(tb.build_fill_map(result, fills))
        return relabel_contiguous(thinning(fillmap))

    return linefiller_regions


def time_and_score(name: str, segment, sketches: np.ndarray, gt: np.ndarray | None, tolerance: float):
    seconds, scores = [], []
    for index, sketch in enumerate(sketches):
        start = time.perf_counter()
        labels = segment(sketch)
        seconds.append(time.perf_counter() - start)
        if gt is not None:
            scores.append(score_regions(labels, gt[index], tolerance_px=tolerance))
    row = {"method": name, "median_ms": 1000 * statistics.median(seconds), "mean_ms": 1000 * statistics.mean(seconds)}
    if scores:
        for key in ("ari", "boundary_f", "boundary_precision", "boundary_recall", "n_pred", "n_gt"):
            row[key] = float(np.mean([s[key] for s in scores]))
    return row


def print_rows(rows: list[dict]) -> None:
    columns = ["median_ms", "mean_ms", "ari", "boundary_f", "boundary_precision", "boundary_recall", "n_pred", "n_gt"]
    print(f"{'method':<32}" + "".join(f"{c:>19}" for c in columns))
    for row in rows:
        cells = [row.get(column, "n/a") for column in columns]
        print(f"{row['method']:<32}" + "".join(f"{c:>19.3f}" if isinstance(c, float) else f"{c!s:>19}" for c in cells))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-images", type=int, default=20, help="sketches per size and style")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1024], help="square working sizes")
    parser.add_argument("--styles", nargs="+", default=["xdog", "clean", "rough"], help="test sets A, B, C")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=Path("results/data"), help="the data stage's output")
    parser.add_argument("--linefiller", type=Path, default=None, help="checkout of hepesu/LineFiller (optional)")
    parser.add_argument("--linefiller-max-size", type=int, default=256, help="skip the (slow) reference above this")
    parser.add_argument("--learned", type=Path, default=None, help="learned-extractor checkpoint (optional)")
    parser.add_argument(
        "--train-learned-steps", type=int, default=0,
        help="without --learned: train a region net for this many steps on procedural data first (0: untrained)",
    )
    parser.add_argument(
        "--train-styles", nargs="+", default=["xdog"], choices=["xdog", "clean", "rough"],
        help="sketch styles the --train-learned-steps net learns from (the workflow's default: xdog)",
    )
    parser.add_argument("--patches", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--csv", type=Path, default=None, help="also write the rows to this CSV file")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    linefiller = load_linefiller(args.linefiller) if args.linefiller else None
    from rasc.regions.learned import LearnedRegionExtractor

    learned_checkpoint = args.learned
    if learned_checkpoint is None and args.train_learned_steps > 0:
        learned_checkpoint = _train_benchmark_net(args.train_learned_steps, min(args.sizes), args.seed,
                                                  args.train_styles)
    if learned_checkpoint is not None:
        learned = LearnedRegionExtractor.load(learned_checkpoint)
    else:
        learned = _untrained_extractor()

    all_rows = []
    for size in args.sizes:
        for style in args.styles:
            (sketches, gt), description = load_benchmark_set(args.n_images, size, args.seed, args.data_dir, style)
            tolerance = default_tolerance((size, size))
            print(f"\n== {len(sketches)} sketches, {description}; boundary tolerance {tolerance:.1f} px")
            rows = [time_and_score("trapped_ball", trapped_ball_regions, sketches, gt, tolerance)]
            if linefiller is not None and size <= args.linefiller_max_size:
                rows.append(time_and_score("linefiller (ref)", linefiller, sketches, gt, tolerance))
                ratio = rows[-1]["median_ms"] / rows[0]["median_ms"]
                print(f"trapped_ball is {ratio:.0f}x faster than LineFiller (median per image)")
            if learned_checkpoint is not None:
                rows.append(time_and_score("learned", learned, sketches, gt, tolerance))
            else:
                rows.append(time_and_score("learned (untrained: speed only)", learned, sketches, None, tolerance))
            for n_patches in args.patches:
                grid = patch_grid(size, size, n_patches)
                rows.append(time_and_score(f"patches_{n_patches}", lambda s, g=grid: g, sketches, gt, tolerance))
            print_rows(rows)
            all_rows += [{"size": size, "style": style, **row} for row in rows]
    if args.csv is not None:
        import pandas as pd

        pd.DataFrame(all_rows).to_csv(args.csv, index=False)
        print(f"\nwrote {args.csv}")


def _train_benchmark_net(steps: int, size: int, seed: int, styles: list[str]) -> Path:
    """Train a region net on 300 procedural training images (their sketches of `styles`), seed disjoint from the
    benchmark's; returns the checkpoint path (in a temporary folder)."""
    import tempfile

    from rasc.data import synth
    from rasc.data.sketch import xdog_batch
    from rasc.regions.learned import RegionNetConfig, train_region_net, training_set

    train_seed = seed + 1000
    illustrations = synth.synthesize(300, train_seed, synth.SynthConfig(size=size))
    xdog = xdog_batch(illustrations["color"], seed=train_seed)
    sketches, regions = training_set(illustrations, xdog, styles)
    path = Path(tempfile.mkdtemp(prefix="bench_regions_")) / "region_net.pt"
    stats = train_region_net(sketches, regions, RegionNetConfig(steps=steps), path, progress=False)
    seconds, loss = stats["train_seconds"], stats["final_loss"]
    print(f"trained a region net at {size} on {styles}: {steps} steps in {seconds:.0f} s, final loss {loss:.4f}")
    return path


def _untrained_extractor():
    """A randomly initialised region net of the default size: its speed is that of a trained one."""
    from rasc.regions.learned import LearnedRegionExtractor, RegionNetConfig
    from rasc.regions.unet import RegionUNet

    cfg = RegionNetConfig()
    return LearnedRegionExtractor(RegionUNet(base_channels=cfg.base_channels, depth=cfg.depth), cfg)


if __name__ == "__main__":
    main()
