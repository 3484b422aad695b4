"""benchmarks/refined_output.py: `rasc colorize`'s region-flat refinement of stored colourings, scored."""

import json

import numpy as np
import pytest
from conftest import import_benchmark

from rasc.data.synth import SynthConfig, synthesize
from rasc.imageio import save_npz


@pytest.fixture(scope="module")
def refined_output():
    yield from import_benchmark("refined_output")


def test_refining_a_noisy_ground_truth_removes_its_bleeding_and_its_colour_error(refined_output, tmp_path, capsys):
    truth = synthesize(3, seed=0, cfg=SynthConfig(size=64))
    save_npz(tmp_path / "data" / "test" / "illustrations.npz", **truth)
    save_npz(tmp_path / "data" / "test" / "sketch_clean.npz", sketch=truth["lines_clean"])
    noise = np.random.default_rng(1).normal(0, 12, truth["color"].shape)
    noisy = np.clip(truth["color"] + noise, 0, 255).astype(np.uint8)
    save_npz(tmp_path / "eval" / "full" / "seed0" / "B" / "colorized.npz", predicted=noisy)
    constant = tmp_path / "eval" / "reference_constant" / "B" / "metrics.json"
    constant.parent.mkdir(parents=True)
    constant.write_text(json.dumps({"colour_error": 10.0}))

    assert refined_output.main(["--results", str(tmp_path), "--test-sets", "B"]) == 0
    row = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| full seed 0")][0]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    error_raw, error_refined = (float(value) for value in cells[2].split(" → "))
    bleeding_raw, bleeding_refined = (float(value) for value in cells[3].split(" → "))
    assert bleeding_raw > 5 and bleeding_refined < 0.1 * bleeding_raw  # flat regions: the noise is gone
    assert error_refined < error_raw  # each region's median is nearer its true colour than the noisy mean


def test_a_missing_colouring_is_reported_and_fails(refined_output, tmp_path, capsys):
    truth = synthesize(2, seed=0, cfg=SynthConfig(size=64))
    save_npz(tmp_path / "data" / "test" / "illustrations.npz", **truth)
    save_npz(tmp_path / "data" / "test" / "sketch_clean.npz", sketch=truth["lines_clean"])
    constant = tmp_path / "eval" / "reference_constant" / "B" / "metrics.json"
    constant.parent.mkdir(parents=True)
    constant.write_text(json.dumps({"colour_error": 10.0}))
    assert refined_output.main(["--results", str(tmp_path), "--test-sets", "B"]) == 1
    assert "missing" in capsys.readouterr().out


@pytest.fixture(scope="module")
def fid_ink():
    yield from import_benchmark("fid_ink")


def test_fid_ink_reads_a_run_and_darker_ink_costs_more(fid_ink, tmp_path, capsys):
    from rasc.metrics.fid import FIDBackbone

    truth = synthesize(6, seed=0, cfg=SynthConfig(size=64))
    save_npz(tmp_path / "data" / "test" / "illustrations.npz", **truth)
    save_npz(tmp_path / "data" / "test" / "sketch_xdog.npz", sketch=truth["lines_clean"])
    save_npz(tmp_path / "eval" / "full" / "seed0" / "A" / "colorized.npz", predicted=truth["color"])
    backbone = FIDBackbone.random(0, dims=64, batch_size=8)
    backbone.calibrate(synthesize(6, seed=1, cfg=SynthConfig(size=64))["color"])
    backbone.save(tmp_path / "eval" / "fid_backbone.pt")
    backbone.features(truth["color"]).save(tmp_path / "eval" / "fid_reference.npz")
    (tmp_path / "eval" / "fid_floor.json").write_text(json.dumps({"fid_floor": 1.0}))

    assert fid_ink.main(["--results", str(tmp_path), "--levels", "0", "30"]) == 0
    values = {line.rsplit(None, 1)[0].strip(): float(line.rsplit(None, 1)[1])
              for line in capsys.readouterr().out.splitlines()[1:]}
    assert values["ground truth as it is"] < 1e-6
    assert values["full seed 0, predicted w, as stored"] < 1e-6  # the stored colouring is the ground truth here
    assert values["ground truth, ink at grey 0"] > values["ground truth, ink at grey 30"]
