"""Learned region extraction, DanbooRegion-style (Zhang et al. 2020, paper [23]).

A small U-Net (`rasc.regions.unet`) predicts DanbooRegion's skeleton field from the sketch: 0 on region boundaries,
1 on region skeletons, smoothly in between. Regions are recovered by thresholding the field into markers (one
connected blob per region) and a watershed of the inverted field from those markers, which labels every pixel,
boundary pixels included; regions below a minimum area merge into the neighbour with the longest shared border.

The published DanbooRegion weights are not available here, so the net is trained on the ground-truth regions of the
training split (`train_region_net`). By default it sees only the XDoG sketches of those illustrations
(`training_set(..., styles=("xdog",))`): the paper's DanbooRegion never saw our clean (test set B) or rough (C) line
styles, and training on them as well would make the learned source the more accurate one on B and C, reversing the
premise of the paper's Table III. The all-styles net stays available (`regions.learned.train_styles`, and the
region source `learned_all_styles`). The target replaces DanbooRegion's harmonic interpolation between boundary and
skeleton by the normalised distance d_b / (d_b + d_s) (d_b: distance to the region boundary, d_s: distance to the
skeleton), the usual closed-form stand-in: exact across a straight strip, monotone and 0/1 at the same places
elsewhere, and two distance transforms instead of a sparse Laplace solve per image.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from skimage.segmentation import watershed

from rasc.regions.labels import merge_small_regions, relabel_contiguous
from rasc.regions.skeleton import skeleton_field
from rasc.regions.sources import TRAIN_STYLES
from rasc.regions.trapped_ball import check_sketch
from rasc.regions.unet import RegionUNet
from rasc.tracking import NullTracker
from rasc.training.checkpoint import CheckpointError, atomic_torch_save, load_state_checked, safe_torch_load

CHECKPOINT_FORMAT = "rasc-region-net"
CHECKPOINT_FORMAT_VERSION = 1


@dataclass(frozen=True)
class RegionNetConfig:
    """Architecture, training and inference settings of the learned region extractor (stored in the checkpoint)."""

    base_channels: int = 8  # width of the U-Net's first level, doubled per level
    depth: int = 3  # number of 2x poolings in the U-Net
    steps: int = 600  # training steps
    batch_size: int = 8  # crops per step
    crop_size: int = 64  # training crop side (px); whole images when they are smaller
    lr: float = 0.002  # Adam learning rate
    seed: int = 0  # training seed (initialisation, crops, flips)
    marker_threshold: float = 0.5  # inference: field above this forms region markers
    min_region_area: float = 12.0  # inference: regions smaller than this (px at a 256 long side, scaled) merge
    reference_size: int = 256  # long side at which min_region_area is given
    log_every: int = 50  # training: log the loss to the tracker every this many steps

    def __post_init__(self) -> None:
        for name in ("base_channels", "depth", "steps", "batch_size", "crop_size", "reference_size", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"RegionNetConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"RegionNetConfig.lr must be > 0, got {self.lr}")
        if not 0.0 < self.marker_threshold < 1.0:
            raise ValueError(f"RegionNetConfig.marker_threshold must be in (0, 1), got {self.marker_threshold}")
        if self.crop_size % 2**self.depth:
            raise ValueError(f"crop_size {self.crop_size} must be a multiple of 2**depth = {2**self.depth}")


# ---------------------------------------------------------------------------------------------------- target field


def regions_from_field(field: np.ndarray, marker_threshold: float = 0.5, min_region_area: float = 0.0) -> np.ndarray:
    """Label image (uint16, 0..K-1, every pixel labelled) from a skeleton field (H, W) in [0, 1].

    Markers: 4-connected components of field > marker_threshold; watershed of -field from them (every pixel gets a
    label, boundaries included); regions below min_region_area pixels merge into their longest-border neighbour.
    A field with no marker gives one region.
    """
    field = np.asarray(field, dtype=np.float32)
    if field.ndim != 2:
        raise ValueError(f"field must be (H, W), got shape {field.shape}")
    markers, n_markers = ndimage.label(field > marker_threshold)  # 4-connected by default
    if n_markers == 0:
        return np.zeros(field.shape, np.uint16)
    labels = watershed(-field, markers, connectivity=1)  # (H, W) 1..n_markers
    labels = merge_small_regions(labels, min_area=min_region_area)
    return relabel_contiguous(labels)


# ---------------------------------------------------------------------------------------------------- training

def training_set(
    illustrations: dict[str, np.ndarray], xdog_sketches: np.ndarray, styles: tuple[str, ...] | list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(sketches, ground-truth regions) to train on: the training illustrations once per sketch style in `styles`.

    illustrations: the training split's arrays ("regions" (N, H, W), and "lines_clean" / "lines_rough" when those
    styles are asked for); xdog_sketches: uint8 (N, H, W). Returns uint8 (S·N, H, W) and labels (S·N, H, W), S =
    len(styles), styles in the order given.
    """
    unknown = sorted(set(styles) - set(TRAIN_STYLES))
    if not styles or unknown or len(set(styles)) != len(styles):
        raise ValueError(f"train_styles must be distinct names from {TRAIN_STYLES}, got {list(styles)}")
    if "regions" not in illustrations:
        raise ValueError("the learned region extractor trains on ground-truth regions: these illustrations have none")
    for style in styles:
        if style != "xdog" and f"lines_{style}" not in illustrations:
            raise ValueError(f"train style {style!r} needs line art stored with the illustrations (lines_{style})")
    sketches = np.concatenate(
        [np.asarray(xdog_sketches if style == "xdog" else illustrations[f"lines_{style}"]) for style in styles]
    )  # (S·N, H, W)
    regions = np.concatenate([illustrations["regions"]] * len(styles))  # (S·N, H, W)
    return sketches, regions


