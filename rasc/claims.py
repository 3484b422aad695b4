"""The paper's claims, each judged over training seeds on each test set (DESIGN §6) → ``results/claims.csv``.

One row per claim and test set (A, B, C): a claim is judged on each test set alone, so that one set going off the
rails cannot decide a verdict by moving an average. A, B and C are three sketch styles of the *same* held-out
illustrations, so their rows are not independent evidence (``TEST_SETS_NOTE``). Test set R, a folder of the user's
own sketches, is left out: the verdicts are about the reproduction's own test sets and must not change with
whatever folder one points at.

Each row's ``p_value`` is the paired t-test over seeds (:func:`rasc.metrics.stats.judge_claim`); ``p_holm`` is
that p-value Holm-corrected over every row of the table that has one (:func:`rasc.metrics.stats.holm`). A verdict
"yes" or "no" needs the bootstrap interval of the mean improvement to exclude 0 *and* ``p_holm`` below
1 - confidence; otherwise it is "within noise" (or "insufficient seeds", fewer than ``MIN_CLAIM_SEEDS`` paired
seeds, or "not run").

Controls: ``full`` vs ``no_region_maps`` does not isolate region information, since the bounded region factor
(1 + tanh) gates ``full`` even with one patch; ``full`` vs ``patches_1`` (same Region Formulation, no region
information) does. ``cwr_skeleton`` sees learned regions while ``full`` sees trapped-ball ones, so the CWR claim is
also judged as ``learned_regions`` vs ``cwr_skeleton`` (same region source).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from rasc.claim_specs import Claim
from rasc.config import MIN_CLAIM_SEEDS
from rasc.data.prepare import drawn_from_test_split
from rasc.metrics.stats import NO, WITHIN_NOISE, YES, holm, judge_claim, min_detectable_improvement

NOT_RUN = "not run"  # verdict of a row whose experiments were not evaluated (left out by run_experiments)

TEST_SETS_NOTE = ("Test sets A, B and C are three sketch styles drawn from the same held-out illustrations, so their "
                  "rows are not independent evidence: a claim holding on all three is one result seen three ways.")


def with_train_steps_column(claims: pd.DataFrame, steps: Mapping[str, int]) -> pd.DataFrame:
    """``claims`` with a ``train_steps`` column: the training steps of each row's two experiments (``steps``:
    experiment → steps), one number where they agree, "better / worse" where they do not, empty where neither is
    in ``steps`` (an experiment the config does not define)."""
    def row_steps(methods: str) -> int | str | None:
        counts = [steps[name] for name in methods.split(" > ") if name in steps]
        if not counts:
            return None
        return counts[0] if len(set(counts)) == 1 else " / ".join(map(str, counts))

    column = pd.Series([row_steps(methods) for methods in claims["methods"]], index=claims.index, dtype=object)
    return claims.assign(train_steps=column)  # object: integers stay integers beside empty rows


def describe_train_steps(claims: pd.DataFrame) -> str:
    """The caption's sentence on training length: one number, or the range with a pointer to the column."""
    values = sorted({str(value) for value in claims["train_steps"].dropna()})
    if not values:
        return ""
    if len(values) == 1:
        return f"Every model trained {values[0]} steps."
    return f"The models trained {', '.join(values)} steps (column train_steps, per row: better / worse)."


def per_seed_values(runs: pd.DataFrame, experiment: str, metric: str, test_set: str) -> dict[int, float]:
    """{seed: metric} of one experiment on one test set (seeds without a value are left out)."""
    rows = runs[(runs["experiment"] == experiment) & (runs["test_set"] == test_set)]
    values = pd.to_numeric(rows[metric], errors="coerce").groupby(rows["seed"]).mean().dropna()
    return {int(seed): float(value) for seed, value in values.items()}


