"""Gradient cosines between the Region Formulation branches (paper §IV-G, Figs. 12–13), read after ``backward()``."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn


BRANCH_PAIRS = (("q", "skip"), ("k", "v"))  # paper Fig. 13: the branches leaving X_u (q, skip) and X_v (k, v)
TOTAL = "total"  # the ``against`` of a branch compared with the sum of all branches (paper Fig. 12)


def _cosine_record(grad: Tensor, against: Tensor, mask: Tensor, bins: int) -> dict[str, Any]:
    """Histogram over [-1, 1] of the row-wise cos(grad, against), grad and against (B, K, C), over the rows of
    ``mask`` (B, K) where neither vanishes."""
    valid = mask & (against.norm(dim=-1) > 0) & (grad.norm(dim=-1) > 0)  # (B, K)
    cosine = F.cosine_similarity(grad, against, dim=-1)[valid].float().cpu()  # (R,)
    counts = torch.histc(cosine.clamp(-1, 1), bins=bins, min=-1.0, max=1.0)  # (bins,)
    return {
        "counts": [int(c) for c in counts.tolist()],
        "points": int(len(cosine)),
        "mean": float(cosine.mean()) if len(cosine) else None,
        "bin_edges": [round(float(e), 6) for e in torch.linspace(-1, 1, bins + 1).tolist()],
    }


def branch_cosine_histograms(modules: list[nn.Module], bins: int) -> list[dict[str, Any]]:
    """Paper §IV-G: for each Region Formulation module, histograms over [-1, 1] of gradient cosines, one point per
    real region (row of the aggregated features) of the batch.

    g_b is branch b's share of the loss gradient w.r.t. the aggregated region features (the module's captured
    per-branch inputs, read after ``backward()``); rows where a gradient vanishes are left out. Records:

    - every branch b ∈ {q, k, v (, skip)} against the sum of all branches, cos(g_b, Σ_b' g_b') (Fig. 12;
      ``against`` = "total");
    - with the skip correlation, also the paper's pairs of Fig. 13, each member against the pair's sum:
      cos(g_q, g_q + g_skip) and cos(g_skip, g_q + g_skip) (the branches leaving X_u), cos(g_k, g_k + g_v) and
      cos(g_v, g_k + g_v) (leaving X_v); ``against`` = "q+skip" or "k+v". Here X_u and X_v are the same region
      features, so each pair's sum is a part of the total gradient.
    """
    records = []
    for index, module in enumerate(modules):
        captured = getattr(module, "captured", None)
        if not captured:
            continue
        names = [name for name in ("q", "k", "v", "skip") if name in captured]
        grads = {name: captured[name].grad for name in names}
        if any(g is None for g in grads.values()):
            continue
        mask = captured["region_mask"]  # (B, K)
        total = torch.stack([grads[name] for name in names]).sum(dim=0)  # (B, K, C)
        comparisons = [(name, TOTAL, total) for name in names]
        if "skip" in grads:
            comparisons += [(name, f"{a}+{b}", grads[a] + grads[b]) for a, b in BRANCH_PAIRS for name in (a, b)]
        for name, label, against in comparisons:
            records.append({"module": index, "channels": int(total.shape[-1]), "branch": name, "against": label,
                            **_cosine_record(grads[name], against, mask, bins)})
    return records


def cosine_metric_name(record: dict[str, Any]) -> str:
    """The MLflow metric of one record's mean: ``grad_cos/m<module>/<branch>`` against the total (as before the
    pairs existed), ``grad_cos/m<module>/<branch>_vs_<a>_<b>`` against a pair's sum."""
    against = record.get("against", TOTAL)
    suffix = "" if against == TOTAL else "_vs_" + against.replace("+", "_")
    return f"grad_cos/m{record['module']}/{record['branch']}{suffix}"
