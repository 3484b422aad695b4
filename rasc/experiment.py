"""One experiment of the workflow config → the model and training configs, and its training run.

The Snakemake rule ``train_model`` and ``rasc train`` both call :func:`train_experiment`, so a training started
by hand and one started by the workflow are the same run.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rasc.config import experiment_config
from rasc.regions.sources import parse_source
from rasc.tracking import config_hash

MLFLOW_EXPERIMENT = "rasc"


def model_configs(model: Mapping[str, Any], image_size: int):
    """The resolved ``model`` section → (GeneratorConfig, DiscriminatorConfig)."""
    from rasc.models import DiscriminatorConfig, GeneratorConfig

    generator = GeneratorConfig(
        image_size=image_size,
        base_channels=model["base_channels"],
        max_channels=model["max_channels"],
        num_blocks=model["num_blocks"],
        w_dim=model["w_dim"],
        variant=model["variant"],
        correlation=model["correlation"],
        latent=model["latent"],
        gate=model["gate"],
        architecture=model["architecture"],
        ink_in_region_max=model["ink_in_region_max"],
        encoder_norm_groups=model["encoder_norm_groups"],
        to_rgb=model["to_rgb"],
        style_thumbnail=model["style_thumbnail"],
        style_regions=model["style_regions"],
        palette_slots=model["palette_slots"],
        region_context=model["region_context"],
    )
    discriminator = DiscriminatorConfig(
        image_size=image_size, base_channels=model["disc_base_channels"], max_channels=model["disc_max_channels"],
        conditional=model["disc_conditional"], architecture=model["disc_architecture"],
        patch_layers=model["disc_patch_layers"],
    )
    return generator, discriminator


# Region Formulation's attention over the regions dominates a step from about this many regions per image on (at
# 64², 1,024 patches of 2×2 px train in about 1.2–1.6× the time of trapped-ball's ~30 regions: 1,417–1,568 s
# against 912–1,300 s at 3,200 steps with the padded fused attention of rasc.models.region_formulation,
# 1,939–2,397 s before it).
MANY_REGIONS = 1024


def training_priority(config: Mapping[str, Any], experiment: str) -> int:
    """Snakemake priority of an experiment's training: the longer its steps, the sooner it starts, so that a run on
    a few cores ends on its cheapest training rather than its longest (longest-processing-time-first). 10 for the
    pix2pix U-Net with its PatchGAN (about 0.2× a RASC step), 12 for a Region Formulation over ``MANY_REGIONS``
    patches or more, 11 for the rest; all above the evaluations' 0."""
    model = experiment_config(config, experiment)["model"]
    if model["architecture"] == "unet":
        return 10
    method, options = parse_source(model["region_source"])
    return 12 if method == "patches" and options["n_patches"] >= MANY_REGIONS else 11


# The region maps whose areas weight the pixel L1 (train.l1_region_power) in every experiment, whatever region maps
# its network sees: the patch grids' equal squares would weight nothing, and Table IV would compare losses too.
L1_WEIGHT_REGION_SOURCE = "trapped_ball"


def loss_regions_path(train_section: Mapping[str, Any]) -> Path | None:
    """The training region maps that weight the pixel L1, or None when the L1 is not region-weighted."""
    if float(train_section.get("l1_region_power", 0.0)) <= 0:
        return None
    return Path(f"results/regions/{L1_WEIGHT_REGION_SOURCE}/train_xdog.npz")


def resolve_loss_regions(settings: Mapping[str, Any], regions: str | Path | None = None,
                         loss_regions: str | Path | None = None) -> Path | None:
    """The maps that weight the pixel L1 of an experiment (its resolved model and train sections), or None when the
    L1 is not region-weighted: ``loss_regions`` when given, else given ``regions`` of the weighting's own source,
    else the workflow's file (`loss_regions_path`)."""
    default = loss_regions_path(settings["train"])
    if default is None:
        return None
    if loss_regions is not None:
        return Path(loss_regions)
    if regions is not None and settings["model"]["region_source"] == L1_WEIGHT_REGION_SOURCE:
        return Path(regions)
    return default


