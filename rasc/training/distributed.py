"""Data-parallel training across processes started by ``torchrun`` (NCCL on GPUs, gloo on CPU).

Without ``WORLD_SIZE`` in the environment (or with ``WORLD_SIZE=1``) nothing is initialised and training runs in
one process. Under ``torchrun --nproc_per_node N`` each process takes its rank-strided share of every global
batch and gradients are averaged across processes after every backward pass.

Gradients are averaged with one flat all-reduce per backward, as NVlabs' stylegan2-ada-pytorch does, instead of
wrapping the networks in ``DistributedDataParallel``: a GAN step runs the discriminator several times before one
backward (real, fake, and the R1 double-backward on a lazy schedule), which DDP's bucketed reducer does not support
reliably, and the generator and discriminator alternate which of them receives gradients. The arithmetic is the same
as DDP's (mean of the per-process gradients), and parameters are broadcast from rank 0 at start.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor, nn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistributedContext:
    """Where this process sits in a (possibly single-process) run."""

    rank: int  # global rank, 0 in a single-process run
    local_rank: int  # rank on this machine (picks the GPU)
    world_size: int  # number of processes
    device: torch.device  # the device this process trains on

    @property
    def is_main(self) -> bool:
        """Rank 0: the only process that logs, writes grids and saves."""
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1


def resolve_device(preference: str, local_rank: int = 0) -> torch.device:
    """``"auto"`` → ``cuda:<local_rank>`` when CUDA is available else ``cpu``; ``"cuda"`` picks the local GPU."""
    if preference == "auto":
        preference = "cuda" if torch.cuda.is_available() else "cpu"
    if preference == "cpu":
        return torch.device("cpu")
    if preference.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device {preference!r} requested but CUDA is not available on this machine")
        return torch.device(f"cuda:{local_rank}") if preference == "cuda" else torch.device(preference)
    raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {preference!r}")


def init_distributed(device_preference: str = "auto") -> DistributedContext:
    """Join the process group described by torchrun's env vars (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_*), if any."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext(rank=0, local_rank=0, world_size=1, device=resolve_device(device_preference))
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_preference, local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size,
                                device_id=device if device.type == "cuda" else None)
        log.info("joined process group: rank %d of %d (%s) on %s", rank, world_size, backend, device)
    return DistributedContext(rank=rank, local_rank=local_rank, world_size=world_size, device=device)


def shutdown_distributed() -> None:
    """Leave the process group if one was joined."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def broadcast_module(module: nn.Module, ctx: DistributedContext) -> None:
    """Copy rank 0's parameters and buffers to every process."""
    if not ctx.is_distributed:
        return
    for tensor in list(module.parameters()) + list(module.buffers()):
        dist.broadcast(tensor.data, src=0)


def all_reduce_gradients(module: nn.Module, ctx: DistributedContext) -> None:
    """Average the gradients of ``module``'s trainable parameters over processes (one flat all-reduce).

    Parameters without a gradient on a process count as zero there, so every process ends with the same .grad.
    """
    if not ctx.is_distributed:
        return
    params = [p for p in module.parameters() if p.requires_grad]
    if not params:
        return
    flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= ctx.world_size
    offset = 0
    for p in params:
        count = p.numel()
        p.grad = flat[offset : offset + count].view_as(p).clone()
        offset += count


def all_reduce_mean(values: Tensor, ctx: DistributedContext) -> Tensor:
    """Mean of a tensor over processes (a copy; the input is left alone)."""
    values = values.detach().clone()
    if ctx.is_distributed:
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
        values /= ctx.world_size
    return values


def barrier(ctx: DistributedContext) -> None:
    """Wait for every process (no-op in a single-process run)."""
    if ctx.is_distributed:
        dist.barrier()
