"""Self-describing checkpoints, written atomically and read by one safe loader.

A checkpoint is one plain dict (no pickled classes, so ``torch.load(weights_only=True)`` reads it):

- ``format`` / ``format_version``: :data:`FORMAT` and :data:`FORMAT_VERSION`;
- ``kind``: ``"training"`` (a resumable snapshot: G, D, G_ema, both optimisers, RNG states) or ``"generator"``
  (the final EMA generator, what evaluation and the CLI load);
- ``generator_config`` / ``discriminator_config``: the model dataclasses as dicts, from which
  :func:`load_generator` rebuilds the network, as nanoGPT does with ``model_args``;
- ``config``: the full run configuration as a plain dict; ``step``; ``meta`` (run id, backbone names, ...);
- ``style_scale_tril`` (generator checkpoints of models with a style encoder, optional): the Cholesky factor of
  the style prior fitted after training (rasc.models.style_prior), which :func:`load_generator` puts back.
"""

from __future__ import annotations

import dataclasses
import pickle
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from rasc.atomic import atomic_path

FORMAT = "rasc-checkpoint"
FORMAT_VERSION = 1
KINDS = ("training", "generator")


class CheckpointError(RuntimeError):
    """A file is missing, corrupt, not a rasc checkpoint, or of an unsupported format version."""


def unwrap(module: nn.Module) -> nn.Module:
    """The bare module inside a DistributedDataParallel / DataParallel wrapper (itself otherwise)."""
    return getattr(module, "module", module)


def _as_plain_dict(config: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return dataclasses.asdict(config)
    if isinstance(config, Mapping):
        return dict(config)
    raise TypeError(f"expected a dataclass or a mapping for a stored config, got {type(config).__name__}")


def atomic_torch_save(obj: Any, path: str | Path) -> None:
    """``torch.save`` through a temporary file in the same folder, fsync, then ``os.replace`` (mode as a plain file)."""
    with atomic_path(path, durable=True) as temporary, open(temporary, "wb") as stream:
        torch.save(obj, stream)


def save_training_checkpoint(
    path: str | Path,
    *,
    generator: nn.Module,
    discriminator: nn.Module,
    generator_ema: nn.Module,
    g_optimizer: torch.optim.Optimizer,
    d_optimizer: torch.optim.Optimizer,
    generator_config: Any,
    discriminator_config: Any,
    config: Mapping[str, Any],
    step: int,
    rng_state: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> None:
    """Write a resumable training snapshot (kind ``"training"``) atomically."""
    checkpoint = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": "training",
        "step": int(step),
        "G": unwrap(generator).state_dict(),
        "D": unwrap(discriminator).state_dict(),
        "G_ema": unwrap(generator_ema).state_dict(),
        "opt_G": g_optimizer.state_dict(),
        "opt_D": d_optimizer.state_dict(),
        "generator_config": _as_plain_dict(generator_config),
        "discriminator_config": _as_plain_dict(discriminator_config),
        "config": dict(config),
        "rng": dict(rng_state or {}),
        "meta": dict(meta or {}),
    }
    atomic_torch_save(checkpoint, path)


def save_generator_checkpoint(
    path: str | Path,
    *,
    generator: nn.Module,
    generator_config: Any,
    config: Mapping[str, Any],
    step: int,
    meta: Mapping[str, Any] | None = None,
    style_scale_tril: torch.Tensor | None = None,
) -> None:
    """Write the final generator (kind ``"generator"``: the EMA weights, the configs and, when given, the fitted
    style prior's Cholesky factor (w_dim, w_dim)) atomically."""
    checkpoint = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": "generator",
        "step": int(step),
        "G_ema": unwrap(generator).state_dict(),
        "generator_config": _as_plain_dict(generator_config),
        "config": dict(config),
        "meta": dict(meta or {}),
    }
    if style_scale_tril is not None:
        checkpoint["style_scale_tril"] = style_scale_tril.detach().cpu()
    atomic_torch_save(checkpoint, path)


