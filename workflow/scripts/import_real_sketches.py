"""Snakemake adapter: read the folder of real sketches (test set R, no ground truth)."""

from rasc.data.prepare import prepare_real_sketches
from rasc.imageio import save_npz
from rasc.logs import script_logging

with script_logging(snakemake.log[0]) as log:
    arrays = prepare_real_sketches({"size": snakemake.params.size, "folder": snakemake.params.folder})
    save_npz(snakemake.output.sketches, **arrays)
    log.info("wrote %d real sketches to %s", len(arrays["sketch"]), snakemake.output.sketches)
