"""Learning curves over seeds (rasc.figures.seed_band, learning_curves_figure): the band is the seeds' range at the
steps every seed has reached, and the figure draws one band per run."""

from __future__ import annotations

import numpy as np
from PIL import Image

from rasc.figures import learning_curves_figure, seed_band


def curve(errors, start=0, every=100, constant=40.0):
    """Learning-curve points as rasc.validation writes them, one per snapshot."""
    return [{"step": start + i * every, "val/colour_error": e, "val/oracle_colour_error": e - 2,
             "val/bleeding": e / 10, "val/constant_colour_error": constant} for i, e in enumerate(errors)]


def test_band_is_mean_and_range_over_seeds_at_common_steps():
    seeds = [curve([70, 40, 30]), curve([60, 50, 20]), curve([65, 45])]  # the third seed is still training
    band = seed_band(seeds, "val/colour_error")
    assert band.seeds == 3
    np.testing.assert_array_equal(band.steps, [0, 100])
    np.testing.assert_allclose(band.mean, [65, 45])
    np.testing.assert_array_equal(band.low, [60, 40])
    np.testing.assert_array_equal(band.high, [70, 50])


def test_seeds_without_points_are_left_out_and_none_gives_an_empty_band():
    band = seed_band([curve([70, 40]), []], "val/colour_error")
    assert band.seeds == 1
    np.testing.assert_array_equal(band.low, band.high)
    empty = seed_band([[], []], "val/colour_error")
    assert empty.seeds == 0 and len(empty.steps) == 0
    assert seed_band([curve([70])], "val/missing").seeds == 0


def test_figure_draws_each_run_over_its_seeds(tmp_path, monkeypatch):
    import matplotlib.axes

    drawn, shaded = [], []
    original_plot, original_fill = matplotlib.axes.Axes.plot, matplotlib.axes.Axes.fill_between
    monkeypatch.setattr(matplotlib.axes.Axes, "plot",
                        lambda self, *a, **k: drawn.append(k.get("label")) or original_plot(self, *a, **k))
    monkeypatch.setattr(matplotlib.axes.Axes, "fill_between",
                        lambda self, *a, **k: shaded.append(1) or original_fill(self, *a, **k))
    path = tmp_path / "curves.png"
    learning_curves_figure({"full": [curve([70, 40]), curve([60, 50])], "pix2pix": [curve([50, 45])]}, path, "t")
    assert Image.open(path).size[0] > 0
    assert "full (2 seeds)" in drawn and "pix2pix" in drawn and "dashed: oracle w" in drawn
    assert drawn.count("_oracle") == 2  # one dashed line per run, named once in the legend
    assert len(shaded) == 3  # full's colour error, oracle and bleeding; one seed of pix2pix has no band


def test_read_jsonl_returns_what_append_jsonl_wrote_and_nothing_for_a_missing_file(tmp_path):
    from rasc.training.run_files import append_jsonl, read_jsonl

    path = tmp_path / "curves.jsonl"
    assert read_jsonl(path) == []
    append_jsonl(path, curve([70, 40]))
    path.write_text(path.read_text() + "\n")  # a trailing blank line is no row
    assert read_jsonl(path) == curve([70, 40])
