"""Sanity check of the FID backbone: does FID grow with each kind of damage, and where is its floor?

    PYTHONPATH=. python benchmarks/bench_fid_sensitivity.py                     # 200 images at 128², pool3 (2048)
    PYTHONPATH=. python benchmarks/bench_fid_sensitivity.py --n 100 --dims 768  # quicker
    PYTHONPATH=. python benchmarks/bench_fid_sensitivity.py --weights /path/pt_inception-2015-12-05-6726825d.pth

Images: the procedural illustrations of `rasc.data.synth` (three independent draws: calibration "training" images,
the reference, and a second real sample), or flat cartoons drawn here with OpenCV when that module is missing.
Every damage is applied to the second sample and compared with the reference, so each row carries the same
sampling noise as the floor (second sample, undamaged). Expected: self ≈ 0 < floor < each damage, and monotone
within a family (hue 0.1 < 0.3, cast 0.1 < 0.3, noise 0.05 < 0.15, ink at grey 15 < pure black). One torch thread
and one BLAS thread unless OMP_NUM_THREADS / OPENBLAS_NUM_THREADS say otherwise; timings on a shared machine are
noisy. Exit status 1 when an expected ordering is broken.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    # one BLAS thread unless told otherwise: on a loaded 2-core machine a multi-threaded sqrtm/QR was 50x slower
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402 - after the thread settings, which must precede numpy's import
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from rasc.metrics.fid import FIDBackbone, FIDFallbackWarning, frechet_distance  # noqa: E402


def drawn_cartoons(n: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Fallback images: flat discs and boxes with black outlines → (colour (n, S, S, 3) uint8, ink (n, S, S) bool)."""
    rng = np.random.default_rng(seed)
    color = np.empty((n, size, size, 3), np.uint8)
    for index in range(n):
        image = np.full((size, size, 3), rng.integers(120, 256, 3), np.uint8)
        for _ in range(int(rng.integers(4, 9))):
            fill = tuple(int(v) for v in rng.integers(0, 256, 3))
            centre = tuple(int(v) for v in rng.integers(0, size, 2))
            extent = int(rng.integers(size // 16, size // 4))
            if rng.random() < 0.5:
                cv2.circle(image, centre, extent, fill, -1)
                cv2.circle(image, centre, extent, (0, 0, 0), max(1, size // 96))
            else:
                corner = (centre[0] + extent, centre[1] + extent)
                cv2.rectangle(image, centre, corner, fill, -1)
                cv2.rectangle(image, centre, corner, (0, 0, 0), max(1, size // 96))
        color[index] = image
    return color, color.max(axis=-1) < 10


def illustrations(n: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(colour (n, S, S, 3), ink (n, S, S) bool, source name)."""
    try:
        from rasc.data.synth import SynthConfig, synthesize
    except ImportError:
        return (*drawn_cartoons(n, size, seed), "opencv cartoons (rasc.data.synth missing)")
    arrays = synthesize(n, seed=seed, cfg=SynthConfig(size=size))
    return arrays["color"], arrays["lines_clean"] < 128, "rasc.data.synth"


def hue_shift(images: np.ndarray, amount: float) -> np.ndarray:
    """Rotate every hue by `amount` of the colour circle."""
    hsv = np.stack([cv2.cvtColor(image, cv2.COLOR_RGB2HSV) for image in images])  # OpenCV hue in 0..179
    hsv[..., 0] = (hsv[..., 0].astype(np.int32) + round(amount * 180)) % 180
    return np.stack([cv2.cvtColor(image, cv2.COLOR_HSV2RGB) for image in hsv])


def colour_cast(images: np.ndarray, amount: float) -> np.ndarray:
    """Add amount * (+1, 0, -1) in [0, 1] RGB units (a warm cast), clipped."""
    shifted = images.astype(np.float32) / 255 + amount * np.array([1.0, 0.0, -1.0], np.float32)
    return (np.clip(shifted, 0, 1) * 255).round().astype(np.uint8)


def bleeding(images: np.ndarray, ink: np.ndarray, sigma: float) -> np.ndarray:
    """Colours blurred across region borders (Gaussian σ), outlines redrawn sharp on top: colour bleeding."""
    blurred = np.stack([cv2.GaussianBlur(image, (0, 0), sigma) for image in images])
    blurred[ink] = images[ink]
    return blurred


def ink_at(images: np.ndarray, ink: np.ndarray, level: int) -> np.ndarray:
    """Every outline pixel set to grey `level` (0 = pure black): ink darker than the drawings' own, as a colouring
    with the line art multiplied over it (`rasc colorize`'s refinement) has."""
    inked = images.copy()
    inked[ink] = level
    return inked


def blur(images: np.ndarray, sigma: float) -> np.ndarray:
    return np.stack([cv2.GaussianBlur(image, (0, 0), sigma) for image in images])


def noise(images: np.ndarray, std: float, seed: int) -> np.ndarray:
    """Gaussian noise of `std` in [0, 1] units."""
    noisy = images / 255.0 + np.random.default_rng(seed).normal(0.0, std, images.shape)
    return (np.clip(noisy, 0, 1) * 255).round().astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="images per set (reference, second sample)")
    parser.add_argument("--calibration", type=int, default=200, help="calibration images of the random fallback")
    parser.add_argument("--size", type=int, default=128, help="image side in px")
    parser.add_argument("--dims", type=int, default=2048, choices=(64, 192, 768, 2048), help="Inception block")
    parser.add_argument("--weights", default=None, help="local pytorch-fid weights; default: cache or fallback")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data draws and of the fallback")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    calibration, _, source = illustrations(args.calibration, args.size, seed=args.seed + 1000)
    reference, _, _ = illustrations(args.n, args.size, seed=args.seed + 2000)
    second, ink, _ = illustrations(args.n, args.size, seed=args.seed + 3000)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FIDFallbackWarning)  # logged loudly anyway; the name says it below
        backbone = FIDBackbone.load(args.weights, seed=args.seed, calibration_images=calibration,
                                    device=args.device, dims=args.dims, allow_download=False)
    setup_s = time.perf_counter() - start
    print(f"images: {source}, {args.n} per set at {args.size}², backbone {backbone.name} ({backbone.source}); "
          f"load + calibration on {args.calibration} images: {setup_s:.1f} s")

    start = time.perf_counter()
    reference_features = backbone.activations(reference)
    per_image_s = (time.perf_counter() - start) / len(reference)
    damaged = {
        "self (reference vs itself)": reference,
        "floor (second real sample)": second,
        "hue shift 0.1": hue_shift(second, 0.1),
        "hue shift 0.3": hue_shift(second, 0.3),
        "colour cast 0.1": colour_cast(second, 0.1),
        "colour cast 0.3": colour_cast(second, 0.3),
        "bleeding (colours blurred, sigma 2)": bleeding(second, ink, 2.0),
        "blur (sigma 1)": blur(second, 1.0),
        "ink at grey 15": ink_at(second, ink, 15),
        "ink pure black": ink_at(second, ink, 0),
        "noise 0.05": noise(second, 0.05, args.seed),
        "noise 0.15": noise(second, 0.15, args.seed),
    }
    results, distance_s = {}, []
    for name, images in damaged.items():
        features = reference_features if images is reference else backbone.activations(images)
        start = time.perf_counter()
        results[name] = frechet_distance(features, reference_features)
        distance_s.append(time.perf_counter() - start)
        print(f"  {name:38s} FID {results[name]:10.3f}", flush=True)

    floor = results["floor (second real sample)"]
    chains = [("self (reference vs itself)", "floor (second real sample)"),
              ("floor (second real sample)", "hue shift 0.1", "hue shift 0.3"),
              ("floor (second real sample)", "colour cast 0.1", "colour cast 0.3"),
              ("floor (second real sample)", "noise 0.05", "noise 0.15"),
              ("floor (second real sample)", "bleeding (colours blurred, sigma 2)"),
              ("floor (second real sample)", "blur (sigma 1)"),
              ("floor (second real sample)", "ink at grey 15", "ink pure black")]
    broken = [" < ".join(chain) for chain in chains
              if any(results[a] >= results[b] for a, b in zip(chain[:-1], chain[1:]))]
    print(f"monotone: {'yes' if not broken else 'NO, broken: ' + '; '.join(broken)}")
    print("each damage / floor: " + ", ".join(f"{name.split(' (')[0]} {value / floor:.2f}"
                                              for name, value in results.items() if not name.startswith("self")))
    print(f"timing: {per_image_s * 1000:.0f} ms/img for Inception activations, "
          f"{np.median(distance_s) * 1000:.0f} ms per Fréchet distance (median), {args.threads} thread(s)")
    return 0 if not broken else 1


if __name__ == "__main__":
    sys.exit(main())
