"""Procedural illustrations: determinism, label/colour invariants, region statistics, archetype colour association."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rasc.data.palette import ARCHETYPES, FAMILIES, FAMILY_NAMES, classify_family, family_index, sample_colour
from rasc.data.synth import (
    PART_NAMES,
    SynthConfig,
    framed_as,
    region_count_stats,
    render_illustration,
    sample_rng,
    synthesize,
)

SMALL = SynthConfig(size=64)


def _colour_codes(color: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 → (H, W) int64 code, one per distinct colour."""
    c = color.astype(np.int64)
    return (c[..., 0] << 16) | (c[..., 1] << 8) | c[..., 2]


def _assert_flat(ill) -> None:
    """Every region is one colour outside the outlines, and that colour is its group's colour."""
    k = len(ill.region_group)
    off_ink = ill.lines_clean > 0
    labels, codes = ill.regions[off_ink].astype(np.int64), _colour_codes(ill.color)[off_ink]
    lo, hi = np.full(k, np.iinfo(np.int64).max), np.full(k, -1)
    np.minimum.at(lo, labels, codes)
    np.maximum.at(hi, labels, codes)
    seen = hi >= 0
    assert seen.mean() > 0.9, "most regions must have pixels off the outlines"
    assert np.array_equal(lo[seen], hi[seen]), "a region has more than one colour off the outlines"
    group_codes = _colour_codes(ill.group_color[None])[0]  # (G,)
    assert np.array_equal(lo[seen], group_codes[ill.region_group[seen]]), "region colour differs from its group colour"


def test_deterministic_for_a_seed_and_different_across_seeds():
    a, b, c = synthesize(3, seed=5, cfg=SMALL), synthesize(3, seed=5, cfg=SMALL), synthesize(3, seed=6, cfg=SMALL)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert not np.array_equal(a["color"], c["color"])
    assert not np.array_equal(a["regions"], c["regions"])


def test_sample_i_does_not_depend_on_n():
    two, five = synthesize(2, seed=11, cfg=SMALL), synthesize(5, seed=11, cfg=SMALL)
    for key in ("color", "regions", "parts", "archetype", "lines_clean", "lines_rough"):
        np.testing.assert_array_equal(two[key], five[key][:2], err_msg=key)
    k = two["region_group"].shape[1]
    np.testing.assert_array_equal(two["region_group"], five["region_group"][:2, :k])
    assert (five["region_group"][:2, k:] == -1).all()


def test_npz_layout_and_dtypes():
    data = synthesize(3, seed=0, cfg=SMALL)
    n, s = 3, SMALL.size
    expected = {
        "color": ((n, s, s, 3), np.uint8),
        "regions": ((n, s, s), np.uint16),
        "parts": ((n, s, s), np.uint8),
        "archetype": ((n,), np.int16),
        "lines_clean": ((n, s, s), np.uint8),
        "lines_rough": ((n, s, s), np.uint8),
    }
    for key, (shape, dtype) in expected.items():
        assert data[key].shape == shape and data[key].dtype == dtype, key
    assert data["region_group"].dtype == np.int32 and data["region_group"].shape[0] == n
    for regions, groups in zip(data["regions"], data["region_group"]):
        k = int(regions.max()) + 1
        assert (groups[:k] >= 0).all() and (groups[k:] == -1).all()


@pytest.mark.parametrize("shadow_prob", [0.0, 1.0])
def test_labels_contiguous_complete_and_flat(shadow_prob):
    cfg = SynthConfig(size=96, shadow_prob=shadow_prob)
    for i in range(6):
        ill = render_illustration(sample_rng(3, i), cfg)
        k = len(ill.region_group)
        np.testing.assert_array_equal(np.unique(ill.regions), np.arange(k))  # contiguous, every label used
        assert ill.regions.shape == ill.color.shape[:2] and ill.regions.dtype == np.uint16
        assert np.array_equal(np.unique(ill.region_group), np.arange(len(ill.group_color)))  # groups contiguous
        _assert_flat(ill)
        # parts are constant within a region and valid
        part_of_region = np.zeros(k, dtype=np.int64)
        part_of_region[ill.regions.ravel()] = ill.parts.ravel()
        np.testing.assert_array_equal(part_of_region[ill.regions], ill.parts)
        assert ill.parts.max() < len(PART_NAMES)
        # outlines: exactly the dark pixels of the clean line art, painted near-black in the colour image
        assert set(np.unique(ill.lines_clean)) <= {0, 255}
        assert ill.color[ill.lines_clean == 0].max() < 60
        assert ill.region_shadow.shape == (k,)
        if shadow_prob == 0.0:
            assert not ill.region_shadow.any()


