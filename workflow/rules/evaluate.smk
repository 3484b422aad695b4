# Evaluation stage: FID (pytorch-fid) and the measured MOS proxies of DESIGN §6 per experiment, seed and test set.


rule fid_backbone:
    input:
        illustrations="results/data/train/illustrations.npz",
        reference="results/data/test/illustrations.npz",
    output:
        backbone="results/eval/fid_backbone.pt",
        reference="results/eval/fid_reference.npz",
        floor="results/eval/fid_floor.json",
    log:
        "logs/fid_backbone/backbone.log",
    benchmark:
        "benchmarks/fid_backbone/backbone.tsv"
    conda:
        ENV
    resources:
        gpu=get_gpu_request(),
    params:
        weights=lookup(dpath="eval/fid_weights", within=config),
        dims=lookup(dpath="eval/fid_dims", within=config),
        calibration_images=lookup(dpath="eval/fid_calibration_images", within=config),
        device=lookup(dpath="train/device", within=config),
    script:
        "../scripts/fid_backbone.py"


rule fid_floor_real:
    input:
        backbone="results/eval/fid_backbone.pt",
        reference="results/eval/fid_reference.npz",
        illustrations="results/data/train/illustrations.npz",
        sketches="results/data/real/sketch_real.npz",
    output:
        floor="results/eval/fid_floor_real.json",
    log:
        "logs/fid_floor_real/real.log",
    conda:
        ENV
    resources:
        gpu=get_gpu_request(),
    params:
        device=lookup(dpath="train/device", within=config),
    script:
        "../scripts/fid_floor_real.py"


rule evaluate_model:
    input:
        unpack(get_evaluation_inputs),
    output:
        metrics="results/eval/{experiment}/seed{seed}/{testset}/metrics.json",
        colorized="results/eval/{experiment}/seed{seed}/{testset}/colorized.npz",
    log:
        "logs/evaluate_model/{experiment}_seed{seed}_{testset}.log",
    benchmark:
        "benchmarks/evaluate_model/{experiment}_seed{seed}_{testset}.tsv"
    conda:
        ENV
    resources:
        gpu=get_gpu_request(),
    params:
        diversity_samples=lookup(dpath="eval/diversity_samples", within=config),
        style_prior=lookup(dpath="eval/style_prior", within=config),
        device=lookup(dpath="train/device", within=config),
        mlflow_experiment=MLFLOW_EXPERIMENT,
    script:
        "../scripts/evaluate_model.py"


rule evaluate_reference:
    input:
        unpack(get_reference_inputs),
    output:
        metrics="results/eval/reference_{kind}/{testset}/metrics.json",
        colorized="results/eval/reference_{kind}/{testset}/colorized.npz",
    log:
        "logs/evaluate_reference/{kind}_{testset}.log",
    wildcard_constraints:
        kind="|".join(REFERENCES),
    conda:
        ENV
    resources:
        gpu=get_gpu_request(),
    params:
        device=lookup(dpath="train/device", within=config),
        mlflow_experiment=MLFLOW_EXPERIMENT,
    script:
        "../scripts/evaluate_reference.py"


# The evaluation of the claims' own trainings (claims.steps set), under results/claims/.
use rule evaluate_model as evaluate_claims_model with:
    input:
        unpack(get_claims_evaluation_inputs),
    output:
        metrics="results/claims/eval/{experiment}/seed{seed}/{testset}/metrics.json",
        colorized="results/claims/eval/{experiment}/seed{seed}/{testset}/colorized.npz",
    log:
        "logs/evaluate_claims_model/{experiment}_seed{seed}_{testset}.log",
    benchmark:
        "benchmarks/evaluate_claims_model/{experiment}_seed{seed}_{testset}.tsv"
