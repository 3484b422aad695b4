"""Training triplets (sketch, colour, region map) in memory, and a step-indexed batch sampler.

The data order is a pure function of (seed, step): sample ``i`` of the global stream is
``permutation(seed, epoch)[i mod N]`` with ``epoch = i // N``; global batch ``s`` covers stream positions
``s·B .. s·B + B - 1`` and each rank takes every ``world_size``-th of them. So a resumed run continues the data
order exactly from its step, and N processes together see what one process would see with the same global batch.
Horizontal flips, and the ink-width jitter of the sketches, are drawn per stream position from the same seed.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from rasc.data.sketch import redraw_ink_width

FLIP_STREAM = 1  # sub-stream id of the flip draws (the permutations use stream 0)
WIDTH_STREAM = 2  # sub-stream id of the ink-width draws
KEEP_WIDTH = -1  # width seed of a sketch kept as drawn


@dataclass(frozen=True, eq=False)
class TrainData:
    """Aligned training arrays (the npz layout of the data stage)."""

    sketch: np.ndarray  # (N, H, W) uint8, 255 = paper, 0 = ink
    color: np.ndarray  # (N, H, W, 3) uint8 RGB
    regions: np.ndarray  # (N, H, W) integer labels 0..K-1 per image (uint16 on disk)
    loss_regions: np.ndarray | None = None  # (N, H, W) labels whose areas weight the pixel L1
    #                                         (train.l1_region_power); None: ``regions``

    def __post_init__(self) -> None:
        if self.sketch.ndim != 3 or self.sketch.dtype != np.uint8:
            raise ValueError(f"sketch must be (N, H, W) uint8, got {self.sketch.dtype} {self.sketch.shape}")
        if self.color.shape != (*self.sketch.shape, 3) or self.color.dtype != np.uint8:
            raise ValueError(
                f"color must be (N, H, W, 3) uint8 matching sketch {self.sketch.shape}, "
                f"got {self.color.dtype} {self.color.shape}"
            )
        if self.regions.shape != self.sketch.shape or not np.issubdtype(self.regions.dtype, np.integer):
            raise ValueError(
                f"regions must be (N, H, W) integer labels matching sketch {self.sketch.shape}, "
                f"got {self.regions.dtype} {self.regions.shape}"
            )
        if self.loss_regions is not None and (self.loss_regions.shape != self.sketch.shape
                                              or not np.issubdtype(self.loss_regions.dtype, np.integer)):
            raise ValueError(
                f"loss_regions must be (N, H, W) integer labels matching sketch {self.sketch.shape}, "
                f"got {self.loss_regions.dtype} {self.loss_regions.shape}"
            )
        if len(self.sketch) == 0:
            raise ValueError("training data is empty")
        if self.sketch.shape[1] != self.sketch.shape[2]:
            raise ValueError(f"training images must be square, got {self.sketch.shape[1]}x{self.sketch.shape[2]}")

    def __len__(self) -> int:
        return len(self.sketch)

    @property
    def image_size(self) -> int:
        return int(self.sketch.shape[1])


def _read_npz_key(path: str | Path, key: str) -> np.ndarray:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        archive = np.load(path)  # allow_pickle=False: an object array or a pickle is refused
    except (ValueError, OSError, EOFError, zipfile.BadZipFile):  # text, pickles and truncated files
        raise ValueError(f"{path}: not a .npz archive of arrays") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: a single .npy array, not a .npz archive with {key!r}")
    with archive:
        if key not in archive:
            raise ValueError(f"{path}: has no array {key!r} (has {sorted(archive.files)})")
        return archive[key]


def load_train_data(
    illustrations_npz: str | Path, sketch_npz: str | Path, regions_npz: str | Path,
    loss_regions_npz: str | Path | None = None,
) -> TrainData:
    """Read ``illustrations.npz`` (key ``color``), ``sketch_{style}.npz`` (``sketch``) and a region source's npz
    (``labels``) into one :class:`TrainData`, and optionally a second source's labels that weight the pixel L1;
    shapes must agree."""
    color = _read_npz_key(illustrations_npz, "color")
    sketch = _read_npz_key(sketch_npz, "sketch")
    regions = _read_npz_key(regions_npz, "labels")
    loss_regions = None if loss_regions_npz is None else _read_npz_key(loss_regions_npz, "labels")
    counts = [len(color), len(sketch), len(regions)] + ([] if loss_regions is None else [len(loss_regions)])
    if len(set(counts)) > 1:
        raise ValueError(
            f"sample counts differ: {illustrations_npz} has {len(color)}, {sketch_npz} {len(sketch)}, "
            f"{regions_npz} {len(regions)}"
            + ("" if loss_regions is None else f", {loss_regions_npz} {len(loss_regions)}")
        )
    return TrainData(sketch=sketch, color=color, regions=regions, loss_regions=loss_regions)


class StepSampler:
    """Indices, flip flags and ink-width seeds of each rank's share of global batch ``step`` (module docstring)."""

    def __init__(self, num_samples: int, global_batch: int, seed: int, rank: int = 0, world_size: int = 1,
                 hflip: bool = True, width_jitter: float = 0.0) -> None:
        if global_batch % world_size:
            raise ValueError(f"batch size {global_batch} must be divisible by the number of processes {world_size}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside 0..{world_size - 1}")
        self.num_samples = num_samples
        self.global_batch = global_batch
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.hflip = hflip
        self.width_jitter = width_jitter
        self._cached_epoch = -1
        self._cached_permutation = np.empty(0, dtype=np.int64)

    def _permutation(self, epoch: int) -> np.ndarray:
        if epoch != self._cached_epoch:
            rng = np.random.default_rng([self.seed, 0, epoch])
            self._cached_permutation = rng.permutation(self.num_samples)
            self._cached_epoch = epoch
        return self._cached_permutation

    def epoch_of(self, step: int) -> float:
        """Fractional epoch reached at the start of global batch ``step``."""
        return step * self.global_batch / self.num_samples

    def _positions(self, step: int) -> np.ndarray:
        """Stream positions (B_rank,) of this rank's share of global batch ``step``."""
        return step * self.global_batch + np.arange(self.rank, self.global_batch, self.world_size)

    def _position_draws(self, positions: np.ndarray, stream: int, count: int) -> np.ndarray:
        """Uniform draws (B_rank, count) in [0, 1) of each stream position, from sub-stream ``stream`` of the seed."""
        return np.array([np.random.default_rng([self.seed, stream, int(p)]).random(count) for p in positions])

    def batch(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """→ (dataset indices (B_rank,) int64, horizontal-flip flags (B_rank,) bool) for this rank."""
        positions = self._positions(step)
        indices = np.empty(len(positions), dtype=np.int64)
        for epoch in np.unique(positions // self.num_samples):  # a batch spans at most two epochs
            chosen = positions // self.num_samples == epoch
            indices[chosen] = self._permutation(int(epoch))[positions[chosen] % self.num_samples]
        flips = np.zeros(len(positions), dtype=bool)
        if self.hflip:
            flips = self._position_draws(positions, FLIP_STREAM, 1)[:, 0] < 0.5
        return indices, flips

    def width_seeds(self, step: int) -> np.ndarray:
        """Ink-width seed (B_rank,) int64 of each sketch of this rank's share of global batch ``step``: with
        probability ``width_jitter`` a seed ≥ 0 for `rasc.data.sketch.redraw_ink_width`, else ``KEEP_WIDTH``."""
        positions = self._positions(step)
        if self.width_jitter == 0:
            return np.full(len(positions), KEEP_WIDTH, dtype=np.int64)
        draws = self._position_draws(positions, WIDTH_STREAM, 2)  # (B_rank, 2): chance, seed
        return np.where(draws[:, 0] < self.width_jitter, (draws[:, 1] * 2**62).astype(np.int64), KEEP_WIDTH)


def make_batch(data: TrainData, indices: np.ndarray, flips: np.ndarray, device: torch.device,
               width_seeds: np.ndarray | None = None) -> dict[str, Tensor]:
    """Tensors for the given samples: sketch (B, 1, H, W) and color (B, 3, H, W) in [-1, 1], regions (B, H, W) int64,
    and loss_regions (B, H, W) int64 when the data has them.

    ``width_seeds`` (B,) redraws the ink of each sketch whose seed is not ``KEEP_WIDTH``
    (`rasc.data.sketch.redraw_ink_width`); None, or all ``KEEP_WIDTH``, keeps them all. The region maps stay those
    of the sketches as drawn.
    """
    sketch = data.sketch[indices]  # (B, H, W)
    if width_seeds is not None and (width_seeds != KEEP_WIDTH).any():
        sketch = np.stack([one if seed == KEEP_WIDTH else redraw_ink_width(one, np.random.default_rng(int(seed)))
                           for one, seed in zip(sketch, width_seeds)])
    color = data.color[indices]  # (B, H, W, 3)
    sketch = np.where(flips[:, None, None], sketch[:, :, ::-1], sketch)
    color = np.where(flips[:, None, None, None], color[:, :, ::-1], color)
    sketch_t = torch.from_numpy(np.ascontiguousarray(sketch)).to(device, torch.float32)
    color_t = torch.from_numpy(np.ascontiguousarray(color)).to(device, torch.float32)
    batch = {
        "sketch": (sketch_t / 127.5 - 1.0).unsqueeze(1),  # (B, 1, H, W)
        "color": (color_t / 127.5 - 1.0).permute(0, 3, 1, 2).contiguous(),  # (B, 3, H, W)
        "regions": _label_batch(data.regions, indices, flips, device),  # (B, H, W)
    }
    if data.loss_regions is not None:
        batch["loss_regions"] = _label_batch(data.loss_regions, indices, flips, device)  # (B, H, W)
    return batch


def _label_batch(labels: np.ndarray, indices: np.ndarray, flips: np.ndarray, device: torch.device) -> Tensor:
    """The chosen samples of (N, H, W) label maps, flipped like their sketches → (B, H, W) int64 on ``device``."""
    chosen = labels[indices].astype(np.int64)  # (B, H, W)
    chosen = np.where(flips[:, None, None], chosen[:, :, ::-1], chosen)
    return torch.from_numpy(np.ascontiguousarray(chosen)).to(device)


def synthetic_train_data(num_samples: int, image_size: int, seed: int, cell: int = 8) -> TrainData:
    """Tiny stand-in triplets for tests and benchmarks: a grid of ``cell``-px regions per image, one random colour
    per region, black lines on the region borders. Not for training real models (see :mod:`rasc.data`)."""
    if image_size % cell:
        raise ValueError(f"image_size {image_size} must be a multiple of the cell size {cell}")
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:image_size, :image_size]
    per_side = image_size // cell
    grid = (rows // cell) * per_side + cols // cell  # (H, W) labels 0..per_side²-1
    regions = np.broadcast_to(grid, (num_samples, image_size, image_size)).astype(np.uint16)
    palette = rng.integers(0, 256, (num_samples, per_side**2, 3), dtype=np.uint8)
    color = palette[np.arange(num_samples)[:, None, None], regions.astype(np.int64)]  # (N, H, W, 3)
    border = (rows % cell == 0) | (cols % cell == 0)  # (H, W)
    sketch = np.where(border, 0, 255).astype(np.uint8)
    sketch = np.broadcast_to(sketch, (num_samples, image_size, image_size)).copy()
    return TrainData(sketch=sketch, color=np.ascontiguousarray(color), regions=np.ascontiguousarray(regions))