def test_shadows_are_separate_regions_in_their_own_groups():
    cfg = SynthConfig(size=128, shadow_prob=1.0)
    found = 0
    for i in range(4):
        ill = render_illustration(sample_rng(8, i), cfg)
        shadow_groups = set(ill.region_group[ill.region_shadow])
        plain_groups = set(ill.region_group[~ill.region_shadow])
        assert not shadow_groups & plain_groups, "a shadow shares a colour group with unshaded regions"
        assert all(ill.group_names[g].startswith("shadow:") for g in shadow_groups)
        found += int(ill.region_shadow.sum())
    assert found > 0
    plain = render_illustration(sample_rng(8, 0), SynthConfig(size=128, shadow_prob=0.0))
    assert not plain.region_shadow.any()


def test_semantic_ties_share_one_group():
    for i in range(8):
        ill = render_illustration(sample_rng(21, i), SynthConfig(size=128))
        names = list(ill.group_names)
        for tied in ("hair", "iris", "skin", "top"):
            assert names.count(tied) <= 1, f"{tied} split over several groups"
        iris = names.index("iris")
        assert (ill.region_group == iris).sum() >= 2, "both irises belong to the one iris group"
        assert (ill.region_group == names.index("hair")).sum() >= 5, "hair is many strands of one group"


def test_region_counts_sensible_and_growing_with_size():
    small = region_count_stats(synthesize(12, seed=1, cfg=SynthConfig(size=64))["regions"])
    large = region_count_stats(synthesize(12, seed=1, cfg=SynthConfig(size=256))["regions"])
    assert 25 <= small["mean"] <= 150, small
    assert 100 <= large["mean"] <= 300, large  # paper §IV-F: mean 166 at 256²
    assert large["mean"] > small["mean"]
    assert large["min"] >= 30


def test_region_count_stats_on_known_maps():
    maps = np.zeros((3, 4, 4), dtype=np.uint16)
    maps[1, 0, 0] = 1
    maps[2] = np.arange(16).reshape(4, 4)
    stats = region_count_stats(maps)
    assert stats == {"mean": 19 / 3, "median": 2.0, "max": 16.0, "min": 1.0, "p90": pytest.approx(13.2)}
    with pytest.raises(ValueError, match="regions"):
        region_count_stats(np.zeros(5))


def test_colour_families_are_recoverable_from_colours():
    rng = np.random.default_rng(0)
    for index, family in enumerate(FAMILIES):
        colours = np.stack([sample_colour(rng, family) for _ in range(200)])
        assert (classify_family(colours) == index).all(), family.name


def _hair_and_eye_families(cfg: SynthConfig, n: int, seed: int):
    hair_ok, eyes_follow = [], []
    for i in range(n):
        ill = render_illustration(sample_rng(seed, i), cfg)
        names = list(ill.group_names)
        hair = int(classify_family(ill.group_color[names.index("hair")]))
        hair_ok.append(hair == family_index(ARCHETYPES[ill.archetype].hair))
        if "iris" in names:  # tiny eyes can be all ink at small sizes
            eyes_follow.append(int(classify_family(ill.group_color[names.index("iris")])) == hair)
    assert len(eyes_follow) > 0.8 * n
    return np.mean(hair_ok), np.mean(eyes_follow)


def test_archetype_decides_hair_family_at_the_configured_rate():
    f = len(FAMILY_NAMES)
    cfg = SynthConfig(size=96, off_archetype=0.15, eye_follows_hair=0.8)
    hair_rate, eye_rate = _hair_and_eye_families(cfg, 300, seed=2)
    assert hair_rate == pytest.approx(0.85 + 0.15 / f, abs=0.06)  # off-archetype draws may hit the family by chance
    assert eye_rate == pytest.approx(0.8 + 0.2 / f, abs=0.07)
    exact, _ = _hair_and_eye_families(SynthConfig(size=96, off_archetype=0.0), 40, seed=3)
    assert exact == 1.0
    random, _ = _hair_and_eye_families(SynthConfig(size=96, off_archetype=1.0), 150, seed=4)
    assert random < 0.25


def test_all_sizes_render():
    for size in (32, 64, 200, 512):
        ill = render_illustration(sample_rng(0, 1), SynthConfig(size=size))
        assert ill.color.shape == (size, size, 3)
        assert ill.lines_rough.shape == (size, size)


def test_rough_lines_follow_the_outlines():
    ill = render_illustration(sample_rng(5, 0), SynthConfig(size=128))
    ink = ill.lines_clean == 0
    rough = ill.lines_rough.astype(float)
    assert rough.mean() > 180, "rough line art is mostly paper"
    assert rough[ink].mean() < rough[~ink].mean() - 80, "rough strokes lie on the outlines"
    assert not np.array_equal(ill.lines_rough, ill.lines_clean)


