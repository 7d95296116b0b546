"""The small-budget training goal: ESPCN x2 trained for two minutes on the embedded photos must beat
bicubic by at least 0.3 dB on its validation images, with srkit train's default recipe (auto: quick
for a run of minutes). The configuration's plain defaults (``--recipe none``) run beside it.

    python bench/train_recipes.py [--minutes 2] [--out bench/results]

Writes ``train_recipes_<device>.json``: per recipe, the iterations done, validation PSNR, bicubic's
and the margin, with the command that made each row. Runs ``srkit train`` as a user would.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from srkit import atomic
from srkit.profiler.device import fingerprint, slug

GOAL_DB = 0.3


def run(recipe: str, minutes: float, folder: Path) -> dict[str, object]:
    cmd = [
        "srkit",
        "train",
        "--model",
        "espcn",
        "--scale",
        "2",
        "--max-minutes",
        str(minutes),
        "--recipe",
        recipe,
        "--out",
        str(folder),
        "--set",
        "tensorboard=false",
    ]
    proc = subprocess.run([sys.executable, "-m", "srkit.cli.main", *cmd[1:]], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RecipeRunError(f"{' '.join(cmd)} failed: {proc.stderr[-1000:]}")
    m = json.loads((folder / "metrics.json").read_text())
    return {
        "command": " ".join(cmd[:-4] + ["--out", "DIR"]),
        "recipe": m["recipe"],
        "iterations": m["iterations"],
        "seconds": m["seconds"],
        "val_psnr": m["val_psnr"],
        "bicubic_psnr": m["bicubic_psnr"],
        "margin_db": m["margin_db"],
        "val_images": m["val_images"],
    }


class RecipeRunError(RuntimeError):
    """A training run of the comparison failed (its command and the end of its stderr)."""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=2.0)
    p.add_argument("--out", default="bench/results")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            rows = [run(r, a.minutes, Path(tmp) / r) for r in ("auto", "none")]
        except RecipeRunError as e:
            print(e, file=sys.stderr)
            return 2
    fp = fingerprint("cpu")
    auto = rows[0]
    record = {
        "goal": f"ESPCN x2, {a.minutes:g} minutes, margin over bicubic >= {GOAL_DB} dB",
        "fingerprint": fp,
        "met": auto["margin_db"] >= GOAL_DB,
        "rows": rows,
    }
    path = Path(a.out) / f"train_recipes_{slug(fp)}.json"
    atomic.write_json(path, record)
    for r in rows:
        print(
            f"{r['recipe']:>5}: {r['iterations']} iterations, {r['val_psnr']:.3f} dB vs bicubic "
            f"{r['bicubic_psnr']:.3f} dB ({r['margin_db']:+.3f} dB)"
        )
    print(f"goal {'met' if record['met'] else 'NOT met'}; wrote {path}")
    return 0 if record["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
