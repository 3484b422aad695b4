"""Every trained model of a workflow run over all the seeds it was evaluated on, and every claim: the README's rows.

The workflow's tables average the seeds of ``train.seeds`` (one, on the default); ``results/claims.csv`` trains its
experiments on ``claims.seeds``. This prints, from whatever a run's ``results/eval`` holds, one markdown row per
experiment with the mean ± standard deviation over its evaluated seeds (their count in brackets): colour error as a
fraction of the run's ``reference:constant`` on each test set, bleeding, inconsistency and FID on the first test set,
and the oracle's colour error. With ``results/claims.csv`` present it then prints each claim's mean improvement /
``min_detectable`` per test set and its verdicts. Numbers come from ``rasc.tables`` (the tables' own code).

    python benchmarks/seed_summary.py --results results [--config config/openmoji.yaml]
    python benchmarks/seed_summary.py --results results --experiments full no_region_maps --test-sets A B
    python benchmarks/seed_summary.py --results results --claims   # the claims' own runs (claims.steps set)

With ``--claims`` the models are those of ``results/claims/eval`` (the claims' own trainings when ``claims.steps`` is
set), the reference rows those of ``results/eval``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rasc.claims import NOT_RUN  # noqa: E402
from rasc.config import DEFAULT_CONFIG, load_config  # noqa: E402
from rasc.references import ORACLE_SUFFIX, REFERENCE_PREFIX, reference_name  # noqa: E402
from rasc.tables import collect_metrics, summarise  # noqa: E402

def metrics_files(results: Path, claims: bool = False) -> list[Path]:
    """Every evaluation of a run: ``eval/<experiment>/seed<N>/<test set>/metrics.json`` (with ``claims``: those of
    ``claims/eval``) and the reference rows' ``eval/reference_<name>/<test set>/metrics.json``."""
    models = results / "claims" if claims else results
    return sorted(models.glob("eval/*/seed*/*/metrics.json")) + sorted(results.glob("eval/reference_*/*/metrics.json"))


def experiment_order(names: Sequence[str], order: Sequence[str]) -> list[str]:
    """The trained experiments among ``names`` (no oracle or reference rows) in ``order`` (a config's
    ``experiments``), experiments of other names after them, sorted."""
    trained = {name for name in names if not name.endswith(ORACLE_SUFFIX) and not name.startswith(REFERENCE_PREFIX)}
    return [name for name in order if name in trained] + sorted(trained - set(order))


def mean_sd(mean: float, sd: float, seeds: int, digits: int) -> str:
    """``0.593 ± 0.012 (3)``, or ``0.603 (1)`` for one seed."""
    spread = "" if pd.isna(sd) else f" ± {sd:.{digits}f}"
    return f"{mean:.{digits}f}{spread} ({seeds})"


def model_rows(summary: pd.DataFrame, experiments: Sequence[str], test_sets: Sequence[str]) -> list[str]:
    """Markdown rows: colour error / constant per test set, bleeding, inconsistency and FID on the first test set,
    oracle colour error / constant (a summary of ``rasc.tables.summarise``)."""
    rows = summary.set_index(["method", "test_set"])
    constant = rows.loc[reference_name("constant"), "colour_error_mean"]  # (test sets,)
    first = test_sets[0]
    header = (["model"] + [f"{t}: colour error / const." for t in test_sets]
              + [f"bleeding {first}", f"inconsistency {first}", f"FID {first}", f"oracle {first} / const."])
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]

    def ratio(method: str, test_set: str) -> str:
        if (method, test_set) not in rows.index:
            return "—"
        row = rows.loc[(method, test_set)]
        return mean_sd(row["colour_error_mean"] / constant[test_set], row["colour_error_std"] / constant[test_set],
                       int(row["seeds"]), 3)

    for experiment in experiments:
        cells = [ratio(experiment, t) for t in test_sets]
        if (experiment, first) in rows.index:
            row = rows.loc[(experiment, first)]
            cells += [mean_sd(row[f"{metric}_mean"], row[f"{metric}_std"], int(row["seeds"]), digits)
                      for metric, digits in (("bleeding", 2), ("inconsistency", 1), ("fid", 1))]
        else:
            cells += ["—"] * 3
        cells.append(ratio(experiment + ORACLE_SUFFIX, first))
        lines.append(f"| `{experiment}` | " + " | ".join(cells) + " |")
    return lines


def claim_rows(claims: pd.DataFrame, test_sets: Sequence[str]) -> list[str]:
    """Markdown rows of claims.csv: per (methods, metric), mean improvement / min_detectable per test set. Rows
    "not run" (an experiment left out by ``run_experiments``) are left out and counted apart."""
    not_run = claims["reproduced"] == NOT_RUN
    skipped, claims = int(not_run.sum()), claims[~not_run]
    lines = ["| claim (methods, metric) | " + " | ".join(f"{t}: improvement / detectable" for t in test_sets)
             + " | verdicts |", "|" + " --- |" * (len(test_sets) + 2)]
    for (methods, metric), group in claims.groupby(["methods", "metric"], sort=False):
        cells = []
        for test_set in test_sets:
            row = group[group["test_set"] == test_set]
            cells.append("—" if row.empty else
                         f"{row['mean_improvement'].iloc[0]:+.3g} / {row['min_detectable'].iloc[0]:.3g}")
        verdicts = ", ".join(sorted(set(group["reproduced"])))
        lines.append(f"| `{methods}`, {metric} | " + " | ".join(cells) + f" | {verdicts} |")
    positive = int((claims["mean_improvement"] > 0).sum())
    lines.append("")
    lines.append(f"{len(claims)} rows, {positive} in the paper's direction; smallest p {claims['p_value'].min():.3g}, "
                 f"smallest Holm-corrected p {claims['p_holm'].min():.3g}"
                 + (f"; {skipped} rows not run (their experiments not evaluated)" if skipped else ""))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"), help="a workflow run's results folder")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG,
                        help="the run's config: its experiments give the rows' order")
    parser.add_argument("--experiments", nargs="+", default=None, help="experiments to list (default: every one)")
    parser.add_argument("--test-sets", nargs="+", default=["A", "B", "C"], help="test sets, the first in detail")
    parser.add_argument("--claims", action="store_true",
                        help="the models of results/claims/eval: the claims' own trainings (claims.steps set)")
    args = parser.parse_args()
    files = metrics_files(args.results, args.claims)
    if not files:
        raise SystemExit(f"no evaluations under {args.results / 'eval'}: run the workflow first")
    runs = collect_metrics(files)
    runs = runs[runs["test_set"].isin(args.test_sets)]
    experiments = args.experiments or experiment_order(runs["experiment"].unique(),
                                                          list(load_config(args.config)["experiments"]))
    missing = sorted(set(experiments) - set(runs["experiment"]))
    if missing:
        raise SystemExit(f"no evaluations of {', '.join(missing)} under {args.results / 'eval'}")
    if reference_name("constant") not in set(runs["experiment"]):
        raise SystemExit(f"no reference:constant evaluation under {args.results / 'eval'}: the rows are ratios to it")
    print("\n".join(model_rows(summarise(runs, experiments), experiments, args.test_sets)))
    claims = args.results / "claims.csv"
    if claims.is_file():
        print()
        print("\n".join(claim_rows(pd.read_csv(claims), args.test_sets)))


if __name__ == "__main__":
    main()
