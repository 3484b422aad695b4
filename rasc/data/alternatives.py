"""Known valid colourings of each test drawing: what the diversity of random-w samples is judged against.

Layout (``results/data/test/alternatives.npz``): ``alternatives`` (N, K, H, W, 3) uint8, where ``alternatives[i, 0]``
is sample i's own ground-truth colouring and ``alternatives[i, 1:alternative_count[i]]`` are other valid colourings
of the same line drawing; the rest is zero padding. ``alternative_count`` (N,) int16 in 1..K. K is
``eval.alternatives``.

- **procedural**: K - 1 colour re-draws of each drawing (:func:`rasc.data.synth.render_illustration` with a
  ``colour_rng``): the same shapes, regions, groups and line art, every colour decision drawn again from the
  generator's own distribution (archetype colour families with their off-archetype and eye draws, and each colour
  inside its family's box), so count = K for every drawing.
- **openmoji**: the other files of the same drawing in the split (its skin-tone and colour variants,
  :func:`rasc.data.openmoji_corpus.variant_indices`), in split order, at most K - 1; most drawings have none
  (count 1). A variant is its own rendering: where its colours merge or split pieces, its colour boundaries may
  differ from the sample's own regions by a few pixels.
- **folder**: no other colouring is known (count 1); such data have no regions to measure anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def redraw_rng(seed: int, index: int, draw: int) -> np.random.Generator:
    """The generator of the colours of re-draw ``draw`` >= 1 of sample ``index`` of a split drawn with ``seed``.

    Its seed sequence [seed, index, draw] is longer than :func:`rasc.data.synth.sample_rng`'s [seed, index], so the
    streams are distinct from every sample's own.
    """
    if draw < 1:
        raise ValueError(f"re-draws are numbered from 1 (0 is the drawing's own colouring), got {draw}")
    return np.random.default_rng([int(seed), int(index), int(draw)])


def _empty(illustrations: Mapping[str, np.ndarray], count: int) -> dict[str, np.ndarray]:
    """Alternatives holding only each sample's own colouring (count 1), padded to ``count``."""
    color = np.asarray(illustrations["color"])  # (N, H, W, 3)
    alternatives = np.zeros((len(color), count, *color.shape[1:]), np.uint8)  # (N, K, H, W, 3)
    alternatives[:, 0] = color
    return {"alternatives": alternatives, "alternative_count": np.ones(len(color), np.int16)}


def procedural_alternatives(illustrations: Mapping[str, np.ndarray], data_cfg: Mapping[str, Any], split: str,
                            count: int) -> dict[str, np.ndarray]:
    """``count`` - 1 colour re-draws of every procedural illustration of ``split``, which must have been drawn with
    ``data_cfg`` (a ValueError if a re-drawn region map differs from the stored one)."""
    from rasc.data.prepare import split_seed, synth_config
    from rasc.data.synth import render_illustration, sample_rng

    arrays = _empty(illustrations, count)
    cfg, seed = synth_config(data_cfg), split_seed(int(data_cfg["seed"]), split)
    for index in range(len(arrays["alternatives"])):
        for draw in range(1, count):
            redrawn = render_illustration(sample_rng(seed, index), cfg, colour_rng=redraw_rng(seed, index, draw))
            if not np.array_equal(redrawn.regions, illustrations["regions"][index]):
                raise ValueError(f"{split} sample {index}: the re-drawn regions differ from the stored ones; the "
                                 f"illustrations were drawn with another data config (size, seed or synth)")
            arrays["alternatives"][index, draw] = redrawn.color
    arrays["alternative_count"][:] = count
    return arrays


def variant_alternatives(illustrations: Mapping[str, np.ndarray], count: int) -> dict[str, np.ndarray]:
    """Each sample's own colouring, then those of the other samples of its drawing (``drawing`` ids), at most
    ``count`` in all."""
    from rasc.data.openmoji_corpus import variant_indices

    arrays = _empty(illustrations, count)
    for index, variants in enumerate(variant_indices(illustrations["drawing"])):
        chosen = variants[: count - 1]
        arrays["alternatives"][index, 1 : 1 + len(chosen)] = illustrations["color"][chosen]
        arrays["alternative_count"][index] = 1 + len(chosen)
    return arrays


def prepare_alternatives(illustrations: Mapping[str, np.ndarray], data_cfg: Mapping[str, Any], split: str,
                         count: int) -> dict[str, np.ndarray]:
    """The known valid colourings (at most ``count`` >= 1 per sample) of one split's illustrations, by data source."""
    if count < 1:
        raise ValueError(f"eval.alternatives must be >= 1 (the ground truth itself), got {count}")
    if data_cfg["source"] == "procedural":
        return procedural_alternatives(illustrations, data_cfg, split, count)
    if data_cfg["source"] == "openmoji":
        return variant_alternatives(illustrations, count)
    return _empty(illustrations, count)
