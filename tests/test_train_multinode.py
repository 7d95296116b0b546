"""Training on two nodes: two torchrun launches on this host (loopback, Gloo, a static rendezvous
at node 0), one process each. They take the same steps as one process with the whole batch; a node
killed mid-run and both restarted resume from the last checkpoint with every log record once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file

from .test_train_ddp import OVER, free_port

pytestmark = [pytest.mark.slow, pytest.mark.distributed]
WORKER = Path(__file__).with_name("multinode_worker.py")
ITERS = ["iters=8", "val_every=2"]


def two_nodes(out: Path, crash_at: int, mode: str) -> list[subprocess.CompletedProcess[str]]:
    """Both nodes launched together; each one's torchrun, its return code and output."""
    port = str(free_port())
    procs = []
    for node in (0, 1):
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--node_rank", str(node)]
        cmd += ["--nproc_per_node", "1", "--master_addr", "127.0.0.1", "--master_port", port]
        cmd += [str(WORKER), str(out), str(crash_at), mode, *OVER, *ITERS]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    done = []
    for p in procs:
        output, _ = p.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(p.args, p.returncode, output))
    return done


def one_process(out: Path) -> None:
    subprocess.run([sys.executable, str(WORKER), str(out), "0", "fresh", *OVER, *ITERS], check=True, timeout=300)


def _same_weights(a: Path, b: Path) -> None:
    x, y = load_file(a / "model.safetensors"), load_file(b / "model.safetensors")
    assert x.keys() == y.keys()
    for k in x:  # float32 rounding through 8 Adam steps: 8e-8 in isolated runs (bit-repeatable), but up
        # to 9e-5 seen inside the distributed session on a fresh clone (cause not found: docs/distributed.md)
        assert (x[k] - y[k]).abs().max() <= 2e-4 * max(1.0, float(y[k].abs().max())), k


def test_two_nodes_equal_one_process_with_the_whole_batch(tmp_path: Path) -> None:
    nodes = two_nodes(tmp_path / "two", 0, "fresh")
    assert [n.returncode for n in nodes] == [0, 0], nodes[0].stdout[-3000:] + nodes[1].stdout[-3000:]
    one_process(tmp_path / "one")
    _same_weights(tmp_path / "two", tmp_path / "one")
    assert json.loads((tmp_path / "two" / "metrics.json").read_text())["world_size"] == 2


def test_a_killed_node_and_a_restart_resume_with_every_record_once(tmp_path: Path) -> None:
    run = tmp_path / "run"
    killed = two_nodes(run, 6, "fresh")  # rank 0 dies at iteration 6, before its checkpoint
    assert all(n.returncode != 0 for n in killed), [n.stdout[-2000:] for n in killed]
    logged = [json.loads(line)["iteration"] for line in (run / "log.jsonl").read_text().splitlines()]
    assert logged == [2, 4, 6]  # the line written before the crash, its checkpoint not
    nodes = two_nodes(run, 0, "resume")
    assert [n.returncode for n in nodes] == [0, 0], nodes[0].stdout[-3000:] + nodes[1].stdout[-3000:]
    logged = [json.loads(line)["iteration"] for line in (run / "log.jsonl").read_text().splitlines()]
    assert logged == [2, 4, 6, 8]  # iteration 6 trained again from 4's checkpoint, logged once
    one_process(tmp_path / "one")
    _same_weights(run, tmp_path / "one")
