"""Snakemake adapter: region maps of one split/style from one source, timed per image (rule region_maps)."""

from rasc.data.prepare import load_npz
from rasc.data.stats import write_csv
from rasc.imageio import save_npz
from rasc.logs import script_logging
from rasc.regions.build import build_region_maps, summary_table, timing_row
from rasc.training.distributed import resolve_device

with script_logging(snakemake.log[0]) as log:
    source, split, style = snakemake.wildcards.source, snakemake.wildcards.split, snakemake.wildcards.style
    sketches = load_npz(snakemake.input.sketches)["sketch"]
    device = str(resolve_device(snakemake.params.device))  # the learned sources' network only
    labels, seconds = build_region_maps(
        sketches, source, snakemake.input.get("model"), snakemake.params.trapped_ball_radii, device
    )
    save_npz(snakemake.output.labels, labels=labels)
    row = timing_row(source, split, style, seconds, labels, device)
    write_csv(summary_table([row]), snakemake.output.timing)
    log.info("%s", row)
