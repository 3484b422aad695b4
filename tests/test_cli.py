"""The `rasc` command on users' files: outputs at the drawing's size, batches that skip bad files, outputs that
never overwrite an input, and one-line errors (exit 2) for bad input."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from rasc.training.checkpoint import load_checkpoint, load_generator, save_generator_checkpoint
from rasc.cli import build_parser, main
from rasc.models import Generator, GeneratorConfig
from rasc.regions import trapped_ball_regions


def _boxes(height: int = 40, width: int = 60, ink: int = 0, paper: int = 255) -> np.ndarray:
    """Grey line art: two boxes and a line across, (height, width) uint8."""
    image = np.full((height, width), paper, np.uint8)
    cv2.rectangle(image, (5 * width // 60, 5 * height // 40), (25 * width // 60, 30 * height // 40), ink, 1)
    cv2.rectangle(image, (32 * width // 60, 8 * height // 40), (55 * width // 60, 35 * height // 40), ink, 1)
    return image


@pytest.fixture
def line_art(tmp_path):
    """A 40×60 RGBA drawing with blue lines: two boxes on transparent paper."""
    image = np.zeros((40, 60, 4), np.uint8)
    cv2.rectangle(image, (5, 5), (25, 30), (255, 0, 0, 255), 1)
    cv2.rectangle(image, (32, 8), (55, 35), (255, 0, 0, 255), 1)
    path = tmp_path / "drawing.png"
    cv2.imwrite(str(path), image)
    return path


@pytest.fixture
def model(tmp_path):
    """An untrained 32² generator saved as the CLI reads it (seeded: its weights do not depend on the tests before)."""
    torch.manual_seed(0)
    cfg = GeneratorConfig(image_size=32, base_channels=4, max_channels=8, num_blocks=2, w_dim=4)
    path = tmp_path / "generator.pt"
    save_generator_checkpoint(path, generator=Generator(cfg), generator_config=cfg,
                              config={"model": {"region_source": "trapped_ball"}}, step=1)
    return path


def _read(path):
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image is not None, path
    return image


def test_synth_writes_pngs(tmp_path):
    assert main(["synth", "-o", str(tmp_path / "out"), "-n", "2", "--size", "64"]) == 0
    names = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.png"))
    kinds = ("color", "xdog", "clean", "rough", "regions")
    assert names == sorted([f"{kind}/000{i}.png" for kind in kinds for i in range(2)]
                           + [f"regions/000{i}.preview.png" for i in range(2)])
    assert _read(tmp_path / "out" / "regions" / "0000.png").dtype == np.uint16


def _synth_config_file(path, **synth):
    """A copy of the embedded default config with ``synth`` set in its data.synth section."""
    import yaml

    config = yaml.safe_load((Path(__file__).resolve().parent.parent / "config" / "config.yaml").read_text())
    config["data"]["synth"].update(synth)
    path.write_text(yaml.safe_dump(config))
    return path


def test_synth_draws_as_the_config_data(tmp_path, monkeypatch):
    """`rasc synth --config` draws the config's data (here a plain wall and a close-up), the built-in settings
    otherwise; the shadow option overrides the config's."""
    from rasc.config import load_config
    from rasc.data.prepare import synth_config
    from rasc.data.sketch import SketchConfig, xdog_batch
    from rasc.data.synth import SynthConfig, synthesize

    config = _synth_config_file(tmp_path / "mine.yaml", zoom=2.0, clutter=0.0, wallpaper_prob=0.0)
    config.write_text(config.read_text().replace("eps: 0.1", "eps: 0.3"))  # and its own XDoG threshold
    assert main(["synth", "-o", str(tmp_path / "mine"), "-n", "2", "--size", "64", "--config", str(config)]) == 0
    settings = load_config(config)
    expected = synthesize(2, seed=0, cfg=synth_config({**settings["data"], "size": 64}))["color"]
    written = np.stack([_read(tmp_path / "mine" / "color" / f"000{i}.png")[..., ::-1] for i in range(2)])
    assert np.array_equal(written, expected)
    assert settings["sketch"]["eps"] == 0.3
    xdog = np.stack([_read(tmp_path / "mine" / "xdog" / f"000{i}.png") for i in range(2)])
    assert np.array_equal(xdog, xdog_batch(expected, seed=0, cfg=SketchConfig(**settings["sketch"])))
    assert not np.array_equal(xdog, xdog_batch(expected, seed=0, cfg=SketchConfig()))

    monkeypatch.chdir(tmp_path)  # no config/config.yaml here: the built-in settings
    assert main(["synth", "-o", "builtin", "-n", "2", "--size", "64", "--shadow-prob", "1"]) == 0
    builtin = synthesize(2, seed=0, cfg=SynthConfig(size=64, shadow_prob=1.0))["color"]
    assert np.array_equal(np.stack([_read(tmp_path / "builtin" / "color" / f"000{i}.png")[..., ::-1] for i in range(2)]),
                          builtin)
    assert not np.array_equal(builtin, expected)


