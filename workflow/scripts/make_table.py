"""Snakemake adapter: one of the paper's tables (rule make_table)."""

import pandas as pd

from rasc.data.stats import write_csv
from rasc.imageio import atomic_path
from rasc.logs import script_logging
from rasc.tables import (
    add_region_timing,
    collect_metrics,
    describe_data_source,
    describe_test_sets,
    summarise,
    to_markdown,
    with_data_source,
)

CAPTIONS = {
    "1": "Table 1: methods on test sets {test_sets}.",
    "2": "Table 2: the CWR-style baseline and the ablation of region guidance (w/o region maps, w/o region formulation, full).",
    "3": "Table 3: region-map sources, with each source's measured sec/img.",
    "4": "Table 4: fixed patch grids against trapped-ball regions.",
}

with script_logging(snakemake.log[0]) as log:
    number, source = snakemake.wildcards.table, snakemake.params.data_source
    table = summarise(collect_metrics(snakemake.input.metrics), snakemake.params.experiments)
    if number == "3":
        table = add_region_timing(table, snakemake.params.regions, pd.read_csv(snakemake.input.timing[0]))
    table = with_data_source(table, source)
    write_csv(table, snakemake.output.table)
    caption = CAPTIONS.get(number, f"Table {number}").format(test_sets=describe_test_sets(table["test_set"], source))
    caption += " " + describe_data_source(source)
    with atomic_path(snakemake.output.markdown) as temporary:
        temporary.write_text(to_markdown(table, caption))
    log.info("%s\n%s", caption, table.to_string(index=False))
