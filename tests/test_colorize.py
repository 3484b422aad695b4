"""rasc.colorize: the square around a drawing's ink, and what the network sees of a drawing with paper margins."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rasc.colorize import colorize_drawing, ink_square
from rasc.models import Generator, GeneratorConfig
from rasc.regions.build import region_extractor


def test_ink_square_holds_all_ink_and_stays_inside_the_drawing():
    drawing = np.full((100, 160), 255, np.uint8)
    drawing[30:50, 100:140] = 0  # ink 20 rows × 40 columns near the right
    rows, cols = ink_square(drawing)
    assert (rows.stop - rows.start, cols.stop - cols.start) == (40, 40)  # square, side = the longer ink extent
    assert rows.start <= 30 and rows.stop >= 50 and cols.start <= 100 and cols.stop >= 140
    drawing[95:, 155:] = 0  # ink in the corner: 70 rows × 60 columns, the square moved inside the drawing
    assert ink_square(drawing) == (slice(30, 100), slice(90, 160))
    assert ink_square(drawing, min_side=120) == (slice(0, 100), slice(40, 160))  # cut to the drawing's height
    assert ink_square(np.full((5, 7), 255, np.uint8)) == (slice(0, 5), slice(0, 7))  # no ink: the whole drawing


def test_ink_square_is_at_least_min_side():
    drawing = np.full((64, 64), 255, np.uint8)
    drawing[20:30, 20:30] = 0
    rows, cols = ink_square(drawing, min_side=32)
    assert rows.stop - rows.start == cols.stop - cols.start == 32
    assert rows.start <= 20 and rows.stop >= 30


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
