"""The Snakemake workflow: lint, dry run, a broken config, and a tiny end-to-end run on .test/config."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pandas as pd
import pytest
import yaml
from workflow_run import REPO, run_in, snakemake

from rasc.claim_specs import claim_experiments, paper_claims
from rasc.config import load_config


def test_lint_is_clean():
    result = snakemake("--lint")
    assert "Congratulations" in result.stdout + result.stderr, result.stdout + result.stderr


def test_dry_run_lists_the_data_jobs():
    # --forceall: the whole DAG, also in a checkout whose results/ already holds some of it
    result = snakemake("-n", "--forceall", "results/table1.csv")
    assert result.returncode == 0, result.stderr
    for job in ("prepare_illustrations", "make_sketches", "region_maps", "train_model", "evaluate_model", "make_table"):
        assert job in result.stdout, job


def test_broken_config_stops_with_the_key(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("data:\n  size: big\n")
    result = snakemake("-n", "--configfile", str(broken))
    assert result.returncode != 0
    assert "data.size" in result.stdout + result.stderr


def test_run_experiments_selects_what_a_configfile_cannot_delete(tmp_path):
    """A --configfile is deep-merged over config/config.yaml, so it cannot drop an experiment; run_experiments can."""
    dropping = tmp_path / "drop.yaml"
    dropping.write_text("experiments: {full: {}, no_region_maps: {model: {variant: no_region_maps}}}\n")
    merged = snakemake("-n", "results/table2.csv", "--configfile", str(dropping))
    selected = snakemake("-n", "results/table2.csv", "--config", "run_experiments=[full,no_region_maps]")
    assert merged.returncode == 0 and selected.returncode == 0, selected.stderr

    def trainings(result):
        return sorted(set(re.findall(r"train_model/(\w+)_seed\d+\.log", result.stdout)))

    assert trainings(merged) == ["cwr_skeleton", "full", "no_region_formulation", "no_region_maps"]
    assert trainings(selected) == ["full", "no_region_maps"]


def test_an_experiment_s_own_thread_count_reaches_its_training_job(tmp_path):
    override = tmp_path / "threads.yaml"
    override.write_text("experiments: {no_region_maps: {model: {variant: no_region_maps}, train: {threads: 2}}}\n")
    result = snakemake("-n", "--cores", "4", "results/table2.csv", "--configfile", str(override))
    assert result.returncode == 0, result.stderr
    jobs = {found.group(1): found.group(2) for found in re.finditer(
        r"wildcards: experiment=(\w+), seed=0\n\s+priority: \d+\n(?:\s+threads: (\d+)\n)?", result.stdout)}
    assert jobs["no_region_maps"] == "2" and jobs["full"] is None  # Snakemake prints threads above 1 only


def test_the_region_balanced_l1_reads_the_trapped_ball_maps_in_every_training_that_uses_it():
    """The default weights the pixel L1 by trapped-ball regions (train.l1_region_power 0.5): every RASC training
    reads those maps, also the CWR stand-in on learned regions; pix2pix, plain L1 by its own recipe, does not."""
    result = snakemake("-n", "--forceall", "results/table1.csv")
    assert result.returncode == 0, result.stderr
    inputs = {found.group(2): found.group(1) for found in re.finditer(
        r"rule train_model:\n\s+input: ([^\n]+)\n(?:.*\n){0,8}?\s+wildcards: experiment=(\w+), seed=0", result.stdout)}
    assert sorted(inputs) == ["cwr_skeleton", "full", "pix2pix"], result.stdout
    weighting = "results/regions/trapped_ball/train_xdog.npz"  # also the region maps full and pix2pix see
    assert inputs["full"].count(weighting) == 2 and inputs["pix2pix"].count(weighting) == 1
    assert inputs["cwr_skeleton"].count(weighting) == 1 and "results/regions/learned/train_xdog.npz" in inputs["cwr_skeleton"]


@pytest.mark.parametrize("target", ["results/claims.csv", "results/figures/learning_curves_claims.png"])
def test_claims_train_exactly_the_experiments_their_claims_compare(tmp_path, target):
    """The claims target, and the learning curves of its runs, train what some claim compares on every claims seed,
    and no other table row."""
    config = load_config(REPO / "config" / "config.yaml")
    workdir = _workdir_with_config(tmp_path, (REPO / "config" / "config.yaml").read_text())
    result = snakemake("-n", "-s", str(REPO / "Snakefile"), "--directory", str(workdir), target)
    assert result.returncode == 0, result.stderr
    trainings = set(re.findall(r"train_(?:claims_)?model/(\w+_seed\d+)\.log", result.stdout))
    claimed = claim_experiments(paper_claims(config["tables"]))
    assert trainings == {f"{name}_seed{seed}" for name in claimed for seed in config["claims"]["seeds"]}
    assert "patches_64_seed1" not in trainings and "patches_1024_seed2" in trainings


@pytest.mark.parametrize("claims_steps", [None, 1000])
def test_claims_steps_give_the_claims_trainings_of_their_own(tmp_path, claims_steps):
    """With claims.steps the claims train and evaluate under results/claims/ at that length, beside table 1's runs;
    without it they share table 1's trainings (results/train), its first seed included."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["claims"]["steps"] = claims_steps
    workdir = _workdir_with_config(tmp_path, yaml.safe_dump(config))
    result = snakemake("-n", "-s", str(REPO / "Snakefile"), "--directory", str(workdir), "--forceall",
                       "results/claims.csv", "results/table1.csv")
    assert result.returncode == 0, result.stderr
    own = set(re.findall(r"results/claims/train/(\w+)/seed(\d+)/generator\.pt", result.stdout))
    shared = set(re.findall(r"results/train/(\w+)/seed(\d+)/generator\.pt", result.stdout))
    claimed = {(name, str(seed)) for name in claim_experiments(paper_claims(config["tables"]))
               for seed in config["claims"]["seeds"]}
    table1 = {(name, "0") for name in config["tables"]["table1"]}
    if claims_steps is None:
        assert not own and shared == claimed | table1
        assert "results/claims/eval" not in result.stdout
    else:
        assert own == claimed and shared == table1
        assert "evaluate_claims_model" in result.stdout and "results/claims/eval/full/seed2/A/metrics.json" in result.stdout


