"""``torchrun --nproc_per_node 2`` on CPU (gloo): a tiny training ends with identical weights on both ranks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from rasc.training.checkpoint import load_checkpoint
from rasc.training.distributed import init_distributed, resolve_device

WORKER = textwrap.dedent("""
    import hashlib, json, os, sys
    from pathlib import Path

    import torch

    torch.set_num_threads(1)
    import rasc.training.loop as train_module
    from rasc.models import DiscriminatorConfig, GeneratorConfig
    from rasc.training.data import synthetic_train_data
    from rasc.training.options import TrainConfig

    out = Path(sys.argv[1])
    seen = {}
    real_step = train_module.train_step

    def remember_networks(nets, *args, **kwargs):
        seen["nets"] = nets
        return real_step(nets, *args, **kwargs)

    train_module.train_step = remember_networks
    cfg = TrainConfig(steps=3, batch_size=4, perceptual_layers=("relu1_1",), vgg_download=False, device="cpu",
                      log_every=1, sample_every=2, snapshot_every=2, grid_size=2, r1_every=2, grad_cos_every=1)
    gen_cfg = GeneratorConfig(image_size=32, base_channels=4, max_channels=8, num_blocks=2, w_dim=8)
    disc_cfg = DiscriminatorConfig(image_size=32, base_channels=4, max_channels=8)
    result = train_module.train(cfg, gen_cfg, disc_cfg, synthetic_train_data(8, 32, seed=0), out, progress=False)

    def digest(module):
        state = module.state_dict()
        return hashlib.sha256(b"".join(state[k].numpy().tobytes() for k in sorted(state))).hexdigest()

    nets = seen["nets"]
    rank = os.environ["RANK"]
    (out / f"rank{rank}.json").write_text(json.dumps(
        {"G": digest(nets.G), "D": digest(nets.D), "G_ema": digest(nets.G_ema), "steps": result.steps}))
""")


def _digest(state):
    import hashlib

    return hashlib.sha256(b"".join(state[k].numpy().tobytes() for k in sorted(state))).hexdigest()


def test_torchrun_two_processes_end_with_identical_weights(tmp_path, repo):
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(repo), "OMP_NUM_THREADS": "1", "TORCH_HOME": str(tmp_path / "torch"),
           "PYTHONWARNINGS": "ignore"}
    env.pop("WORLD_SIZE", None)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               str(worker), str(out)]
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert finished.returncode == 0, finished.stderr[-4000:]

    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]
    assert ranks[0] == ranks[1]
    assert ranks[0]["steps"] == 3
    # rank 0 alone wrote the outputs, and they hold the weights both ranks ended with
    saved = load_checkpoint(out / "snapshots" / "last.pt")
    assert _digest(saved["G"]) == ranks[0]["G"] and _digest(saved["D"]) == ranks[0]["D"]
    assert _digest(load_checkpoint(out / "generator.pt")["G_ema"]) == ranks[0]["G_ema"]
    assert json.loads((out / "run.json").read_text())["world_size"] == 2
    assert [json.loads(line)["step"] for line in (out / "stats.jsonl").read_text().splitlines()] == [1, 2, 3]
    # training moved the weights away from the seeded initialisation
    from rasc.models import Generator, GeneratorConfig

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        initial = Generator(GeneratorConfig(image_size=32, base_channels=4, max_channels=8, num_blocks=2, w_dim=8))
    assert _digest(initial.state_dict()) != ranks[0]["G"]


def test_single_process_without_torchrun_env(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    ctx = init_distributed("cpu")
    assert ctx.world_size == 1 and ctx.rank == 0 and ctx.is_main and not ctx.is_distributed
    assert ctx.device == torch.device("cpu")


def test_device_resolution():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device must be"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")
