"""Known valid colourings of test drawings (rasc.data.alternatives) and the procedural colour re-draw behind them."""

from __future__ import annotations

import numpy as np
import pytest

from rasc.data.alternatives import prepare_alternatives, redraw_rng
from rasc.data.palette import ARCHETYPES, classify_family, family_index
from rasc.data.prepare import prepare_procedural
from rasc.data.synth import SynthConfig, render_illustration, sample_rng

ON_ARCHETYPE = SynthConfig(size=64, off_archetype=0.0, eye_follows_hair=1.0)
DATA = {"source": "procedural", "size": 32, "seed": 3, "n_train": 2, "n_test": 3, "synth": {"zoom": 1.4}}
STRUCTURE = ("regions", "parts", "region_group", "region_shadow", "lines_clean", "lines_rough", "group_names",
             "archetype")


@pytest.mark.parametrize("index", range(6))
def test_redraw_keeps_the_drawing_and_changes_only_colours(index):
    original = render_illustration(sample_rng(11, index), ON_ARCHETYPE)
    redrawn = render_illustration(sample_rng(11, index), ON_ARCHETYPE, colour_rng=redraw_rng(11, index, 1))
    for key in STRUCTURE:
        assert np.array_equal(getattr(original, key), getattr(redrawn, key)), key
    ink = original.lines_clean == 0
    np.testing.assert_array_equal(redrawn.color[ink], original.color[ink])  # the outlines keep their ink colour
    np.testing.assert_array_equal(redrawn.color[~ink], redrawn.group_color[redrawn.region_group][redrawn.regions][~ink])
    changed = (original.group_color != redrawn.group_color).any(axis=1)  # (G,)
    assert changed.mean() > 0.5 and (original.color[~ink] != redrawn.color[~ink]).any(axis=1).mean() > 0.5


@pytest.mark.parametrize("index", range(6))
def test_redrawn_colours_stay_in_the_archetype_families(index):
    redrawn = render_illustration(sample_rng(12, index), ON_ARCHETYPE, colour_rng=redraw_rng(12, index, 2))
    archetype = ARCHETYPES[redrawn.archetype]
    expected = {"hair": archetype.hair, "top": archetype.top, "bottom": archetype.bottom, "accent": archetype.accent,
                "iris": archetype.hair}  # the eyes follow the hair (eye_follows_hair = 1)
    names = list(redrawn.group_names)
    checked = [name for name in expected if name in names]
    assert {"hair", "top"} <= set(checked)
    for name in checked:
        assert classify_family(redrawn.group_color[names.index(name)]) == family_index(expected[name]), name


def test_redraws_differ_from_each_other_and_repeat_exactly():
    first = render_illustration(sample_rng(13, 0), ON_ARCHETYPE, colour_rng=redraw_rng(13, 0, 1)).color
    again = render_illustration(sample_rng(13, 0), ON_ARCHETYPE, colour_rng=redraw_rng(13, 0, 1)).color
    second = render_illustration(sample_rng(13, 0), ON_ARCHETYPE, colour_rng=redraw_rng(13, 0, 2)).color
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second)
    with pytest.raises(ValueError, match="numbered from 1"):
        redraw_rng(13, 0, 0)


def test_procedural_alternatives_are_the_truth_then_redraws_of_the_same_drawing():
    illustrations = prepare_procedural(DATA, "test")
    arrays = prepare_alternatives(illustrations, DATA, "test", 3)
    alternatives = arrays["alternatives"]  # (N, K, H, W, 3)
    assert alternatives.shape == (3, 3, 32, 32, 3) and alternatives.dtype == np.uint8
    np.testing.assert_array_equal(arrays["alternative_count"], [3, 3, 3])
    np.testing.assert_array_equal(alternatives[:, 0], illustrations["color"])
    ink = illustrations["lines_clean"] == 0  # (N, H, W)
    for draw in (1, 2):
        np.testing.assert_array_equal(alternatives[:, draw][ink], illustrations["color"][ink])
        assert (alternatives[:, draw] != illustrations["color"]).any(axis=-1)[~ink].mean() > 0.5
    stale = {**DATA, "seed": 4}
    with pytest.raises(ValueError, match="another data config"):
        prepare_alternatives(illustrations, stale, "test", 2)


def test_variants_of_one_drawing_are_each_others_alternatives():
    drawing = np.array([0, 1, 0, 0, 2])
    color = np.arange(1, 6, dtype=np.uint8)[:, None, None, None] * np.ones((5, 4, 4, 3), np.uint8)  # sample i: i + 1
    arrays = prepare_alternatives({"color": color, "drawing": drawing}, {"source": "openmoji"}, "test", 3)
    first_pixel = arrays["alternatives"][:, :, 0, 0, 0]  # (N, K)
    np.testing.assert_array_equal(first_pixel, [[1, 3, 4], [2, 0, 0], [3, 1, 4], [4, 1, 3], [5, 0, 0]])
    np.testing.assert_array_equal(arrays["alternative_count"], [3, 1, 3, 3, 1])
    capped = prepare_alternatives({"color": color, "drawing": drawing}, {"source": "openmoji"}, "test", 2)
    np.testing.assert_array_equal(capped["alternative_count"], [2, 1, 2, 2, 1])


def test_a_folder_has_only_its_own_colouring():
    color = np.full((2, 4, 4, 3), 9, np.uint8)
    arrays = prepare_alternatives({"color": color}, {"source": "folder"}, "test", 4)
    np.testing.assert_array_equal(arrays["alternative_count"], [1, 1])
    assert arrays["alternatives"].shape == (2, 4, 4, 4, 3) and not arrays["alternatives"][:, 1:].any()
    with pytest.raises(ValueError, match=">= 1"):
        prepare_alternatives({"color": color}, {"source": "folder"}, "test", 0)
