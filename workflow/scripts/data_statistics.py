"""Snakemake adapter: region-count statistics of every split and their histogram (rule data_statistics)."""

from rasc.data.prepare import load_npz
from rasc.data.stats import plot_region_counts, split_statistics, write_csv
from rasc.logs import script_logging

with script_logging(snakemake.log[0]) as log:
    splits = {split: load_npz(path) for split, path in zip(snakemake.params.splits, snakemake.input.illustrations)}
    table = split_statistics(splits)
    write_csv(table, snakemake.output.stats)
    plot_region_counts(splits, snakemake.output.histogram)
    log.info("statistics:\n%s", table.to_string(index=False))
