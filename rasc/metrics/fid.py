"""Fréchet Inception Distance with pytorch-fid, and its offline fallback (DESIGN §5).

The Inception network and the Fréchet distance are pytorch-fid's (`InceptionV3`, `calculate_frechet_distance`).
This module only decides which weights the network gets, in this order:

1. `weights_path` (a local `.pth` state_dict): loaded, and named `inception-fid` when its SHA-256 is the one of
   pytorch-fid's published weights (`pt_inception-2015-12-05-6726825d.pth`), else `inception-local-<sha8>`;
2. pytorch-fid's own weights from the torch hub cache, or downloaded there when `allow_download`;
3. otherwise a **seeded random initialisation** (`inception-random-seed<k>`), with a loud warning. Its batch-norm
   statistics are then recalibrated on a fixed sample of training-split colour images (`momentum=None`, running
   stats reset, forward passes in train mode without gradients, then eval): left at mean 0 / variance 1 the
   activations vanish with depth and every FID is 0.000. Only the batch-norm buffers need caching
   (`save` / `from_file`, or the `calibration_cache` argument of `load`), since the weights are rebuilt from the seed.

A feature block smaller than pool3 (`dims` 768, 192 or 64) can be chosen for tiny samples; it is part of the name
(`-d768`). FIDs from different backbones, or from one random backbone calibrated on different images, are never
comparable: `FIDFeatures` carries the backbone's identity and `fid_between` refuses to mix them.

With fewer images than feature dimensions both covariances are singular and `scipy.linalg.sqrtm` on 2048×2048
matrices takes ~15 s on one CPU core. `frechet_distance` therefore first expresses both samples in an orthonormal
basis of the span of their centred activations and of the mean difference. Means, traces and the trace of the
square root of the covariance product are unchanged by that rotation, so the distance is exact (checked against
the full-dimensional call to 1e-7 relative); pytorch-fid's function then runs on matrices of side ≤ N_a + N_b + 1.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping
from unittest import mock

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from pytorch_fid import inception as pytorch_fid_inception
from pytorch_fid.fid_score import calculate_frechet_distance
from pytorch_fid.inception import FID_WEIGHTS_URL, InceptionV3
import scipy.linalg
from scipy.linalg import LinAlgWarning
from torch import nn

from rasc.atomic import atomic_path
from rasc.utils import file_sha256

LOGGER = logging.getLogger(__name__)

FID_WEIGHTS_SHA256_PREFIX = "6726825d"  # pytorch-fid's weights file name carries the first 8 hex digits of its SHA-256
FEATURE_DIMS = tuple(sorted(InceptionV3.BLOCK_INDEX_BY_DIM))  # (64, 192, 768, 2048)
CALIBRATION_FORMAT_VERSION = 1


class FIDFallbackWarning(UserWarning):
    """The real FID Inception weights could not be had; numbers are not comparable to published FIDs."""


@dataclass(frozen=True)
class FIDConfig:
    """How the FID backbone is obtained (config keys `eval.fid_weights`, `fid_dims`, `fid_calibration_images`)."""

    weights_path: str | None = None  # local Inception state_dict (.pth); None: hub cache, then download, then fallback
    allow_download: bool = True  # let pytorch-fid download its weights into the torch hub cache when missing
    seed: int = 0  # seed of the random fallback's initialisation
    dims: int = 2048  # feature block: 2048 (pool3, standard FID); 768, 192 or 64 for tiny samples (named "-d<dims>")
    calibration_size: int = 200  # training-split colour images used to recalibrate the fallback's batch norms
    batch_size: int = 50  # images per forward pass
    device: str = "cpu"  # torch device of the Inception network

    def __post_init__(self) -> None:
        if self.dims not in FEATURE_DIMS:
            raise ValueError(f"fid dims must be one of {FEATURE_DIMS}, got {self.dims}")
        if self.calibration_size < 2:
            raise ValueError(f"fid calibration_size must be >= 2, got {self.calibration_size}")
        if self.batch_size < 1:
            raise ValueError(f"fid batch_size must be >= 1, got {self.batch_size}")


@dataclass(frozen=True)
class FIDFeatures:
    """Inception activations of one image set, tagged with the backbone that produced them."""

    backbone_identity: str  # FIDBackbone.identity: name plus calibration fingerprint for the random fallback
    activations: np.ndarray  # (N, D) float32

    def save(self, path: str | os.PathLike) -> None:
        """Write to an `.npz` file (e.g. the reference features of a test split, computed once)."""
        np.savez(path, backbone_identity=np.array(self.backbone_identity), activations=self.activations)

    @classmethod
    def load(cls, path: str | os.PathLike) -> FIDFeatures:
        with np.load(path) as data:
            return cls(backbone_identity=str(data["backbone_identity"]), activations=data["activations"])


def _check_images(images: np.ndarray, what: str) -> None:
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        shape = getattr(images, "shape", None)
        dtype = getattr(images, "dtype", type(images).__name__)
        raise ValueError(f"{what} must be a uint8 array of shape (N, H, W, 3), got {dtype} {shape}")
    if len(images) == 0:
        raise ValueError(f"{what} is empty")


def _distinct_images(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The index of each distinct image's first occurrence, in order (U,), and each image's place among them (N,).

    Images are told apart by their SHA-256, so the index holds 32 bytes per image rather than a copy of it."""
    place: dict[bytes, int] = {}
    inverse = np.array([place.setdefault(hashlib.sha256(np.ascontiguousarray(image)).digest(), len(place))
                        for image in images])
    return np.unique(inverse, return_index=True)[1], inverse


