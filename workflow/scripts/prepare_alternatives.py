"""Snakemake adapter: the known valid colourings of the test split's drawings (rule prepare_alternatives)."""

from rasc.data.alternatives import prepare_alternatives
from rasc.data.prepare import load_npz
from rasc.imageio import save_npz
from rasc.logs import script_logging

with script_logging(snakemake.log[0]) as log:
    illustrations = load_npz(snakemake.input.illustrations)
    arrays = prepare_alternatives(illustrations, snakemake.params.data, "test", snakemake.params.alternatives)
    save_npz(snakemake.output.alternatives, compressed=True, **arrays)
    counts = arrays["alternative_count"]
    log.info("wrote up to %d valid colourings per drawing (mean %.2f, %d drawings with more than one) to %s",
             arrays["alternatives"].shape[1], counts.mean(), (counts > 1).sum(), snakemake.output.alternatives)
