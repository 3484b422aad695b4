"""Training steps side by side, as the main job runs them, with glibc's default allocator and with the freed
buffers kept for reuse (``rasc.training.allocator``, what CPU training sets).

Each round starts ``--processes`` copies of ``bench_train_step.py`` at once (one torch thread each, a config's
recipe), first with one allocator, then with the other, alternating which goes first; each copy reports its fastest
and median timing round. Prints the mean over copies and rounds per allocator and the ratio against glibc's default.

    python benchmarks/bench_allocator.py --config config/config.yaml --variant full --processes 2 --rounds 3
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent / "bench_train_step.py"
ALLOCATORS = ("glibc", "kept")
TIMING = re.compile(r"fastest ([0-9.]+) s/step .* median ([0-9.]+) s/step")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("config/config.yaml"), help="recipe to time")
    parser.add_argument("--variant", default="full", help="the config's experiment to train")
    parser.add_argument("--processes", type=int, default=2, help="copies side by side (the main job runs two)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each timing both allocators")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per timing round of a copy")
    parser.add_argument("--timing-rounds", type=int, default=4, help="timing rounds per copy")
    parser.add_argument("--warmup", type=int, default=4, help="untimed steps per copy")
    return parser.parse_args()


def run_side_by_side(args: argparse.Namespace, allocator: str) -> list[tuple[float, float]]:
    """Start ``args.processes`` copies at once → each one's (fastest, median) seconds per step."""
    command = [sys.executable, str(BENCH), "--config", str(args.config), "--variants", args.variant,
               "--threads", "1", "--warmup", str(args.warmup), "--steps", str(args.steps),
               "--rounds", str(args.timing_rounds), "--allocator", allocator]
    copies = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(args.processes)]
    timings = []
    for copy in copies:
        out, err = copy.communicate()
        found = TIMING.search(out)
        if copy.returncode != 0 or found is None or f"allocator {allocator}" not in out:
            raise SystemExit(f"bench_train_step.py --allocator {allocator} failed:\n{out}\n{err}")
        timings.append((float(found[1]), float(found[2])))
    return timings


def main() -> None:
    args = parse_args()
    results: dict[str, list[tuple[float, float]]] = {allocator: [] for allocator in ALLOCATORS}
    for index in range(args.rounds):
        order = ALLOCATORS if index % 2 == 0 else ALLOCATORS[::-1]
        for allocator in order:
            timings = run_side_by_side(args, allocator)
            results[allocator].extend(timings)
            shown = ", ".join(f"{fast:.3f} / {median:.3f}" for fast, median in timings)
            print(f"round {index + 1} {allocator:<5}: {shown} s/step (fastest / median)")
    print(f"{args.config} experiment {args.variant}, {args.processes} processes side by side, one torch thread each, "
          f"{args.rounds} rounds")
    means = {allocator: [statistics.mean(t[i] for t in results[allocator]) for i in (0, 1)] for allocator in ALLOCATORS}
    for allocator in ALLOCATORS:
        print(f"  {allocator:<5} fastest {means[allocator][0]:.3f} s/step, median {means[allocator][1]:.3f} s/step")
    print(f"  kept / glibc: {means['kept'][0] / means['glibc'][0]:.2f}× (fastest), "
          f"{means['kept'][1] / means['glibc'][1]:.2f}× (median)")


if __name__ == "__main__":
    main()
