"""Config validation: the shipped configs pass; broken ones stop with a message that names the key."""

from __future__ import annotations

import copy

import pytest
import yaml

from rasc.config import (
    ConfigError,
    check_device,
    check_paths,
    experiment_config,
    load_config,
    read_yaml,
    validate_config,
)

SHIPPED = ["config/config.yaml", "config/paper.yaml", "config/gpu.yaml", "config/openmoji.yaml",
           ".test/config/config.yaml"]


@pytest.fixture
def default_config(repo):
    return yaml.safe_load((repo / "config/config.yaml").read_text())


@pytest.mark.parametrize("path", SHIPPED)
def test_shipped_configs_validate(repo, path):
    config = load_config(repo / path)
    assert config["experiments"], path


def test_defaults_are_filled(default_config):
    del default_config["train"]["lr"]
    del default_config["sketch"]
    config = validate_config(default_config)
    assert config["train"]["lr"] == 0.002
    assert config["sketch"]["tau"] == pytest.approx(0.999997)


def test_region_defaults_keep_test_styles_out_of_the_learned_extractor(default_config):
    del default_config["regions"]["learned"]["train_styles"]
    del default_config["regions"]["trapped_ball_radii"]
    config = validate_config(default_config)
    assert config["regions"]["learned"]["train_styles"] == ["xdog"]
    assert config["regions"]["trapped_ball_radii"] is None
    for bad in (["pencil"], [], ["xdog", "xdog"]):
        broken = copy.deepcopy(config)
        broken["regions"]["learned"]["train_styles"] = bad
        with pytest.raises(ConfigError, match="train_styles"):
            validate_config(broken)


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda c: c["data"].__setitem__("size", "big"), "data.size"),
        (lambda c: c["model"].__setitem__("colour", 1), "model"),
        (lambda c: c["train"].__setitem__("steps", 0), "train.steps"),
        (lambda c: c.__setitem__("unknown_section", {}), "(top level)"),
        (lambda c: c["experiments"].__setitem__("bad", {"model": {"variant": "nope"}}), "experiments.bad.model"),
        (lambda c: c["tables"].__setitem__("table1", ["missing"]), "tables.table1"),
        (lambda c: c["regions"].__setitem__("sources", ["patches_10"]), "patches_10"),
        (lambda c: c["experiments"].__setitem__("bad", {"model": {"region_source": "patches_0"}}), "patches_0"),
        (lambda c: c["regions"].__setitem__("patch_counts", [16641, 1]), "patches_16641"),  # 129 a side > 64 px
        (lambda c: c["train"].__setitem__("ema_beta", 1.0), "train.ema_beta"),  # training needs [0, 1)
        (lambda c: c["experiments"].__setitem__("bad", {"train": {"beta2": 1}}), "experiments.bad.train"),
        (lambda c: c["claims"].__setitem__("seeds", [0]), "claims.seeds"),
        (lambda c: c["claims"].__setitem__("steps", 0), "claims.steps"),
        (lambda c: c["experiments"].__setitem__("bad", {"model": {"architecture": "unet"}}),
         "experiments.bad.model.latent"),
        (lambda c: c["experiments"].__setitem__("bad", {"model": {"architecture": "unet", "latent": "none"}}),
         "experiments.bad.model.variant"),
        (lambda c: c["experiments"].__setitem__("bad", {"model": {"latent": "none"}}), "experiments.bad.model.latent"),
        (lambda c: c["data"].__setitem__("size", 40), "data.size"),  # 40 is not a multiple of 2**4
        (lambda c: c["experiments"].__setitem__("deep", {"model": {"num_blocks": 7}}), "data.size"),  # 64 < 2**7
        (lambda c: c["claims"].__setitem__("seeds", [0, 1, 1]), "claims.seeds"),
        (lambda c: c["train"].__setitem__("seeds", [2, 2]), "train.seeds"),
        (lambda c: c["data"].__setitem__("n_train", 4), "data.n_train"),  # fewer than one batch of 8
        (lambda c: c.__setitem__("run_experiments", ["nope"]), "run_experiments"),
        (lambda c: c.__setitem__("run_experiments", ["learned_regions"]), "run_experiments"),  # table 1 left empty
        (lambda c: c["train"].__setitem__("lambda_l1", float("nan")), "train.lambda_l1"),  # NaN passes any minimum
        (lambda c: c["train"].__setitem__("lr", float("inf")), "train.lr"),
        (lambda c: c["experiments"].__setitem__("bad", {"train": {"lambda_kl": float("nan")}}),
         "experiments.bad.train.lambda_kl"),
        (lambda c: c["data"].__setitem__("n_test", 1), "data.n_test"),  # FID compares sets of two or more
    ],
)
def test_broken_config_names_the_key(default_config, mutate, key):
    broken = copy.deepcopy(default_config)
    mutate(broken)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.").replace("(", r"\(").replace(")", r"\)")):
        validate_config(broken)


