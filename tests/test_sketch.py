"""Sketches: mirror padding and resizing (paper §IV-B), XDoG (paper §IV-A) and its batch form."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from rasc.data.sketch import (
    SPECK_AREA,
    PAPER_SIGMAS,
    SketchConfig,
    draw_sigmas,
    ink_square,
    line_art_to_size,
    mirror_pad_to_square,
    pad_resize,
    redraw_ink_width,
    xdog,
    xdog_batch,
)
from rasc.data.synth import SynthConfig, render_illustration, sample_rng, synthesize


@pytest.mark.parametrize("shape", [(10, 30), (40, 12, 3), (7, 8), (1, 5), (5, 100, 3)])
def test_mirror_padding_keeps_the_content_in_a_centred_square(shape):
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    square = mirror_pad_to_square(image)
    h, w = shape[:2]
    side = max(h, w)
    assert square.shape == (side, side, *shape[2:])
    top, left = (side - h) // 2, (side - w) // 2
    np.testing.assert_array_equal(square[top : top + h, left : left + w], image)
    if h < w and top > 0:  # symmetric reflection: the row above the content repeats its first row
        np.testing.assert_array_equal(square[top - 1], image[0])


def test_mirror_padding_of_a_square_is_the_identity():
    image = np.arange(16, dtype=np.uint8).reshape(4, 4)
    np.testing.assert_array_equal(mirror_pad_to_square(image), image)


def test_line_art_shrunk_to_the_working_size_keeps_solid_lines():
    """Lines thinner than a working-size pixel stay solid ink (as in the training sketches), not grey strokes."""
    drawing = np.full((256, 200), 255, np.uint8)
    drawing[:, 50:52] = 0  # a 2-px vertical line: half a pixel wide at 64², cut in two by the pixel grid
    drawing[100:102, :] = 0  # a 2-px horizontal line
    drawing[180:181, 20:180] = 0  # a 1-px hairline: a quarter of a working-size pixel's height
    area = pad_resize(drawing, 64)
    assert ((area > 0) & (area < 255)).any()  # area averaging alone leaves grey
    shrunk = line_art_to_size(drawing, 64)
    assert shrunk.shape == (64, 64) and shrunk.dtype == np.uint8
    assert set(np.unique(shrunk)) == {0, 255}
    assert (shrunk[:, 17:22] == 0).any(axis=1).all()  # the vertical line is unbroken from top to bottom
    assert (shrunk[24:27] == 0).any(axis=0)[10:50].all()  # the horizontal one too, across the drawing
    assert (shrunk[44:47] == 0).any(axis=0)[13:51].all()  # and the hairline, which a coverage threshold dropped
    assert not (shrunk[:, 24:64] == 0).all(axis=0).any()  # no paper column turned to ink
    for line in (shrunk[:, 17:22], shrunk[24:27].T, shrunk[44:47].T):
        assert np.median((line == 0).sum(axis=1)) == 1  # each line one working-size pixel wide (but at crossings)


def test_line_art_shrunk_to_the_working_size_is_one_pixel_wide_whatever_the_pen():
    """A thin and a thick pen tracing the same lines give the same working-size sketch (their centre lines)."""
    thin = np.full((512, 512), 255, np.uint8)
    cv2.circle(thin, (256, 256), 150, 0, 1)
    cv2.line(thin, (40, 60), (470, 420), 0, 1)
    thick = cv2.erode(thin, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (15, 15)))  # the same lines, 15 px wide
    shrunk_thin, shrunk_thick = line_art_to_size(thin, 64), line_art_to_size(thick, 64)
    assert (shrunk_thin == 0).sum() > 100
    assert (shrunk_thin != shrunk_thick).mean() < 0.02  # a centre line may fall a pixel apart here and there
    coverage = pad_resize(thick, 64) <= 255 * 0.7  # the thick pen at 30% coverage: a line 2-3 pixels wide
    assert coverage.sum() > 1.5 * (shrunk_thick == 0).sum()


def test_line_art_shrunk_to_the_working_size_keeps_solid_fills():
    """A filled disc (a pupil) several working-size pixels wide stays filled, not only its centre line."""
    drawing = np.full((512, 512), 255, np.uint8)
    cv2.circle(drawing, (256, 256), 40, 0, -1)  # 10 working-size pixels across at 64²
    shrunk = line_art_to_size(drawing, 64)
    assert (shrunk[29:35, 29:35] == 0).all()  # the disc's inside, 5 working-size pixels in radius
    assert 0.7 * np.pi * 5**2 < (shrunk == 0).sum() < np.pi * 5.5**2  # about its area, not its ring alone


def test_line_art_shrunk_to_the_working_size_drops_specks():
    """Ink pieces smaller than SPECK_AREA of a working-size pixel (scanner dust) are not drawn as ink pixels."""
    drawing = np.full((640, 640), 255, np.uint8)  # 10 drawing px per working-size px at 64²
    speck = int(np.sqrt(SPECK_AREA) * 10) - 1  # a square speck just under SPECK_AREA of a working pixel
    drawing[100:100 + speck, 100:100 + speck] = 0
    drawing[400:420, 300:320] = 0  # a 20-px blot: 4 working-size pixels of ink
    shrunk = line_art_to_size(drawing, 64)
    assert not (shrunk[5:15, 5:15] == 0).any()
    assert (shrunk[38:44, 28:34] == 0).any()


def test_line_art_at_or_below_the_working_size_is_only_padded_and_resized():
    drawing = np.random.default_rng(2).integers(0, 256, (40, 64), dtype=np.uint8)
    np.testing.assert_array_equal(line_art_to_size(drawing, 64), pad_resize(drawing, 64))
    np.testing.assert_array_equal(line_art_to_size(drawing[:, :40], 40), drawing[:, :40])


def test_pad_resize_shapes_dtypes_and_labels():
    rgb = np.random.default_rng(1).integers(0, 256, (90, 160, 3), dtype=np.uint8)
    out = pad_resize(rgb, 64)
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    grey = pad_resize(rgb[..., 0], 200)
    assert grey.shape == (200, 200) and grey.dtype == np.uint8
    labels = np.repeat(np.arange(6, dtype=np.uint16), 20).reshape(12, 10)
    resized = pad_resize(labels, 37, interpolation=cv2.INTER_NEAREST)
    assert resized.dtype == np.uint16 and set(np.unique(resized)) <= set(range(6))
    with pytest.raises(ValueError):
        pad_resize(np.zeros((2, 3, 4), np.uint8), 8)
    with pytest.raises(ValueError):
        pad_resize(rgb, 0)


@pytest.mark.parametrize("colour", [(255, 255, 255), (128, 128, 128), (200, 120, 90), (40, 40, 60)])
@pytest.mark.parametrize("sigma", [0.4, 0.9])
def test_xdog_of_a_flat_image_is_white(colour, sigma):
    image = np.empty((40, 50, 3), np.uint8)
    image[:] = colour
    sketch = xdog(image, sigma)
    assert sketch.shape == (40, 50) and sketch.dtype == np.uint8
    assert (sketch == 255).all()


def test_xdog_of_a_flat_colour_darker_than_eps_is_dark():
    image = np.full((20, 20), 5, np.uint8)  # luma 0.02 < eps: Winnemöller's threshold renders it as tone
    assert xdog(image, 0.6).max() < 128


def test_xdog_draws_dark_lines_on_edges():
    image = np.full((32, 32, 3), 230, np.uint8)
    image[:, 16:] = 60
    sketch = xdog(image, 0.7)
    assert (sketch[:, :12] == 255).all() and (sketch[:, 20:] == 255).all()  # flat sides white
    assert sketch[:, 14:18].min() < 50  # the edge is a dark line


@pytest.mark.parametrize("size", [64, 128])
def test_xdog_of_an_illustration_is_clean_line_art(size):
    ill = render_illustration(sample_rng(4, 0), SynthConfig(size=size))
    ink = ill.lines_clean == 0
    for sigma in PAPER_SIGMAS:
        sketch = xdog(ill.color, sigma)
        assert sketch.shape == (size, size) and sketch.dtype == np.uint8
        assert (sketch >= 250).mean() > 0.45, "mostly white paper"
        assert sketch[ink].mean() < 90, "dark where the outlines are"
        assert sketch[~ink].mean() > sketch[ink].mean() + 100


def test_xdog_batch_is_seeded_and_per_image():
    colors = synthesize(4, seed=0, cfg=SynthConfig(size=48))["color"]
    a, b = xdog_batch(colors, seed=3), xdog_batch(colors, seed=3)
    np.testing.assert_array_equal(a, b)
    assert a.shape == colors.shape[:3] and a.dtype == np.uint8
    sigmas = draw_sigmas(4, seed=3)
    for image, sketch, sigma in zip(colors, a, sigmas):
        np.testing.assert_array_equal(sketch, xdog(image, sigma))
    np.testing.assert_array_equal(draw_sigmas(30, seed=3)[:4], sigmas)  # independent of the batch size
    assert set(draw_sigmas(60, seed=3)) == set(PAPER_SIGMAS)
    assert not np.array_equal(draw_sigmas(30, seed=3), draw_sigmas(30, seed=4))
    with pytest.raises(ValueError):
        xdog_batch(colors[..., 0], seed=0)


def test_sketch_config_validates_and_normalises():
    cfg = SketchConfig(sigmas=[0.5, 0.7])
    assert cfg.sigmas == (0.5, 0.7)
    hash(cfg)  # frozen and hashable even when built from a YAML list
    assert set(draw_sigmas(40, 0, cfg)) == {0.5, 0.7}
    for bad in (dict(sigmas=[]), dict(tau=1.0), dict(k=1.0), dict(phi=0), dict(sigmas=[0.4, -1])):
        with pytest.raises(ValueError):
            SketchConfig(**bad)
    with pytest.raises(ValueError):
        xdog(np.zeros((4, 4), np.float32), 0.5)


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


def _line_drawing() -> np.ndarray:
    """A 64² drawing of 2-px lines: a rectangle outline, a diagonal and a filled disc (uint8, 255 = paper)."""
    drawing = np.full((64, 64), 255, np.uint8)
    cv2.rectangle(drawing, (8, 8), (55, 55), 0, 2)
    cv2.line(drawing, (8, 8), (55, 55), 0, 2)
    cv2.circle(drawing, (44, 20), 5, 0, -1)
    return drawing


def test_redrawn_ink_width_keeps_every_line_and_varies_its_width():
    drawing = _line_drawing()
    ink = drawing < 128
    redrawn = redraw_ink_width(drawing, np.random.default_rng(0))
    assert redrawn.shape == drawing.shape and redrawn.dtype == np.uint8 and set(np.unique(redrawn)) <= {0, 255}
    new_ink = redrawn == 0
    # thinner somewhere, thicker elsewhere, never further than a pixel from the drawn ink
    assert (ink & ~new_ink).sum() > 20 and (new_ink & ~ink).sum() > 20
    assert not (new_ink & ~cv2.dilate(ink.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)).any()
    # no line breaks: the ink keeps its connected pieces and the paper its enclosed areas
    pieces = lambda mask: cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)[0]  # noqa: E731
    assert pieces(new_ink) == pieces(ink)
    assert cv2.connectedComponents((~new_ink).astype(np.uint8), connectivity=4)[0] == \
        cv2.connectedComponents((~ink).astype(np.uint8), connectivity=4)[0]


def test_redrawn_ink_width_depends_on_the_generator_only():
    drawing = _line_drawing()
    first = redraw_ink_width(drawing, np.random.default_rng(3))
    np.testing.assert_array_equal(first, redraw_ink_width(drawing, np.random.default_rng(3)))
    assert not np.array_equal(first, redraw_ink_width(drawing, np.random.default_rng(4)))
    np.testing.assert_array_equal(redraw_ink_width(np.full((16, 16), 255, np.uint8), np.random.default_rng(0)),
                                  np.full((16, 16), 255, np.uint8))
