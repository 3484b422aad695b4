"""The training loop on tiny data (32², tiny widths, CPU): outputs, resume, determinism, NaN guard, tracking."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import Tensor

import rasc.training.loop as train_module
import rasc.training.step as step_module
from rasc.training.checkpoint import CheckpointError, load_checkpoint, load_generator
from rasc.models import DiscriminatorConfig, Generator, GeneratorConfig
from rasc.models.style_prior import fit_style_prior
from rasc.tracking import NullTracker
from rasc.training.loop import NonFiniteLossError, snapshot_run_id, train
from rasc.training.options import TrainConfig
from rasc.training.data import KEEP_WIDTH, StepSampler, load_train_data, make_batch, synthetic_train_data
from rasc.training.distributed import DistributedContext

GEN_CFG = GeneratorConfig(image_size=32, base_channels=4, max_channels=8, num_blocks=2, w_dim=8)
DISC_CFG = DiscriminatorConfig(image_size=32, base_channels=4, max_channels=8)
DATA = synthetic_train_data(num_samples=6, image_size=32, seed=0)


def tiny_config(**overrides) -> TrainConfig:
    base = dict(steps=2, batch_size=4, perceptual_layers=("relu1_1",), vgg_download=False, device="cpu",
                log_every=1, sample_every=1, snapshot_every=1, grad_cos_every=1, grid_size=2, r1_every=2)
    return TrainConfig(**{**base, **overrides})


class RecordingTracker(NullTracker):
    """Remembers what the loop logged."""

    def __init__(self, run_id: str = "run-123"):
        self.run_id = run_id
        self.params, self.metrics, self.images, self.artifacts, self.tags, self.status = {}, [], [], [], {}, []

    def log_params(self, params):
        self.params.update(params)

    def log_metrics(self, metrics, step):
        self.metrics.append((step, dict(metrics)))

    def log_image(self, image, key, step):
        self.images.append((key, step, image.shape, image.dtype))

    def log_artifact(self, path, artifact_path=None):
        self.artifacts.append(Path(path).name)

    def set_tags(self, tags):
        self.tags.update(tags)

    def finish(self, status="FINISHED"):
        self.status.append(status)


@pytest.fixture(autouse=True)
def _no_cached_vgg(tmp_path_factory, monkeypatch):
    """Use the seeded random VGG fallback whatever this machine has cached (and silence its warning here)."""
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path_factory.mktemp("hub")))


pytestmark = pytest.mark.filterwarnings("ignore:NO PRETRAINED VGG-19:RuntimeWarning")


def _stats(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "stats.jsonl").read_text().splitlines()]


def _weights(path: Path) -> dict[str, dict[str, torch.Tensor]]:
    checkpoint = load_checkpoint(path)
    return {name: checkpoint[name] for name in ("G", "D", "G_ema")}


def test_two_step_run_writes_every_output(tmp_path):
    tracker = RecordingTracker()
    result = train(tiny_config(), GEN_CFG, DISC_CFG, DATA, tmp_path, tracker=tracker, progress=False,
                   full_config={"experiment": "unit", "path": Path("x")})
    assert result.completed and result.steps == 2 and result.run_id == "run-123"
    assert result.perceptual_backbone == "vgg19-random-seed0"

    snapshot = load_checkpoint(tmp_path / "snapshots" / "last.pt")
    assert snapshot["kind"] == "training" and snapshot["step"] == 2 and snapshot["meta"]["run_id"] == "run-123"
    assert snapshot["config"]["config"] == {"experiment": "unit", "path": "x"}
    generator, config = load_generator(tmp_path / "generator.pt")
    assert generator.cfg == GEN_CFG and config["train"]["steps"] == 2
    expected_prior = fit_style_prior(generator, DATA.sketch, DATA.regions, DATA.color)  # fitted on the training pairs
    torch.testing.assert_close(generator.style_scale_tril, expected_prior)
    for name in ("G_ema",):
        for key, value in load_checkpoint(tmp_path / "generator.pt")[name].items():
            assert torch.equal(value, snapshot["G_ema"][key])

    stats = _stats(tmp_path)
    assert [row["step"] for row in stats] == [1, 2]
    expected = {"loss/G_adv", "loss/D", "loss/perceptual", "loss/KL", "loss/w", "loss/G", "train/saturated_frac",
                "D/real_logit", "D/fake_logit", "time/sec_per_step"}
    assert expected <= stats[0].keys() and "loss/R1" in stats[0] and "loss/R1" not in stats[1]  # lazy, every 2
    assert 0.0 <= stats[1]["train/saturated_frac"] <= 1.0

    for step in (1, 2):
        grid = np.asarray(Image.open(tmp_path / "samples" / f"step_{step:06d}.png"))
        assert grid.shape == (2 * 32, 5 * 32, 3)  # 2 sketches × (sketch, predicted w, 2 fixed w, ground truth)
    records = [json.loads(line) for line in (tmp_path / "grad_cosine.jsonl").read_text().splitlines()]
    assert {(r["step"], r["module"], r["branch"]) for r in records} == {
        (s, m, b) for s in (1, 2) for m in (0, 1) for b in ("q", "k", "v")}
    for record in records:
        assert len(record["counts"]) == 20 and sum(record["counts"]) == record["points"] > 0
        assert -1.0 <= record["mean"] <= 1.0

    run = json.loads((tmp_path / "run.json").read_text())
    assert run["run_id"] == "run-123" and run["steps"] == 2 and run["generator"] == "generator.pt"
    assert run["final_stats"]["loss/D"] == pytest.approx(stats[-1]["loss/D"])
    assert run["style_prior"]["fitted_on"] == len(DATA) and run["style_prior"]["rms_sd"] > 0
    assert json.loads((tmp_path / "config.json").read_text())["generator"] == dataclasses.asdict(GEN_CFG)

    assert tracker.params["train"]["lr"] == 0.002 and tracker.params["generator"]["variant"] == "full"
    assert tracker.params["config"] == {"experiment": "unit", "path": "x"}
    assert tracker.tags["perceptual_backbone"] == "vgg19-random-seed0"
    logged = {name for _, metrics in tracker.metrics for name in metrics}
    assert {"loss/G_adv", "loss/D", "loss/R1", "loss/perceptual", "loss/KL", "grad_cos/m0/q"} <= logged
    assert ("samples", 2, (64, 160, 3), np.uint8) in tracker.images
    assert "generator.pt" in tracker.artifacts and tracker.status == ["FINISHED"]


PATCH_DISC_CFG = dataclasses.replace(DISC_CFG, architecture="patchgan", patch_layers=2)  # BatchNorm buffers too


@pytest.mark.parametrize(("width_jitter", "lr_decay_from", "disc_cfg"), [
    (0.0, 1.0, DISC_CFG), (1.0, 1.0, DISC_CFG), (0.0, 0.25, DISC_CFG), (0.0, 1.0, PATCH_DISC_CFG)])
def test_killed_then_resumed_run_matches_an_uninterrupted_one(tmp_path, monkeypatch, width_jitter, lr_decay_from,
                                                              disc_cfg):
    cfg = tiny_config(steps=4, snapshot_every=2, sample_every=4, grad_cos_every=0, sketch_width_jitter=width_jitter,
                      lr_decay_from=lr_decay_from)
    train(cfg, GEN_CFG, disc_cfg, DATA, tmp_path / "straight", progress=False)

    # A job killed during its third step: the snapshot of step 2 survives, the run is marked KILLED.
    real_step = train_module.train_step

    def dies_at_third_step(nets, batch, step, *args, **kwargs):
        if step == 2:
            raise KeyboardInterrupt
        return real_step(nets, batch, step, *args, **kwargs)

    killed = RecordingTracker("run-killed")
    monkeypatch.setattr(train_module, "train_step", dies_at_third_step)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, GEN_CFG, disc_cfg, DATA, tmp_path / "resumed", tracker=killed, progress=False)
    monkeypatch.setattr(train_module, "train_step", real_step)
    assert killed.status == ["KILLED"]
    assert not (tmp_path / "resumed" / "generator.pt").exists()
    assert load_checkpoint(tmp_path / "resumed" / "snapshots" / "last.pt")["step"] == 2
    assert snapshot_run_id(tmp_path / "resumed") == "run-killed"

    result = train(cfg, GEN_CFG, disc_cfg, DATA, tmp_path / "resumed", progress=False)
    assert result.completed and result.steps == 4
    straight = _weights(tmp_path / "straight" / "snapshots" / "last.pt")
    resumed = _weights(tmp_path / "resumed" / "snapshots" / "last.pt")
    assert load_checkpoint(tmp_path / "resumed" / "snapshots" / "last.pt")["step"] == 4
    for network in straight:
        for key, value in straight[network].items():
            assert torch.equal(value, resumed[network][key]), f"{network}.{key}"
    losses = ("loss/D", "loss/G_adv", "loss/perceptual")
    assert [[row[k] for k in losses] for row in _stats(tmp_path / "resumed")] == \
        [[row[k] for k in losses] for row in _stats(tmp_path / "straight")]
    assert [row["step"] for row in _stats(tmp_path / "resumed")] == [1, 2, 3, 4]


def test_stopping_after_a_step_budget_and_resuming_after_completion(tmp_path):
    cfg = tiny_config(steps=3, grad_cos_every=0)
    paused = train(cfg, GEN_CFG, DISC_CFG, DATA, tmp_path, progress=False, max_steps_this_run=2)
    assert not paused.completed and paused.steps == 2 and not (tmp_path / "generator.pt").exists()
    finished = train(cfg, GEN_CFG, DISC_CFG, DATA, tmp_path, progress=False)
    assert finished.completed and finished.steps == 3
    (tmp_path / "generator.pt").unlink()
    again = train(cfg, GEN_CFG, DISC_CFG, DATA, tmp_path, progress=False)  # nothing left to train
    assert again.completed and again.steps == 3 and (tmp_path / "generator.pt").is_file()


def test_same_seed_same_first_losses_other_seed_different(tmp_path):
    cfg = tiny_config(steps=1, grad_cos_every=0)
    first = [train(cfg, GEN_CFG, DISC_CFG, DATA, tmp_path / f"run{i}", progress=False) for i in range(2)]
    other = train(dataclasses.replace(cfg, seed=1), GEN_CFG, DISC_CFG, DATA, tmp_path / "seed1", progress=False)
    losses = ("loss/D", "loss/G_adv", "loss/perceptual", "loss/KL")
    assert [first[0].final_stats[k] for k in losses] == [first[1].final_stats[k] for k in losses]
    assert all(first[0].final_stats[k] != other.final_stats[k] for k in losses)


def test_non_finite_loss_stops_the_run_and_marks_it_failed(tmp_path, monkeypatch):
    monkeypatch.setattr(step_module, "g_nonsaturating_loss", lambda logits: logits.sum() * float("nan"))
    tracker = RecordingTracker()
    with pytest.raises(NonFiniteLossError, match=r"non-finite .*loss/G_adv.* at step 1"):
        train(tiny_config(), GEN_CFG, DISC_CFG, DATA, tmp_path, tracker=tracker, progress=False)
    assert tracker.status == ["FAILED"]
    assert not (tmp_path / "generator.pt").exists() and not (tmp_path / "snapshots" / "last.pt").exists()


def test_resume_refuses_a_snapshot_of_another_architecture(tmp_path):
    train(tiny_config(steps=1, grad_cos_every=0), GEN_CFG, DISC_CFG, DATA, tmp_path, progress=False)
    wider = dataclasses.replace(GEN_CFG, base_channels=8)
    with pytest.raises(CheckpointError, match="generator_config"):
        train(tiny_config(steps=2), wider, DISC_CFG, DATA, tmp_path, progress=False)


def test_resume_refuses_a_snapshot_trained_with_other_options_or_more_steps(tmp_path):
    train(tiny_config(steps=2, grad_cos_every=0), GEN_CFG, DISC_CFG, DATA, tmp_path, progress=False)
    with pytest.raises(CheckpointError, match=r"other train options \(lr 0\.002 → 0\.0001\)"):
        train(tiny_config(steps=3, grad_cos_every=0, lr=1e-4), GEN_CFG, DISC_CFG, DATA, tmp_path, progress=False)
    with pytest.raises(CheckpointError, match="at step 2, past train.steps 1"):
        train(tiny_config(steps=1, grad_cos_every=0), GEN_CFG, DISC_CFG, DATA, tmp_path, progress=False)
    resumed = train(tiny_config(steps=3, grad_cos_every=1, log_every=2, sample_every=2, threads=1), GEN_CFG,
                    DISC_CFG, DATA, tmp_path, progress=False)  # bookkeeping options may change
    assert resumed.completed and resumed.steps == 3


def test_resume_removes_what_a_killed_snapshot_write_left(tmp_path):
    train(tiny_config(steps=1, grad_cos_every=0), GEN_CFG, DISC_CFG, DATA, tmp_path, progress=False)
    snapshots = tmp_path / "snapshots"
    (snapshots / ".last.0123abcd.pt").write_bytes(b"half a snapshot")  # atomic_path's temporary, writer killed
    (snapshots / "notes.txt").write_text("the user's")
    assert train(tiny_config(steps=2, grad_cos_every=0), GEN_CFG, DISC_CFG, DATA, tmp_path, progress=False).completed
    assert sorted(p.name for p in snapshots.iterdir()) == ["last.pt", "notes.txt"]


def test_resume_accepts_a_snapshot_written_before_a_config_field_with_a_default_existed(tmp_path):
    train(tiny_config(steps=1, grad_cos_every=0), GEN_CFG, DISC_CFG, DATA, tmp_path, progress=False)
    snapshot = tmp_path / "snapshots" / "last.pt"
    checkpoint = torch.load(snapshot, weights_only=True)
    del checkpoint["generator_config"]["architecture"], checkpoint["discriminator_config"]["conditional"]
    torch.save(checkpoint, snapshot)
    assert train(tiny_config(steps=2, grad_cos_every=0), GEN_CFG, DISC_CFG, DATA, tmp_path, progress=False).completed


@pytest.mark.parametrize("overrides, branches", [
    ({"variant": "no_region_maps"}, set()),
    ({"variant": "no_region_formulation", "latent": "sketch"}, set()),
    ({"correlation": "skip"}, {"q", "k", "v", "skip"}),
])
def test_variants_train(tmp_path, overrides, branches):
    gen_cfg = dataclasses.replace(GEN_CFG, **overrides)
    result = train(tiny_config(steps=1, lambda_l1=1.0), gen_cfg, DISC_CFG, DATA, tmp_path, progress=False)
    assert result.completed
    assert ("loss/KL" in result.final_stats) == (gen_cfg.latent == "posterior")
    assert "loss/L1" in result.final_stats
    cosine_file = tmp_path / "grad_cosine.jsonl"
    found = {json.loads(line)["branch"] for line in cosine_file.read_text().splitlines()} \
        if cosine_file.exists() else set()
    assert found == branches


def test_pix2pix_baseline_trains_with_a_conditional_patchgan_and_reloads(tmp_path):
    gen_cfg = dataclasses.replace(GEN_CFG, architecture="unet", latent="none", variant="no_region_maps")
    disc_cfg = dataclasses.replace(PATCH_DISC_CFG, conditional=True)
    result = train(tiny_config(steps=2, lambda_l1=100.0, lambda_perceptual=0.0), gen_cfg, disc_cfg, DATA, tmp_path,
                   progress=False)
    assert result.completed and result.perceptual_backbone == "none"
    assert {"loss/L1", "loss/D", "loss/G_adv"} <= set(result.final_stats)
    assert "loss/KL" not in result.final_stats and "loss/perceptual" not in result.final_stats
    assert not (tmp_path / "grad_cosine.jsonl").exists()
    discriminator = load_checkpoint(tmp_path / "snapshots" / "last.pt")["D"]
    assert "layers.3.running_mean" in discriminator  # the PatchGAN's, BatchNorm statistics included
    generator, _ = load_generator(tmp_path / "generator.pt")
    assert type(generator).__name__ == "UNetGenerator"
    assert generator(torch.zeros(2, 1, 32, 32)).rgb.shape == (2, 3, 32, 32)


def test_sampler_covers_every_sample_each_epoch_and_splits_ranks():
    sampler = StepSampler(num_samples=6, global_batch=4, seed=0, hflip=True)
    stream = np.concatenate([sampler.batch(step)[0] for step in range(3)])  # 12 positions = 2 epochs
    assert sorted(stream[:6]) == list(range(6)) and sorted(stream[6:]) == list(range(6))
    ranks = [StepSampler(6, 4, 0, rank=r, world_size=2) for r in range(2)]
    for step in range(3):
        merged = np.empty(4, dtype=np.int64)
        merged[0::2], merged[1::2] = ranks[0].batch(step)[0], ranks[1].batch(step)[0]
        assert np.array_equal(merged, sampler.batch(step)[0])
    flips = np.concatenate([sampler.batch(step)[1] for step in range(50)])
    assert 0.3 < flips.mean() < 0.7
    with pytest.raises(ValueError, match="divisible"):
        StepSampler(6, 3, 0, rank=0, world_size=2)


def test_sketch_width_jitter_is_drawn_per_stream_position():
    plain = StepSampler(num_samples=6, global_batch=4, seed=0)
    assert all((plain.width_seeds(step) == KEEP_WIDTH).all() for step in range(5))
    always = StepSampler(6, 4, 0, width_jitter=1.0)
    assert all((always.width_seeds(step) >= 0).all() for step in range(5))
    half = StepSampler(6, 4, 0, width_jitter=0.5)
    seeds = np.concatenate([half.width_seeds(step) for step in range(50)])
    assert 0.3 < (seeds != KEEP_WIDTH).mean() < 0.7 and len(np.unique(seeds[seeds >= 0])) == (seeds >= 0).sum()
    ranks = [StepSampler(6, 4, 0, rank=r, world_size=2, width_jitter=0.5) for r in range(2)]
    for step in range(3):  # two processes draw what one would
        merged = np.empty(4, dtype=np.int64)
        merged[0::2], merged[1::2] = ranks[0].width_seeds(step), ranks[1].width_seeds(step)
        assert np.array_equal(merged, half.width_seeds(step))


def test_make_batch_redraws_the_ink_of_the_chosen_sketches_only():
    indices, flips = np.arange(4), np.zeros(4, dtype=bool)
    plain = make_batch(DATA, indices, flips, torch.device("cpu"))
    seeds = np.array([KEEP_WIDTH, 7, KEEP_WIDTH, 9])
    jittered = make_batch(DATA, indices, flips, torch.device("cpu"), seeds)
    changed = [not torch.equal(a, b) for a, b in zip(plain["sketch"], jittered["sketch"])]
    assert changed == [False, True, False, True]
    assert torch.equal(plain["color"], jittered["color"]) and torch.equal(plain["regions"], jittered["regions"])
    with pytest.raises(ValueError, match="sketch_width_jitter"):
        tiny_config(sketch_width_jitter=1.5)


def test_make_batch_flips_the_loss_regions_with_the_rest():
    """The maps that weight the pixel L1 travel with their sketches: same samples, same flips."""
    other = np.ascontiguousarray(DATA.regions[:, :, ::-1] + 100)  # a second labelling, distinguishable
    data = dataclasses.replace(DATA, loss_regions=other)
    indices, flips = np.array([2, 0, 5]), np.array([True, False, True])
    batch = make_batch(data, indices, flips, torch.device("cpu"))
    expected = np.where(flips[:, None, None], other[indices][:, :, ::-1], other[indices])
    assert np.array_equal(batch["loss_regions"].numpy(), expected)
    assert "loss_regions" not in make_batch(DATA, indices, flips, torch.device("cpu"))
    with pytest.raises(ValueError, match="loss_regions must be"):
        dataclasses.replace(DATA, loss_regions=other[:, :16])


def test_load_train_data_reads_the_npz_layout_and_checks_shapes(tmp_path):
    np.savez(tmp_path / "illustrations.npz", color=DATA.color)
    np.savez(tmp_path / "sketch_xdog.npz", sketch=DATA.sketch)
    np.savez(tmp_path / "regions.npz", labels=DATA.regions)
    data = load_train_data(tmp_path / "illustrations.npz", tmp_path / "sketch_xdog.npz", tmp_path / "regions.npz")
    assert np.array_equal(data.regions, DATA.regions) and len(data) == 6 and data.image_size == 32
    np.savez(tmp_path / "short.npz", labels=DATA.regions[:3])
    with pytest.raises(ValueError, match="sample counts differ"):
        load_train_data(tmp_path / "illustrations.npz", tmp_path / "sketch_xdog.npz", tmp_path / "short.npz")
    with pytest.raises(ValueError, match="has no array 'labels'"):
        load_train_data(tmp_path / "illustrations.npz", tmp_path / "sketch_xdog.npz", tmp_path / "sketch_xdog.npz")
    weighted = load_train_data(tmp_path / "illustrations.npz", tmp_path / "sketch_xdog.npz", tmp_path / "regions.npz",
                               tmp_path / "regions.npz")
    assert np.array_equal(weighted.loss_regions, DATA.regions) and data.loss_regions is None
    with pytest.raises(ValueError, match="sample counts differ.*short.npz 3"):
        load_train_data(tmp_path / "illustrations.npz", tmp_path / "sketch_xdog.npz", tmp_path / "regions.npz",
                        tmp_path / "short.npz")
    with pytest.raises(ValueError, match="training images are 32"):
        train(tiny_config(), dataclasses.replace(GEN_CFG, image_size=16), dataclasses.replace(DISC_CFG, image_size=16),
              DATA, tmp_path / "out", progress=False)


def test_train_config_from_the_workflow_section(repo):
    import yaml

    section = yaml.safe_load((repo / "config" / "config.yaml").read_text())["train"]
    cfg = TrainConfig.from_section(section, seed=2)
    assert cfg.seed == 2 and cfg.lr == 0.006 != TrainConfig().lr  # the default recipe's rate, not the paper's
    assert cfg.perceptual_layers == ("relu1_1", "relu2_1", "relu3_1")
    with pytest.raises(ValueError, match="unknown train option"):
        TrainConfig.from_section({**section, "learning_rate": 1.0})
    with pytest.raises(ValueError, match="beta2"):
        TrainConfig(beta2=1.0)


def _validation(count: int = 3):
    from rasc.data.synth import SynthConfig, synthesize
    from rasc.validation import ValidationSet

    truth = synthesize(count, seed=5, cfg=SynthConfig(size=32))
    return ValidationSet(truth["lines_clean"], truth["regions"], truth, np.array([120, 110, 100], np.uint8))


def test_learning_curves_score_every_snapshot_and_resume_without_duplicates(tmp_path):
    tracker = RecordingTracker()
    validation = _validation()
    train(tiny_config(steps=4, snapshot_every=2), GEN_CFG, DISC_CFG, DATA, tmp_path, tracker=tracker,
          progress=False, validation=validation, max_steps_this_run=3)
    curves = [json.loads(line) for line in (tmp_path / "curves.jsonl").read_text().splitlines()]
    assert [point["step"] for point in curves] == [0, 2, 3]  # start, snapshot, stop
    for point in curves:
        assert {"val/colour_error", "val/bleeding", "val/oracle_colour_error", "val/constant_colour_error"} <= set(point)
    assert curves[0]["val/colour_error"] != curves[-1]["val/colour_error"]  # the generator changed
    assert len({point["val/constant_colour_error"] for point in curves}) == 1  # the reference does not train
    logged = [step for step, metrics in tracker.metrics if "val/colour_error" in metrics]
    assert logged == [0, 2, 3]
    train(tiny_config(steps=4, snapshot_every=2), GEN_CFG, DISC_CFG, DATA, tmp_path, progress=False,
          validation=validation)
    resumed = [json.loads(line)["step"] for line in (tmp_path / "curves.jsonl").read_text().splitlines()]
    assert resumed == [0, 2, 3, 4]


@pytest.mark.parametrize("weight", [0.0, 1.0])
def test_predicted_w_reconstruction_trains_the_sketch_mlp(tmp_path, weight):
    """lambda_l1_predicted is the only loss here: it alone must move the sketch MLP (the default output's w)."""
    cfg = tiny_config(steps=1, lambda_adv=0, lambda_perceptual=0, lambda_kl=0, lambda_w=0, lambda_l1=0,
                      lambda_l1_predicted=weight, grad_cos_every=0, ema_beta=0)
    torch.manual_seed(0)
    before = {k: v.clone() for k, v in step_module.build_networks(
        cfg, GEN_CFG, DISC_CFG, torch.device("cpu")).G.sketch_mlp.state_dict().items()}
    train(cfg, GEN_CFG, DISC_CFG, DATA, tmp_path, progress=False)
    generator, _ = load_generator(tmp_path / "generator.pt")
    moved = any(not torch.equal(before[k], v) for k, v in generator.sketch_mlp.state_dict().items())
    assert moved == (weight > 0)
    assert ("loss/L1_predicted" in _stats(tmp_path)[-1]) == (weight > 0)


@pytest.mark.parametrize("trains_decoder", [True, False])
def test_predicted_w_reconstruction_reaches_the_decoder_only_when_asked(trains_decoder):
    """With the predicted-w L1 as the only loss, the decoder moves only with predicted_l1_trains_decoder; the sketch
    MLP moves either way, and the posterior path is untouched (the style encoder never moves)."""
    ctx = DistributedContext(rank=0, local_rank=0, world_size=1, device=torch.device("cpu"))
    batch = make_batch(DATA, *StepSampler(len(DATA), 4, seed=0).batch(0), torch.device("cpu"))
    cfg = tiny_config(lambda_adv=0, lambda_perceptual=0, lambda_kl=0, lambda_w=0, lambda_l1=0,
                      lambda_l1_predicted=10.0, predicted_l1_trains_decoder=trains_decoder, grad_cos_every=0)
    torch.manual_seed(0)
    nets = step_module.build_networks(cfg, GEN_CFG, DISC_CFG, torch.device("cpu"))
    before = {k: v.clone() for k, v in nets.G.state_dict().items()}
    step_module.train_step(nets, batch, 0, cfg, None, ctx)
    after = nets.G.state_dict()

    def moved(part) -> bool:
        return any(not torch.equal(before[k], after[k]) for k in before if part(k))

    assert moved(lambda name: name.startswith("sketch_mlp."))
    decoder = set(nets.G.decoder_parameter_names())
    assert decoder and decoder <= set(before)
    assert moved(decoder.__contains__) == trains_decoder
    assert moved(lambda name: ".region_formulation." in name)  # the encoding's: trained by either
    assert not moved(lambda name: name.startswith("style_encoder."))


def test_region_balanced_l1_changes_the_update_only_when_on():
    """l1_region_power > 0 reweights the pixel L1 by region area: one step from the same start moves G differently,
    and at 0 the update is the plain pixel L1's, bit for bit."""
    ctx = DistributedContext(rank=0, local_rank=0, world_size=1, device=torch.device("cpu"))
    batch = make_batch(DATA, *StepSampler(len(DATA), 4, seed=0).batch(0), torch.device("cpu"))
    batch["regions"] = torch.zeros_like(batch["regions"])  # the grid's regions are all one size: make them not
    batch["regions"][:, :3, :3] = 1

    def one_step(power: float) -> dict[str, torch.Tensor]:
        cfg = tiny_config(lambda_adv=0, lambda_perceptual=0, lambda_l1=10.0, lambda_l1_predicted=10.0,
                          l1_region_power=power, grad_cos_every=0)
        torch.manual_seed(0)
        nets = step_module.build_networks(cfg, GEN_CFG, DISC_CFG, torch.device("cpu"))
        step_module.train_step(nets, batch, 0, cfg, None, ctx)
        return nets.G.state_dict()

    plain, again, balanced = one_step(0.0), one_step(0.0), one_step(1.0)
    assert all(torch.equal(plain[k], again[k]) for k in plain)
    assert any(not torch.equal(plain[k], balanced[k]) for k in plain)
    # the loss's own maps, when the batch has them, weight the L1 instead of the network's: equal squares weigh
    # every pixel alike, which is the plain L1's update
    batch["loss_regions"] = torch.zeros_like(batch["regions"])
    assert all(torch.equal(plain[k], v) for k, v in one_step(1.0).items())
    with pytest.raises(ValueError, match="l1_region_power"):
        tiny_config(l1_region_power=1.5)


@pytest.mark.parametrize(("every", "start", "weight"), [(1, 0, 1.0), (2, 0, 1.0), (1, 2, 1.0), (2, 1, 1.0),
                                                     (1, 0, 0.0)])
def test_adversarial_updates_run_on_their_steps_only(every, start, weight):
    """With adversarial_every k and adversarial_from s, D steps (and G's adversarial term) happen on steps s, s + k,
    s + 2k, … only, and never with lambda_adv 0 (D would learn for nothing)."""
    cfg = tiny_config(adversarial_every=every, adversarial_from=start, lambda_adv=weight, lambda_perceptual=0,
                      lambda_l1=1.0, grad_cos_every=0)
    nets = step_module.build_networks(cfg, GEN_CFG, DISC_CFG, torch.device("cpu"))
    ctx = DistributedContext(rank=0, local_rank=0, world_size=1, device=torch.device("cpu"))
    sampler = StepSampler(len(DATA), cfg.batch_size, seed=0)
    moved_d, adversarial_terms = [], []
    for step in range(5):
        before = [p.detach().clone() for p in nets.D.parameters()]
        batch = make_batch(DATA, *sampler.batch(step), torch.device("cpu"))
        stats, _ = step_module.train_step(nets, batch, step, cfg, None, ctx)
        moved_d.append(any(not torch.equal(b, p) for b, p in zip(before, nets.D.parameters())))
        adversarial_terms.append("loss/G_adv" in stats and "loss/D" in stats)
    expected = [weight > 0 and step >= start and (step - start) % every == 0 for step in range(5)]
    assert moved_d == expected and adversarial_terms == expected


def test_lazy_r1_counts_from_the_first_adversarial_step():
    """With adversarial_from s, D's first update is at step s and lazy R1 runs on D's updates 0, r1_every, …"""
    cfg = tiny_config(adversarial_from=1, r1_every=2, lambda_perceptual=0, lambda_l1=1.0, grad_cos_every=0)
    nets = step_module.build_networks(cfg, GEN_CFG, DISC_CFG, torch.device("cpu"))
    ctx = DistributedContext(rank=0, local_rank=0, world_size=1, device=torch.device("cpu"))
    sampler = StepSampler(len(DATA), cfg.batch_size, seed=0)
    regularised = []
    for step in range(5):
        stats, _ = step_module.train_step(nets, make_batch(DATA, *sampler.batch(step), torch.device("cpu")), step,
                                           cfg, None, ctx)
        regularised.append("loss/R1" in stats)
    assert regularised == [False, True, False, True, False]


def test_adversarial_every_must_be_positive():
    with pytest.raises(ValueError, match="adversarial_every"):
        tiny_config(adversarial_every=0)
    with pytest.raises(ValueError, match="adversarial_from"):
        tiny_config(adversarial_from=-1)


def test_learning_rate_is_constant_by_default_and_falls_linearly_to_the_last_step():
    assert [tiny_config(steps=4, lr=0.01).lr_at(step) for step in range(4)] == [0.01] * 4
    decayed = tiny_config(steps=8, lr=0.01, lr_decay_from=0.5)
    assert [decayed.lr_at(step) for step in range(8)] == pytest.approx([0.01] * 5 + [0.0075, 0.005, 0.0025])
    assert tiny_config(steps=4, lr=0.01, lr_decay_from=0.0).lr_at(0) == pytest.approx(0.01)
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="lr_decay_from"):
            tiny_config(lr_decay_from=bad)


