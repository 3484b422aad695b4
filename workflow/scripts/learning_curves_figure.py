"""Snakemake adapter: learning curves of the given training runs, grouped by experiment over their seeds
(rasc.validation, rasc.figures.learning_curves_figure)."""

from pathlib import Path

from rasc.figures import learning_curves_figure
from rasc.logs import script_logging
from rasc.training.run_files import CURVES, read_jsonl

with script_logging(snakemake.log[0]):
    curves_by_experiment = {}
    for run in snakemake.input.runs:  # results/train/{experiment}/seed{seed}/run.json
        folder = Path(run).parent
        curves_by_experiment.setdefault(folder.parent.name, []).append(read_jsonl(folder / CURVES))
    learning_curves_figure(curves_by_experiment, snakemake.output.figure, title=snakemake.params.title)
