"""The RASC training loop (paper §IV-B; DESIGN §7): one library function, :func:`train`, that runs
:func:`rasc.training.step.train_step` with snapshots, logging, learning curves, sample grids and resume.

Outputs under ``out_dir`` (written by rank 0 only): ``snapshots/last.pt`` (resumable, every ``snapshot_every``
steps; left undeclared to Snakemake so a killed job keeps it), ``generator.pt`` (final EMA generator + config),
``stats.jsonl`` (one line per logged step), ``grad_cosine.jsonl`` (paper §IV-G histograms), ``samples/step_*.png``
(fixed sketches and fixed w), ``config.json`` (the options, written before training) and ``run.json``.

Resume: when ``snapshots/last.pt`` exists, training continues from it to the same final step count. The data order,
flips and latent noise are pure functions of (seed, step, rank) and the global RNG states are restored, so on CPU
a resumed run ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from rasc.atomic import stale_temporaries, write_json
from rasc.config import BOOKKEEPING_TRAIN_OPTIONS
from rasc.imageio import write_image
from rasc.tracking import NullTracker
from rasc.training.allocator import keep_freed_memory
from rasc.training.checkpoint import (
    CheckpointError,
    load_checkpoint,
    save_generator_checkpoint,
    save_training_checkpoint,
)
from rasc.training.data import StepSampler, TrainData, make_batch
from rasc.training.distributed import (
    DistributedContext,
    all_reduce_mean,
    barrier,
    broadcast_module,
    init_distributed,
    shutdown_distributed,
)
from rasc.training.grad_cosine import cosine_metric_name
from rasc.training.options import TrainConfig
from rasc.training.rng import capture_rng_state, restore_rng_state, seed_globals
from rasc.training.run_files import CURVES, GRAD_COSINE, STATS, append_jsonl, plain_json, truncate_jsonl
from rasc.training.sample_grid import fixed_grid_inputs, render_sample_grid
from rasc.training.step import Networks, build_networks, build_perceptual, train_step
from rasc.validation import ValidationSet

log = logging.getLogger(__name__)

SNAPSHOT = Path("snapshots") / "last.pt"
GENERATOR = "generator.pt"
SAMPLES = "samples"
RUN_JSON = "run.json"
CONFIG_JSON = "config.json"


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or infinite; the run is marked FAILED."""


@dataclass(frozen=True)
class TrainResult:
    """What a call to :func:`train` did."""

    out_dir: Path  # the training folder
    steps: int  # completed steps (== config steps unless stopped by max_steps_this_run)
    completed: bool  # True when the final outputs (generator.pt, run.json) were written
    run_id: str | None  # MLflow run id (None without tracking)
    perceptual_backbone: str  # e.g. "vgg19-imagenet" or "vgg19-random-seed0" ("none" when λ_p = 0)
    final_stats: dict[str, float] = field(default_factory=dict)  # the last logged stats line


def snapshot_run_id(out_dir: str | Path) -> str | None:
    """The MLflow run id stored in ``out_dir``'s resumable snapshot, if there is one (to resume that run)."""
    path = Path(out_dir) / SNAPSHOT
    if not path.is_file():
        return None
    try:
        return load_checkpoint(path).get("meta", {}).get("run_id")
    except CheckpointError:
        return None


def start_training_tracker(out_dir: str | Path, experiment: str, run_name: str,
                           tags: Mapping[str, Any] | None = None) -> NullTracker:
    """Start the MLflow run of a training in ``out_dir`` on rank 0, resuming the run its snapshot names; the other
    runs of ``out_dir`` still RUNNING are first ended KILLED (`rasc.tracking.end_stale_runs`), so call it while
    holding the folder's lock (`rasc.training.run_files.exclusive_run_folder`).

    Other ranks of a torchrun job get a :class:`NullTracker`.
    """
    from rasc.tracking import RUN_FOLDER_TAG, Tracker, end_stale_runs

    if int(os.environ.get("RANK", "0")) != 0:
        return NullTracker()
    resumed = snapshot_run_id(out_dir)
    end_stale_runs(experiment, out_dir, keep=resumed)
    return Tracker.start(experiment, run_name, tags={**(tags or {}), RUN_FOLDER_TAG: Path(out_dir).resolve()},
                         resume_run_id=resumed)


