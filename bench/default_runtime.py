"""Is srkit's default path the fastest on this device? For every zoo model: PyTorch eager (NCHW and
channels_last), torch.compile, ONNX Runtime on srkit's export, srkit's fused layers, and srkit's
default (what ``srkit upscale`` and ``Upscaler.load`` run: srkit.runtime's measured choice, for one
image and for a long job of ``LONG`` images, where compile may pay for itself), all
timed together by ``srkit-bench``'s interleaved timer. The fastest alternative is read there; the
default's speed relative to it is then taken head to head (the two timed again alone, ratios within
each round), since beside five other runtimes two sessions of one runtime read up to 15% apart on a
2-core VM (``bench/ort_aa.py``).

    python bench/default_runtime.py [--out bench/results] [--models espcn imdn ...]

Writes ``default_runtime_<device>.json``. Random weights (speed does not depend on them). Run it on
an otherwise idle machine: the record keeps the load average around each model. For one image the
record also compares the time to the first image (``first_image_*``: setup, choice, export or
compile, and the first call), which is what one image costs a user: for eager, channels_last and the
default in rounds of fresh processes (``--first-repeats``; ratio per round, median), for compile and ONNX Runtime (seconds)
the bench's one read; run it with empty caches (``SRKIT_CACHE_DIR``, ``TORCHINDUCTOR_CACHE_DIR``)
for a first use's numbers.
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

import torch
from scipy import stats

from srkit import atomic
from srkit.models import create_model, list_models, model_entry
from srkit.profiler import modelbench
from srkit.profiler.device import CPU_KEYS, fingerprint, slug, timing_mismatch

ALTERNATIVES = ("eager", "eager+cl", "compile", "ort")
HEAVY = {"rrdbnet", "rcan", "rdn", "edsr", "swinir_light"}  # over ~1 s a call at the common size on 2 cores
OUT_HW, HEAVY_OUT_HW = (256, 256), (128, 128)
LONG = 90_000  # the default chosen for a long job too: an hour of 25 fps video (compile may pay there)
# a first image that takes milliseconds, measured in fresh processes; export's and compile's take seconds
FRESH = ("eager", "eager+cl", "default")
AA_SUFFIX = "#2"  # the second copy of a runtime in an A/A
VERDICT = (
    "fastest alternative by median in the rounds of every row; the default's speed over it taken head to head "
    "(the two rows timed again alone, 20 interleaved rounds, ratio per round, median [min, max]); first image: "
    "eager, channels_last and the default in rounds of fresh processes (one each, order rotated), ratio per round, "
    "median [min, max]; compile and ORT the bench's read"
)


def settings() -> list[modelbench.Setting]:
    f32 = torch.float32
    return [
        modelbench.Setting("eager", f32),
        modelbench.Setting("eager", f32, channels_last=True),
        modelbench.Setting("compile", f32),
        modelbench.Setting("ort", f32),
        modelbench.Setting("srkit", f32),
        modelbench.Setting("default", f32),
        modelbench.Setting("default", f32, images=LONG),
    ]


label = modelbench.row_label


def best_alternative(rows: list[dict]) -> str | None:
    """The fastest alternative by median in the rows' shared rounds."""
    by = {label(r): r for r in rows if "round_ms" in r}
    alts = [a for a in ALTERNATIVES if a in by]
    return min(alts, key=lambda a: by[a]["median_ms"]) if alts else None


def pairs(rows: list[dict]) -> list[tuple[int, int]]:
    """(fastest alternative, default) for both defaults: timed again, the two alone."""
    best = best_alternative(rows)
    idx = {label(r): i for i, r in enumerate(rows)}
    return [(idx[best], idx[d]) for d in ("default", f"default@{LONG}") if best is not None and d in idx]


def verdict(rows: list[dict], default: str = "default") -> dict:
    """The default's speed over the fastest alternative (by median), round by round; ``default``:
    its row (``default@N``: chosen for N images). Decided head to head (the two rows timed again
    alone); ``full_rows_*``: the same ratio read in the rounds of every row."""
    by = {label(r): r for r in rows if "round_ms" in r}
    best = best_alternative(rows)
    if default not in by or best is None:
        return {"error": "; ".join(f"{label(r)}: {r['error']}" for r in rows if "error" in r)}
    full = [b / d for b, d in zip(by[best]["round_ms"], by[default]["round_ms"], strict=True)]
    pair = by[default].get("head_to_head", {}).get(best)
    ratio = pair or {"median": statistics.median(full), "min": min(full), "max": max(full)}
    return {
        "default_runtime": by[default]["backend_ran"],
        "best_alternative": best,
        "default_over_best": ratio["median"],
        "default_over_best_min": ratio["min"],
        "default_over_best_max": ratio["max"],
        "decided": "head to head" if pair else "full rows",
        "full_rows_default_over_best": statistics.median(full),
        "full_rows_default_over_best_min": min(full),
        "full_rows_default_over_best_max": max(full),
        "meets_0.95": ratio["median"] >= 0.95,
    }


