"""2 × 2 average pooling in the training step: ``F.avg_pool2d`` against ``avg_pool2x`` (a depthwise convolution).

Times the forward and the forward + backward of both at the shapes of the default recipe's discriminator and sketch
encoder (batch 8 at 64²), one torch thread, in interleaved rounds (the fastest round is reported), and says whether
their float32 outputs and input gradients are equal bit for bit on this host.

    python benchmarks/bench_pooling.py
    python benchmarks/bench_pooling.py --batch 8 --rounds 7 --threads 1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_train_step import cpu_name  # noqa: E402
from rasc.models.layers import avg_pool2x  # noqa: E402

# (channels, side) of the pooled tensors of the default recipe at 64² (discriminator blocks and encoder blocks)
SHAPES = ((16, 64), (32, 64), (32, 32), (64, 32), (64, 16), (128, 16), (128, 8))
POOLINGS = {"F.avg_pool2d": lambda x: F.avg_pool2d(x, 2), "avg_pool2x": avg_pool2x}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8, help="batch size")
    parser.add_argument("--repeats", type=int, default=20, help="calls per timed round")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    return parser.parse_args()


def seconds_per_call(pool, x: torch.Tensor, repeats: int, backward: bool) -> float:
    """Mean time of one call of ``pool`` on x (forward, or forward and backward of a fixed upstream gradient)."""
    upstream = torch.ones_like(pool(x))
    start = time.perf_counter()
    for _ in range(repeats):
        out = pool(x)
        if backward:
            out.backward(upstream)
    return (time.perf_counter() - start) / repeats


def bitwise_equal(batch: int, channels: int, side: int) -> bool:
    """Whether both poolings give the same float32 output and input gradient, bit for bit, on random data."""
    gen = torch.Generator().manual_seed(channels * side)
    x = torch.randn(batch, channels, side, side, generator=gen)
    upstream = torch.randn(batch, channels, side // 2, side // 2, generator=gen)
    results = []
    for pool in POOLINGS.values():
        leaf = x.clone().requires_grad_(True)
        out = pool(leaf)
        out.backward(upstream)
        results.append((out.detach(), leaf.grad))
    return all(torch.equal(a, b) for a, b in zip(*results))


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    print(f"host {cpu_name()}, torch threads {torch.get_num_threads()}, torch {torch.__version__}")
    print(f"batch {args.batch}, {args.rounds} rounds × {args.repeats} calls; fastest round, ms per call")
    print(f"{'input':<18} {'F.avg_pool2d fwd / fwd+bwd':>27} {'avg_pool2x fwd / fwd+bwd':>26} {'ratio':>13}  equal")
    totals = {name: 0.0 for name in POOLINGS}
    for channels, side in SHAPES:
        x = torch.randn(args.batch, channels, side, side).requires_grad_(True)
        times = {(name, backward): [] for name in POOLINGS for backward in (False, True)}
        for name, pool in POOLINGS.items():  # warm-up
            seconds_per_call(pool, x, 2, True)
        for _ in range(args.rounds):
            for (name, backward), rounds in times.items():
                rounds.append(seconds_per_call(POOLINGS[name], x, args.repeats, backward))
        fastest = {key: min(rounds) * 1e3 for key, rounds in times.items()}
        for name in POOLINGS:
            totals[name] += fastest[(name, True)]
        ratio_fwd = fastest[("avg_pool2x", False)] / fastest[("F.avg_pool2d", False)]
        ratio_both = fastest[("avg_pool2x", True)] / fastest[("F.avg_pool2d", True)]
        shape = f"({args.batch}, {channels}, {side}, {side})"
        print(f"{shape:<18} {fastest[('F.avg_pool2d', False)]:>12.3f} / {fastest[('F.avg_pool2d', True)]:>8.3f}     "
              f"{fastest[('avg_pool2x', False)]:>11.3f} / {fastest[('avg_pool2x', True)]:>8.3f}    "
              f"{ratio_fwd:.2f} / {ratio_both:.2f}  {bitwise_equal(args.batch, channels, side)}")
    print(f"sum of fwd+bwd over the shapes: F.avg_pool2d {totals['F.avg_pool2d']:.2f} ms, avg_pool2x "
          f"{totals['avg_pool2x']:.2f} ms ({totals['avg_pool2x'] / totals['F.avg_pool2d']:.2f}× the reference)")


if __name__ == "__main__":
    main()
