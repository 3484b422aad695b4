# Data stage: illustrations (procedural or your own folder) → sketches (XDoG, clean, rough) → statistics.


rule prepare_illustrations:
    wildcard_constraints:
        split="train|test",
    output:
        illustrations="results/data/{split}/illustrations.npz",
    params:
        data=lookup(dpath="data", within=config),
        mlflow_experiment=MLFLOW_EXPERIMENT,
    log:
        "logs/prepare_illustrations/{split}.log",
    benchmark:
        "benchmarks/prepare_illustrations/{split}.tsv"
    conda:
        ENV
    script:
        "../scripts/prepare_illustrations.py"


rule make_sketches:
    wildcard_constraints:
        split="train|test",
        style="xdog|clean|rough",
    input:
        illustrations="results/data/{split}/illustrations.npz",
    output:
        sketches="results/data/{split}/sketch_{style}.npz",
    params:
        sketch=lookup(dpath="sketch", within=config),
        seed=lookup(dpath="data/seed", within=config),
    log:
        "logs/make_sketches/{split}_{style}.log",
    benchmark:
        "benchmarks/make_sketches/{split}_{style}.tsv"
    conda:
        ENV
    script:
        "../scripts/make_sketches.py"


rule data_statistics:
    input:
        illustrations=expand("results/data/{split}/illustrations.npz", split=["train", "test"]),
    output:
        stats="results/data/stats.csv",
        histogram=report(
            "results/figures/region_counts.png",
            caption="../report/region_counts.rst",
            category="Data",
        ),
    params:
        splits=["train", "test"],
        mlflow_experiment=MLFLOW_EXPERIMENT,
    log:
        "logs/data_statistics/all.log",
    conda:
        ENV
    script:
        "../scripts/data_statistics.py"


rule data_contact_sheet:
    input:
        illustrations="results/data/test/illustrations.npz",
        sketches=expand("results/data/test/sketch_{style}.npz", style=["xdog", "clean", "rough"]),
    output:
        sheet=report(
            "results/figures/data_samples.png",
            caption="../report/data_samples.rst",
            category="Data",
        ),
    params:
        styles=["xdog", "clean", "rough"],
        n_samples=6,
    log:
        "logs/data_contact_sheet/all.log",
    conda:
        ENV
    script:
        "../scripts/data_contact_sheet.py"


rule import_real_sketches:
    output:
        sketches="results/data/real/sketch_real.npz",
    params:
        data=lookup(dpath="data", within=config),
    log:
        "logs/import_real_sketches/real.log",
    conda:
        ENV
    script:
        "../scripts/import_real_sketches.py"
