"""Snakemake adapter: timing and quality tables of every region source, and the comparison figure."""

import pandas as pd

from rasc.data.prepare import load_npz
from rasc.data.stats import write_csv
from rasc.logs import script_logging
from rasc.regions.build import quality_rows, summary_table
from rasc.regions.figures import region_sources_figure

with script_logging(snakemake.log[0]) as log:
    timing = pd.concat([pd.read_csv(path) for path in snakemake.input.timings])
    write_csv(summary_table(timing.to_dict("records")), snakemake.output.timing)
    # Ground-truth regions of the splits that have them; real sketches (test set R) are timed but not scored.
    ground_truth = {split: load_npz(path) for split, path in zip(snakemake.params.ground_truth_splits, snakemake.input.illustrations)}
    rows, maps = [], {}
    for (source, split, style), labels_path in zip(snakemake.params.entries, snakemake.input.labels):
        illustrations = ground_truth.get(split, {})
        labels = load_npz(labels_path)["labels"]
        maps[(source, split, style)] = labels
        if "regions" in illustrations:
            tolerance_px = snakemake.params.tolerance * labels.shape[-1]
            rows.append(quality_rows(source, split, style, labels, illustrations["regions"], tolerance_px))
    quality = summary_table(rows)
    write_csv(quality, snakemake.output.quality)
    log.info("quality:\n%s", quality.to_string(index=False))
    region_sources_figure(
        sketches=load_npz(snakemake.input.figure_sketches)["sketch"],
        maps={source: labels for (source, split, style), labels in maps.items() if (split, style) == ("test", "xdog")},
        illustrations=load_npz("results/data/test/illustrations.npz"),
        path=snakemake.output.figure,
        footnote=snakemake.params.footnote,
    )
