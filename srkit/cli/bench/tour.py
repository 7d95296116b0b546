"""``srkit-bench`` with no subcommand: the quick tour, the ops and then IMDN x4."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ...profiler import modelbench, report
from ...profiler.device import peaks, slug
from .common import console, device_header
from .model import ModelsRun, run_models
from .ops import OpsRun, run_ops


def run(args: argparse.Namespace) -> int:
    """The quick tour: ops (quick), then IMDN x4 at a small output, without torch.compile on the CPU."""
    con = console()
    pk = peaks(args.device, remeasure=args.remeasure_peaks)
    fp = device_header(con, args.device, pk)
    t0 = time.perf_counter()
    cpu = not args.device.startswith("cuda")
    common = {"reps": args.reps, "max_seconds": args.max_seconds}
    op_rows, ok = run_ops(OpsRun(args.device, quick=cpu, **common), con, pk)
    tour = ModelsRun(
        args.device,
        ("imdn",),
        inputs=(modelbench.RESOLUTIONS["360p" if cpu else "1080p"],),
        variants=("eager", "srkit") if cpu else tuple(modelbench.VARIANTS),
        **common,
    )
    model_rows, layers = run_models(tour, con)
    out = Path(args.out)
    stem = f"bench_{slug(fp)}"
    record = {
        "command": "default",
        "fingerprint": fp,
        "peaks": pk.as_dict(),
        "seconds": time.perf_counter() - t0,
        "ops": op_rows,
        "models": model_rows,
        "layers": layers,
    }
    paths = [
        report.write_json(out / f"{stem}.json", record),
        report.write_csv(out / f"{stem}_ops.csv", op_rows),
        report.write_csv(out / f"{stem}_models.csv", model_rows),
    ]
    png = report.plot_op_speedups(out / f"{stem}_ops.png", op_rows, fp["device"])
    con.print(
        "wrote " + ", ".join(str(p) for p in paths + ([png] if png else [])) + f" in {time.perf_counter() - t0:.0f} s"
    )
    return 0 if ok and not any("error" in r for r in model_rows) else 1
