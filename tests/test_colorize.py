"""rasc.colorize: what the network sees of a drawing with paper margins, and of one with no line left at its size."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rasc.colorize import colorize_drawing
from rasc.drawing import DrawingError
from rasc.models import Generator, GeneratorConfig
from rasc.regions.build import region_extractor


@pytest.fixture(scope="module")
def generator():
    torch.manual_seed(0)
    return Generator(GeneratorConfig(image_size=32, base_channels=4, max_channels=8, num_blocks=2, w_dim=4)).eval()


def test_paper_margins_do_not_change_what_the_network_sees(generator):
    """A drawing on a larger page is coloured as the drawing alone (the network sees the square around the ink);
    with crop_to_ink=False the margins shrink it and its colours change."""
    drawing = np.full((96, 96), 255, np.uint8)
    drawing[4:92, 4:92] = 0
    drawing[6:90, 6:90] = 255  # a box filling the drawing: its ink square is the whole drawing
    drawing[30:60, 40] = 0
    page = np.pad(drawing, 48, constant_values=255)  # (192, 192): half the drawing's side of paper on every side
    extract = region_extractor("trapped_ball")
    alone = colorize_drawing(generator, extract, drawing, raw=True)[0]  # (96, 96, 3)
    on_page = colorize_drawing(generator, extract, page, raw=True)  # (1, 192, 192, 3)
    assert on_page.shape == (1, 192, 192, 3)
    np.testing.assert_array_equal(on_page[0][48:144, 48:144], alone)
    whole = colorize_drawing(generator, extract, page, raw=True, crop_to_ink=False)[0][48:144, 48:144]
    assert np.abs(whole.astype(int) - alone).max() > 10


def test_a_drawing_with_no_line_left_at_the_working_size_is_refused(generator):
    """Lines too faint for the region extractor, or specks that the downscale drops, leave nothing to colour."""
    extract = region_extractor("trapped_ball")
    faint = np.full((32, 32), 255, np.uint8)
    faint[8:24, 16] = 230  # lighter than trapped-ball's line threshold
    specks = np.full((320, 320), 255, np.uint8)
    specks[::40, ::40] = 0  # 1-px dust, far under a working-size pixel (10 × 10 px here)
    for drawing in (faint, specks):
        with pytest.raises(DrawingError, match="no line left at the working size 32x32 px"):
            colorize_drawing(generator, extract, drawing)
    specks[100:300, 160:163] = 0  # a line among the dust: coloured
    assert colorize_drawing(generator, extract, specks).shape == (1, 320, 320, 3)
