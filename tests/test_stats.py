"""Seed statistics (rasc.metrics.stats): verdicts on hand-made per-seed numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rasc.metrics.stats import (INSUFFICIENT_SEEDS, NO, WITHIN_NOISE, YES, holm, judge_claim, judge_ordering,
                                min_detectable_improvement, summarize_seeds)

FULL = {0: 30.1, 1: 29.5, 2: 30.4, 3: 29.9}  # FID, lower is better
ABLATED = {0: 34.8, 1: 35.2, 2: 34.1, 3: 35.5}


def test_clear_win_is_yes() -> None:
    result = judge_claim(FULL, ABLATED, lower_is_better=True)
    assert result.verdict == YES
    assert result.n == 4
    assert result.mean_improvement == pytest.approx(4.925)
    assert 0 < result.ci_low <= result.mean_improvement <= result.ci_high
    assert result.t_pvalue < 0.01
    assert result.better.mean == pytest.approx(29.975) and result.worse.mean == pytest.approx(34.9)


def test_reversed_claim_is_no() -> None:
    assert judge_claim(ABLATED, FULL, lower_is_better=True).verdict == NO


def test_direction_follows_lower_is_better() -> None:
    assert judge_claim(ABLATED, FULL, lower_is_better=False).verdict == YES  # e.g. diversity: higher is better
    assert judge_claim(FULL, ABLATED, lower_is_better=False).verdict == NO


def test_overlapping_values_are_within_noise() -> None:
    better = {0: 10.0, 1: 12.0, 2: 9.0, 3: 11.5}
    worse = {0: 11.0, 1: 10.0, 2: 10.5, 3: 11.0}
    result = judge_claim(better, worse, lower_is_better=True)
    assert result.verdict == WITHIN_NOISE
    assert result.ci_low < 0 < result.ci_high


def test_consistent_sign_with_huge_spread_needs_the_test() -> None:
    better = {0: 10.0, 1: 12.0, 2: 8.0}
    worse = {0: 10.1, 1: 12.2, 2: 13.0}  # improvements 0.1, 0.2, 5.0: same sign, but not large against the spread
    strict = judge_claim(better, worse, lower_is_better=True)
    assert strict.ci_low > 0  # the 3-seed percentile bootstrap alone would call it
    assert strict.verdict == WITHIN_NOISE and "t-test" in strict.reason
    assert judge_claim(better, worse, lower_is_better=True, require_test=False).verdict == YES


def test_too_few_seeds_and_unpaired_seeds() -> None:
    result = judge_claim({0: 1.0}, {0: 2.0}, lower_is_better=True)
    assert result.verdict == INSUFFICIENT_SEEDS and math.isnan(result.ci_low)
    result = judge_claim({0: 1.0, 1: 1.1, 5: 0.0}, {0: 2.0, 1: 2.1, 7: 9.0}, lower_is_better=True)
    assert result.seeds == (0, 1) and result.unpaired_seeds == (5, 7)
    assert judge_claim(FULL, ABLATED, lower_is_better=True, min_seeds=5).verdict == INSUFFICIENT_SEEDS


def test_identical_improvements_and_ties() -> None:
    assert judge_claim({0: 1.0, 1: 2.0, 2: 3.0}, {0: 2.0, 1: 3.0, 2: 4.0}, lower_is_better=True).verdict == YES
    tie = judge_claim({0: 1.0, 1: 2.0}, {0: 1.0, 1: 2.0}, lower_is_better=True)
    assert tie.verdict == WITHIN_NOISE and tie.mean_improvement == 0.0


def test_bootstrap_is_seeded_and_wilcoxon_needs_six_seeds() -> None:
    better = {s: 10.0 + 0.3 * (s % 3) for s in range(6)}
    worse = {s: 10.5 + 0.4 * (s % 2) for s in range(6)}
    first = judge_claim(better, worse, lower_is_better=True, seed=1)
    assert first == judge_claim(better, worse, lower_is_better=True, seed=1)
    assert first.ci_low != judge_claim(better, worse, lower_is_better=True, seed=2).ci_low
    assert not math.isnan(first.wilcoxon_pvalue)
    assert math.isnan(judge_claim(FULL, ABLATED, lower_is_better=True).wilcoxon_pvalue)


def test_ordering_chains_pairwise_verdicts() -> None:
    middle = {0: 32.0, 1: 32.4, 2: 31.8, 3: 32.3}
    chain = judge_ordering([("full", FULL), ("no_formulation", middle), ("no_region_maps", ABLATED)], True)
    assert chain.verdict == YES and [link.verdict for link in chain.links] == [YES, YES]
    assert chain.methods == ("full", "no_formulation", "no_region_maps")
    swapped = judge_ordering([("full", FULL), ("no_region_maps", ABLATED), ("no_formulation", middle)], True)
    assert swapped.verdict == NO
    noisy = {0: 34.0, 1: 36.0, 2: 33.0, 3: 36.5}  # overlaps ABLATED
    assert judge_ordering([("full", FULL), ("a", noisy), ("b", ABLATED)], True).verdict == WITHIN_NOISE


def test_bad_values_are_rejected_and_summary() -> None:
    with pytest.raises(ValueError, match="non-finite"):
        judge_claim({0: float("nan"), 1: 1.0}, {0: 1.0, 1: 1.0}, lower_is_better=True)
    with pytest.raises(ValueError, match="two methods"):
        judge_ordering([("full", FULL)], True)
    summary = summarize_seeds({0: 1.0, 1: 3.0})
    assert (summary.n, summary.mean, summary.minimum, summary.maximum) == (2, 2.0, 1.0, 3.0)
    assert summary.std == pytest.approx(math.sqrt(2.0))
    assert math.isnan(summarize_seeds({0: 1.0}).std)


def test_holm_adjusts_by_rank_and_keeps_nan() -> None:
    adjusted = holm([0.01, 0.04, 0.03, float("nan"), 0.005])  # m = 4 finite p-values
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, np.nan, 0.02])  # 3×, max(1×0.04, 2×0.03), 2×, -, 4×
    np.testing.assert_array_equal(holm([0.5, 0.6]), [1.0, 1.0])  # capped at 1, never decreasing with rank
    assert holm([]).shape == (0,)


def test_min_detectable_improvement_is_where_the_t_test_turns() -> None:
    improvements = np.array([0.5, 1.5, 1.0])  # sd 0.5 over three seeds
    detectable = min_detectable_improvement(improvements, alpha=0.05)
    assert detectable == pytest.approx(4.303 * 0.5 / math.sqrt(3), rel=1e-3)  # t_{0.975, 2} = 4.303
    for shift in (-0.01, 0.01):  # the same spread, the mean just below and just above the threshold
        shifted = improvements - improvements.mean() + detectable + shift
        p_value = judge_claim({s: 0.0 for s in range(3)}, dict(enumerate(shifted)), lower_is_better=False).t_pvalue
        assert (p_value < 0.05) == (shift > 0)
    assert min_detectable_improvement(improvements, alpha=0.05 / 42) > 6 * detectable  # 42 rows: far less power
    assert min_detectable_improvement([2.0, 2.0], alpha=0.05) == 0.0
    assert math.isnan(min_detectable_improvement([1.0], alpha=0.05))
    with pytest.raises(ValueError, match="alpha"):
        min_detectable_improvement(improvements, alpha=0.0)