def test_each_step_sets_the_scheduled_learning_rate_of_both_optimisers():
    cfg = tiny_config(steps=4, lr=0.01, lr_decay_from=0.5)
    nets = step_module.build_networks(cfg, GEN_CFG, DISC_CFG, torch.device("cpu"))
    ctx = DistributedContext(rank=0, local_rank=0, world_size=1, device=torch.device("cpu"))
    batch = make_batch(DATA, *StepSampler(len(DATA), cfg.batch_size, seed=0).batch(3), torch.device("cpu"))
    step_module.train_step(nets, batch, 3, cfg, None, ctx)
    for optimizer in (nets.opt_G, nets.opt_D):
        assert [group["lr"] for group in optimizer.param_groups] == pytest.approx([0.005] * len(optimizer.param_groups))


def _one_step(cfg: TrainConfig, step: int = 0):
    """Networks before and after one train_step on the tiny data (cfg's seed), and the step's stats."""
    nets = step_module.build_networks(cfg, GEN_CFG, DISC_CFG, torch.device("cpu"))
    before = {name: {k: v.clone() for k, v in getattr(nets.G, name).state_dict().items()}
              for name in ("style_encoder", "blocks", "sketch_mlp")}
    ctx = DistributedContext(rank=0, local_rank=0, world_size=1, device=torch.device("cpu"))
    batch = make_batch(DATA, *StepSampler(len(DATA), cfg.batch_size, seed=0).batch(step), torch.device("cpu"))
    stats, _ = step_module.train_step(nets, batch, step, cfg, None, ctx)
    moved = {name: any(not torch.equal(values[k], v) for k, v in getattr(nets.G, name).state_dict().items())
             for name, values in before.items()}
    return stats, moved


