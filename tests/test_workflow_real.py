"""Test set R end to end: a folder of real sketches (no ground truth) added to the finished tiny DAG run, and its bad
inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from workflow_run import copy_test_folder, run_in

from rasc.data.synth import SynthConfig, synthesize

GROUND_TRUTH_METRICS = ("bleeding", "inconsistency", "colour_error", "diversity")
SOURCES = {"full": "trapped_ball", "learned_regions": "learned", "patches_1": "patches_1"}  # table 1 of the run


def write_real_sketches(folder: Path) -> list[str]:
    """Six line drawings made by the project, as a user's files: PNG/JPEG, grey/RGB/RGBA, sizes 40 to 120 px.

    Six is the tiny config's n_test: as many real sketches as test illustrations must still not be paired with them.
    """
    art = synthesize(3, seed=2024, cfg=SynthConfig(size=48))
    clean, rough = art["lines_clean"], art["lines_rough"]  # (3, 48, 48) uint8, 255 = paper
    folder.mkdir(parents=True)
    files = {
        "clean_grey.png": clean[0],
        "rough_rgb.jpg": cv2.cvtColor(rough[0], cv2.COLOR_GRAY2BGR),
        "clean_ink_layer.png": np.dstack([np.zeros((48, 48, 3), np.uint8), 255 - clean[1]]),  # RGBA
        "rough_wide.png": cv2.resize(rough[1], (72, 40)),  # not square: mirror-padded
        "clean_big.jpg": cv2.resize(clean[2], (120, 120), interpolation=cv2.INTER_NEAREST),  # shrunk to 32²
        "rough_blue.png": np.dstack([np.full((48, 48), 255, np.uint8), rough[2], rough[2]]),  # blue lines (BGR)
    }
    for name, image in files.items():
        assert cv2.imwrite(str(folder / name), image), name
    return sorted(files)


REAL_CONFIG = ("data:\n  folder:\n    sketches: my_sketches\n"
               "eval:\n  test_sets: [A, R]\n"
               "tables:\n  table1: [full, learned_regions, patches_1]  # one experiment per region source\n")
REAL_TARGETS = ("results/table1.csv", "results/figures/qualitative_R.png", "results/figures/qualitative_A.png",
                "results/regions/quality.csv")


def add_real_sketches(workdir: Path) -> Path:
    """A folder of real sketches in ``workdir`` and a config override that adds test set R."""
    write_real_sketches(workdir / "my_sketches")
    (workdir / "config" / "real.yaml").write_text(REAL_CONFIG)
    return workdir


def real_run_folder(base: Path) -> Path:
    """A fresh copy of .test/ with real sketches and test set R."""
    return add_real_sketches(copy_test_folder(base))


def run_real(workdir: Path, *targets: str, timeout: int = 1500):
    """Snakemake with the test-set-R override (``--configfile`` goes last: it takes every value after it)."""
    return run_in(workdir, *targets, "--configfile", str(workdir / "config" / "real.yaml"), timeout=timeout)


def scheduled_jobs(output: str) -> dict[str, int]:
    """Snakemake's "Job stats" table: rule name → number of jobs it ran."""
    table = output.split("Job stats:", 1)[1].split("total", 1)[0]
    rows = (line.split() for line in table.splitlines()[3:])
    return {row[0]: int(row[1]) for row in rows if len(row) == 2}


@pytest.fixture(scope="module")
def real_run(tiny_run, tmp_path_factory):
    """Test set R added to a copy of the finished tiny run: table 1, both qualitative grids, the region summary.

    The copy keeps the run's MLflow database, whose artifact root MLflow stored as an absolute path in the tiny run:
    the new evaluations' artifacts land there, beside the tiny run's own.
    """
    workdir = tmp_path_factory.mktemp("real") / "run"
    shutil.copytree(tiny_run, workdir)  # file times kept: Snakemake sees a finished run
    add_real_sketches(workdir)
    result = run_real(workdir, *REAL_TARGETS)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    (workdir / "jobs.json").write_text(json.dumps(scheduled_jobs(result.stdout + result.stderr)))
    return workdir


@pytest.mark.slow
def test_adding_real_sketches_to_a_finished_run_retrains_nothing(real_run):
    """Only R's import, region maps, evaluations and the reports run; the data, the models and A's scores stay."""
    jobs = json.loads((real_run / "jobs.json").read_text())
    assert jobs["import_real_sketches"] == 1 and jobs["evaluate_model"] == len(SOURCES)  # R only
    assert jobs["evaluate_reference"] == 2  # constant and nearest on R
    for rule in ("prepare_illustrations", "make_sketches", "train_region_net", "train_model", "fid_backbone"):
        assert rule not in jobs, rule