def first_image(rows: list[dict], fresh: dict[str, list[float]]) -> dict:
    """One image as a user gets it: the seconds to the first image on each runtime from a model in
    memory (its setup, the choice, an export or a compile, and its first call), the one-image
    default's over the soonest alternative's. ``fresh``: the cheap runtimes' first images, each in a
    process of its own (cold, as a user's), one sample of each per round; the rest as the bench's rows
    read them (``first_call_s``: seconds of export or compile, one sample). The soonest alternative by
    median; the ratio round by round where it was sampled fresh (as the timer takes ratios: a busy
    stretch slows both of a round), median [min, max]."""
    by = {label(r): r["first_call_s"] for r in rows if "first_call_s" in r}
    by |= {k: statistics.median(v) for k, v in fresh.items() if v}
    alts = [a for a in ALTERNATIVES if a in by]
    if "default" not in by or not alts:
        return {}
    best = min(alts, key=lambda a: by[a])
    d = fresh.get("default") or [by["default"]]
    b = fresh.get(best) or [by[best]] * len(d)
    r = ratio_summary(b, d)
    ratio, (lo, hi) = r["median"], r["ci95"]
    return {
        "first_image_s": {a: by[a] for a in (*alts, "default")},
        "first_image_fresh_process_s": fresh,
        "first_image_best_alternative": best,
        "first_image_default_over_best": ratio,
        "first_image_default_over_best_min": r["min"],
        "first_image_default_over_best_max": r["max"],
        "first_image_default_over_best_ci95": [lo, hi],
        "first_image_meets_0.95": ratio >= 0.95,
        # the rounds place the median on one side of 0.95 (its interval does not hold 0.95)
        "first_image_resolved": not lo < 0.95 <= hi,
    }


def ratio_summary(a: list[float], b: list[float]) -> dict:
    """Round-by-round ratios ``a / b``: median, min, max and the median's 95% interval."""
    ratios = [x / y for x, y in zip(a, b, strict=True)]
    lo, hi = median_ci95(ratios)
    return {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios), "ci95": [lo, hi]}


def median_ci95(xs: list[float]) -> tuple[float, float]:
    """A distribution-free 95% interval of the median of ``xs`` (order statistics, scipy's
    quantile test): no assumption about how a fresh process's time is spread. Fewer than 6
    samples cannot reach 95%: the whole range then."""
    if len(xs) < 6:
        return min(xs), max(xs)
    ci = stats.quantile_test(xs, q=0.95, p=0.5).confidence_interval(0.95)
    return float(ci.low), float(ci.high)


def model_and_input(name: str) -> tuple[torch.nn.Module, torch.Tensor]:
    """The zoo model at x4 (or its first scale), random weights (speed does not depend on them), and
    the LR input of the record's output size."""
    e = model_entry(name)
    model = create_model(name, scale=4 if 4 in e.scales else e.scales[0]).eval()
    if hasattr(model, "fold_weight_norm"):
        model.fold_weight_norm()
    hw = HEAVY_OUT_HW if name in HEAVY else OUT_HW
    lr = modelbench.lr_size(hw, int(model.scale), model)
    return model, torch.rand(1, int(getattr(model, "in_channels", 3)), *lr)


def fresh_first_images(
    name: str, repeats: int, runtimes: tuple[str, ...] = FRESH, start: int = 0, how: str = "process"
) -> dict[str, list[float]]:
    """Seconds to the first image on each of ``runtimes``, each try in a new process: in one
    process a runtime built after another reuses oneDNN's kernels and memory, so its first call is
    not a user's. ``start``: rounds already taken (the rotation goes on from there). ``how``: a new
    interpreter per try (``process``) or a child forked from one that has imported srkit (``fork``)."""
    measure = fresh_how(how)
    out: dict[str, list[float]] = {v: [] for v in runtimes}
    n = len(runtimes)
    for i in range(start, start + repeats):
        for v in runtimes[i % n :] + runtimes[: i % n]:  # a round each, its order rotated
            out[v].append(measure(name, v))
    return out