def _hub_weights_file() -> Path:
    """Where pytorch-fid's `load_state_dict_from_url` caches its weights."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(FID_WEIGHTS_URL)


def _array_sha256(images: np.ndarray) -> str:
    digest = hashlib.sha256(str(images.shape).encode())
    digest.update(np.ascontiguousarray(images).tobytes())
    return digest.hexdigest()


def random_inception_state_dict(seed: int) -> dict[str, torch.Tensor]:
    """State dict of pytorch-fid's Inception with PyTorch's default random initialisation, drawn from `seed`.

    The FID Inception's patched blocks only change `forward`, so torchvision's `inception_v3` (1008 classes, no
    auxiliary head) has exactly its parameter names and shapes; loading is strict, which checks that.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        network = torchvision.models.inception_v3(num_classes=1008, aux_logits=False, weights=None,
                                                  init_weights=False)
    return network.state_dict()


def _build_inception(state_dict: Mapping[str, torch.Tensor], dims: int) -> InceptionV3:
    """pytorch-fid's InceptionV3 up to the block giving `dims` features, with the given weights (no download)."""
    with mock.patch.object(pytorch_fid_inception, "load_state_dict_from_url", lambda *args, **kwargs: state_dict):
        network = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[dims]], resize_input=True, normalize_input=True)
    return network.eval()


