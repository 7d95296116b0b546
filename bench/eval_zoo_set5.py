"""Score every official checkpoint in ../shared/data/weights on Set5 (the standard protocol) and write
bench/results/zoo_set5.json. Usage: python bench/eval_zoo_set5.py [--shared ../shared/data]."""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from pathlib import Path

import torch

from srkit import __version__, atomic, models
from srkit.evaluate import evaluate, summary
from srkit.inference import Upscaler

FILES = [
    ("imdn_x2.pth", 2),
    ("imdn_x3.pth", 3),
    ("imdn_x4.pth", 4),
    ("rlfn_x2.pth", 2),
    ("rlfn_x4.pth", 4),
    ("rlfn_ntire_x4.pth", 4),
    ("rfdn_aim2020_x4.pth", 4),
    ("efdn_ntire_x4.pth", 4),
    ("bsrn_s_ntire22_x4.pth", 4),
    ("span_ch28_ntire24_x4.pth", 4),
    ("spantiny_ch26_ntire24_x4.pth", 4),
    ("carn_m_x234.pth", 2),
    ("carn_m_x234.pth", 3),
    ("carn_m_x234.pth", 4),
    ("fsrcnn_x2.pth", 2),
    ("fsrcnn_x3.pth", 3),
    ("fsrcnn_x4.pth", 4),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "zoo_set5.json"))
    args = ap.parse_args()
    shared = Path(args.shared)
    published = json.loads((shared / "reference" / "published_numbers.json").read_text())
    rows = []
    for fname, scale in FILES:
        m = models.load(shared / "weights" / fname, scale=scale)
        up = Upscaler(m)
        t0 = time.perf_counter()
        res = summary(evaluate(lambda lr, s, up=up: up(lr), str(shared / "datasets" / "Set5"), scale))
        rows.append(
            {
                "file": fname,
                "arch": m.arch,
                "hparams": m.hparams,
                "scale": scale,
                "psnr": round(res["mean_psnr"], 4),
                "ssim": round(res["mean_ssim"], 4),
                "seconds_cpu": round(time.perf_counter() - t0, 2),
            }
        )
        print(f"{fname:30s} x{scale} {res['mean_psnr']:.3f} dB {res['mean_ssim']:.4f}", flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    atomic.write_json(
        args.out,
        {
            "what": "Set5 Y-PSNR/SSIM of the official checkpoints under srkit's protocol (MATLAB-bicubic LR, Y, shave=scale)",
            "published": {k: published[k] for k in ("IMDN", "RLFN", "CARN-M", "FSRCNN_yjn870")},
            "results": rows,
            "srkit": __version__,
            "commit": commit,
            "torch": torch.__version__,
            "host": platform.node(),
        },
    )


if __name__ == "__main__":
    main()