def first_image_in_a_process(name: str, variant: str) -> float:
    cmd = [sys.executable, __file__, "--first-image", name, variant.removesuffix(AA_SUFFIX)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


# what a program that runs srkit has imported before its first image (imports are not the call's)
FORK_PRELOAD = ["torch", "scipy.stats", "srkit.runtime", "srkit.models", "srkit.profiler.modelbench"]


@functools.cache
def _forkserver() -> multiprocessing.context.ForkServerContext:
    """multiprocessing's fork server, with srkit imported once: each try is a fresh child of it (no
    model built, no torch op run, no thread pool started there), in ~0.2 s instead of an
    interpreter's ~3 s of imports. It writes to pages it shares with the server, which a new
    interpreter had made its own while importing: ESPCN's 11 ms first image read 1.2-1.3x slower
    forked, the default more than channels_last (``first_image_fork_check``), so verdicts are
    taken in new interpreters."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(FORK_PRELOAD)
    return ctx


def _first_image_child(send: Connection, name: str, variant: str) -> None:
    send.send(first_call_here(name, variant))


def first_image_forked(name: str, variant: str) -> float:
    ctx = _forkserver()
    recv, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_first_image_child, args=(send, name, variant.removesuffix(AA_SUFFIX)))
    child.start()
    send.close()
    try:
        seconds = recv.recv()
    except EOFError:  # the child died before it sent: its exit code says how
        seconds = None
    child.join()
    if child.exitcode or seconds is None:
        raise RuntimeError(f"the first image of {name} on {variant} exited {child.exitcode}")
    return float(seconds)


FRESH_HOW = ("process", "fork")


def fresh_how(how: str) -> Callable[[str, str], float]:
    """A first image's timer, ``how`` made (looked up at the call: tests replace the module's)."""
    return {"process": first_image_in_a_process, "fork": first_image_forked}[how]


def first_call_here(name: str, variant: str) -> float:
    """This process's first image of ``name`` on ``variant`` (a label of ``settings``), in seconds."""
    from srkit import runtime  # noqa: F401 - loaded, as in a program that runs srkit's default (imports are not the call's)

    model, x = model_and_input(name)
    (s,) = [s for s in settings() if s.label + ("+cl" if s.channels_last else "") == variant]
    t0 = time.perf_counter()
    modelbench.Runner(model, x, s, own=True)  # setup and first call, no copy: a user's program has one model
    return time.perf_counter() - t0


def bench(name: str, reps: int, first_repeats: int, how: str = "process") -> dict:
    model, x = model_and_input(name)
    rows = modelbench.bench_model(model, name, x, settings(), reps=reps, rounds=10, max_seconds=20.0, pairs=pairs)
    long = {f"long_{k}": v for k, v in verdict(rows, f"default@{LONG}").items()}
    first = first_image(rows, fresh_first_images(name, first_repeats, how=how))
    return {"model": name, "lr_hw": list(x.shape[-2:]), "rows": rows, **verdict(rows), **long, **first}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="bench/results")
    p.add_argument("--models", nargs="+", default=list_models())
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--first-repeats", type=int, default=9, help="rounds of fresh processes for the first images")
    p.add_argument("--first-image", nargs=2, metavar=("MODEL", "VARIANT"), help=argparse.SUPPRESS)
    p.add_argument("--refresh-first-images", type=Path, metavar="RECORD", help="measure a record's first images again")
    p.add_argument("--more-rounds", type=Path, metavar="RECORD", help="add first-image rounds where a verdict is open")
    p.add_argument("--until", type=int, default=18, help="--more-rounds: at most this many rounds a model")
    p.add_argument("--every", action="store_true", help="--more-rounds: every model to --until rounds")
    p.add_argument("--aa", type=Path, metavar="RECORD", help="A/A of the soonest alternatives' first images (--models)")
    p.add_argument(
        "--how",
        choices=FRESH_HOW,
        default="process",
        help="a first image's fresh process: how made (fork reads ms-scale images slower: see --fork-check)",
    )
    p.add_argument("--fork-check", type=Path, metavar="RECORD", help="forked against new first images (--models)")
    a = p.parse_args()
    if a.first_image:  # one try of fresh_first_images, in its own process
        print(first_call_here(*a.first_image))
        return
    if a.refresh_first_images:
        named = a.models if a.models != list_models() else None  # --models: those alone
        refresh_first_images(a.refresh_first_images, a.first_repeats, named, a.how)
        return
    if a.more_rounds:
        named = a.models if a.models != list_models() else None
        more_first_image_rounds(a.more_rounds, a.until, every=a.every, how=a.how, models=named)
        return
    if a.aa:
        aa_first_images(a.aa, a.models, a.first_repeats, a.how)
        return
    if a.fork_check:
        fork_check(a.fork_check, a.models, a.first_repeats)
        return
    fp = fingerprint("cpu")
    path = Path(a.out) / f"default_runtime_{slug(fp)}.json"
    record = {"fingerprint": fp, "threads": torch.get_num_threads(), "timing": modelbench.TIMING_METHOD}
    record |= {"verdict": VERDICT, "first_repeats": a.first_repeats, "first_image_how": a.how, "models": []}
    record = resumed(path, record)
    done = {m["model"] for m in record["models"]}
    t0 = time.perf_counter() - record.get("seconds", 0.0)
    for name in (n for n in a.models if n not in done):
        res = bench(name, a.reps, a.first_repeats, a.how)
        record["models"].append(res)
        record["seconds"] = time.perf_counter() - t0
        atomic.write_json(path, record)  # after every model: a stopped run keeps what it measured
        print(name, {k: v for k, v in res.items() if k not in ("rows",)}, flush=True)
    summarize(record)
    atomic.write_json(path, record)
    print(record["summary"])


