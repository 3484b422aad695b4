"""Size a GPU run's trainings by measurement: the training steps that fit a time budget on this machine.

Runs ``--concurrency`` copies of ``benchmarks/bench_train_step.py --config`` (the config's ``full`` experiment: its
size, batch, widths and whole training recipe) side by side on the GPU, as the run's trainings will share it, and
takes their median seconds per step. With T trainings run ``concurrency`` at a time (``ceil(T / concurrency)``
waves), the steps that fit ``--budget`` seconds of training are

    steps = (budget / waves − overhead) / seconds_per_step,   rounded down to a multiple of 50, at least 50, at most --max-steps

where ``overhead`` is a training job's fixed cost (start-up, data loading, snapshots, learning-curve points).
Prints the measurement and, on the last line, the steps alone:

    python3 profiles/gpu/size_steps.py --config config/gpu.yaml --trainings 21 --concurrency 16 --budget 240
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from rasc.config import load_config  # noqa: E402

MEDIAN = re.compile(r"^\s+full\s.*median ([0-9.]+) s/step", re.MULTILINE)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=REPO / "config/gpu.yaml")
    parser.add_argument("--trainings", type=int, required=True, help="trainings the target runs")
    parser.add_argument("--concurrency", type=int, required=True, help="trainings sharing the GPU at a time")
    parser.add_argument("--budget", type=float, required=True, help="seconds of the run left to the trainings")
    parser.add_argument("--overhead", type=float, default=30.0, help="fixed seconds per training job")
    parser.add_argument("--max-steps", type=int, default=None, help="upper clamp (default: the config's train.steps)")
    parser.add_argument("--device", default="cuda")
    return parser.parse_args()


def bench_command(config_path: Path, config: dict, device: str) -> list[str]:
    """One bench_train_step process of the config's ``full`` recipe (its widths, losses, R1 and D schedule)."""
    return [sys.executable, str(REPO / "benchmarks/bench_train_step.py"), "--config", str(config_path),
            "--variants", "full", "--device", device, "--warmup", "3", "--steps", "4", "--rounds", "2",
            "--threads", str(config["train"]["threads"])]


def fitting_steps(seconds_per_step: float, trainings: int, concurrency: int, budget: float, overhead: float,
                  max_steps: int) -> tuple[float, int]:
    """(steps that fit exactly, steps to run): the module docstring's formula."""
    waves = math.ceil(trainings / concurrency)
    fitting = (budget / waves - overhead) / seconds_per_step
    return fitting, min(max_steps, max(50, int(fitting // 50) * 50))


def main() -> None:
    args = parse_args()
    config = load_config(args.config)  # validated, with the schema's defaults
    command = bench_command(args.config, config, args.device)
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for _ in range(args.concurrency)]
    outputs = [process.communicate()[0] for process in processes]
    failed = [out for process, out in zip(processes, outputs) if process.returncode != 0]
    if failed:
        sys.exit(f"bench_train_step failed:\n{failed[0][-3000:]}")
    seconds = statistics.median(float(MEDIAN.search(out).group(1)) for out in outputs)
    waves = math.ceil(args.trainings / args.concurrency)
    fitting, steps = fitting_steps(seconds, args.trainings, args.concurrency, args.budget, args.overhead,
                                   args.max_steps or int(config["train"]["steps"]))
    print(outputs[0].strip())
    print(f"{args.concurrency} trainings side by side: median {seconds:.4f} s/step each "
          f"({args.concurrency / seconds:.1f} steps/s together); {args.trainings} trainings in {waves} waves within "
          f"{args.budget:.0f} s at {args.overhead:.0f} s overhead each: {fitting:.0f} steps fit, run {steps}")
    print(steps)


if __name__ == "__main__":
    main()
