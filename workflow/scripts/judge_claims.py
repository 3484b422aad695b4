"""Snakemake adapter: judge each claim of the paper over the training seeds (rule judge_claims)."""

from rasc.claim_specs import paper_claims
from rasc.claims import TEST_SETS_NOTE, describe_train_steps, judge_claims, with_train_steps_column
from rasc.data.stats import write_csv
from rasc.imageio import atomic_path
from rasc.logs import script_logging
from rasc.tables import collect_metrics, describe_data_source, with_data_source

with script_logging(snakemake.log[0]) as log:
    settings = snakemake.params.claims
    claims = judge_claims(
        collect_metrics(snakemake.input.metrics),
        paper_claims(snakemake.params.tables),
        confidence=settings["confidence"],
        bootstrap=settings["bootstrap"],
    )
    claims = with_data_source(claims, snakemake.params.data_source)
    claims = with_train_steps_column(claims, snakemake.params.train_steps)
    write_csv(claims, snakemake.output.claims)
    shown = claims[["claim", "test_set", "metric", "measured", "mean_improvement", "min_detectable", "p_value",
                    "p_holm", "reproduced"]]
    caption = (
        "Claims of the paper, judged over training seeds on each test set; p_value: paired t-test over seeds, "
        "p_holm: Holm-corrected over every row (the verdict uses it); mean_improvement: positive = as claimed; "
        "min_detectable: the smallest mean improvement that could have been called at the row's seed spread. "
        f"{describe_train_steps(claims)} "
        f"{TEST_SETS_NOTE} {describe_data_source(snakemake.params.data_source)}"
    )
    with atomic_path(snakemake.output.markdown) as temporary:
        temporary.write_text(f"{caption}\n\n{shown.to_markdown(index=False)}\n")
    log.info("claims:\n%s", claims.to_string(index=False))
