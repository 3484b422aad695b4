"""benchmarks/generalisation_gap.py on the tiny DAG's run: its EMA colouring of test set A is the evaluation's."""

import json

import pytest
from conftest import import_benchmark


@pytest.fixture(scope="module")
def generalisation_gap():
    yield from import_benchmark("generalisation_gap")


def test_ema_scores_are_the_evaluations_and_the_raw_generator_differs(tiny_run, generalisation_gap):
    results = tiny_run / "results"
    step, generators = generalisation_gap.snapshot_generators(results / "train" / "full" / "seed0")
    errors = generalisation_gap.colour_errors(results, generators, count=3, sets=("train", "A"))  # tiny run: A only
    metrics = json.loads((results / "eval/full/seed0/A/metrics.json").read_text())
    assert step == json.loads((results / "train/full/seed0/run.json").read_text())["steps"]
    assert errors["A"]["EMA"] == pytest.approx(metrics["colour_error"], abs=1e-9)
    assert errors["A"]["raw"] != pytest.approx(errors["A"]["EMA"], abs=1e-6)
    assert set(errors) == {"train", "A"} and all(e["constant"] > 0 for e in errors.values())


def test_training_drawings_are_the_first_count(tiny_run, generalisation_gap):
    truth, sketches, labels = generalisation_gap.load_set(tiny_run / "results", "train", "xdog", 2)
    assert len(sketches) == len(labels) == len(truth["color"]) == 2
    assert truth["has_ground_truth"].ndim == 0  # scalars are kept whole


def test_oracle_scores_are_the_evaluations_oracle_row(tiny_run, generalisation_gap):
    results = tiny_run / "results"
    _, generators = generalisation_gap.snapshot_generators(results / "train" / "full" / "seed0")
    errors = generalisation_gap.colour_errors(results, {"EMA": generators["EMA"]}, count=3, sets=("A",), oracle=True)
    metrics = json.loads((results / "eval/full/seed0/A/metrics.json").read_text())
    assert errors["A"]["EMA:oracle"] == pytest.approx(metrics["oracle"]["colour_error"], abs=1e-9)
    assert errors["A"]["EMA:oracle"] != pytest.approx(errors["A"]["EMA"], abs=1e-6)
