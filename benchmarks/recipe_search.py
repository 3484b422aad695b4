"""Recipe search: train one model on procedural data for a few steps and score it against the reference rows.

Prints one JSON line per run: region colour error of the predicted-w and oracle-w (style-encoder posterior mean of
the ground truth) colourings on test set A, both as ΔE and as a fraction of the flat-colour reference
(``reference:constant``, the training split's mean colour everywhere), bleeding, and the step time. This is how
the CPU default's recipe was chosen (README, "Design decisions"; config/README.md). Data are cached per setting.

    python benchmarks/recipe_search.py --steps 800 --train '{"lambda_l1": 10}' --synth '{"zoom": 2.0}'
    python benchmarks/recipe_search.py --steps 4000 --curve 60    # + the learning curve of a long run
    python benchmarks/recipe_search.py --config config/openmoji.yaml --experiment pix2pix --steps 4000 --curve 60
    python benchmarks/recipe_search.py --regions ground_truth   # the model's region maps from the ground truth

``--regions ground_truth`` trains and tests the model on the data's ground-truth regions instead of trapped-ball
regions of the sketch: what a perfect region extractor would give the paper's Region Formulation (an upper bound
for the region maps, as the oracle is for w; not possible on a user's sketch, so no region source of the workflow).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch

from rasc.config import deep_merge, experiment_config, load_config
from rasc.data.prepare import make_sketches, prepare_illustrations
from rasc.evaluate import colorize_set, region_metrics
from rasc.experiment import model_configs
from rasc.references import constant_colouring, nearest_colouring
from rasc.regions import extract_regions_batch
from rasc.training.loop import train
from rasc.training.options import TrainConfig
from rasc.training.data import TrainData


REGION_MAPS = {"trapped_ball": "trapped_ball", "ground_truth": "regions"}  # --regions → the split's array of them


def build_split(config: dict, split: str, cache: Path) -> dict[str, np.ndarray]:
    """Illustrations (of the configured source), XDoG sketches and trapped-ball regions of one split, cached by the
    data settings."""
    key = hashlib.sha256(json.dumps([config["data"], config["sketch"], split], sort_keys=True).encode()).hexdigest()[:12]
    path = cache / f"{split}_{key}.npz"
    if path.is_file():
        with np.load(path) as archive:
            return dict(archive)
    arrays = prepare_illustrations(config["data"], split)
    arrays["sketch"] = make_sketches(arrays, "xdog", config["sketch"], seed=int(config["data"]["seed"]))
    arrays["trapped_ball"] = extract_regions_batch(arrays["sketch"], "trapped_ball")
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return arrays


def resolve_config(config: dict, experiment: str, data: dict, model: dict, train: dict) -> dict:
    """The config with the data overrides, then the experiment's model/train overrides, then the command line's
    model/train overrides (which win) merged in."""
    config = {**config, "data": deep_merge(config["data"], data)}
    config.update(experiment_config(config, experiment))
    config["model"] = deep_merge(config["model"], model)
    config["train"] = deep_merge(config["train"], train)
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--data", default="{}", help="JSON overrides of the data section")
    parser.add_argument("--synth", default="{}", help="JSON overrides of data.synth")
    parser.add_argument("--experiment", default="full",
                        help="an experiment of the config whose model/train overrides apply first (e.g. pix2pix)")
    parser.add_argument("--model", default="{}", help="JSON overrides of the model section")
    parser.add_argument("--train", default="{}", help="JSON overrides of the train section")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0, help="training seed (initialisation, data order, noise)")
    parser.add_argument("--cache", default="/tmp/rasc-recipe")
    parser.add_argument("--out", default=None, help="training folder (default: under --cache, by settings)")
    parser.add_argument("--label", default="")
    parser.add_argument("--regions", choices=list(REGION_MAPS), default="trapped_ball",
                        help="the model's region maps: trapped-ball of the sketch (the default's source) or the "
                             "data's ground-truth regions (an upper bound)")
    parser.add_argument("--curve", type=int, default=0,
                        help="score the EMA generator on this many test-set-A images at every snapshot "
                             "(curves.jsonl in the run folder: the learning curve of a long run)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    config = resolve_config(load_config(args.config), args.experiment,
                            data={**json.loads(args.data), "synth": json.loads(args.synth)},
                            model=json.loads(args.model), train=json.loads(args.train))
    if args.steps:
        config["train"]["steps"] = args.steps
    cache = Path(args.cache)
    train_split, test_split = (build_split(config, split, cache) for split in ("train", "test"))

    seed_key = [args.seed] if args.seed else []  # seed 0 keeps the run folders of the rows measured before --seed
    source_key = [args.regions] if args.regions != "trapped_ball" else []  # keeps the folders of earlier rows
    settings = json.dumps([config["data"], config["model"], config["train"]] + seed_key + source_key, sort_keys=True)
    maps = REGION_MAPS[args.regions]  # the splits' array of the model's region maps
    out_dir = Path(args.out or cache / "runs" / hashlib.sha256(settings.encode()).hexdigest()[:12])
    gen_cfg, disc_cfg = model_configs(config["model"], int(config["data"]["size"]))
    train_cfg = TrainConfig.from_section({**config["train"], "threads": args.threads, "device": "cpu"}, seed=args.seed)
    data = TrainData(sketch=train_split["sketch"], color=train_split["color"], regions=train_split[maps])
    start = time.perf_counter()
    validation = None
    if args.curve:
        from rasc.validation import ValidationSet

        validation = ValidationSet.from_arrays(test_split, test_split["sketch"], test_split[maps],
                                               train_split["color"], args.curve)
    result = train(train_cfg, gen_cfg, disc_cfg, data, out_dir, progress=False, validation=validation)
    seconds = time.perf_counter() - start

    from rasc.training.checkpoint import load_generator

    generator, _ = load_generator(out_dir / "generator.pt")
    sketches, regions = test_split["sketch"], test_split[maps]
    colourings = {"predicted": colorize_set(generator, sketches, regions)[:, 0]}
    if gen_cfg.latent == "posterior":
        from rasc.references import oracle_colouring

        colourings["oracle"] = oracle_colouring(generator, sketches, regions, test_split["color"])
    colourings["constant"] = constant_colouring(train_split["color"], len(sketches))
    colourings["nearest"] = nearest_colouring(train_split["sketch"], train_split["color"], sketches)
    scores = {name: region_metrics(images, np.repeat(images[:, None], 2, axis=1), sketches, test_split) for name, images in
              colourings.items()}
    constant = scores["constant"]["colour_error"]
    row = {
        "label": args.label,
        "region_maps": args.regions,
        "experiment": args.experiment,
        "seed": args.seed,
        "steps": result.steps,
        "sec_per_step": round(seconds / max(result.steps, 1), 3),
        "regions_per_image": float(np.mean(test_split["regions"].reshape(len(sketches), -1).max(1) + 1)),
        **{f"{name}_colour_error": round(s["colour_error"], 2) for name, s in scores.items()},
        **{f"{name}_vs_constant": round(s["colour_error"] / constant, 3) for name, s in scores.items()},
        **{f"{name}_bleeding": round(s["bleeding"], 2) for name, s in scores.items()},
        "data": json.loads(args.data), "synth": json.loads(args.synth), "model": json.loads(args.model),
        "train": json.loads(args.train), "out_dir": str(out_dir),
    }
    print(json.dumps(row))


if __name__ == "__main__":
    main()
