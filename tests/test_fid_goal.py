"""benchmarks/fid_goal.py: the colourings between a model's and the ground truth, and their scores on the tiny run."""

import json

import numpy as np
import pytest
from conftest import import_benchmark


@pytest.fixture(scope="module")
def fid_goal():
    yield from import_benchmark("fid_goal")


def _pair(seed=0):
    rng = np.random.default_rng(seed)
    colouring = rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    truth = rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    regions = np.repeat(np.arange(4, dtype=np.uint16), 16).reshape(1, 8, 8).repeat(3, axis=0)  # 4 bands of 16 px
    return colouring, truth, regions


def test_blend_runs_from_the_colouring_to_the_truth(fid_goal):
    colouring, truth, _ = _pair()
    assert np.array_equal(fid_goal.blend(colouring, truth, 0.0), colouring)
    assert np.array_equal(fid_goal.blend(colouring, truth, 1.0), truth)
    half = fid_goal.blend(colouring, truth, 0.5).astype(int)
    assert np.abs(half - (colouring.astype(int) + truth.astype(int)) / 2).max() <= 0.5


def test_true_regions_paint_that_fraction_of_each_drawing_s_regions(fid_goal):
    colouring, truth, regions = _pair()
    assert np.array_equal(fid_goal.true_regions(colouring, truth, regions, 0.0), colouring)
    assert np.array_equal(fid_goal.true_regions(colouring, truth, regions, 1.0), truth)
    half = fid_goal.true_regions(colouring, truth, regions, 0.5)
    for index in range(3):
        from_truth = (half[index] == truth[index]).all(axis=-1) & (half[index] != colouring[index]).any(axis=-1)
        painted = {label for label in range(4) if from_truth[regions[index] == label].any()}
        assert len(painted) == 2  # two of the four regions, each whole
        for label in painted:
            assert np.array_equal(half[index][regions[index] == label], truth[index][regions[index] == label])


def test_crossing_interpolates_between_the_straddling_levels(fid_goal):
    points = [(0.4, 50.0), (0.3, 52.0), (0.2, 40.0), (0.0, 0.0)]  # FID may rise before it falls
    assert fid_goal.crossing(points, 46.0) == pytest.approx(0.25)
    assert fid_goal.crossing(points, -1.0) is None


def test_the_model_end_scores_as_the_evaluation_and_the_truth_end_scores_zero(tiny_run, fid_goal):
    results = tiny_run / "results"
    backbone = fid_goal.FIDBackbone.from_file(results / "eval" / "fid_backbone.pt")
    reference = fid_goal.FIDFeatures.load(results / "eval" / "fid_reference.npz")
    floor = json.loads((results / "eval" / "fid_floor.json").read_text())["fid_floor"]
    rows = fid_goal.score_path(results, "full", 0, "A", "predicted", backbone, reference, floor, levels=(0.0, 1.0))
    metrics = json.loads((results / "eval/full/seed0/A/metrics.json").read_text())
    constant = json.loads((results / "eval/reference_constant/A/metrics.json").read_text())["colour_error"]
    for family in ("blend", "regions"):
        model, truth = [row for row in rows if row["family"] == family]
        assert model["fid"] == pytest.approx(metrics["fid"], rel=1e-6)
        assert model["colour_error_vs_constant"] == pytest.approx(metrics["colour_error"] / constant, rel=1e-9)
        assert truth["colour_error_vs_constant"] == pytest.approx(0.0, abs=1e-9)
        assert truth["fid"] == pytest.approx(0.0, abs=1e-3)


def test_a_colouring_the_run_lacks_is_named(tiny_run, fid_goal):
    results = tiny_run / "results"
    backbone = fid_goal.FIDBackbone.from_file(results / "eval" / "fid_backbone.pt")
    reference = fid_goal.FIDFeatures.load(results / "eval" / "fid_reference.npz")
    with pytest.raises(ValueError, match="pix2pix seed 0 on A has no 'oracle' colouring"):
        fid_goal.score_path(results, "pix2pix", 0, "A", "oracle", backbone, reference, 0.0, levels=(0.0,))
