"""Multi-process training under ``torchrun``: one process per GPU (NCCL), or per CPU worker (Gloo).

Each rank trains on its share of every global batch (the batch is drawn from (seed, iteration) and
split by rank), DDP averages the gradients, so N ranks take the same steps as one process with the
whole batch. Rank 0 alone validates, logs and writes checkpoints; the others never wait on a
collective that rank 0 skips.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    device: str = "cpu"

    @property
    def main(self) -> bool:
        return self.rank == 0

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is true on any (a stop decision all ranks must share)."""
        if self.size == 1:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())


def launched() -> bool:
    """Whether torchrun started this process as one of several ranks."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def is_main() -> bool:
    """Rank 0, or not under torchrun (read before the process group exists: who claims the run folder)."""
    return not launched() or int(os.environ.get("RANK", "0")) == 0


def setup(device: str) -> World:
    """The process group when started by torchrun (``WORLD_SIZE`` > 1), else a world of one.

    On CUDA each rank takes ``cuda:<LOCAL_RANK>`` and NCCL; on the CPU, Gloo."""
    if not launched():
        return World(0, 1, device)
    size = int(os.environ["WORLD_SIZE"])
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    cuda = device.startswith("cuda")
    if cuda:
        if torch.cuda.device_count() <= local:
            raise RuntimeError(f"rank {rank}: LOCAL_RANK {local} but only {torch.cuda.device_count()} CUDA device(s)")
        device = f"cuda:{local}"
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    return World(rank, size, device)


def teardown(world: World) -> None:
    if world.size > 1 and dist.is_initialized():
        dist.destroy_process_group()
