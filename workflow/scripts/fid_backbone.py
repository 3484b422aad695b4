"""Snakemake adapter: the FID Inception (real weights, or the calibrated random fallback), the test split's
reference features and the floor (a second real sample against them), computed once for every evaluation."""

from rasc.atomic import atomic_path, write_json
from rasc.data.prepare import load_npz
from rasc.logs import script_logging
from rasc.metrics.fid import FIDBackbone, floor_record
from rasc.training.distributed import resolve_device

with script_logging(snakemake.log[0]) as log:
    settings = snakemake.params
    training = load_npz(snakemake.input.illustrations)["color"]
    backbone = FIDBackbone.load(
        weights_path=settings.weights,
        dims=settings.dims,
        calibration_images=training[: settings.calibration_images],
        device=resolve_device(settings.device),
    )
    backbone.save(snakemake.output.backbone)
    reference_images = load_npz(snakemake.input.reference)["color"]
    reference = backbone.features(reference_images)
    with atomic_path(snakemake.output.reference) as temporary:
        reference.save(temporary)
    # The floor: as many real training images (a second sample of the same distribution) against the reference.
    floor = floor_record(backbone, training, reference, len(reference_images))
    write_json(snakemake.output.floor, floor)
    log.info("FID backbone %s, floor %.3f over %d images", backbone.name, floor["fid_floor"], floor["images"])