def test_training_params_leave_out_what_does_not_change_a_trained_model(default_config):
    from rasc.config import LATER_MODEL_OPTIONS_OFF, LATER_TRAIN_OPTIONS_OFF, training_params

    base = training_params(validate_config(copy.deepcopy(default_config)), "full")
    other_kl_prior = {"sketch": "standard", "standard": "sketch"}[default_config["train"]["kl_prior"]]
    for key, value in (("threads", 2), ("device", "cpu"), ("seeds", [0, 1]), ("log_every", 5)):
        changed = copy.deepcopy(default_config)
        changed["train"][key] = value
        assert training_params(validate_config(changed), "full") == base, key
    for section, key, value in (("train", "steps", 4000), ("train", "lr", 0.001), ("train", "lambda_latent", 0.5),
                                ("train", "adversarial_from", 1000), ("train", "sketch_width_jitter", 0.25),
                                ("train", "l1_region_power", 1.0), ("train", "predicted_l1_trains_decoder", False),
                                ("train", "lr_decay_from", 0.5), ("train", "kl_prior", other_kl_prior),
                                ("train", "posterior_noise", 0.5), ("model", "palette_slots", 32)):
        changed = copy.deepcopy(default_config)
        changed[section][key] = value
        assert training_params(validate_config(changed), "full") != base, key
    # an option added later is left out at its off value: the runs trained before it existed are not retrained
    for section, later_options_off in (("train", LATER_TRAIN_OPTIONS_OFF), ("model", LATER_MODEL_OPTIONS_OFF)):
        for key, off in later_options_off.items():
            at_off, without = copy.deepcopy(default_config), copy.deepcopy(default_config)
            at_off[section][key] = off
            without[section].pop(key, None)
            params = training_params(validate_config(at_off), "full")
            assert key not in params[section], key
            assert training_params(validate_config(without), "full") == params, key


def test_claims_steps_set_the_length_of_the_claims_trainings_only(default_config):
    from rasc.config import claims_train_steps, training_params, with_train_steps

    config = validate_config(copy.deepcopy(default_config))
    config["claims"]["steps"] = None
    assert claims_train_steps(config, "full") == config["train"]["steps"]
    config["experiments"]["no_region_maps"]["train"] = {"steps": 4800}
    assert claims_train_steps(config, "no_region_maps") == 4800  # the runs shared with the tables: their own length
    assert claims_train_steps(config, "full") == config["train"]["steps"]
    config["claims"]["steps"] = 1234
    assert claims_train_steps(config, "full") == claims_train_steps(config, "no_region_maps") == 1234
    del config["experiments"]["no_region_maps"]["train"]
    shorter = with_train_steps(config, "no_region_maps", 1234)
    assert experiment_config(shorter, "no_region_maps")["train"]["steps"] == 1234
    assert experiment_config(shorter, "no_region_maps")["model"]["variant"] == "no_region_maps"  # overrides kept
    assert experiment_config(config, "no_region_maps")["train"]["steps"] == config["train"]["steps"]  # not changed
    assert training_params(shorter, "full") == training_params(config, "full")  # other experiments as they were
    assert with_train_steps(config, "full", None) == config


def test_experiment_overrides_merge(default_config):
    config = validate_config(default_config)
    resolved = experiment_config(config, "no_region_maps")
    assert resolved["model"]["variant"] == "no_region_maps"
    assert resolved["model"]["base_channels"] == config["model"]["base_channels"]
    with pytest.raises(ConfigError, match="unknown experiment"):
        experiment_config(config, "nope")


def test_ink_out_of_max_experiment_reaches_the_generator_config(default_config):
    from rasc.experiment import model_configs

    config = validate_config(default_config)
    full, _ = model_configs(experiment_config(config, "full")["model"], 64)
    ink_out, _ = model_configs(experiment_config(config, "ink_out_of_max")["model"], 64)
    assert full.ink_in_region_max and not ink_out.ink_in_region_max


