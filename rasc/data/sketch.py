"""Sketches from colour images: XDoG line extraction (paper §IV-A) and the mirror-pad-and-resize of paper §IV-B.

XDoG follows Winnemöller et al. 2012 ("XDoG: an eXtended difference-of-Gaussians compendium"), in its sharpened
form: with the paper's τ = 0.999997 and k = 1.0001 the plain difference G_σ − τ·G_kσ is ~0 everywhere, so we use

    S = (1 + p)·G_σ(I) − p·G_kσ(I),   p = τ / (1 − τ)      (equivalently (G_σ − τ·G_kσ) / (1 − τ))
    T(u) = 1 if u ≥ ε else 1 + tanh(φ·(u − ε))

on grey intensities I in [0, 1] (ITU-R 601 luma of the RGB image). For k → 1, p·(G_σ − G_kσ) ≈ −p(k−1)σ²∇²G_σ, so
S ≈ G_σ(I) − 33σ²·∇²G_σ(I): an unsharp mask that drives dark outlines and the dark side of colour edges far below
0 while flat areas keep their own intensity. The defaults ε = 0.1, φ = 25 were chosen by looking at sketches of the
procedural illustrations (`rasc.data.synth`) for σ in 0.4..0.9: outlines come out solid black and anti-aliased,
flat regions white — down to the darkest flat colours we draw (≈ 0.13 luma: black hair, navy), which a larger ε
would paint as grey/black tone — and colour edges without an outline get a thin line on their darker side.
The two Gaussians share one kernel size (⌈4kσ⌉ radius) and are computed in float64: at p ≈ 3·10⁵, float32 round-off
alone would be amplified to visible noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from skimage.morphology import skeletonize, thin

PAPER_SIGMAS: tuple[float, ...] = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # paper §IV-A
INK_LEVEL = 128  # pixels darker than this are ink when a drawing is cropped to its lines (ink_square)
SPECK_AREA = 0.3  # shrunk line art: ink pieces smaller than this share of a working-size pixel are dropped as specks
SKELETON_SCALE = 4  # shrunk line art: centre lines are traced at this many times the working size (quarter-px places)
FILL_COVERAGE = 0.9  # shrunk line art: working-size pixels at least this share ink stay ink (solid fills, e.g. pupils)


@dataclass(frozen=True)
class SketchConfig:
    """XDoG parameters (paper §IV-A for σ, τ, k; φ and ε chosen here, see the module docstring)."""

    sigmas: tuple[float, ...] = PAPER_SIGMAS  # σ of the finer Gaussian, drawn per image from this set (px)
    tau: float = 0.999997  # τ: weight of the coarser Gaussian; sharpening p = τ / (1 − τ)
    k: float = 1.0001  # ratio of the two Gaussians' σ
    phi: float = 25.0  # φ: steepness of the soft threshold below ε (larger = harder, more aliased lines)
    eps: float = 0.1  # ε: threshold on the sharpened intensity in [0, 1]; flat areas brighter than ε are white

    def __post_init__(self):
        object.__setattr__(self, "sigmas", tuple(float(s) for s in self.sigmas))
        if not self.sigmas or min(self.sigmas) <= 0:
            raise ValueError(f"SketchConfig.sigmas must be a non-empty list of positive numbers, got {self.sigmas}")
        if not 0.0 < self.tau < 1.0:
            raise ValueError(f"SketchConfig.tau must be in (0, 1), got {self.tau}")
        if self.k <= 1.0:
            raise ValueError(f"SketchConfig.k must be > 1, got {self.k}")
        if self.phi <= 0:
            raise ValueError(f"SketchConfig.phi must be > 0, got {self.phi}")


def _check_image(image: np.ndarray, name: str = "image") -> np.ndarray:
    image = np.asarray(image)
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3)):
        raise ValueError(f"{name} must be (H, W) or (H, W, 3), got shape {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {image.shape}")
    return image


def mirror_pad_to_square(image: np.ndarray) -> np.ndarray:
    """Pad the shorter side by mirroring (symmetric reflection) to a square; the original sits in the centre."""
    image = _check_image(image)
    h, w = image.shape[:2]
    if h == w:
        return image
    pad = abs(h - w)
    before, after = pad // 2, pad - pad // 2
    widths = ((before, after), (0, 0)) if h < w else ((0, 0), (before, after))
    widths += ((0, 0),) * (image.ndim - 2)
    return np.pad(image, widths, mode="symmetric")


def pad_resize(image: np.ndarray, size: int, interpolation: int | None = None) -> np.ndarray:
    """Mirror-pad to a square, then resize to (size, size) (paper §IV-B).

    `interpolation` defaults to area averaging when shrinking and bicubic when enlarging; pass cv2.INTER_NEAREST
    for label maps. The dtype is kept (uint8 results of bicubic are clipped by OpenCV).
    """
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    square = mirror_pad_to_square(image)
    if square.shape[0] == size:
        return square.copy()
    if interpolation is None:
        interpolation = cv2.INTER_AREA if square.shape[0] > size else cv2.INTER_CUBIC
    resized = cv2.resize(np.ascontiguousarray(square), (size, size), interpolation=interpolation)
    return resized.reshape(size, size, *square.shape[2:])


def ink_square(drawing: np.ndarray, min_side: int = 1) -> tuple[slice, slice]:
    """(rows, columns) of the smallest square of ``drawing`` (H, W) uint8 that holds all its ink (pixels darker
    than ``INK_LEVEL``) and is at least ``min_side`` px, centred on the ink and moved inside the drawing; a side
    longer than the drawing's is cut to it. The whole drawing when it has no ink."""
    dark_rows, dark_cols = np.nonzero(drawing < INK_LEVEL)
    if dark_rows.size == 0:
        return slice(0, drawing.shape[0]), slice(0, drawing.shape[1])
    side = max(dark_rows.max() + 1 - dark_rows.min(), dark_cols.max() + 1 - dark_cols.min(), min_side)

    def span(low: int, high: int, extent: int) -> slice:  # `side` px around [low, high), inside [0, extent)
        length = min(side, extent)
        start = min(max(low - (length - (high - low)) // 2, 0), extent - length)
        return slice(int(start), int(start + length))

    return (span(dark_rows.min(), dark_rows.max() + 1, drawing.shape[0]),
            span(dark_cols.min(), dark_cols.max() + 1, drawing.shape[1]))


def line_art_to_size(line_art: np.ndarray, size: int) -> np.ndarray:
    """A user's line art (H, W) uint8, dark on light → (size, size) uint8 as the generator saw its training sketches.

    A drawing at or below ``size`` is mirror-padded and resized (`pad_resize`). A larger one is first reduced to its
    centre lines (the skeleton of its ink, pixels darker than ``INK_LEVEL``, after dropping specks smaller than
    ``SPECK_AREA`` of a working-size pixel), and a working-size pixel is ink (0) wherever a centre line passes or
    at least ``FILL_COVERAGE`` of its area was ink (solid fills such as pupils, which the training sketches have),
    paper (255) elsewhere: solid lines about one working-size pixel wide whatever the pen's width, as in the training
    sketches (drawn at the working size). Area averaging alone turns lines thinner than a working-size pixel into
    light grey strokes, and a coverage threshold keeps the pen's width, too thin or too thick. Measured with
    ``benchmarks/colorize_sizes.py`` (README, design decisions).
    """
    if max(line_art.shape[:2]) <= size:
        return pad_resize(line_art, size)
    height, width = line_art.shape[:2]
    shrink = max(height, width) / size  # drawing px per working-size px
    _, labels, stats, _ = cv2.connectedComponentsWithStats((line_art < INK_LEVEL).astype(np.uint8), connectivity=8)
    kept = stats[:, cv2.CC_STAT_AREA] >= SPECK_AREA * shrink**2  # (pieces,) per ink piece; label 0 is the paper
    kept[0] = False
    ink = kept[labels]  # (H, W) bool
    if shrink > SKELETON_SCALE:  # trace at SKELETON_SCALE × the working size: no line lost, 10-50× faster
        traced = (max(1, round(width * SKELETON_SCALE / shrink)), max(1, round(height * SKELETON_SCALE / shrink)))
        ink = cv2.resize(ink.astype(np.uint8) * 255, traced, interpolation=cv2.INTER_AREA) > 0  # (h, w): any ink
    centre_lines = np.where(skeletonize(ink), 0, 255).astype(np.uint8)  # (h, w), one px wide
    square = pad_resize(centre_lines, size)  # (size, size): below 255 wherever a centre line passes
    solid = pad_resize(line_art, size) <= 255 * (1 - FILL_COVERAGE)  # (size, size): fills wider than a pixel
    return np.where((square < 255) | solid, 0, 255).astype(np.uint8)


def working_view(line_art: np.ndarray, size: int, crop_to_ink: bool = True) -> tuple[tuple[slice, slice], np.ndarray]:
    """What the generator sees of a user's line art (H, W) uint8: the (rows, columns) it shows (the square around
    the ink, :func:`ink_square`, at least ``size``; or the whole drawing) and that part at the working size
    (:func:`line_art_to_size`) → ((rows, columns), (size, size) uint8). Used by `rasc colorize` and test set R."""
    view = ink_square(line_art, min_side=size) if crop_to_ink else (slice(0, line_art.shape[0]),
                                                                    slice(0, line_art.shape[1]))
    return view, line_art_to_size(line_art[view], size)


def crop_padding(square: np.ndarray, shape: tuple[int, int], interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Undo `pad_resize`: the part of a (S, S[, C]) square that shows the original, resized to ``shape`` = (H, W).

    One affine resampling (no intermediate full-size square): output pixel (x, y) reads the square at
    ((x + left + ½)·S/L − ½, (y + top + ½)·S/L − ½), L = max(H, W) the padded side, (left, top) the padding offset.
    """
    height, width = int(shape[0]), int(shape[1])
    side = square.shape[0]
    if square.shape[1] != side or height < 1 or width < 1:
        raise ValueError(f"expected a square image and a positive shape, got {square.shape} and {shape}")
    padded = max(height, width)
    left, top = (padded - width) // 2, (padded - height) // 2
    scale = side / padded
    inverse = np.array([[scale, 0, (left + 0.5) * scale - 0.5], [0, scale, (top + 0.5) * scale - 0.5]])  # dst → src
    out = cv2.warpAffine(np.ascontiguousarray(square), inverse, (width, height),
                         flags=interpolation | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(height, width, *square.shape[2:])


def to_grey(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) RGB or (H, W) grey → float64 (H, W) intensities in [0, 1]."""
    image = _check_image(image)
    if image.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {image.dtype}")
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.shape[2] == 3 else image[..., 0]
    return image.astype(np.float64) / 255.0


def xdog(
    image: np.ndarray, sigma: float, tau: float = 0.999997, k: float = 1.0001, phi: float = 25.0, eps: float = 0.1
) -> np.ndarray:
    """XDoG sketch of a uint8 (H, W, 3) RGB or (H, W) grey image → uint8 (H, W), 255 = white paper.

    Sharpened difference of Gaussians on intensities in [0, 1], then the soft threshold (module docstring).
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    grey = to_grey(image)  # (H, W) float64
    radius = int(np.ceil(4 * k * sigma))
    ksize = (2 * radius + 1, 2 * radius + 1)
    fine = cv2.GaussianBlur(grey, ksize, sigma, borderType=cv2.BORDER_REFLECT)
    coarse = cv2.GaussianBlur(grey, ksize, k * sigma, borderType=cv2.BORDER_REFLECT)
    p = tau / (1.0 - tau)
    sharpened = fine + p * (fine - coarse)  # = (1 + p) G_σ − p G_kσ
    tone = np.where(sharpened >= eps, 1.0, 1.0 + np.tanh(phi * np.minimum(sharpened - eps, 0.0)))
    return np.round(tone * 255).astype(np.uint8)


WIDTH_NOISE_SIGMA = 2.0  # px: σ of the smoothed noise that picks the thickened stretches of `redraw_ink_width`


def redraw_ink_width(sketch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A uint8 (H, W) sketch with its ink redrawn at a width that varies along the lines: binary 0 / 255 out.

    The ink (darker than ``INK_LEVEL``) is thinned by one topology-keeping pass (no line breaks or vanishes), and
    about half of the picture, in patches of a few pixels (smoothed noise above its median), gets the ink thickened
    by one pixel (a 2×2 dilation) instead: thin and thick stretches alternate along every line, as with a pen
    pressed harder or lighter.
    """
    ink = np.asarray(sketch) < INK_LEVEL  # (H, W) bool
    thinned = thin(ink, max_num_iter=1)
    thickened = cv2.dilate(ink.astype(np.uint8), np.ones((2, 2), np.uint8)).astype(bool)
    field = cv2.GaussianBlur(rng.random(ink.shape), (0, 0), WIDTH_NOISE_SIGMA)  # (H, W) smoothed noise
    return np.where(thinned | (thickened & (field > np.median(field))), 0, 255).astype(np.uint8)


def draw_sigmas(n: int, seed: int, cfg: SketchConfig = SketchConfig()) -> np.ndarray:
    """σ of image i of a batch drawn with `seed`: from `default_rng([seed, i])`, so it does not depend on n."""
    sigmas = np.asarray(cfg.sigmas)
    return np.array([sigmas[np.random.default_rng([int(seed), i]).integers(len(sigmas))] for i in range(n)])


def xdog_batch(colors: np.ndarray, seed: int, cfg: SketchConfig = SketchConfig()) -> np.ndarray:
    """XDoG sketches (N, H, W) uint8 of colour images (N, H, W, 3) uint8, σ drawn per image (`draw_sigmas`)."""
    colors = np.asarray(colors)
    if colors.ndim != 4 or colors.shape[-1] != 3 or colors.dtype != np.uint8:
        raise ValueError(f"colors must be uint8 (N, H, W, 3), got {colors.dtype} {colors.shape}")
    sigmas = draw_sigmas(len(colors), seed, cfg)
    out = np.empty(colors.shape[:3], dtype=np.uint8)
    for i, (image, sigma) in enumerate(zip(colors, sigmas)):
        out[i] = xdog(image, sigma, cfg.tau, cfg.k, cfg.phi, cfg.eps)
    return out
