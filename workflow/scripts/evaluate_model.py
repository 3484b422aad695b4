"""Snakemake adapter: evaluate one trained generator on one test set (rule evaluate_model)."""

import json

from rasc.atomic import write_json
from rasc.data.prepare import load_npz
from rasc.evaluate import evaluate_set
from rasc.imageio import save_npz
from rasc.logs import script_logging
from rasc.metrics.fid import FIDBackbone, FIDFeatures
from rasc.tracking import Tracker
from rasc.training.checkpoint import load_generator
from rasc.training.distributed import resolve_device

with script_logging(snakemake.log[0]) as log:
    wildcards = snakemake.wildcards
    parent = json.loads(open(snakemake.input.run).read()).get("run_id")
    tracker = Tracker.start(
        snakemake.params.mlflow_experiment,
        run_name=f"eval-{wildcards.experiment}-seed{wildcards.seed}-{wildcards.testset}",
        tags={
            "snakemake.rule": snakemake.rule,
            "rasc.experiment": wildcards.experiment,
            "rasc.seed": wildcards.seed,
            "rasc.test_set": wildcards.testset,
        },
        parent_run_id=parent,
    )
    with tracker:
        device = str(resolve_device(snakemake.params.device))
        generator, _ = load_generator(snakemake.input.generator, device)
        truth = snakemake.input.get("illustrations")  # None for test set R: real sketches without ground truth
        ground_truth = (load_npz(truth) | load_npz(snakemake.input.alternatives)) if truth else None
        metrics, colourings = evaluate_set(
            generator,
            sketches=load_npz(snakemake.input.sketches)["sketch"],
            regions=load_npz(snakemake.input.regions)["labels"],
            ground_truth=ground_truth,
            backbone=FIDBackbone.from_file(snakemake.input.backbone, device),
            reference_features=FIDFeatures.load(snakemake.input.reference),
            floor=json.loads(open(snakemake.input.floor).read())["fid_floor"],
            diversity_samples=snakemake.params.diversity_samples,
            device=device,
            prior=snakemake.params.style_prior,
        )
        metrics |= {"experiment": wildcards.experiment, "seed": int(wildcards.seed), "test_set": wildcards.testset}
        tracker.set_tags({"fid_backbone": metrics["fid_backbone"], "style_prior": metrics["style_prior"]})
        tracker.log_metrics({f"eval/{k}": v for k, v in metrics.items() if isinstance(v, float)}, step=0)
        tracker.log_metrics({f"eval/oracle_{k}": v for k, v in metrics.get("oracle", {}).items()
                             if isinstance(v, float)}, step=0)
        save_npz(snakemake.output.colorized, **colourings)
        write_json(snakemake.output.metrics, metrics)
        tracker.log_artifact(snakemake.output.metrics)
        log.info("metrics: %s", metrics)