def _batch_norms(network: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [module for module in network.modules() if isinstance(module, nn.modules.batchnorm._BatchNorm)]


def _weights_fingerprint(network: nn.Module) -> str:
    """SHA-256 of the learnable parameters (not the batch-norm buffers), to match cached calibrations to weights."""
    digest = hashlib.sha256()
    for name, parameter in network.named_parameters():
        digest.update(name.encode())
        digest.update(parameter.detach().cpu().numpy().tobytes())
    return digest.hexdigest()


class FIDBackbone:
    """pytorch-fid's InceptionV3 with known weights, turning uint8 images into (N, dims) activations."""

    def __init__(self, network: InceptionV3, *, name: str, dims: int, source: str, seed: int | None = None,
                 weights_file: Path | None = None, device: str | torch.device = "cpu", batch_size: int = 50):
        self.network = network.to(device).eval()  # pytorch-fid InceptionV3, eval mode
        self.name = name  # table label: "inception-fid", "inception-local-<sha8>", "inception-random-seed<k>[-d<D>]"
        self.dims = dims  # feature dimension (2048 = pool3)
        self.source = source  # where the weights came from, in words
        self.seed = seed  # seed of the random initialisation; None for loaded weights
        self.weights_file = weights_file  # the state_dict file of loaded weights; None for the random fallback
        self.device = torch.device(device)
        self.batch_size = batch_size  # default images per forward pass
        self.calibration_fingerprint: str | None = None  # SHA-256 of the calibration images (random fallback only)
        self.calibration_size: int | None = None  # number of calibration images (random fallback only)

    # ----------------------------------------------------------------------------------------------------- loading
    @classmethod
    def load(cls, weights_path: str | os.PathLike | None = None, seed: int = 0, calibration_images: np.ndarray |
             None = None, device: str | torch.device = "cpu", *, dims: int = 2048, batch_size: int = 50,
             allow_download: bool = True, calibration_cache: str | os.PathLike | None = None) -> FIDBackbone:
        """The best backbone that can be had: local weights, pytorch-fid's weights, else the calibrated fallback.

        An explicit `weights_path` that does not exist or does not load is an error, not a reason to fall back.
        `calibration_images` (uint8 (N, H, W, 3), training-split colour images) are required by the random fallback
        unless `calibration_cache` holds a calibration made with the same seed, dims and weights (and, when
        images are given, the same images); a fresh calibration is written to `calibration_cache`.
        """
        if dims not in FEATURE_DIMS:
            raise ValueError(f"fid dims must be one of {FEATURE_DIMS}, got {dims}")
        if weights_path is not None:
            return cls.from_weights_file(weights_path, dims=dims, device=device, batch_size=batch_size)
        hub_file = _hub_weights_file()
        if hub_file.is_file() or allow_download:
            try:
                if not hub_file.is_file():
                    pytorch_fid_inception.load_state_dict_from_url(FID_WEIGHTS_URL, progress=False)  # downloads
                return cls.from_weights_file(hub_file, dims=dims, device=device, batch_size=batch_size)
            except Exception as error:  # noqa: BLE001 - offline (URLError), corrupt cache...: fall back, say why
                reason = f"{type(error).__name__}: {error}"
        else:
            reason = f"{hub_file} is missing and downloads are disabled"
        message = (f"FID FALLBACK: pytorch-fid's Inception weights are unavailable ({reason}). Using a RANDOMLY "
                   f"INITIALISED InceptionV3 (seed {seed}) with batch norms recalibrated on training images. These "
                   f"FIDs rank methods within this project only and are NOT comparable to published FIDs. Set "
                   f"the FID weights path to {os.path.basename(FID_WEIGHTS_URL)} to use the real network.")
        LOGGER.warning(message)
        warnings.warn(message, FIDFallbackWarning, stacklevel=2)
        backbone = cls.random(seed, dims=dims, device=device, batch_size=batch_size)
        backbone._ensure_calibrated(calibration_images, calibration_cache)
        return backbone

    @classmethod
    def from_config(cls, config: FIDConfig, calibration_images: np.ndarray | None = None,
                    calibration_cache: str | os.PathLike | None = None) -> FIDBackbone:
        """`load` with the fields of an `FIDConfig`."""
        return cls.load(config.weights_path, config.seed, calibration_images, config.device, dims=config.dims,
                        batch_size=config.batch_size, allow_download=config.allow_download,
                        calibration_cache=calibration_cache)

    @classmethod
    def from_weights_file(cls, path: str | os.PathLike, *, dims: int = 2048, device: str | torch.device = "cpu",
                          batch_size: int = 50) -> FIDBackbone:
        """Inception with the state_dict in `path`: named `inception-fid` if it is pytorch-fid's published file
        (by SHA-256), else `inception-local-<sha8>`."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"FID weights file {path} does not exist (set the path to null to use the "
                                    f"fallback)")
        try:
            state_dict = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # noqa: BLE001 - any unpickling failure means "not a weights file"
            raise ValueError(f"FID weights file {path} cannot be read: {error}") from error
        sha = file_sha256(path)
        name = "inception-fid" if sha.startswith(FID_WEIGHTS_SHA256_PREFIX) else f"inception-local-{sha[:8]}"
        suffix = "" if dims == 2048 else f"-d{dims}"
        return cls(_build_checked(state_dict, dims, str(path)), name=name + suffix, dims=dims,
                   source=f"weights file {path} (sha256 {sha[:16]})", weights_file=path, device=device,
                   batch_size=batch_size)

    @classmethod
    def random(cls, seed: int, *, dims: int = 2048, device: str | torch.device = "cpu",
               batch_size: int = 50) -> FIDBackbone:
        """The seeded random Inception, NOT yet calibrated (call `calibrate` or `load_calibration` before use)."""
        if dims not in FEATURE_DIMS:
            raise ValueError(f"fid dims must be one of {FEATURE_DIMS}, got {dims}")
        suffix = "" if dims == 2048 else f"-d{dims}"
        network = _build_inception(random_inception_state_dict(seed), dims)
        return cls(network, name=f"inception-random-seed{seed}{suffix}", dims=dims,
                   source=f"random initialisation, seed {seed}", seed=seed, device=device, batch_size=batch_size)

    @property
    def is_random(self) -> bool:
        """True for the random fallback (its numbers are not comparable to published FIDs)."""
        return self.seed is not None

    @property
    def identity(self) -> str:
        """Name plus calibration fingerprint: features are comparable only between equal identities."""
        if self.calibration_fingerprint is None:
            return self.name
        return f"{self.name}@calib-{self.calibration_fingerprint[:12]}"

    def describe(self) -> dict[str, object]:
        """Flat description for `tracker.log_params` and table columns."""
        return {"fid_backbone": self.name, "fid_backbone_source": self.source, "fid_dims": self.dims,
                "fid_calibration_images": self.calibration_size, "fid_identity": self.identity}

    # ------------------------------------------------------------------------------------------------- calibration
    def calibrate(self, images: np.ndarray, batch_size: int | None = None) -> None:
        """Recompute every batch-norm's running mean/variance on `images` (uint8 (N, H, W, 3), N >= 2).

        Running stats are reset, `momentum=None` makes them cumulative averages over the batches (split into
        near-equal sizes), forward passes run in train mode without gradients, and the network returns to eval.
        """
        _check_images(images, "calibration_images")
        if len(images) < 2:
            raise ValueError(f"calibration needs at least 2 images, got {len(images)}")
        batch_norms = _batch_norms(self.network)
        momenta = [bn.momentum for bn in batch_norms]
        for bn in batch_norms:
            bn.reset_running_stats()
            bn.momentum = None
        num_batches = math.ceil(len(images) / (batch_size or self.batch_size))
        self.network.train()
        try:
            with torch.no_grad():
                for batch in np.array_split(images, num_batches):
                    self.network(self._to_tensor(batch))
        finally:
            self.network.eval()
            for bn, momentum in zip(batch_norms, momenta):
                bn.momentum = momentum
        self.calibration_fingerprint = _array_sha256(images)
        self.calibration_size = len(images)

    def calibration_state(self) -> dict[str, object]:
        """The calibrated batch-norm buffers and what they were computed with (all `save` needs for the fallback)."""
        buffers = {key: value.detach().cpu() for key, value in self.network.state_dict().items()
                   if key.rsplit(".", 1)[-1] in ("running_mean", "running_var", "num_batches_tracked")}
        return {"format_version": CALIBRATION_FORMAT_VERSION, "kind": "random", "name": self.name,
                "seed": self.seed, "dims": self.dims, "weights_sha256": _weights_fingerprint(self.network),
                "calibration_sha256": self.calibration_fingerprint, "calibration_size": self.calibration_size,
                "batch_norm_buffers": buffers}

    def load_calibration(self, path: str | os.PathLike) -> None:
        """Load batch-norm statistics written by `save` for these exact random weights and dims."""
        state = _read_backbone_file(path)
        if state.get("kind") != "random" or state["dims"] != self.dims or \
                state["weights_sha256"] != _weights_fingerprint(self.network):
            raise ValueError(f"{path}: calibration was made for {state['name']} with other weights or dims than "
                             f"{self.name}; delete it to recalibrate")
        missing = self.network.load_state_dict(state["batch_norm_buffers"], strict=False).missing_keys
        if any(key.endswith(("running_mean", "running_var")) for key in missing):
            raise ValueError(f"{path}: calibration lacks batch-norm buffers of {self.name}")
        self.calibration_fingerprint = state["calibration_sha256"]
        self.calibration_size = state["calibration_size"]

    def save(self, path: str | os.PathLike) -> None:
        """Write what `from_file` needs: the calibrated batch norms of the fallback (a few hundred kB, the weights
        are rebuilt from the seed), or the location of the weights file."""
        if self.is_random:
            if self.calibration_fingerprint is None:
                raise ValueError(f"backbone {self.name} has not been calibrated; calibrate it before saving")
            state = self.calibration_state()
        else:
            state = {"format_version": CALIBRATION_FORMAT_VERSION, "kind": "weights", "name": self.name,
                     "dims": self.dims, "weights_file": str(self.weights_file)}
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, durable=True) as temporary, open(temporary, "wb") as stream:  # never half-written
            torch.save(state, stream)

    @classmethod
    def from_file(cls, path: str | os.PathLike, device: str | torch.device = "cpu",
                  batch_size: int = 50) -> FIDBackbone:
        """Rebuild a backbone written by `save` (weights checked against the recorded fingerprints)."""
        state = _read_backbone_file(path)
        if state.get("kind") == "weights":
            backbone = cls.from_weights_file(state["weights_file"], dims=int(state["dims"]), device=device,
                                             batch_size=batch_size)
            if backbone.name != state["name"]:
                raise ValueError(f"{path}: weights file {state['weights_file']} changed since it was saved "
                                 f"({state['name']} then, {backbone.name} now)")
            return backbone
        backbone = cls.random(int(state["seed"]), dims=int(state["dims"]), device=device, batch_size=batch_size)
        backbone.load_calibration(path)
        return backbone

    def save_calibrated(self, path: str | os.PathLike) -> None:
        """`save` for the calibrated random fallback (its batch-norm statistics are costly to recompute on CPU)."""
        if not self.is_random:
            raise ValueError(f"backbone {self.name} uses loaded weights; there is no calibration to save")
        self.save(path)

    @classmethod
    def load_calibrated(cls, path: str | os.PathLike, device: str | torch.device = "cpu",
                        batch_size: int = 50) -> FIDBackbone:
        """`from_file` for a file written by `save_calibrated`."""
        if _read_backbone_file(path).get("kind") != "random":
            raise ValueError(f"{path} is not a calibration of a random FID backbone")
        return cls.from_file(path, device, batch_size)

    def _ensure_calibrated(self, images: np.ndarray | None, cache: str | os.PathLike | None) -> None:
        if cache is not None and Path(cache).is_file():
            state = _read_backbone_file(cache)
            same_images = images is None or state.get("calibration_sha256") == _array_sha256(images)
            if state.get("kind") == "random" and state.get("seed") == self.seed and state.get("dims") == self.dims \
                    and same_images:
                self.load_calibration(cache)
                return
            LOGGER.warning("FID calibration cache %s was made with other settings or images; recalibrating", cache)
        if images is None:
            raise ValueError("the random FID fallback needs calibration_images (a fixed sample of training-split "
                             "colour images) or an existing calibration_cache; uncalibrated, every FID is 0")
        self.calibrate(images)
        if cache is not None:
            self.save(cache)

    # ---------------------------------------------------------------------------------------------------- features
    def _to_tensor(self, images: np.ndarray) -> torch.Tensor:
        batch = torch.from_numpy(np.ascontiguousarray(images)).to(self.device)  # (B, H, W, 3) uint8
        return batch.permute(0, 3, 1, 2).float() / 255.0  # (B, 3, H, W) in [0, 1], as pytorch-fid expects

    def activations(self, images: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Inception features of uint8 RGB images (N, H, W, 3), any size (resized to 299 by pytorch-fid): (N, dims).

        Each distinct image goes through the network once (a flat-colour reference repeats one image N times);
        without repeats the batches, and so the features, are those of the plain loop."""
        _check_images(images, "images")
        first, inverse = _distinct_images(images)
        distinct = images[first]  # (U, H, W, 3): without repeats the same images in the same order
        step = batch_size or self.batch_size
        outputs = []
        with torch.no_grad():
            for start in range(0, len(distinct), step):
                features = self.network(self._to_tensor(distinct[start:start + step]))[0]  # (B, dims, h, w)
                if features.shape[2:] != (1, 1):
                    features = F.adaptive_avg_pool2d(features, output_size=(1, 1))  # as pytorch-fid does
                outputs.append(features[:, :, 0, 0].cpu().numpy())  # (B, dims)
        return np.concatenate(outputs).astype(np.float32)[inverse]  # (N, dims)

    def features(self, images: np.ndarray, batch_size: int | None = None) -> FIDFeatures:
        """`activations` tagged with this backbone's identity, ready to cache (e.g. a test split's reference)."""
        return FIDFeatures(self.identity, self.activations(images, batch_size))

    def __repr__(self) -> str:
        return f"FIDBackbone(name={self.name!r}, dims={self.dims}, source={self.source!r})"


def _read_backbone_file(path: str | os.PathLike) -> dict:
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format_version") != CALIBRATION_FORMAT_VERSION:
        raise ValueError(f"{path} is not an FID backbone file of format {CALIBRATION_FORMAT_VERSION}")
    return state


def _build_checked(state_dict: object, dims: int, origin: str) -> InceptionV3:
    if not isinstance(state_dict, Mapping):
        raise ValueError(f"{origin} does not hold a state_dict (got {type(state_dict).__name__})")
    try:
        return _build_inception(state_dict, dims)
    except RuntimeError as error:
        raise ValueError(f"{origin} is not a pytorch-fid Inception state_dict: {error}") from error


# ---------------------------------------------------------------------------------------------------------- distance
def frechet_distance(activations_a: np.ndarray, activations_b: np.ndarray) -> float:
    """FID between two activation sets (N_a, D), (N_b, D), via pytorch-fid's `calculate_frechet_distance`.

    When N_a + N_b + 1 < D both sets are first rotated into an orthonormal basis of the span of their centred
    activations and of the mean difference (exact, see the module docstring). Tiny negative values from rounding
    are returned as 0.
    """
    if activations_a.ndim != 2 or activations_b.ndim != 2 or activations_a.shape[1] != activations_b.shape[1]:
        raise ValueError(f"activations must be (N, D) with equal D, got {activations_a.shape} and "
                         f"{activations_b.shape}")
    if len(activations_a) < 2 or len(activations_b) < 2:
        raise ValueError(f"FID needs at least 2 images per set, got {len(activations_a)} and {len(activations_b)}")
    a = activations_a.astype(np.float64)
    b = activations_b.astype(np.float64)
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    if len(a) + len(b) + 1 < a.shape[1]:
        spanning = np.concatenate([a - mean_a, b - mean_b, (mean_a - mean_b)[None]]).T  # (D, N_a + N_b + 1)
        basis, _ = np.linalg.qr(spanning)  # (D, N_a + N_b + 1) orthonormal columns
        a, b = a @ basis, b @ basis
        mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The `disp` argument is deprecated", category=DeprecationWarning)
        # with N <= D the covariances are singular by construction; sqrtm says so on every call
        warnings.filterwarnings("ignore", message="Matrix is (ill-conditioned|singular)", category=LinAlgWarning)
        distance = _calculate_frechet_distance(mean_a, np.cov(a, rowvar=False), mean_b, np.cov(b, rowvar=False))
    return max(float(distance), 0.0)


def _calculate_frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """pytorch-fid's `calculate_frechet_distance`; where SciPy no longer takes the ``disp`` argument that pytorch-fid
    0.3.0 passes to ``sqrtm`` (SciPy 1.18 removed it), the same formula with SciPy's current ``sqrtm``."""
    try:
        return float(calculate_frechet_distance(mu1, sigma1, mu2, sigma2))
    except TypeError as error:
        if "disp" not in str(error):
            raise
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():  # as pytorch-fid: a tiny offset for a singular product
        offset = np.eye(len(sigma1)) * 1e-6
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean).real)


