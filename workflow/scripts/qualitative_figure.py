"""Snakemake adapter: qualitative grid of table 1's methods on one test set (paper Figs. 5 and 7)."""

from rasc.data.prepare import load_npz
from rasc.figures import qualitative_figure
from rasc.logs import script_logging

with script_logging(snakemake.log[0]):
    sketches = load_npz(snakemake.input.sketches)
    colorized = {name: load_npz(path)["predicted"] for name, path in zip(snakemake.params.experiments, snakemake.input.colorized)}
    truth = snakemake.input.get("illustrations")  # None for test set R: real sketches without ground truth
    qualitative_figure(
        sketches["sketch"],
        colorized,
        load_npz(truth)["color"] if truth else None,
        snakemake.output.figure,
        test_set=snakemake.wildcards.testset,
        n_sketches=snakemake.params.n_sketches,
        column_titles=sketches.get("names"),  # R: the file names of the user's sketches
        footnote=snakemake.params.footnote,
    )