def resumed(path: Path, new: dict) -> dict:
    """The record at ``path`` to go on with (a stopped run's models are kept, not measured again),
    else ``new``; exits with one line where it was made on another machine or CPU or with other
    first-image settings, so that nothing measured is overwritten or pooled across CPUs."""
    if not path.is_file():
        return new
    old = json.loads(path.read_text())
    where_measured(path, old)  # this machine and CPU, or one line and an exit
    if diff := [
        f"{k}: {old.get(k)!r}, asked {new[k]!r}" for k in ("first_repeats", "first_image_how") if old.get(k) != new[k]
    ]:
        sys.exit(f"{path}: made with other first-image settings ({'; '.join(diff)}); move it away or ask for those")
    print(f"{path}: going on after {len(old['models'])} models", flush=True)
    return old


def summarize(record: dict) -> None:
    ms = record["models"]
    met = [m for m in ms if m.get("meets_0.95")]
    long = [m for m in ms if m.get("long_meets_0.95")]
    first = [m for m in ms if m.get("first_image_meets_0.95")]
    resolved = [m for m in ms if m.get("first_image_resolved")]
    record["summary"] = {
        "models": len(ms),
        "default_within_0.95_of_best": len(met),
        f"default_for_{LONG}_images_within_0.95_of_best": len(long),
        "first_image_within_0.95_of_best": len(first),
        # the rounds' 95% interval of the median on one side of 0.95: above it, below it
        "first_image_resolved_within_0.95": sum(m["first_image_meets_0.95"] for m in resolved),
        "first_image_resolved_below_0.95": sum(not m["first_image_meets_0.95"] for m in resolved),
        "first_image_unresolved": len(ms) - len(resolved),
    }


def where_measured(path: Path, record: dict) -> dict:
    """Commit, date, host and CPU of rounds added to ``record`` here; exits with one line where this
    machine or CPU is not the record's (rounds of two CPUs would pool into one median)."""
    fp = fingerprint("cpu")
    if diff := timing_mismatch(record["fingerprint"], fp):
        sys.exit(f"{path}: measured on another machine or CPU ({'; '.join(diff)}); move it away to make one here")
    if any(k not in record["fingerprint"] for k in CPU_KEYS):
        print(f"{path}: the record does not name its CPU; its earlier rounds may come from another one", flush=True)
    return {k: fp[k] for k in ("commit", "date", "host", *CPU_KEYS)}


def refresh_first_images(path: Path, repeats: int, models: list[str] | None = None, how: str = "process") -> None:
    """Measure the first images of a record's models (None: all) again (fresh processes), keeping
    its timed rows. A model measured alone says where (``first_image_measured_at``): the change
    it follows touched that model only."""
    record = json.loads(path.read_text())
    at = where_measured(path, record)
    for m in record["models"]:
        if models is not None and m["model"] not in models:
            continue
        m.pop("first_image_rounds_added", None)  # the rounds are all new
        m |= first_image(m["rows"], fresh_first_images(m["model"], repeats, how=how))
        if models is not None:
            m["first_image_measured_at"] = at | {"rounds": repeats, "how": how}
        atomic.write_json(path, record)
        print(m["model"], {k: v for k, v in m.items() if k.startswith("first_image")}, flush=True)
    if models is None:  # the whole record's first images are of this sitting
        record |= {"first_repeats": repeats, "first_images_measured_again": at["commit"], "first_image_how": how}
    summarize(record)
    atomic.write_json(path, record)
    print(record["summary"])


