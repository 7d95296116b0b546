"""One NNI trial: ``python -m srkit.search.nni_trial SETTINGS`` (NNI starts it; see :mod:`.nni_adapter`).

Takes its parameters from NNI, trains (reporting intermediate PSNR to NNI), measures the trained
model's latency here, appends the result to the run's log and reports it to NNI.

``python -m srkit.search.nni_trial --job JOBS_DIR``: one job of a search instead
(:func:`.nni_adapter.dispatch`): NNI's parameter ``job`` names the spec ``JOBS_DIR/<job>.json``, which
the trial trains and scores (:func:`.jobs.run_job`); its result lands in the job's folder.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from srkit.train import DataConfig, OptimConfig, TrainConfig, train
from srkit.train.data import load_pairs
from srkit.train.trainer import build_model

from . import jobs
from .latency import time_model
from .nni_adapter import NNISettings, arch_from_parameters, reward, srgan_space, timing_problem
from .runlog import RunLog
from .space import BlockSpace


def trial_config(s: NNISettings, p: dict[str, Any], out: Path) -> tuple[TrainConfig, str]:
    """What this trial trains, and its key in the run log."""
    if s.mode == "srgan":
        cfg = srgan_space(s).train_config(
            p,
            scale=s.scale,
            data=s.data,
            iters=s.iters,
            patch=s.patch,
            device=s.device,
            train_images=len(load_pairs(s.data, s.scale, "train")),
            vgg_weights=s.vgg_weights,
        )
        return cfg, "srgan:" + ",".join(f"{k}={p[k]:.3g}" if k == "lr" else f"{k}={p[k]}" for k in sorted(p))
    lr, batch, patch = float(p.get("lr", s.lr)), int(p.get("batch", s.batch)), int(p.get("patch", s.patch))
    if s.mode == "nas":
        arch = arch_from_parameters(BlockSpace.from_dict(s.space), p)
        model_path = out / "genotype.json"
        model_path.write_text(json.dumps(arch.genotype()))
        model, key = str(model_path), arch.key()
    else:
        if not s.model:
            raise SystemExit("an hpt experiment needs a model")
        model, key = s.model, f"{s.model}:lr={lr:.3g},batch={batch},patch={patch}"
    cfg = TrainConfig(
        model=model,
        scale=s.scale,
        iters=s.iters,
        val_every=max(1, s.iters // 4),
        device=s.device,
        ema=None,
        data=DataConfig(data=s.data, patch=patch, batch=batch),
        optim=OptimConfig(lr=lr),
    )
    return cfg, key


def run_job(jobs_dir: Path) -> int:
    import nni

    label = (nni.get_next_parameter() or {}).get("job")
    if not label:
        raise SystemExit("srkit.search.nni_trial --job: NNI gave no 'job' parameter (a trial of dispatch has one)")
    r = jobs.run_job(jobs.load(jobs.spec_file(jobs_dir, label)))
    nni.report_final_result(r["val_psnr"])
    return 0


def main(argv: list[str] | None = None) -> int:
    import nni

    args = sys.argv[1:] if argv is None else argv
    if args[0] == "--job":
        return run_job(Path(args[1]))
    s = NNISettings.load(args[0])
    p = nni.get_next_parameter() or {}
    trial = os.environ.get("NNI_TRIAL_JOB_ID", "standalone")
    out = Path(s.out) / "trials" / trial
    out.mkdir(parents=True, exist_ok=True)
    cfg, key = trial_config(s, p, out)

    def intermediate(it: int, psnr: float, final: bool) -> None:
        if not final:  # the final result is the latency-aware reward below
            nni.report_intermediate_result(psnr)

    m = train(cfg, out, resume=True, log=lambda t: None, progress=False, on_validate=intermediate)
    problem = timing_problem(s)
    if problem:  # trained here; timed only where the experiment's latencies are measured
        raise SystemExit(problem)
    lat = time_model(build_model(cfg), s.latency_input, s.device, runtime=s.latency_runtime)
    r = reward(m["val_psnr"], lat, s.target_ms, s.penalty_db)
    RunLog(Path(s.out) / "log.jsonl").append(
        {
            "kind": "trial",
            "key": f"{trial}:{key}",
            "trial": trial,
            "parameters": p,
            "model": key,
            "psnr": m["val_psnr"],
            "bicubic_psnr": m["bicubic_psnr"],
            "latency_ms": lat,
            "reward": r,
        }
    )
    nni.report_final_result({"default": r, "psnr": m["val_psnr"], "latency_ms": lat})
    return 0


if __name__ == "__main__":
    sys.exit(main())