def test_synth_draws_as_a_model_s_training_data(tmp_path, monkeypatch, model, capsys):
    """`rasc synth --model` draws with the data settings a training stored in its checkpoint (here a close-up on a
    plain wall), from any folder; a checkpoint that stores none is refused in one line, with no output."""
    from rasc.config import load_config
    from rasc.data.prepare import synth_config
    from rasc.data.synth import synthesize

    data = load_config(_synth_config_file(tmp_path / "mine.yaml", zoom=2.0, clutter=0.0, wallpaper_prob=0.0))["data"]
    cfg = GeneratorConfig(image_size=32, base_channels=4, max_channels=8, num_blocks=2, w_dim=4)
    trained = tmp_path / "trained.pt"  # saved as rasc.training.loop saves it: the workflow config one level down
    save_generator_checkpoint(trained, generator=Generator(cfg), generator_config=cfg, step=1,
                              config={"train": {"steps": 1}, "config": {"model": {}, "data": data}})
    monkeypatch.chdir(tmp_path)  # no config/config.yaml here
    assert main(["synth", "-o", "drawn", "-n", "2", "--size", "64", "--model", str(trained)]) == 0
    expected = synthesize(2, seed=0, cfg=synth_config({**data, "size": 64}))["color"]
    written = np.stack([_read(tmp_path / "drawn" / "color" / f"000{i}.png")[..., ::-1] for i in range(2)])
    assert np.array_equal(written, expected)
    capsys.readouterr()
    assert main(["synth", "-o", "none", "--model", str(model)]) == 2  # stores a model section only
    assert "stores no usable data settings" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()


def test_synth_refuses_a_missing_or_broken_config(tmp_path, capsys):
    assert main(["synth", "-o", str(tmp_path / "out"), "--config", str(tmp_path / "absent.yaml")]) == 2
    assert "absent.yaml" in capsys.readouterr().err
    broken = _synth_config_file(tmp_path / "broken.yaml", zoom=9.0)
    assert main(["synth", "-o", str(tmp_path / "out"), "--config", str(broken)]) == 2
    assert "zoom" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_synth_at_a_larger_size_frames_as_the_config_data(tmp_path):
    """`rasc synth --size 256` draws the config's data as a larger scan (`framed_as`): the head as large in the image
    and about as many regions as at the config's 64², not the zoomed-out busier figure of a 256² data set, which
    the config's models colour much worse (README, framing)."""
    from rasc.config import DEFAULT_CONFIG, load_config
    from rasc.data.prepare import synth_config
    from rasc.data.synth import framed_as, synthesize

    assert main(["synth", "-o", str(tmp_path / "big"), "-n", "4", "--size", "256"]) == 0
    data = load_config(DEFAULT_CONFIG)["data"]
    expected = synthesize(4, seed=0, cfg=framed_as(synth_config(data), 256))
    written = np.stack([_read(tmp_path / "big" / "color" / f"000{i}.png")[..., ::-1] for i in range(4)])
    assert written.shape == (4, 256, 256, 3) and np.array_equal(written, expected["color"])
    regions = [len(np.unique(labels)) for labels in expected["regions"]]
    at_working_size = [len(np.unique(labels)) for labels in synthesize(4, seed=0, cfg=synth_config(data))["regions"]]
    zoomed_out = [len(np.unique(labels)) for labels in
                  synthesize(4, seed=0, cfg=synth_config({**data, "size": 256}))["regions"]]
    assert sum(regions) < 1.4 * sum(at_working_size) < sum(zoomed_out)


def test_sketch_of_a_colour_image(tmp_path):
    image = np.full((50, 80, 3), 230, np.uint8)
    cv2.circle(image, (40, 25), 15, (30, 60, 200), -1)
    cv2.imwrite(str(tmp_path / "art.jpg"), image)
    assert main(["sketch", str(tmp_path / "art.jpg"), "-o", str(tmp_path / "out"), "--size", "64"]) == 0
    sketch = _read(tmp_path / "out" / "art.png")
    assert sketch.shape == (64, 64) and sketch.min() < 128 and np.median(sketch) == 255
    assert main(["sketch", str(tmp_path / "art.jpg"), "-o", str(tmp_path / "native")]) == 0
    assert _read(tmp_path / "native" / "art.png").shape == (50, 80)


def test_regions_native_and_sized(tmp_path, line_art):
    assert main(["regions", str(line_art), "-o", str(tmp_path / "native"), "--native"]) == 0
    labels = _read(tmp_path / "native" / "drawing.png")
    assert labels.dtype == np.uint16 and labels.shape == (40, 60)
    assert labels.max() + 1 == 3  # background and two boxes
    assert (tmp_path / "native" / "drawing.preview.png").is_file()
    assert main(["regions", str(line_art), "-o", str(tmp_path / "sized"), "--size", "64"]) == 0
    assert _read(tmp_path / "sized" / "drawing.png").shape == (64, 64)


# ------------------------------------------------------------------------------------------- 1. colorize at size


