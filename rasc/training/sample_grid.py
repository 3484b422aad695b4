"""The fixed sample grid of a training: the same sketches and latent codes at every snapshot."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import Tensor, nn

from rasc.training.data import TrainData, make_batch
from rasc.training.options import TrainConfig

GRID_W_SEED = 20240  # seed of the fixed latent codes of the sample grids (the same for every run)
GRID_RANDOM_W = 2  # random-w columns per sketch in the sample grid


def fixed_grid_inputs(data: TrainData, cfg: TrainConfig, w_dim: int, device: torch.device) -> dict[str, Tensor]:
    """The first ``grid_size`` training triplets (unflipped) and fixed latent codes (B, GRID_RANDOM_W, w_dim)."""
    count = min(cfg.grid_size, len(data))
    indices = np.arange(count)
    batch = make_batch(data, indices, np.zeros(count, dtype=bool), device)
    generator = torch.Generator().manual_seed(GRID_W_SEED)
    batch["w"] = torch.randn(count, GRID_RANDOM_W, w_dim, generator=generator).to(device)
    return batch


def _to_uint8(images: Tensor) -> np.ndarray:
    """(B, C, H, W) in [-1, 1] → (B, H, W, 3) uint8."""
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    scaled = ((images.detach().float().cpu() + 1.0) * 127.5).round().clamp(0, 255)
    return scaled.permute(0, 2, 3, 1).to(torch.uint8).numpy()


@torch.no_grad()
def render_sample_grid(generator: nn.Module, grid: Mapping[str, Tensor], around_prediction: bool = False) -> np.ndarray:
    """One row per fixed sketch: sketch | predicted w | fixed w ×2 | ground truth → (rows·H, 5·W, 3) uint8.

    The fixed codes are draws from the prior the KL term trained against: N(0, 1), or with ``around_prediction``
    (``TrainConfig.kl_prior`` "sketch") N(w_pred, 1), the fixed noise added to each sketch's predicted w.
    """
    was_training = generator.training
    generator.eval()
    predicted = generator(grid["sketch"], grid["regions"])
    centre = predicted.w_pred if around_prediction else torch.zeros_like(predicted.w_pred)  # (B, w_dim)
    columns = [grid["sketch"], predicted.rgb]
    for column in range(grid["w"].shape[1]):
        columns.append(generator(grid["sketch"], grid["regions"], centre + grid["w"][:, column]).rgb)
    columns.append(grid["color"])
    generator.train(was_training)
    tiles = [_to_uint8(images) for images in columns]  # each (B, H, W, 3)
    rows = [np.concatenate([tile[i] for tile in tiles], axis=1) for i in range(len(tiles[0]))]
    return np.concatenate(rows, axis=0)