def default_paths(experiment: str, seed: int, region_source: str) -> dict[str, Path]:
    """The workflow's paths of an experiment's inputs and output folder (``val_*``: the learning-curve subset,
    test set A)."""
    return {
        "illustrations": Path("results/data/train/illustrations.npz"),
        "sketches": Path("results/data/train/sketch_xdog.npz"),
        "regions": Path(f"results/regions/{region_source}/train_xdog.npz"),
        "val_illustrations": Path("results/data/test/illustrations.npz"),
        "val_sketches": Path("results/data/test/sketch_xdog.npz"),
        "val_regions": Path(f"results/regions/{region_source}/test_xdog.npz"),
        "out_dir": Path(f"results/train/{experiment}/seed{seed}"),
    }


def train_experiment(
    config: Mapping[str, Any],
    experiment: str,
    seed: int,
    illustrations: str | Path | None = None,
    sketches: str | Path | None = None,
    regions: str | Path | None = None,
    out_dir: str | Path | None = None,
    progress: bool = False,
    rule: str = "cli",
    val_illustrations: str | Path | None = None,
    val_sketches: str | Path | None = None,
    val_regions: str | Path | None = None,
    loss_regions: str | Path | None = None,
):
    """Train (or resume) one experiment with one seed; returns the training result.

    ``loss_regions``: the trapped-ball maps of the training sketches that weight the pixel L1 when
    ``train.l1_region_power`` > 0 (default: the workflow's path, `loss_regions_path`); unused otherwise.

    The learning curves score the first ``eval.curve_images`` sketches of the ``val_*`` files (default: test set
    A) at every snapshot; they are skipped when those files do not exist (e.g. ``rasc train`` before the test
    split was built) or ``curve_images`` is 0. The device is checked before the MLflow run is started, and the run
    always ends FINISHED, FAILED or KILLED, whatever stops the training (a refused resume, a missing device, an
    interrupt).
    """
    from rasc.training.distributed import resolve_device
    from rasc.training.loop import start_training_tracker, train
    from rasc.training.options import TrainConfig
    from rasc.training.data import load_train_data
    from rasc.training.run_files import exclusive_run_folder
    from rasc.validation import ValidationSet

    settings = experiment_config(config, experiment)
    paths = default_paths(experiment, seed, settings["model"]["region_source"])
    given = dict(illustrations=illustrations, sketches=sketches, regions=regions, out_dir=out_dir,
                 val_illustrations=val_illustrations, val_sketches=val_sketches, val_regions=val_regions)
    paths |= {k: Path(v) for k, v in given.items() if v is not None}
    gen_cfg, disc_cfg = model_configs(settings["model"], int(config["data"]["size"]))
    train_cfg = TrainConfig.from_section(settings["train"], seed=seed)
    resolve_device(train_cfg.device)  # a missing CUDA device stops here, before any run is started
    weighting = resolve_loss_regions(settings, loss_regions=loss_regions)
    data = load_train_data(paths["illustrations"], paths["sketches"], paths["regions"], weighting)
    curve_images = int(config.get("eval", {}).get("curve_images", 0))
    validation = None
    if curve_images > 0 and all(paths[k].is_file() for k in ("val_illustrations", "val_sketches", "val_regions")):
        validation = ValidationSet.from_files(paths["val_illustrations"], paths["val_sketches"], paths["val_regions"],
                                              data.color, curve_images)
    with exclusive_run_folder(paths["out_dir"]):  # one trainer per run folder; a second is refused
        tracker = start_training_tracker(
            paths["out_dir"],
            MLFLOW_EXPERIMENT,
            run_name=f"train-{experiment}-seed{seed}",
            tags={
                "snakemake.rule": rule,
                "rasc.experiment": experiment,
                "rasc.seed": seed,
                "rasc.region_source": settings["model"]["region_source"],
                "config.sha256": config_hash(settings),
            },
        )
        try:
            tracker.log_params({"experiment": experiment, "seed": seed, **settings, "data": dict(config["data"])})
            return train(
                train_cfg, gen_cfg, disc_cfg, data, paths["out_dir"], tracker=tracker, progress=progress,
                full_config={"experiment": experiment, **settings, "data": dict(config["data"])},
                validation=validation,
            )
        except BaseException as error:
            tracker.finish("KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED")  # no-op if train() did
            raise
