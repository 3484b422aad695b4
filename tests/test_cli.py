"""The `rasc` command on users' files: outputs written, bad input gives a clear error and a non-zero exit."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from rasc.checkpoint import save_generator_checkpoint
from rasc.cli import main
from rasc.models import Generator, GeneratorConfig


@pytest.fixture
def line_art(tmp_path):
    """A 40×60 RGBA drawing with blue lines: two boxes on transparent paper."""
    image = np.zeros((40, 60, 4), np.uint8)
    cv2.rectangle(image, (5, 5), (25, 30), (255, 0, 0, 255), 1)
    cv2.rectangle(image, (32, 8), (55, 35), (255, 0, 0, 255), 1)
    path = tmp_path / "drawing.png"
    cv2.imwrite(str(path), image)
    return path


def test_synth_writes_pngs(tmp_path):
    assert main(["synth", "-o", str(tmp_path / "out"), "-n", "2", "--size", "64"]) == 0
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "0000_color.png" in names and "0001_rough.png" in names and "0000_regions.png" in names


def test_sketch_of_a_colour_image(tmp_path):
    image = np.full((50, 80, 3), 230, np.uint8)
    cv2.circle(image, (40, 25), 15, (30, 60, 200), -1)
    cv2.imwrite(str(tmp_path / "art.jpg"), image)
    assert main(["sketch", str(tmp_path / "art.jpg"), "-o", str(tmp_path / "out"), "--size", "64"]) == 0
    sketch = cv2.imread(str(tmp_path / "out" / "art.png"), cv2.IMREAD_UNCHANGED)
    assert sketch.shape == (64, 64) and sketch.min() < 128 and np.median(sketch) == 255


def test_regions_native_and_sized(tmp_path, line_art):
    assert main(["regions", str(line_art), "-o", str(tmp_path / "native"), "--native"]) == 0
    labels = cv2.imread(str(tmp_path / "native" / "drawing.png"), cv2.IMREAD_UNCHANGED)
    assert labels.dtype == np.uint16 and labels.shape == (40, 60)
    assert labels.max() + 1 == 3  # background and two boxes
    assert (tmp_path / "native" / "drawing.preview.png").is_file()
    assert main(["regions", str(line_art), "-o", str(tmp_path / "sized"), "--size", "64"]) == 0
    assert cv2.imread(str(tmp_path / "sized" / "drawing.png"), cv2.IMREAD_UNCHANGED).shape == (64, 64)


def test_regions_all_white_is_one_region(tmp_path):
    cv2.imwrite(str(tmp_path / "white.png"), np.full((32, 32), 255, np.uint8))
    assert main(["regions", str(tmp_path / "white.png"), "-o", str(tmp_path / "out"), "--method", "patches",
                 "--patches", "4"]) == 0
    assert main(["regions", str(tmp_path / "white.png"), "-o", str(tmp_path / "tb")]) == 0
    assert cv2.imread(str(tmp_path / "tb" / "white.png"), cv2.IMREAD_UNCHANGED).max() == 0


def test_non_image_is_named_and_exits_non_zero(tmp_path, capsys):
    bad = tmp_path / "notes.png"
    bad.write_text("hello")
    assert main(["regions", str(bad), "-o", str(tmp_path / "out")]) == 2
    assert "notes.png" in capsys.readouterr().err
    assert not list((tmp_path / "out").iterdir())


def test_colorize_with_a_saved_generator(tmp_path, line_art, capsys):
    cfg = GeneratorConfig(image_size=32, base_channels=4, max_channels=8, num_blocks=2, w_dim=4)
    model = tmp_path / "generator.pt"
    save_generator_checkpoint(model, generator=Generator(cfg), generator_config=cfg,
                              config={"model": {"region_source": "trapped_ball"}}, step=1)
    out = tmp_path / "out"
    assert main(["colorize", str(line_art), "-m", str(model), "-o", str(out)]) == 0
    assert cv2.imread(str(out / "drawing.png")).shape == (32, 32, 3)
    assert main(["colorize", str(line_art), "-m", str(model), "-o", str(out), "--seed", "1", "--samples", "2"]) == 0
    assert (out / "drawing.1.png").is_file()
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    assert main(["colorize", str(line_art), "-m", str(tmp_path / "broken.pt"), "-o", str(out)]) == 2
    assert "broken.pt" in capsys.readouterr().err
