"""Snakemake adapter: gradient-cosine histograms of the region correlation, one row per run and seed (paper Figs.
12 and 13)."""

from pathlib import Path

from rasc.figures import grad_cosine_figure
from rasc.logs import script_logging
from rasc.training.run_files import GRAD_COSINE, read_jsonl

with script_logging(snakemake.log[0]):
    records = {}
    for run in snakemake.input.runs:
        folder = Path(run).parent
        records[f"{folder.parent.name}, {folder.name}"] = read_jsonl(folder / GRAD_COSINE)
    grad_cosine_figure(records, snakemake.output.figure)
