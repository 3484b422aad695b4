# Region-map stage: trapped-ball, the learned DanbooRegion-style extractor and fixed patches, each timed and
# scored against the ground-truth regions.


# {net}: learned (trained on regions.learned.train_styles, default XDoG only) or learned_all_styles (XDoG, clean
# and rough line art: the styles of test sets A, B and C).
rule train_region_net:
    input:
        illustrations="results/data/train/illustrations.npz",
        sketches="results/data/train/sketch_xdog.npz",
    output:
        model="results/regions/{net}_model.pt",
    log:
        "logs/train_region_net/{net}.log",
    benchmark:
        "benchmarks/train_region_net/{net}.tsv"
    wildcard_constraints:
        net="learned|learned_all_styles",
    priority: 20  # trainings on learned regions wait for it
    conda:
        ENV
    resources:
        gpu=get_gpu_request(),
    params:
        learned=get_region_net_settings,
        train_styles=get_region_net_styles,
        device=lookup(dpath="train/device", within=config),
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
    priority: 20  # trainings wait for their region maps
    conda:
        ENV
    resources:
        gpu=get_region_map_gpu_request,
    params:
        trapped_ball_radii=lookup(dpath="regions/trapped_ball_radii", within=config),
        device=lookup(dpath="train/device", within=config),
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
