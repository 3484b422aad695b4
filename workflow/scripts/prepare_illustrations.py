"""Snakemake adapter: build one split's illustrations (rule prepare_illustrations)."""

from rasc.data.prepare import prepare_illustrations
from rasc.data.stats import log_data_run
from rasc.imageio import save_npz
from rasc.logs import script_logging

with script_logging(snakemake.log[0]) as log:
    split = snakemake.wildcards.split
    arrays = prepare_illustrations(snakemake.params.data, split)
    save_npz(snakemake.output.illustrations, **arrays)
    log.info("wrote %d illustrations to %s", len(arrays["color"]), snakemake.output.illustrations)
    log_data_run(arrays, split, snakemake.params.data, snakemake.params.mlflow_experiment, rule=snakemake.rule)
