"""Snakemake adapter: qualitative grid of table 1's methods on one test set (paper Figs. 5 and 7)."""

from rasc.data.prepare import load_npz
from rasc.figures import qualitative_figure
from rasc.logs import script_logging

with script_logging(snakemake.log[0]):
    sketches = load_npz(snakemake.input.sketches)["sketch"]
    illustrations = load_npz(snakemake.input.illustrations)
    colorized = {name: load_npz(path)["predicted"] for name, path in zip(snakemake.params.experiments, snakemake.input.colorized)}
    has_truth = snakemake.wildcards.testset != "R"
    qualitative_figure(
        sketches,
        colorized,
        illustrations["color"] if has_truth else None,
        snakemake.output.figure,
        test_set=snakemake.wildcards.testset,
        n_sketches=snakemake.params.n_sketches,
    )
