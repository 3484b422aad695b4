"""benchmarks/colorize_framing.py: the flat-colour reference it scores every framing against."""

import numpy as np
import pytest
from conftest import import_benchmark

from rasc.data.synth import SynthConfig, synthesize


@pytest.fixture(scope="module")
def colorize_framing():
    yield from import_benchmark("colorize_framing")


def test_the_flat_colour_scores_zero_only_where_the_drawings_are_that_colour(colorize_framing):
    drawings = synthesize(2, 0, SynthConfig(size=64))
    assert colorize_framing.flat_colour_error(drawings, drawings["color"]) > 5  # many colours, one flat guess
    mean = drawings["color"].reshape(-1, 3).mean(axis=0).round().astype(np.uint8)  # what the reference paints
    uniform = {**drawings, "color": np.broadcast_to(mean, drawings["color"].shape).copy()}
    assert colorize_framing.flat_colour_error(uniform, drawings["color"]) == pytest.approx(0.0, abs=1e-6)
