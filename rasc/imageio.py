"""Reading users' images and writing outputs atomically.

Every reader accepts PNG/JPEG/WebP/BMP/TIFF, 8- or 16-bit, grey/RGB/RGBA, turns a photo the way its EXIF
orientation says (as viewers show it), and raises :class:`ImageReadError` naming the file when it cannot. Every
writer goes through a temporary file and ``os.replace`` so that a killed job never leaves a half-written output
behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from rasc.atomic import atomic_path

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
MIN_SIDE = 8  # px: the smallest side of an image the commands read or make


def decoder_pixel_limit() -> int:
    """The most pixels OpenCV decodes from one file (its ``OPENCV_IO_MAX_IMAGE_PIXELS``, default 2**30)."""
    return int(os.environ.get("OPENCV_IO_MAX_IMAGE_PIXELS", 1 << 30))


class ImageReadError(ValueError):
    """An input file is missing, not an image, or not usable as one."""


def _to_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return (image // 257).astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        missing = int(np.isnan(image).sum())
        if missing:
            raise ImageReadError(f"{missing} pixel value{'s are' if missing > 1 else ' is'} not a number (NaN)")
        return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
    raise ImageReadError(f"unsupported pixel type {image.dtype}")


def _composite_on_white(bgra: np.ndarray, rows: int = 1024) -> np.ndarray:
    """Alpha-composite a (H, W, 4) BGRA image onto white paper → (H, W, 3) BGR (in bands of rows: bounded memory)."""
    out = np.empty((*bgra.shape[:2], 3), np.uint8)
    for top in range(0, bgra.shape[0], rows):
        band = bgra[top : top + rows]
        alpha = band[..., 3:4].astype(np.float32) / 255.0
        out[top : top + rows] = (band[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha) + 0.5).astype(np.uint8)
    return out


@contextlib.contextmanager
def _captured_stderr() -> Iterator[list[str]]:
    """Capture what native code (libpng, libjpeg) prints on file descriptor 2; yields a list that receives its lines."""
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines.extend(line for line in sink.read().decode(errors="replace").splitlines() if line.strip())


class Header(NamedTuple):
    """What an image file's header tells before any pixel is decoded."""

    size: tuple[int, int]  # (width, height) as stored
    pages: int             # pages or frames
    orientation: int       # EXIF orientation left for us to apply, 1 (as stored) to 8


def _header(path: str | Path) -> Header | None:
    """An image file's :class:`Header` without decoding its pixels (Pillow), or None where Pillow cannot tell."""
    from PIL import Image

    guard, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # only the header is read: Pillow's guard is moot
    try:
        with Image.open(path) as image:
            size, pages = image.size, int(getattr(image, "n_frames", 1))
            orientation = 1 if image.format in DECODER_TURNS else _exif_orientation(image)
            return Header(size, pages, orientation)
    except Exception:  # noqa: BLE001 - unreadable files are reported by the decoder, with its own message
        return None
    finally:
        Image.MAX_IMAGE_PIXELS = guard


EXIF_ORIENTATION = 0x0112  # the EXIF tag a camera or phone sets instead of rotating the pixels
DECODER_TURNS = {"TIFF"}  # formats whose OpenCV decoder applies the orientation itself (IMREAD_UNCHANGED)
_ORIENTED = {  # EXIF orientation → the (H, W[, C]) array as a viewer shows it (Pillow's ImageOps.exif_transpose)
    1: lambda a: a,
    2: lambda a: a[:, ::-1],                      # mirrored left-right
    3: lambda a: a[::-1, ::-1],                   # rotated 180°
    4: lambda a: a[::-1],                         # mirrored top-bottom
    5: lambda a: a.swapaxes(0, 1),                # transposed
    6: lambda a: np.rot90(a, -1),                 # rotated 90° clockwise for display
    7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],    # transversed
    8: lambda a: np.rot90(a, 1),                  # rotated 90° counter-clockwise for display
}


def _exif_orientation(image) -> int:
    """The EXIF orientation of an open Pillow image, 1 where it has none or it cannot be read."""
    try:
        orientation = image.getexif().get(EXIF_ORIENTATION, 1)
    except Exception:  # noqa: BLE001 - a damaged EXIF block: the pixels are shown as stored
        return 1
    return orientation if orientation in _ORIENTED else 1


def as_displayed(image: np.ndarray, orientation: int) -> np.ndarray:
    """A decoded image (H, W[, C]) turned the way its EXIF ``orientation`` tells viewers to show it (contiguous)."""
    return np.ascontiguousarray(_ORIENTED[orientation](image))


def header_size(path: str | Path) -> tuple[int, int] | None:
    """(width, height) from an image file's header without decoding its pixels, or None where Pillow cannot tell."""
    header = _header(path)
    return None if header is None else header.size


