# Region-map stage: trapped-ball, the learned DanbooRegion-style extractor and fixed patches, each timed and
# scored against the ground-truth regions.


rule train_region_net:
    input:
        illustrations="results/data/train/illustrations.npz",
        sketches="results/data/train/sketch_xdog.npz",
    output:
        model="results/regions/learned_model.pt",
    log:
        "logs/train_region_net/train.log",
    benchmark:
        "benchmarks/train_region_net/train.tsv"
    conda:
        ENV
    resources:
        gpu=get_gpu_request(),
    params:
        learned=lookup(dpath="regions/learned", within=config),
        mlflow_experiment=MLFLOW_EXPERIMENT,
    script:
        "../scripts/train_region_net.py"


rule region_maps:
    input:
        unpack(get_region_map_inputs),
    output:
        labels="results/regions/{source}/{split}_{style}.npz",
        timing="results/regions/{source}/{split}_{style}_timing.csv",
    log:
        "logs/region_maps/{source}/{split}_{style}.log",
    benchmark:
        "benchmarks/region_maps/{source}/{split}_{style}.tsv"
    conda:
        ENV
    script:
        "../scripts/region_maps.py"


rule region_summary:
    input:
        unpack(get_region_summary_inputs),
    output:
        timing="results/regions/timing.csv",
        quality="results/regions/quality.csv",
        figure=report(
            "results/figures/region_sources.png",
            caption="../report/region_sources.rst",
            category="Region maps",
        ),
    log:
        "logs/region_summary/all.log",
    conda:
        ENV
    params:
        footnote=FIGURE_FOOTNOTE,
        entries=get_region_summary_entries(),
        ground_truth_splits=get_ground_truth_splits(),
        tolerance=lookup(dpath="regions/quality_tolerance", within=config),
    script:
        "../scripts/region_summary.py"