def _unpickling_refusal(error: Exception) -> str:
    """Why torch's weights-only unpickler refused a file, in a few words (not torch's advice to trust it)."""
    found = re.search(r"GLOBAL ([\w.]+)", str(error))  # torch names the first global it refused
    holds = f" ({found.group(1)})" if found else ""
    return f"it holds pickled objects{holds}, and rasc loads only tensors and plain containers (weights_only)"


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def safe_torch_load(path: str | Path, what: str = "checkpoint") -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU; :class:`CheckpointError` in one line naming the file."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder, not a {what} file")
    if not path.is_file():
        raise CheckpointError(f"{path}: {what} file does not exist")
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic != b"PK\x03\x04" and magic[:1] != b"\x80":  # torch.save's zip archive, or a legacy pickle
        raise CheckpointError(f"{path}: not a PyTorch {what} file (no torch.save archive)")
    try:
        with warnings.catch_warnings():  # torch's advice on weights_only names its own source files: not the user's
            warnings.simplefilter("ignore")
            return torch.load(path, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as error:
        raise CheckpointError(f"{path}: refused: {_unpickling_refusal(error)}") from None
    except Exception as error:  # noqa: BLE001 - garbage bytes surface as many different exception types
        first = _ANSI.sub("", str(error)).strip().splitlines()
        detail = f"{type(error).__name__}: {_shortened(first[0])}" if first else type(error).__name__
        raise CheckpointError(f"{path}: corrupt or unreadable {what} ({detail})") from None


def _shortened(text: str, limit: int = 200) -> str:
    """``text`` cut at its last full sentence or word within ``limit`` characters (with "…" where cut)."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    sentence = head.rfind(". ")
    return head[:sentence + 1] if sentence > limit // 2 else head[:head.rfind(" ")].rstrip(" ,;:") + " …"


def check_finite(state: Mapping[str, Any], path: str | Path) -> None:
    """:class:`CheckpointError` when floating-point weights of ``state`` hold NaN or infinity (a diverged training
    would colour every drawing black or grey without a word)."""
    bad = [key for key, value in state.items()
           if isinstance(value, torch.Tensor) and value.is_floating_point() and not torch.isfinite(value).all()]
    if bad:
        raise CheckpointError(f"{path}: {len(bad)} weight tensor{'s hold' if len(bad) > 1 else ' holds'} NaN or "
                              f"infinite values (e.g. {', '.join(bad[:2])}): the training diverged or the file was "
                              f"damaged")


def check_state_shapes(module: nn.Module, state: Mapping[str, Any], path: str | Path, what: str) -> None:
    """:class:`CheckpointError` in one line saying how the weights ``state`` differ from ``module``'s (counts and a
    few names). ``module`` may live on the meta device: only its parameters' names and shapes are read."""
    expected = module.state_dict()
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    reshaped = [key for key in expected if key in state and tuple(getattr(state[key], "shape", ())) !=
                tuple(expected[key].shape)]
    problems = [f"{len(keys)} {label} (e.g. {', '.join(keys[:2])})"
                for keys, label in ((missing, "missing"), (unexpected, "unexpected"), (reshaped, "of another shape"))
                if keys]
    if problems:
        raise CheckpointError(f"{path}: weights do not match the {what}: {'; '.join(problems)}")