# ------------------------------------------------------------------------------------------------------------ loop


def train(
    cfg: TrainConfig,
    gen_cfg: Any,
    disc_cfg: Any,
    data: TrainData,
    out_dir: str | Path,
    tracker: NullTracker | None = None,
    progress: bool = True,
    full_config: Mapping[str, Any] | None = None,
    max_steps_this_run: int | None = None,
    validation: ValidationSet | None = None,
) -> TrainResult:
    """Train (or resume) one RASC model; see the module docstring for what is written where.

    ``gen_cfg``/``disc_cfg``: :class:`rasc.models.GeneratorConfig` / ``DiscriminatorConfig``. ``tracker``: an
    MLflow run (rank 0's; see :func:`start_training_tracker`), finished here with FINISHED, FAILED or KILLED.
    ``full_config``: the workflow config as a plain dict, stored in checkpoints. ``max_steps_this_run``: stop after
    this many steps in this call (a snapshot is saved, final outputs are not written: for time-limited jobs).
    ``validation``: a fixed subset scored with the EMA generator at step 0 and at every snapshot (learning curves,
    ``curves.jsonl`` and MLflow ``val/*``; :mod:`rasc.validation`). Runs unchanged under ``torchrun``.
    """
    out_dir = Path(out_dir)
    tracker = tracker if tracker is not None else NullTracker()
    joined_here = not torch.distributed.is_initialized()
    ctx = init_distributed(cfg.device)
    if not ctx.is_main:
        tracker = NullTracker()
    status = "FAILED"
    try:
        result = _train(cfg, gen_cfg, disc_cfg, data, out_dir, tracker, progress, dict(full_config or {}),
                        max_steps_this_run, ctx, validation)
        status = "FINISHED" if result.completed else "KILLED"
        return result
    except KeyboardInterrupt:
        status = "KILLED"
        raise
    finally:
        tracker.finish(status)
        if joined_here:
            shutdown_distributed()


class IntervalMeans:
    """The step stats averaged over the steps since the last log line, with the seconds per step."""

    def __init__(self) -> None:
        self._sums: dict[str, float] = {}
        self._counts: dict[str, int] = {}
        self._start = time.perf_counter()

    def add(self, values: Mapping[str, float]) -> None:
        for name, value in values.items():
            self._sums[name] = self._sums.get(name, 0.0) + value
            self._counts[name] = self._counts.get(name, 0) + 1

    def pop(self) -> dict[str, float]:
        """The interval's means and ``time/sec_per_step``; starts the next interval."""
        means = {name: total / self._counts[name] for name, total in self._sums.items()}
        means["time/sec_per_step"] = (time.perf_counter() - self._start) / max(self._counts.values())
        self._sums.clear()
        self._counts.clear()
        self._start = time.perf_counter()
        return means


def _check_finite(values: Mapping[str, float], done: int, out_dir: Path) -> None:
    """Raise :class:`NonFiniteLossError` naming the stats of step ``done`` that are NaN or infinite."""
    bad = {name: value for name, value in values.items() if not math.isfinite(value)}
    if bad:
        raise NonFiniteLossError(f"non-finite {', '.join(bad)} at step {done} of {out_dir} (values {bad}); "
                                 "lower lr or raise r1_gamma")


def _check_image_size(data: TrainData, gen_cfg: Any) -> None:
    if data.image_size != gen_cfg.image_size:
        raise ValueError(f"training images are {data.image_size}² but the generator is configured for "
                         f"{gen_cfg.image_size}² (GeneratorConfig.image_size)")


