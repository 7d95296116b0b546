"""fp16 / bf16 safety of every official checkpoint in the shared data, measured on Set5.

For each file: the model in fp32, fp16 and bf16 on the centre of each Set5 image's MATLAB-bicubic
LR (at most 64 x 64 LR pixels, so the CPU's slow fp16 kernels finish), scored against the HR crop
on Y with the scale shaved, averaged over the five; the verdict rule is
:func:`srkit.models.precision.check_half`'s.

    python bench/precision_safety.py [--weights ../shared/data/weights] [--set5 ../shared/data/datasets/Set5]

Writes ``bench/results/precision_safety_<device>.json`` (one record per file and dtype; a CPU's
name carries its ISA): bf16's drop depends on the CPU's bf16 path (an AVX2-only AMD EPYC loses more
than an AMD EPYC with avx512_bf16 under the same name), so each CPU keeps its own file and
:data:`srkit.models.precision.RECORDS` lists them.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
from pathlib import Path

import torch

from srkit import __version__, atomic
from srkit.evaluate import dataset
from srkit.models import load
from srkit.models.precision import FP16_PEAK, MAX_DROP_DB, centre_pair, check_half, fp32_reference
from srkit.profiler.device import fingerprint, slug

SIDE = 64
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def records(weights: Path, set5: Path) -> list[dict]:
    out = []
    for path in sorted(weights.glob("*.pth")):
        scale = int(m[1]) if (m := re.search(r"x(\d)", path.stem)) and "x234" not in path.stem else 4
        model = load(path, scale=scale).eval()
        pairs = [
            centre_pair(lr, hr, model.scale, model.in_channels, SIDE) for _, hr, lr in dataset(str(set5), model.scale)
        ]
        reference = fp32_reference(model, pairs)  # one fp32 run for both dtypes
        for dtype in (torch.float16, torch.bfloat16):
            check = check_half(model, pairs, dtype, reference)
            out.append({"file": path.name, "arch": model.arch, "scale": model.scale, **check.as_dict()})
            print(
                f"{path.name:32s} {check.dtype:9s} drop {check.drop_db:+.4f} dB, peak {check.peak_activation:.1f}, safe: {check.safe}"
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path, default=DATA / "weights")
    ap.add_argument("--set5", type=Path, default=DATA / "datasets" / "Set5")
    ap.add_argument("--out", type=Path, help="default: bench/results/precision_safety_<device>.json")
    args = ap.parse_args()
    torch.manual_seed(0)
    fp = fingerprint("cpu")
    out = args.out or Path(__file__).parent / "results" / f"precision_safety_{slug(fp)}.json"
    doc = {
        "machine": platform.processor() or platform.machine(),
        "fingerprint": fp,
        "torch": torch.__version__,
        "srkit": __version__,
        "probe": f"Set5, the centre of each image (at most {SIDE}x{SIDE} LR pixels), Y, scale shaved, mean PSNR",
        "rule": {"max_drop_db": MAX_DROP_DB, "fp16_peak_activation": FP16_PEAK},
        "records": records(args.weights, args.set5),
    }
    atomic.write_bytes(out, (json.dumps(doc, indent=1) + "\n").encode())
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
