"""Image reading of users' files and atomic writing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from rasc.imageio import ImageReadError, atomic_path, read_folder, read_grey, read_rgb, write_image


def test_reads_grey_rgba_and_16bit(tmp_path):
    grey = np.full((20, 30), 200, np.uint8)
    cv2.imwrite(str(tmp_path / "g.png"), grey)
    rgba = np.zeros((20, 30, 4), np.uint8)  # fully transparent → white paper
    cv2.imwrite(str(tmp_path / "a.png"), rgba)
    deep = np.full((20, 30, 3), 65535, np.uint16)
    cv2.imwrite(str(tmp_path / "d.png"), deep)
    assert read_rgb(tmp_path / "g.png").shape == (20, 30, 3)
    assert (read_rgb(tmp_path / "a.png") == 255).all()
    assert read_rgb(tmp_path / "d.png").dtype == np.uint8


def test_blue_lines_read_dark(tmp_path):
    image = np.full((20, 20, 3), 255, np.uint8)
    image[10, :] = (255, 0, 0)  # BGR blue line
    cv2.imwrite(str(tmp_path / "blue.png"), image)
    assert read_grey(tmp_path / "blue.png")[10].max() == 0


def test_unreadable_file_is_named(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(ImageReadError, match="notes.png"):
        read_rgb(bad)
    with pytest.raises(ImageReadError, match="no such file"):
        read_rgb(tmp_path / "missing.png")


def test_folder_skip_or_error(tmp_path):
    cv2.imwrite(str(tmp_path / "ok.png"), np.zeros((16, 16, 3), np.uint8))
    (tmp_path / "bad.jpg").write_bytes(b"\x00\x01")
    with pytest.raises(ImageReadError, match="bad.jpg"):
        read_folder(tmp_path, read_rgb, "error")
    images, used = read_folder(tmp_path, read_rgb, "skip")
    assert [p.name for p in used] == ["ok.png"] and len(images) == 1


def test_atomic_write_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "out.png"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []
    write_image(target, np.zeros((4, 4, 3), np.uint8))
    assert target.is_file() and len(list(tmp_path.iterdir())) == 1


def test_a_multi_page_tiff_is_read_from_its_first_page_with_a_warning(tmp_path, monkeypatch):
    from PIL import Image

    import rasc.imageio as imageio

    warnings = []
    monkeypatch.setattr(imageio.log, "warning", lambda message, *args: warnings.append(message % args))
    first, second = Image.new("L", (20, 20), 0), Image.new("L", (20, 20), 255)
    first.save(tmp_path / "pages.tif", save_all=True, append_images=[second])
    assert (read_grey(tmp_path / "pages.tif") == 0).all()  # page 1
    assert len(warnings) == 1 and "holds 2 pages or frames; only the first is used" in warnings[0]
    first.save(tmp_path / "one.tif")
    read_grey(tmp_path / "one.tif")
    assert len(warnings) == 1  # a single page says nothing


def test_a_float_image_with_nan_pixels_is_refused(tmp_path):
    image = np.ones((20, 20), np.float32)
    image[3, 4] = np.nan
    cv2.imwrite(str(tmp_path / "nan.tif"), image)
    with pytest.raises(ImageReadError, match=r"nan.tif: 1 pixel value is not a number \(NaN\)"):
        read_rgb(tmp_path / "nan.tif")


def test_an_image_larger_than_the_decoder_reads_is_refused_from_its_header(tmp_path, monkeypatch):
    """Above OpenCV's pixel limit the message gives the size and the limit, not the decoder's assertion text."""
    path = tmp_path / "wide.png"
    cv2.imwrite(str(path), np.full((20, 30), 255, np.uint8))
    assert read_grey(path).shape == (20, 30)
    monkeypatch.setenv("OPENCV_IO_MAX_IMAGE_PIXELS", "500")  # read per call here (OpenCV reads it at import)
    with pytest.raises(ImageReadError, match=r"wide\.png: 30x20 px \(0 megapixels\) is more than the image decoder "
                                             r"reads \(0 megapixels\); downscale it first"):
        read_grey(path)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".tif"])
def test_an_image_is_read_the_way_its_exif_orientation_shows_it(tmp_path, suffix):
    """A phone's photo of a drawing stores its pixels unturned and an EXIF orientation: every reader turns it as
    viewers do (Pillow's ``exif_transpose``), once, whether the decoder applies the tag itself (TIFF) or not."""
    from PIL import Image, ImageOps

    stored = np.random.default_rng(0).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    for orientation in range(1, 9):
        image = Image.fromarray(stored)
        exif = image.getexif()
        exif[0x0112] = orientation
        path = tmp_path / f"o{orientation}{suffix}"
        image.save(path, exif=exif, **({"quality": 100} if suffix == ".jpg" else {}))
        with Image.open(path) as opened:
            shown = np.asarray(ImageOps.exif_transpose(opened).convert("RGB"))
        read = read_rgb(path)
        assert read.shape == shown.shape, orientation
        assert np.abs(read.astype(int) - shown).max() <= 1, orientation  # JPEG: the two decoders' rounding
