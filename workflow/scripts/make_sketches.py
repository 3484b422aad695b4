"""Snakemake adapter: sketches of one split in one style (rule make_sketches)."""

from rasc.data.prepare import load_npz, make_sketches
from rasc.imageio import save_npz
from rasc.logs import script_logging

with script_logging(snakemake.log[0]) as log:
    illustrations = load_npz(snakemake.input.illustrations)
    sketches = make_sketches(illustrations, snakemake.wildcards.style, snakemake.params.sketch, snakemake.params.seed)
    save_npz(snakemake.output.sketches, sketch=sketches)
    log.info("wrote %d %s sketches to %s", len(sketches), snakemake.wildcards.style, snakemake.output.sketches)
