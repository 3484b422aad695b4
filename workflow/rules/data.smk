# Data stage: illustrations (procedural or your own folder) → their known valid colourings (test split) → sketches
# (XDoG, clean, rough) → statistics.


rule prepare_illustrations:
    output:
        illustrations="results/data/{split}/illustrations.npz",
    log:
        "logs/prepare_illustrations/{split}.log",
    benchmark:
        "benchmarks/prepare_illustrations/{split}.tsv"
    wildcard_constraints:
        split="train|test",
    conda:
        ENV
    params:
        data=illustration_settings(config["data"]),
        mlflow_experiment=MLFLOW_EXPERIMENT,
    script:
        "../scripts/prepare_illustrations.py"


rule prepare_alternatives:
    input:
        illustrations="results/data/test/illustrations.npz",
    output:
        alternatives="results/data/test/alternatives.npz",
    log:
        "logs/prepare_alternatives/test.log",
    benchmark:
        "benchmarks/prepare_alternatives/test.tsv"
    conda:
        ENV
    params:
        data=illustration_settings(config["data"]),
        alternatives=lookup(dpath="eval/alternatives", within=config),
    script:
        "../scripts/prepare_alternatives.py"


rule make_sketches:
    input:
        illustrations="results/data/{split}/illustrations.npz",
    output:
        sketches="results/data/{split}/sketch_{style}.npz",
    log:
        "logs/make_sketches/{split}_{style}.log",
    benchmark:
        "benchmarks/make_sketches/{split}_{style}.tsv"
    wildcard_constraints:
        split="train|test",
        style="xdog|clean|rough",
    priority: 20  # trainings and their region maps wait for the sketches (before the FID backbone takes a core)
    conda:
        ENV
    params:
        sketch=lookup(dpath="sketch", within=config),
        seed=lookup(dpath="data/seed", within=config),
    script:
        "../scripts/make_sketches.py"


rule data_statistics:
    input:
        illustrations=expand(
            "results/data/{split}/illustrations.npz", split=["train", "test"]
        ),
    output:
        stats="results/data/stats.csv",
        histogram=report(
            "results/figures/region_counts.png",
            caption="../report/region_counts.rst",
            category="Data",
        ),
    log:
        "logs/data_statistics/all.log",
    conda:
        ENV
    params:
        splits=["train", "test"],
        mlflow_experiment=MLFLOW_EXPERIMENT,
    script:
        "../scripts/data_statistics.py"


rule data_contact_sheet:
    input:
        illustrations="results/data/test/illustrations.npz",
        sketches=expand(
            "results/data/test/sketch_{style}.npz", style=["xdog", "clean", "rough"]
        ),
    output:
        sheet=report(
            "results/figures/data_samples.png",
            caption="../report/data_samples.rst",
            category="Data",
        ),
    log:
        "logs/data_contact_sheet/all.log",
    conda:
        ENV
    params:
        footnote=FIGURE_FOOTNOTE,
        styles=["xdog", "clean", "rough"],
        n_samples=6,
    script:
        "../scripts/data_contact_sheet.py"


rule import_real_sketches:
    input:
        files=get_real_sketch_files,
    output:
        sketches="results/data/real/sketch_real.npz",
    log:
        "logs/import_real_sketches/real.log",
    conda:
        ENV
    params:
        size=lookup(dpath="data/size", within=config),
        folder=lookup(dpath="data/folder", within=config),
    script:
        "../scripts/import_real_sketches.py"
