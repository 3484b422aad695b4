"""Gradient cosines of the region correlation (paper §IV-G): against the total and the paper's pairs (Fig. 13)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from rasc.figures import _cosine_panels, grad_cosine_figure
from rasc.models.region_formulation import RegionFormulation
from rasc.training.grad_cosine import branch_cosine_histograms, cosine_metric_name


def captured_module(**grads: list[float]) -> SimpleNamespace:
    """A stand-in Region Formulation module whose captured branch inputs carry the given gradients, one region."""
    captured = {}
    for name, grad in grads.items():
        tensor = torch.zeros(1, 1, len(grad))  # (B, K, C)
        tensor.grad = torch.tensor(grad, dtype=torch.float32).view(1, 1, -1)
        captured[name] = tensor
    captured["region_mask"] = torch.ones(1, 1, dtype=torch.bool)
    return SimpleNamespace(captured=captured)


def by_panel(records: list[dict]) -> dict[tuple[str, str], float]:
    return {(r["branch"], r["against"]): r["mean"] for r in records}


def test_pairs_are_measured_against_the_pair_sum_not_the_total():
    # g_q ⊥ g_skip, equal lengths: each makes 45° with g_q + g_skip; g_k + g_v = (0, 1) is orthogonal to g_k
    module = captured_module(q=[1.0, 0.0], k=[1.0, 0.0], v=[-1.0, 1.0], skip=[0.0, 1.0])
    means = by_panel(branch_cosine_histograms([module], bins=20))
    assert means[("q", "q+skip")] == pytest.approx(1 / math.sqrt(2))
    assert means[("skip", "q+skip")] == pytest.approx(1 / math.sqrt(2))
    assert means[("k", "k+v")] == pytest.approx(0.0, abs=1e-7)
    assert means[("v", "k+v")] == pytest.approx(1 / math.sqrt(2))
    assert means[("q", "total")] == pytest.approx(1 / math.sqrt(5))  # total = (1, 2): the current records stay
    assert len(means) == 8


def test_plain_correlation_has_no_pairs():
    module = captured_module(q=[1.0, 0.0], k=[0.0, 1.0], v=[1.0, 1.0])
    assert set(by_panel(branch_cosine_histograms([module], bins=10))) == {("q", "total"), ("k", "total"),
                                                                          ("v", "total")}


def test_a_real_skip_module_records_its_pairs_from_its_own_gradients():
    torch.manual_seed(0)
    module = RegionFormulation(6, 6, correlation="skip")
    module.capture_branches = True
    x = torch.randn(2, 6, 8, 8, requires_grad=True)  # (B, C, h, w)
    labels = (torch.arange(64).view(8, 8) // 16).expand(2, 8, 8).contiguous()  # (B, h, w): four bands
    (module(x, labels) ** 2).sum().backward()
    records = branch_cosine_histograms([module], bins=20)
    grads = {name: module.captured[name].grad for name in ("q", "skip")}  # (B, K, C)
    expected = F.cosine_similarity(grads["q"], grads["q"] + grads["skip"], dim=-1)[module.captured["region_mask"]]
    pair = next(r for r in records if r["branch"] == "q" and r["against"] == "q+skip")
    assert pair["mean"] == pytest.approx(float(expected.mean()), rel=1e-5) and pair["points"] == 8
    assert sum(pair["counts"]) == 8


def test_metric_names_keep_the_old_keys_and_tell_pairs_apart():
    names = {cosine_metric_name({"module": 1, "branch": b, "against": a})
             for b, a in (("q", "total"), ("q", "q+skip"), ("skip", "q+skip"))}
    assert names == {"grad_cos/m1/q", "grad_cos/m1/q_vs_q_skip", "grad_cos/m1/skip_vs_q_skip"}
    assert cosine_metric_name({"module": 0, "branch": "v"}) == "grad_cos/m0/v"  # records without "against"


def test_figure_has_one_row_per_seed(tmp_path):
    module = captured_module(q=[1.0, 0.0], k=[1.0, 0.0], v=[-1.0, 1.0], skip=[0.0, 1.0])
    records = [{"step": step, **r} for step in (1, 2) for r in branch_cosine_histograms([module], bins=20)]
    old = [{k: v for k, v in r.items() if k != "against"} for r in records if r["against"] == "total"]
    assert _cosine_panels(records)[:4] == [("q", "total"), ("k", "total"), ("v", "total"), ("skip", "total")]
    assert _cosine_panels(records)[4:] == [("k", "k+v"), ("v", "k+v"), ("q", "q+skip"), ("skip", "q+skip")]
    assert _cosine_panels(old) == _cosine_panels(records)[:4]
    heights = []
    for runs in ({"skip_correlation, seed0": records}, {"skip_correlation, seed0": records,
                                                      "skip_correlation, seed1": records, "full, seed0": old}):
        path = tmp_path / f"rows{len(runs)}.png"
        grad_cosine_figure(runs, path)
        heights.append(np.asarray(Image.open(path)).shape[0])
    assert heights[1] > 2.5 * heights[0]