@pytest.mark.parametrize("shape", [(40, 60), (75, 33)])
def test_colorize_writes_the_drawing_size_flat_regions_under_its_lines(tmp_path, model, shape):
    drawing = _boxes(*shape)
    cv2.imwrite(str(tmp_path / "d.png"), drawing)
    assert main(["colorize", str(tmp_path / "d.png"), "-m", str(model), "-o", str(tmp_path / "out")]) == 0
    assert main(["colorize", str(tmp_path / "d.png"), "-m", str(model), "-o", str(tmp_path / "raw"), "--raw"]) == 0
    refined = _read(tmp_path / "out" / "d.png")[..., ::-1]
    raw = _read(tmp_path / "raw" / "d.png")[..., ::-1]
    assert refined.shape == raw.shape == (*shape, 3)
    assert (refined[drawing == 0] == 0).all()  # the lines are laid over the colours
    labels = trapped_ball_regions(drawing)
    paper = drawing == 255
    for region in range(int(labels.max()) + 1):
        colours = refined[(labels == region) & paper]
        assert (colours == colours[0]).all(), region  # one flat colour per region
        expected = np.median(raw[(labels == region) & paper], axis=0)
        assert np.abs(colours[0] - expected).max() <= 1  # the median of the network's colours there
    assert len(np.unique(raw.reshape(-1, 3), axis=0)) > len(np.unique(refined.reshape(-1, 3), axis=0))


def test_colorize_help_names_the_default():
    help_text = build_parser()._subparsers._group_actions[0].choices["colorize"].format_help()
    assert "--raw" in help_text and "refinement" in help_text and "(the default)" in " ".join(help_text.split())


# ---------------------------------------------------------------------------- 3. samples, sheets, interpolation


def test_samples_sheet_and_interpolation(tmp_path, line_art, model):
    out = tmp_path / "out"
    common = [str(line_art), "-m", str(model), "-o", str(out)]
    assert main(["colorize", *common, "--seed", "3", "--samples", "3", "--sheet"]) == 0
    samples = [_read(out / f"drawing.{i}.png") for i in range(3)]
    assert all(s.shape == (40, 60, 3) for s in samples) and not np.array_equal(samples[0], samples[1])
    sheet = _read(out / "drawing.sheet.png")
    assert sheet.shape[1] > 3 * 60 and sheet.shape[0] > 40
    assert main(["colorize", *common, "--interpolate", "3", "5", "--steps", "4", "--raw"]) == 0
    steps = [_read(out / f"drawing.interp{i}.png") for i in range(4)]
    assert main(["colorize", *common, "--seed", "5", "--samples", "1", "--raw", "-o", str(tmp_path / "b")]) == 0
    assert main(["colorize", *common, "--seed", "3", "--samples", "1", "--raw", "-o", str(tmp_path / "a")]) == 0
    def differs(x, y):  # the ends come from a batch of 4, the seeds' colourings from a batch of 1: ±1 rounding
        return int(np.abs(x.astype(int) - y).max())

    assert differs(steps[0], _read(tmp_path / "a" / "drawing.png")) <= 2  # the ends are the two seeds' styles
    assert differs(steps[-1], _read(tmp_path / "b" / "drawing.png")) <= 2
    assert differs(steps[1], steps[0]) > 2 and differs(steps[1], steps[-1]) > 2


def test_random_styles_follow_the_prior_option(tmp_path, line_art, model, capsys):
    """--prior fitted draws around the predicted w with the model's fitted spread, --prior standard from N(0, 1);
    a model without a fitted prior says it falls back to N(0, 1)."""
    common = [str(line_art), "-m", str(model), "--seed", "3", "--samples", "1", "--raw"]
    assert main(["colorize", *common, "-o", str(tmp_path / "old")]) == 0
    assert "carries no fitted style prior" in capsys.readouterr().err
    checkpoint = load_checkpoint(model)
    fitted_model = tmp_path / "fitted.pt"
    save_generator_checkpoint(fitted_model, generator=load_generator(model)[0], generator_config=GeneratorConfig(
        **checkpoint["generator_config"]), config=checkpoint["config"], step=1, style_scale_tril=torch.eye(4) * 1e-6)
    common[2] = str(fitted_model)
    assert main(["colorize", *common, "-o", str(tmp_path / "fitted")]) == 0
    assert main(["colorize", *common, "--prior", "standard", "-o", str(tmp_path / "standard")]) == 0
    assert main(["colorize", str(line_art), "-m", str(fitted_model), "--raw", "-o", str(tmp_path / "predicted")]) == 0
    assert "carries no fitted style prior" not in capsys.readouterr().err
    predicted = _read(tmp_path / "predicted" / "drawing.png")
    fitted = _read(tmp_path / "fitted" / "drawing.png").astype(int)
    assert np.abs(fitted - predicted).max() <= 1  # L = 10⁻⁶·I: w ≈ w_pred
    np.testing.assert_array_equal(_read(tmp_path / "standard" / "drawing.png"), _read(tmp_path / "old" / "drawing.png"))
    assert not np.array_equal(_read(tmp_path / "standard" / "drawing.png"), predicted)


# ------------------------------------------------------------------------------------------------- 2. batches


def _batch_folder(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), _boxes())
    colour = cv2.cvtColor(_boxes(), cv2.COLOR_GRAY2BGR)
    colour[10:20, 10:20] = (30, 60, 200)
    cv2.imwrite(str(folder / "c.jpg"), colour)
    (folder / "b.png").write_text("not an image")
    (folder / "notes.txt").write_text("not an image, and not an image name: ignored")
    return folder