@pytest.mark.slow
def test_table1_reports_fid_on_r_and_na_for_the_ground_truth_metrics(real_run):
    table = pd.read_csv(real_run / "results/table1.csv")
    expected = [(m, t) for m in SOURCES for t in "AR"] + [(f"{m}:oracle", "A") for m in SOURCES]  # R: no truth
    expected += [(f"reference:{kind}", t) for kind in ("constant", "nearest") for t in "AR"]
    assert sorted(zip(table["method"], table["test_set"])) == sorted(expected)
    real = table[table["test_set"] == "R"]
    paired = table[(table["test_set"] == "A") & table["method"].isin(list(SOURCES))]  # references: no diversity
    assert np.isfinite(real["fid_mean"]).all() and (real["fid_mean"] > 0).all()
    for metric in GROUND_TRUTH_METRICS:
        assert real[f"{metric}_mean"].isna().all(), metric  # N/A, not 0
        assert paired[f"{metric}_mean"].notna().all(), metric
    floor = json.loads((real_run / "results/eval/fid_floor_real.json").read_text())
    assert floor["images"] == 6 and np.allclose(real["fid_floor"], floor["fid_floor"], rtol=1e-3)  # CSV: 4 digits
    metrics = json.loads((real_run / "results/eval/full/seed0/R/metrics.json").read_text())
    assert metrics["images"] == 6 and all(metrics[m] is None for m in GROUND_TRUTH_METRICS)
    markdown = (real_run / "results/table1.md").read_text()
    assert "R (your real sketches" in markdown
    na_columns = len(GROUND_TRUTH_METRICS) + 4  # + diversity precision and recall, regions and groups measured
    assert [line.count("N/A") for line in markdown.splitlines() if "| R " in line] == [na_columns] * (len(SOURCES) + 2)


@pytest.mark.slow
def test_real_sketches_get_each_experiments_region_maps(real_run):
    sketches = np.load(real_run / "results/data/real/sketch_real.npz")
    assert sketches["sketch"].shape == (6, 32, 32)
    assert list(sketches["names"]) == sorted(p.name for p in (real_run / "my_sketches").iterdir())
    for source in SOURCES.values():
        labels = np.load(real_run / f"results/regions/{source}/real_real.npz")["labels"]
        assert labels.shape == (6, 32, 32), source
    timing = pd.read_csv(real_run / "results/regions/timing.csv")
    assert set(SOURCES.values()) <= set(timing.loc[timing["split"] == "real", "method"])
    assert "real" not in set(pd.read_csv(real_run / "results/regions/quality.csv")["split"])  # nothing to score


@pytest.mark.slow
def test_qualitative_grid_of_r_has_no_ground_truth_row(real_run):
    grid_r = cv2.imread(str(real_run / "results/figures/qualitative_R.png"))
    grid_a = cv2.imread(str(real_run / "results/figures/qualitative_A.png"))
    assert grid_r is not None and grid_a is not None
    assert grid_r.shape[0] < grid_a.shape[0]  # rows: sketch + 3 methods, A adds the ground truth


def test_claims_leave_r_out(tmp_path):
    workdir = real_run_folder(tmp_path)
    result = run_real(workdir, "-n", "results/claims.csv", timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "/A/metrics.json" in result.stdout and "/R/metrics.json" not in result.stdout


@pytest.mark.parametrize("policy", ["error", "skip"])
def test_unusable_real_sketch_stops_the_import_naming_it_or_is_skipped(tmp_path, policy):
    workdir = real_run_folder(tmp_path)
    (workdir / "my_sketches" / "scan_broken.png").write_bytes(b"\x89PNG truncated")
    cv2.imwrite(str(workdir / "my_sketches" / "zz_empty_page.png"), np.full((50, 40), 255, np.uint8))
    override = workdir / "config" / "real.yaml"
    override.write_text(override.read_text().replace("sketches: my_sketches\n",
                                                     f"sketches: my_sketches\n    on_unreadable: {policy}\n"))
    result = run_real(workdir, "results/data/real/sketch_real.npz", timeout=300)
    output = result.stdout + result.stderr
    imported = workdir / "results/data/real/sketch_real.npz"
    if policy == "error":
        assert result.returncode != 0
        assert "scan_broken.png: not a readable image" in output  # the first unusable file in name order
        assert not imported.exists()
    else:
        assert result.returncode == 0, output[-3000:]
        assert len(np.load(imported)["sketch"]) == 6
        log = (workdir / "logs/import_real_sketches/real.log").read_text()
        assert "skipping" in log and "scan_broken.png" in log and "zz_empty_page.png: blank sketch" in log
