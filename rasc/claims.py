"""The paper's claims, each judged over training seeds (DESIGN §6) → ``results/claims.csv``.

A metric's per-seed value is its mean over the evaluated test sets (the paper reports averages over its three test
sets). Test set R, a folder of the user's own sketches, is left out: the verdicts are about the reproduction's own
test sets and must not change with whatever folder one points at, and R measures FID only, so averaging it in
would mix different sets of test sets per metric. Verdicts come from :mod:`rasc.metrics.stats`: yes, no, within
noise, or insufficient seeds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from rasc.data.prepare import drawn_from_test_split
from rasc.metrics.stats import judge_claim, judge_ordering


@dataclass(frozen=True)
class Claim:
    """A claim "methods[0] beats methods[1] (beats methods[2] ...)" on one metric."""

    text: str  # the claim as the paper makes it
    source: str  # where the paper makes it
    metric: str  # a column of the metrics files
    methods: tuple[str, ...]  # experiments, best first
    lower_is_better: bool = True


def paper_claims(tables: Mapping[str, Sequence[str]]) -> list[Claim]:
    """The claims of Tables II–IV that this config's experiments can test."""
    patches = sorted((name for name in tables.get("table4", []) if name.startswith("patches_")),
                     key=lambda name: int(name.removeprefix("patches_")))
    claims = [
        Claim("full < w/o region formulation < w/o region maps in FID", "Table II", "fid",
              ("full", "no_region_formulation", "no_region_maps")),
        Claim("region guidance reduces colour bleeding (full vs w/o region maps)", "Table II, Fig. 7", "bleeding",
              ("full", "no_region_maps")),
        Claim("region guidance reduces semantic inconsistency (full vs w/o region maps)", "Table II, Fig. 7",
              "inconsistency", ("full", "no_region_maps")),
        Claim("fewer artifacts are not flat-but-wrong painting: region colour error (full vs w/o region maps)",
              "DESIGN §6", "colour_error", ("full", "no_region_maps")),
        Claim("explicit region formulation beats CWR's pixel-wise skeleton maps in FID (full vs CWR-style)",
              "Table II", "fid", ("full", "cwr_skeleton")),
        Claim("full has fewer artifacts than CWR: less colour bleeding (full vs CWR-style)", "Table II, Fig. 7",
              "bleeding", ("full", "cwr_skeleton")),
        Claim("trapped-ball region maps beat DanbooRegion-style maps in FID", "Table III", "fid",
              ("full", "learned_regions")),
    ]
    if len(patches) >= 2:
        few, many = patches[0], patches[-1]
        claims += [
            Claim(f"more patches give more diversity ({many} vs {few})", "Table IV", "diversity", (many, few), False),
            Claim(f"more patches give more diversity: recall of the known valid colourings ({many} vs {few})",
                  "Table IV", "diversity_recall", (many, few), False),
            Claim(f"more patches give more diversity: precision, samples close to a valid colouring ({many} vs {few})",
                  "Table IV", "diversity_precision", (many, few), False),
            Claim(f"more patches give fewer artifacts: less bleeding ({many} vs {few})", "Table IV", "bleeding",
                  (many, few)),
            Claim(f"trapped-ball regions beat the finest patch grid in FID (full vs {many})", "Table IV", "fid",
                  ("full", many)),
        ]
    return claims


def per_seed_values(runs: pd.DataFrame, experiment: str, metric: str) -> dict[int, float]:
    """{seed: metric averaged over test sets} of one experiment (seeds without a value are left out)."""
    rows = runs[runs["experiment"] == experiment]
    values = pd.to_numeric(rows[metric], errors="coerce").groupby(rows["seed"]).mean().dropna()
    return {int(seed): float(value) for seed, value in values.items()}


def judge_claims(runs: pd.DataFrame, claims: Sequence[Claim], confidence: float, bootstrap: int) -> pd.DataFrame:
    """One row per claim: what was measured over seeds and the verdict (test set R's rows are ignored)."""
    runs = runs[runs["test_set"].map(drawn_from_test_split)]
    rows = []
    for claim in claims:
        row: dict[str, object] = {"claim": claim.text, "paper": claim.source, "metric": claim.metric,
                                  "methods": " > ".join(claim.methods)}
        missing = [m for m in claim.methods if m not in set(runs["experiment"])]
        if missing:
            rows.append(row | {"reproduced": "not run", "reason": f"experiments not evaluated: {', '.join(missing)}"})
            continue
        values = [(m, per_seed_values(runs, m, claim.metric)) for m in claim.methods]
        options = {"confidence": confidence, "n_resamples": bootstrap}
        means = "; ".join(f"{m}: {pd.Series(v).mean():.4g} ± {pd.Series(v).std():.2g} (n={len(v)})" for m, v in values)
        if len(values) == 2:
            result = judge_claim(values[0][1], values[1][1], claim.lower_is_better, **options)
            verdict, reason = result.verdict, result.reason
            row |= {"mean_improvement": result.mean_improvement, "ci_low": result.ci_low, "ci_high": result.ci_high,
                    "t_pvalue": result.t_pvalue, "n_seeds": result.n}
        else:
            ordering = judge_ordering(values, claim.lower_is_better, **options)
            verdict = ordering.verdict
            reason = " | ".join(f"{a} vs {b}: {link.verdict} ({link.reason})"
                                for (a, b), link in zip(zip(claim.methods, claim.methods[1:]), ordering.links))
            row |= {"n_seeds": min(link.n for link in ordering.links)}
        rows.append(row | {"measured": means, "reproduced": verdict, "reason": reason})
    return pd.DataFrame(rows)
