"""MLflow tracking facade: one module through which every rule logs (DESIGN §7).

The tracking URI comes from ``MLFLOW_TRACKING_URI``; the default is ``sqlite:///mlflow.db`` in the working
directory, so a bare ``mlflow ui`` there shows the runs. Parallel Snakemake jobs share that SQLite file: the
database is created once before jobs fan out (:func:`init_tracking`), and every call retries on
"database is locked". Like Lightning's MLflow logger, this uses an explicit :class:`mlflow.MlflowClient`
(the fluent API is not thread-safe), flattens params and sends them in batches of 100.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
PARAM_VALUE_LIMIT = 6000  # MLflow's limit on a param value's length
BATCH_SIZE = 100

T = TypeVar("T")
log = logging.getLogger(__name__)


def tracking_uri() -> str:
    """The tracking URI in force: ``MLFLOW_TRACKING_URI`` or the local SQLite default."""
    return os.environ.get("MLFLOW_TRACKING_URI", DEFAULT_TRACKING_URI)


def tracking_enabled() -> bool:
    """Tracking is on unless ``RASC_TRACKING=off``."""
    return os.environ.get("RASC_TRACKING", "on").lower() not in {"0", "off", "false", "no"}


def _retry(call: Callable[[], T], attempts: int = 12) -> T:
    """Run ``call``, retrying with jittered back-off while SQLite reports a lock or a migration race."""
    for attempt in range(attempts):
        try:
            return call()
        except Exception as error:  # noqa: BLE001 - MLflow wraps SQLAlchemy errors in several types
            message = str(error).lower()
            transient = "locked" in message or "busy" in message or "already exists" in message
            if not transient or attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1) + random.random() * 0.3)
    raise AssertionError("unreachable")


def flatten(nested: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Flatten a nested mapping into ``{"a.b.c": "value"}`` with values as (truncated) strings."""
    flat: dict[str, str] = {}
    for key, value in nested.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            flat.update(flatten(value, name))
        else:
            text = json.dumps(value) if isinstance(value, (list, tuple)) else str(value)
            flat[name] = text[:PARAM_VALUE_LIMIT]
    return flat


def config_hash(config: Mapping[str, Any]) -> str:
    """Stable SHA-256 of a config mapping (sorted JSON), for the ``config.sha256`` tag."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()


def git_commit() -> str:
    """The current git commit of the working directory, or ``"unknown"`` outside a repository."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _sqlite_file(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (relative or absolute), None for other stores and in-memory SQLite."""
    if not uri.startswith("sqlite:///"):
        return None
    path = uri.removeprefix("sqlite:///").split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def _client() -> Any:
    """An :class:`mlflow.MlflowClient` whose store exists and is migrated.

    MLflow creates and migrates a new SQLite database on first use; N processes doing that at once race (one
    crashes with "duplicate column name", or "table already exists"). A file lock beside the database
    (``mlflow.db.lock``) lets one process create it while the others wait, then they find it ready.
    """
    from filelock import FileLock
    from mlflow import MlflowClient

    uri = tracking_uri()
    database = _sqlite_file(uri)
    if database is None:
        return MlflowClient(uri)
    database.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{database}.lock", timeout=600):
        client = MlflowClient(uri)  # creates and migrates a new store
        _retry(lambda: client.search_experiments(max_results=1))
    return client


def init_tracking(experiment: str) -> str:
    """Create the tracking database and the experiment once, before parallel jobs start; returns its id."""
    if not tracking_enabled():
        return ""
    return _get_or_create_experiment(_client(), experiment)


def _get_or_create_experiment(client: Any, name: str) -> str:
    def get_or_create() -> str:
        found = client.get_experiment_by_name(name)
        return found.experiment_id if found is not None else client.create_experiment(name)

    return _retry(get_or_create)


RUN_FOLDER_TAG = "rasc.run_folder"  # a training run's output folder (resolved), so its stale runs can be found


def end_stale_runs(experiment: str, run_folder: str | Path, keep: str | None = None) -> list[str]:
    """Mark KILLED the runs of ``experiment`` still RUNNING for ``run_folder`` (other than ``keep``) → their ids.

    Call it only while holding the folder's lock (`rasc.training.run_files.exclusive_run_folder`): then no live
    process trains there, and a RUNNING run of it is one whose process was killed before it could end the run
    (SIGKILL, a node lost) and before its first snapshot named it for resumption.
    """
    if not tracking_enabled():
        return []
    client = _client()
    found = _retry(lambda: client.get_experiment_by_name(experiment))
    if found is None:
        return []
    folder = str(Path(run_folder).resolve()).replace("'", "\\'")
    runs = _retry(lambda: client.search_runs(
        [found.experiment_id], filter_string=f"tags.`{RUN_FOLDER_TAG}` = '{folder}' and attributes.status = 'RUNNING'"))
    stale = [run.info.run_id for run in runs if run.info.run_id != keep]
    for run_id in stale:
        _retry(lambda run_id=run_id: client.set_terminated(run_id, "KILLED"))
    return stale


class NullTracker:
    """A tracker that records nothing: for non-zero ranks, disabled tracking and tests."""

    run_id: str | None = None

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record nothing."""

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        """Record nothing."""

    def log_image(self, image: np.ndarray, key: str, step: int) -> None:
        """Record nothing."""

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        """Record nothing."""

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Record nothing."""

    def finish(self, status: str = "FINISHED") -> None:
        """Record nothing."""

    def __enter__(self) -> NullTracker:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.finish("FAILED" if exc_type else "FINISHED")