def test_latent_recovery_trains_the_decoder_and_leaves_the_style_encoder_alone():
    """The cLR-GAN branch's L1 alone (every other weight 0) moves the decoder, as in BicycleGAN, not the encoder
    that recovers w (it would learn to recover anything), nor the sketch MLP."""
    cfg = tiny_config(lambda_adv=0, lambda_perceptual=0, lambda_kl=0, lambda_w=0, lambda_l1=0, lambda_latent=1.0,
                      grad_cos_every=0, ema_beta=0)
    stats, moved = _one_step(cfg)
    assert moved == {"style_encoder": False, "blocks": True, "sketch_mlp": False}
    assert stats["loss/latent"] > 0


def test_latent_recovery_colourings_are_judged_by_the_discriminator():
    on = tiny_config(lambda_perceptual=0, lambda_latent=0.5, grad_cos_every=0)
    stats_on, _ = _one_step(on)
    stats_off, _ = _one_step(dataclasses.replace(on, lambda_latent=0.0))
    assert {"loss/G_adv_random", "loss/latent"} <= set(stats_on)
    assert not {"loss/G_adv_random", "loss/latent"} & set(stats_off)
    # same reals, same posterior-w colouring: D's fake logit now averages over the random-w colourings too
    assert float(stats_on["D/real_logit"]) == float(stats_off["D/real_logit"])
    assert float(stats_on["D/fake_logit"]) != float(stats_off["D/fake_logit"])


