"""The region-flat refinement and the crop that undoes the paper's mirror padding."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from rasc.data.sketch import crop_padding, pad_resize
from rasc.refine import flat_refinement, flat_refinement_batch, multiply_lines, region_medians


@pytest.mark.parametrize("shape", [(40, 60), (61, 30), (32, 32)])
def test_crop_padding_undoes_pad_resize(shape):
    image = cv2.GaussianBlur(np.random.default_rng(0).integers(0, 255, (*shape, 3), dtype=np.uint8), (5, 5), 2)
    assert np.array_equal(crop_padding(pad_resize(image, max(shape)), shape), image)
    square = pad_resize(image, 3 * max(shape), interpolation=cv2.INTER_NEAREST)  # a network output at another size
    assert np.array_equal(crop_padding(square, shape, cv2.INTER_NEAREST), image)


def test_region_medians_ignore_outliers_and_pixels_that_do_not_vote():
    labels = np.zeros((10, 10), np.int64)
    labels[:, 5:] = 1
    image = np.zeros((10, 10, 3), np.uint8)
    image[:, :5] = (200, 10, 10)
    image[:, 5:] = (10, 200, 10)
    image[0, 0] = (0, 0, 255)  # one stray pixel: a mean would move, the median does not
    image[:, 4] = (0, 0, 0)  # a line the counted mask leaves out
    counted = np.ones((10, 10), bool)
    counted[:, 4] = False
    assert region_medians(image, labels, counted).tolist() == [[200, 10, 10], [10, 200, 10]]
    counted[:, 5:] = False  # a region with no counted pixel takes the median of all of its pixels
    assert region_medians(image, labels, counted)[1].tolist() == [10, 200, 10]


def test_flat_refinement_paints_regions_flat_and_lays_the_lines_over():
    drawing = np.full((30, 40), 255, np.uint8)
    drawing[:, 20] = 0  # a line splits the page into two regions
    drawing[:, 21] = 128  # its anti-aliased edge
    raw = np.random.default_rng(1).integers(0, 255, (30, 40, 3), dtype=np.uint8)
    raw[:, :20] = np.clip(raw[:, :20] // 8 + (100, 150, 200), 0, 255)
    refined = flat_refinement(raw, drawing)
    assert (refined[:, 20] == 0).all()
    left = refined[:, :20].reshape(-1, 3)
    assert (left == left[0]).all() and np.abs(left[0].astype(int) - (116, 166, 216)).max() <= 2
    assert np.array_equal(refined[:, 21], multiply_lines(refined[:, 22:23], drawing[:, 21:22])[:, 0])


def test_flat_refinement_batch_refines_each_colouring_by_its_own_drawing():
    drawings = np.full((2, 16, 16), 255, np.uint8)
    drawings[0, :, 8] = 0  # a vertical line in the first drawing
    drawings[1, 8, :] = 0  # a horizontal one in the second
    noisy = np.random.default_rng(0).integers(0, 256, (2, 16, 16, 3)).astype(np.uint8)
    refined = flat_refinement_batch(noisy, drawings)  # (2, 16, 16, 3)
    for colouring, drawing, result in zip(noisy, drawings, refined):
        assert np.array_equal(result, flat_refinement(colouring, drawing))
    assert (refined[0, :, 8] == 0).all() and (refined[1, 8, :] == 0).all()  # each drawing's own line is laid over
    with pytest.raises(ValueError, match="2 colourings for 1 drawings"):
        flat_refinement_batch(noisy, drawings[:1])


def test_multiply_lines_keeps_paper_and_blackens_ink():
    colour = np.full((1, 3, 3), (200, 100, 50), np.uint8)
    drawing = np.array([[255, 0, 128]], np.uint8)
    assert multiply_lines(colour, drawing)[0].tolist() == [[200, 100, 50], [0, 0, 0], [100, 50, 25]]


def test_region_medians_equal_numpy_medians():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 50, (100, 100))
    image = rng.integers(0, 256, (100, 100, 3), dtype=np.uint8)
    counted = rng.random((100, 100)) > 0.3
    expected = [[np.median(image[..., c][(labels == k) & counted]) for c in range(3)] for k in range(50)]
    assert np.array_equal(region_medians(image, labels, counted), np.floor(np.array(expected) + 0.5))
