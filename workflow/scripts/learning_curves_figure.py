"""Snakemake adapter: learning curves of table 1's models, first seed (rasc.validation)."""

import json
from pathlib import Path

from rasc.figures import learning_curves_figure
from rasc.logs import script_logging
from rasc.validation import CURVES

with script_logging(snakemake.log[0]):
    curves = {}
    for run in snakemake.input.runs:
        path = Path(run).parent / CURVES
        lines = path.read_text().splitlines() if path.is_file() else []
        curves[Path(run).parent.parent.name] = [json.loads(line) for line in lines if line.strip()]
    learning_curves_figure(curves, snakemake.output.figure)
