"""Snakemake adapter: the FID floor at the size of test set R (as many training images as real sketches against
the test split's reference features): FID is biased upward for small samples, so R's floor is its own."""

from rasc.atomic import write_json
from rasc.data.prepare import load_npz
from rasc.logs import script_logging
from rasc.metrics.fid import FIDBackbone, FIDFeatures, floor_record
from rasc.training.distributed import resolve_device

with script_logging(snakemake.log[0]) as log:
    count = len(load_npz(snakemake.input.sketches)["sketch"])
    floor = floor_record(
        FIDBackbone.from_file(snakemake.input.backbone, resolve_device(snakemake.params.device)),
        load_npz(snakemake.input.illustrations)["color"],
        FIDFeatures.load(snakemake.input.reference),
        count,
    )
    write_json(snakemake.output.floor, floor)
    log.info("FID floor %.3f over %d images (%d real sketches)", floor["fid_floor"], floor["images"], count)