def test_unreadable_yaml(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("data: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)


@pytest.mark.parametrize("name, content, message", [
    ("list.yaml", b"- a\n- b\n", "the top level must be a mapping"),
    ("image.png", bytes([0x89]) + b"PNG\r\n", "not a YAML text file"),
])
def test_a_config_file_that_is_not_a_config_is_named(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message) as error:
        load_config(path)
    assert str(path) in str(error.value)


def test_test_set_r_needs_a_sketch_folder_and_works_with_procedural_data(default_config):
    config = copy.deepcopy(default_config)
    config["eval"]["test_sets"] = ["A", "R"]
    with pytest.raises(ConfigError, match="test set R needs data.folder.sketches"):
        validate_config(copy.deepcopy(config))
    config["data"]["folder"]["sketches"] = "my_sketches"
    assert validate_config(config)["data"]["source"] == "procedural"


@pytest.mark.parametrize("key", ["data.folder.illustrations", "data.folder.sketches", "train.vgg_weights",
                                 "experiments.full.train.vgg_weights", "eval.fid_weights"])
def test_paths_the_config_names_must_exist(default_config, tmp_path, monkeypatch, key):
    monkeypatch.chdir(tmp_path)
    config = validate_config(copy.deepcopy(default_config))
    check_paths(config)  # nothing named: nothing to check
    section = config
    *parents, name = key.split(".")
    for part in parents:
        section = section.setdefault(part, {})
    section[name] = "absent"
    with pytest.raises(ConfigError, match=key.replace(".", r"\.") + "': absent does not exist"):
        check_paths(config)
    (tmp_path / "absent").mkdir() if "folder" in key else (tmp_path / "absent").write_text("")
    check_paths(config)


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without CUDA")
def test_device_cuda_without_a_gpu_is_refused(default_config):
    config = validate_config(copy.deepcopy(default_config))
    check_device(config)
    config["experiments"]["full"] = {"train": {"device": "cuda"}}
    with pytest.raises(ConfigError, match=r"cuda is asked for \(full\) but this machine has no usable CUDA GPU"):
        check_device(config)


def test_a_whole_float_where_an_integer_is_asked_is_that_integer(default_config):
    """``size: 64.0`` is the config ``size: 64`` (the same Snakemake params, so no rerun); ``64.5`` is refused."""
    config = copy.deepcopy(default_config)
    config["data"]["size"] = 64.0
    config["experiments"]["longer"] = {"train": {"steps": 3000.0, "lr": 0.5}}
    validated = validate_config(config)
    assert validated["data"]["size"] == 64 and isinstance(validated["data"]["size"], int)
    assert validated["experiments"]["longer"]["train"] == {"steps": 3000, "lr": 0.5}
    assert isinstance(validated["experiments"]["longer"]["train"]["steps"], int)
    config["data"]["size"] = 64.5
    with pytest.raises(ConfigError, match="data.size"):
        validate_config(config)


def test_a_patchgan_with_no_patch_at_the_working_size_is_refused(default_config):
    """A PatchGAN whose stride-2 layers leave no patch at the working size would fail at training time; validation
    names it (3 · 2^layers px are needed: 24 for pix2pix's 3 layers)."""
    config = copy.deepcopy(default_config)
    config["experiments"]["pix2pix"]["model"]["disc_patch_layers"] = 5  # needs 96 px, the default works at 64
    with pytest.raises(ConfigError, match=r"data\.size': 64 px give a PatchGAN of disc_patch_layers 5 no patch "
                                          r"\(experiment pix2pix\); it needs at least 96 px"):
        validate_config(config)
    config["experiments"]["pix2pix"]["model"]["disc_patch_layers"] = 4  # 48 px: one patch fits
    validate_config(config)


def test_a_key_given_twice_names_the_file_and_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("data:\n  size: 64\n  seed: 1\n  size: 32\n")  # YAML itself would keep 32 without a word
    with pytest.raises(ConfigError, match=r"config\.yaml:4:3: not valid YAML: the key 'size' is given twice"):
        read_yaml(path)


def test_yaml_syntax_error_names_the_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("data:\n  size: 64\n  seed: [0\ntrain: {}\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml:4:\d+: not valid YAML"):
        load_config(path)


def test_run_experiments_selects_experiments_and_table_rows(default_config):
    config = copy.deepcopy(default_config)
    config["run_experiments"] = ["full", "no_region_maps"]
    config = validate_config(config)
    assert list(config["experiments"]) == ["full", "no_region_maps"]
    assert config["tables"]["table1"] == ["full"]  # table 1 is full against the baselines
    assert config["tables"]["table2"] == ["no_region_maps", "full"]
    assert config["tables"]["table3"] == ["full"]
    with pytest.raises(ConfigError, match="selected by run_experiments"):
        experiment_config(config, "pix2pix")


# Recipe keys in which config/openmoji.yaml differs from config/config.yaml: (section, key) → OpenMoji's value.
# Every other key must follow the default.
OPENMOJI_MEASURED_DIFFERENCES = {  # chosen by measurement on OpenMoji (README, OpenMoji)
    ("model", "encoder_norm_groups"): 0,
    ("model", "to_rgb"): "modulated",  # the default's palette was level or worse on OpenMoji (one seed, recipe row 63)
    ("train", "steps"): 1600,  # the predicted-w colouring's plateau (from step 1,400), within 30 minutes
    ("train", "r1_gamma"): 1.0,
    ("train", "r1_every"): 4,  # with sketch_width_jitter 0: the default's pair was mixed on OpenMoji, one seed
    ("train", "sketch_width_jitter"): 0.0,
    ("train", "lr"): 0.002,  # the default's 0.004 was mixed on OpenMoji (one seed, recipe row 52), 0.006 too (two seeds)
    ("train", "kl_prior"): "standard",  # the default's sketch prior with 0.001 (recipe row 65) was worse on OpenMoji
    ("train", "lambda_kl"): 0.01,       # on A, B and the oracle (one seed, 800 steps, session aq)
    ("claims", "steps"): None,  # its tables' runs (1,600 steps) are the claims' runs too
}


def test_openmoji_config_is_the_default_recipe_on_openmoji_data(repo):
    """config/openmoji.yaml keeps config/config.yaml's keys and, until the OpenMoji main job is tuned on its own,
    its recipe: when the default's model/train/eval/... change, carry the change over (or record why it differs,
    in OPENMOJI_MEASURED_DIFFERENCES and the README)."""
    default = yaml.safe_load((repo / "config/config.yaml").read_text())
    openmoji = yaml.safe_load((repo / "config/openmoji.yaml").read_text())
    assert openmoji.keys() == default.keys() and openmoji["data"].keys() == default["data"].keys()
    assert openmoji["data"]["source"] == "openmoji" and openmoji["data"]["size"] in (64, 128)
    expected = {section: dict(values) for section, values in default.items() if isinstance(values, dict)}
    for (section, key), value in OPENMOJI_MEASURED_DIFFERENCES.items():
        assert default[section][key] != value, f"{section}.{key} no longer differs: drop it from the list"
        expected[section][key] = value
    for section in default:
        if section != "data":
            assert openmoji[section] == expected.get(section, default[section]), section


def test_tiny_openmoji_override_validates(repo):
    tiny = yaml.safe_load((repo / ".test/config/config.yaml").read_text())
    override = yaml.safe_load((repo / ".test/config/openmoji.yaml").read_text())
    config = validate_config(copy.deepcopy(tiny) | {k: {**tiny.get(k, {}), **v} for k, v in override.items()})
    assert config["data"]["source"] == "openmoji" and config["eval"]["test_sets"] == ["B"]


# pix2pix's own rate, for its 200 epochs at batch 1, where a config keeps it; the short CPU runs train it at their
# `train.lr`, as RASC (docs/recipe.md, "The pix2pix stand-in")
PIX2PIX_OWN_RATE = {"config/paper.yaml": 0.0002, "config/gpu.yaml": 0.0002}


@pytest.mark.parametrize("path", SHIPPED)
def test_pix2pix_baseline_trains_with_its_reference_recipe(repo, path):
    """pix2pix's code (Isola et al.): Adam β (0.5, 0.999), L1 weight 100, the rate constant for the first half of
    training and falling linearly to 0 over the second (n_epochs = n_epochs_decay); its U-Net goes down to 1×1; its
    discriminator is the 70×70 PatchGAN (3 layers) that also sees the sketch."""
    config = load_config(repo / path)
    pix2pix = experiment_config(config, "pix2pix")
    train = pix2pix["train"]
    assert (train["beta1"], train["beta2"], train["lambda_l1"]) == (0.5, 0.999, 100)
    assert train["lr"] == PIX2PIX_OWN_RATE.get(path, config["train"]["lr"])
    assert train["lr_decay_from"] == 0.5
    assert config["data"]["size"] == 2 ** pix2pix["model"]["num_blocks"], "the U-Net's bottleneck is not 1×1"
    model = pix2pix["model"]
    assert (model["disc_architecture"], model["disc_patch_layers"], model["disc_conditional"]) == ("patchgan", 3, True)
    assert config["model"]["disc_architecture"] == "stylegan2", "RASC's own discriminator is the StyleGAN2-style one"