class Tracker(NullTracker):
    """One MLflow run, logged explicitly through an :class:`mlflow.MlflowClient`.

    A resumed run is touched only once something is logged to it: until then it keeps its status, so a resume that
    is refused (a snapshot of another architecture, a missing device) leaves a FINISHED run FINISHED. On a resumed
    run, params already logged are not logged again; a changed value (e.g. ``train.steps`` raised to continue a
    finished training) cannot be changed in MLflow, so it is recorded as the tag ``resumed_with.<key>``.
    """

    def __init__(self, client: Any, run_id: str, resumed_status: str | None = None) -> None:
        self.client = client
        self.run_id = run_id
        self._finished = False
        self._resumed_status = resumed_status  # status the resumed run had; None for a new run
        self._active = resumed_status is None
        self._pending_params: dict[str, str] = {}

    @classmethod
    def start(
        cls,
        experiment: str,
        run_name: str,
        tags: Mapping[str, Any] | None = None,
        parent_run_id: str | None = None,
        resume_run_id: str | None = None,
    ) -> NullTracker:
        """Start (or resume) a run; returns a :class:`NullTracker` when tracking is disabled."""
        if not tracking_enabled():
            return NullTracker()
        client = _client()
        if resume_run_id:
            from mlflow.exceptions import MlflowException

            try:
                status = _retry(lambda: client.get_run(resume_run_id)).info.status
                return cls(client, resume_run_id, resumed_status=status)
            except MlflowException as error:  # e.g. another tracking store than the snapshot's
                log.warning("run %s to resume is not in %s (%s): starting a new run", resume_run_id, tracking_uri(),
                            str(error).splitlines()[0])
        experiment_id = _get_or_create_experiment(client, experiment)
        all_tags = {"mlflow.runName": run_name, "git.commit": git_commit(), **(tags or {})}
        if parent_run_id:
            all_tags["mlflow.parentRunId"] = parent_run_id
        run = _retry(
            lambda: client.create_run(
                experiment_id, run_name=run_name, tags={k: str(v) for k, v in all_tags.items()}
            )
        )
        return cls(client, run.info.run_id)

    def _activate(self) -> None:
        """Mark a resumed run RUNNING at its first write, then send the params it was given before."""
        if self._active:
            return
        self._active = True
        _retry(lambda: self.client.update_run(self.run_id, status="RUNNING"))
        pending, self._pending_params = self._pending_params, {}
        self._log_flat_params(pending)

    def _log_flat_params(self, flat: Mapping[str, str]) -> None:
        from mlflow.entities import Param

        if self._resumed_status is not None:
            logged = _retry(lambda: self.client.get_run(self.run_id)).data.params
            changed = {key: value for key, value in flat.items() if key in logged and logged[key] != value}
            if changed:
                self.set_tags({f"resumed_with.{key}": value for key, value in changed.items()})
            flat = {key: value for key, value in flat.items() if key not in logged}
        items = [Param(key, value) for key, value in flat.items()]
        for start in range(0, len(items), BATCH_SIZE):
            batch = items[start : start + BATCH_SIZE]
            _retry(lambda batch=batch: self.client.log_batch(self.run_id, params=batch))

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log a nested mapping as flat params, in batches of 100 (held back until a resumed run is written to)."""
        if not self._active:
            self._pending_params.update(flatten(params))
            return
        self._log_flat_params(flatten(params))

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        """Log finite scalar metrics at ``step``."""
        from mlflow.entities import Metric

        self._activate()
        now = int(time.time() * 1000)
        items = [
            Metric(key, float(value), now, step)
            for key, value in metrics.items()
            if value is not None and np.isfinite(float(value))
        ]
        for start in range(0, len(items), BATCH_SIZE):
            batch = items[start : start + BATCH_SIZE]
            _retry(lambda batch=batch: self.client.log_batch(self.run_id, metrics=batch))

    def log_image(self, image: np.ndarray, key: str, step: int) -> None:
        """Log an RGB uint8 image (H, W, 3) as a per-step image series under ``key``."""
        self._activate()
        _retry(lambda: self.client.log_image(self.run_id, image, key=key, step=step))

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        """Copy a file into the run's artifacts."""
        self._activate()
        _retry(lambda: self.client.log_artifact(self.run_id, str(path), artifact_path))

    def log_dict(self, data: Mapping[str, Any], filename: str) -> None:
        """Store a mapping as a JSON artifact named ``filename``."""
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / filename
            path.write_text(json.dumps(data, indent=2, default=str))
            self.log_artifact(path)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set tags on the run."""
        self._activate()
        for key, value in tags.items():
            _retry(lambda key=key, value=value: self.client.set_tag(self.run_id, key, str(value)))

    def finish(self, status: str = "FINISHED") -> None:
        """End the run with ``FINISHED``, ``FAILED`` or ``KILLED`` (idempotent).

        A resumed run that was never written to (its resume was refused) keeps a FINISHED status; any other status
        it had (RUNNING after a crash, KILLED, FAILED) becomes ``status``.
        """
        if self._finished:
            return
        self._finished = True
        if not self._active and self._resumed_status == "FINISHED":
            return
        _retry(lambda: self.client.set_terminated(self.run_id, status=status))
