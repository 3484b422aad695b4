"""Snakemake adapter: gradient-cosine histograms of the region correlation (paper Figs. 12 and 13)."""

from pathlib import Path

from rasc.figures import grad_cosine_figure, read_grad_cosine
from rasc.logs import script_logging

with script_logging(snakemake.log[0]):
    records = {}
    for run in snakemake.input.runs:
        folder = Path(run).parent
        path = folder / "grad_cosine.jsonl"
        records[folder.parent.name] = read_grad_cosine(path) if path.is_file() else []
    grad_cosine_figure(records, snakemake.output.figure)
