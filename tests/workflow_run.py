"""Helpers of the end-to-end tests: run Snakemake on a copy of the tiny test config (.test/)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Everything the tiny DAG makes: tables 1–4, the claims, and every figure.
TINY_TARGETS = ("results/table1.csv", "results/table2.csv", "results/table3.csv", "results/table4.csv",
                "results/claims.csv", "results/figures/multicolor.png", "results/figures/grad_cosine.png",
                "results/regions/quality.csv", "results/figures/data_samples.png", "results/figures/qualitative_A.png",
                "results/figures/region_sources_colorized.png", "results/figures/patch_sizes_colorized.png",
                "results/figures/learning_curves.png", "results/figures/learning_curves_claims.png")


def snakemake(*args: str, cwd: Path = REPO, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["snakemake", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def copy_test_folder(base: Path) -> Path:
    """A fresh copy of .test/ (its config only) as ``base/run``."""
    workdir = base / "run"
    shutil.copytree(REPO / ".test", workdir, ignore=shutil.ignore_patterns("results", "logs", ".snakemake", "mlflow.db"))
    return workdir


def run_in(workdir: Path, *args: str, timeout: int = 1500) -> subprocess.CompletedProcess:
    """Snakemake with the repository's Snakefile in ``workdir``, on 2 cores."""
    return snakemake("-s", str(REPO / "Snakefile"), "--directory", str(workdir), "--cores", "2", *args, cwd=REPO,
                     timeout=timeout)