def _workdir_with_config(tmp_path, text):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(text)
    return tmp_path


def test_a_yaml_error_in_the_config_names_the_file_and_line(tmp_path):
    workdir = _workdir_with_config(tmp_path, (REPO / ".test/config/config.yaml").read_text() + "oops: [unclosed\n")
    result = snakemake("-n", "-s", str(REPO / "Snakefile"), "--directory", str(workdir))
    assert result.returncode != 0
    line = len((REPO / ".test/config/config.yaml").read_text().splitlines()) + 2
    assert f"config/config.yaml:{line}:" in result.stdout + result.stderr, result.stderr[-2000:]


def test_a_key_given_twice_in_an_overlay_stops_with_its_line(tmp_path):
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("train:\n  steps: 10\n  steps: 20\n")  # Snakemake's loader would keep 20 without a word
    result = snakemake("-n", "--configfile", str(overlay))
    assert result.returncode != 0
    assert "overlay.yaml:3:3: not valid YAML: the key 'steps' is given twice" in result.stdout + result.stderr


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without CUDA")
def test_device_cuda_without_a_gpu_stops_before_any_job(tmp_path):
    text = (REPO / ".test/config/config.yaml").read_text().replace("  device: cpu", "  device: cuda")
    workdir = _workdir_with_config(tmp_path, text)
    dry = snakemake("-n", "-s", str(REPO / "Snakefile"), "--directory", str(workdir))
    assert dry.returncode == 0, dry.stderr[-2000:]  # a dry run (or a cluster submit host) needs no GPU
    result = snakemake("--cores", "1", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
                       "results/data/train/illustrations.npz")
    assert result.returncode != 0
    assert "no usable CUDA GPU" in result.stdout + result.stderr
    assert not (workdir / "results").exists()


@pytest.mark.slow
def test_tiny_dag_produces_tables_and_claims(tiny_run):
    results = tiny_run / "results"
    for number in "1234":
        table = pd.read_csv(results / f"table{number}.csv")
        for column in ("method", "test_set", "seeds", "fid_mean", "bleeding_mean", "inconsistency_mean",
                       "colour_error_mean", "diversity_mean", "regions_measured", "groups_measured", "fid_floor",
                       "fid_backbone"):
            assert column in table.columns, (number, column)
        assert table["fid_backbone"].str.startswith("inception").all()
        assert (table["data_source"] == "procedural").all()
    assert set(pd.read_csv(results / "table1.csv")["test_set"]) == {"A"}
    table1 = pd.read_csv(results / "table1.csv")
    assert list(table1["method"]) == ["full", "full:oracle", "cwr_skeleton", "cwr_skeleton:oracle", "pix2pix",
                                      "reference:constant", "reference:nearest"]
    constant = table1[table1["method"] == "reference:constant"]
    assert constant["colour_error_vs_constant"].tolist() == [1.0] and constant["bleeding_mean"].tolist() == [0.0]
    assert table1["colour_error_vs_constant"].notna().all()
    assert "region_sec_per_img" in pd.read_csv(results / "table3.csv").columns
    claims = pd.read_csv(results / "claims.csv")
    expected = {"claim", "metric", "test_set", "measured", "p_value", "p_holm", "min_detectable", "reproduced"}
    assert expected <= set(claims.columns)
    assert set(claims["test_set"]) == {"A"}
    assert set(claims["reproduced"]) <= {"yes", "no", "within noise", "insufficient seeds", "not run"}
    assert (claims["data_source"] == "procedural").all()
    assert (claims["train_steps"] == 2).all()  # claims.steps of .test/config


