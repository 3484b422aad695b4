# Python helpers of the workflow: config validation, wildcard constraints, and input/output functions.

import sys

from rasc.claim_specs import claim_experiments, paper_claims
from rasc.config import (
    ConfigError,
    check_device,
    check_paths,
    claims_config,
    claims_train_steps,
    experiment_config,
    training_params,
    validate_config,
)
from rasc.data.attribution import figure_footnote
from rasc.data.prepare import (
    REAL_SPLIT,
    TEST_SETS,
    drawn_from_test_split,
    illustration_settings,
    real_sketch_files,
)
from rasc.experiment import loss_regions_path, training_priority
from rasc.references import REFERENCES
from rasc.regions.sources import ALL_STYLES_SOURCE, LEARNED_SOURCES, TRAIN_STYLES
from rasc.tracking import init_tracking

try:
    validate_config(config)  # also applies run_experiments (config/README.md)
    check_paths(config)
except ConfigError as error:
    sys.exit(f"rasc: {error}")

ENV = "../../environment.yml"
# Where the claims' trainings and evaluations live: their own folder when claims.steps sets their length, else
# table 1's (results/train, results/eval), whose first seed they share.
CLAIMS_OWN_RESULTS = "results/claims"
CLAIMS_RESULTS = (
    CLAIMS_OWN_RESULTS if config["claims"]["steps"] is not None else "results"
)
MLFLOW_EXPERIMENT = "rasc"
# The licence notice of every figure (and its report caption) showing the data's images; "" when none is needed.
FIGURE_FOOTNOTE = figure_footnote(config["data"]["source"])


wildcard_constraints:
    split="train|test|real",
    style="xdog|clean|rough|real",
    source=r"trapped_ball|learned_all_styles|learned|patches_\d+",
    experiment=r"[A-Za-z0-9_]+",
    seed=r"\d+",
    testset="A|B|C|R",
    comparison="region_sources|patch_sizes",


def get_final_outputs():
    """What `snakemake` builds by default: table 1, the data and region summaries, and table 1's figures.

    Asked for by name, since they train more models: paper Figs. 9/10 (tables 3 and 4's experiments on the first
    seed) and the multi-seed targets (results/table2-4.csv, results/claims.csv).
    """
    outputs = [
        "results/table1.csv",
        "results/data/stats.csv",
        "results/figures/data_samples.png",
        "results/regions/quality.csv",
    ]
    outputs += expand(
        "results/figures/qualitative_{testset}.png", testset=config["eval"]["test_sets"]
    )
    outputs += ["results/figures/learning_curves.png"]
    if "full" in config["experiments"]:
        outputs += ["results/figures/multicolor.png", "results/figures/grad_cosine.png"]
    return outputs


def get_sketch_sets():
    """Every (split, style) pair that later stages read: training XDoG sketches and the configured test sets."""
    pairs = [("train", "xdog")]
    pairs += [TEST_SETS[name] for name in config["eval"]["test_sets"]]
    return sorted(set(pairs))


def check_before_jobs():
    """Run before any job starts (not in dry runs): a GPU where device cuda is asked for and jobs run on this
    machine (a cluster's nodes are not this machine), then the MLflow database and experiment, created once
    before jobs fan out (DESIGN §7)."""
    if workflow.local_exec:
        try:
            check_device(config)
        except ConfigError as error:
            sys.exit(f"rasc: {error}")
    init_tracking(MLFLOW_EXPERIMENT)


def region_sources():
    """Every region source some stage needs: the configured ones, the Table IV patches and the experiments'."""
    sources = list(config["regions"]["sources"])
    sources += [f"patches_{n}" for n in config["regions"]["patch_counts"]]
    sources += [
        experiment_config(config, name)["model"]["region_source"]
        for name in config["experiments"]
    ]
    return sorted(set(sources))


def gpu_request(device):
    """One GPU for a job on a CUDA device ("cuda", "cuda:N"), none otherwise."""
    return 1 if device.startswith("cuda") else 0


def get_gpu_request():
    """One GPU for the heavy jobs when training runs on CUDA, none otherwise."""
    return gpu_request(config["train"]["device"])


def get_training_threads(wildcards):
    """The experiment's own train.threads (an experiment may override the train section's)."""
    return experiment_config(config, wildcards.experiment)["train"]["threads"]


def get_training_gpu_request(wildcards):
    """One GPU when the experiment trains on CUDA (its own train.device), none otherwise."""
    device = experiment_config(config, wildcards.experiment)["train"]["device"]
    return gpu_request(device)


