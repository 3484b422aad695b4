"""benchmarks/bench_train_step.py: the recipe it times with --config is the config's, resolved per experiment."""

import pytest
import torch
from conftest import REPO, import_benchmark

from rasc.config import load_config

CONFIG = REPO / "config" / "config.yaml"


@pytest.fixture(scope="module")
def bench():
    yield from import_benchmark("bench_train_step")


def test_the_config_recipe_is_the_workflow_s(bench):
    config = load_config(CONFIG)
    cfg, models = bench.recipe_from_config(CONFIG, ["full", "no_region_maps"], torch.device("cpu"))
    assert cfg.r1_gamma == config["train"]["r1_gamma"] and cfg.lambda_l1 == config["train"]["lambda_l1"]
    assert cfg.batch_size == config["train"]["batch_size"] and cfg.device == "cpu"
    generator, discriminator = models["full"]
    assert generator.image_size == config["data"]["size"]
    assert generator.encoder_norm_groups == config["model"]["encoder_norm_groups"]
    assert discriminator.base_channels == config["model"]["disc_base_channels"]
    assert models["no_region_maps"][0].variant == "no_region_maps"  # from experiments.no_region_maps


def test_experiments_that_train_differently_are_refused_together(bench):
    with pytest.raises(SystemExit, match="different settings"):
        bench.recipe_from_config(CONFIG, ["full", "pix2pix"], torch.device("cpu"))


def test_the_cpu_line_names_torch_s_vector_kernels(bench):
    assert f"torch CPU capability {torch.backends.cpu.get_cpu_capability()}" in bench.cpu_name()
