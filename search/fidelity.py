"""How far a ranking signal agrees with a reference ranking: Kendall's tau and Spearman's rho over the
networks both score, each with a bootstrap 95% interval (networks resampled with replacement).

A search ranks architectures by a cheap signal (the supernet's PSNR, a short stand-alone training);
it is only as good as that signal's agreement with long training, and long training's with the
official checkpoints. ``fidelity.json`` holds one record per (signal, reference) pair.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

if TYPE_CHECKING:
    from .runlog import RunLog

RESAMPLES = 2000


def agreement(
    signal: Mapping[str, float], reference: Mapping[str, float], *, resamples: int = RESAMPLES, seed: int = 0
) -> dict[str, object]:
    """Kendall tau-b and Spearman rho between two scorings of the same networks (the names both hold),
    with percentile bootstrap 95% intervals; resamples where either is undefined (all tied) are dropped."""
    names = sorted(set(signal) & set(reference))
    x = np.array([signal[n] for n in names], dtype=float)
    y = np.array([reference[n] for n in names], dtype=float)
    out: dict[str, object] = {"n": len(names), "names": names}
    if len(names) < 3:
        raise ValueError(f"rank agreement needs at least 3 networks scored by both, got {len(names)}")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(names), size=(resamples, len(names)))
    for key, fn in (("kendall_tau", stats.kendalltau), ("spearman", stats.spearmanr)):
        out[key] = float(fn(x, y).statistic)
        with warnings.catch_warnings():  # a resample of tied values is undefined: dropped, not an error
            warnings.simplefilter("ignore")
            boot = [float(fn(x[i], y[i]).statistic) for i in draws]
        boot = [b for b in boot if math.isfinite(b)]
        out.setdefault("ci95", {})[key] = [float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))]  # type: ignore[index]
    return out


def record(signal: str, reference: str, a: Mapping[str, float], b: Mapping[str, float]) -> dict[str, object]:
    """One ``fidelity.json`` entry: the agreement of ``signal``'s scores ``a`` with ``reference``'s ``b``."""
    return {"signal": signal, "reference": reference, **agreement(a, b)}


def safe_name(key: str) -> str:
    """An architecture's key as a folder name."""
    return re.sub(r"[^A-Za-z0-9.+-]+", "_", key)


def member_folder(run: Path, key: str, iters: int) -> Path:
    """Where a fidelity member's stand-alone training of ``iters`` runs: ``fidelity/<key>@<iters>``."""
    return run / "fidelity" / f"{safe_name(key)}@{iters}"


def from_log(runlog: RunLog, run: Path | None = None) -> list[dict[str, object]]:
    """A search's ``fidelity.json``: over its fidelity sample (``kind: fidelity_member``), the
    supernet's PSNR and each shorter stand-alone training ranked against the longest (held-out PSNR
    throughout); [] until at least 3 members have their long training. With the ``run`` folder,
    also the long trainings' own validations before their end (:func:`snapshots`)."""
    sample = {r["of"]: float(r["psnr_supernet"]) for r in runlog.of_kind("fidelity_member")}
    trained: dict[int, dict[str, float]] = {}
    for kind in ("fidelity_trained", "ranked"):  # a shortlisted member's ranking training counts at its budget
        for r in runlog.of_kind(kind):
            if r["of"] in sample:
                trained.setdefault(int(r["iters"]), {}).setdefault(r["of"], float(r["psnr"]))
    if not trained:
        return []
    long = max(trained)
    reference = f"stand-alone training, {long} iterations (held-out PSNR)"
    if len(trained[long]) < 3:
        return []
    out = [record("supernet PSNR (held-out)", reference, sample, trained[long])]
    for iters in sorted(i for i in trained if i < long and len(set(trained[i]) & set(trained[long])) >= 3):
        out.append(
            record(
                f"stand-alone training, {iters} iterations (held-out PSNR)", reference, trained[iters], trained[long]
            )
        )
    for it, scores in sorted(snapshots(runlog, run, long).items() if run is not None else ()):
        if len(set(scores) & set(trained[long])) >= 3:
            signal = f"the same training at iteration {it} of {long} (held-out PSNR; its learning rate not yet decayed)"
            out.append(record(signal, reference, scores, trained[long]))
    return out


def snapshots(runlog: RunLog, run: Path, long: int) -> dict[int, dict[str, float]]:
    """{iteration: {member: held-out PSNR}} from the validations inside each member's long training
    (its folder's ``log.jsonl``, in the run it was taken from where adopted): whether a training
    stopped early would rank as the finished one does, at no extra cost. A missing log is skipped."""
    out: dict[int, dict[str, float]] = {}
    for r in runlog.of_kind("fidelity_trained"):
        if int(r["iters"]) != long:
            continue
        log = member_folder(Path(r.get("from") or run), r["of"], long) / "log.jsonl"
        lines = log.read_text().splitlines() if log.is_file() else []
        for rec in (json.loads(x) for x in lines if x.strip()):
            if "val_psnr" in rec and int(rec.get("iteration", long)) < long:
                out.setdefault(int(rec["iteration"]), {})[r["of"]] = float(rec["val_psnr"])
    return out


def lines(records: list[dict[str, object]]) -> list[str]:
    """The records as Markdown list items: tau and rho, each with its 95% interval."""
    out = []
    for r in records:
        ci = r["ci95"]
        out.append(
            f"- {r['signal']} vs {r['reference']} (n={r['n']}): tau {r['kendall_tau']:.2f} "
            f"[{ci['kendall_tau'][0]:.2f}, {ci['kendall_tau'][1]:.2f}], rho {r['spearman']:.2f} "
            f"[{ci['spearman'][0]:.2f}, {ci['spearman'][1]:.2f}]"
        )
    return out
