"""The colour image as a set of flat regions, for the style encoder (`GeneratorConfig.style_regions`; not in the paper).

A convolutional style encoder that pools over pixels weighs each colour by its area: the small pieces of a drawing
(a wallpaper's dots, a ribbon) vanish in its average, and the style codes of the main job carried nothing of them
(`docs/recipe.md` row 67). Here the colour image is cut into its connected components of one (quantised) colour,
each component is described by its mean colour, centroid and size, a small MLP embeds each description, and the
embeddings are pooled over the components (mean and max), so that every region counts once, as it does in the
region colour error. Components under MIN_AREA pixels are left out (at 64², 4-connected components cut diagonal
ink lines into one- and two-pixel pieces, about half of all components), unless an image has no other.

The components come from the colour image itself, not from the sketch's region map, so the posterior needs
nothing beyond the image (a reference illustration has no region map). On flat colourings they are its regions;
on shaded or antialiased images they fragment, which the pooling tolerates.

Measured on the procedural default (`docs/recipe.md` row 67, two seeds): w then reads a wallpaper's pattern colour
a little better, but the oracle and the default output are worse on every test set, so the option is off everywhere.
"""

from __future__ import annotations

import numpy as np
import torch
from skimage.measure import label as connected_components
from torch import Tensor, nn

from rasc.models.layers import MLP

REGION_FEATURES = 6  # mean colour (3), centroid (y, x), log of the area fraction
QUANTISATION_LEVELS = 32  # colour levels per channel that count as one colour when cutting components
MIN_AREA = 3  # px: smaller components (mostly fragments of diagonal ink lines) are left out of the pooling


def colour_components(color: Tensor, levels: int = QUANTISATION_LEVELS) -> Tensor:
    """4-connected components of one quantised colour: colour (B, 3, H, W) in [-1, 1] → labels (B, H, W) int64,
    0..K_b - 1 in each image (computed on the CPU, returned on the colour's device)."""
    quantised = ((color.detach().float().clamp(-1, 1) + 1) / 2 * (levels - 1)).round().long().cpu()  # (B, 3, H, W)
    keys = ((quantised[:, 0] * levels + quantised[:, 1]) * levels + quantised[:, 2]).numpy()  # (B, H, W) one per colour
    labels = [connected_components(key, background=-1, connectivity=1) - 1 for key in keys]  # skimage counts from 1
    return torch.from_numpy(np.stack(labels)).long().to(color.device)


def region_descriptions(color: Tensor, labels: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Each component's mean colour, centroid and size: colour (B, 3, H, W), labels (B, H, W) 0..K_b - 1 →
    (descriptions (R, REGION_FEATURES), image index of each (R,), area in pixels (R,)), R = Σ K_b.
    Differentiable in the colour."""
    batch, _, height, width = color.shape
    counts_per_image = labels.flatten(1).amax(dim=1) + 1  # (B,) K_b
    offsets = torch.cumsum(counts_per_image, 0) - counts_per_image  # (B,) first global id of each image
    ids = (labels + offsets[:, None, None]).flatten()  # (B·H·W,) global region id of each pixel
    total = int(counts_per_image.sum())
    area = torch.bincount(ids, minlength=total).to(color.dtype)  # (R,)
    pixels = color.permute(0, 2, 3, 1).reshape(-1, 3)  # (B·H·W, 3)
    ys = torch.linspace(-1, 1, height, device=color.device, dtype=color.dtype)
    xs = torch.linspace(-1, 1, width, device=color.device, dtype=color.dtype)
    grid = torch.stack(torch.meshgrid(ys, xs, indexing="ij"), dim=-1).reshape(1, -1, 2).expand(batch, -1, -1)
    sums = torch.zeros(total, 5, device=color.device, dtype=color.dtype)
    sums.index_add_(0, ids, torch.cat([pixels, grid.reshape(-1, 2)], dim=1))  # (R, 5) colour and position sums
    means = sums / area[:, None]  # (R, 5) mean colour, centroid
    size = torch.log(area / (height * width))[:, None] / np.log(height * width) + 1  # (R, 1) in [0, 1]
    image_of_region = torch.repeat_interleave(torch.arange(batch, device=color.device), counts_per_image)  # (R,)
    return torch.cat([means, 2 * size - 1], dim=1), image_of_region, area


def large_enough(area: Tensor, image_of_region: Tensor, batch: int) -> Tensor:
    """(R,) bool: the components of at least MIN_AREA pixels, and every component of an image that has none that
    large. area (R,) pixels, image_of_region (R,) image index of each."""
    large = area >= MIN_AREA  # (R,)
    images_with_large = torch.zeros(batch, dtype=torch.bool, device=area.device).index_fill_(
        0, image_of_region[large], True)  # (B,)
    return large | ~images_with_large[image_of_region]


class RegionSetEncoder(nn.Module):
    """Colour image (B, 3, H, W) in [-1, 1] → (B, 2·dim): the mean and the max over its flat regions of an MLP
    embedding of each region's description (`region_descriptions`)."""

    def __init__(self, dim: int = 64):
        super().__init__()
        self.dim = dim
        self.embed = MLP([REGION_FEATURES, dim, dim])

    @property
    def out_features(self) -> int:
        return 2 * self.dim

    def forward(self, color: Tensor) -> Tensor:
        descriptions, image_of_region, area = region_descriptions(color, colour_components(color))
        kept = large_enough(area, image_of_region, len(color))  # (R,)
        descriptions, image_of_region = descriptions[kept], image_of_region[kept]  # (R', ...)
        embedded = self.embed(descriptions)  # (R', dim)
        index = image_of_region[:, None].expand(-1, self.dim)  # (R', dim)
        empty = embedded.new_zeros(len(color), self.dim)
        mean = empty.scatter_reduce(0, index, embedded, reduce="mean", include_self=False)  # (B, dim)
        peak = empty.scatter_reduce(0, index, embedded, reduce="amax", include_self=False)  # (B, dim)
        return torch.cat([mean, peak], dim=1)