def _random_style_and_w_pred(cfg: TrainConfig, monkeypatch) -> tuple[Tensor, Tensor]:
    """The w (B, w_dim) that one train_step's cLR-GAN branch colours, and the sketch MLP's w_pred (B, w_dim)."""
    decoded = []
    decode = Generator.decode

    def recording_decode(G, encoding, w=None):
        decoded.append((w, encoding.w_pred))
        return decode(G, encoding, w)

    monkeypatch.setattr(Generator, "decode", recording_decode)
    _one_step(cfg)
    w_random, w_pred = decoded[1]  # the call after the posterior-w colouring
    return w_random.detach(), w_pred.detach()


def test_latent_recovery_draws_its_styles_from_the_prior_the_kl_term_measures_against(monkeypatch):
    """Under kl_prior "standard" the random styles are N(0, 1) draws; under "sketch" the same draws about w_pred."""
    on = tiny_config(lambda_perceptual=0, lambda_latent=0.5, grad_cos_every=0, kl_prior="standard")
    w_standard, w_pred = _random_style_and_w_pred(on, monkeypatch)
    w_sketch, w_pred_again = _random_style_and_w_pred(dataclasses.replace(on, kl_prior="sketch"), monkeypatch)
    assert torch.equal(w_pred, w_pred_again)  # the same networks and batch
    assert torch.allclose(w_sketch - w_pred, w_standard, atol=1e-6)
    assert not torch.allclose(w_sketch, w_standard, atol=1e-3)