def _train(cfg: TrainConfig, gen_cfg: Any, disc_cfg: Any, data: TrainData, out_dir: Path, tracker: NullTracker,
           progress: bool, full_config: dict[str, Any], max_steps_this_run: int | None,
           ctx: DistributedContext, validation: ValidationSet | None) -> TrainResult:
    from tqdm.auto import tqdm

    _check_image_size(data, gen_cfg)
    if ctx.device.type == "cpu":
        keep_freed_memory()
        if cfg.threads > 0:
            torch.set_num_threads(cfg.threads)
    if ctx.is_main:
        (out_dir / SNAPSHOT).parent.mkdir(parents=True, exist_ok=True)
        (out_dir / SAMPLES).mkdir(parents=True, exist_ok=True)
    options = plain_json({"train": dataclasses.asdict(cfg), "generator": dataclasses.asdict(gen_cfg),
                      "discriminator": dataclasses.asdict(disc_cfg)})
    full_config = plain_json(full_config)

    nets = build_networks(cfg, gen_cfg, disc_cfg, ctx.device)
    perceptual, backbone = build_perceptual(cfg, ctx.device)
    sampler = StepSampler(len(data), cfg.batch_size, cfg.seed, ctx.rank, ctx.world_size, cfg.hflip,
                          cfg.sketch_width_jitter)
    seed_globals(cfg.seed + ctx.rank)

    start_step = _resume_if_possible(out_dir, nets, gen_cfg, disc_cfg, cfg, ctx)
    broadcast_module(nets.G, ctx)
    broadcast_module(nets.D, ctx)
    broadcast_module(nets.G_ema, ctx)
    resumed = start_step > 0
    meta = {"run_id": tracker.run_id, "perceptual_backbone": backbone, "world_size": ctx.world_size}
    if ctx.is_main:
        write_json(out_dir / CONFIG_JSON, {**options, "config": full_config, "perceptual_backbone": backbone})
        if resumed:
            for name in (STATS, GRAD_COSINE, CURVES):
                truncate_jsonl(out_dir / name, start_step)
        else:
            for name in (STATS, GRAD_COSINE, CURVES):
                (out_dir / name).unlink(missing_ok=True)
            tracker.log_params({**options, "data": {"samples": len(data), "image_size": data.image_size},
                                **({"config": full_config} if full_config else {})})
        tracker.set_tags({"perceptual_backbone": backbone, "rasc.variant": gen_cfg.variant,
                          "rasc.latent": gen_cfg.latent, "rasc.seed": cfg.seed, "device": str(ctx.device),
                          "world_size": ctx.world_size})
        log.info("training %s for %d steps on %s ×%d (start at step %d; perceptual backbone %s)",
                 out_dir, cfg.steps, ctx.device, ctx.world_size, start_step, backbone)

    grid = fixed_grid_inputs(data, cfg, gen_cfg.w_dim, ctx.device) if ctx.is_main else None
    end_step = cfg.steps if max_steps_this_run is None else min(cfg.steps, start_step + max_steps_this_run)
    interval = IntervalMeans()
    last_stats: dict[str, float] = {}
    run_start = time.perf_counter()
    bar = tqdm(total=cfg.steps, initial=start_step, disable=not (progress and ctx.is_main), desc="train",
               dynamic_ncols=True)

    def score(done: int) -> None:
        if validation is None:
            return
        point = validation.score(nets.G_ema)
        append_jsonl(out_dir / CURVES, [{"step": done, "epoch": round(sampler.epoch_of(done), 4), **point}])
        tracker.log_metrics(point, step=done)

    def snapshot(done: int) -> None:
        score(done)
        save_training_checkpoint(
            out_dir / SNAPSHOT, generator=nets.G, discriminator=nets.D, generator_ema=nets.G_ema,
            g_optimizer=nets.opt_G, d_optimizer=nets.opt_D, generator_config=gen_cfg, discriminator_config=disc_cfg,
            config={**options, "config": full_config}, step=done, rng_state=capture_rng_state(), meta=meta)

    def samples(done: int) -> None:
        image = render_sample_grid(nets.G_ema, grid, around_prediction=cfg.kl_prior == "sketch")
        write_image(out_dir / SAMPLES / f"step_{done:06d}.png", image)
        tracker.log_image(image, key="samples", step=done)

    if ctx.is_main and not resumed:
        score(0)
    with bar:
        for step in range(start_step, end_step):
            done = step + 1
            indices, flips = sampler.batch(step)
            batch = make_batch(data, indices, flips, ctx.device, sampler.width_seeds(step))
            capture = cfg.grad_cos_every > 0 and ctx.is_main and done % cfg.grad_cos_every == 0
            stats, records = train_step(nets, batch, step, cfg, perceptual, ctx, capture_branches=capture)
            names = sorted(stats)
            values = dict(zip(names, all_reduce_mean(torch.stack([stats[n].float() for n in names]), ctx).tolist()))
            _check_finite(values, done, out_dir)
            interval.add(values)
            bar.update(1)
            if not ctx.is_main:
                continue
            epoch = sampler.epoch_of(done)
            if records:
                append_jsonl(out_dir / GRAD_COSINE, [{"step": done, "epoch": round(epoch, 4), **r} for r in records])
                tracker.log_metrics({cosine_metric_name(r): r["mean"] for r in records}, step=done)
            if done % cfg.log_every == 0 or done == end_step:
                last_stats = interval.pop()
                append_jsonl(out_dir / STATS, [{"step": done, "epoch": round(epoch, 4),
                                                 "time_s": round(time.perf_counter() - run_start, 3), **last_stats}])
                tracker.log_metrics({**last_stats, "train/epoch": epoch}, step=done)
                bar.set_postfix({k.split("/")[-1]: f"{v:.3g}" for k, v in last_stats.items()
                                 if k in ("loss/D", "loss/G_adv", "loss/perceptual")})
            if done % cfg.sample_every == 0 and done != cfg.steps:
                samples(done)
            if done % cfg.snapshot_every == 0 and done != end_step:
                snapshot(done)

    done = max(end_step, start_step)
    completed = done >= cfg.steps
    if ctx.is_main:
        if end_step > start_step or not (out_dir / SNAPSHOT).is_file():
            snapshot(done)
        if completed:
            _write_final_outputs(out_dir, nets, gen_cfg, options, full_config, done, meta, last_stats, backbone,
                                 tracker, samples, ctx, time.perf_counter() - run_start, data)
    barrier(ctx)
    return TrainResult(out_dir=out_dir, steps=done, completed=completed, run_id=tracker.run_id,
                       perceptual_backbone=backbone, final_stats=last_stats)


