"""The JSON-lines files a training writes beside its checkpoints (its JSON files: `rasc.atomic.write_json`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rasc.atomic import atomic_path

STATS = "stats.jsonl"  # one line per logged step (losses, timings)
GRAD_COSINE = "grad_cosine.jsonl"  # gradient-cosine histograms of the region correlation (paper §IV-G)
CURVES = "curves.jsonl"  # one line per scored snapshot: the learning curves (rasc.validation)


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