def get_region_map_gpu_request(wildcards):
    """The GPU request of a region-map job: only the learned sources run a network."""
    return get_gpu_request() if wildcards.source in LEARNED_SOURCES else 0


def get_region_map_inputs(wildcards):
    """The sketches of one split/style, and the learned extractor's checkpoint when the source is a learned one."""
    inputs = {
        "sketches": f"results/data/{wildcards.split}/sketch_{wildcards.style}.npz"
    }
    if wildcards.source in LEARNED_SOURCES:
        inputs["model"] = f"results/regions/{wildcards.source}_model.pt"
    return inputs


def get_region_net_settings(wildcards):
    """The RegionNetConfig fields of regions.learned (everything but train_styles)."""
    settings = dict(config["regions"]["learned"])
    settings.pop("train_styles")
    return settings


def get_region_net_styles(wildcards):
    """The sketch styles one learned extractor trains on: regions.learned.train_styles for `learned`, every style
    for `learned_all_styles`."""
    if wildcards.net == ALL_STYLES_SOURCE:
        return list(TRAIN_STYLES)
    return list(config["regions"]["learned"]["train_styles"])


def get_region_summary_entries():
    """(source, split, style) of every region map that is timed and scored."""
    return [
        (source, split, style)
        for source in region_sources()
        for split, style in get_sketch_sets()
    ]


def get_ground_truth_splits():
    """The splits of the region summary that have illustrations to score region maps against (not R's)."""
    splits = {split for _, split, _ in get_region_summary_entries()}
    return sorted(splits - {REAL_SPLIT})


def get_region_summary_inputs(wildcards):
    """Every region map and its timing, and the ground truth of the splits that have one."""
    entries = get_region_summary_entries()
    return {
        "labels": [f"results/regions/{so}/{sp}_{st}.npz" for so, sp, st in entries],
        "timings": [
            f"results/regions/{so}/{sp}_{st}_timing.csv" for so, sp, st in entries
        ],
        "illustrations": [
            f"results/data/{split}/illustrations.npz"
            for split in get_ground_truth_splits()
        ],
        "figure_sketches": "results/data/test/sketch_xdog.npz",
    }


def get_experiment_settings(wildcards):
    """What a finished training depends on (rasc.config.training_params): another thread count, device, logging
    interval or seed list does not rerun it."""
    return training_params(config, wildcards.experiment)


def get_claims_experiment_settings(wildcards):
    """What a claims training depends on: get_experiment_settings at claims.steps (rule train_claims_model)."""
    return training_params(
        claims_config(config, wildcards.experiment), wildcards.experiment
    )


def get_training_priority(wildcards):
    """Longest trainings first (rasc.experiment.training_priority)."""
    return training_priority(config, wildcards.experiment)


def get_training_inputs(wildcards):
    """Training illustrations, their XDoG sketches, and the region maps of the experiment's source; the same of
    the test split for the learning curves (eval.curve_images sketches of test set A, monitoring only); with
    train.l1_region_power > 0 also the trapped-ball maps that weight the pixel L1.
    """
    settings = experiment_config(config, wildcards.experiment)
    source = settings["model"]["region_source"]
    # the trapped-ball maps that weight the pixel L1, if it is weighted
    weighting = loss_regions_path(settings["train"])
    return ({} if weighting is None else {"loss_regions": str(weighting)}) | {
        "illustrations": "results/data/train/illustrations.npz",
        "sketches": "results/data/train/sketch_xdog.npz",
        "regions": f"results/regions/{source}/train_xdog.npz",
        "val_illustrations": "results/data/test/illustrations.npz",
        "val_sketches": "results/data/test/sketch_xdog.npz",
        "val_regions": f"results/regions/{source}/test_xdog.npz",
    }


def get_evaluation_inputs(wildcards):
    """What evaluating a table's training (results/train) on one test set needs (evaluation_inputs)."""
    return evaluation_inputs(wildcards, "results")


def get_claims_evaluation_inputs(wildcards):
    """What evaluating a claims training (results/claims/train, claims.steps set) needs (evaluation_inputs)."""
    return evaluation_inputs(wildcards, CLAIMS_OWN_RESULTS)


