"""One node's training process for tests/test_train_multinode.py: ``srkit.train.train`` under torchrun.

    python -m torch.distributed.run --nnodes 2 --node_rank K ... tests/multinode_worker.py OUT CRASH_AT MODE KEY=VALUE...

CRASH_AT > 0: rank 0 dies (``os._exit``, no cleanup) at that iteration's validation, after its log
line is written and before its checkpoint, as a node killed mid-run does. MODE: ``fresh`` or ``resume``.
"""

from __future__ import annotations

import os
import sys

from srkit.train import load_config, train


def main(out: str, crash_at: int, resume: bool, over: list[str]) -> None:
    cfg = load_config(None, over, base={"recipe": "auto"})

    def crash(iteration: int, psnr: float, final: bool) -> None:
        if iteration == crash_at and not final:
            os._exit(17)

    train(cfg, out, resume=resume, progress=False, log=lambda *a: None, on_validate=crash if crash_at else None)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3] == "resume", sys.argv[4:])