@pytest.mark.slow
def test_tiny_dag_region_stage_outputs(tiny_run):
    timing = pd.read_csv(tiny_run / "results/regions/timing.csv")
    quality = pd.read_csv(tiny_run / "results/regions/quality.csv")
    assert {"trapped_ball", "learned", "patches_16"} <= set(timing["method"])
    assert set(timing["style"]) == {"xdog"}
    assert {"sec_per_img_median", "sec_per_img_p90", "regions_per_img_mean"} <= set(timing.columns)
    assert (timing["sec_per_img_median"] > 0).all()
    assert quality["ari"].between(-1, 1).all()


@pytest.mark.slow
def test_tiny_dag_draws_the_region_comparison_figures(tiny_run):
    """Paper Figs. 9 and 10: tables 3 and 4's colourings next to their region maps, and nothing left beside them."""
    figures = tiny_run / "results/figures"
    for name in ("region_sources_colorized.png", "patch_sizes_colorized.png"):
        assert (figures / name).stat().st_size > 0, name
        assert (tiny_run / "logs/region_comparison_figure" / name.replace("_colorized.png", ".log")).is_file()
    assert not list(figures.glob(".*"))


@pytest.mark.slow
def test_tiny_dag_training_outputs_and_tracking(tiny_run):
    run = tiny_run / "results/train/full/seed0"
    info = json.loads((run / "run.json").read_text())
    assert info["run_id"]
    assert (tiny_run / "mlflow.db").is_file()
    metrics = json.loads((tiny_run / "results/eval/full/seed0/A/metrics.json").read_text())
    assert metrics["fid"] >= 0 and metrics["bleeding"] is not None
    assert metrics["oracle"]["colour_error"] is not None and metrics["oracle"]["diversity"] is None
    curves = [json.loads(line) for line in (run / "curves.jsonl").read_text().splitlines()]
    assert [point["step"] for point in curves] == [0, 2, 3]  # start, snapshot_every 2, final step 3
    claims_run = tiny_run / "results/claims/train/full/seed0"  # claims.steps 2: a training of its own
    assert json.loads((claims_run / "config.json").read_text())["train"]["steps"] == 2
    claims_curves = [json.loads(line) for line in (claims_run / "curves.jsonl").read_text().splitlines()]
    assert [point["step"] for point in claims_curves] == [0, 2]
    assert (tiny_run / "results/claims/eval/full/seed2/A/metrics.json").is_file()
    assert (tiny_run / "results/figures/learning_curves.png").stat().st_size > 0
    assert (tiny_run / "results/figures/learning_curves_claims.png").stat().st_size > 0


def test_snakefmt_is_clean():
    result = subprocess.run(["snakefmt", "--check", "Snakefile", "workflow"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_rerunning_one_ablation_as_the_readme_says_retrains_it_alone(tiny_run, tmp_path):
    """README "Rerun one ablation": the run's folder is removed (snapshots included) and its generator.pt forced;
    without --forcerun Snakemake rebuilds nothing, since a missing input of up-to-date outputs is not rebuilt."""
    workdir = tmp_path / "run"
    shutil.copytree(tiny_run, workdir)  # shutil.copy2: modification times kept, so the copy is up to date
    shutil.rmtree(workdir / "results/train/no_region_maps/seed0")
    planned = run_in(workdir, "-n", "results/table2.csv",
                     "--forcerun", "results/train/no_region_maps/seed0/generator.pt")
    assert planned.returncode == 0, planned.stderr[-3000:]
    assert re.search(r"^train_model\s+1$", planned.stdout, re.MULTILINE), planned.stdout[-3000:]
    assert "experiment=no_region_maps, seed=0" in planned.stdout and "evaluate_model" in planned.stdout
