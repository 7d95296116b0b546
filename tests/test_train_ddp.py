"""Data-parallel training under torchrun (two Gloo processes on the CPU): two ranks with half a batch
each take the same steps as one process with the whole batch; rank 0 alone writes the run folder."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from srkit.cli.main import main

pytestmark = [pytest.mark.slow, pytest.mark.distributed]

OVER = [
    "model=espcn",
    "model_args={in_channels: 3}",
    "scale=2",
    "iters=6",
    "val_every=3",
    "data.patch=32",
    "data.batch=4",
    "ema=null",
    "tensorboard=false",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def torchrun(out: Path, over: list[str]) -> subprocess.CompletedProcess[str]:
    args = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_addr",
        "127.0.0.1",
        "--master_port",
        str(free_port()),
        "-m",
        "srkit.cli.main",
        "train",
        "--out",
        str(out),
    ]
    return subprocess.run(args + [a for o in over for a in ("--set", o)], capture_output=True, text=True, timeout=300)


def test_two_ranks_equal_one_process_with_the_whole_batch(tmp_path: Path) -> None:
    proc = torchrun(tmp_path / "ddp", OVER)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert main(["train", "--out", str(tmp_path / "one"), *[a for o in OVER for a in ("--set", o)]]) == 0
    two, one = load_file(tmp_path / "ddp" / "model.safetensors"), load_file(tmp_path / "one" / "model.safetensors")
    assert two.keys() == one.keys()
    for k in one:
        assert (two[k] - one[k]).abs().max() <= 1e-6 * max(1.0, float(one[k].abs().max())), k
    m = json.loads((tmp_path / "ddp" / "metrics.json").read_text())
    assert m["world_size"] == 2 and m["iterations"] == 6
    assert len((tmp_path / "ddp" / "log.jsonl").read_text().splitlines()) == 2  # rank 0 alone logs


def test_adversarial_training_under_torchrun(tmp_path: Path) -> None:
    over = [
        "model=srresnet",
        "model_args={blocks: 1, channels: 8, bn: false}",
        "scale=2",
        "iters=4",
        "val_every=2",
        "data.patch=32",
        "data.batch=4",
        "adversarial.enabled=true",
        "adversarial.pretrain_iters=1",
        "adversarial.d_blocks=1",
        "adversarial.d_channels=8",
    ]
    proc = torchrun(tmp_path / "gan", over)
    assert proc.returncode == 0, proc.stderr[-3000:]
    m = json.loads((tmp_path / "gan" / "metrics.json").read_text())
    assert m["world_size"] == 2 and len(m["d_losses"]) == 3


@pytest.mark.skipif(
    torch.cuda.device_count() < 2,
    reason="NCCL: two ranks need two GPUs (the lent device machines have one)",
)
def test_two_gpus_under_nccl_equal_one_gpu_with_the_whole_batch(tmp_path: Path) -> None:
    over = [*OVER, "device=cuda"]
    proc = torchrun(tmp_path / "nccl", over)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert main(["train", "--out", str(tmp_path / "one"), *[a for o in over for a in ("--set", o)]]) == 0
    two, one = load_file(tmp_path / "nccl" / "model.safetensors"), load_file(tmp_path / "one" / "model.safetensors")
    for k in one:  # cuDNN's TF32 convolutions (PyTorch's default): 1e-3, not float32's 1e-6
        assert (two[k] - one[k]).abs().max() <= 1e-3 * max(1.0, float(one[k].abs().max())), k
    assert json.loads((tmp_path / "nccl" / "metrics.json").read_text())["world_size"] == 2
