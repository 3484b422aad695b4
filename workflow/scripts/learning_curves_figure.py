"""Snakemake adapter: learning curves of the given training runs, grouped by experiment over their seeds
(rasc.validation, rasc.figures.learning_curves_figure)."""

import json
from pathlib import Path

from rasc.figures import learning_curves_figure
from rasc.logs import script_logging
from rasc.validation import CURVES

with script_logging(snakemake.log[0]):
    curves_by_experiment = {}
    for run in snakemake.input.runs:  # results/train/{experiment}/seed{seed}/run.json
        path = Path(run).parent / CURVES
        lines = path.read_text().splitlines() if path.is_file() else []
        points = [json.loads(line) for line in lines if line.strip()]
        curves_by_experiment.setdefault(Path(run).parent.parent.name, []).append(points)
    learning_curves_figure(curves_by_experiment, snakemake.output.figure, title=snakemake.params.title)