def test_latent_recovery_is_ignored_without_a_style_encoder(tmp_path):
    """Like lambda_kl and lambda_w, the cLR-GAN branch applies to latent "posterior" only: a paper-literal model
    (w from the sketch alone) trains the same with it on."""
    cfg = tiny_config(steps=1, lambda_perceptual=0, grad_cos_every=0)
    sketch_latent = dataclasses.replace(GEN_CFG, latent="sketch")
    for name, weight in (("off", 0.0), ("on", 0.5)):
        train(dataclasses.replace(cfg, lambda_latent=weight), sketch_latent, DISC_CFG, DATA, tmp_path / name,
              progress=False)
    losses = [{k: v for k, v in _stats(tmp_path / name)[-1].items() if k.startswith("loss/")} for name in ("off", "on")]
    assert losses[0] == losses[1] and "loss/G" in losses[0]


def test_keep_freed_memory_sets_glibc_s_thresholds_on_linux():
    import platform

    from rasc.training.allocator import keep_freed_memory
    glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert keep_freed_memory() is glibc  # glibc accepts both thresholds; elsewhere nothing is set


def _posterior_w(cfg: TrainConfig, monkeypatch) -> tuple[Tensor, Tensor, Tensor]:
    """The posterior w (B, w_dim) that one train_step colours, with the style encoder's mu and logvar."""
    decoded, encoded = [], []
    decode, encode_style = Generator.decode, Generator.encode_style

    def recording_decode(G, encoding, w=None):
        decoded.append(w)
        return decode(G, encoding, w)

    def recording_encode_style(G, color):
        encoded.append(encode_style(G, color))
        return encoded[-1]

    monkeypatch.setattr(Generator, "decode", recording_decode)
    monkeypatch.setattr(Generator, "encode_style", recording_encode_style)
    _one_step(cfg)
    mu, logvar = encoded[0]
    return decoded[0].detach(), mu.detach(), logvar.detach()


