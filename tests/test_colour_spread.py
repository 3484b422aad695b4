"""benchmarks/colour_spread.py: the chroma and the spread over images of a colouring set."""

import numpy as np
import pytest
from conftest import import_benchmark


@pytest.fixture(scope="module")
def colour_spread():
    yield from import_benchmark("colour_spread")


def test_grey_images_have_no_chroma_and_identical_images_no_spread(colour_spread):
    grey = np.full((3, 4, 4, 3), 128, np.uint8)
    chroma, spread = colour_spread.colour_statistics(grey)
    assert chroma == pytest.approx(0.0, abs=0.01)  # sRGB grey is neutral in CIELAB up to rounding
    np.testing.assert_allclose(spread, 0.0, atol=1e-6)


def test_a_regressed_to_the_mean_set_is_greyer_and_less_varied_than_the_set_it_averages(colour_spread):
    rng = np.random.default_rng(0)
    colours = rng.integers(0, 256, (20, 1, 1, 3))
    varied = np.broadcast_to(colours, (20, 4, 4, 3)).astype(np.uint8)  # one random flat colour per image
    halfway = ((varied.astype(np.float64) + varied.mean(axis=0)) / 2).round().astype(np.uint8)  # pulled to the mean
    chroma_varied, spread_varied = colour_spread.colour_statistics(varied)
    chroma_halfway, spread_halfway = colour_spread.colour_statistics(halfway)
    assert chroma_halfway < chroma_varied
    assert (spread_halfway < spread_varied).all()