def _resume_if_possible(out_dir: Path, nets: Networks, gen_cfg: Any, disc_cfg: Any, cfg: TrainConfig,
                        ctx: DistributedContext) -> int:
    """Load ``snapshots/last.pt`` into ``nets`` if it exists → the step to start from (0 without a snapshot)."""
    path = out_dir / SNAPSHOT
    if ctx.is_main:
        for stale in stale_temporaries(path):  # a snapshot write killed midway (last.pt itself is whole)
            stale.unlink(missing_ok=True)
    if not path.is_file():
        return 0
    checkpoint = load_checkpoint(path)
    if checkpoint["kind"] != "training":
        raise CheckpointError(f"{path}: expected a training snapshot, found a {checkpoint['kind']!r} checkpoint")
    for name, current in (("generator_config", gen_cfg), ("discriminator_config", disc_cfg)):
        # fields added to the config since the snapshot was written take their defaults (the old architecture)
        stored = plain_json({**dataclasses.asdict(type(current)()), **checkpoint[name]})
        if stored != plain_json(dataclasses.asdict(current)):
            raise CheckpointError(
                f"{path}: snapshot was trained with {name} {stored}, not {dataclasses.asdict(current)}; "
                "delete the snapshot or train into another folder")
    # options added since the snapshot was written take their defaults (what the older code did)
    stored_train = plain_json({**dataclasses.asdict(TrainConfig()), **checkpoint["config"].get("train", {})})
    changed = {k: (stored_train.get(k), v) for k, v in plain_json(dataclasses.asdict(cfg)).items()
               if k not in BOOKKEEPING_TRAIN_OPTIONS and stored_train.get(k) != v}
    if changed:
        listed = ", ".join(f"{k} {old!r} → {new!r}" for k, (old, new) in changed.items())
        raise CheckpointError(f"{path}: snapshot was trained with other train options ({listed}); restore them, or "
                              "delete the snapshot (or train into another folder) to train anew")
    step = int(checkpoint["step"])
    if step > cfg.steps:
        raise CheckpointError(f"{path}: snapshot is at step {step}, past train.steps {cfg.steps}; "
                              "raise train.steps, or delete the snapshot to train anew with fewer steps")
    nets.G.load_state_dict(checkpoint["G"])
    nets.D.load_state_dict(checkpoint["D"])
    nets.G_ema.load_state_dict(checkpoint["G_ema"])
    nets.opt_G.load_state_dict(checkpoint["opt_G"])
    nets.opt_D.load_state_dict(checkpoint["opt_D"])
    if ctx.world_size == checkpoint.get("meta", {}).get("world_size", 1):
        restore_rng_state(checkpoint["rng"] if ctx.is_main else {})
    log.info("resuming from %s at step %d", path, step)
    return step