@pytest.mark.parametrize("command", ["colorize", "regions", "sketch"])
def test_a_batch_skips_bad_files_and_fails_at_the_end(tmp_path, model, command, capfd):
    folder = _batch_folder(tmp_path)
    out = tmp_path / "out"
    extra = ["-m", str(model)] if command == "colorize" else []
    assert main([command, str(folder), str(tmp_path / "missing.png"), "-o", str(out), *extra]) == 2
    assert (out / "a.png").is_file() and (out / "c.png").is_file()  # the later file is still processed
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert any("b.png" in line and "not a readable image" in line for line in lines)
    assert any("missing.png" in line and "no such file" in line for line in lines)
    assert f"rasc {command}: error: 2 of 4 inputs failed:" in lines[-1]
    assert "b.png" in lines[-1] and "missing.png" in lines[-1]
    assert "Traceback" not in err and "notes.txt" not in err


# ---------------------------------------------------------------------------------------- 4. never lose a file


@pytest.mark.parametrize("command", ["colorize", "regions", "sketch"])
def test_an_output_that_is_an_input_is_refused(tmp_path, model, command, capsys):
    folder = _batch_folder(tmp_path)
    before = (folder / "a.png").read_bytes()
    extra = ["-m", str(model)] if command == "colorize" else []
    assert main([command, str(folder / "a.png"), "-o", str(folder), *extra]) == 2
    assert "would overwrite the input" in capsys.readouterr().err
    assert (folder / "a.png").read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["a.png", "b.png", "c.jpg", "notes.txt"]


def test_one_file_named_two_ways_is_processed_once(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), _boxes())
    out = tmp_path / "out"
    assert main(["regions", str(folder / "a.png"), str(folder / ".." / "in" / "a.png"), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "a.preview.png"]


def test_a_reference_image_in_the_output_folder_is_never_overwritten(tmp_path, model, capsys):
    refs = tmp_path / "refs"
    refs.mkdir()
    cv2.imwrite(str(tmp_path / "d.png"), _boxes())
    reference = refs / "d.png"  # the colouring of d.png would be written as refs/d.png
    cv2.imwrite(str(reference), np.full((40, 60, 3), (30, 60, 200), np.uint8))
    before = reference.read_bytes()
    assert main(["colorize", str(tmp_path / "d.png"), "-m", str(model), "--reference", str(reference),
                 "-o", str(refs)]) == 2
    assert "would overwrite the input" in capsys.readouterr().err
    assert reference.read_bytes() == before


@pytest.mark.parametrize("command", ["colorize", "regions"])
def test_an_output_that_cannot_be_written_fails_its_input_only_and_leaves_no_partial_set(tmp_path, model, command,
                                                                                       capfd):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(folder / name), _boxes())
    out = tmp_path / "out"
    blocked, extra = (("a.1.png", ["-m", str(model), "--seed", "1", "--samples", "2"]) if command == "colorize"
                      else ("a.preview.png", []))
    (out / blocked).mkdir(parents=True)  # a folder where the second output of a.png goes
    assert main([command, str(folder), "-o", str(out), *extra]) == 2
    err = capfd.readouterr().err
    assert f"cannot write {out / blocked}" in err and "Traceback" not in err
    assert f"{out}/." not in err  # the file asked for is named, not the hidden temporary one
    written = sorted(p.name for p in out.iterdir())
    assert not any(name.startswith("a.") and name != blocked for name in written)  # a.png's first output removed
    assert any(name.startswith("b.") for name in written)  # the next input is still processed


def test_refuse_large_refuses_from_the_header_before_decoding(tmp_path, monkeypatch, capfd):
    import rasc.imageio

    cv2.imwrite(str(tmp_path / "big.png"), np.full((300, 400), 255, np.uint8))
    decoded = []
    real_decode = rasc.imageio._decode
    monkeypatch.setattr(rasc.imageio, "_decode", lambda path: decoded.append(path) or real_decode(path))
    assert main(["sketch", str(tmp_path / "big.png"), "-o", str(tmp_path / "out"), "--refuse-large",
                 "--max-pixels", "10000"]) == 2
    assert "400x300 px is more than the limit of 10000 px" in capfd.readouterr().err
    assert decoded == []  # its pixels were never decoded


