"""Label-image utilities shared by every region source and by the model.

A region map is an integer label image (H, W) whose labels are 0..K-1, contiguous, with every pixel labelled.
On disk and between stages it is uint16 (so K ≤ 65536); inside the model it is an int64 tensor (B, H, W).
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_UINT16_LABELS = 65536  # labels 0..65535 fit in uint16


def check_label_image(labels: np.ndarray, name: str = "labels") -> np.ndarray:
    """Validate an integer (H, W) label image with non-negative labels and return it unchanged."""
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (H, W) label image, got shape {labels.shape}")
    if labels.size == 0:
        raise ValueError(f"{name} is empty (shape {labels.shape})")
    if not (np.issubdtype(labels.dtype, np.integer) or labels.dtype == bool):
        raise ValueError(f"{name} must have an integer dtype, got {labels.dtype}")
    if np.issubdtype(labels.dtype, np.signedinteger) and labels.min() < 0:
        raise ValueError(f"{name} has negative labels (min {labels.min()})")
    return labels


def relabel_contiguous(labels: np.ndarray) -> np.ndarray:
    """Renumber the labels present in `labels` to 0..K-1, keeping their order; returns uint16 (H, W).

    Raises ValueError when there are more than 65536 distinct labels (they would not fit in uint16).
    """
    labels = check_label_image(labels)
    flat = labels.ravel()
    if flat.dtype == bool or flat.dtype.itemsize > 4 or flat.dtype == np.uint32:
        flat = flat.astype(np.int64)
    max_label = int(flat.max())
    if max_label < 4 * flat.size + 1024:
        # O(N) lookup table: present labels get consecutive new ids.
        present = np.bincount(flat, minlength=max_label + 1) > 0
        n_labels = int(present.sum())
        _check_fits_uint16(n_labels)
        lookup = (np.cumsum(present) - 1).astype(np.uint16)  # (max_label + 1,)
        return lookup[labels]
    uniques, relabelled = np.unique(flat, return_inverse=True)
    _check_fits_uint16(len(uniques))
    return relabelled.reshape(labels.shape).astype(np.uint16)


def _check_fits_uint16(n_labels: int) -> None:
    if n_labels > MAX_UINT16_LABELS:
        raise ValueError(f"{n_labels} regions do not fit in a uint16 label image (max {MAX_UINT16_LABELS})")


def is_contiguous(labels: np.ndarray) -> bool:
    """True when the labels present are exactly 0..K-1."""
    labels = check_label_image(labels)
    counts = np.bincount(labels.ravel().astype(np.int64))
    return bool(np.all(counts > 0))


def resize_labels(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a label image to `size` = (height, width), then relabel to 0..K-1 (uint16).

    Regions too small to survive the resize disappear, and the remaining labels are renumbered.
    """
    labels = check_label_image(labels)
    height, width = _check_size(size)
    as_int32 = labels.astype(np.int32, copy=False)
    resized = cv2.resize(as_int32, (width, height), interpolation=cv2.INTER_NEAREST_EXACT)  # (height, width)
    return relabel_contiguous(resized)


