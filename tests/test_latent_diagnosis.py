"""benchmarks/latent_diagnosis.py: its part-colour means and the nearest-centroid archetype accuracy."""

import numpy as np
import pytest
from conftest import import_benchmark
from skimage.color import rgb2lab


@pytest.fixture(scope="module")
def diagnosis():
    yield from import_benchmark("latent_diagnosis")


def test_part_means_are_cielab_means_of_the_part_and_nan_where_it_is_absent(diagnosis):
    images = np.zeros((2, 2, 2, 3), np.uint8)
    images[0, 0] = (200, 30, 30)
    images[0, 1] = (30, 30, 200)
    parts = np.array([[[2, 2], [0, 0]], [[0, 0], [0, 0]]])  # part 2 in the top row of image 0 only
    means = diagnosis.part_means(diagnosis.to_lab(images), parts, part=2)
    expected = rgb2lab(images[0, 0]).mean(axis=0)  # the two top-row pixels, red and blue
    np.testing.assert_allclose(means[0], expected, atol=1e-6)
    assert np.isnan(means[1]).all()


def test_centroid_accuracy_reads_separated_classes_and_not_shuffled_labels(diagnosis):
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 30)
    features = np.eye(4)[labels] * 5 + rng.normal(0, 0.3, (len(labels), 4))  # four well separated clusters
    train, test = slice(0, None, 2), slice(1, None, 2)
    assert diagnosis.centroid_accuracy(features[train], labels[train], features[test], labels[test]) == 1.0
    shuffled = rng.permutation(labels)
    accuracy = diagnosis.centroid_accuracy(features[train], shuffled[train], features[test], labels[test])
    assert accuracy < 0.6
