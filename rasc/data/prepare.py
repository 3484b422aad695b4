"""The data stage as library functions: build one split's illustrations and its sketches.

Called by the Snakemake scripts and by ``rasc synth``; every array layout is the one of the project conventions
(``results/data/{split}/illustrations.npz`` and ``sketch_{style}.npz``).
"""

from __future__ import annotations

import functools
import logging
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

SPLITS = ("train", "test")
SKETCH_STYLES = ("xdog", "clean", "rough")
REAL_SPLIT = "real"  # the folder of real sketches: no illustrations, no ground truth

# Test sets: name → (split, sketch style). A/B/C mirror the paper's three; R is a folder of real sketches.
TEST_SETS = {"A": ("test", "xdog"), "B": ("test", "clean"), "C": ("test", "rough"), "R": (REAL_SPLIT, "real")}
MIN_REAL_SKETCHES = 2  # FID compares two distributions: it needs at least 2 images per set


def drawn_from_test_split(test_set: str) -> bool:
    """Whether a test set's sketches were drawn from the test split's illustrations (A, B, C), so that its
    colourings can be compared with them image by image; R's real sketches have no such counterpart."""
    return TEST_SETS[test_set][0] != REAL_SPLIT


def split_seed(seed: int, split: str) -> int:
    """Seed of one split, derived from the data seed so that train and test draw from disjoint streams."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    return int(np.random.SeedSequence([seed, SPLITS.index(split)]).generate_state(1)[0])


def split_size(data_cfg: Mapping[str, Any], split: str) -> int:
    """Number of illustrations in ``split`` for the procedural source."""
    return int(data_cfg["n_train"] if split == "train" else data_cfg["n_test"])


def synth_config(data_cfg: Mapping[str, Any]):
    """The procedural generator's settings (a rasc.data.synth.SynthConfig) of the ``data`` config section."""
    from rasc.data.synth import SynthConfig

    return SynthConfig(size=int(data_cfg["size"]), **data_cfg["synth"])


def prepare_procedural(data_cfg: Mapping[str, Any], split: str) -> dict[str, np.ndarray]:
    """Draw the procedural illustrations of ``split`` (colour, ground-truth regions, parts, groups, line art)."""
    from rasc.data.synth import synthesize

    arrays = synthesize(split_size(data_cfg, split), seed=split_seed(int(data_cfg["seed"]), split),
                        cfg=synth_config(data_cfg))
    arrays["has_ground_truth"] = np.array(True)
    return arrays


def _folder_split(n_images: int, test_fraction: float, seed: int) -> dict[str, np.ndarray]:
    """Indices of the train and test images of a folder: a seeded permutation, at least one image in each."""
    if n_images < 2:
        raise ValueError(f"a folder data set needs at least 2 images to hold one out for testing, found {n_images}")
    order = np.random.default_rng(seed).permutation(n_images)
    n_test = min(max(1, round(n_images * test_fraction)), n_images - 1)
    return {"test": np.sort(order[:n_test]), "train": np.sort(order[n_test:])}


def prepare_folder(data_cfg: Mapping[str, Any], split: str) -> dict[str, np.ndarray]:
    """Read a folder of the user's colour illustrations, bring them to the working size, keep ``split``'s share.

    Such images have no ground-truth regions: metrics that need them are reported as N/A downstream.
    """
    from rasc.data.sketch import pad_resize
    from rasc.imageio import read_folder, read_rgb

    folder_cfg = data_cfg["folder"]
    images, paths = read_folder(folder_cfg["illustrations"], read_rgb, folder_cfg["on_unreadable"])
    chosen = _folder_split(len(images), folder_cfg["test_fraction"], int(data_cfg["seed"]))[split]
    size = int(data_cfg["size"])
    color = np.stack([pad_resize(images[i], size) for i in chosen])  # (N, H, W, 3)
    log.info("%s split: %d of %d images from %s", split, len(chosen), len(images), folder_cfg["illustrations"])
    return {
        "color": color,
        "names": np.array([paths[i].name for i in chosen]),
        "has_ground_truth": np.array(False),
    }


