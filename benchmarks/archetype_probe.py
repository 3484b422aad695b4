"""Archetype probe: how many training steps a dedicated classifier needs to tell a drawing's archetype from its sketch.

The predicted-w colouring can only beat painting part-wise mean colours (0.89 × `reference:constant` on the
default data, `docs/recipe.md`) by recognising the character archetype from the sketch, since the archetype decides
the colour families. This trains the generator's own sketch encoder (`rasc.models.generator.ConvEncoder`, same
widths as the CPU default) with a linear head on the archetype labels by cross-entropy, batch 8, Adam with the
training recipe's settings, and prints the held-out accuracy every `--every` steps (chance is 1 / 8). It bounds
what the generator's sketch path can know of the archetype after as many steps.

    python benchmarks/archetype_probe.py --steps 2000
    python benchmarks/archetype_probe.py --steps 800 --synth '{"zoom": 1.0}'
    python benchmarks/archetype_probe.py --steps 1000 --model '{"encoder_norm_groups": 4}'
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from recipe_search import build_split

from rasc.config import deep_merge, load_config
from rasc.data.palette import ARCHETYPES
from rasc.experiment import model_configs
from rasc.models.generator import ConvEncoder
from rasc.models.layers import EqualLinear


def sketches_and_labels(split: dict[str, np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """XDoG sketches (N, 1, H, W) in [-1, 1] and archetype labels (N,)."""
    sketches = torch.from_numpy(split["sketch"]).float().unsqueeze(1) / 127.5 - 1
    return sketches, torch.from_numpy(split["archetype"].astype(np.int64))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--every", type=int, default=200)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--cache", default="/tmp/rasc-recipe")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--synth", default="{}", help="JSON overrides of data.synth (as in recipe_search.py)")
    parser.add_argument("--model", default="{}", help="JSON overrides of the model section (e.g. encoder_norm_groups)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)

    config = load_config(args.config)
    config["data"] = deep_merge(config["data"], {"synth": json.loads(args.synth)})
    config["model"] = deep_merge(config["model"], json.loads(args.model))
    train_split, test_split = (build_split(config, split, Path(args.cache)) for split in ("train", "test"))
    train_x, train_y = sketches_and_labels(train_split)
    test_x, test_y = sketches_and_labels(test_split)
    gen_cfg, _ = model_configs(config["model"], int(config["data"]["size"]))
    channels = gen_cfg.encoder_channels()
    encoder, head = ConvEncoder(1, channels, gen_cfg.encoder_norm_groups), EqualLinear(channels[-1], len(ARCHETYPES))
    train = config["train"]
    optimiser = torch.optim.Adam([*encoder.parameters(), *head.parameters()], lr=train["lr"],
                                 betas=(train["beta1"], train["beta2"]))

    def logits(sketches: torch.Tensor) -> torch.Tensor:
        return head(encoder(sketches)[-1].mean(dim=(2, 3)))  # (B, archetypes)

    draw = torch.Generator().manual_seed(args.seed)
    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        index = torch.randint(0, len(train_x), (args.batch,), generator=draw)
        loss = F.cross_entropy(logits(train_x[index]), train_y[index])
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        if step % args.every == 0:
            with torch.no_grad():
                accuracy = (logits(test_x).argmax(dim=1) == test_y).float().mean().item()
            print(json.dumps({"step": step, "test_accuracy": round(accuracy, 3), "chance": round(1 / len(ARCHETYPES), 3),
                              "seconds": round(time.perf_counter() - start, 1)}), flush=True)


if __name__ == "__main__":
    main()
