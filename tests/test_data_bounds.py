"""benchmarks/data_bounds.py: the variant-mean colouring (the bound of what a drawing's variants leave open)."""

import cv2
import numpy as np
import pytest
from conftest import import_benchmark


@pytest.fixture(scope="module")
def data_bounds():
    yield from import_benchmark("data_bounds")


def test_variants_share_their_cielab_mean_and_a_lone_drawing_keeps_its_colours(data_bounds):
    red, blue, green = (np.full((4, 4, 3), colour, np.uint8) for colour in ((200, 30, 30), (30, 30, 200), (40, 160, 60)))
    test = {"color": np.stack([red, blue, green]), "drawing": np.array([7, 7, 3])}
    out = data_bounds.variant_mean_colouring(test)
    assert (out[0] == out[1]).all()  # the two variants of drawing 7 get one colouring
    np.testing.assert_allclose(out[2], green, atol=1)  # a drawing without variants keeps its own colours
    lab = [cv2.cvtColor(image.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)[0, 0] for image in (red, blue, out[0])]
    np.testing.assert_allclose(lab[2], (lab[0] + lab[1]) / 2, atol=1.0)  # the mean in CIELAB, not in RGB
