"""Shared fixtures: every test tracks into its own temporary SQLite database and runs on one CPU thread."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parent.parent

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