def _fitted_style_prior(generator: nn.Module, data: TrainData, posterior_noise: float = 1.0) -> torch.Tensor | None:
    """The style prior's Cholesky factor fitted on the training pairs (rasc.models.style_prior; ``posterior_noise``:
    the training's TrainConfig.posterior_noise), or None for a model without a style encoder."""
    from rasc.models.style_prior import fit_style_prior

    if getattr(generator.cfg, "latent", None) != "posterior" or len(data) < 2:
        return None
    try:
        return fit_style_prior(generator, data.sketch, data.regions, data.color, posterior_noise=posterior_noise)
    except (ValueError, RuntimeError) as error:  # a sampling aid (RuntimeError: torch's, e.g. out of memory)
        log.warning("no style prior fitted (%s): random styles of this model will come from N(0, 1)", error)
        return None


def _write_final_outputs(out_dir: Path, nets: Networks, gen_cfg: Any, options: dict[str, Any],
                         full_config: dict[str, Any], done: int, meta: dict[str, Any], last_stats: dict[str, float],
                         backbone: str, tracker: NullTracker, samples, ctx: DistributedContext,
                         seconds: float, data: TrainData) -> None:
    samples(done)
    generator_path = out_dir / GENERATOR
    scale_tril = _fitted_style_prior(nets.G_ema, data, options["train"]["posterior_noise"])  # (w_dim, w_dim) or None
    save_generator_checkpoint(generator_path, generator=nets.G_ema, generator_config=gen_cfg,
                              config={**options, "config": full_config}, step=done, meta=meta,
                              style_scale_tril=scale_tril)
    tracker.log_artifact(generator_path, artifact_path="checkpoints")
    if not last_stats and (out_dir / STATS).is_file():
        lines = (out_dir / STATS).read_text().splitlines()
        last_stats = {k: v for k, v in json.loads(lines[-1]).items() if k not in ("step", "epoch", "time_s")} \
            if lines else {}
    write_json(out_dir / RUN_JSON, {
        "run_id": tracker.run_id,
        "steps": done,
        "generator": GENERATOR,
        "perceptual_backbone": backbone,
        "device": str(ctx.device),
        "world_size": ctx.world_size,
        "seconds_this_call": round(seconds, 3),
        "final_stats": last_stats,
        "style_prior": None if scale_tril is None else {  # random w ~ N(w_pred, Σ): Σ's size, fitted on the data
            "fitted_on": len(data), "rms_sd": float(scale_tril.square().sum().div(scale_tril.shape[0]).sqrt())},
    })
    tracker.log_artifact(out_dir / RUN_JSON)