def fid_between(features_a: FIDFeatures, features_b: FIDFeatures) -> float:
    """FID between two cached feature sets; refuses features of different backbones or calibrations."""
    if features_a.backbone_identity != features_b.backbone_identity:
        raise ValueError(f"FID features from different backbones are not comparable: "
                         f"{features_a.backbone_identity!r} vs {features_b.backbone_identity!r}")
    return frechet_distance(features_a.activations, features_b.activations)


def fid(backbone: FIDBackbone, images_a: np.ndarray, images_b: np.ndarray, batch_size: int | None = None) -> float:
    """FID between two uint8 image sets (N, H, W, 3) under `backbone` (record `backbone.name` beside it)."""
    return frechet_distance(backbone.activations(images_a, batch_size), backbone.activations(images_b, batch_size))


def fid_floor(backbone: FIDBackbone, reference: np.ndarray, second_sample: np.ndarray,
              batch_size: int | None = None) -> float:
    """FID of a second real sample against the reference: FID's sampling noise at this sample size.

    Not a lower bound: outputs paired with the reference images can score below it (a perfect colouring scores 0).
    FID is biased upward for small N, so `second_sample` should have as many images as the evaluated outputs.
    """
    return fid(backbone, second_sample, reference, batch_size)


def floor_record(backbone: FIDBackbone, training: np.ndarray, reference: FIDFeatures, count: int) -> dict:
    """The FID floor of an evaluation of `count` outputs, as written to `results/eval/fid_floor*.json`.

    The last `count` training images (a second sample of the reference's distribution, disjoint from it; all of
    them when there are fewer) against the reference features, with the backbone's name and the sample size.
    """
    second_sample = training[-count:]  # (count, H, W, 3)
    return {
        "fid_floor": fid_between(backbone.features(second_sample), reference),
        "fid_backbone": backbone.name,
        "images": len(second_sample),
    }


def calibration_sample(images: np.ndarray, size: int, seed: int) -> np.ndarray:
    """A fixed, seeded subset of `size` training images (all of them when fewer), in their original order."""
    _check_images(images, "images")
    if size >= len(images):
        return images
    chosen = np.sort(np.random.default_rng(seed).choice(len(images), size=size, replace=False))
    return images[chosen]
