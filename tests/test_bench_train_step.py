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


@pytest.fixture(scope="module")
def allocator_bench():
    yield from import_benchmark("bench_allocator")


def test_bench_allocator_reads_the_timing_line_of_each_allocator(allocator_bench):
    import subprocess
    import sys

    for allocator in ("glibc", "kept"):
        out = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_train_step.py"), "--size", "16",
                              "--base-channels", "4", "--max-channels", "8", "--num-blocks", "2", "--variants", "full",
                              "--warmup", "1", "--steps", "1", "--rounds", "1", "--allocator", allocator],
                             capture_output=True, text=True, check=True, cwd=REPO).stdout
        found = allocator_bench.TIMING.search(out)
        assert found is not None and float(found[1]) > 0 and float(found[2]) >= float(found[1])
        assert f"allocator {allocator}" in out
