"""benchmarks/style_sampling.py on the tiny DAG's run: the prior training stored is the one a fit of the finished
model on its training split gives, and the benchmark's fitted-prior samples are the evaluation's."""

import json

import pytest
import torch
from conftest import import_benchmark

from rasc.experiment import default_paths
from rasc.models.style_prior import fit_style_prior
from rasc.training.data import load_train_data


@pytest.fixture(scope="module")
def style_sampling():
    yield from import_benchmark("style_sampling")


def test_training_stores_the_prior_a_post_hoc_fit_gives(tiny_run, style_sampling):
    results = tiny_run / "results"
    generator, source, fitted_here = style_sampling.fitted_generator(results, "full", 0)
    assert not fitted_here and generator.style_scale_tril is not None  # written by the training itself
    paths = default_paths("full", 0, source)
    data = load_train_data(*(tiny_run / paths[key] for key in ("illustrations", "sketches", "regions")))
    refit = fit_style_prior(generator, data.sketch, data.regions, data.color)
    torch.testing.assert_close(generator.style_scale_tril, refit, rtol=1e-4, atol=1e-5)


def test_benchmark_samples_are_the_evaluations(tiny_run, style_sampling):
    results = tiny_run / "results"
    metrics = json.loads((results / "eval/full/seed0/A/metrics.json").read_text())
    assert metrics["style_prior"] == "fitted"
    generator, source, _ = style_sampling.fitted_generator(results, "full", 0)
    inputs = style_sampling.test_inputs(results, source, "A")
    fitted, samples = style_sampling.sample_scores(generator, inputs, 2, "fitted")
    assert samples.shape[1] == 2
    for key in ("diversity", "diversity_precision", "diversity_recall"):
        assert fitted[key] == pytest.approx(metrics[key], abs=1e-6), key
    standard, _ = style_sampling.sample_scores(generator, inputs, 2, "standard")
    assert standard["diversity"] != pytest.approx(fitted["diversity"])


def test_benchmark_fid_is_that_of_the_samples(tiny_run, style_sampling):
    """With a zero-spread prior every sample is the evaluation's predicted-w colouring: the benchmark's FID is then
    that of the evaluation's colourings (each twice), with the run's backbone and reference features."""
    import numpy as np
    from rasc.metrics.fid import FIDBackbone, FIDFeatures, fid_between

    results = tiny_run / "results"
    generator, source, _ = style_sampling.fitted_generator(results, "full", 0)
    inputs = style_sampling.test_inputs(results, source, "A")
    fid = (FIDBackbone.from_file(results / "eval" / "fid_backbone.pt", "cpu"),
           FIDFeatures.load(results / "eval" / "fid_reference.npz"))
    spread, _ = style_sampling.sample_scores(generator, inputs, 2, "fitted", fid)
    generator.style_scale_tril = torch.zeros_like(generator.style_scale_tril)
    scores, samples = style_sampling.sample_scores(generator, inputs, 2, "fitted", fid)
    evaluated = np.load(results / "eval/full/seed0/A/colorized.npz")["predicted"]  # (N, H, W, 3)
    np.testing.assert_array_equal(samples[:, 0], evaluated)
    expected = fid_between(fid[0].features(np.repeat(evaluated, 2, axis=0)), fid[1])
    assert scores["fid"] == pytest.approx(expected, rel=1e-6) and spread["fid"] != pytest.approx(expected)