def _decode(path: Path) -> np.ndarray:
    """Decode an image file with its own channels and depth; decoder messages go into the error, not the terminal."""
    if path.is_dir():
        raise ImageReadError(f"{path}: is a folder, not an image file")
    if not path.is_file():
        raise ImageReadError(f"{path}: no such file")
    (width, height), pages, orientation = _header(path) or Header((0, 0), 1, 1)  # before any pixel is decoded
    limit = decoder_pixel_limit()
    if width * height > limit:
        raise ImageReadError(f"{path}: {width}x{height} px ({width * height / 1e6:,.0f} megapixels) is more than the "
                             f"image decoder reads ({limit / 1e6:,.0f} megapixels); downscale it first")
    data = np.fromfile(str(path), dtype=np.uint8)
    with _captured_stderr() as decoder_messages:
        try:
            image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
        except cv2.error as error:  # e.g. a header that claims more pixels than OpenCV decodes
            raise ImageReadError(f"{path}: not a readable image ({error.err.strip() or error})") from None
    if image is None:
        detail = decoder_messages[-1] if decoder_messages else "PNG, JPEG, WebP, BMP or TIFF expected"
        raise ImageReadError(f"{path}: not a readable image ({detail})")
    for message in decoder_messages:
        log.debug("%s: %s", path, message)
    if pages > 1:
        log.warning("%s: holds %d pages or frames; only the first is used", path, pages)
    return as_displayed(image, orientation)


def read_rgb_alpha(path: str | Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Read any supported image → (RGB uint8 (H, W, 3) composited onto white, alpha uint8 (H, W) or None)."""
    path = Path(path)
    image = _decode(path)
    try:
        image = _to_uint8(image)
    except ImageReadError as error:
        raise ImageReadError(f"{path}: {error}") from None
    alpha = None
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        alpha = image[..., 3].copy()
        image = _composite_on_white(image)
    elif image.shape[2] == 2:  # grey + alpha
        grey, alpha = image[..., 0], image[..., 1].copy()
        image = _composite_on_white(np.dstack([grey, grey, grey, alpha]))
    if min(image.shape[:2]) < MIN_SIDE:
        raise ImageReadError(f"{path}: image is {image.shape[1]}x{image.shape[0]} px, too small (min {MIN_SIDE} px)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB), alpha


def read_rgb(path: str | Path) -> np.ndarray:
    """Read any supported image as RGB uint8 (H, W, 3); transparency is composited onto white."""
    return read_rgb_alpha(path)[0]


def darkest_channel(rgb: np.ndarray) -> np.ndarray:
    """Grey (H, W) uint8 of RGB line art: the darkest channel, so coloured (brown, blue) lines stay dark."""
    return rgb.min(axis=2)


def read_grey(path: str | Path) -> np.ndarray:
    """Read any supported image as grey uint8 (H, W); coloured (brown, blue) lines become dark grey."""
    return darkest_channel(read_rgb(path))


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name; an error if the folder has none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ImageReadError(f"{folder}: not a folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise ImageReadError(f"{folder}: folder has no files")
    return files


def read_folder(folder: str | Path, reader, on_unreadable: str = "error") -> tuple[list[np.ndarray], list[Path]]:
    """Read every file of ``folder`` with ``reader``; files it cannot use raise or (``"skip"``) are logged and skipped."""
    if on_unreadable not in {"error", "skip"}:
        raise ValueError(f"on_unreadable must be 'error' or 'skip', not {on_unreadable!r}")
    images, used = [], []
    for path in list_images(folder):
        try:
            images.append(reader(path))
            used.append(path)
        except ImageReadError as error:
            if on_unreadable == "error":
                raise ImageReadError(f"{error} (on_unreadable: skip would skip the file)") from None
            log.warning("skipping unusable file: %s", error)
    if not images:
        raise ImageReadError(f"{folder}: no readable image in the folder")
    return images, used


def write_image(path: str | Path, image: np.ndarray) -> None:
    """Write an RGB (H, W, 3) uint8, grey (H, W) uint8 or label (H, W) uint16 image as PNG, atomically."""
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise ValueError(f"could not encode an image of shape {image.shape} and type {image.dtype}")
    with atomic_path(path) as temporary:
        temporary.write_bytes(encoded.tobytes())


def save_npz(path: str | Path, compressed: bool = False, **arrays: np.ndarray) -> None:
    """Write arrays to an ``.npz`` atomically: uncompressed by default (fast to read on 2 cores); ``compressed``
    for large arrays of flat colours (e.g. the test split's alternative colourings, 20× smaller)."""
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as handle:
            (np.savez_compressed if compressed else np.savez)(handle, **arrays)
