"""Reading users' images and writing outputs atomically.

Every reader accepts PNG/JPEG/WebP/BMP/TIFF, 8- or 16-bit, grey/RGB/RGBA, and raises :class:`ImageReadError`
naming the file when it cannot. Every writer goes through a temporary file and ``os.replace`` so that a killed
job never leaves a half-written output behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


class ImageReadError(ValueError):
    """An input file is missing, not an image, or not usable as one."""


def _to_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return (image // 257).astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
    raise ImageReadError(f"unsupported pixel type {image.dtype}")


def _composite_on_white(bgra: np.ndarray) -> np.ndarray:
    """Alpha-composite a (H, W, 4) BGRA image onto white paper → (H, W, 3) BGR."""
    alpha = bgra[..., 3:4].astype(np.float32) / 255.0
    rgb = bgra[..., :3].astype(np.float32)
    return (rgb * alpha + 255.0 * (1.0 - alpha) + 0.5).astype(np.uint8)


def read_rgb(path: str | Path) -> np.ndarray:
    """Read any supported image as RGB uint8 (H, W, 3); transparency is composited onto white."""
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"{path}: no such file")
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise ImageReadError(f"{path}: not a readable image (PNG, JPEG, WebP, BMP or TIFF expected)")
    try:
        image = _to_uint8(image)
    except ImageReadError as error:
        raise ImageReadError(f"{path}: {error}") from None
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = _composite_on_white(image)
    elif image.shape[2] == 2:  # grey + alpha
        grey, alpha = image[..., 0], image[..., 1]
        image = _composite_on_white(np.dstack([grey, grey, grey, alpha]))
    if min(image.shape[:2]) < 8:
        raise ImageReadError(f"{path}: image is {image.shape[1]}x{image.shape[0]} px, too small (min 8 px)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_grey(path: str | Path) -> np.ndarray:
    """Read any supported image as grey uint8 (H, W); coloured (brown, blue) lines become dark grey."""
    rgb = read_rgb(path)
    # The darkest channel keeps coloured line art dark (a blue line has a low red channel).
    return rgb.min(axis=2)


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


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    temporary = Path(temporary)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_image(path: str | Path, image: np.ndarray) -> None:
    """Write an RGB (H, W, 3) uint8, grey (H, W) uint8 or label (H, W) uint16 image as PNG, atomically."""
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise ValueError(f"could not encode an image of shape {image.shape} and type {image.dtype}")
    with atomic_path(path) as temporary:
        temporary.write_bytes(encoded.tobytes())


def save_npz(path: str | Path, **arrays: np.ndarray) -> None:
    """Write arrays to an uncompressed ``.npz`` atomically (uncompressed: fast to read on 2 cores)."""
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as handle:
            np.savez(handle, **arrays)
