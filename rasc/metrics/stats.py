"""Verdicts over training seeds (DESIGN §6 "Verdicts need seeds").

A claim "method A beats method B on metric m" is judged on per-seed values paired by seed. The *improvement* of
seed s is `B_s - A_s` when lower is better and `A_s - B_s` otherwise, so positive always means "as claimed".

- interval: percentile bootstrap of the mean improvement over seeds (resampled with replacement, seeded);
- test: paired t-test (`scipy.stats.ttest_rel`, two-sided) for n >= 2; the Wilcoxon signed-rank test is reported
  too once n >= 6 (below that its smallest possible two-sided p is above 0.05);
- verdict: "yes" when the interval lies above 0, "no" when it lies below 0, "within noise" otherwise, and
  "insufficient seeds" when fewer than `min_seeds` seeds are paired. With `require_test` (default) a "yes" or "no"
  also needs the paired t-test's p below 1 - confidence; otherwise it is "within noise". The reason: with 3 seeds
  the percentile bootstrap's 95% interval excludes 0 whenever all three improvements share a sign, which happens
  by chance one time in four under no effect; the t-test asks that the improvement be large against its spread.
- family: `holm` adjusts the p-values of many claims at once (Holm 1979), so that a table of verdicts keeps its
  family-wise error rate at 1 - confidence (`rasc.claims` judges with the adjusted p and `require_test=False`).
- power: `min_detectable_improvement` is the smallest mean improvement a paired t-test at a given level could call
  at the observed seed-to-seed spread; a "within noise" beside a large one says the seeds were too few to tell.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from scipy import stats as scipy_stats

YES = "yes"
NO = "no"
WITHIN_NOISE = "within noise"
INSUFFICIENT_SEEDS = "insufficient seeds"
VERDICTS = (YES, NO, WITHIN_NOISE, INSUFFICIENT_SEEDS)


@dataclass(frozen=True)
class SeedSummary:
    """Mean and spread of one metric of one method over seeds."""

    n: int  # seeds
    mean: float  # mean over seeds (nan when n = 0)
    std: float  # sample standard deviation (ddof 1; nan when n < 2)
    minimum: float  # smallest value
    maximum: float  # largest value


@dataclass(frozen=True)
class SeedComparison:
    """Paired comparison of a claimed-better and a claimed-worse method over seeds."""

    seeds: tuple[int, ...]  # seeds present for both methods (the pairs)
    unpaired_seeds: tuple[int, ...]  # seeds present for only one method (ignored)
    lower_is_better: bool  # direction of the metric
    better: SeedSummary  # claimed-better method over the paired seeds
    worse: SeedSummary  # claimed-worse method over the paired seeds
    improvements: tuple[float, ...]  # per paired seed, in `seeds` order (positive = as claimed)
    mean_improvement: float  # mean of per-seed improvements (positive = as claimed)
    ci_low: float  # bootstrap interval of the mean improvement, lower end
    ci_high: float  # upper end
    confidence: float  # interval level, e.g. 0.95
    t_pvalue: float  # paired t-test, two-sided (nan when n < 2 or the improvements are all equal to 0)
    wilcoxon_pvalue: float  # Wilcoxon signed-rank, two-sided (nan when n < 6)
    verdict: str  # one of VERDICTS
    reason: str  # one sentence saying why

    @property
    def n(self) -> int:
        return len(self.seeds)

    def as_row(self) -> dict[str, object]:
        """Flat dict for a claims table."""
        return {"n_seeds": self.n, "better_mean": self.better.mean, "better_std": self.better.std,
                "worse_mean": self.worse.mean, "worse_std": self.worse.std,
                "mean_improvement": self.mean_improvement, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "confidence": self.confidence, "t_pvalue": self.t_pvalue, "wilcoxon_pvalue": self.wilcoxon_pvalue,
                "verdict": self.verdict, "reason": self.reason}


@dataclass(frozen=True)
class OrderingVerdict:
    """A chained claim such as "full < w/o formulation < w/o region maps", judged link by link."""

    methods: tuple[str, ...]  # best first
    links: tuple[SeedComparison, ...]  # methods[i] vs methods[i + 1]
    verdict: str  # "no" if a link is "no"; else "insufficient seeds" if one is; "yes" if all are; else "within noise"


def summarize_seeds(values: Mapping[int, float]) -> SeedSummary:
    """Mean, sample std, min and max of one metric over seeds."""
    array = _finite_values(values, "values")
    if len(array) == 0:
        return SeedSummary(0, math.nan, math.nan, math.nan, math.nan)
    std = float(np.std(array, ddof=1)) if len(array) >= 2 else math.nan
    return SeedSummary(len(array), float(array.mean()), std, float(array.min()), float(array.max()))


def _finite_values(values: Mapping[int, float], what: str) -> np.ndarray:
    array = np.array([float(value) for value in values.values()], dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what} contains non-finite values: {dict(values)}")
    return array


def bootstrap_mean_interval(values: np.ndarray, confidence: float, n_resamples: int,
                            rng: np.random.Generator) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of `values` (n,), resampling with replacement."""
    draws = rng.integers(0, len(values), size=(n_resamples, len(values)))  # (R, n) indices
    means = values[draws].mean(axis=1)  # (R,)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def _paired_pvalues(better: np.ndarray, worse: np.ndarray, improvements: np.ndarray) -> tuple[float, float]:
    n = len(improvements)
    if n < 2 or np.all(improvements == 0):
        return math.nan, math.nan
    if np.ptp(improvements) == 0:  # identical non-zero improvements on every seed: no spread at all
        t_pvalue = 0.0
    else:
        t_pvalue = float(scipy_stats.ttest_rel(better, worse).pvalue)
    wilcoxon_pvalue = math.nan
    if n >= 6:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # ties / zeros notices
            wilcoxon_pvalue = float(scipy_stats.wilcoxon(improvements).pvalue)
    return t_pvalue, wilcoxon_pvalue


