"""Reference rows (rasc.references) and how the tables carry them (rasc.tables)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rasc.references import constant_colouring, nearest_indices, reference_colouring
from rasc.tables import collect_metrics, summarise


def test_constant_colouring_is_the_training_mean_colour_everywhere():
    train = np.zeros((2, 4, 4, 3), np.uint8)
    train[0] = (200, 100, 0)
    train[1] = (100, 50, 20)
    flat = constant_colouring(train, 3, (5, 6))
    assert flat.shape == (3, 5, 6, 3)
    assert (flat == np.array([150, 75, 10], np.uint8)).all()


def test_nearest_finds_the_training_sketch_a_test_sketch_was_copied_from():
    rng = np.random.default_rng(0)
    train_sketches = np.where(rng.random((10, 16, 16)) < 0.2, 0, 255).astype(np.uint8)
    train_colors = rng.integers(0, 256, (10, 16, 16, 3), dtype=np.uint8)
    picked = np.array([7, 2, 2, 9])
    noisy = train_sketches[picked].copy()
    noisy[:, 0, :] = 0  # a stroke the training sketch lacks: still nearest to its origin
    np.testing.assert_array_equal(nearest_indices(train_sketches, noisy), picked)
    np.testing.assert_array_equal(reference_colouring("nearest", train_colors, train_sketches, noisy),
                                  train_colors[picked])
    with pytest.raises(ValueError, match="unknown reference"):
        reference_colouring("median", train_colors, train_sketches, noisy)


def _write(tmp_path, name, record):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(record))
    return path


def test_tables_carry_oracle_and_reference_rows_with_the_ratio_to_the_flat_colour(tmp_path):
    base = {"seed": 0, "test_set": "A", "fid": 50.0, "fid_floor": 40.0, "fid_backbone": "b", "bleeding": 5.0,
            "inconsistency": 4.0, "diversity": 3.0, "images": 10}
    paths = [
        _write(tmp_path, "full", {**base, "experiment": "full", "colour_error": 20.0,
                                  "oracle": {**base, "colour_error": 10.0, "diversity": None}}),
        _write(tmp_path, "pix2pix", {**base, "experiment": "pix2pix", "colour_error": 30.0}),
        _write(tmp_path, "nearest", {**base, "experiment": "reference:nearest", "colour_error": 45.0,
                                     "diversity": None}),
        _write(tmp_path, "constant", {**base, "experiment": "reference:constant", "colour_error": 40.0,
                                      "diversity": None, "bleeding": 0.0}),
    ]
    table = summarise(collect_metrics(paths), ["full", "pix2pix"])
    assert list(table["method"]) == ["full", "full:oracle", "pix2pix", "reference:constant", "reference:nearest"]
    ratio = dict(zip(table["method"], table["colour_error_vs_constant"]))
    assert ratio == pytest.approx({"full": 0.5, "full:oracle": 0.25, "pix2pix": 0.75, "reference:constant": 1.0,
                                   "reference:nearest": 1.125})
    assert pd.isna(table.loc[table["method"] == "full:oracle", "diversity_mean"]).all()