@pytest.mark.parametrize("scale", [0.0, 0.5])
def test_posterior_noise_scales_the_reparameterisation_noise(monkeypatch, scale):
    """w = mu + s·ε·σ: the same ε under every scale s (1: cVAE-GAN's sample, 0: the posterior mean itself)."""
    cfg = tiny_config(lambda_perceptual=0, grad_cos_every=0)
    w_sample, mu, logvar = _posterior_w(cfg, monkeypatch)
    w_scaled, mu_again, _ = _posterior_w(dataclasses.replace(cfg, posterior_noise=scale), monkeypatch)
    assert torch.equal(mu, mu_again)  # the same networks and batch
    assert not torch.allclose(w_sample, mu, atol=1e-3)  # the sample is noisy
    noise = (w_sample - mu) / torch.exp(0.5 * logvar)  # (B, w_dim) ε
    torch.testing.assert_close(w_scaled, mu + scale * noise * torch.exp(0.5 * logvar))


def test_posterior_noise_must_lie_in_the_unit_interval():
    for scale in (-0.1, 1.5):
        with pytest.raises(ValueError, match="posterior_noise"):
            tiny_config(posterior_noise=scale)


def test_a_second_trainer_on_one_run_folder_is_refused_until_the_first_ends(tmp_path):
    """An orphaned training job and a rerun after ``snakemake --unlock`` must not write one folder together."""
    from rasc.training.run_files import exclusive_run_folder

    folder = tmp_path / "results" / "train" / "full" / "seed0"
    with exclusive_run_folder(folder):
        with pytest.raises(BlockingIOError, match="another process is training into this run folder"):
            with exclusive_run_folder(folder):
                pass
    with exclusive_run_folder(folder):  # released when the first trainer's block ends
        pass