def judge_claim(values_better: Mapping[int, float], values_worse: Mapping[int, float], lower_is_better: bool, *,
                confidence: float = 0.95, n_resamples: int = 10_000, seed: int = 0, min_seeds: int = 2,
                require_test: bool = True) -> SeedComparison:
    """Judge "`values_better`'s method beats `values_worse`'s" from per-seed values {seed: value}, paired by seed."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if min_seeds < 2:
        raise ValueError(f"min_seeds must be >= 2 (one seed has no spread), got {min_seeds}")
    _finite_values(values_better, "values_better")
    _finite_values(values_worse, "values_worse")
    seeds = tuple(sorted(set(values_better) & set(values_worse)))
    unpaired = tuple(sorted(set(values_better) ^ set(values_worse)))
    better = np.array([float(values_better[s]) for s in seeds])  # (n,)
    worse = np.array([float(values_worse[s]) for s in seeds])  # (n,)
    summary_better = summarize_seeds({s: values_better[s] for s in seeds})
    summary_worse = summarize_seeds({s: values_worse[s] for s in seeds})
    improvements = worse - better if lower_is_better else better - worse  # (n,) positive = as claimed
    mean_improvement = float(improvements.mean()) if len(seeds) else math.nan

    def result(ci: tuple[float, float], pvalues: tuple[float, float], verdict: str, reason: str) -> SeedComparison:
        return SeedComparison(seeds, unpaired, lower_is_better, summary_better, summary_worse,
                              tuple(improvements.tolist()), mean_improvement, ci[0], ci[1], confidence, pvalues[0],
                              pvalues[1], verdict, reason)

    if len(seeds) < min_seeds:
        return result((math.nan, math.nan), (math.nan, math.nan), INSUFFICIENT_SEEDS,
                      f"{len(seeds)} paired seed(s), at least {min_seeds} needed")
    ci = bootstrap_mean_interval(improvements, confidence, n_resamples, np.random.default_rng(seed))
    pvalues = _paired_pvalues(better, worse, improvements)
    level = f"{confidence:.0%} bootstrap interval [{ci[0]:.4g}, {ci[1]:.4g}] of the mean improvement"
    if ci[0] <= 0.0 <= ci[1]:
        return result(ci, pvalues, WITHIN_NOISE, f"{level} contains 0")
    direction = YES if ci[0] > 0.0 else NO
    alpha = 1.0 - confidence
    if require_test and not pvalues[0] < alpha:
        return result(ci, pvalues, WITHIN_NOISE,
                      f"{level} excludes 0 but the paired t-test gives p = {pvalues[0]:.3g} >= {alpha:.3g} "
                      f"over {len(seeds)} seeds")
    side = "as claimed" if direction == YES else "opposite to the claim"
    return result(ci, pvalues, direction, f"{level} excludes 0, {side}; paired t-test p = {pvalues[0]:.3g}")


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values (M,) of p-values (M,): the k-th smallest of m finite ones times m - k + 1, made
    non-decreasing and capped at 1. nan p-values (no test) stay nan and do not count in m."""
    p = np.asarray(pvalues, dtype=np.float64)  # (M,)
    adjusted = np.full_like(p, np.nan)
    order = np.flatnonzero(np.isfinite(p))
    order = order[np.argsort(p[order], kind="stable")]  # (m,) finite ones, smallest first
    multipliers = len(order) - np.arange(len(order))  # (m,) m, m - 1, ..., 1
    adjusted[order] = np.minimum(np.maximum.accumulate(multipliers * p[order]), 1.0)
    return adjusted


def min_detectable_improvement(improvements: Sequence[float], alpha: float) -> float:
    """Smallest |mean improvement| the two-sided paired t-test calls at level `alpha`, at the spread of these
    per-seed improvements (n,): t_{1 - alpha/2, n-1} · sd / sqrt(n), sd with n - 1 degrees of freedom.

    nan for fewer than two seeds; 0 when the improvements do not vary (the test then calls any non-zero mean).
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    values = np.asarray(improvements, dtype=np.float64)  # (n,)
    if len(values) < 2:
        return math.nan
    critical = float(scipy_stats.t.ppf(1.0 - alpha / 2.0, len(values) - 1))
    return critical * float(values.std(ddof=1)) / math.sqrt(len(values))


def judge_ordering(values_by_method: Sequence[tuple[str, Mapping[int, float]]], lower_is_better: bool,
                   **judge_options: object) -> OrderingVerdict:
    """Judge a chain "m1 better than m2 better than m3 ..." (best first) by its adjacent pairs via `judge_claim`."""
    if len(values_by_method) < 2:
        raise ValueError(f"an ordering needs at least two methods, got {len(values_by_method)}")
    links = tuple(judge_claim(better, worse, lower_is_better, **judge_options)
                  for (_, better), (_, worse) in zip(values_by_method[:-1], values_by_method[1:]))
    verdicts = [link.verdict for link in links]
    if NO in verdicts:
        overall = NO
    elif INSUFFICIENT_SEEDS in verdicts:
        overall = INSUFFICIENT_SEEDS
    elif all(verdict == YES for verdict in verdicts):
        overall = YES
    else:
        overall = WITHIN_NOISE
    return OrderingVerdict(tuple(name for name, _ in values_by_method), links, overall)