def test_an_image_whose_header_claims_too_many_pixels_is_skipped(tmp_path, capfd):
    import struct
    import zlib

    encoded = bytearray(cv2.imencode(".png", _boxes())[1].tobytes())
    header = struct.pack(">II", 50_000, 50_000) + bytes(encoded[24:29])  # IHDR: width, height, depth, colour, ...
    encoded[16:29] = header
    encoded[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a_huge.png").write_bytes(bytes(encoded))
    cv2.imwrite(str(folder / "b.png"), _boxes())
    assert main(["regions", str(folder), "-o", str(tmp_path / "out")]) == 2
    err = capfd.readouterr().err
    assert "a_huge.png: 50000x50000 px (2,500 megapixels) is more than the image decoder reads" in err
    assert "Traceback" not in err
    assert (tmp_path / "out" / "b.png").is_file()


@pytest.mark.parametrize("source, needs_region_model", [("learned", True), ("patches_4", False)])
def test_colorize_uses_the_region_source_a_training_stored(tmp_path, monkeypatch, source, needs_region_model,
                                                           capsys):
    import rasc.regions.build

    torch.manual_seed(0)
    cfg = GeneratorConfig(image_size=32, base_channels=4, max_channels=8, num_blocks=2, w_dim=4)
    model = tmp_path / "generator.pt"  # saved as rasc.training.loop saves it: the workflow config one level down
    save_generator_checkpoint(model, generator=Generator(cfg), generator_config=cfg, step=1,
                              config={"train": {"steps": 1}, "config": {"model": {"region_source": source}}})
    cv2.imwrite(str(tmp_path / "d.png"), _boxes())
    asked = []
    real_extractor = rasc.regions.build.region_extractor
    monkeypatch.setattr(rasc.regions.build, "region_extractor",
                        lambda name, *rest: asked.append(name) or real_extractor("trapped_ball"))
    code = main(["colorize", str(tmp_path / "d.png"), "-m", str(model), "-o", str(tmp_path / "out")])
    if needs_region_model:
        assert code == 2 and "pass --region-model" in capsys.readouterr().err
    else:
        assert code == 0 and asked == [source]


@pytest.mark.parametrize("command", ["colorize", "regions", "sketch"])
def test_inputs_with_one_name_get_distinct_outputs(tmp_path, model, command):
    for sub, size in (("a", (40, 60)), ("b", (50, 50))):
        (tmp_path / sub).mkdir()
        cv2.imwrite(str(tmp_path / sub / "x.png"), _boxes(*size))
    extra = ["-m", str(model)] if command == "colorize" else []
    out = tmp_path / "out"
    assert main([command, str(tmp_path / "a" / "x.png"), str(tmp_path / "b"), "-o", str(out), *extra]) == 0
    assert _read(out / "x.png").shape[:2] == (40, 60)
    assert _read(out / "x-2.png").shape[:2] == (50, 50)


# ------------------------------------------------------------------------------ 6, 8. one-line errors, exit 2


def _bad_input_files(tmp_path):
    """Every file the bad-input cases read."""
    grey = _boxes()
    cv2.imwrite(str(tmp_path / "ok.png"), grey)
    cv2.imwrite(str(tmp_path / "black.png"), np.zeros((40, 60), np.uint8))
    transparent = np.zeros((40, 60, 4), np.uint8)
    transparent[..., :3] = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)  # lines in the colour channels, alpha 0
    cv2.imwrite(str(tmp_path / "transparent.png"), transparent)
    encoded = cv2.imencode(".png", np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))[1]
    (tmp_path / "truncated.png").write_bytes(encoded.tobytes()[: encoded.size // 2])
    (tmp_path / "file_not_folder").write_text("")
    (tmp_path / "folder.pt").mkdir()
    (tmp_path / "text.npz").write_text("a, b\n1, 2\n")
    specks = np.full((640, 640), 255, np.uint8)  # scanner dust only: every speck under a working-size pixel's area
    specks[::80, ::80] = 0
    cv2.imwrite(str(tmp_path / "specks.png"), specks)


def _pickled_model(tmp_path):
    import torch

    path = tmp_path / "pickled.pt"
    torch.save({"format": "rasc-checkpoint", "format_version": 1, "kind": "generator", "step": 1, "G_ema": {},
                "generator_config": {}, "extra": np.zeros(3)}, path)
    return path


def _mismatched_model(tmp_path):
    import torch

    cfg = GeneratorConfig(image_size=32, base_channels=4, max_channels=8, num_blocks=2, w_dim=4)
    path = tmp_path / "mismatched.pt"
    save_generator_checkpoint(path, generator=Generator(cfg), generator_config=cfg, config={}, step=1)
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["G_ema"] = {"something.else": torch.zeros(1)}
    torch.save(checkpoint, path)
    return path


def _edited_model(tmp_path, edit, name):
    """The fixture's kind of generator checkpoint with ``edit(checkpoint)`` applied to it."""
    cfg = GeneratorConfig(image_size=32, base_channels=4, max_channels=8, num_blocks=2, w_dim=4)
    path = tmp_path / name
    save_generator_checkpoint(path, generator=Generator(cfg), generator_config=cfg,
                              config={"model": {"region_source": "trapped_ball"}}, step=1)
    checkpoint = torch.load(path, weights_only=True)
    edit(checkpoint)
    torch.save(checkpoint, path)
    return path


def _model_without_config(tmp_path):
    return _edited_model(tmp_path, lambda checkpoint: checkpoint.pop("config"), "no_config.pt")


def _model_claiming_a_huge_network(tmp_path):  # built as stored, it would ask for about 60 GB
    return _edited_model(tmp_path, lambda checkpoint: checkpoint["generator_config"].update(base_channels=10**6,
                                                                                             max_channels=10**6),
                         "huge.pt")


def _model_with_nan_weights(tmp_path):
    return _edited_model(tmp_path, lambda checkpoint: checkpoint["G_ema"]["to_rgb.weight"].fill_(float("nan")),
                         "nan.pt")


def _train_config(tmp_path, **train):
    import yaml

    from rasc.config import read_yaml

    config = read_yaml("config/config.yaml")
    config["train"].update(train)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


BAD_INPUTS = {
    # id: (argv with {tmp} and {model} placeholders or a builder, message part)
    "output is a file": (["regions", "{tmp}/ok.png", "-o", "{tmp}/file_not_folder"], "exists and is not a folder"),
    "output not writable": (["regions", "{tmp}/ok.png", "-o", "/proc/rasc-out"], "not a writable folder"),
    "folder as model": (["colorize", "{tmp}/ok.png", "-m", "{tmp}/folder.pt", "-o", "{tmp}/out"],
                        "is a folder, not a checkpoint file"),
    "pickled model": (["colorize", "{tmp}/ok.png", "-m", _pickled_model, "-o", "{tmp}/out"],
                      "pickled objects (numpy"),
    "mismatched model": (["colorize", "{tmp}/ok.png", "-m", _mismatched_model, "-o", "{tmp}/out"],
                         "54 missing (e.g. encoder.stem.conv.weight"),
    "truncated png": (["regions", "{tmp}/truncated.png", "-o", "{tmp}/out"], "truncated.png: not a readable image"),
    "all black": (["regions", "{tmp}/black.png", "-o", "{tmp}/out"], "all dark"),
    "blank after alpha": (["colorize", "{tmp}/transparent.png", "-m", "{model}", "-o", "{tmp}/out"],
                          "blank once its transparency is laid on white paper"),
    "only specks": (["colorize", "{tmp}/specks.png", "-m", "{model}", "-o", "{tmp}/out"],
                    "specks.png: no line left at the working size"),
    "too large, refused": (["sketch", "{tmp}/ok.png", "-o", "{tmp}/out", "--max-pixels", "1000", "--refuse-large"],
                           "more than the limit of 1000 px"),
    "reference is a folder": (["colorize", "{tmp}/ok.png", "-m", "{model}", "-o", "{tmp}/out", "--reference",
                               "{tmp}/folder.pt"], "is a folder, not an image file"),
    "sheet of one": (["colorize", "{tmp}/ok.png", "-m", "{model}", "-o", "{tmp}/out", "--sheet"],
                     "--sheet needs several colourings"),
    "checkpoint without config": (["colorize", "{tmp}/ok.png", "-m", _model_without_config, "-o", "{tmp}/out"],
                                  "checkpoint lacks ['config']"),
    "config claims a huge network": (["colorize", "{tmp}/ok.png", "-m", _model_claiming_a_huge_network, "-o",
                                      "{tmp}/out"], "weights do not match the stored generator config"),
    "nan weights": (["colorize", "{tmp}/ok.png", "-m", _model_with_nan_weights, "-o", "{tmp}/out"],
                    "1 weight tensor holds NaN or infinite values (e.g. to_rgb.weight)"),
    "size above max pixels": (["sketch", "{tmp}/ok.png", "-o", "{tmp}/out", "--size", "100", "--max-pixels", "9999"],
                              "--size 100 makes 10000 px images, more than --max-pixels 9999"),
    "downscaled below the minimum": (["sketch", "{tmp}/ok.png", "-o", "{tmp}/out", "--max-pixels", "64"],
                                     "60x40 px downscaled to fit 64 px (--max-pixels) would be 9x6"),
    "samples without seed": (["colorize", "{tmp}/ok.png", "-m", "{model}", "-o", "{tmp}/out", "--samples", "3"],
                             "--samples counts the random styles of --seed"),
    "steps without interpolate": (["colorize", "{tmp}/ok.png", "-m", "{model}", "-o", "{tmp}/out", "--steps", "3"],
                                  "--steps counts the colourings along --interpolate"),
    "prior without random styles": (["colorize", "{tmp}/ok.png", "-m", "{model}", "-o", "{tmp}/out", "--prior",
                                     "standard"], "--prior says where random styles come from"),
    "region model not used": (["colorize", "{tmp}/ok.png", "-m", "{model}", "-o", "{tmp}/out", "--region-model",
                               "{tmp}/none.pt"], "trained on trapped_ball region maps and needs no --region-model"),
    "patches without their method": (["regions", "{tmp}/ok.png", "-o", "{tmp}/out", "--patches", "16"],
                                     "--patches sets the grid of --method patches"),
    "extractor without its method": (["regions", "{tmp}/ok.png", "-o", "{tmp}/out", "--model", "{tmp}/none.pt"],
                                     "--model is the extractor of --method learned"),
    "missing illustrations": (["train", "--config", "config/config.yaml", "--illustrations", "{tmp}/none.npz",
                               "-o", "{tmp}/out"], "--illustrations {tmp}/none.npz: no such file"),
    "text illustrations": (["train", "--config", "config/config.yaml", "--illustrations", "{tmp}/text.npz",
                            "--sketches", "{tmp}/text.npz", "--regions", "{tmp}/text.npz", "-o", "{tmp}/out"],
                           "text.npz: not a .npz archive of arrays"),
    "missing vgg weights": (["train", "--config", lambda tmp: _train_config(tmp, vgg_weights=str(tmp / "vgg.pth")),
                             "-o", "{tmp}/out"], "train.vgg_weights"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_gives_one_line_and_exit_2(tmp_path, model, case, capfd):
    argv, message = BAD_INPUTS[case]
    _bad_input_files(tmp_path)
    argv = [str(a(tmp_path)) if callable(a) else a.format(tmp=tmp_path, model=model) for a in argv]
    assert main(argv) == 2
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and all(line.startswith(f"rasc {argv[0]}") for line in lines), err  # no stray library output
    assert message.format(tmp=tmp_path) in err, err
    assert "weights_only=False" not in err and "\x1b[" not in err and len(err) < 600
    assert not (tmp_path / "out").exists()  # a failed run leaves no (empty) output folder


@pytest.mark.parametrize("arguments, message", [
    (["sketch", "--sigma", "1e9"], "--sigma: must lie in (0, 100]"),
    (["sketch", "--sigma", "nan"], "--sigma: must lie in (0, 100]"),
    (["regions", "--method", "patches", "--patches", "10"], "--patches: must be a perfect square"),
    (["colorize", "--seed", "-1"], "--seed: must be at least 0"),
    (["colorize", "--interpolate", "3", "-1"], "--interpolate: must be at least 0"),
    (["colorize", "--seed", "4294967296"], "--seed: must be at most 4294967295"),
    (["colorize", "--seed", "1", "--samples", "101"], "--samples: must be at most 100"),
    (["colorize", "--seed", "1", "--samples", "0"], "--samples: must be at least 1"),
    (["colorize", "--interpolate", "1", "2", "--steps", "1"], "--steps: must be at least 2"),
    (["colorize", "--interpolate", "1", "2", "--steps", "100000000"], "--steps: must be at most 100"),
    (["regions", "--size", "7"], "--size: must be at least 8"),
    (["sketch", "--max-pixels", "63"], "--max-pixels: must be at least 64"),
    (["sketch", "-o", " "], "-o/--output: an empty path"),
])
def test_bad_options_are_refused_before_any_file_is_read(tmp_path, line_art, arguments, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*arguments[:1], str(line_art), *arguments[1:], "-o", str(tmp_path / "out")])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_ctrl_c_ends_with_one_line_and_status_130(tmp_path, line_art, monkeypatch, capsys):
    import rasc.data.sketch

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(rasc.data.sketch, "xdog", interrupted)
    assert main(["sketch", str(line_art), "-o", str(tmp_path / "out")]) == 130
    err = capsys.readouterr().err
    assert "rasc sketch: interrupted" in err and "Traceback" not in err


def test_ctrl_c_between_two_files_of_one_drawing_leaves_none_of_them(tmp_path, line_art, model, monkeypatch,
                                                                      capsys):
    import rasc.imageio

    real_write, written = rasc.imageio.write_image, []

    def stopped_at_the_third_file(path, image):
        if len(written) == 2:
            raise KeyboardInterrupt
        written.append(path)
        real_write(path, image)

    monkeypatch.setattr(rasc.imageio, "write_image", stopped_at_the_third_file)
    out = tmp_path / "out"
    assert main(["colorize", str(line_art), "-m", str(model), "-o", str(out), "--seed", "1", "--samples", "3",
                 "--sheet"]) == 130
    assert len(written) == 2 and not out.exists()  # the two samples written were removed, then the empty folder


def test_size_zero_is_refused(tmp_path, line_art, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["regions", str(line_art), "-o", str(tmp_path / "out"), "--size", "0"])
    assert stop.value.code == 2 and "must be at least 8" in capsys.readouterr().err


def test_synth_takes_its_look_from_a_config_or_a_model_not_both(tmp_path, model, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["synth", "-o", str(tmp_path / "out"), "--model", str(model), "--config", "config/config.yaml"])
    assert stop.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_synth_that_cannot_write_a_drawing_keeps_none_of_its_files(tmp_path, monkeypatch, capsys):
    import rasc.imageio

    real_write, written = rasc.imageio.write_image, []

    def disk_full_at_the_ninth_file(path, image):  # drawing 0 has six files; drawing 1 fails at its third
        if len(written) == 8:
            raise OSError(28, "No space left on device", str(path))
        written.append(path)
        real_write(path, image)

    monkeypatch.setattr(rasc.imageio, "write_image", disk_full_at_the_ninth_file)
    out = tmp_path / "out"
    assert main(["synth", "-o", str(out), "-n", "3", "--size", "64"]) == 2
    err = capsys.readouterr().err
    assert "drawing 0001: No space left on device" in err and "1 drawings written, none of this one's files kept" in err
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == [
        "clean/0000.png", "color/0000.png", "regions/0000.png", "regions/0000.preview.png", "rough/0000.png",
        "xdog/0000.png"]


def test_synth_draws_what_synthesize_and_xdog_batch_draw(tmp_path, monkeypatch):
    """Drawing by drawing, ``rasc synth`` writes the very arrays of the batch functions the workflow uses."""
    from rasc.data.sketch import xdog_batch
    from rasc.data.synth import SynthConfig, synthesize

    arrays = synthesize(2, seed=3, cfg=SynthConfig(size=64))
    xdog = xdog_batch(arrays["color"], seed=3)
    monkeypatch.chdir(tmp_path)  # no config/config.yaml here: the generator's built-in settings, synthesize's default
    assert main(["synth", "-o", "out", "-n", "2", "--size", "64", "--seed", "3"]) == 0
    for i in range(2):
        assert np.array_equal(_read(tmp_path / "out" / "color" / f"{i:04d}.png")[..., ::-1], arrays["color"][i])
        assert np.array_equal(_read(tmp_path / "out" / "xdog" / f"{i:04d}.png"), xdog[i])
        assert np.array_equal(_read(tmp_path / "out" / "regions" / f"{i:04d}.png"), arrays["regions"][i])


def test_a_broken_link_in_an_input_folder_is_reported(tmp_path, capfd):
    folder = tmp_path / "in"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), _boxes())
    (folder / "b.png").symlink_to(tmp_path / "gone.png")
    assert main(["regions", str(folder), "-o", str(tmp_path / "out")]) == 2
    err = capfd.readouterr().err
    assert "b.png: no such file" in err and "1 of 2 inputs failed" in err
    assert (tmp_path / "out" / "a.png").is_file()


def test_sigterm_ends_with_one_line_status_143_and_no_partial_output(tmp_path):
    """``kill`` or ``timeout`` stops a command as Ctrl-C does: one line, 128 + SIGTERM, no half-written drawing."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "rasc.cli", "synth", "-o", str(out), "-n", "5000", "--size",
                                "64"], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    first_drawing_done = out / "regions" / "0000.preview.png"  # the last of drawing 0's files
    while not first_drawing_done.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert err.strip().splitlines()[-1] == "rasc synth: terminated" and "Traceback" not in err
    written = {kind: {p.name for p in (out / kind).glob("*.png")} for kind in ("color", "xdog", "clean", "rough")}
    assert written["color"] and all(names == written["color"] for names in written.values())  # whole drawings


def test_light_lines_on_dark_paper_are_inverted_with_a_message(tmp_path, capsys):
    cv2.imwrite(str(tmp_path / "dark.png"), _boxes(ink=255, paper=0))
    cv2.imwrite(str(tmp_path / "light.png"), _boxes())
    assert main(["regions", str(tmp_path / "dark.png"), str(tmp_path / "light.png"), "-o", str(tmp_path / "o")]) == 0
    assert "dark.png: light lines on dark paper: inverted" in capsys.readouterr().err
    assert np.array_equal(_read(tmp_path / "o" / "dark.png"), _read(tmp_path / "o" / "light.png"))
    assert _read(tmp_path / "o" / "dark.png").max() + 1 == 3


def test_a_large_drawing_is_downscaled_with_a_message(tmp_path, model, capsys):
    cv2.imwrite(str(tmp_path / "big.png"), _boxes(80, 120))
    assert main(["colorize", str(tmp_path / "big.png"), "-m", str(model), "-o", str(tmp_path / "o"),
                 "--max-pixels", "2400"]) == 0
    assert "big.png: 120x80 px is more than 2400 px (--max-pixels): downscaled to 60x40" in capsys.readouterr().err
    assert _read(tmp_path / "o" / "big.png").shape == (40, 60, 3)


def test_train_weights_the_pixel_l1_by_the_given_trapped_ball_regions(tmp_path, repo, monkeypatch, capfd):
    """With train.l1_region_power > 0 the --regions of a trapped-ball experiment also weight the pixel L1; an
    experiment on other region maps reads --loss-regions (default: the workflow's trapped-ball file), and without
    one it stops with one line naming the option, before any output folder is made."""
    import yaml

    from rasc.config import read_yaml
    from rasc.training.data import synthetic_train_data

    data = synthetic_train_data(num_samples=4, image_size=32, seed=0)
    np.savez(tmp_path / "illustrations.npz", color=data.color)
    np.savez(tmp_path / "sketches.npz", sketch=data.sketch)
    np.savez(tmp_path / "regions.npz", labels=data.regions)
    config = read_yaml(repo / ".test/config/config.yaml")
    config["train"].update(steps=1, l1_region_power=0.5, lambda_l1=10.0)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.chdir(tmp_path)
    given = ["train", "--config", "config.yaml", "--illustrations", "illustrations.npz", "--sketches", "sketches.npz",
             "--regions", "regions.npz"]
    assert main(given + ["-o", "full"]) == 0
    assert (tmp_path / "full" / "generator.pt").is_file()
    capfd.readouterr()
    assert main(given + ["--experiment", "cwr_skeleton", "-o", "cwr"]) == 2
    err = capfd.readouterr().err
    assert "--loss-regions results/regions/trapped_ball/train_xdog.npz: no such file" in err, err
    assert not (tmp_path / "cwr").exists()
    assert main(given + ["--experiment", "cwr_skeleton", "--loss-regions", "regions.npz", "-o", "cwr"]) == 0
    assert (tmp_path / "cwr" / "generator.pt").is_file()
