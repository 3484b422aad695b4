"""Training-step throughput of the RASC variants: what does the paper's region machinery cost per step?

Times one full training step (generator forward, discriminator update with lazy R1, generator update with the
perceptual loss, EMA) of ``full``, ``no_region_maps`` and ``no_region_formulation`` in the same process, on
synthetic triplets with a grid of regions. Variants are timed in interleaved rounds after a warm-up, so slow drift
of a shared machine hits every variant alike; the fastest round (the least disturbed by other processes) and the
median round are reported, and the ratios use the fastest. The paper's idea should cost ≤ 1.3×.

    python benchmarks/bench_train_step.py --size 128 --batch 8 --threads 1
    python benchmarks/bench_train_step.py --device cuda --size 256 --batch 8
    python benchmarks/bench_train_step.py --config config/config.yaml --variants full   # a config's own recipe

With ``--config`` the recipe (working size, batch, networks, losses, R1) is that config's: each variant is the
experiment of that name, resolved as the workflow resolves it, and the recipe flags below are not used. The CPU
line names the host (model, vector kernels torch uses), since step times differ several-fold between CPUs.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rasc.config import experiment_config, load_config  # noqa: E402
from rasc.experiment import model_configs  # noqa: E402
from rasc.training.allocator import keep_freed_memory  # noqa: E402
from rasc.training.distributed import DistributedContext, resolve_device  # noqa: E402
from rasc.models import DiscriminatorConfig, GeneratorConfig  # noqa: E402
from rasc.training.options import TrainConfig  # noqa: E402
from rasc.training.step import build_networks, build_perceptual, train_step  # noqa: E402
from rasc.training.data import StepSampler, make_batch, synthetic_train_data  # noqa: E402

VARIANTS = ("full", "no_region_maps", "no_region_formulation")
COST_LIMIT = 1.3  # the paper's idea should cost at most this factor per training step


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=None,
                        help="time this workflow config's recipe (its experiments named by --variants) instead of "
                             "the flags below")
    parser.add_argument("--size", type=int, default=128, help="image side in px")
    parser.add_argument("--batch", type=int, default=8, help="batch size")
    parser.add_argument("--cell", type=int, default=8, help="region grid cell in px: (size/cell)² regions per image")
    parser.add_argument("--base-channels", type=int, default=GeneratorConfig.base_channels)
    parser.add_argument("--max-channels", type=int, default=GeneratorConfig.max_channels)
    parser.add_argument("--num-blocks", type=int, default=GeneratorConfig.num_blocks)
    parser.add_argument("--perceptual-layers", nargs="*", default=list(TrainConfig.perceptual_layers),
                        help="VGG-19 layers; none (or the flag alone) = no perceptual loss")
    parser.add_argument("--lambda-l1", type=float, default=0.0, help="posterior-w pixel L1 weight (config: 10)")
    parser.add_argument("--lambda-l1-predicted", type=float, default=0.0,
                        help="predicted-w pixel L1 weight; > 0 adds a second decoder pass (config: 10)")
    parser.add_argument("--lambda-latent", type=float, default=0.0,
                        help="cLR-GAN branch weight; > 0 adds a decoder pass on w ~ N(0, 1) (config: 0; experiment "
                             "latent_recovery: 0.5)")
    parser.add_argument("--adversarial-every", type=int, default=TrainConfig.adversarial_every,
                        help="steps between D updates (config train.adversarial_every); make --steps a multiple")
    parser.add_argument("--lambda-adv", type=float, default=1.0,
                        help="adversarial weight; 0 = no D step (the regression phase of train.adversarial_from)")
    parser.add_argument("--r1-every", type=int, default=4, help="lazy R1 every this many D updates (config: 4)")
    parser.add_argument("--r1-gamma", type=float, default=10.0, help="R1 weight γ; 0 = no R1 pass (config: 10)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS),
                        help=f"variants {VARIANTS}; with --config, any experiments of that config")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per variant")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per variant per round")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--allocator", choices=("kept", "glibc"), default="kept",
                        help="kept: glibc's allocator set to reuse freed buffers, as CPU training sets it "
                             "(rasc.training.allocator) | glibc: its defaults")
    return parser.parse_args()


def recipe_from_flags(args: argparse.Namespace, device: torch.device):
    """The recipe the flags describe → (TrainConfig, {variant: (GeneratorConfig, DiscriminatorConfig)})."""
    layers = tuple(layer for layer in args.perceptual_layers if layer != "none")
    cfg = TrainConfig(batch_size=args.batch, device=str(device), r1_every=args.r1_every, r1_gamma=args.r1_gamma,
                      adversarial_every=args.adversarial_every, lambda_adv=args.lambda_adv, lambda_l1=args.lambda_l1,
                      lambda_l1_predicted=args.lambda_l1_predicted, lambda_latent=args.lambda_latent,
                      perceptual_layers=layers or ("relu1_1",), lambda_perceptual=1.0 if layers else 0.0)
    disc_cfg = DiscriminatorConfig(image_size=args.size, base_channels=args.base_channels,
                                   max_channels=args.max_channels)
    models = {variant: (GeneratorConfig(image_size=args.size, base_channels=args.base_channels,
                                        max_channels=args.max_channels, num_blocks=args.num_blocks, variant=variant),
                        disc_cfg) for variant in args.variants}
    return cfg, models


def recipe_from_config(path: Path, variants: list[str], device: torch.device):
    """A workflow config's recipe: each variant is its experiment of that name, resolved as the workflow does →
    (TrainConfig, {variant: (GeneratorConfig, DiscriminatorConfig)}). The variants must share one train section."""
    config = load_config(path)
    settings = {variant: experiment_config(config, variant) for variant in variants}
    train = settings[variants[0]]["train"]
    if any(s["train"] != train for s in settings.values()):
        raise SystemExit(f"{path}: the experiments {variants} train with different settings; time them one at a time")
    cfg = TrainConfig.from_section({**train, "device": str(device)})
    size = int(config["data"]["size"])
    return cfg, {variant: model_configs(s["model"], size) for variant, s in settings.items()}


def cpu_name() -> str:
    """The host CPU's model name and family (from /proc/cpuinfo where there is one) and the vector kernels torch
    uses, e.g. "AMD EPYC (family 25), torch CPU capability AVX2"."""
    name = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        fields = dict(line.split(":", 1) for line in cpuinfo.read_text().splitlines() if ":" in line)
        fields = {key.strip(): value.strip() for key, value in fields.items()}
        name = f"{fields.get('model name', name)} (family {fields.get('cpu family', '?')})"
    return f"{name}, torch CPU capability {torch.backends.cpu.get_cpu_capability()}"


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    allocator = "kept" if args.allocator == "kept" and device.type == "cpu" and keep_freed_memory() else "glibc"
    ctx = DistributedContext(rank=0, local_rank=0, world_size=1, device=device)
    if args.config is not None:
        cfg, models = recipe_from_config(args.config, args.variants, device)
    else:
        unknown = sorted(set(args.variants) - set(VARIANTS))
        if unknown:
            raise SystemExit(f"--variants {unknown}: without --config choose from {VARIANTS}")
        cfg, models = recipe_from_flags(args, device)
    gen_cfg = models[args.variants[0]][0]
    size, batch = gen_cfg.image_size, cfg.batch_size
    data = synthetic_train_data(num_samples=max(2 * batch, 16), image_size=size, seed=0, cell=args.cell)
    sampler = StepSampler(len(data), batch, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        perceptual, backbone = build_perceptual(cfg, device)
    runs = {variant: {"nets": build_networks(cfg, gen_cfg, disc_cfg, device), "step": 0, "rounds": []}
            for variant, (gen_cfg, disc_cfg) in models.items()}

    def run_steps(variant: str, count: int) -> float:
        state = runs[variant]
        batches = [make_batch(data, *sampler.batch(state["step"] + i), device) for i in range(count)]
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        for batch in batches:
            train_step(state["nets"], batch, state["step"], cfg, perceptual, ctx)
            state["step"] += 1
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return (time.perf_counter() - start) / count

    for variant in args.variants:
        run_steps(variant, args.warmup)
    for _ in range(args.rounds):
        for variant in args.variants:
            runs[variant]["rounds"].append(run_steps(variant, args.steps))

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
    r1 = f"lazy R1 (γ {cfg.r1_gamma:g}) every {cfg.r1_every} D updates" if cfg.r1_gamma > 0 else "no R1"
    print(f"device {device} ({name}), torch threads {torch.get_num_threads()}, torch {torch.__version__}, "
          f"allocator {allocator}")
    print(f"{f'recipe of {args.config}, ' if args.config else ''}size {size}², batch {batch}, "
          f"{(size // args.cell) ** 2} regions/image, base channels {gen_cfg.base_channels}, max "
          f"{gen_cfg.max_channels}, blocks {gen_cfg.num_blocks}, perceptual "
          f"{list(cfg.perceptual_layers) if perceptual is not None else 'off'} ({backbone}), "
          f"{r1}, D every {cfg.adversarial_every} steps"
          f"{'' if cfg.lambda_adv > 0 else ' (off: lambda_adv 0)'}; warm-up {args.warmup} steps, "
          f"{args.rounds} rounds × {args.steps} steps")
    seconds = {variant: min(runs[variant]["rounds"]) for variant in args.variants}
    for variant in args.variants:
        median = statistics.median(runs[variant]["rounds"])
        print(f"  {variant:<22} fastest {seconds[variant]:.3f} s/step ({1 / seconds[variant]:6.2f} it/s), "
              f"median {median:.3f} s/step ({1 / median:6.2f} it/s)")
    if "full" in seconds:
        for baseline in ("no_region_maps", "no_region_formulation"):
            if baseline in seconds:
                ratio = seconds["full"] / seconds[baseline]
                verdict = "within" if ratio <= COST_LIMIT else "ABOVE"
                median_ratio = statistics.median(runs["full"]["rounds"]) / statistics.median(runs[baseline]["rounds"])
                print(f"  full / {baseline}: {ratio:.2f}× fastest rounds ({verdict} the {COST_LIMIT}× budget), "
                      f"{median_ratio:.2f}× median rounds")


if __name__ == "__main__":
    main()
