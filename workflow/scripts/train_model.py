"""Snakemake adapter: train one experiment with one seed (rule train_model); resumes from its snapshot."""

from rasc.experiment import train_experiment
from rasc.logs import script_logging

with script_logging(snakemake.log[0]) as log:
    result = train_experiment(
        snakemake.config,
        snakemake.wildcards.experiment,
        int(snakemake.wildcards.seed),
        illustrations=snakemake.input.illustrations,
        sketches=snakemake.input.sketches,
        regions=snakemake.input.regions,
        val_illustrations=snakemake.input.val_illustrations,
        val_sketches=snakemake.input.val_sketches,
        val_regions=snakemake.input.val_regions,
        loss_regions=getattr(snakemake.input, "loss_regions", None),
        out_dir=f"results/train/{snakemake.wildcards.experiment}/seed{snakemake.wildcards.seed}",
        rule=snakemake.rule,
    )
    log.info("training finished: %s", result)
