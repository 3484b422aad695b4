"""Atomic writes end with the mode a plainly created file would have (0666 & ~umask), not mkstemp's 0600."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from rasc.atomic import write_json
from rasc.data.stats import write_csv
from rasc.imageio import save_npz, write_image
from rasc.training.checkpoint import atomic_torch_save

WRITERS = {
    "png": lambda path: write_image(path, np.zeros((4, 4, 3), np.uint8)),
    "npz": lambda path: save_npz(path, a=np.zeros(3)),
    "pt": lambda path: atomic_torch_save({"w": torch.zeros(2)}, path),
    "csv": lambda path: write_csv(pd.DataFrame({"a": [1]}), path),
    "json": lambda path: write_json(path, {"a": 1}),
}


@pytest.fixture
def umask():
    """Set a umask for the test and restore the previous one."""
    previous = os.umask(0o022)
    os.umask(previous)

    def set_umask(value: int) -> None:
        os.umask(value)

    yield set_umask
    os.umask(previous)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_new_files_get_the_umask_mode(tmp_path, umask, mask, kind):
    umask(mask)
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    path = tmp_path / f"out.{kind}"
    WRITERS[kind](path)
    assert _mode(path) == 0o666 & ~mask == _mode(plain)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["plain", path.name])  # no temporary left


def test_replacing_a_file_keeps_its_mode(tmp_path, umask):
    umask(0o022)
    path = tmp_path / "shared.png"
    WRITERS["png"](path)
    os.chmod(path, 0o664)
    WRITERS["png"](path)
    assert _mode(path) == 0o664



def test_writers_that_choose_the_format_by_suffix_write_the_target(tmp_path):
    """np.savez adds .npz and matplotlib picks the format from the name: the temporary keeps the target's suffix."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rasc.atomic import atomic_path

    with atomic_path(tmp_path / "arrays.npz") as temporary:
        np.savez(temporary, a=np.arange(3))
    assert np.load(tmp_path / "arrays.npz")["a"].tolist() == [0, 1, 2]
    figure = plt.figure()
    with atomic_path(tmp_path / "figure.png") as temporary:
        figure.savefig(temporary)
    plt.close(figure)
    assert (tmp_path / "figure.png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arrays.npz", "figure.png"]


def test_write_json_writes_readable_indented_json_and_keeps_the_old_file_on_error(tmp_path):
    path = tmp_path / "metrics.json"
    write_json(path, {"colour_error": 1.5, "where": Path("a/b")})
    assert json.loads(path.read_text()) == {"colour_error": 1.5, "where": "a/b"}
    assert path.read_text().endswith("}\n") and "\n  " in path.read_text()
    circular: dict = {}
    circular["self"] = circular
    with pytest.raises(ValueError, match="Circular"):
        write_json(path, circular)
    assert json.loads(path.read_text())["colour_error"] == 1.5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]
