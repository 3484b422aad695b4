"""Snakemake adapter: colourings and region maps of one table's experiments (paper Figs. 9 and 10)."""

from rasc.data.prepare import load_npz
from rasc.figures import region_comparison_figure
from rasc.logs import script_logging

with script_logging(snakemake.log[0]):
    sources = snakemake.params.sources  # experiment → region source, in table order
    colorized = {name: load_npz(path)["predicted"] for name, path in zip(sources, snakemake.input.colorized)}
    region_maps = {source: load_npz(path)["labels"] for source, path in zip(sources.values(), snakemake.input.regions)}
    region_comparison_figure(
        load_npz(snakemake.input.sketches)["sketch"],
        colorized,
        region_maps,
        sources,
        load_npz(snakemake.input.illustrations)["color"],  # FIRST_TEST_SET is always one with ground truth
        snakemake.output.figure,
        title=snakemake.params.title,
        n_sketches=snakemake.params.n_sketches,
        footnote=snakemake.params.footnote,
    )