def sketch_to_tensor(sketches: np.ndarray) -> torch.Tensor:
    """uint8 sketches (N, H, W) -> float32 (N, 1, H, W) in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(sketches)).float().div(127.5).sub(1.0).unsqueeze(1)


def train_region_net(
    sketches: np.ndarray,
    gt_regions: np.ndarray,
    cfg: RegionNetConfig,
    checkpoint_path: str | Path,
    tracker: Any = None,
    progress: bool = True,
    device: str | torch.device = "cpu",
) -> dict[str, float]:
    """Train the U-Net on (sketch, ground-truth regions) pairs and save a checkpoint; returns training statistics.

    sketches: uint8 (N, H, W); gt_regions: integer (N, H, W). Each step draws `batch_size` random crops of
    `crop_size` with random flips and 90° rotations. The loss is the mean squared error of the field. The checkpoint
    (written atomically) holds the state_dict, the config, the step and a format version.
    """
    tracker = tracker if tracker is not None else NullTracker()
    sketches, gt_regions = _check_training_set(sketches, gt_regions)
    start = time.perf_counter()
    targets = np.stack([skeleton_field(regions) for regions in gt_regions])  # (N, H, W) float32
    target_seconds = time.perf_counter() - start

    generator = torch.Generator().manual_seed(cfg.seed)
    torch_state = torch.random.get_rng_state()
    torch.manual_seed(cfg.seed)  # initialisation only; the caller's global RNG state is restored below
    net = RegionUNet(base_channels=cfg.base_channels, depth=cfg.depth).to(device)
    torch.random.set_rng_state(torch_state)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    sketch_tensor = sketch_to_tensor(sketches)  # (N, 1, H, W)
    target_tensor = torch.from_numpy(targets).unsqueeze(1)  # (N, 1, H, W)
    tracker.log_params({"regions_learned": dataclasses.asdict(cfg)})

    steps = range(cfg.steps)
    if progress:
        from tqdm import tqdm

        steps = tqdm(steps, desc="region net", unit="step")
    net.train()
    recent_losses: list[float] = []
    train_start = time.perf_counter()
    for step in steps:
        batch_sketch, batch_target = _random_crops(sketch_tensor, target_tensor, cfg, generator)
        predicted = net(batch_sketch.to(device))
        loss = F.mse_loss(predicted, batch_target.to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        recent_losses = (recent_losses + [loss.item()])[-cfg.log_every :]
        if (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps:
            tracker.log_metrics({"regions_learned/loss": float(np.mean(recent_losses))}, step=step + 1)
            if progress:
                steps.set_postfix(loss=f"{np.mean(recent_losses):.4f}")
    train_seconds = time.perf_counter() - train_start

    stats = {
        "final_loss": float(np.mean(recent_losses)),
        "steps": float(cfg.steps),
        "n_images": float(len(sketches)),
        "train_seconds": train_seconds,
        "seconds_per_step": train_seconds / cfg.steps,
        "target_seconds": target_seconds,
    }
    save_region_net(checkpoint_path, net, cfg, step=cfg.steps, stats=stats)
    return stats


def _check_training_set(sketches: np.ndarray, gt_regions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sketches = np.asarray(sketches)
    gt_regions = np.asarray(gt_regions)
    if sketches.dtype != np.uint8 or sketches.ndim != 3:
        raise ValueError(f"sketches must be uint8 (N, H, W), got {sketches.dtype} {sketches.shape}")
    if gt_regions.shape != sketches.shape:
        raise ValueError(f"gt_regions shape {gt_regions.shape} differs from sketches shape {sketches.shape}")
    if len(sketches) == 0:
        raise ValueError("no training images")
    if not np.issubdtype(gt_regions.dtype, np.integer):
        raise ValueError(f"gt_regions must be integer labels, got {gt_regions.dtype}")
    return sketches, gt_regions


def _random_crops(
    sketches: torch.Tensor, targets: torch.Tensor, cfg: RegionNetConfig, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """`batch_size` random crops (padded with paper / zero field where images are smaller), flips and rotations."""
    n_images, _, height, width = sketches.shape
    crop = cfg.crop_size
    pad_height, pad_width = max(0, crop - height), max(0, crop - width)
    batch_sketch, batch_target = [], []
    for index in torch.randint(n_images, (cfg.batch_size,), generator=generator).tolist():
        sketch, target = sketches[index], targets[index]  # (1, H, W)
        if pad_height or pad_width:
            sketch = F.pad(sketch, (0, pad_width, 0, pad_height), value=1.0)
            target = F.pad(target, (0, pad_width, 0, pad_height), value=0.0)
        top = int(torch.randint(sketch.shape[-2] - crop + 1, (1,), generator=generator))
        left = int(torch.randint(sketch.shape[-1] - crop + 1, (1,), generator=generator))
        sketch = sketch[:, top : top + crop, left : left + crop]
        target = target[:, top : top + crop, left : left + crop]
        n_rotations = int(torch.randint(4, (1,), generator=generator))
        flip = bool(torch.randint(2, (1,), generator=generator))
        sketch, target = torch.rot90(sketch, n_rotations, (1, 2)), torch.rot90(target, n_rotations, (1, 2))
        if flip:
            sketch, target = sketch.flip(-1), target.flip(-1)
        batch_sketch.append(sketch)
        batch_target.append(target)
    return torch.stack(batch_sketch), torch.stack(batch_target)  # (B, 1, crop, crop) each


# ---------------------------------------------------------------------------------------------------- checkpoints


def save_region_net(
    path: str | Path, net: RegionUNet, cfg: RegionNetConfig, step: int, stats: dict[str, float] | None = None
) -> None:
    """Write {format, format_version, config, state_dict, step, stats} atomically (tmp file, then os.replace)."""
    checkpoint = {
        "format": CHECKPOINT_FORMAT,
        "format_version": CHECKPOINT_FORMAT_VERSION,
        "config": dataclasses.asdict(cfg),
        "state_dict": {name: tensor.detach().cpu() for name, tensor in net.state_dict().items()},
        "step": int(step),
        "stats": {name: float(value) for name, value in (stats or {}).items()},
    }
    atomic_torch_save(checkpoint, path)


def load_region_net(path: str | Path, device: str | torch.device = "cpu") -> tuple[RegionUNet, RegionNetConfig, int]:
    """Read a checkpoint written by `save_region_net` (weights_only=True); returns (net in eval mode, config, step).

    Raises CheckpointError for a missing, corrupt, foreign or incompatible file.
    """
    path = Path(path)
    checkpoint = safe_torch_load(path, "region-net checkpoint")
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not a region-net checkpoint (no format marker {CHECKPOINT_FORMAT!r})")
    if checkpoint.get("format_version") != CHECKPOINT_FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: region-net checkpoint format version {checkpoint.get('format_version')!r} is not supported "
            f"(expected {CHECKPOINT_FORMAT_VERSION})"
        )
    missing = [key for key in ("config", "state_dict", "step") if key not in checkpoint]
    if missing:
        raise CheckpointError(f"{path}: region-net checkpoint lacks {missing}")
    known = {field.name for field in dataclasses.fields(RegionNetConfig)}
    unknown = sorted(set(checkpoint["config"]) - known)
    if unknown:
        raise CheckpointError(f"{path}: stored RegionNetConfig has fields this rasc does not know: {unknown}")
    try:
        cfg = RegionNetConfig(**checkpoint["config"])
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{path}: stored RegionNetConfig is invalid ({error})") from None
    net = RegionUNet(base_channels=cfg.base_channels, depth=cfg.depth)
    load_state_checked(net, checkpoint["state_dict"], path, "region net")
    return net.to(device).eval(), cfg, int(checkpoint["step"])


# ---------------------------------------------------------------------------------------------------- inference


class LearnedRegionExtractor:
    """Sketch -> region labels with a trained region net. CPU by default; pass `device` for a GPU."""

    def __init__(self, net: RegionUNet, cfg: RegionNetConfig, device: str | torch.device = "cpu") -> None:
        self.net = net.to(device).eval()
        self.cfg = cfg
        self.device = torch.device(device)

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "cpu", **inference_overrides: Any):
        """Load a checkpoint; `inference_overrides` may replace marker_threshold and min_region_area."""
        allowed = {"marker_threshold", "min_region_area"}
        if set(inference_overrides) - allowed:
            raise ValueError(f"only {sorted(allowed)} can be overridden at load, got {sorted(inference_overrides)}")
        net, cfg, _ = load_region_net(path, device=device)
        return cls(net, dataclasses.replace(cfg, **inference_overrides), device=device)

    @torch.no_grad()
    def predict_field(self, sketches: np.ndarray) -> np.ndarray:
        """uint8 sketches (N, H, W) -> float32 fields (N, H, W) in [0, 1]; sizes are padded with paper as needed."""
        sketches = _check_sketch_batch(sketches)
        height, width = sketches.shape[1:]
        multiple = self.net.size_multiple
        pad_height, pad_width = (-height) % multiple, (-width) % multiple
        inputs = sketch_to_tensor(sketches).to(self.device)  # (N, 1, H, W)
        inputs = F.pad(inputs, (0, pad_width, 0, pad_height), value=1.0)  # paper beyond the edge
        field = self.net(inputs)[:, 0, :height, :width]  # (N, H, W)
        return field.float().cpu().numpy()

    def regions_from_fields(self, fields: np.ndarray) -> np.ndarray:
        """Fields (N, H, W) -> labels (N, H, W) uint16 with this extractor's thresholds."""
        height, width = fields.shape[1:]
        min_area = self.cfg.min_region_area * (max(height, width) / self.cfg.reference_size) ** 2
        return np.stack([regions_from_field(f, self.cfg.marker_threshold, min_area) for f in fields])

    def __call__(self, sketch: np.ndarray) -> np.ndarray:
        """uint8 sketch (H, W) -> uint16 labels (H, W), 0..K-1, every pixel labelled."""
        check_sketch(sketch)
        return self.regions_from_fields(self.predict_field(sketch[None]))[0]

    def batch(self, sketches: np.ndarray, batch_size: int = 16) -> np.ndarray:
        """uint8 sketches (N, H, W) -> uint16 labels (N, H, W), `batch_size` images per forward pass."""
        sketches = _check_sketch_batch(sketches)
        if len(sketches) == 0:
            return np.zeros(sketches.shape, np.uint16)
        chunks = [
            self.regions_from_fields(self.predict_field(sketches[start : start + batch_size]))
            for start in range(0, len(sketches), max(1, batch_size))
        ]
        return np.concatenate(chunks)


def _check_sketch_batch(sketches: np.ndarray) -> np.ndarray:
    if not isinstance(sketches, np.ndarray) or sketches.dtype != np.uint8 or sketches.ndim != 3:
        dtype = getattr(sketches, "dtype", type(sketches).__name__)
        raise ValueError(f"sketches must be a uint8 (N, H, W) array, got {dtype} {getattr(sketches, 'shape', '')}")
    return sketches


def field_preview(field: np.ndarray) -> np.ndarray:
    """A field (H, W) in [0, 1] as a grey uint8 (H, W, 3) image for logging."""
    grey = np.clip(np.asarray(field) * 255.0, 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=-1)


__all__ = [
    "LearnedRegionExtractor",
    "RegionNetConfig",
    "field_preview",
    "load_region_net",
    "regions_from_field",
    "save_region_net",
    "skeleton_field",
    "train_region_net",
    "training_set",
]
