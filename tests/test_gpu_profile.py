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
    path = REPO / "config/config.yaml"
    command = size_steps.bench_command(path, load_config(path), "cpu")
    flags = dict(zip(command[2::2], command[3::2]))
    assert flags["--config"] == str(path) and flags["--variants"] == "full"
    assert flags["--device"] == "cpu" and flags["--threads"] == "1"


def test_size_steps_times_the_configs_recipe(size_steps, monkeypatch, capsys):
    """End to end on the CPU at the test config's size: a measured step time and a step count within the clamps."""
    monkeypatch.setattr("sys.argv", ["size_steps.py", "--config", str(REPO / ".test/config/config.yaml"),
                                     "--device", "cpu", "--trainings", "2", "--concurrency", "1",
                                     "--budget", "60", "--overhead", "0", "--max-steps", "500"])
    size_steps.main()
    lines = capsys.readouterr().out.strip().splitlines()
    assert "recipe of" in lines[1] and "full" in lines[2]
    assert 50 <= int(lines[-1]) <= 500
