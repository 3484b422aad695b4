"""MLflow facade: runs, child runs, tags, params and metrics land in the SQLite database."""

from __future__ import annotations

import numpy as np
from mlflow import MlflowClient

from rasc.tracking import NullTracker, Tracker, flatten, init_tracking, tracking_uri


def test_flatten_nested():
    assert flatten({"a": {"b": 1, "c": [1, 2]}, "d": "x"}) == {"a.b": "1", "a.c": "[1, 2]", "d": "x"}


def test_run_child_and_status():
    init_tracking("rasc-test")
    parent = Tracker.start("rasc-test", "train-full", tags={"rasc.experiment": "full"})
    parent.log_params({"model": {"width": 8}})
    parent.log_metrics({"loss/G": 1.5, "loss/nan": float("nan")}, step=3)
    parent.log_image(np.zeros((8, 8, 3), np.uint8), key="samples", step=3)
    parent.finish()
    child = Tracker.start("rasc-test", "eval-full-A", parent_run_id=parent.run_id)
    child.finish("FAILED")

    client = MlflowClient(tracking_uri())
    run = client.get_run(parent.run_id)
    assert run.data.params["model.width"] == "8"
    assert run.data.metrics == {"loss/G": 1.5}
    assert run.data.tags["rasc.experiment"] == "full"
    assert run.info.status == "FINISHED"
    child_run = client.get_run(child.run_id)
    assert child_run.data.tags["mlflow.parentRunId"] == parent.run_id
    assert child_run.info.status == "FAILED"


def test_disabled_tracking_gives_null(monkeypatch):
    monkeypatch.setenv("RASC_TRACKING", "off")
    assert isinstance(Tracker.start("rasc-test", "x"), NullTracker)
    assert not isinstance(Tracker.start("rasc-test", "x"), Tracker)


def test_context_manager_marks_failure():
    try:
        with Tracker.start("rasc-test", "dies") as tracker:
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert MlflowClient(tracking_uri()).get_run(tracker.run_id).info.status == "FAILED"
