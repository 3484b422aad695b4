"""Checkpoints: round trip, generator rebuilt from the stored config, safe loading, atomic writes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import rasc.training.checkpoint as checkpoint_module
from rasc.training.checkpoint import (
    FORMAT,
    FORMAT_VERSION,
    CheckpointError,
    load_checkpoint,
    load_generator,
    save_generator_checkpoint,
    save_training_checkpoint,
)
from rasc.models import DiscriminatorConfig, GeneratorConfig
from rasc.training.options import TrainConfig
from rasc.training.rng import capture_rng_state
from rasc.training.step import build_networks

GEN_CFG = GeneratorConfig(image_size=16, base_channels=4, max_channels=8, num_blocks=2, w_dim=4)
DISC_CFG = DiscriminatorConfig(image_size=16, base_channels=4, max_channels=8)


@pytest.fixture
def nets():
    """Tiny networks after one optimiser step each, so both Adam states are non-empty."""
    networks = build_networks(TrainConfig(seed=3), GEN_CFG, DISC_CFG, torch.device("cpu"))
    sketch = torch.rand(2, 1, 16, 16) * 2 - 1
    regions = torch.randint(0, 3, (2, 16, 16))
    networks.G(sketch, regions).rgb.mean().backward()
    networks.opt_G.step()
    networks.D(torch.rand(2, 3, 16, 16)).mean().backward()
    networks.opt_D.step()
    return networks


def _save_training(path, nets, step=7, **overrides):
    arguments = dict(generator=nets.G, discriminator=nets.D, generator_ema=nets.G_ema, g_optimizer=nets.opt_G,
                     d_optimizer=nets.opt_D, generator_config=GEN_CFG, discriminator_config=DISC_CFG,
                     config={"train": {"lr": 0.002}, "name": "unit"}, step=step, rng_state=capture_rng_state(),
                     meta={"run_id": "abc"})
    arguments.update(overrides)
    save_training_checkpoint(path, **arguments)


def _assert_state_equal(left, right):
    assert left.keys() == right.keys()
    for key in left:
        assert torch.equal(left[key], right[key]), key


def test_training_checkpoint_round_trip(tmp_path, nets):
    path = tmp_path / "snap" / "last.pt"
    _save_training(path, nets)
    loaded = load_checkpoint(path)
    assert loaded["format"] == FORMAT and loaded["format_version"] == FORMAT_VERSION
    assert loaded["kind"] == "training" and loaded["step"] == 7
    _assert_state_equal(loaded["G"], nets.G.state_dict())
    _assert_state_equal(loaded["D"], nets.D.state_dict())
    _assert_state_equal(loaded["G_ema"], nets.G_ema.state_dict())
    fresh = build_networks(TrainConfig(seed=4), GEN_CFG, DISC_CFG, torch.device("cpu"))
    fresh.opt_G.load_state_dict(loaded["opt_G"])
    fresh.opt_D.load_state_dict(loaded["opt_D"])
    for group_state in fresh.opt_G.state.values():
        assert int(group_state["step"]) == 1
    assert loaded["generator_config"] == dataclasses.asdict(GEN_CFG)
    assert loaded["discriminator_config"] == dataclasses.asdict(DISC_CFG)
    assert loaded["config"] == {"train": {"lr": 0.002}, "name": "unit"}
    assert torch.equal(loaded["rng"]["torch"], torch.get_rng_state())
    assert loaded["meta"] == {"run_id": "abc"}
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_load_generator_rebuilds_the_architecture_from_the_file(tmp_path, nets):
    path = tmp_path / "generator.pt"
    save_generator_checkpoint(path, generator=nets.G_ema, generator_config=GEN_CFG, config={"seed": 1}, step=3)
    generator, config = load_generator(path)
    assert config == {"seed": 1}
    assert generator.cfg == GEN_CFG and not generator.training
    sketch = torch.rand(2, 1, 16, 16) * 2 - 1
    regions = torch.randint(0, 3, (2, 16, 16))
    with torch.no_grad():
        assert torch.equal(generator(sketch, regions).rgb, nets.G_ema(sketch, regions).rgb)
    # a training snapshot works too (its G_ema is used)
    _save_training(tmp_path / "last.pt", nets)
    from_snapshot, _ = load_generator(tmp_path / "last.pt")
    _assert_state_equal(from_snapshot.state_dict(), nets.G_ema.state_dict())


def test_load_generator_rejects_weights_that_do_not_match_the_config(tmp_path, nets):
    path = tmp_path / "generator.pt"
    other = dataclasses.replace(GEN_CFG, base_channels=8)
    save_generator_checkpoint(path, generator=nets.G_ema, generator_config=other, config={}, step=1)
    with pytest.raises(CheckpointError, match="do not match"):
        load_generator(path)
    stored = load_checkpoint(path)
    stored["generator_config"]["future_option"] = 1
    torch.save(stored, path)
    with pytest.raises(CheckpointError, match="future_option"):
        load_generator(path)


def test_missing_garbage_and_truncated_files_raise_checkpoint_error(tmp_path, nets):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nothing.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"this is not a checkpoint at all" * 10)
    with pytest.raises(CheckpointError, match="garbage.pt: not a PyTorch checkpoint file"):
        load_checkpoint(garbage)
    image = tmp_path / "image.pt"  # an image given as a model: not "pickled objects", not a torch file at all
    image.write_bytes(bytes([0x89]) + b"PNG\r\n\x1a\n" + bytes(64))
    with pytest.raises(CheckpointError, match="image.pt: not a PyTorch checkpoint file"):
        load_checkpoint(image)
    whole = tmp_path / "whole.pt"
    _save_training(whole, nets)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated.pt"):
        load_checkpoint(truncated)


def test_foreign_files_and_other_versions_are_refused(tmp_path):
    foreign = tmp_path / "foreign.pt"
    torch.save({"model": {"w": torch.zeros(2)}}, foreign)
    with pytest.raises(CheckpointError, match="not a rasc checkpoint"):
        load_checkpoint(foreign)
    future = tmp_path / "future.pt"
    torch.save({"format": FORMAT, "format_version": FORMAT_VERSION + 1, "kind": "generator"}, future)
    with pytest.raises(CheckpointError, match="format version 2 is not supported"):
        load_checkpoint(future)


class Payload:
    """An arbitrary pickled object: loading it would run code from the file."""

    def __reduce__(self):
        return (print, ("code ran while loading",))


@pytest.mark.parametrize("smuggled", [Payload(), np.zeros(3)], ids=["object", "numpy"])
def test_pickled_objects_are_refused(tmp_path, smuggled):
    path = tmp_path / "smuggled.pt"
    torch.save({"format": FORMAT, "format_version": FORMAT_VERSION, "kind": "generator", "step": 1,
                "G_ema": {}, "generator_config": {}, "extra": smuggled}, path)
    with pytest.raises(CheckpointError, match="smuggled.pt: refused"):
        load_checkpoint(path)


def test_loader_uses_weights_only(tmp_path, monkeypatch, nets):
    path = tmp_path / "last.pt"
    _save_training(path, nets)
    seen = {}
    real_load = torch.load

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    load_checkpoint(path)
    assert seen.get("weights_only") is True and seen.get("map_location") == "cpu"


def test_a_failed_write_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch, nets):
    path = tmp_path / "last.pt"
    _save_training(path, nets, step=1)
    before = path.read_bytes()

    def dying_save(obj, stream):
        stream.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint_module.torch, "save", dying_save)
    with pytest.raises(OSError, match="disk full"):
        _save_training(path, nets, step=2)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]
