"""Snakemake adapter: train one DanbooRegion-style extractor on the training split (rule train_region_net)."""

from rasc.data.prepare import load_npz
from rasc.logs import script_logging
from rasc.regions.learned import RegionNetConfig, train_region_net, training_set
from rasc.tracking import Tracker, config_hash
from rasc.training.distributed import resolve_device

with script_logging(snakemake.log[0]) as log:
    illustrations = load_npz(snakemake.input.illustrations)
    settings = dict(snakemake.params.learned)
    styles = list(snakemake.params.train_styles)
    net = snakemake.wildcards.net
    tracker = Tracker.start(
        snakemake.params.mlflow_experiment,
        run_name=f"region-net-{net}",
        tags={"snakemake.rule": snakemake.rule, "config.sha256": config_hash({**settings, "train_styles": styles})},
    )
    # The training illustrations once per sketch style: XDoG only by default (regions.learned.train_styles).
    sketches, regions = training_set(illustrations, load_npz(snakemake.input.sketches)["sketch"], styles)
    with tracker:
        tracker.log_params({"regions.learned": settings, "regions.learned.train_styles": styles, "net": net})
        stats = train_region_net(
            sketches,
            regions,
            RegionNetConfig(**settings),
            snakemake.output.model,
            tracker=tracker,
            progress=False,
            device=resolve_device(snakemake.params.device),
        )
        log.info("trained region net %s on %s: %s", net, styles, stats)
