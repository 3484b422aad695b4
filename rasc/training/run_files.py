"""The JSON-lines files a training writes beside its checkpoints (its JSON files: `rasc.atomic.write_json`)."""

from __future__ import annotations

import contextlib
import errno
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rasc.atomic import atomic_path

STATS = "stats.jsonl"  # one line per logged step (losses, timings)
GRAD_COSINE = "grad_cosine.jsonl"  # gradient-cosine histograms of the region correlation (paper §IV-G)
CURVES = "curves.jsonl"  # one line per scored snapshot: the learning curves (rasc.validation)
LOCK = ".lock"  # held by the one process that trains into a run folder (exclusive_run_folder)


@contextlib.contextmanager
def exclusive_run_folder(out_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on a training's run folder for the block (``flock`` on ``out_dir/.lock``).

    A second trainer on the same folder (a job orphaned by a killed Snakemake, a rerun after ``--unlock``) is
    refused with a :class:`BlockingIOError` naming the folder instead of interleaving its snapshots and JSON lines
    with the first's. The operating system releases the lock when its process dies, even by SIGKILL, so a killed
    training never blocks its resumption. Only rank 0 of a ``torchrun`` job locks (the others write nothing here);
    without ``fcntl`` (Windows) there is no lock.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on the project's platforms
        yield
        return
    if int(os.environ.get("RANK", "0")) != 0:
        yield
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / LOCK, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BlockingIOError(errno.EWOULDBLOCK, "another process is training into this run folder (it holds "
                                  f"{LOCK}); wait for it to end or stop it, then rerun", str(out_dir)) from None
        yield  # closing the file releases the lock


def plain_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-normal copy (tuples → lists, paths → strings): safe for weights-only checkpoints and comparable."""
    return json.loads(json.dumps(dict(data), default=str))


def append_jsonl(path: Path, rows: list[Mapping[str, Any]]) -> None:
    """Append one JSON line per row (a line cut short by a kill is dropped by :func:`truncate_jsonl` on resume)."""
    with open(path, "a") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a JSON-lines file written by :func:`append_jsonl`; none when the run did not write it."""
    path = Path(path)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def truncate_jsonl(path: Path, last_step: int) -> None:
    """Drop lines logged after ``last_step`` by a run that died after its last snapshot (they are redone)."""
    if not path.is_file():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            if json.loads(line)["step"] <= last_step:
                kept.append(line)
        except (ValueError, KeyError, TypeError):  # a line cut short by the kill
            continue
    with atomic_path(path) as temporary:
        temporary.write_text("".join(line + "\n" for line in kept))