def more_first_image_rounds(
    path: Path, until: int, batch: int = 3, every: bool = False, how: str = "process", models: list[str] | None = None
) -> None:
    """Rounds added to a record's first images, ``batch`` at a time (a whole rotation), for every
    model whose rounds do not yet place the median on one side of 0.95 (``every``: for every model),
    until they do or ``until`` rounds stand. Rounds pair a default with its alternative inside one
    stretch of time, so rounds of another sitting pool with them; each addition is logged in
    ``first_image_rounds_added``. Stopping where the interval leaves 0.95 looks again after each
    batch, so its 95% is a little optimistic; ``every`` brings all to ``until`` rounds, a fixed
    number, as the record then says. ``models``: those alone (None: all)."""
    record = json.loads(path.read_text())
    here = where_measured(path, record) | {"how": how}
    for m in record["models"]:
        if models is not None and m["model"] not in models:
            continue
        fresh = m["first_image_fresh_process_s"]
        m |= first_image(m["rows"], fresh)  # a record from before the interval
        while (every or not m.get("first_image_resolved")) and (n := len(fresh["default"])) < until:
            more = fresh_first_images(m["model"], min(batch, until - n), tuple(fresh), start=n, how=how)
            fresh = {k: v + more[k] for k, v in fresh.items()}
            m |= first_image(m["rows"], fresh)
            m.setdefault("first_image_rounds_added", []).append(here | {"rounds": len(more["default"])})
            atomic.write_json(path, record)  # after every batch: a stopped run keeps what it measured
        if models is not None:  # the record's rule stays the others'
            m["first_image_stopping"] = _stopping(until, batch, every)
        print(m["model"], len(fresh["default"]), m["first_image_default_over_best_ci95"], flush=True)
    if models is None:
        record["first_image_stopping"] = _stopping(until, batch, every)
    summarize(record)
    atomic.write_json(path, record)
    print(record["summary"])


def _stopping(until: int, batch: int, every: bool) -> str:
    if every:
        return f"every model's rounds brought to {until}, a fixed number"
    return (
        f"rounds added {batch} at a time to {until} while the 95% interval of the median held 0.95; "
        "an interval looked at after every batch covers a little less than 95%"
    )


def aa_first_images(path: Path, models: list[str], repeats: int, how: str = "process") -> None:
    """The A/A floor of the first-image verdict: each model's soonest alternative against itself,
    timed exactly as the default is timed against it (fresh processes, rounds, ratio per round).
    Written to the record's ``first_image_aa``: how far a runtime reads from itself."""
    record = json.loads(path.read_text())
    by = {m["model"]: m for m in record["models"]}
    out = record.setdefault("first_image_aa", {})
    at = where_measured(path, record)
    for name in models:
        best = by[name]["first_image_best_alternative"]
        fresh = fresh_first_images(name, repeats, (best, best + AA_SUFFIX), how=how)
        out[name] = {"runtime": best, "fresh_process_s": fresh} | ratio_summary(fresh[best], fresh[best + AA_SUFFIX])
        out[name] |= at | {"how": how}
        atomic.write_json(path, record)
        print(name, {k: v for k, v in out[name].items() if k != "fresh_process_s"}, flush=True)


def fork_check(path: Path, models: list[str], repeats: int) -> None:
    """Does a forked child read a first image as a new interpreter does? Per model, its soonest
    alternative and the default, each both ways, in rounds of four (order rotated): per runtime
    the forked over the new process's seconds, and the default's ratio each way, median and 95%
    interval. Written to the record's ``first_image_fork_check``."""
    record = json.loads(path.read_text())
    by = {m["model"]: m for m in record["models"]}
    out = record.setdefault("first_image_fork_check", {})
    at = where_measured(path, record)
    for name in models:
        best = by[name]["first_image_best_alternative"]
        rt = (best, "default")
        keys = [f"{r}@{h}" for h in FRESH_HOW for r in rt]
        got: dict[str, list[float]] = {k: [] for k in keys}
        for i in range(repeats):
            for k in keys[i % 4 :] + keys[: i % 4]:
                r, h = k.split("@")
                got[k].append(fresh_how(h)(name, r))
        res: dict = {"runtime": best, "seconds": got} | at
        for r in rt:
            res[f"{r}_fork_over_process"] = ratio_summary(got[f"{r}@fork"], got[f"{r}@process"])
        for h in FRESH_HOW:  # the verdict's ratio, best's seconds over the default's, each way
            res[f"default_over_best_{h}"] = ratio_summary(got[f"{best}@{h}"], got[f"default@{h}"])
        out[name] = res
        atomic.write_json(path, record)
        print(name, {k: v for k, v in res.items() if k != "seconds"}, flush=True)


if __name__ == "__main__":
    main()
