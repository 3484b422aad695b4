"""benchmarks/seed_summary.py: the README's rows over every evaluated seed, from a run's metrics files."""

import json

import pandas as pd
import pytest
from conftest import import_benchmark


@pytest.fixture(scope="module")
def summary():
    yield from import_benchmark("seed_summary")


def write_metrics(path, experiment, seed, test_set, colour_error, oracle=None):
    path.mkdir(parents=True)
    record = {"experiment": experiment, "seed": seed, "test_set": test_set, "colour_error": colour_error,
              "fid": 50.0 + seed, "fid_floor": 40.0, "fid_backbone": "inception-random-seed0", "bleeding": 6.0 + seed,
              "inconsistency": 15.0, "diversity": None, "regions_measured": 1.0, "groups_measured": 1.0}
    if oracle is not None:
        record["oracle"] = {"colour_error": oracle, "fid": 45.0, "bleeding": 6.0, "inconsistency": 15.0}
    (path / "metrics.json").write_text(json.dumps(record))


@pytest.fixture
def results(tmp_path):
    """A run with `full` on seeds 0 and 1 (colour error 20 and 24 on A and B), `patches_1` on seed 0 and the
    constant reference at 40."""
    for test_set in "AB":
        write_metrics(tmp_path / "eval/reference_constant" / test_set, "reference:constant", 0, test_set, 40.0)
        for seed, error in ((0, 20.0), (1, 24.0)):
            write_metrics(tmp_path / f"eval/full/seed{seed}/{test_set}", "full", seed, test_set, error, oracle=16.0)
        write_metrics(tmp_path / f"eval/patches_1/seed0/{test_set}", "patches_1", 0, test_set, 30.0)
    return tmp_path


def test_rows_are_mean_and_sd_over_every_seed_as_fractions_of_the_constant(summary, results):
    runs = summary.collect_metrics(summary.metrics_files(results))
    experiments = summary.experiment_order(runs["experiment"].unique(), ["full", "no_region_maps", "patches_1"])
    assert experiments == ["full", "patches_1"]  # the config's order; no oracle or reference rows
    lines = summary.model_rows(summary.summarise(runs, experiments), experiments, ["A", "B"])
    full, patches = lines[2], lines[3]
    # (20 + 24) / 2 / 40 = 0.55, sd 2.83 / 40 = 0.071; bleeding 6 and 7; oracle 16 / 40 = 0.4 on both seeds
    assert full == "| `full` | 0.550 ± 0.071 (2) | 0.550 ± 0.071 (2) | 6.50 ± 0.71 (2) | 15.0 ± 0.0 (2) | " \
                   "50.5 ± 0.7 (2) | 0.400 ± 0.000 (2) |"
    assert patches.startswith("| `patches_1` | 0.750 (1) | 0.750 (1) | 6.00 (1) |")
    assert patches.endswith("| — |")  # no oracle evaluated


def test_claims_runs_are_read_from_their_own_folder_with_the_run_s_reference_rows(summary, results):
    """--claims: the models of results/claims/eval (claims.steps set), the reference rows of results/eval."""
    write_metrics(results / "claims/eval/full/seed2/A", "full", 2, "A", 28.0)
    runs = summary.collect_metrics(summary.metrics_files(results, claims=True))
    assert set(runs["experiment"]) == {"full", "reference:constant"}  # no oracle written for this one
    assert runs.loc[runs["experiment"] == "full", "seed"].tolist() == [2]
    assert 2 not in summary.collect_metrics(summary.metrics_files(results))["seed"].tolist()


def test_claim_rows_give_improvement_over_detectable_per_test_set(summary):
    claims = pd.DataFrame({
        "methods": ["full > patches_1"] * 2, "metric": ["fid"] * 2, "test_set": ["A", "B"],
        "mean_improvement": [2.5, -1.0], "min_detectable": [40.0, 16.0], "reproduced": ["within noise"] * 2,
        "p_value": [0.2, 0.6], "p_holm": [1.0, 1.0]})
    lines = summary.claim_rows(claims, ["A", "B", "C"])
    assert lines[2] == "| `full > patches_1`, fid | +2.5 / 40 | -1 / 16 | — | within noise |"
    assert lines[-1].startswith("2 rows, 1 in the paper's direction")


def test_claim_rows_leave_out_claims_not_run(summary):
    claims = pd.DataFrame({
        "methods": ["full > patches_1", "full > no_region_maps"], "metric": ["fid", "bleeding"], "test_set": ["A"] * 2,
        "mean_improvement": [float("nan"), 0.5], "min_detectable": [float("nan"), 1.7],
        "p_value": [float("nan"), 0.06], "p_holm": [float("nan"), 0.55], "reproduced": ["not run", "within noise"]})
    lines = summary.claim_rows(claims, ["A"])
    assert len(lines) == 5 and "patches_1" not in "".join(lines)
    assert lines[-1] == ("1 rows, 1 in the paper's direction; smallest p 0.06, smallest Holm-corrected p 0.55; "
                         "1 rows not run (their experiments not evaluated)")


def test_a_run_without_evaluations_stops_with_a_message(summary, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["seed_summary.py", "--results", str(tmp_path)])
    with pytest.raises(SystemExit, match="no evaluations under"):
        summary.main()
