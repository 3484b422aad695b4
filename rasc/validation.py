"""Learning curves: a fixed validation subset scored at every training snapshot (issue "models that learn").

The subset is the first ``n`` sketches of test set A with their ground truth. It is for monitoring only: nothing is
selected or stopped on it, and the generator that is evaluated is always the one of the final step. Each point
holds the EMA generator's region colour error and bleeding with the predicted w, the oracle colour error (w = the
style encoder's posterior mean of the ground truth) where the model has a style encoder, and the flat-colour
reference (the training mean colour everywhere) on the same images, so a reader sees at once whether the run is
still improving and how far it is from the trivial answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch


@dataclass(frozen=True, eq=False)
class ValidationSet:
    """Sketches with the model's region maps and their ground truth (the layout of the data stage's npz files)."""

    sketch: np.ndarray  # (N, H, W) uint8
    regions: np.ndarray  # (N, H, W) labels of the model's region source
    truth: Mapping[str, np.ndarray]  # color (N, H, W, 3), regions, region_group, lines_clean of the illustrations
    constant_colour: np.ndarray  # (3,) uint8, the training split's mean colour

    @classmethod
    def from_arrays(cls, illustrations: Mapping[str, np.ndarray], sketches: np.ndarray, regions: np.ndarray,
                    train_colors: np.ndarray, count: int) -> ValidationSet:
        """The first ``count`` sketches (N, H, W) with their region maps and illustrations, with the training
        colours' mean as reference."""
        from rasc.references import constant_colour

        keys = ("color", "regions", "region_group", "lines_clean")
        truth = {key: value[:count] for key, value in illustrations.items() if key in keys}
        return cls(sketches[:count], regions[:count], truth, constant_colour(train_colors))

    @classmethod
    def from_files(cls, illustrations: str | Path, sketches: str | Path, regions: str | Path,
                   train_colors: np.ndarray, count: int) -> ValidationSet:
        """`from_arrays` on the data stage's npz files of the illustrations, sketches and region maps."""
        from rasc.data.prepare import load_npz

        return cls.from_arrays(load_npz(illustrations), load_npz(sketches)["sketch"], load_npz(regions)["labels"],
                               train_colors, count)

    def __len__(self) -> int:
        return len(self.sketch)

    @torch.no_grad()
    def score(self, generator: torch.nn.Module) -> dict[str, float]:
        """Colour error and bleeding of ``generator``'s colourings (predicted w; oracle w where it has a style
        encoder) and the flat-colour reference's colour error, on this subset."""
        from rasc.evaluate import colorize_set, region_metrics
        from rasc.references import oracle_colouring

        was_training = generator.training
        generator.eval()
        device = str(next(generator.parameters()).device)
        predicted = colorize_set(generator, self.sketch, self.regions, device=device)[:, 0]  # (N, H, W, 3)
        scores = region_metrics(predicted, None, self.sketch, self.truth)
        point = {"val/colour_error": scores["colour_error"], "val/bleeding": scores["bleeding"],
                 "val/inconsistency": scores["inconsistency"]}
        if getattr(generator.cfg, "latent", None) == "posterior":
            oracle = oracle_colouring(generator, self.sketch, self.regions, self.truth["color"], device=device)
            point["val/oracle_colour_error"] = region_metrics(oracle, None, self.sketch, self.truth)["colour_error"]
        flat = np.broadcast_to(self.constant_colour, predicted.shape).copy()
        point["val/constant_colour_error"] = region_metrics(flat, None, self.sketch, self.truth)["colour_error"]
        generator.train(was_training)
        return {key: float(value) for key, value in point.items() if value is not None}
