"""Shared fixtures: every test tracks into its own temporary SQLite database and runs on one CPU thread; the tiny
end-to-end run of the DAG is made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from workflow_run import REPO, TINY_TARGETS, copy_test_folder, run_in

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _isolated_tracking(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point MLflow at a fresh SQLite file so that tests never touch the user's ./mlflow.db."""
    folder = tmp_path_factory.mktemp("mlflow")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{folder / 'mlflow.db'}")
    monkeypatch.setenv("MPLBACKEND", "Agg")


@pytest.fixture
def repo() -> Path:
    """The repository root."""
    return REPO


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole DAG (tables 1–4, claims, figures) on the tiny test config, in a copy of .test/.

    Tests must not change it; a test that builds on it works on a copy (tests/test_workflow_real.py).
    """
    workdir = copy_test_folder(tmp_path_factory.mktemp("tiny"))
    result = run_in(workdir, *TINY_TARGETS)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    return workdir


def import_benchmark(name: str):
    """Yield the module benchmarks/<name>.py (benchmarks import each other by plain name), then unlist its folder."""
    import importlib
    import sys

    folder = str(REPO / "benchmarks")
    sys.path.insert(0, folder)
    try:
        yield importlib.import_module(name)
    finally:
        sys.path.remove(folder)
