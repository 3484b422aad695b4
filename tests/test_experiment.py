"""One experiment trained through train_experiment with real MLflow tracking: every run ends FINISHED, FAILED or
KILLED, a refused resume leaves a finished run alone, and raising train.steps continues a finished run."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from mlflow import MlflowClient

from rasc.training.checkpoint import CheckpointError
from rasc.config import load_config
from rasc.experiment import L1_WEIGHT_REGION_SOURCE, loss_regions_path, train_experiment
from rasc.tracking import tracking_uri
from rasc.training.data import synthetic_train_data

pytestmark = pytest.mark.filterwarnings("ignore:NO PRETRAINED VGG-19:RuntimeWarning")


@pytest.fixture(autouse=True)
def _no_cached_vgg(tmp_path_factory, monkeypatch):
    """The seeded random VGG fallback whatever this machine has cached."""
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path_factory.mktemp("hub")))


@pytest.fixture
def setup(repo, tmp_path):
    """The tiny .test config (32², 3 blocks, 2 steps) and 6 training triplets as the data stage writes them."""
    data = synthetic_train_data(num_samples=6, image_size=32, seed=0)
    paths = {"illustrations": tmp_path / "illustrations.npz", "sketches": tmp_path / "sketch.npz",
             "regions": tmp_path / "regions.npz"}
    np.savez(paths["illustrations"], color=data.color)
    np.savez(paths["sketches"], sketch=data.sketch)
    np.savez(paths["regions"], labels=data.regions)
    config = load_config(repo / ".test/config/config.yaml")
    config["train"]["steps"] = 2
    config["train"]["l1_region_power"] = 0.0  # plain L1: no weighting maps to read (their own test sets it)
    return config, {**paths, "out_dir": tmp_path / "run"}


def _run(run_id):
    return MlflowClient(tracking_uri()).get_run(run_id)


def _train(config, paths):
    return train_experiment(config, "full", 0, progress=False, **{k: str(v) for k, v in paths.items()})


def test_raising_steps_continues_a_finished_run_in_the_same_mlflow_run(setup):
    config, paths = setup
    first = _train(config, paths)
    assert first.completed and _run(first.run_id).info.status == "FINISHED"
    longer = copy.deepcopy(config)
    longer["train"]["steps"] = 3
    second = _train(longer, paths)  # was: MlflowException "Changing param values is not allowed ... train.steps"
    assert second.steps == 3 and second.run_id == first.run_id
    run = _run(first.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["train.steps"] == "2" and run.data.tags["resumed_with.train.steps"] == "3"


def test_a_refused_resume_leaves_the_finished_run_finished(setup):
    config, paths = setup
    first = _train(config, paths)
    other = copy.deepcopy(config)
    other["model"]["base_channels"] = 8  # another architecture: the snapshot cannot be resumed
    with pytest.raises(CheckpointError, match="snapshot was trained with"):
        _train(other, paths)
    assert _run(first.run_id).info.status == "FINISHED"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_missing_cuda_device_stops_before_any_run_is_started(setup):
    config, paths = setup
    config["train"]["device"] = "cuda"
    with pytest.raises(ValueError, match="CUDA is not available"):
        _train(config, paths)
    client = MlflowClient(tracking_uri())
    experiments = client.search_experiments()
    runs = client.search_runs([e.experiment_id for e in experiments]) if experiments else []
    assert [r.info.status for r in runs] == []
    assert not paths["out_dir"].exists()


def test_training_priority_starts_the_longest_trainings_first(repo):
    """pix2pix's U-Net steps in about 0.6x a RASC step, 1,024 patches in about 1.5x: on two cores the run should
    end on the cheapest training, so the dearer ones rank higher; every training ranks above the evaluations (0)."""
    from rasc.experiment import training_priority

    config = load_config(repo / "config" / "config.yaml")
    priorities = {name: training_priority(config, name) for name in config["experiments"]}
    assert priorities["pix2pix"] < priorities["full"] < priorities["patches_1024"]
    assert priorities["patches_1"] == priorities["full"] == priorities["cwr_skeleton"]
    assert min(priorities.values()) > 0


def test_the_pixel_l1_is_weighted_by_trapped_ball_maps_in_every_experiment(setup):
    """l1_region_power > 0 reads the trapped-ball maps of the training sketches (whatever the network's region
    source); at 0 nothing more is read."""
    assert L1_WEIGHT_REGION_SOURCE == "trapped_ball"
    assert loss_regions_path({"l1_region_power": 0.0}) is None and loss_regions_path({}) is None
    assert loss_regions_path({"l1_region_power": 0.5}).as_posix() == "results/regions/trapped_ball/train_xdog.npz"
    config, paths = setup
    config["train"]["l1_region_power"] = 0.5
    missing = paths["out_dir"].parent / "absent.npz"
    with pytest.raises(FileNotFoundError, match="absent.npz"):
        train_experiment(config, "full", 0, progress=False, loss_regions=str(missing),
                         **{k: str(v) for k, v in paths.items()})
    result = train_experiment(config, "full", 0, progress=False, loss_regions=str(paths["regions"]),
                              **{k: str(v) for k, v in paths.items()})
    assert result is not None