@pytest.mark.parametrize("bad", [dict(size=8), dict(off_archetype=1.5), dict(shadow_prob=-0.1), dict(line_width=0)])
def test_config_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        SynthConfig(**bad)


def test_synthesize_rejects_empty():
    with pytest.raises(ValueError):
        synthesize(0, seed=0, cfg=SMALL)


def test_framing_and_plain_walls_give_fewer_larger_regions():
    """zoom (framing) and wallpaper_prob: the levers that bring the region density near the paper's at 64²."""
    from rasc.data.synth import SynthConfig, region_count_stats, synthesize

    busy = synthesize(12, seed=1, cfg=SynthConfig(size=64))
    sparse = synthesize(12, seed=1, cfg=SynthConfig(size=64, zoom=1.4, wallpaper_prob=0.0, clutter=0.0, detail=0.4,
                                                    pattern_prob=0.0, min_region_area=12))
    assert region_count_stats(sparse["regions"])["mean"] < 0.7 * region_count_stats(busy["regions"])["mean"]
    with pytest.raises(ValueError, match="zoom"):
        SynthConfig(zoom=8.0)
    with pytest.raises(ValueError, match="wallpaper_prob"):
        SynthConfig(wallpaper_prob=1.5)


def test_flat_hair_is_one_silhouette_with_the_same_shapes():
    """hair_locks=False: the locks of one drawing join into one outlined silhouette (fewer hair regions) of about
    the same extent (the lines between locks become hair), for the same archetype."""
    from rasc.data.synth import PART_NAMES, SynthConfig, render_illustration, sample_rng

    hair = PART_NAMES.index("hair")
    for index in range(6):
        locks = render_illustration(sample_rng(3, index), SynthConfig(size=64))
        flat = render_illustration(sample_rng(3, index), SynthConfig(size=64, hair_locks=False))
        assert flat.archetype == locks.archetype
        hair_regions = [len(np.unique(ill.regions[ill.parts == hair])) for ill in (locks, flat)]
        assert hair_regions[1] < hair_regions[0]
        area = [(ill.parts == hair).sum() for ill in (locks, flat)]
        assert area[0] <= area[1] <= 1.5 * area[0]


def test_label_canvas_fill_into_an_existing_id():
    from rasc.data.shapes import LabelCanvas

    canvas = LabelCanvas(16)
    square = np.array([[0.1, 0.1], [0.4, 0.1], [0.4, 0.4], [0.1, 0.4]])
    pid = canvas.fill(square, group=2, part=5)
    assert canvas.fill(square + 0.5, group=2, part=5, pid=pid) == pid
    assert canvas.n_ids == 2 and (canvas.ids == pid).sum() > 2 * 16
    with pytest.raises(ValueError, match="existing id"):
        canvas.fill(square, group=3, part=5, pid=pid)


def test_framed_as_draws_the_same_framing_at_a_larger_size():
    """A larger scan of about the same drawings: each part covers the same share of the image as at 64²."""
    base = SynthConfig(size=64, zoom=1.4)
    assert framed_as(base, 64) == base

    def share(cfg: SynthConfig, part: str) -> float:
        return float((synthesize(8, seed=5, cfg=cfg)["parts"] == PART_NAMES.index(part)).mean())

    for part in ("background", "skin", "hair"):
        assert abs(share(framed_as(base, 256), part) - share(base, part)) < 0.03, part
    # drawn plainly at 256², the character is smaller (no close-up where pixels are scarce)
    assert share(SynthConfig(size=256, zoom=1.4), "hair") < share(base, "hair") - 0.1


def test_zoom_spread_varies_the_framing_from_drawing_to_drawing():
    """zoom_spread > 1: each drawing's head size is drawn (log-uniform around zoom), so the share of the image the
    background takes varies much more from drawing to drawing; 1 keeps every drawing framed alike."""
    base = SynthConfig(size=64, zoom=1.4)

    def background_shares(cfg: SynthConfig) -> np.ndarray:
        return (synthesize(24, seed=2, cfg=cfg)["parts"] == PART_NAMES.index("background")).mean(axis=(1, 2))

    fixed, spread = background_shares(base), background_shares(replace(base, zoom_spread=2.0))
    assert spread.std() > 1.5 * fixed.std()
    assert spread.max() - spread.min() > 0.3  # from close-ups with little wall to half figures with much
    for bad in (0.9, 4.5):
        with pytest.raises(ValueError, match="zoom_spread"):
            SynthConfig(zoom_spread=bad)
