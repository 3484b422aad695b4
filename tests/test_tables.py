"""Tables from per-run metrics: test set R (no ground truth) gives N/A cells; notes explain the columns."""

from __future__ import annotations

import pandas as pd
import pytest

from rasc.tables import (describe_data_source, describe_test_sets, summarise, table_notes, to_markdown,
                         with_data_source)

EXPERIMENTS = ("full", "no_region_maps", "no_region_formulation")
TRUTH_METRICS = ("bleeding", "inconsistency", "colour_error", "diversity", "diversity_precision", "diversity_recall")


def metrics_rows(test_set: str, offset: float) -> list[dict]:
    """metrics.json records of three experiments × three seeds; R's have FID only, as evaluate_set writes them."""
    rows = []
    for rank, experiment in enumerate(EXPERIMENTS):
        for seed in range(3):
            value = offset + 10.0 * rank + seed
            truth = {key: None if test_set == "R" else value for key in TRUTH_METRICS}
            truth |= {"regions_measured": None, "groups_measured": None} if test_set == "R" else \
                {"regions_measured": 0.9, "groups_measured": 0.5 + 0.1 * seed}
            rows.append({"experiment": experiment, "seed": seed, "test_set": test_set, "fid": value,
                         "fid_floor": 2.0, "fid_backbone": "inception-random-seed0", **truth})
    return rows


def test_real_rows_have_fid_and_not_applicable_ground_truth_metrics():
    runs = pd.DataFrame(metrics_rows("A", 1.0) + metrics_rows("R", 5.0))
    table = summarise(runs, list(EXPERIMENTS))
    real = table[table["test_set"] == "R"]
    assert len(real) == 3 and real["fid_mean"].notna().all()
    for metric in TRUTH_METRICS:
        assert real[f"{metric}_mean"].isna().all(), metric  # N/A, never 0
        assert table.loc[table["test_set"] == "A", f"{metric}_mean"].notna().all(), metric
    markdown = to_markdown(table, "Table 1: methods on test sets " + describe_test_sets(table["test_set"]))
    real_lines = [line for line in markdown.splitlines() if "| R " in line]
    assert len(real_lines) == 3 and all(line.count("N/A") == len(TRUTH_METRICS) + 2 for line in real_lines)  # + 2 coverages
    assert "R (your real sketches" in markdown and "A (XDoG)" in markdown


def test_tables_report_coverage_and_explain_the_fid_floor():
    table = summarise(pd.DataFrame(metrics_rows("A", 1.0) + metrics_rows("R", 5.0)), list(EXPERIMENTS))
    measured = table[table["test_set"] == "A"]
    assert (measured["regions_measured"] == 0.9).all() and measured["groups_measured"].to_numpy() == \
        pytest.approx([0.6] * 3)  # mean over seeds
    assert table.loc[table["test_set"] == "R", ["regions_measured", "groups_measured"]].isna().all().all()
    markdown = to_markdown(table, "Table 1")
    assert "| regions_measured" in markdown and "| groups_measured" in markdown
    assert "two disjoint real samples of the same size" in markdown and "not a lower bound" in markdown
    assert "fid_floor" not in table_notes(["fid_mean"]) and "lower bound" in table_notes(["fid_floor"])


def test_tables_name_the_data_source_and_openmoji_test_sets():
    table = summarise(pd.DataFrame(metrics_rows("B", 1.0)), list(EXPERIMENTS))
    named = with_data_source(table, "openmoji")
    assert set(named["data_source"]) == {"openmoji"} and list(named.columns[:-1]) == list(table.columns)
    assert describe_test_sets(["A", "B", "C"]) == "A (XDoG), B (clean lines), C (rough lines)"
    assert "B (OpenMoji's human-drawn line layer)" in describe_test_sets(["A", "B"], "openmoji")
    assert "OpenMoji" in describe_data_source("openmoji") and "CC BY-SA 4.0" in describe_data_source("openmoji")
    assert "| data_source" in to_markdown(named, "Table 1") and "procedural" in describe_data_source("procedural")


def test_metrics_files_without_diversity_precision_give_nan_columns():
    old = pd.DataFrame(metrics_rows("A", 1.0)).drop(columns=["diversity_precision", "diversity_recall"])
    table = summarise(old, list(EXPERIMENTS))
    assert table["diversity_precision_mean"].isna().all() and table["diversity_recall_mean"].notna().sum() == 0
    assert table["diversity_mean"].notna().all()


def test_tables_name_the_style_prior_of_the_diversity_samples():
    """The rows with diversity name the prior their random w came from; rows without (test set R) leave it empty;
    files that predate the prior leave it empty too."""
    rows = metrics_rows("A", 1.0) + metrics_rows("R", 5.0)
    for row in rows:
        row["style_prior"] = "standard" if row["experiment"] == "no_region_maps" else "fitted"
    table = summarise(pd.DataFrame(rows), list(EXPERIMENTS))
    on_a = table[table["test_set"] == "A"].set_index("method")["style_prior"]
    assert on_a.to_dict() == {"full": "fitted", "no_region_maps": "standard", "no_region_formulation": "fitted"}
    assert (table.loc[table["test_set"] == "R", "style_prior"] == "").all()
    assert "style_prior: where the random w" in to_markdown(table, "Table 1")
    old = summarise(pd.DataFrame(metrics_rows("A", 1.0)), list(EXPERIMENTS))
    assert (old["style_prior"] == "").all()
