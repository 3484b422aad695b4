"""The paper's claims as data: which two experiments each claim compares, on which metric (no statistics).

Light enough for the Snakefile, which needs only the experiments the claims compare; judging them over seeds is
`rasc.claims`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    """A claim "methods[0] beats methods[1]" on one metric."""

    text: str  # the claim as the paper makes it
    source: str  # where the paper makes it
    metric: str  # a column of the metrics files
    methods: tuple[str, str]  # experiments: claimed better, claimed worse
    lower_is_better: bool = True

    def __post_init__(self) -> None:
        if len(self.methods) != 2:
            raise ValueError(f"a claim compares two experiments, got {self.methods}")


def paper_claims(tables: Mapping[str, Sequence[str]]) -> list[Claim]:
    """The claims of Tables II–IV that this config's experiments can test, with the controls `rasc.claims`' module doc
    explains (one patch against region information; the same region source for the CWR comparison)."""
    patches = sorted((name for name in tables.get("table4", []) if name.startswith("patches_")),
                     key=lambda name: int(name.removeprefix("patches_")))
    chain = "full < w/o region formulation < w/o region maps in FID"
    claims = [
        Claim(f"{chain}: full vs w/o region formulation", "Table II", "fid", ("full", "no_region_formulation")),
        Claim(f"{chain}: w/o region formulation vs w/o region maps", "Table II", "fid",
              ("no_region_formulation", "no_region_maps")),
        Claim("region guidance reduces colour bleeding (full vs w/o region maps)", "Table II, Fig. 7", "bleeding",
              ("full", "no_region_maps")),
        Claim("region guidance reduces semantic inconsistency (full vs w/o region maps)", "Table II, Fig. 7",
              "inconsistency", ("full", "no_region_maps")),
        Claim("fewer artifacts are not flat-but-wrong painting: region colour error (full vs w/o region maps)",
              "DESIGN §6", "colour_error", ("full", "no_region_maps")),
        Claim("control: region information, not the region factor's gating, improves FID (full vs one patch)",
              "Table II, IV", "fid", ("full", "patches_1")),
        Claim("control: region information, not the region factor's gating, reduces bleeding (full vs one patch)",
              "Table II, Fig. 7", "bleeding", ("full", "patches_1")),
        Claim("explicit region formulation beats CWR's pixel-wise skeleton maps in FID, same learned regions "
              "(learned regions vs CWR-style)", "Table II", "fid", ("learned_regions", "cwr_skeleton")),
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


def claim_experiments(claims: Iterable[Claim]) -> list[str]:
    """The experiments some claim compares, sorted."""
    return sorted({name for claim in claims for name in claim.methods})