def random_colour_preview(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """A random colour per region, for looking at a label image: uint8 (H, W, 3) RGB."""
    labels = check_label_image(labels)
    rng = np.random.default_rng(seed)
    n_labels = int(labels.max()) + 1
    palette = rng.integers(40, 256, size=(n_labels, 3), dtype=np.uint8)  # (K, 3), no near-black colours
    return palette[labels]


def region_boundaries(labels: np.ndarray) -> np.ndarray:
    """Boolean (H, W) mask of pixels with a 4-neighbour of a different label (both sides of each border)."""
    labels = check_label_image(labels)
    boundary = np.zeros(labels.shape, dtype=bool)
    vertical_change = labels[1:, :] != labels[:-1, :]  # (H-1, W)
    horizontal_change = labels[:, 1:] != labels[:, :-1]  # (H, W-1)
    boundary[1:, :] |= vertical_change
    boundary[:-1, :] |= vertical_change
    boundary[:, 1:] |= horizontal_change
    boundary[:, :-1] |= horizontal_change
    return boundary


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    if len(size) != 2:
        raise ValueError(f"size must be (height, width), got {size!r}")
    height, width = int(size[0]), int(size[1])
    if height < 1 or width < 1:
        raise ValueError(f"size must be positive, got {size!r}")
    return height, width


def region_adjacency(labels: np.ndarray, ignore_label: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of 4-adjacent regions and the length of their shared border.

    Returns (pairs (M, 2) int64 with pairs[:, 0] < pairs[:, 1], border_length (M,) int64): border_length counts the
    4-neighbour pixel pairs across the border. Pairs touching `ignore_label` (e.g. line pixels) are left out.
    """
    labels = check_label_image(labels)
    firsts, seconds = [], []
    for first, second in ((labels[:, :-1], labels[:, 1:]), (labels[:-1, :], labels[1:, :])):
        differs = first != second  # pixel pairs across a border (horizontal, then vertical neighbours)
        firsts.append(first[differs])
        seconds.append(second[differs])
    first = np.concatenate(firsts)
    second = np.concatenate(seconds)
    if ignore_label is not None:
        keep = (first != ignore_label) & (second != ignore_label)
        first, second = first[keep], second[keep]
    n_labels = int(max(first.max(initial=0), second.max(initial=0))) + 1
    code_type = np.int32 if n_labels < 46_000 else np.int64  # K² must fit
    low = np.minimum(first, second).astype(code_type)
    high = np.maximum(first, second).astype(code_type)
    codes = low * n_labels + high  # (P,) one code per bordering pixel pair
    if n_labels * n_labels <= 4 * len(codes) + 1_000_000:
        counts = np.bincount(codes, minlength=n_labels * n_labels)  # O(P + K²), no sort
        codes = np.flatnonzero(counts)
        border_length = counts[codes]
    else:
        codes, border_length = np.unique(codes, return_counts=True)  # sorted, so the pairs are too
    codes = codes.astype(np.int64)
    pairs = np.stack([codes // n_labels, codes % n_labels], axis=1)  # (M, 2)
    return pairs, border_length.astype(np.int64)


def merge_small_regions(
    labels: np.ndarray,
    min_area: int,
    candidates: np.ndarray | None = None,
    ignore_label: int | None = None,
) -> np.ndarray:
    """Merge every region smaller than `min_area` pixels into the neighbour it shares the longest border with.

    candidates: optional bool per label; only those regions may be merged away (default: all).
    ignore_label: a label that is neither merged nor merged into, and whose borders do not count (e.g. lines).
    Ties go to the larger neighbour. Rounds repeat until no small candidate with a neighbour is left; borders and
    areas are re-measured each round, so two fragments that merge into each other and together reach `min_area`
    stay. A region with no neighbour stays whatever its size. Returns labels of the input
    dtype, NOT renumbered (merged labels have no pixels left).
    """
    labels = check_label_image(labels)
    n_labels = int(labels.max()) + 1
    merged = labels.astype(np.int32 if n_labels < 2**31 else np.int64)  # a copy
    is_candidate = np.ones(n_labels, dtype=bool)
    if candidates is not None:
        candidates = np.asarray(candidates, dtype=bool)
        is_candidate[:] = False
        is_candidate[: min(len(candidates), n_labels)] = candidates[:n_labels]
    if ignore_label is not None and 0 <= ignore_label < n_labels:
        is_candidate[ignore_label] = False
    label_ids = np.arange(n_labels)
    areas = np.bincount(merged.ravel(), minlength=n_labels)  # (K,) kept up to date below
    lookup = label_ids.copy()  # old label -> current label, applied once at the end
    while True:
        small = is_candidate & (areas > 0) & (areas < min_area)
        if not small.any():
            break
        current = lookup[merged]
        pairs, border_length = region_adjacency(current, ignore_label=ignore_label)
        source = np.concatenate([pairs[:, 0], pairs[:, 1]])  # both directions of each adjacency
        target = np.concatenate([pairs[:, 1], pairs[:, 0]])
        length = np.concatenate([border_length, border_length])
        keep = small[source]
        source, target, length = source[keep], target[keep], length[keep]
        # A region without neighbours never gets one (merges elsewhere do not touch it): stop considering it.
        has_neighbour = np.zeros(n_labels, dtype=bool)
        has_neighbour[source] = True
        is_candidate &= has_neighbour | ~small
        # Best neighbour per source: longest border, then largest area (lexsort: last key is primary).
        order = np.lexsort((-areas[target], -length, source))
        source, target = source[order], target[order]
        first_of_source = np.ones(len(source), dtype=bool)
        first_of_source[1:] = source[1:] != source[:-1]
        source, target = source[first_of_source], target[first_of_source]
        # Merge only "upwards" in a strict order (not small, then area, then id): no cycles, and the smallest
        # small region always merges, so every round makes progress.
        rank = np.stack([~small, areas, label_ids]).astype(np.int64)  # (3, K)
        upwards = _lexicographic_less(rank[:, source], rank[:, target])
        source, target = source[upwards], target[upwards]
        # No chains within a round: a region whose target merges away itself waits for the next round, where it
        # sees the merged neighbourhood. Chains end in a target that stays, so each round still merges something.
        is_source = np.zeros(n_labels, dtype=bool)
        is_source[source] = True
        settled = ~is_source[target]
        source, target = source[settled], target[settled]
        if len(source) == 0:
            break
        np.add.at(areas, target, areas[source])
        areas[source] = 0
        step = label_ids.copy()
        step[source] = target
        lookup = step[lookup]
    if np.array_equal(lookup, label_ids):
        return labels.copy()
    return lookup.astype(labels.dtype)[merged] if labels.dtype != bool else lookup[merged].astype(bool)


def _lexicographic_less(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Column-wise lexicographic `left < right` for (n_keys, N) integer arrays (first key most significant)."""
    less = np.zeros(left.shape[1], dtype=bool)
    equal = np.ones(left.shape[1], dtype=bool)
    for key in range(left.shape[0]):
        less |= equal & (left[key] < right[key])
        equal &= left[key] == right[key]
    return less


def fill_from_nearest(labels: np.ndarray, unlabelled: np.ndarray) -> np.ndarray:
    """Give every pixel of `unlabelled` (bool (H, W)) the label of the nearest labelled pixel (Euclidean, 5x5 mask).

    Raises ValueError when no pixel is labelled.
    """
    labels = check_label_image(labels)
    unlabelled = np.asarray(unlabelled, dtype=bool)
    if unlabelled.shape != labels.shape:
        raise ValueError(f"unlabelled mask shape {unlabelled.shape} differs from labels shape {labels.shape}")
    if not unlabelled.any():
        return labels
    if unlabelled.all():
        raise ValueError("cannot fill from nearest labels: no pixel is labelled")
    source = unlabelled.astype(np.uint8)  # zeros are the labelled pixels the transform measures distance to
    _, nearest_index = cv2.distanceTransformWithLabels(source, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    # DIST_LABEL_PIXEL numbers the zero (labelled) pixels 1..n in raster order; each of them is its own nearest.
    label_of_index = np.concatenate([labels[:1, 0], labels[~unlabelled]])  # (n + 1,), entry 0 unused
    return label_of_index[nearest_index]