def _judge(runs: pd.DataFrame, claim: Claim, test_set: str, confidence: float, bootstrap: int) -> dict[str, object]:
    """The row of one claim on one test set, before the Holm correction (verdict from the interval alone)."""
    row: dict[str, object] = {"claim": claim.text, "paper": claim.source, "metric": claim.metric,
                              "methods": " > ".join(claim.methods), "test_set": test_set}
    missing = [m for m in claim.methods if m not in set(runs["experiment"])]
    if missing:
        return row | {"reproduced": NOT_RUN, "reason": f"experiments not evaluated: {', '.join(missing)}"}
    better, worse = (per_seed_values(runs, m, claim.metric, test_set) for m in claim.methods)
    # A row needs as many paired seeds as claims.seeds must list: with 2 the paired t-test has one degree of
    # freedom, and two nearly equal improvements give a tiny p by coincidence (measured: p = 0.0012, "yes" after
    # Holm, on a run whose third seed was still training).
    result = judge_claim(better, worse, claim.lower_is_better, confidence=confidence, n_resamples=bootstrap,
                         min_seeds=MIN_CLAIM_SEEDS, require_test=False)
    measured = "; ".join(f"{m}: {pd.Series(v).mean():.4g} ± {pd.Series(v).std():.2g} (n={len(v)})"
                         for m, v in zip(claim.methods, (better, worse)))
    return row | {"measured": measured, "mean_improvement": result.mean_improvement, "ci_low": result.ci_low,
                  "ci_high": result.ci_high, "n_seeds": result.n, "p_value": result.t_pvalue,
                  "reproduced": result.verdict, "reason": result.reason,
                  "improvements": list(result.improvements)}


def _holm_verdict(row: pd.Series, alpha: float, family: int) -> tuple[str, str]:
    """A "yes"/"no" from the interval stands only when the Holm-corrected p is below alpha."""
    verdict, reason = row["reproduced"], row["reason"]
    if verdict not in (YES, NO):
        return verdict, reason
    corrected = f"Holm-corrected p = {row['p_holm']:.3g} over {family} rows"
    if row["p_holm"] < alpha:
        return verdict, f"{reason}; {corrected}"
    return WITHIN_NOISE, f"{reason}, but the {corrected} is not below {alpha:.3g}"


def _min_detectable(table: pd.DataFrame, alpha: float, family: int) -> list[float]:
    """Per row, the smallest mean improvement that could have been called at its seed spread: a paired t-test at
    alpha / family, Holm's most lenient step (the row with the smallest p); nan where nothing was run or the row
    has fewer than ``MIN_CLAIM_SEEDS`` seeds (no verdict at any size)."""
    if "improvements" not in table or family == 0:
        return [math.nan] * len(table)
    return [min_detectable_improvement(values, alpha / family)
            if isinstance(values, list) and len(values) >= MIN_CLAIM_SEEDS else math.nan
            for values in table["improvements"]]


def judge_claims(runs: pd.DataFrame, claims: Sequence[Claim], confidence: float, bootstrap: int) -> pd.DataFrame:
    """One row per claim × test set drawn from the test split (R's rows are ignored), with raw and Holm-corrected
    p-values; the verdict uses the corrected one."""
    runs = runs[runs["test_set"].map(drawn_from_test_split)]
    test_sets = sorted(set(runs["test_set"]))
    table = pd.DataFrame([_judge(runs, claim, test_set, confidence, bootstrap)
                          for claim in claims for test_set in test_sets])
    if "p_value" not in table:  # nothing was run: no p-values at all
        table["p_value"] = np.nan
    table["p_holm"] = holm(table["p_value"].to_numpy(dtype=np.float64))
    family = int(table["p_value"].notna().sum())
    verdicts = [_holm_verdict(row, 1.0 - confidence, family) for _, row in table.iterrows()]
    table["reproduced"] = [verdict for verdict, _ in verdicts]
    table["reason"] = [reason for _, reason in verdicts]
    table["min_detectable"] = _min_detectable(table, 1.0 - confidence, family)
    columns = ["claim", "paper", "metric", "methods", "test_set", "measured", "mean_improvement", "ci_low",
               "ci_high", "n_seeds", "p_value", "p_holm", "min_detectable", "reproduced", "reason"]
    return table.reindex(columns=columns)
