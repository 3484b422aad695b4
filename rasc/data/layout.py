"""The npz layout of a split's illustrations with ground truth, shared by the procedural and the OpenMoji sources.

Keys: color (N, H, W, 3) uint8, regions (N, H, W) uint16, parts (N, H, W) uint8, lines_clean / lines_rough
(N, H, W) uint8, region_group (N, Kmax) int32 (-1 padding), region_shadow (N, Kmax) bool, plus any per-sample
scalars a source adds (e.g. archetype).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

IMAGE_KEYS = {"color": np.uint8, "regions": np.uint16, "parts": np.uint8, "lines_clean": np.uint8,
              "lines_rough": np.uint8}


def stack_illustrations(samples: Iterable, n: int, size: int,
                        scalars: Mapping[str, type] | None = None) -> dict[str, np.ndarray]:
    """Stack ``n`` illustrations (objects with the IMAGE_KEYS attributes, region_group and region_shadow) of
    size × size into the npz layout; ``scalars`` names per-sample attributes to keep, with their dtype.

    Images go straight into preallocated arrays, so the peak memory is one data set, not two.
    """
    scalars = dict(scalars or {})
    out = {key: np.empty((n, size, size, 3) if key == "color" else (n, size, size), dtype)
           for key, dtype in IMAGE_KEYS.items()}
    out |= {key: np.empty(n, dtype) for key, dtype in scalars.items()}
    groups, shadows = [], []
    count = 0
    for i, sample in enumerate(samples):
        if i >= n:
            raise ValueError(f"more than the {n} illustrations announced")
        for key in (*IMAGE_KEYS, *scalars):
            out[key][i] = getattr(sample, key)
        groups.append(sample.region_group)
        shadows.append(sample.region_shadow)
        count = i + 1
    if count != n:
        raise ValueError(f"{count} illustrations given, {n} announced")
    k_max = max(len(g) for g in groups)
    out["region_group"] = np.full((n, k_max), -1, dtype=np.int32)
    out["region_shadow"] = np.zeros((n, k_max), dtype=bool)
    for i, (group, shadow) in enumerate(zip(groups, shadows)):
        out["region_group"][i, : len(group)] = group
        out["region_shadow"][i, : len(shadow)] = shadow
    return out
