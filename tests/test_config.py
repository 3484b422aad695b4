"""Config validation: the shipped configs pass; broken ones stop with a message that names the key."""

from __future__ import annotations

import copy

import pytest
import yaml

from rasc.config import ConfigError, experiment_config, load_config, validate_config

SHIPPED = ["config/config.yaml", "config/paper.yaml", "config/gpu.yaml", "config/openmoji.yaml",
           ".test/config/config.yaml"]


@pytest.fixture
def default_config(repo):
    return yaml.safe_load((repo / "config/config.yaml").read_text())


@pytest.mark.parametrize("path", SHIPPED)
def test_shipped_configs_validate(repo, path):
    config = load_config(repo / path)
    assert config["experiments"], path


def test_defaults_are_filled(default_config):
    del default_config["train"]["lr"]
    del default_config["sketch"]
    config = validate_config(default_config)
    assert config["train"]["lr"] == 0.002
    assert config["sketch"]["tau"] == pytest.approx(0.999997)


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda c: c["data"].__setitem__("size", "big"), "data.size"),
        (lambda c: c["model"].__setitem__("colour", 1), "model"),
        (lambda c: c["train"].__setitem__("steps", 0), "train.steps"),
        (lambda c: c.__setitem__("unknown_section", {}), "(top level)"),
        (lambda c: c["experiments"].__setitem__("bad", {"model": {"variant": "nope"}}), "experiments.bad.model"),
        (lambda c: c["tables"].__setitem__("table1", ["missing"]), "tables.table1"),
        (lambda c: c["regions"].__setitem__("sources", ["patches_10"]), "patches_10"),
        (lambda c: c["claims"].__setitem__("seeds", [0]), "claims.seeds"),
        (lambda c: c["experiments"].__setitem__("bad", {"model": {"architecture": "unet"}}),
         "experiments.bad.model.latent"),
        (lambda c: c["experiments"].__setitem__("bad", {"model": {"architecture": "unet", "latent": "none"}}),
         "experiments.bad.model.variant"),
        (lambda c: c["experiments"].__setitem__("bad", {"model": {"latent": "none"}}), "experiments.bad.model.latent"),
    ],
)
def test_broken_config_names_the_key(default_config, mutate, key):
    broken = copy.deepcopy(default_config)
    mutate(broken)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.").replace("(", r"\(").replace(")", r"\)")):
        validate_config(broken)


def test_experiment_overrides_merge(default_config):
    config = validate_config(default_config)
    resolved = experiment_config(config, "no_region_maps")
    assert resolved["model"]["variant"] == "no_region_maps"
    assert resolved["model"]["base_channels"] == config["model"]["base_channels"]
    with pytest.raises(ConfigError, match="unknown experiment"):
        experiment_config(config, "nope")


def test_unreadable_yaml(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("data: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)


def test_test_set_r_needs_a_sketch_folder_and_works_with_procedural_data(default_config):
    config = copy.deepcopy(default_config)
    config["eval"]["test_sets"] = ["A", "R"]
    with pytest.raises(ConfigError, match="test set R needs data.folder.sketches"):
        validate_config(copy.deepcopy(config))
    config["data"]["folder"]["sketches"] = "my_sketches"
    assert validate_config(config)["data"]["source"] == "procedural"


def test_openmoji_config_is_the_default_recipe_on_openmoji_data(repo):
    """config/openmoji.yaml keeps config/config.yaml's keys and, until the OpenMoji main job is tuned on its own,
    its recipe: when the default's model/train/eval/... change, carry the change over (or record why it differs)."""
    default = yaml.safe_load((repo / "config/config.yaml").read_text())
    openmoji = yaml.safe_load((repo / "config/openmoji.yaml").read_text())
    assert openmoji.keys() == default.keys() and openmoji["data"].keys() == default["data"].keys()
    assert openmoji["data"]["source"] == "openmoji" and openmoji["data"]["size"] in (64, 128)
    for section in default:
        if section != "data":
            assert openmoji[section] == default[section], section


def test_tiny_openmoji_override_validates(repo):
    tiny = yaml.safe_load((repo / ".test/config/config.yaml").read_text())
    override = yaml.safe_load((repo / ".test/config/openmoji.yaml").read_text())
    config = validate_config(copy.deepcopy(tiny) | {k: {**tiny.get(k, {}), **v} for k, v in override.items()})
    assert config["data"]["source"] == "openmoji" and config["eval"]["test_sets"] == ["B"]
