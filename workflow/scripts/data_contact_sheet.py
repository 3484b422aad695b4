"""Snakemake adapter: the contact sheet of illustrations, sketches and regions (rule data_contact_sheet)."""

from rasc.data.prepare import load_npz
from rasc.data.stats import contact_sheet
from rasc.logs import script_logging

with script_logging(snakemake.log[0]):
    illustrations = load_npz(snakemake.input.illustrations)
    sketches = {style: load_npz(path)["sketch"] for style, path in zip(snakemake.params.styles, snakemake.input.sketches)}
    contact_sheet(illustrations, sketches, snakemake.output.sheet, n_samples=snakemake.params.n_samples,
                  footnote=snakemake.params.footnote)
