"""The GPU profile's sizing arithmetic (profiles/gpu/size_steps.py) and its bench command."""

import importlib.util
from pathlib import Path

import pytest

from rasc.config import load_config

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def size_steps():
    spec = importlib.util.spec_from_file_location("size_steps", REPO / "profiles/gpu/size_steps.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_steps_fit_the_budget_per_wave(size_steps):
    # 21 trainings, 16 at a time: 2 waves of 120 s, 30 s overhead each → 90 s / 0.2 s = 450 steps
    fitting, steps = size_steps.fitting_steps(0.2, 21, 16, 240, 30, 1200)
    assert fitting == pytest.approx(450)
    assert steps == 450
    assert size_steps.fitting_steps(0.3, 21, 16, 240, 30, 1200)[1] == 300  # 300 fit exactly
    assert size_steps.fitting_steps(0.31, 21, 16, 240, 30, 1200)[1] == 250  # rounded down to a multiple of 50


def test_steps_are_clamped(size_steps):
    assert size_steps.fitting_steps(0.001, 21, 21, 600, 0, 1200)[1] == 1200
    assert size_steps.fitting_steps(10.0, 21, 1, 60, 30, 1200)[1] == 50  # too slow: the floor, not zero or negative


def test_bench_command_is_the_configs_recipe(size_steps):
    config = load_config(REPO / "config/gpu.yaml")
    command = size_steps.bench_command(config, "cpu")
    flags = dict(zip(command[2::2], command[3::2]))
    assert flags["--size"] == "256" and flags["--batch"] == str(config["train"]["batch_size"])
    assert flags["--base-channels"] == str(config["model"]["base_channels"])
    assert float(flags["--lambda-l1-predicted"]) == config["train"]["lambda_l1_predicted"]
