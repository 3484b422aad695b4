"""Snakemake adapter: gradient-cosine histograms of the region correlation, one row per run and seed (paper Figs.
12 and 13)."""

from pathlib import Path

from rasc.figures import grad_cosine_figure, read_grad_cosine
from rasc.logs import script_logging

with script_logging(snakemake.log[0]):
    records = {}
    for run in snakemake.input.runs:
        folder = Path(run).parent
        path = folder / "grad_cosine.jsonl"
        records[f"{folder.parent.name}, {folder.name}"] = read_grad_cosine(path) if path.is_file() else []
    grad_cosine_figure(records, snakemake.output.figure)
