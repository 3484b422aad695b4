"""benchmarks/recipe_search.py: how a run's settings are resolved from the config, an experiment and overrides."""

import numpy as np
import pytest
from conftest import REPO, import_benchmark

from rasc.config import ConfigError, load_config


@pytest.fixture(scope="module")
def recipe_search():
    yield from import_benchmark("recipe_search")


def test_an_experiment_s_overrides_apply_and_the_command_line_wins(recipe_search):
    config = load_config(REPO / "config" / "config.yaml")
    resolved = recipe_search.resolve_config(config, "pix2pix", data={"n_train": 40}, model={},
                                            train={"lr": 0.001})
    assert resolved["model"]["architecture"] == "unet"  # from experiments.pix2pix
    assert resolved["train"]["lambda_l1"] == 100  # from experiments.pix2pix
    assert resolved["train"]["lr"] == 0.001  # the command line over the experiment's 0.0002
    assert resolved["data"]["n_train"] == 40
    assert config["model"]["architecture"] == "rasc" and config["data"]["n_train"] != 40  # the input is unchanged


def test_the_default_experiment_keeps_the_config_and_an_unknown_one_is_refused(recipe_search):
    config = load_config(REPO / "config" / "config.yaml")
    resolved = recipe_search.resolve_config(config, "full", data={}, model={}, train={})
    assert resolved["model"] == config["model"] and resolved["train"] == config["train"]
    with pytest.raises(ConfigError, match="unknown experiment"):
        recipe_search.resolve_config(config, "no_such_model", data={}, model={}, train={})


def test_both_region_map_choices_name_label_maps_of_every_sketch(recipe_search, tmp_path):
    config = recipe_search.resolve_config(load_config(REPO / "config" / "config.yaml"), "full",
                                          data={"n_train": 2, "n_test": 2}, model={}, train={})
    split = recipe_search.build_split(config, "test", tmp_path)
    for choice, key in recipe_search.REGION_MAPS.items():
        labels = split[key]
        assert labels.shape == split["sketch"].shape, choice
        assert np.issubdtype(labels.dtype, np.integer) and labels.min() >= 0, choice
    assert not np.array_equal(split["trapped_ball"], split["regions"])  # two different maps, not one array twice
