"""Benchmark Region Formulation's attention kernels on the CPU: where padding Q and K for the fused kernel pays.

    python benchmarks/bench_attention.py                       # batch 8, C = 16, 32 and 64, K = 64 … 2048
    python benchmarks/bench_attention.py --channels 16 --regions 512 1024

RASC's values are twice as wide as its queries and keys (V projects C to the 2·C channels eq. 1 modulates), so
PyTorch's CPU `scaled_dot_product_attention` takes its math path, which stores the (B, K, K) scores. Zero-padding
Q and K to V's width gives the same scores and lets the fused (flash) kernel run. Each figure is the fastest of
`--repeats` forward + backward passes of `rasc.models.region_formulation.scaled_attention(...).sum()` with its kernel
forced, after warm-up, one torch thread, a quarter of each image's slots masked out (as padded region slots are).
The last column is the kernel `rasc.models.region_formulation` chooses (`fused_attention_pays`), the ratio is math /
padded (above 1: padding is faster).
"""

from __future__ import annotations

import argparse
import time

import torch

import rasc.models.region_formulation as region_formulation
from rasc.models.region_formulation import fused_attention_pays, scaled_attention


def time_attention(batch: int, regions: int, channels: int, padded: bool, repeats: int, seed: int = 0) -> float:
    """Fastest forward + backward of `scaled_attention` in seconds, its kernel forced; values 2·channels wide."""
    gen = torch.Generator().manual_seed(seed)
    q, k = (torch.randn(batch, regions, channels, generator=gen, requires_grad=True) for _ in range(2))
    v = torch.randn(batch, regions, 2 * channels, generator=gen, requires_grad=True)  # (B, K, 2C)
    region_mask = torch.ones(batch, regions, dtype=torch.bool)
    region_mask[:, regions * 3 // 4:] = False
    threshold = region_formulation.FUSED_ATTENTION_MIN_SCORES
    region_formulation.FUSED_ATTENTION_MIN_SCORES = 0 if padded else batch * regions * regions + 1

    def step() -> None:
        scaled_attention(q, k, v, region_mask).sum().backward()

    try:
        for _ in range(2):
            step()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
    finally:
        region_formulation.FUSED_ATTENTION_MIN_SCORES = threshold
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=8, help="images per batch (the training batch: 8)")
    parser.add_argument("--channels", type=int, nargs="+", default=[16, 32, 64], help="query/key width C")
    parser.add_argument("--regions", type=int, nargs="+", default=[64, 256, 512, 768, 896, 1024, 2048],
                        help="region slots K per image")
    parser.add_argument("--repeats", type=int, default=10, help="timed passes (fastest is reported)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"attention forward+backward, CPU, one thread, batch {args.batch}, V 2·C wide; fastest of {args.repeats}")
    print(f"{'C':>4} {'K':>5} {'math ms':>9} {'padded ms':>10} {'ratio':>6}  chosen")
    for channels in args.channels:
        for regions in args.regions:
            math_s = time_attention(args.batch, regions, channels, False, args.repeats)
            padded_s = time_attention(args.batch, regions, channels, True, args.repeats)
            chosen = "padded" if fused_attention_pays(args.batch, regions, torch.device("cpu")) else "math"
            print(f"{channels:>4} {regions:>5} {math_s * 1e3:>9.2f} {padded_s * 1e3:>10.2f} "
                  f"{math_s / padded_s:>6.2f}  {chosen}")


if __name__ == "__main__":
    main()
