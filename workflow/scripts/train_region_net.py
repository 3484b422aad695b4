"""Snakemake adapter: train the DanbooRegion-style extractor on the training split (rule train_region_net)."""

import numpy as np

from rasc.data.prepare import load_npz
from rasc.logs import script_logging
from rasc.regions.learned import RegionNetConfig, train_region_net
from rasc.tracking import Tracker, config_hash

with script_logging(snakemake.log[0]) as log:
    illustrations = load_npz(snakemake.input.illustrations)
    if "regions" not in illustrations:
        raise ValueError("the learned region extractor trains on ground-truth regions: only procedural data has them")
    settings = dict(snakemake.params.learned)
    tracker = Tracker.start(
        snakemake.params.mlflow_experiment,
        run_name="region-net",
        tags={"snakemake.rule": snakemake.rule, "config.sha256": config_hash(settings)},
    )
    # One net for every sketch style: XDoG, clean and rough line art of the same training illustrations.
    sketches = np.concatenate(
        [load_npz(snakemake.input.sketches)["sketch"], illustrations["lines_clean"], illustrations["lines_rough"]]
    )  # (3N, H, W)
    regions = np.concatenate([illustrations["regions"]] * 3)  # (3N, H, W)
    with tracker:
        tracker.log_params({"regions.learned": settings})
        stats = train_region_net(
            sketches,
            regions,
            RegionNetConfig(**settings),
            snakemake.output.model,
            tracker=tracker,
            progress=False,
        )
        log.info("trained region net: %s", stats)
