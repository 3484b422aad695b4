"""Snakemake adapter: qualitative grid of table 1's methods on one test set (paper Figs. 5 and 7), with the first
method's colouring as `rasc colorize` writes it (region-flat) under its own, its oracle colouring, and the reference
colourings below them (DESIGN §6, reference rows)."""

from rasc.data.prepare import load_npz
from rasc.figures import qualitative_figure
from rasc.logs import script_logging
from rasc.refine import flat_refinement_batch
from rasc.references import ORACLE_SUFFIX, REFERENCES, reference_name

REGION_FLAT_SUFFIX = ":region-flat"  # the row of `rasc colorize`'s default output (rasc.refine)

with script_logging(snakemake.log[0]):
    sketches = load_npz(snakemake.input.sketches)
    experiments = snakemake.params.experiments
    runs = {name: load_npz(path) for name, path in zip(experiments, snakemake.input.colorized)}
    shown = snakemake.params.n_sketches
    colorized = {}
    for name, run in runs.items():
        colorized[name] = run["predicted"]
        if name == experiments[0]:  # what the user gets from this model: its colours made flat per region
            colorized[name + REGION_FLAT_SUFFIX] = flat_refinement_batch(run["predicted"][:shown],
                                                                         sketches["sketch"][:shown])
    oracle = next((name for name, run in runs.items() if "oracle" in run), None)
    if oracle is not None:
        colorized[oracle + ORACLE_SUFFIX] = runs[oracle]["oracle"]
    for kind, path in zip(REFERENCES, snakemake.input.references):
        colorized[reference_name(kind)] = load_npz(path)["predicted"]
    truth = snakemake.input.get("illustrations")  # None for test set R: real sketches without ground truth
    qualitative_figure(
        sketches["sketch"],
        colorized,
        load_npz(truth)["color"] if truth else None,
        snakemake.output.figure,
        test_set=snakemake.wildcards.testset,
        n_sketches=shown,
        column_titles=sketches.get("names"),  # R: the file names of the user's sketches
        footnote=snakemake.params.footnote,
    )