def evaluation_inputs(wildcards, results):
    """A generator trained under ``results``/train, one test set's sketches and region maps, their ground truth and
    its known valid colourings (none for R), and the FID backbone, reference features and floor (R's at its own
    sample size).
    """
    split, style = TEST_SETS[wildcards.testset]
    source = experiment_config(config, wildcards.experiment)["model"]["region_source"]
    run = f"{results}/train/{wildcards.experiment}/seed{wildcards.seed}"
    floor = "results/eval/fid_floor.json"  # at the test split's size
    if not drawn_from_test_split(wildcards.testset):
        floor = "results/eval/fid_floor_real.json"  # at R's own size
    inputs = {
        "generator": f"{run}/generator.pt",
        "run": f"{run}/run.json",
        "sketches": f"results/data/{split}/sketch_{style}.npz",
        "regions": f"results/regions/{source}/{split}_{style}.npz",
        "backbone": "results/eval/fid_backbone.pt",
        "reference": "results/eval/fid_reference.npz",
        "floor": floor,
    }
    return inputs | get_truth_and_alternatives(wildcards)


def get_truth_and_alternatives(wildcards):
    """A test set's ground truth and its known valid colourings (none for R)."""
    truth = get_test_ground_truth(wildcards)
    if truth:
        truth["alternatives"] = "results/data/test/alternatives.npz"
    return truth


def get_metrics_files(experiments, seeds, test_sets=None, results="results"):
    """metrics.json of every experiment × seed × test set (default: the configured ones) under ``results``/eval."""
    return expand(
        "{results}/eval/{experiment}/seed{seed}/{testset}/metrics.json",
        results=results,
        experiment=experiments,
        seed=seeds,
        testset=config["eval"]["test_sets"] if test_sets is None else test_sets,
    )


FIRST_SEED = config["train"]["seeds"][0]
# The first configured test set with ground truth (the region figures need it); A when only R is configured.
FIRST_TEST_SET = next(
    (name for name in config["eval"]["test_sets"] if drawn_from_test_split(name)), "A"
)

# Colourings next to their region maps: comparison → (the table whose experiments it draws, what it compares).
REGION_FIGURES = {
    "region_sources": ("table3", "trapped-ball vs learned regions (paper Fig. 9)"),
    "patch_sizes": ("table4", "fixed patch grids vs trapped-ball (paper Fig. 10)"),
}

FULL_SOURCE = (
    experiment_config(config, "full")["model"]["region_source"]
    if "full" in config["experiments"]
    else None
)


def table_experiments(table):
    """The experiments of one table ("table3"), in config order; a clear error for a table run_experiments left
    empty."""
    if table not in config["tables"]:
        known = ", ".join(config["tables"])
        if not config["run_experiments"]:
            raise ValueError(f"the config has no table {table} (its tables: {known})")
        raise ValueError(
            f"{table} is not a table of the config, or has none of the experiments selected by "
            f"run_experiments ({', '.join(config['run_experiments'])}); tables left: {known}"
        )
    return config["tables"][table]


def reference_metrics_files(test_sets=None):
    """metrics.json of every reference colouring (rasc.references) on the configured test sets."""
    return expand(
        "results/eval/reference_{kind}/{testset}/metrics.json",
        kind=REFERENCES,
        testset=config["eval"]["test_sets"] if test_sets is None else test_sets,
    )


def get_table_metrics(wildcards):
    """metrics.json of every experiment of one table, for the table1 seeds, and of the reference rows."""
    return (
        get_metrics_files(
            table_experiments(f"table{wildcards.table}"), config["train"]["seeds"]
        )
        + reference_metrics_files()
    )


def get_reference_inputs(wildcards):
    """What a reference colouring of one test set needs: the training split (colours and XDoG sketches), the test
    set's sketches, ground truth and known valid colourings (none for R), and the FID backbone, reference features
    and floor.
    """
    floor = "results/eval/fid_floor.json"
    if not drawn_from_test_split(wildcards.testset):
        floor = "results/eval/fid_floor_real.json"
    return {
        "train_illustrations": "results/data/train/illustrations.npz",
        "train_sketches": "results/data/train/sketch_xdog.npz",
        "sketches": test_sketches(wildcards.testset),
        "backbone": "results/eval/fid_backbone.pt",
        "reference": "results/eval/fid_reference.npz",
        "floor": floor,
    } | get_truth_and_alternatives(wildcards)


def get_table_timing(wildcards):
    """Table 3 reports each region source's measured sec/img; the other tables need no region timing."""
    return ["results/regions/timing.csv"] if wildcards.table == "3" else []


def table_region_sources(table):
    """experiment → region source of the experiments of one table ("table3"), in config order."""
    return {
        name: experiment_config(config, name)["model"]["region_source"]
        for name in table_experiments(table)
    }


def get_table_region_sources(wildcards):
    """experiment → region source of one table's experiments (Table 3 reports each source's sec/img)."""
    return table_region_sources(f"table{wildcards.table}")


