"""Snakemake adapter: train one experiment with one seed (rules train_model and train_claims_model, the latter at
claims.steps); resumes from its snapshot."""

from pathlib import Path

from rasc.config import with_train_steps
from rasc.experiment import train_experiment
from rasc.logs import script_logging
from rasc.stops import sigterm_as_interrupt

with script_logging(snakemake.log[0]) as log, sigterm_as_interrupt():  # a stopped job's MLflow run ends KILLED
    experiment = snakemake.wildcards.experiment
    steps = snakemake.params.settings["train"]["steps"]  # the rule's length: train.steps, or claims.steps
    result = train_experiment(
        with_train_steps(snakemake.config, experiment, steps),
        experiment,
        int(snakemake.wildcards.seed),
        illustrations=snakemake.input.illustrations,
        sketches=snakemake.input.sketches,
        regions=snakemake.input.regions,
        val_illustrations=snakemake.input.val_illustrations,
        val_sketches=snakemake.input.val_sketches,
        val_regions=snakemake.input.val_regions,
        loss_regions=getattr(snakemake.input, "loss_regions", None),
        out_dir=Path(snakemake.output.generator).parent,
        rule=snakemake.rule,
    )
    log.info("training finished: %s", result)
