"""Snakemake adapter: score one reference colouring of one test set (rule evaluate_reference; rasc.references)."""

import json

from rasc.atomic import write_json
from rasc.data.prepare import load_npz
from rasc.evaluate import fixed_colouring_metrics
from rasc.imageio import save_npz
from rasc.logs import script_logging
from rasc.metrics.fid import FIDBackbone, FIDFeatures
from rasc.references import reference_colouring, reference_name
from rasc.tracking import Tracker
from rasc.training.distributed import resolve_device

with script_logging(snakemake.log[0]) as log:
    kind, test_set = snakemake.wildcards.kind, snakemake.wildcards.testset
    name = reference_name(kind)
    tracker = Tracker.start(
        snakemake.params.mlflow_experiment,
        run_name=f"eval-reference-{kind}-{test_set}",
        tags={"snakemake.rule": snakemake.rule, "rasc.experiment": name, "rasc.test_set": test_set},
    )
    with tracker:
        sketches = load_npz(snakemake.input.sketches)["sketch"]
        train = load_npz(snakemake.input.train_illustrations)
        colouring = reference_colouring(kind, train["color"], load_npz(snakemake.input.train_sketches)["sketch"], sketches)
        truth = snakemake.input.get("illustrations")  # None for test set R: real sketches without ground truth
        metrics = fixed_colouring_metrics(
            colouring,
            sketches,
            (load_npz(truth) | load_npz(snakemake.input.alternatives)) if truth else None,
            backbone=FIDBackbone.from_file(snakemake.input.backbone, resolve_device(snakemake.params.device)),
            reference_features=FIDFeatures.load(snakemake.input.reference),
            floor=json.loads(open(snakemake.input.floor).read())["fid_floor"],
            coverage=True,  # its one colouring scored as samples: the floor of diversity precision and recall
        )
        metrics |= {"experiment": name, "seed": 0, "test_set": test_set}
        tracker.set_tags({"fid_backbone": metrics["fid_backbone"]})
        tracker.log_metrics({f"eval/{k}": v for k, v in metrics.items() if isinstance(v, float)}, step=0)
        save_npz(snakemake.output.colorized, predicted=colouring)
        write_json(snakemake.output.metrics, metrics)
        log.info("metrics: %s", metrics)