def claimed_experiments():
    """Every defined experiment a claim compares (the controls patches_1 and learned_regions among them). Table
    rows no claim compares (the intermediate patch counts of table 4) are not trained on the extra seeds.
    """
    claimed = claim_experiments(paper_claims(config["tables"]))
    return [name for name in claimed if name in config["experiments"]]


def get_claims_metrics():
    """metrics.json of every claimed experiment for every claims seed, on the test sets drawn from the test split
    (claims leave R out: rasc.claims)."""
    test_sets = [t for t in config["eval"]["test_sets"] if drawn_from_test_split(t)]
    return get_metrics_files(
        claimed_experiments(), config["claims"]["seeds"], test_sets, CLAIMS_RESULTS
    )


def get_claims_train_steps():
    """{experiment: training steps} of every claimed experiment (claims.steps, else each one's train.steps)."""
    return {name: claims_train_steps(config, name) for name in claimed_experiments()}


def get_claims_learning_curve_runs():
    """Training folders of every claimed experiment and claims seed, for their learning curves over the seeds."""
    return expand(
        "{results}/train/{experiment}/seed{seed}/run.json",
        results=CLAIMS_RESULTS,
        experiment=claimed_experiments(),
        seed=config["claims"]["seeds"],
    )


def colorized_files(experiments, testset):
    """colorized.npz of some experiments on one test set, first seed."""
    return [
        f"results/eval/{name}/seed{FIRST_SEED}/{testset}/colorized.npz"
        for name in experiments
    ]


def get_qualitative_inputs(wildcards):
    """Colourings of the table-1 methods on one test set, first seed."""
    return colorized_files(config["tables"]["table1"], wildcards.testset)


def get_qualitative_references(wildcards):
    """Colourings of the reference rows on one test set (rasc.references), drawn below the methods."""
    return expand(
        "results/eval/reference_{kind}/{testset}/colorized.npz",
        kind=REFERENCES,
        testset=wildcards.testset,
    )


def get_region_figure_sources(wildcards):
    """experiment → region source of the table one region figure draws (paper Figs. 9, 10)."""
    table, _ = REGION_FIGURES[wildcards.comparison]
    return table_region_sources(table)


def get_region_figure_inputs(wildcards):
    """A table's colourings on the first test set (first seed), their region maps, the sketches and ground truth."""
    split, style = TEST_SETS[FIRST_TEST_SET]
    sources = get_region_figure_sources(wildcards)
    return {
        "colorized": colorized_files(sources, FIRST_TEST_SET),
        "regions": [
            f"results/regions/{source}/{split}_{style}.npz"
            for source in sources.values()
        ],
        "sketches": test_sketches(FIRST_TEST_SET),
        "illustrations": "results/data/test/illustrations.npz",
    }


def get_region_figure_title(wildcards):
    """The title of one region figure: test set, seed and what it compares."""
    _, compared = REGION_FIGURES[wildcards.comparison]
    return f"Test set {FIRST_TEST_SET}, seed {FIRST_SEED}: colourings and region maps, {compared}"


def get_grad_cosine_runs():
    """Training folders whose gradient-cosine histograms are drawn, one row per seed as in paper Figs. 12–13: the
    full model (and the skip variant), on table 1's training seeds."""
    names = [n for n in ("full", "skip_correlation") if n in config["experiments"]]
    return expand(
        "results/train/{name}/seed{seed}/run.json",
        name=names,
        seed=config["train"]["seeds"],
    )


def get_learning_curve_runs():
    """Training folders whose learning curves are drawn: tables 1 and 2's experiments (the method, the baselines
    and the ablations, so `full` is drawn against `no_region_maps`), first seed."""
    names = dict.fromkeys(
        config["tables"]["table1"] + config["tables"].get("table2", [])
    )
    return [f"results/train/{name}/seed{FIRST_SEED}/run.json" for name in names]


def get_table_experiments(wildcards):
    """The experiments one table compares, in config order."""
    return table_experiments(f"table{wildcards.table}")


def test_sketches(testset):
    """The sketches file of one test set."""
    split, style = TEST_SETS[testset]
    return f"results/data/{split}/sketch_{style}.npz"


def get_test_sketches(wildcards):
    """The sketches of one test set."""
    return test_sketches(wildcards.testset)


def get_test_ground_truth(wildcards):
    """{"illustrations": the illustrations one test set's sketches were drawn from}; {} for R (real sketches)."""
    if drawn_from_test_split(wildcards.testset):
        return {"illustrations": "results/data/test/illustrations.npz"}
    return {}


def get_real_sketch_files(wildcards):
    """The files of data.folder.sketches (test set R), so that adding or changing one reruns the import."""
    return [str(path) for path in real_sketch_files(config["data"])]