def illustration_settings(data_cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The data settings the illustrations depend on: the data section without ``folder.sketches``.

    The folder of real sketches (test set R) has no illustrations, so adding one to a finished run must not make
    Snakemake rebuild the data and retrain every model (it reruns a job whose params change).
    """
    settings = {key: value for key, value in data_cfg.items() if key != "folder"}
    settings["folder"] = {key: value for key, value in data_cfg["folder"].items() if key != "sketches"}
    return settings


def prepare_illustrations(data_cfg: Mapping[str, Any], split: str) -> dict[str, np.ndarray]:
    """The illustrations of ``split`` from the configured source."""
    if data_cfg["source"] == "procedural":
        return prepare_procedural(data_cfg, split)
    if data_cfg["source"] == "openmoji":
        from rasc.data.openmoji_corpus import prepare_openmoji

        return prepare_openmoji(data_cfg, split)
    return prepare_folder(data_cfg, split)


def read_real_sketch(path: str | Path, size: int, ink_level: int | None = None) -> np.ndarray:
    """One real sketch as grey uint8 (size, size), cropped to the square around its ink and brought to size as
    `rasc colorize` does; a blank page is refused as unusable, naming the file.

    Blank means no pixel darker than ``ink_level`` at the working size (default: trapped-ball's line threshold),
    i.e. no line that a region extractor or the generator could see: an empty scan, a transparent layer, a
    drawing too faint or too small to survive the resizing.
    """
    from rasc.data.sketch import working_view
    from rasc.imageio import ImageReadError, read_grey
    from rasc.regions.trapped_ball import TrappedBallConfig

    lines = TrappedBallConfig() if ink_level is None else TrappedBallConfig(line_threshold=ink_level)
    _, sketch = working_view(read_grey(path), size)  # (size, size), as `rasc colorize` sees a drawing
    if not lines.has_lines(sketch):
        raise ImageReadError(f"{path}: blank sketch (no pixel darker than {lines.line_threshold} at {size}x{size} px), "
                             f"nothing to colour")
    return sketch


def real_sketch_files(data_cfg: Mapping[str, Any]) -> list[Path]:
    """The files of the real-sketch folder that test set R reads (an error naming the key if the folder is missing
    or empty)."""
    from rasc.imageio import ImageReadError, list_images

    try:
        return list_images(data_cfg["folder"]["sketches"])
    except ImageReadError as error:
        raise ImageReadError(f"data.folder.sketches: {error}") from None


def prepare_real_sketches(data_cfg: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Read the folder of real sketches (test set R, no ground truth) at the working size.

    Unreadable and blank files stop with an error naming the file, or are skipped with a warning
    (``data.folder.on_unreadable``); at least :data:`MIN_REAL_SKETCHES` must remain.
    """
    from rasc.imageio import ImageReadError, read_folder

    folder_cfg = data_cfg["folder"]
    reader = functools.partial(read_real_sketch, size=int(data_cfg["size"]))
    sketches, paths = read_folder(folder_cfg["sketches"], reader, folder_cfg["on_unreadable"])
    if len(sketches) < MIN_REAL_SKETCHES:
        raise ImageReadError(f"{folder_cfg['sketches']}: test set R needs at least {MIN_REAL_SKETCHES} usable "
                             f"sketches (FID compares distributions), found {len(sketches)}; colour a single "
                             f"drawing with `rasc colorize`")
    return {
        "sketch": np.stack(sketches),  # (N, H, W)
        "names": np.array([p.name for p in paths]),
    }


def make_sketches(illustrations: Mapping[str, np.ndarray], style: str, sketch_cfg: Mapping[str, Any], seed: int) -> np.ndarray:
    """Sketches (N, H, W) uint8 of one style: XDoG of the colour images, or the line art stored with them
    (procedural: drawn from the geometry; OpenMoji: the human-drawn line layer and a rough version of it)."""
    if style == "xdog":
        from rasc.data.sketch import SketchConfig, xdog_batch

        return xdog_batch(illustrations["color"], seed=seed, cfg=SketchConfig(**sketch_cfg))
    key = f"lines_{style}"
    if key not in illustrations:
        raise ValueError(f"sketch style {style!r} needs line art stored with the illustrations: only the procedural "
                         f"and OpenMoji sources have it")
    return np.asarray(illustrations[key])


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` file, loaded into memory; a damaged or truncated file is a ValueError naming it."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (EOFError, zipfile.BadZipFile, zlib.error, ValueError) as error:  # truncated, empty or not an archive
        raise ValueError(f"{path}: not a readable .npz archive ({type(error).__name__}: {error}); delete it and "
                         f"rerun the workflow to rebuild it") from None
