"""Benchmark Region Formulation: fast segment-max path vs the paper-literal dense reference.

    PYTHONPATH=. python benchmarks/bench_region_formulation.py                 # CPU, K = 166 and 729
    PYTHONPATH=. python benchmarks/bench_region_formulation.py --device cuda

Workload: features (B, C, S, S) with C = 128, S = 64, B = 8 (the paper's mean and maximum region counts per image,
K = 166 and 729, §IV-F); labels are random Voronoi cells (each pixel takes its nearest of K random seeds), so regions
are spatially coherent. Each figure is one forward + backward of `(out ** 2).mean()`.

Memory, measured per configuration in a fresh subprocess:
- CPU: the growth of the process's peak resident set (`resource.getrusage(...).ru_maxrss`) across one forward +
  backward, after the inputs and the module exist (includes allocator effects, so it is an upper bound);
- CUDA: `torch.cuda.max_memory_allocated()` minus the memory allocated before the call.
Next to it ("fwd act"), the theoretical size of the largest forward activations: dense 2·B·K·C·S² floats (the masked
features and the broadcast product), fast B·(2·C·S² + K·C + K) floats (the fused attention kernel keeps one
softmax statistic per region instead of the K² scores).

The dense reference needs ~K·C·S² floats per image (1.4 GB at K = 166, 6 GB at K = 729 with backward), so on the CPU it
runs on `--dense-batch` images (default 1) and its time and memory are scaled linearly to B (every tensor of the dense
path is per image, so that scaling is exact up to noise); the fast path is measured at both batch sizes. Timings are
medians over `--repeats` runs after one warm-up, with one torch thread; on a shared machine they are noisy.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import torch

from rasc.models.region_formulation import RegionFormulation, dense_region_formulation_reference


def voronoi_labels(batch: int, size: int, num_regions: int, seed: int) -> torch.Tensor:
    """Nearest of `num_regions` random seed points per pixel → (B, size, size) int64.

    Computed one image row at a time, so it does not raise the process's peak memory above what is measured.
    """
    gen = torch.Generator().manual_seed(seed)
    points = torch.rand(batch, num_regions, 2, generator=gen) * size  # (B, K, 2)
    labels = torch.empty(batch, size, size, dtype=torch.long)
    columns = torch.arange(size, dtype=torch.float32)
    for row in range(size):
        pixels = torch.stack([torch.full_like(columns, row), columns], dim=-1)  # (S, 2)
        labels[:, row] = torch.cdist(pixels.expand(batch, -1, -1), points).argmin(-1)  # (B, S)
    return labels


def theoretical_bytes(method: str, batch: int, regions: int, channels: int, size: int) -> int:
    """Largest activations of one forward, float32."""
    if method == "dense":
        return 4 * 2 * batch * regions * channels * size**2
    return 4 * batch * (2 * channels * size**2 + regions * channels + regions)  # no K² scores: fused attention


def run_worker(args) -> dict:
    """One (method, K, batch) measurement; prints a JSON line."""
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    module = RegionFormulation(args.channels, args.out_channels, "plain").to(device)
    labels = voronoi_labels(args.batch, args.size, args.regions, seed=1).to(device)
    x = torch.randn(args.batch, args.channels, args.size, args.size, device=device, requires_grad=True)

    def step():
        out = module(x, labels) if args.method == "fast" else dense_region_formulation_reference(module, x, labels)
        (out**2).mean().backward()
        x.grad = None
        module.zero_grad(set_to_none=True)

    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        step()
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - before
    else:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        step()
        peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024  # ru_maxrss is in KiB on Linux
    times = []
    for _ in range(args.repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    present = float(sum(labels[b].unique().numel() for b in range(args.batch))) / args.batch
    return dict(method=args.method, regions=args.regions, batch=args.batch, seconds=statistics.median(times),
                peak_bytes=int(peak), mean_regions_present=present)


def measure(args, method: str, regions: int, batch: int) -> dict:
    command = [sys.executable, __file__, "--worker", "--method", method, "--regions", str(regions), "--batch",
               str(batch), "--channels", str(args.channels), "--out-channels", str(args.out_channels), "--size",
               str(args.size), "--device", args.device, "--repeats", str(args.repeats), "--threads", str(args.threads)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--regions", type=int, nargs="+", default=[166, 729], help="region counts K per image")
    parser.add_argument("--channels", type=int, default=128, help="C, input feature channels")
    parser.add_argument("--out-channels", type=int, default=128, help="value channels (the generator uses 2·C)")
    parser.add_argument("--size", type=int, default=64, help="feature map side S")
    parser.add_argument("--batch", type=int, default=8, help="B")
    parser.add_argument("--dense-batch", type=int, default=None,
                        help="images per dense run (scaled to B); default 1 on CPU, B on CUDA")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs after the memory run (median)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--method", choices=["fast", "dense"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.regions = args.regions[0]
        print(json.dumps(run_worker(args)))
        return
    dense_batch = args.dense_batch or (args.batch if args.device.startswith("cuda") else 1)
    print(f"Region Formulation, forward+backward, device={args.device}, threads={args.threads}, C={args.channels}, "
          f"C_out={args.out_channels}, S={args.size}, B={args.batch}, dense measured at batch {dense_batch} "
          f"and scaled ×{args.batch / dense_batch:g}; median of {args.repeats}")
    header = (f"{'K':>5} {'K present':>9} {'method':>13} {'time s':>9} {'peak MiB':>10} {'fwd act MiB':>11}")
    print(header)
    for regions in args.regions:
        fast = measure(args, "fast", regions, args.batch)
        fast_small = measure(args, "fast", regions, dense_batch)
        dense = measure(args, "dense", regions, dense_batch)
        scale = args.batch / dense_batch
        rows = [("fast", fast, 1.0, args.batch), (f"fast (B={dense_batch})", fast_small, 1.0, dense_batch),
                (f"dense (B={dense_batch})", dense, 1.0, dense_batch), ("dense scaled", dense, scale, args.batch)]
        for name, result, factor, batch in rows:
            theory = theoretical_bytes(name.split()[0], batch, regions, args.channels, args.size) / 2**20
            print(f"{regions:>5} {result['mean_regions_present']:>9.1f} {name:>13} {result['seconds'] * factor:>9.4f} "
                  f"{result['peak_bytes'] * factor / 2**20:>10.1f} {theory:>11.1f}")
        speedup = dense["seconds"] * scale / fast["seconds"]
        memory_ratio = dense["peak_bytes"] * scale / max(fast["peak_bytes"], 1)
        same_batch_speedup = dense["seconds"] / fast_small["seconds"]
        same_batch_memory = dense["peak_bytes"] / max(fast_small["peak_bytes"], 1)
        print(f"K={regions}: at B={args.batch}, fast is {speedup:.1f}× faster and uses {memory_ratio:.0f}× less peak "
              f"memory (dense scaled); at B={dense_batch} both measured: {same_batch_speedup:.1f}× faster, "
              f"{same_batch_memory:.0f}× less memory")


if __name__ == "__main__":
    main()
