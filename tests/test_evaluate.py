"""Evaluation of one generator on one test set: the ground-truth metrics are None without ground truth."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rasc.data.synth import SynthConfig, synthesize
from rasc.evaluate import evaluate_set
from rasc.models.inference import color_to_tensor, labels_to_tensor, rgb_to_uint8, sketch_to_tensor
from rasc.metrics.fid import FIDFeatures
from rasc.models import Generator, GeneratorConfig


class MeanColourBackbone:
    """A stand-in FID backbone: the mean colour of each image as its feature vector."""

    name = "mean-colour"

    def features(self, images: np.ndarray) -> FIDFeatures:
        return FIDFeatures(self.name, images.reshape(len(images), -1, 3).mean(axis=1).astype(np.float32))


@pytest.fixture(scope="module")
def setting():
    torch.manual_seed(0)
    generator = Generator(GeneratorConfig(image_size=32, base_channels=4, max_channels=8, num_blocks=2, w_dim=4))
    illustrations = synthesize(4, seed=3, cfg=SynthConfig(size=32))
    backbone = MeanColourBackbone()
    options = {"backbone": backbone, "reference_features": backbone.features(illustrations["color"]), "floor": 1.0,
               "diversity_samples": 2}
    return generator, illustrations, options


def test_sketches_without_ground_truth_get_fid_and_none_for_the_rest(setting):
    generator, illustrations, options = setting
    sketches, regions = illustrations["lines_clean"], illustrations["regions"]
    paired, _ = evaluate_set(generator, sketches, regions, ground_truth=illustrations, **options)
    # as many unrelated sketches as test illustrations: nothing may be compared image by image
    real, colourings = evaluate_set(generator, sketches, regions, ground_truth=None, **options)
    for metric in ("bleeding", "inconsistency", "colour_error", "diversity", "regions_measured", "groups_measured"):
        assert isinstance(paired[metric], float), metric
        assert real[metric] is None, metric
    assert 0.5 < paired["regions_measured"] <= 1.0 and 0.5 < paired["groups_measured"] <= 1.0
    assert real["fid"] == pytest.approx(paired["fid"]) and real["images"] == 4
    assert colourings["predicted"].shape == (4, 32, 32, 3) and colourings["samples"].shape == (4, 2, 32, 32, 3)
    assert "oracle" not in real and "oracle" not in colourings  # no ground truth, no oracle


def test_oracle_row_colours_with_the_posterior_mean_of_the_ground_truth(setting):
    generator, illustrations, options = setting
    sketches, regions = illustrations["lines_clean"], illustrations["regions"]
    metrics, colourings = evaluate_set(generator, sketches, regions, ground_truth=illustrations, **options)
    with torch.no_grad():
        mu, _ = generator.encode_style(color_to_tensor(illustrations["color"]))
        expected = rgb_to_uint8(generator(sketch_to_tensor(sketches), labels_to_tensor(regions), mu).rgb)
    np.testing.assert_array_equal(colourings["oracle"], expected)
    assert metrics["oracle"]["diversity"] is None  # one colouring per sketch has no spread
    assert isinstance(metrics["oracle"]["colour_error"], float)
    assert metrics["oracle"]["colour_error"] != metrics["colour_error"]


def test_ground_truth_of_another_size_is_refused(setting):
    generator, illustrations, options = setting
    with pytest.raises(ValueError, match="3 images for 4 sketches"):
        evaluate_set(generator, illustrations["lines_clean"], illustrations["regions"],
                     ground_truth={key: value[:3] for key, value in illustrations.items()}, **options)


def test_diversity_precision_and_recall_need_the_known_valid_colourings(setting):
    generator, illustrations, options = setting
    sketches, regions = illustrations["lines_clean"], illustrations["regions"]
    without, _ = evaluate_set(generator, sketches, regions, ground_truth=illustrations, **options)
    assert without["diversity_precision"] is None and without["diversity_recall"] is None
    truth = {**illustrations, "alternatives": np.repeat(illustrations["color"][:, None], 2, axis=1),
             "alternative_count": np.ones(4, np.int16)}  # only the ground truth itself is known
    metrics, colourings = evaluate_set(generator, sketches, regions, ground_truth=truth, **options)
    assert 0.0 <= metrics["diversity_precision"] <= 1.0 and 0.0 <= metrics["diversity_recall"] <= 1.0
    assert metrics["oracle"]["diversity_precision"] is None  # one colouring per sketch: no samples to judge
    truth["alternatives"][:, 1] = colourings["samples"][:, 0]  # the first sample of each sketch made valid
    truth["alternative_count"][:] = 2
    matched, _ = evaluate_set(generator, sketches, regions, ground_truth=truth, **options)
    assert matched["diversity_precision"] >= 0.5 and matched["diversity_recall"] >= 0.5


def test_diversity_samples_come_from_the_prior_asked_for_and_the_metrics_name_it(setting):
    """A fitted prior narrow around the predicted w (L = 0.05·I) spreads less than the paper's N(0, 1); a model that
    carries no fitted prior falls back to N(0, 1), and the metrics say which prior the samples came from."""
    generator, illustrations, options = setting
    sketches, regions = illustrations["lines_clean"], illustrations["regions"]
    plain, _ = evaluate_set(generator, sketches, regions, ground_truth=illustrations, **options)
    try:
        generator.style_scale_tril = torch.eye(4) * 0.05
        fitted, _ = evaluate_set(generator, sketches, regions, ground_truth=illustrations, **options)
        standard, _ = evaluate_set(generator, sketches, regions, ground_truth=illustrations, prior="standard",
                                   **options)
    finally:
        generator.style_scale_tril = None
    assert plain["style_prior"] == "standard" and plain["diversity"] == standard["diversity"]
    assert fitted["style_prior"] == "fitted" and standard["style_prior"] == "standard"
    assert fitted["diversity"] < 0.5 * standard["diversity"]


def test_reference_colourings_are_scored_as_one_sample_per_drawing_when_asked(setting):
    """coverage=True scores a fixed colouring's precision and recall as the one sample of each drawing: the ground
    truth is close to its own valid colouring (precision 1) and covers one of two (recall 0.5, the other is its
    negative); without coverage, or without known alternatives, they stay None."""
    from rasc.evaluate import fixed_colouring_metrics

    generator, illustrations, options = setting
    colour = illustrations["color"]  # (N, H, W, 3)
    truth = dict(illustrations) | {"alternatives": np.stack([colour, 255 - colour], axis=1),
                                   "alternative_count": np.full(len(colour), 2)}
    common = dict(backbone=options["backbone"], reference_features=options["reference_features"], floor=1.0)
    scored = fixed_colouring_metrics(colour, illustrations["lines_clean"], truth, coverage=True, **common)
    assert scored["diversity_precision"] == 1.0 and scored["diversity_recall"] == 0.5
    assert scored["diversity"] is None  # one colouring per drawing has no spread
    plain = fixed_colouring_metrics(colour, illustrations["lines_clean"], truth, **common)
    assert plain["diversity_precision"] is None and plain["diversity_recall"] is None
    unknown = fixed_colouring_metrics(colour, illustrations["lines_clean"], illustrations, coverage=True, **common)
    assert unknown["diversity_precision"] is None
