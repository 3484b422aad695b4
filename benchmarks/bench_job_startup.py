"""What every Snakemake job of the workflow pays before it works: a new Python process and its imports.

    python benchmarks/bench_job_startup.py [--repeat 5]

Each workflow job (`script:` rules) is a fresh interpreter, so the libraries it needs are imported once per job.
Each stage below runs in its own fresh process (`python -c`), adding one thing to the one before; the table gives
the fastest wall seconds of each stage over ``--repeat`` runs (other load only adds to it), its median, and what
the fastest adds to the stage before. The MLflow store is a SQLite
file made beforehand in a temporary folder, as the workflow's `mlflow.db` is after its first job. A training job
needs the interpreter, torch, torch._dynamo (imported by torch's first optimizer) and MLflow with its store; an
evaluation job torchvision and pytorch-fid's Inception as well.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_train_step import cpu_name

# (label, Python code run in a fresh process); each stage's code includes the stage before it.
STORE = "from mlflow import MlflowClient; MlflowClient({uri!r}).search_experiments()"
STAGES = (
    ("interpreter", "pass"),
    ("+ torch", "import torch"),
    ("+ torch._dynamo (first optimizer)", "import torch, torch._dynamo"),
    ("+ torchvision, pytorch-fid (evaluation)", "import torch, torch._dynamo, torchvision, pytorch_fid.inception"),
    ("+ mlflow", "import torch, torch._dynamo, torchvision, pytorch_fid.inception, mlflow"),
    ("+ its SQLite store opened", "import torch, torch._dynamo, torchvision, pytorch_fid.inception; " + STORE),
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per stage")
    return parser.parse_args()


def wall_seconds(code: str) -> float:
    """Wall seconds of one fresh interpreter running ``code``; raises if it fails."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    args = parse_args()
    if args.repeat < 1:
        sys.exit("--repeat must be at least 1")
    print(cpu_name())
    with tempfile.TemporaryDirectory() as folder:
        uri = f"sqlite:///{Path(folder) / 'mlflow.db'}"
        first = wall_seconds(STORE.format(uri=uri))  # creates and migrates the store, as a workflow's first job does
        print(f"creating the MLflow store (once per workflow folder): {first:.2f} s")
        print(f"{'stage':42s} {'fastest s':>9s} {'median s':>9s} {'adds s':>7s}")
        previous = 0.0
        for label, code in STAGES:
            times = [wall_seconds(code.format(uri=uri)) for _ in range(args.repeat)]
            print(f"{label:42s} {min(times):9.2f} {statistics.median(times):9.2f} {min(times) - previous:7.2f}")
            previous = min(times)


if __name__ == "__main__":
    main()
