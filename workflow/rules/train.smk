# Training stage: one job per experiment (full model, ablations, region sources, patches) and training seed.
# Snapshots under results/train/{experiment}/seed{seed}/snapshots/ are deliberately undeclared: a killed job
# keeps them, and rerunning the rule resumes from the last one.


rule train_model:
    input:
        unpack(get_training_inputs),
    output:
        generator="results/train/{experiment}/seed{seed}/generator.pt",
        run="results/train/{experiment}/seed{seed}/run.json",
    log:
        "logs/train_model/{experiment}_seed{seed}.log",
    benchmark:
        "benchmarks/train_model/{experiment}_seed{seed}.tsv"
    priority: get_training_priority  # 10-12, longest first: every training starts before any evaluation takes a core
    conda:
        ENV
    threads: get_training_threads
    resources:
        gpu=get_training_gpu_request,
    params:
        settings=get_experiment_settings,
        image_size=lookup(dpath="data/size", within=config),
        mlflow_experiment=MLFLOW_EXPERIMENT,
    script:
        "../scripts/train_model.py"


# The claims' own trainings when claims.steps is set (rasc.config.claims_train_steps): the same rule at that length,
# under results/claims/, so that the claims verdict can be a shorter run than table 1's (config/README.md).
use rule train_model as train_claims_model with:
    output:
        generator="results/claims/train/{experiment}/seed{seed}/generator.pt",
        run="results/claims/train/{experiment}/seed{seed}/run.json",
    log:
        "logs/train_claims_model/{experiment}_seed{seed}.log",
    benchmark:
        "benchmarks/train_claims_model/{experiment}_seed{seed}.tsv"
    params:
        settings=get_claims_experiment_settings,
