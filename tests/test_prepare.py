"""Test set R's import: a folder of real sketches of any size and mode; unreadable and blank files are named."""

from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest

from rasc.data.prepare import (
    TEST_SETS,
    drawn_from_test_split,
    illustration_settings,
    load_npz,
    prepare_real_sketches,
    real_sketch_files,
)
from rasc.data.sketch import ink_square, line_art_to_size
from rasc.data.synth import SynthConfig, synthesize
from rasc.imageio import ImageReadError


def real_config(folder, on_unreadable="error", size=32):
    return {"size": size, "folder": {"sketches": str(folder), "on_unreadable": on_unreadable}}


@pytest.fixture
def lines():
    """Clean line art of two procedural characters, (2, 48, 48) uint8 with 255 = paper."""
    return synthesize(2, seed=7, cfg=SynthConfig(size=48))["lines_clean"]


@pytest.fixture
def drawings(tmp_path, lines):
    """Three line drawings: grey PNG, RGB JPEG (not square), RGBA PNG (black ink on a transparent layer)."""
    folder = tmp_path / "sketches"
    folder.mkdir()
    cv2.imwrite(str(folder / "a_grey.png"), lines[0])
    cv2.imwrite(str(folder / "b_wide.jpg"), cv2.cvtColor(cv2.resize(lines[1], (90, 60)), cv2.COLOR_GRAY2BGR))
    ink = np.dstack([np.zeros((48, 48, 3), np.uint8), 255 - lines[1]])
    cv2.imwrite(str(folder / "c_layer.png"), ink)
    return folder


def test_real_sketches_of_any_mode_and_size_come_at_the_working_size(drawings, lines):
    arrays = prepare_real_sketches(real_config(drawings))
    assert arrays["sketch"].shape == (3, 32, 32) and arrays["sketch"].dtype == np.uint8
    assert list(arrays["names"]) == ["a_grey.png", "b_wide.jpg", "c_layer.png"]
    np.testing.assert_array_equal(arrays["sketch"][0], as_colorize_sees(lines[0]))
    np.testing.assert_array_equal(arrays["sketch"][2], as_colorize_sees(lines[1]))  # ink on white paper
    assert arrays["sketch"][1].min() < 128 and arrays["sketch"][1].max() > 240


def as_colorize_sees(drawing: np.ndarray, size: int = 32) -> np.ndarray:
    """``drawing`` cropped to the square around its ink and brought to ``size`` as `rasc colorize` does."""
    return line_art_to_size(drawing[ink_square(drawing, min_side=size)], size)


def test_a_real_sketch_on_a_page_with_margins_reads_as_the_sketch_alone(tmp_path, lines):
    folder = tmp_path / "paged"
    folder.mkdir()
    cv2.imwrite(str(folder / "alone.png"), lines[0])
    cv2.imwrite(str(folder / "page.png"), np.pad(lines[0], ((30, 10), (5, 45)), constant_values=255))
    alone, page = prepare_real_sketches(real_config(folder))["sketch"]
    np.testing.assert_array_equal(page, alone)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.png", None, "not a readable image"),
        ("blank.png", np.full((40, 50), 255, np.uint8), "blank sketch"),
        ("faint.png", np.full((40, 50), 240, np.uint8), "blank sketch"),
    ],
)
def test_unusable_file_stops_naming_it_or_is_skipped(drawings, caplog, name, content, message):
    if content is None:
        (drawings / name).write_text("not an image")
    else:
        cv2.imwrite(str(drawings / name), content)
    with pytest.raises(ImageReadError, match=f"{name}.*{message}|{message}.*{name}"):
        prepare_real_sketches(real_config(drawings))
    with caplog.at_level(logging.WARNING):
        arrays = prepare_real_sketches(real_config(drawings, on_unreadable="skip"))
    assert name not in arrays["names"] and len(arrays["sketch"]) == 3
    assert name in caplog.text


def test_a_single_usable_sketch_is_not_a_test_set(drawings):
    for path in drawings.iterdir():
        if path.name != "a_grey.png":
            path.unlink()
    with pytest.raises(ImageReadError, match="at least 2"):
        prepare_real_sketches(real_config(drawings))


def test_missing_or_empty_folder_names_the_key(tmp_path):
    with pytest.raises(ImageReadError, match="data.folder.sketches: .*missing: not a folder"):
        real_sketch_files(real_config(tmp_path / "missing"))
    with pytest.raises(ImageReadError, match="data.folder.sketches: .*no files"):
        real_sketch_files(real_config(tmp_path))


def test_only_r_lacks_paired_illustrations():
    assert [name for name in TEST_SETS if not drawn_from_test_split(name)] == ["R"]


def test_a_folder_of_real_sketches_leaves_the_illustration_settings_alone():
    """Adding test set R to a finished run must not change the params of the data jobs (Snakemake would retrain)."""
    data = {"source": "folder", "size": 32, "seed": 0,
            "folder": {"illustrations": "art", "sketches": None, "test_fraction": 0.1, "on_unreadable": "error"}}
    with_real = {**data, "folder": {**data["folder"], "sketches": "my_sketches"}}
    assert illustration_settings(with_real) == illustration_settings(data)
    assert illustration_settings(with_real)["folder"] == {"illustrations": "art", "test_fraction": 0.1,
                                                          "on_unreadable": "error"}
    assert with_real["folder"]["sketches"] == "my_sketches"  # the config itself is left as it was
    changed = {**data, "folder": {**data["folder"], "illustrations": "other_art"}}
    assert illustration_settings(changed) != illustration_settings(data)


@pytest.mark.parametrize("damage", ["truncated", "empty", "text"])
def test_a_damaged_intermediate_npz_is_named_with_what_to_do(tmp_path, damage):
    path = tmp_path / "test_xdog.npz"
    np.savez(path, labels=np.arange(50_000))
    whole = path.read_bytes()
    path.write_bytes({"truncated": whole[:1000], "empty": b"", "text": b"a, b\n1, 2\n"}[damage])
    with pytest.raises(ValueError, match=r"test_xdog\.npz: not a readable \.npz archive .*delete it and rerun"):
        load_npz(path)