def load_state_checked(module: nn.Module, state: Mapping[str, Any], path: str | Path, what: str) -> None:
    """``module.load_state_dict(state)``, or one line saying how the weights differ (counts and a few names)."""
    check_state_shapes(module, state, path, what)
    try:
        module.load_state_dict(state)
    except (RuntimeError, TypeError) as error:
        raise CheckpointError(f"{path}: weights do not match the {what} ({str(error).splitlines()[0]})") from None


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read and check a checkpoint written by this module (``weights_only=True``: no code is ever unpickled).

    Raises :class:`CheckpointError` naming the file when it is missing, corrupt, holds pickled objects other than
    tensors and plain containers, is not a rasc checkpoint, or has another format version.
    """
    path = Path(path)
    checkpoint = safe_torch_load(path)
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a rasc checkpoint (no format marker {FORMAT!r})")
    version = checkpoint.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {version!r} is not supported (this rasc reads version {FORMAT_VERSION})"
        )
    if checkpoint.get("kind") not in KINDS:
        raise CheckpointError(f"{path}: unknown checkpoint kind {checkpoint.get('kind')!r}; expected one of {KINDS}")
    missing = [key for key in ("generator_config", "G_ema", "step", "config") if key not in checkpoint]
    if missing:
        raise CheckpointError(f"{path}: checkpoint lacks {missing}")
    return checkpoint


def _dataclass_from_dict(cls: type, stored: Mapping[str, Any], path: Path) -> Any:
    """Rebuild a frozen config dataclass; stored lists become tuples where the default is a tuple."""
    fields = {field.name: field for field in dataclasses.fields(cls)}
    unknown = sorted(set(stored) - set(fields))
    if unknown:
        raise CheckpointError(f"{path}: stored {cls.__name__} has fields this rasc does not know: {unknown}")
    values = {key: tuple(value) if isinstance(value, list) else value for key, value in stored.items()}
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{path}: stored {cls.__name__} is invalid: {error}") from None


def trained_region_source(config: Any) -> str:
    """The region source a generator was trained on, from its checkpoint config → e.g. "trapped_ball", "learned".

    Trainings store the workflow config under ``config["config"]`` (its ``model`` section names the source); a bare
    ``config["model"]`` is read too. A checkpoint that names none was trained on trapped-ball maps (the default).
    """
    for section in (config.get("config"), config) if isinstance(config, dict) else ():
        model = section.get("model") if isinstance(section, dict) else None
        if isinstance(model, dict) and isinstance(model.get("region_source"), str):
            return model["region_source"]
    return "trapped_ball"


def trained_data_section(config: Any) -> dict[str, Any] | None:
    """The workflow's ``data`` section a generator was trained on (stored under ``config["config"]``), or None when
    the checkpoint stores none (a training outside the workflow)."""
    stored = config.get("config") if isinstance(config, dict) else None
    data = stored.get("data") if isinstance(stored, dict) else None
    return data if isinstance(data, dict) else None


def load_generator(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the (EMA) generator from a checkpoint of either kind → (Generator in eval mode, checkpoint config).

    The architecture comes from the stored ``generator_config``, never from the caller, so it cannot drift; a stored
    fitted style prior becomes the generator's ``style_scale_tril`` (None otherwise: random w from N(0, 1)).
    """
    from rasc.models import GeneratorConfig, build_generator

    path = Path(path)
    checkpoint = load_checkpoint(path)
    gen_cfg = _dataclass_from_dict(GeneratorConfig, checkpoint["generator_config"], path)
    weights = checkpoint["G_ema"]
    if not isinstance(weights, Mapping):
        raise CheckpointError(f"{path}: stored generator weights are not a state dict")
    with torch.device("meta"):  # shapes only: a config that claims a huge network allocates nothing
        shapes = build_generator(gen_cfg)
    check_state_shapes(shapes, weights, path, "stored generator config")
    check_finite(weights, path)
    generator = build_generator(gen_cfg)
    load_state_checked(generator, weights, path, "stored generator config")
    scale_tril = checkpoint.get("style_scale_tril")
    if scale_tril is not None:
        w_dim = gen_cfg.w_dim
        if not isinstance(scale_tril, torch.Tensor) or tuple(scale_tril.shape) != (w_dim, w_dim) \
                or not scale_tril.is_floating_point():
            raise CheckpointError(f"{path}: stored style prior is not a ({w_dim}, {w_dim}) float tensor")
        if not (torch.isfinite(scale_tril).all() and torch.equal(scale_tril, scale_tril.tril())
                and (scale_tril.diagonal() > 0).all()):
            raise CheckpointError(f"{path}: stored style prior is not a Cholesky factor (finite, lower-triangular, "
                                  f"positive diagonal)")
        generator.style_scale_tril = scale_tril.float()
    generator.requires_grad_(False)
    return generator.eval().to(device), checkpoint["config"]

