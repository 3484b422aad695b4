"""Snakemake adapter: load (or fall back and calibrate) the FID Inception once for every evaluation."""

from rasc.data.prepare import load_npz
from rasc.logs import script_logging
from rasc.metrics.fid import FIDBackbone

with script_logging(snakemake.log[0]) as log:
    settings = snakemake.params.eval
    calibration = load_npz(snakemake.input.illustrations)["color"][: settings["fid_calibration_images"]]
    backbone = FIDBackbone.load(
        weights_path=settings["fid_weights"], dims=settings["fid_dims"], calibration_images=calibration
    )
    backbone.save(snakemake.output.backbone)
    log.info("FID backbone: %s", backbone.name)
