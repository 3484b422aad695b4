"""The paper's figures from workflow outputs: qualitative grids (Figs. 5, 7), colourisations per region source and
patch size next to their region maps (Figs. 9, 10), multi-colourisation and latent interpolation (Fig. 8),
gradient-cosine histograms (Figs. 12, 13)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from rasc.plotting import image_grid, pyplot, save_figure
from rasc.regions.labels import random_colour_preview


def qualitative_figure(
    sketches: np.ndarray, colorized: Mapping[str, np.ndarray], ground_truth: np.ndarray | None, path: str | Path,
    test_set: str, n_sketches: int, column_titles: Sequence[str] | None = None, footnote: str = "",
) -> None:
    """Paper Figs. 5/7: one row per method (sketch first, ground truth last), one column per sketch.

    ``ground_truth`` None (real sketches, test set R) drops the last row and says so in the title; ``column_titles``
    (e.g. the sketches' file names) default to ``#0``, ``#1``, ...
    """
    n = min(n_sketches, len(sketches))
    rows = [list(sketches[:n])] + [list(images[:n]) for images in colorized.values()]
    titles = ["sketch", *colorized]
    title = f"Test set {test_set}: default colourings (predicted w)"
    if ground_truth is not None:
        rows.append(list(ground_truth[:n]))
        titles.append("ground truth")
    else:
        title += ", no ground truth"
    names = [str(name) for name in column_titles[:n]] if column_titles is not None else [f"#{i}" for i in range(n)]
    columns = [name if len(name) <= 16 else name[:15] + "…" for name in names]  # a column is 1.6 in wide
    image_grid(rows, titles, columns, path, title, footnote=footnote)


def _check_like_sketches(name: str, images: np.ndarray, sketches: np.ndarray, colour: bool) -> None:
    """Raise a ValueError naming ``name`` unless ``images`` is (N, H, W) — (N, H, W, 3) if ``colour`` — like the sketches."""
    expected = (*sketches.shape, 3) if colour else sketches.shape
    if images.shape != expected:
        raise ValueError(f"{name} has shape {images.shape}, expected {expected} to match the sketches")


def region_comparison_panels(
    sketches: np.ndarray,
    colorized: Mapping[str, np.ndarray],
    region_maps: Mapping[str, np.ndarray],
    sources: Mapping[str, str],
    ground_truth: np.ndarray | None,
    n_sketches: int,
) -> tuple[list[list[np.ndarray]], list[str]]:
    """The panels of paper Figs. 9/10: rows of images and the column titles, checked for consistent inputs.

    sketches (N, H, W) uint8; colorized: experiment → (N, H, W, 3) uint8 default colourings; region_maps: region
    source → (N, H, W) integer labels of the same sketches; sources: experiment → the region source it was trained
    and evaluated with (its order is the column order); ground_truth (N, H, W, 3) uint8 or None (real sketches).
    One row per sketch (the first ``n_sketches``): sketch, then per experiment its colouring and its region map
    (random colour per region), ground truth last.
    """
    if sketches.ndim != 3:
        raise ValueError(f"sketches must be (N, H, W) grey images, got shape {sketches.shape}")
    if set(colorized) != set(sources):
        raise ValueError(
            f"colourings of {sorted(colorized)} but region sources of {sorted(sources)}: they must name the same experiments"
        )
    missing = sorted({source for source in sources.values() if source not in region_maps})
    if missing:
        raise ValueError(f"no region maps of source(s) {missing}; given {sorted(region_maps)}")
    for experiment, source in sources.items():
        _check_like_sketches(f"colourings of {experiment!r}", colorized[experiment], sketches, colour=True)
        _check_like_sketches(f"region maps of {source!r}", region_maps[source], sketches, colour=False)
    if ground_truth is not None:
        _check_like_sketches("ground truth", ground_truth, sketches, colour=True)
    rows = []
    for i in range(min(n_sketches, len(sketches))):
        row = [sketches[i]]  # (H, W) grey
        for experiment, source in sources.items():
            row += [colorized[experiment][i], random_colour_preview(region_maps[source][i], seed=i)]  # 2 × (H, W, 3)
        rows.append(row + ([ground_truth[i]] if ground_truth is not None else []))
    titles = ["sketch"]
    for experiment, source in sources.items():
        titles += [f"{experiment}\ncolouring", f"{source}\nregion map"]
    return rows, titles + (["ground truth"] if ground_truth is not None else [])


def region_comparison_figure(
    sketches: np.ndarray,
    colorized: Mapping[str, np.ndarray],
    region_maps: Mapping[str, np.ndarray],
    sources: Mapping[str, str],
    ground_truth: np.ndarray | None,
    path: str | Path,
    title: str,
    n_sketches: int,
    footnote: str = "",
) -> None:
    """Paper Figs. 9/10: one row per sketch, per experiment its colouring next to its region map.

    Arguments as in `region_comparison_panels`; Fig. 9 compares region sources (trapped-ball, learned), Fig. 10
    fixed patch grids against trapped-ball. ``footnote`` (a licence notice) goes below.
    """
    rows, titles = region_comparison_panels(sketches, colorized, region_maps, sources, ground_truth, n_sketches)
    image_grid(rows, [f"#{i}" for i in range(len(rows))], titles, path, title, footnote=footnote)


def multicolor_figure(sketch: np.ndarray, samples: np.ndarray, interpolation: np.ndarray, path: str | Path,
                      footnote: str = "", prior: str | None = None) -> None:
    """Paper Fig. 8: colourings of one sketch from random w (top row), interpolation between two w (bottom row);
    ``prior`` names the style prior the random w came from in the row label."""
    rows = [[sketch, *samples], [sketch, *interpolation]]
    image_grid(
        rows,
        [f"random w ({prior} prior)" if prior else "random w", "w0 → w1"],
        ["sketch"] + [f"{i}" for i in range(max(len(samples), len(interpolation)))],
        path,
        "Multi-colourisation of one sketch (top) and latent interpolation (bottom)",
        footnote=footnote,
    )


_BRANCH_ORDER = ("q", "k", "v", "skip")


def _cosine_panels(records: list[dict]) -> list[tuple[str, str]]:
    """The (branch, against) panels of one run: each branch against the total (Fig. 12), then the pairs (Fig. 13).

    Records written before the pairs existed have no ``against``: they are against the total.
    """
    panels = {(r["branch"], r.get("against", "total")) for r in records}
    return sorted(panels, key=lambda p: (p[1] != "total", p[1], _BRANCH_ORDER.index(p[0])))


def _cosine_title(branch: str, against: str) -> str:
    """``cos(g_q, g_total)`` or ``cos(g_q, g_q + g_skip)``."""
    total = "g_total" if against == "total" else " + ".join(f"g_{name}" for name in against.split("+"))
    return f"cos(g_{branch}, {total})"


def grad_cosine_figure(records_by_run: Mapping[str, list[dict]], path: str | Path) -> None:
    """Paper Figs. 12/13: one row per run (an experiment and seed, e.g. ``"full, seed0"``), one column per panel:
    the histogram of cos(g_branch, g_total) over training steps for each branch, then, for the skip correlation,
    each member of the paper's pairs against the pair's sum (``cos(g_q, g_q + g_skip)``, ...)."""
    plt = pyplot()
    rows = [(run, _cosine_panels(records)) for run, records in records_by_run.items() if records]
    if not rows:
        figure, axis = plt.subplots(figsize=(4, 2))
        axis.text(0.5, 0.5, "no gradient-cosine records (train.grad_cos_every = 0?)", ha="center", va="center")
        axis.axis("off")
        save_figure(figure, path)
        return
    columns = max(len(panels) for _, panels in rows)
    figure, axes = plt.subplots(len(rows), columns, figsize=(3.2 * columns, 2.8 * len(rows)), squeeze=False)
    for row_axes, (run, panels) in zip(axes, rows):
        for axis in row_axes[len(panels):]:
            axis.axis("off")
        for axis, (branch, against) in zip(row_axes, panels):
            records = [r for r in records_by_run[run] if r["branch"] == branch and r.get("against", "total") == against]
            steps = sorted({r["step"] for r in records})
            edges = np.asarray(records[0]["bin_edges"])
            counts = np.array([np.sum([r["counts"] for r in records if r["step"] == s], axis=0) for s in steps], float)
            counts /= np.maximum(counts.sum(axis=1, keepdims=True), 1)  # (steps, bins) fractions
            axis.imshow(counts, aspect="auto", origin="lower", extent=(edges[0], edges[-1], steps[0], steps[-1] + 1),
                        cmap="viridis")
            axis.set_title(_cosine_title(branch, against), fontsize=8)
            axis.set_xlabel("cosine", fontsize=7)
        row_axes[0].set_ylabel(f"{run}\ntraining step", fontsize=8)
    figure.suptitle("Gradient-cosine histograms in region correlation, one row per run and seed (fraction of entries "
                    "per step)", fontsize=9)
    figure.tight_layout()
    save_figure(figure, path)


class SeedBand(NamedTuple):
    """One quantity of a run's learning curves over its seeds, at the steps every seed has reached."""

    steps: np.ndarray  # (S,) training steps
    mean: np.ndarray  # (S,) mean over the seeds
    low: np.ndarray  # (S,) smallest value of any seed
    high: np.ndarray  # (S,) largest value of any seed
    seeds: int  # seeds with points for this quantity


def seed_band(curves_by_seed: Sequence[Sequence[Mapping]], key: str) -> SeedBand:
    """Mean, smallest and largest ``key`` over the seeds' learning-curve points (:mod:`rasc.validation`), at the
    steps every seed with points has (a run still training has fewer); a seed without points is left out."""
    values_by_seed = [{point["step"]: point[key] for point in points if key in point} for points in curves_by_seed]
    values_by_seed = [values for values in values_by_seed if values]
    if not values_by_seed:
        empty = np.zeros(0)
        return SeedBand(empty, empty, empty, empty, 0)
    steps = sorted(set.intersection(*(set(values) for values in values_by_seed)))
    table = np.array([[values[step] for step in steps] for values in values_by_seed], dtype=float).reshape(
        len(values_by_seed), len(steps))  # (seeds, S)
    return SeedBand(np.array(steps), table.mean(axis=0), table.min(axis=0), table.max(axis=0), len(values_by_seed))


def _draw_band(axis, band: SeedBand, colour: str, label: str, linestyle: str = "-") -> None:
    """The seeds' mean as a line and, with more than one seed, their range as a shaded band."""
    if band.seeds > 1:
        if not label.startswith("_"):
            label = f"{label} ({band.seeds} seeds)"
        axis.fill_between(band.steps, band.low, band.high, color=colour, alpha=0.15, linewidth=0)
    axis.plot(band.steps, band.mean, color=colour, linestyle=linestyle, label=label)


def _top_after_start(bands: Sequence[SeedBand]) -> float | None:
    """A y-axis top that shows every band after its first point (the untrained generator's score, far above the
    rest, would squeeze the curves into the bottom of the panel); None without such points."""
    highs = [float(band.high[1:].max()) for band in bands if len(band.steps) > 1]
    return 1.1 * max(highs) if highs else None


def learning_curves_figure(curves_by_run: Mapping[str, Sequence[Sequence[Mapping]]], path: str | Path,
                           title: str = "Learning curves on a fixed test-set-A subset (EMA generator at every snapshot)",
                           ) -> None:
    """Learning curves (:mod:`rasc.validation`): per run (each a list of its seeds' curve points), the validation
    colour error (predicted w, solid; oracle w, dashed) and bleeding over training steps, the mean over the seeds
    with their range shaded where there are several, and the flat-colour reference as a grey line."""
    plt = pyplot()
    figure, (error_axis, bleeding_axis) = plt.subplots(1, 2, figsize=(10, 3.6))
    constant, error_bands, bleeding_bands, oracle_drawn = [], [], [], False
    for index, (run, curves_by_seed) in enumerate(curves_by_run.items()):
        colour = f"C{index}"
        predicted = seed_band(curves_by_seed, "val/colour_error")
        if not predicted.seeds:
            continue
        _draw_band(error_axis, predicted, colour, run)
        oracle = seed_band(curves_by_seed, "val/oracle_colour_error")
        if oracle.seeds:
            _draw_band(error_axis, oracle, colour, "_oracle", linestyle="--")
            oracle_drawn = True
        bleeding = seed_band(curves_by_seed, "val/bleeding")
        _draw_band(bleeding_axis, bleeding, colour, run)
        error_bands += [predicted, oracle]
        bleeding_bands.append(bleeding)
        reference = seed_band(curves_by_seed, "val/constant_colour_error")
        if len(reference.steps):
            constant.append(float(reference.mean[0]))
    if oracle_drawn:
        error_axis.plot([], [], color="black", linestyle="--", label="dashed: oracle w")
    if constant:
        error_axis.axhline(float(np.mean(constant)), color="grey", linewidth=1, label="reference:constant")
        error_axis.set_ylim(bottom=0, top=max(1.2 * float(np.mean(constant)), _top_after_start(error_bands) or 0))
    else:
        error_axis.text(0.5, 0.5, "no learning-curve points (eval.curve_images = 0?)", ha="center", va="center",
                        transform=error_axis.transAxes)
    bleeding_top = _top_after_start(bleeding_bands)
    if bleeding_top:
        bleeding_axis.set_ylim(bottom=0, top=bleeding_top)
    error_axis.set(xlabel="training step", ylabel="region colour error (ΔE, lower is better)")
    bleeding_axis.set(xlabel="training step", ylabel="bleeding (ΔE, lower is better)")
    error_axis.legend(fontsize=6)
    bleeding_axis.legend(fontsize=6)
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    save_figure(figure, path)
