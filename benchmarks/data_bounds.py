"""Bounds of a data setting: how well can a colouring do that knows only the part, or the part and the character
archetype (procedural data), or every known colouring of the line drawing (OpenMoji)?

Colours every ground-truth region of test set A with the training split's mean colour of its part class (skin,
hair, iris, ...), or of its part class within its archetype, and scores both with the workflow's own metric code
(`rasc.evaluate.region_metrics`) as a fraction of `reference:constant`. A model that colours from the sketch alone
can at best recognise the part and the archetype (the rest is the random remainder that w is for), so the second
figure is about the floor of the predicted-w colouring, and the first what it gets without the archetype. Also
prints regions per image and pixels per region (the paper's maps: about 395 px per region).

Where the data know which test images share one line drawing (OpenMoji's skin-tone and colour variants), the
``variant_mean`` colouring gives each image the mean colour (in CIELAB) of all its drawing's variants at every
pixel: the one colouring per line art that is right up to what the line art cannot say. Its error is how far the
ambiguity between variants alone keeps any colouring predicted from the sketch from the ground truth.

    python benchmarks/data_bounds.py
    python benchmarks/data_bounds.py --synth '{"zoom": 1.0, "detail": 0}'
    python benchmarks/data_bounds.py --config config/openmoji.yaml
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
from recipe_search import build_split

from rasc.config import deep_merge, load_config
from rasc.evaluate import region_metrics
from rasc.references import constant_colouring, mean_colour


def class_means(split: dict[str, np.ndarray], keys: np.ndarray) -> dict[tuple[int, ...], np.ndarray]:
    """Mean RGB (3,) of the pixels of each key; keys (N, H, W, k) integer, one k-tuple per pixel."""
    flat_keys = keys.reshape(-1, keys.shape[-1])  # (N·H·W, k)
    colours = split["color"].reshape(-1, 3).astype(np.float64)  # (N·H·W, 3)
    outside_lines = split["lines_clean"].reshape(-1) > 127
    unique, inverse = np.unique(flat_keys[outside_lines], axis=0, return_inverse=True)
    sums = np.zeros((len(unique), 3))
    np.add.at(sums, inverse.ravel(), colours[outside_lines])
    counts = np.bincount(inverse.ravel(), minlength=len(unique))[:, None]
    return {tuple(key): total / count for key, total, count in zip(unique.tolist(), sums, counts)}


def pixel_keys(split: dict[str, np.ndarray], with_archetype: bool) -> np.ndarray:
    """(N, H, W, k) keys of every pixel: its part class, and its archetype in front when asked."""
    parts = split["parts"].astype(np.int64)[..., None]  # (N, H, W, 1)
    if not with_archetype:
        return parts
    archetype = np.broadcast_to(split["archetype"].astype(np.int64)[:, None, None, None], parts.shape)
    return np.concatenate([archetype, parts], axis=-1)


def class_colouring(train: dict[str, np.ndarray], test: dict[str, np.ndarray], with_archetype: bool) -> np.ndarray:
    """Test images (N, H, W, 3) uint8 with every pixel the training mean colour of its key (fallback: overall)."""
    means = class_means(train, pixel_keys(train, with_archetype))
    fallback = mean_colour(train["color"])
    keys = pixel_keys(test, with_archetype)
    flat = keys.reshape(-1, keys.shape[-1])
    out = np.stack([means.get(tuple(key), fallback) for key in flat.tolist()])
    return np.clip(np.rint(out), 0, 255).astype(np.uint8).reshape(*keys.shape[:3], 3)


def variant_mean_colouring(test: dict[str, np.ndarray]) -> np.ndarray:
    """Test images (N, H, W, 3) uint8, each pixel the CIELAB mean of that pixel over its drawing's variants."""
    colours = test["color"].astype(np.float32) / 255  # (N, H, W, 3)
    lab = np.stack([cv2.cvtColor(image, cv2.COLOR_RGB2LAB) for image in colours])  # (N, H, W, 3)
    out = np.empty_like(lab)
    for drawing in np.unique(test["drawing"]):
        members = test["drawing"] == drawing
        out[members] = lab[members].mean(axis=0)
    rgb = np.stack([cv2.cvtColor(image, cv2.COLOR_LAB2RGB) for image in out])  # (N, H, W, 3) in [0, 1]
    return np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--synth", default="{}", help="JSON overrides of data.synth")
    parser.add_argument("--cache", default="/tmp/rasc-recipe")
    args = parser.parse_args()
    config = load_config(args.config)
    config["data"] = deep_merge(config["data"], {"synth": json.loads(args.synth)})
    train, test = (build_split(config, split, Path(args.cache)) for split in ("train", "test"))
    sketches = test["sketch"]
    colourings = {
        "constant": constant_colouring(train["color"], len(sketches)),
        "part_mean": class_colouring(train, test, with_archetype=False),
    }
    if "archetype" in train:
        colourings["archetype_part_mean"] = class_colouring(train, test, with_archetype=True)
    if "drawing" in test:
        colourings["variant_mean"] = variant_mean_colouring(test)
    errors = {name: region_metrics(images, None, sketches, test)["colour_error"] for name, images in colourings.items()}
    regions = test["regions"].reshape(len(sketches), -1).max(axis=1) + 1  # (N,)
    size = test["regions"].shape[1] * test["regions"].shape[2]
    print(json.dumps({
        "source": config["data"]["source"],
        "synth": json.loads(args.synth),
        "test_images": len(sketches),
        **({"test_drawings": len(np.unique(test["drawing"]))} if "drawing" in test else {}),
        "regions_per_image": round(float(regions.mean()), 1),
        "px_per_region": round(float(size / regions.mean()), 1),
        **{f"{name}_colour_error": round(error, 2) for name, error in errors.items()},
        **{f"{name}_vs_constant": round(error / errors["constant"], 3) for name, error in errors.items()},
    }))


if __name__ == "__main__":
    main()
