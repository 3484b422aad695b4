"""MLflow facade: runs, child runs, tags, params and metrics land in the SQLite database."""

from __future__ import annotations

import numpy as np
from mlflow import MlflowClient

from rasc.tracking import (RUN_FOLDER_TAG, NullTracker, Tracker, end_stale_runs, flatten, init_tracking,
                           tracking_uri)


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


def _start_run_when_all_are_ready(folder: str, index: int, processes: int) -> None:
    """One of the racing processes: wait until every process is ready, then start, log and finish a run."""
    import pathlib
    import time

    (pathlib.Path(folder) / f"ready{index}").touch()
    while len(list(pathlib.Path(folder).glob("ready*"))) < processes:
        time.sleep(0.005)
    tracker = Tracker.start("rasc-race", f"run-{index}")
    tracker.log_params({"process": index})
    tracker.finish()


def test_concurrent_first_use_of_a_new_store_loses_no_run(tmp_path, monkeypatch):
    """N processes start runs at the same moment on a store that does not exist yet (schema-migration race)."""
    import multiprocessing

    database = tmp_path / "new" / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{database}")
    context = multiprocessing.get_context("fork")  # mlflow is imported already: the processes start at once
    processes = [context.Process(target=_start_run_when_all_are_ready, args=(str(tmp_path), i, 3)) for i in range(3)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [process.exitcode for process in processes] == [0, 0, 0]
    client = MlflowClient(f"sqlite:///{database}")
    runs = client.search_runs([client.get_experiment_by_name("rasc-race").experiment_id])
    assert sorted(r.data.params["process"] for r in runs) == ["0", "1", "2"]
    assert {r.info.status for r in runs} == {"FINISHED"}


def test_a_refused_resume_leaves_a_finished_run_finished():
    first = Tracker.start("rasc-test", "train")
    first.log_params({"train": {"steps": 2}})
    first.finish()
    refused = Tracker.start("rasc-test", "train", resume_run_id=first.run_id)
    refused.log_params({"train": {"steps": 4}})  # held back: nothing is written before the resume is accepted
    client = MlflowClient(tracking_uri())
    assert client.get_run(first.run_id).info.status == "FINISHED"
    refused.finish("FAILED")
    assert client.get_run(first.run_id).info.status == "FINISHED"
    assert "resumed_with.train.steps" not in client.get_run(first.run_id).data.tags


def test_a_resumed_run_with_more_steps_keeps_its_params_and_ends_finished():
    first = Tracker.start("rasc-test", "train")
    first.log_params({"train": {"steps": 2, "lr": 0.1}})
    first.finish("KILLED")
    resumed = Tracker.start("rasc-test", "train", resume_run_id=first.run_id)
    resumed.log_params({"train": {"steps": 4, "lr": 0.1}, "data": {"samples": 6}})  # no "Changing param values"
    resumed.log_metrics({"loss/G": 1.0}, step=3)
    client = MlflowClient(tracking_uri())
    assert client.get_run(first.run_id).info.status == "RUNNING"
    resumed.finish()
    run = client.get_run(first.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["train.steps"] == "2" and run.data.params["data.samples"] == "6"
    assert run.data.tags["resumed_with.train.steps"] == "4" and "resumed_with.train.lr" not in run.data.tags


def test_runs_left_running_by_killed_trainings_of_one_folder_are_ended_killed(tmp_path):
    """A training killed (SIGKILL) before its first snapshot leaves its run RUNNING; the next training of that folder,
    holding its lock, ends it KILLED, and leaves the run it resumes and other folders' runs alone."""
    init_tracking("rasc-test")
    folder, other = tmp_path / "full" / "seed0", tmp_path / "full" / "seed1"

    def running(run_folder):
        run = Tracker.start("rasc-test", "train", tags={RUN_FOLDER_TAG: run_folder.resolve()})
        run.log_metrics({"loss/G": 1.0}, step=1)  # a run is RUNNING once it has written
        return run.run_id

    killed, resumed, elsewhere = running(folder), running(folder), running(other)
    assert end_stale_runs("rasc-test", folder, keep=resumed) == [killed]
    client = MlflowClient(tracking_uri())
    assert [client.get_run(run).info.status for run in (killed, resumed, elsewhere)] == ["KILLED", "RUNNING",
                                                                                        "RUNNING"]
