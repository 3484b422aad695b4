"""The OpenMoji source end to end: a handful of files through the tiny DAG to table 1, and the licence notice in
every figure caption that shows the data."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from jinja2 import Environment
from workflow_run import REPO, copy_test_folder, run_in

from rasc.data.attribution import OPENMOJI_ATTRIBUTION, OPENMOJI_LICENSE_URL, OPENMOJI_NOTICE
from rasc.data.prepare import load_npz

FIGURE_CAPTIONS = ("data_samples", "qualitative", "multicolor", "region_comparison", "region_sources")


@pytest.fixture(scope="module")
def openmoji_run(tmp_path_factory):
    """Table 1 (full model, test set B = the line layer), the data statistics and a qualitative grid on 16 + 6 files."""
    workdir = copy_test_folder(tmp_path_factory.mktemp("openmoji"))
    result = run_in(workdir, "results/table1.csv", "results/data/stats.csv", "results/figures/qualitative_B.png",
                    "--configfile", str(workdir / "config" / "openmoji.yaml"), timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    return workdir


@pytest.mark.slow
def test_table1_on_the_line_layer_names_the_data_source(openmoji_run):
    table = pd.read_csv(openmoji_run / "results/table1.csv")
    assert list(zip(table["method"], table["test_set"])) == [
        ("full", "B"), ("full:oracle", "B"), ("reference:constant", "B"), ("reference:nearest", "B")]
    assert (table["data_source"] == "openmoji").all()
    full = table[table["method"] == "full"]
    for metric in ("fid", "bleeding", "inconsistency", "colour_error", "diversity"):
        assert np.isfinite(full[f"{metric}_mean"]).all(), metric  # ground truth: every metric measured
    assert np.isfinite(table["colour_error_vs_constant"]).all()  # oracle and references too
    caption = (openmoji_run / "results/table1.md").read_text().splitlines()[0]
    assert "B (OpenMoji's human-drawn line layer)" in caption and "CC BY-SA 4.0" in caption
    assert (openmoji_run / "results/figures/qualitative_B.png").stat().st_size > 0


@pytest.mark.slow
def test_splits_hold_whole_drawings_and_the_line_layer_is_test_set_b(openmoji_run):
    data = openmoji_run / "results/data"
    train, test = load_npz(data / "train/illustrations.npz"), load_npz(data / "test/illustrations.npz")
    assert 0 < len(test["names"]) <= 6 and 0 < len(train["names"]) <= 16
    assert not set(train["drawing"]) & set(test["drawing"])
    sketches = load_npz(data / "test/sketch_clean.npz")["sketch"]
    assert np.array_equal(sketches, test["lines_clean"]) and set(np.unique(sketches)) == {0, 255}
    stats = pd.read_csv(data / "stats.csv")
    assert list(stats["split"]) == ["train", "test"]
    assert stats["px_per_region_mean"].between(32, 32 * 32).all()
    assert stats["line_regions_multicolour"].between(0, 1).all()


@pytest.mark.parametrize("name", FIGURE_CAPTIONS)
def test_figure_captions_carry_the_notice_and_their_rules_pass_it(name):
    caption = (REPO / "workflow/report" / f"{name}.rst").read_text()
    params = SimpleNamespace(footnote=OPENMOJI_NOTICE, title="Test set B")
    rendered = Environment(trim_blocks=True, lstrip_blocks=True).from_string(caption).render(
        snakemake=SimpleNamespace(params=params, config={"data": {"source": "openmoji"}}))
    assert OPENMOJI_ATTRIBUTION in rendered and OPENMOJI_LICENSE_URL in rendered and "openmoji.org" in rendered
    rules = "\n".join(path.read_text() for path in (REPO / "workflow/rules").glob("*.smk"))
    blocks = [block for block in re.split(r"\nrule ", rules) if f'caption="../report/{name}.rst"' in block]
    assert blocks and all("footnote=FIGURE_FOOTNOTE" in block for block in blocks), name
