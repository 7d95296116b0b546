"""One-shot search end to end: train the supernet, evolve, report the Pareto front, export, retrain.

Everything lands in the run folder: ``space.json`` and ``config.yaml``, ``supernet.pt`` (atomic,
resumable), ``log.jsonl`` (every scored candidate, every baseline and retrained model, appended as
it happens), ``front.json``, ``pareto.png`` and ``genotypes/*.json``. Running the same command on
the same folder resumes: the supernet from its checkpoint, the search from its log, without
scoring any candidate twice.
"""

from __future__ import annotations

import contextlib
import json
import random
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from srkit import atomic
from srkit.devices import default_device
from srkit.models import create_model
from srkit.profiler.device import fingerprint, timing_mismatch
from srkit.train import distributed, runfolder
from srkit.train.data import holdout_split, load_pairs
from srkit.train.trainer import validate
from srkit.validation import Rule, first_problem

from . import curves, fidelity, pareto, report
from .evolution import Evaluator, EvolutionConfig, evolve
from .imdb_space import make_supernet
from .jobs import Job, Workers, run_job, run_jobs
from .latency import LATENCY_RUNTIMES, FromTable, Measured, default_runtime, time_model, time_rounds
from .runlog import RunLog, spent
from .space import Arch, BlockSpace
from .supernet import SupernetConfig
from .supernet import train as train_supernet

# the hand-designed networks timed (and, with retrain_baselines, retrained) beside the search, at the
# sizes of their papers or official files; "name:key=value,..." gives a variant (e.g. imdn:channels=32)
BASELINES = ("fsrcnn", "espcn", "carn_m", "imdn", "rfdn", "rlfn", "wdsr_b")
PHASES = ("supernet", "evolution", "retrain", "timing")
HERE = Workers()  # every training in this process, one after another


@dataclass
class SearchConfig:
    space: BlockSpace = field(default_factory=BlockSpace)
    channels: int | None = 32  # the supernet's width; None: one supernet over all the space's widths
    shared: bool = False  # an IMDB multi-path space: one set of weights per position shared by all paths
    data: str = "skimage"  # a folder, several joined by os.pathsep (T91:BSDS200), or 'skimage'
    holdout: int = 10  # a folder's every n-th image ranks the candidates and is kept out of supernet training
    supernet: SupernetConfig = field(default_factory=SupernetConfig)
    evolution: EvolutionConfig = field(default_factory=EvolutionConfig)
    latency_input: tuple[int, int] = (270, 480)  # LR size the latency is measured at (1080p output at x4)
    latency_table: str | None = None  # a `srkit-bench lut` table to predict from, instead of measuring
    # what candidates are timed on (latency.LATENCY_RUNTIMES); auto: the runtime srkit ships each on
    latency_runtime: str = field(default_factory=default_runtime)
    baselines: tuple[str, ...] = BASELINES
    budgets_ms: tuple[float, ...] = ()  # export the best architecture under each (default: every front point)
    budgets_from_baselines: bool = False  # export the best architecture under each baseline's latency
    budget_margin: float = 1.0  # export under this fraction of each budget (< 1: room for timing spread)
    budget_rounds: int = 0  # time the front and the baselines again in this many interleaved rounds first
    retrain_iters: int = 0  # retrain the exported architectures (and the baselines) from scratch for this long
    retrain_baselines: tuple[str, ...] = ()  # ("all",): every baseline
    retrain_top: int | None = None  # retrain only this many exports, highest supernet PSNR first (None: all)
    # under each budget, train this many best-by-proxy architectures stand-alone on the training split
    # and export the best on the held-out split (0: export the proxy's best)
    rank_top: int = 0
    rank_iters: int = 0  # their training iterations (0: retrain_iters)
    rank_tolerance: float = 0.0  # supernet PSNRs this close (dB) tie: the shortlist spreads over their latencies
    benchmarks: tuple[str, ...] = ()  # folders the retrained models are scored on (protocol PSNR/SSIM)
    timing_rounds: int = 0  # finally time every retrained model in this many interleaved rounds (the spread)
    # how far the ranking signals agree with long training (fidelity.json): this many architectures
    # (the shortlisted, then members of the space drawn at random) trained stand-alone for
    # fidelity_iters, and for rank_iters where that is shorter (0: not measured)
    fidelity_sample: int = 0
    fidelity_iters: int = 0  # the long budget the signals are ranked against (0: retrain_iters)
    # a run whose fidelity trainings (same members, same recipe) are taken instead of run again: two
    # supernet rules compared on one sample at the cost of one
    fidelity_from: str | None = None
    # a `srkit-search curves` folder whose networks, trained with this run's recipe to retrain_iters,
    # are taken as the retrained baselines (scores, weights) instead of being trained again
    retrained_from: str | None = None
    # published checkpoints (label -> file) scored on the benchmarks and timed with the retrained models:
    # where the baselines' best versions stand (report.md), outside the verdict
    official: dict[str, str] = field(default_factory=dict)
    device: str = field(default_factory=default_device)

    @property
    def ranking_iters(self) -> int:
        """Iterations of each shortlisted architecture's stand-alone training (``rank_top``)."""
        return self.rank_iters or self.retrain_iters

    @property
    def long_iters(self) -> int:
        """The long budget of the fidelity sample's trainings (``fidelity_iters``, else ``retrain_iters``)."""
        return self.fidelity_iters or self.retrain_iters

    def __post_init__(self) -> None:
        problem = config_problem(self)
        if problem:
            raise ValueError(problem)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["space"] = self.space.as_dict()
        return d


def config_problem(cfg: SearchConfig) -> str:
    """The first rule ``cfg`` breaks ('' when none), in srkit.validation's one form: every rule that
    spans fields, checked once here so a command line, a script and a resumed run are refused
    alike, before anything is written."""
    problem = first_problem(cfg, _rules(cfg))
    if not problem:
        for spec in cfg.baselines + tuple(b for b in cfg.retrain_baselines if b != "all"):
            baseline_spec(spec)  # raises, naming the spec, if it is malformed
    return problem


def _rules(cfg: SearchConfig) -> list[Rule]:
    widths, evo = cfg.space.channels, cfg.evolution
    imdb = all(b.type == "imdb_path" for b in cfg.space.candidates)
    return [
        ("shared", not cfg.shared or imdb, "true only in the IMDB multi-path space"),
        ("shared", not cfg.shared or len(widths) == 1, "true only with one width in space.channels"),
        ("channels", cfg.channels is None or cfg.channels in widths, f"one of space.channels {list(widths)}"),
        ("evolution.topk", evo.topk <= evo.population, f"at most evolution.population ({evo.population})"),
        ("holdout", cfg.holdout >= 2, "an integer >= 2 (every n-th image kept out)"),
        ("latency_input", min(cfg.latency_input) >= 1, "a size H, W >= 1"),
        ("budgets_ms", all(b > 0 for b in cfg.budgets_ms), "budgets above 0 ms"),
        ("budget_margin", 0 < cfg.budget_margin <= 1, "a fraction of each budget, above 0 and at most 1"),
        ("retrain_top", cfg.retrain_top is None or cfg.retrain_top >= 1, "null or an integer >= 1"),
        ("budget_rounds", cfg.budget_rounds >= 0, "0 (off) or more rounds"),
        ("rank_top", cfg.rank_top >= 0, "an integer >= 0"),
        ("rank_iters", cfg.rank_iters >= 0, "an integer >= 0"),
        ("official", not cfg.official or bool(cfg.benchmarks), "checkpoints scored on benchmarks: name them too"),
        (
            "rank_tolerance",
            cfg.rank_tolerance >= 0 and (cfg.rank_tolerance == 0 or cfg.rank_top > 0),
            "a PSNR difference >= 0 dB, above 0 only with rank_top (it shapes rank_top's shortlists)",
        ),
        ("rank_iters", cfg.rank_top == 0 or cfg.ranking_iters > 0, "above 0 (or retrain_iters) with rank_top"),
        (
            "fidelity_sample",
            cfg.fidelity_sample == 0 or cfg.fidelity_sample >= 3,
            "0 (off) or at least 3 (a rank needs 3)",
        ),
        ("fidelity_iters", cfg.fidelity_iters >= 0, "an integer >= 0"),
        ("retrained_from", cfg.retrained_from is None or cfg.retrain_iters > 0, "null unless retrain_iters is set"),
        (
            "fidelity_iters",
            cfg.fidelity_sample == 0 or cfg.long_iters > 0,
            "above 0 (or retrain_iters) with fidelity_sample",
        ),
        (
            "budget_rounds",
            cfg.budget_rounds == 0 or not cfg.latency_table,
            "0 with latency_table (the front is timed again; a table's latencies are predicted)",
        ),
        (
            "budget_margin",
            cfg.budget_margin == 1 or bool(cfg.budgets_ms or cfg.budgets_from_baselines),
            "1 unless budgets_ms or budgets_from_baselines is given (it scales them)",
        ),
        (
            "latency_table",
            not cfg.latency_table or getattr(cfg.space, "in_channels", 3) == 3,
            "null for a Y space (space.in_channels 1): a table holds RGB stems, a Y space is measured",
        ),
        ("latency_runtime", cfg.latency_runtime in LATENCY_RUNTIMES, f"one of {', '.join(LATENCY_RUNTIMES)}"),
    ]


def baseline_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """'imdn' -> ('imdn', {}); 'imdn:channels=32,blocks=3' -> ('imdn', {'channels': 32, 'blocks': 3})."""
    name, _, rest = spec.partition(":")
    kwargs: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        k, eq, v = item.partition("=")
        if not eq or not k:
            raise ValueError(f"baseline {spec!r}: expected name:key=value,..., got {item!r}")
        try:
            kwargs[k] = json.loads(v)  # numbers, true/false
        except ValueError:
            kwargs[k] = v
    return name, kwargs


def baseline_model(spec: str, scale: int) -> Any:
    """The hand-designed network a baseline spec names, freshly initialised, at ``scale``."""
    name, kw = baseline_spec(spec)
    return create_model(name, scale=scale, **kw)


def baseline_label(spec: str) -> str:
    return "baseline_" + spec.replace(":", "_").replace(",", "_").replace("=", "")


def quick(device: str = "cpu") -> SearchConfig:
    """The end-to-end demo on the embedded photographs: minutes on a 2-core CPU."""
    space = BlockSpace(scale=4, channels=(16, 24), min_blocks=1, max_blocks=4)
    return SearchConfig(
        space=space,
        channels=None,
        device=device,
        supernet=SupernetConfig(iters=1200, patch=64, batch=8, lr=2e-3, checkpoint_every=200),
        evolution=EvolutionConfig(population=10, topk=5, iterations=3, crossover=4, mutation_children=4),
        latency_input=(64, 64),
        retrain_iters=800,
        retrain_baselines=("wdsr_b",),
        retrain_top=1,
    )


# fields whose default changed: a record that lacks one was made under the old default
DEFAULTS_THEN = {"latency_runtime": "torch"}


def _unrecorded_defaults() -> dict[str, Any]:
    """What a field missing from a recorded configuration stood for when the run was recorded."""
    return json.loads(json.dumps(SearchConfig().as_dict())) | DEFAULTS_THEN


def same_config(before: dict[str, Any], cfg: SearchConfig) -> bool:
    """Whether a run folder's recorded configuration is ``cfg``; a field added to srkit after the
    run was recorded counts as its default then (so older run folders still resume)."""
    now, default = json.loads(json.dumps(cfg.as_dict())), _unrecorded_defaults()
    return set(before) <= set(now) and all(before.get(k, default.get(k)) == v for k, v in now.items())


def run(
    cfg: SearchConfig,
    out: str | Path,
    *,
    log: Callable[[str], None] = print,
    until: str = "timing",
    only: tuple[str, ...] = (),
    workers: Workers = HERE,
) -> dict[str, Any]:
    """The search in ``out``, phase by phase up to ``until`` (one of :data:`PHASES`); ``only``: retrain
    just these labels (a long run taken one retrain at a time); ``workers``: where the ranking and
    retraining trainings run (timing stays here). Every phase resumes from the log."""
    out = Path(out)
    space, scale = cfg.space, cfg.space.scale
    need = space.min_size() * scale if hasattr(space, "min_size") else 0
    if cfg.supernet.patch < need:
        raise ValueError(
            f"--patch {cfg.supernet.patch}: the space's blocks need HR patches of at least {need} at x{scale}"
        )
    if distributed.launched():
        return supernet_ranks(cfg, out, until, log)
    latency, elsewhere = _latency(cfg), timing_elsewhere(out, cfg)
    if not elsewhere:  # (a machine that is not the run's own times nothing)
        _budget_reachable(cfg, latency)  # before anything is written or trained
    official_models(cfg)  # a published checkpoint that does not load is refused before anything is written
    _fidelity_source(cfg)  # so are another recipe's trainings
    if cfg.retrained_from is not None and not (Path(cfg.retrained_from) / "log.jsonl").is_file():
        raise ValueError(f"--retrained-from {cfg.retrained_from}: not a `srkit-search curves` folder (no log.jsonl)")
    runlog = _open(cfg, out, log)
    train_pairs, val_pairs = split_pairs(cfg)
    if not elsewhere:
        time_baselines(cfg, runlog, log)  # first, while the supernet has not yet warmed the machine
    net = supernet(cfg, out, runlog, train_pairs, log)
    if PHASES.index(until) >= PHASES.index("evolution"):

        def psnr(a: Arch) -> float:  # the supernet's score of a member, on the held-out images
            return validate(net.subnet(a), val_pairs, scale, cfg.device)[0]

        if elsewhere:
            untimed(cfg, out, runlog, psnr, elsewhere, latency.method, log, workers)
        evaluator = Evaluator(runlog, psnr, latency, cfg.evolution.budget_ms)
        with spent(runlog, "evolution"):
            scored = evolve(space, cfg.channels, evaluator, cfg.evolution, progress=log)
        log(f"evolution: {len(scored)} architectures scored ({latency.method} latency)")
        recheck(cfg, runlog, log)
        rank(cfg, out, runlog, run_budgets(cfg.as_dict(), runlog), log, workers)
        if cfg.fidelity_sample:
            measure_fidelity(cfg, out, runlog, psnr, log, workers)
        exported = export_run(out, cfg.as_dict(), runlog)
        if cfg.retrain_iters and PHASES.index(until) >= PHASES.index("retrain"):
            jobs = retrain_jobs(cfg, exported)
            retrain(cfg, out, runlog, [j for j in jobs if not only or j[0] in only], log, workers)
            curves.score_official(runlog, cfg.official, cfg.benchmarks, scale, cfg.device, log)
            if cfg.timing_rounds and until == "timing" and all(_retrained(cfg, runlog, j[0]) for j in jobs):
                time_final(cfg, runlog, jobs, log)
    return report.write(out, runlog, scale, cfg.latency_input, latency.method, cfg.latency_runtime)


def supernet_ranks(cfg: SearchConfig, out: Path, until: str, log: Callable[[str], None]) -> dict[str, Any]:
    """Under ``torchrun``: the supernet alone, each rank training on its share of every batch (the
    steps one process takes with the whole batch); rank 0 writes the run folder and returns the
    report, the others ``{}``. The search then resumes in one process (``--resume``): the baselines'
    timing, evolution, ranking and retraining need no process group."""
    if until != "supernet":
        raise ValueError(
            "under torchrun, spos trains the supernet alone: add --until supernet, then resume the search "
            "in one process with --resume"
        )
    world = distributed.setup(cfg.device)
    try:
        runlog = _open(cfg, out, log, timing=False) if world.main else None
        supernet(cfg, out, runlog, split_pairs(cfg)[0], log if world.main else (lambda s: None), world)
    finally:
        distributed.teardown(world)
    if runlog is None:
        return {}
    return report.write(out, runlog, cfg.space.scale, cfg.latency_input, _latency(cfg).method, cfg.latency_runtime)


def supernet(
    cfg: SearchConfig,
    out: Path,
    runlog: RunLog | None,
    train_pairs: list,
    log: Callable[[str], None],
    world: distributed.World | None = None,
) -> torch.nn.Module:
    """The supernet trained (resuming from ``out/supernet.pt``), its cost logged where ``runlog`` is
    (rank 0 under torchrun, whose ranks all count)."""
    world = world or distributed.World(0, 1, cfg.device)
    torch.manual_seed(cfg.supernet.seed)
    net = make_supernet(cfg.space, cfg.channels, cfg.shared)
    with spent(runlog, "supernet", processes=world.size) if runlog else contextlib.nullcontext():
        losses = train_supernet(
            net, train_pairs, cfg.supernet, out, device=world.device, log=log, progress=world.main, world=world,
        )  # fmt: skip
    if losses:
        head, tail = losses[:20], losses[-20:]
        where = f" on {world.size} processes" if world.size > 1 else ""
        log(f"supernet: {len(losses)} steps{where}, L1 {sum(head) / len(head):.4f} -> {sum(tail) / len(tail):.4f}")
    return net


def _budget_reachable(cfg: SearchConfig, latency: FromTable | Measured) -> None:
    """Refuse a ``budget_ms`` that no member can meet, judged by the space's floor: its narrowest
    member with no block, on each upsampler (a lower bound on every member's latency)."""
    space, budget = cfg.space, cfg.evolution.budget_ms
    if budget is None or not hasattr(space, "member"):
        return
    width = min(space.channels)
    floor = min(latency(space.member(width, (), up)) for up in space.upsamplers)
    if floor > budget:
        raise ValueError(
            f"--budget-ms {budget:g}: no architecture of the space runs within it here (its narrowest member "
            f"with no block, width {width}, takes {floor:.2f} ms); raise the budget"
        )


def _open(cfg: SearchConfig, out: Path, log: Callable[[str], None], timing: bool = True) -> RunLog:
    """The run folder's configuration checked (or written), its fingerprint and space, its log.
    ``timing``: this sitting may time (not under torchrun, whose ranks may be elsewhere and fewer
    threads each): the first sitting that times records the machine every later timing must match
    (:func:`timing_elsewhere`); a sitting elsewhere trains only (:func:`untimed`)."""
    out.mkdir(parents=True, exist_ok=True)
    recorded = runfolder.read_config(out)
    if recorded is not None and not same_config(recorded, cfg):
        raise ValueError(
            f"{out}: this run folder holds a search with another configuration ({out / runfolder.CONFIG}); "
            "resume it with the same options or choose another --out"
        )
    runfolder.write_config(out, cfg.as_dict())
    if timing and not (out / "fingerprint.json").is_file():  # where the latencies were measured: the first sitting's
        atomic.write_json(out / "fingerprint.json", fingerprint(cfg.device))
    cfg.space.save(out / "space.json")
    space = cfg.space
    log(
        f"space: {space.size():,} architectures ({len(space.candidates)} blocks, depth {space.min_blocks}-"
        f"{space.max_blocks}, widths {list(space.channels)})"
    )
    return RunLog(out / "log.jsonl")


def timing_elsewhere(out: Path, cfg: SearchConfig) -> list[str]:
    """How this machine (device, CPU, host, thread count) differs from the one the run in ``out`` times on:
    empty where timings taken here may join its own (trainings may run anywhere, timings may not)."""
    path = out / "fingerprint.json"
    if not path.is_file() or not (out / "log.jsonl").is_file():
        return []
    return timing_mismatch(json.loads(path.read_text()), fingerprint(cfg.device))


def untimed(
    cfg: SearchConfig,
    out: Path,
    runlog: RunLog,
    supernet_psnr: Callable[[Arch], float],
    elsewhere: list[str],
    method: str,
    log: Callable[[str], None],
    workers: Workers = HERE,
) -> None:
    """On a machine other than the run's timing machine, the work that needs no timing (the supernet
    is trained by now; the fidelity sample's trainings, where no shortlist decides the sample), the
    report from the log, then one refusal: evolution, ranking and retraining wait on timings."""
    done = "the supernet"
    if cfg.fidelity_sample and not cfg.rank_top:
        measure_fidelity(cfg, out, runlog, supernet_psnr, log, workers)
        done += " and the fidelity sample"
    report.write(out, runlog, cfg.space.scale, cfg.latency_input, method, cfg.latency_runtime)
    raise ValueError(
        f"{out}: its latencies are measured on another machine ({'; '.join(elsewhere)}); trained here what needs "
        f"no timing ({done}): resume it where it started to time the rest, or start another --out"
    )


def split_pairs(cfg: SearchConfig) -> tuple[list, list]:
    """(supernet training pairs, candidate-ranking pairs): the photos' two splits, or a folder's every
    ``holdout``-th image held out, so candidates are never ranked on images the supernet trained on."""
    pairs = load_pairs(cfg.data, cfg.space.scale, "train")
    try:
        train, held = holdout_split(pairs, _holdout(cfg))
    except ValueError as e:
        raise ValueError(f"--{e}") from None
    return train, held or load_pairs(cfg.data, cfg.space.scale, "valid")  # as srkit.train validates


def _holdout(cfg: SearchConfig) -> int:
    """The photos come with their own validation split; a folder has every ``holdout``-th image kept out."""
    return 0 if cfg.data == "skimage" else cfg.holdout


def _latency(cfg: SearchConfig) -> FromTable | Measured:
    scale, rt = cfg.space.scale, cfg.latency_runtime
    if cfg.latency_table:
        if getattr(cfg.space, "in_channels", 3) != 3:
            raise ValueError(
                "--latency-table: tables hold RGB stems; a Y space (--in-channels 1) is timed by measuring"
            )
        return FromTable(cfg.latency_table, scale, cfg.latency_input, cfg.device, runtime=rt)
    return Measured(scale, cfg.latency_input, cfg.device, runtime=rt)


def time_baselines(cfg: SearchConfig, runlog: RunLog, log: Callable[[str], None] = print) -> None:
    """The hand-designed baselines timed in the same run, on the same input and runtime (once each)."""
    for spec in cfg.baselines:
        key = f"baseline:{spec}"
        if runlog.get(key) is None:
            m = baseline_model(spec, cfg.space.scale)
            with spent(runlog, "evolution", key):
                ms = time_model(m, cfg.latency_input, cfg.device, runtime=cfg.latency_runtime)
            params = sum(p.numel() for p in m.parameters())
            runlog.append({"kind": "baseline", "key": key, "model": spec, "params": params, "latency_ms": ms})
            log(f"baseline {spec}: {ms:.1f} ms, {params:,} parameters")


def recheck(cfg: SearchConfig, runlog: RunLog, log: Callable[[str], None] = print) -> None:
    """With ``budget_rounds``: the front's architectures and the baselines timed again together in
    interleaved rounds (``kind: recheck``), so each budget and the pick under it come from one spell
    of the machine; single timings taken minutes apart drift by up to 2x on a shared CPU."""
    if not cfg.budget_rounds:
        return
    pts = report.scored(runlog)
    fr = report.front(pts)  # with the shortlists --rank-top will train, under the budgets as first timed
    first = run_budgets(cfg.as_dict(), runlog, rechecked=False)
    fr += [p for p in pareto.shortlist(pts, first, cfg.rank_top, cfg.rank_tolerance) if p not in fr]
    if all(runlog.get(f"recheck:{k}") for k in [p["key"] for p in fr] + [f"baseline:{b}" for b in cfg.baselines]):
        return
    models = {p["key"]: Arch.from_dict(p["arch"]).build(cfg.space.scale, inference=True) for p in fr}
    models |= {f"baseline:{spec}": baseline_model(spec, cfg.space.scale) for spec in cfg.baselines}
    log(f"timing the front and the baselines ({len(models)} models) in {cfg.budget_rounds} interleaved rounds")
    with spent(runlog, "evolution", "recheck"):
        _log_rounds(cfg, runlog, models, cfg.budget_rounds, "recheck", "of")


def run_budgets(recorded: dict[str, Any], runlog: RunLog, *, rechecked: bool = True) -> tuple[float, ...]:
    """The latency budgets to export the best architecture under, from a configuration as
    ``config.yaml`` records it (a field it lacks at its default, so ``srkit-search report`` and the run
    agree): ``budgets_ms``, or each baseline's latency (rechecked where the run rechecked it, unless
    ``rechecked`` is False), times ``budget_margin``, since a pick at a budget's very edge can land
    above its baseline when timed again."""
    c = recorded_config(recorded)
    margin = float(c["budget_margin"])
    if not c["budgets_from_baselines"]:
        return tuple(float(b) * margin for b in c["budgets_ms"])
    again = report.rechecked(runlog) if rechecked else {}
    ms = {b: again.get(f"baseline:{b}", runlog.get(f"baseline:{b}")["latency_ms"]) for b in c["baselines"]}
    return tuple(sorted({float(v) * margin for v in ms.values()}))


def recorded_config(recorded: dict[str, Any]) -> dict[str, Any]:
    """A configuration as ``config.yaml`` records it, a field it lacks (added to srkit later) at its default."""
    return _unrecorded_defaults() | recorded


def export_run(out: Path, recorded: dict[str, Any], runlog: RunLog) -> list[Path]:
    """The run's genotypes from its recorded configuration: its budgets (:func:`run_budgets`) and the
    pick under each (the supernet's best, or with ``rank_top`` the best of its trained shortlist); the
    run and ``srkit-search report`` both export through here."""
    c = recorded_config(recorded)
    budgets = run_budgets(c, runlog)
    return report.export(out, runlog, int(c["space"]["scale"]), budgets, c["rank_top"], c["rank_tolerance"])


def rank(
    cfg: SearchConfig,
    out: Path,
    runlog: RunLog,
    budgets: tuple[float, ...],
    log: Callable[[str], None],
    workers: Workers = HERE,
) -> None:
    """With ``rank_top``: the shortlist under each budget (the best by the supernet's PSNR, whose
    wide members it barely separates) each trained from scratch with the retraining recipe on the
    supernet's training images and scored on the held-out ones (``kind: ranked``, each once)."""
    iters = cfg.ranking_iters
    todo = pareto.shortlist(report.exportable(runlog), budgets, cfg.rank_top, cfg.rank_tolerance)
    todo = [p for p in todo if runlog.get(f"ranked:{p['key']}:{iters}") is None]
    if todo:
        log(f"ranking {len(todo)} shortlisted architectures by {iters} iterations of stand-alone training")
    jobs = []
    for p in todo:
        folder = rank_folder(out, p["key"])
        genotype = folder / "genotype.json"  # beside the training run it describes
        atomic.write_json(genotype, Arch.from_dict(p["arch"]).genotype())
        train = _rank_recipe(cfg, str(genotype)).to_dict()
        jobs.append(Job(label=folder.name, folder=str(folder), train=train, scale=cfg.space.scale))
    results = run_phase(jobs, workers, out, runlog, "ranking", log)
    for p, job in zip(todo, jobs, strict=True):
        m = results[job.label]
        rec = {"kind": "ranked", "key": f"ranked:{p['key']}:{iters}", "of": p["key"], "iters": iters}
        rec |= {"psnr_supernet": p["psnr"], "psnr": m["val_psnr"], "ssim": m["val_ssim"]}
        runlog.append(rec | {"latency_ms": p["latency_ms"], "train_seconds": m["seconds"]})
        log(f"ranked {p['key']}: {m['val_psnr']:.3f} dB on the held-out images (supernet {p['psnr']:.3f})")


def fidelity_members(cfg: SearchConfig, runlog: RunLog) -> list[tuple[Arch, str]]:
    """The fidelity sample, ``fidelity_sample`` architectures with how each was drawn: the
    shortlisted (``kind: ranked``) first, then distinct members of the space drawn at random from a
    generator seeded by the supernet's seed (the same sample on every resume)."""
    out: dict[str, tuple[Arch, str]] = {}
    for r in runlog.of_kind("ranked"):
        cand = runlog.get(r["of"])
        if cand is not None and len(out) < cfg.fidelity_sample:
            out[r["of"]] = (Arch.from_dict(cand["arch"]), "shortlist")
    rng = random.Random(f"fidelity:{cfg.supernet.seed}")
    for _ in range(100 * cfg.fidelity_sample):
        if len(out) >= cfg.fidelity_sample:
            break
        a = cfg.space.sample(rng, cfg.channels)
        out.setdefault(a.key(), (a, "random"))
    if len(out) < cfg.fidelity_sample:
        raise ValueError(f"fidelity_sample {cfg.fidelity_sample}: the space holds only {len(out)} distinct members")
    return list(out.values())


def measure_fidelity(
    cfg: SearchConfig,
    out: Path,
    runlog: RunLog,
    supernet_psnr: Callable[[Arch], float],
    log: Callable[[str], None],
    workers: Workers = HERE,
) -> None:
    """Each member of the fidelity sample scored by the supernet (on the held-out images; ``kind:
    fidelity_member``) and trained stand-alone with the ranking recipe for ``long_iters`` and, where
    shorter, ``ranking_iters`` (``kind: fidelity_trained``; a shortlisted member's ranking training
    is its short one), each once. ``fidelity.json`` (:func:`.fidelity.from_log`) ranks them."""
    members = fidelity_members(cfg, runlog)
    for a, drawn in members:
        if runlog.get(f"fidelity_member:{a.key()}") is None:
            cand = runlog.get(a.key())
            psnr = cand["psnr"] if cand is not None and cand.get("psnr") is not None else supernet_psnr(a)
            runlog.append(
                {"kind": "fidelity_member", "key": f"fidelity_member:{a.key()}", "of": a.key()}
                | {"arch": a.as_dict(), "drawn": drawn, "psnr_supernet": psnr}
            )
    budgets = [cfg.long_iters] + ([cfg.ranking_iters] if 0 < cfg.ranking_iters < cfg.long_iters else [])
    other = _fidelity_source(cfg)
    for iters in budgets:
        todo = [a for a, _ in members if _trained_for_fidelity(runlog, a.key(), iters) is None]
        if other is not None:
            todo = [a for a in todo if not _adopt(runlog, other, cfg.fidelity_from, a.key(), iters)]
        if todo:
            log(f"fidelity: training {len(todo)} architectures stand-alone for {iters} iterations")
        jobs = [_fidelity_job(cfg, out, a, iters) for a in todo]
        results = run_phase(jobs, workers, out, runlog, "fidelity", log)
        for a, job in zip(todo, jobs, strict=True):
            m = results[job.label]
            runlog.append(_fidelity_trained(a.key(), iters, m["val_psnr"], m["val_ssim"], m["seconds"]))


FIDELITY_CHECKPOINT = 2000  # iterations between a fidelity training's checkpoints
RECIPE_FIELDS = ("data", "holdout", "space", "supernet.patch", "supernet.batch", "supernet.lr")


def _fidelity_source(cfg: SearchConfig) -> RunLog | None:
    """``fidelity_from``'s log, where its stand-alone trainings share this run's recipe (else refused)."""
    if cfg.fidelity_from is None:
        return None
    src = Path(cfg.fidelity_from)
    recorded = runfolder.read_config(src) if src.is_dir() else None
    if recorded is None or not (src / "log.jsonl").is_file():
        raise ValueError(f"--fidelity-from {src}: not a search run folder (no config.yaml and log.jsonl)")
    mine, theirs = json.loads(json.dumps(cfg.as_dict())), recorded_config(recorded)

    def at(d: dict[str, Any], dotted: str) -> Any:
        for part in dotted.split("."):
            d = d.get(part, {}) if isinstance(d, dict) else {}
        return d

    differ = [f for f in RECIPE_FIELDS if at(mine, f) != at(theirs, f)]
    if differ:
        raise ValueError(f"--fidelity-from {src}: its trainings used another recipe ({', '.join(differ)} differ)")
    return RunLog(src / "log.jsonl")


def _adopt(runlog: RunLog, other: RunLog, source: str | None, key: str, iters: int) -> bool:
    """Log ``other``'s training of ``key`` for ``iters`` as this run's, naming where it came from."""
    r = _trained_for_fidelity(other, key, iters)
    if r is None:
        return False
    runlog.append(_fidelity_trained(key, iters, r["psnr"], r["ssim"], r["train_seconds"]) | {"from": source})
    return True


def _fidelity_trained(key: str, iters: int, psnr: float, ssim: float, seconds: float) -> dict[str, Any]:
    """The ``kind: fidelity_trained`` record of ``key`` trained stand-alone for ``iters``."""
    return {"kind": "fidelity_trained", "key": f"fidelity_trained:{key}:{iters}", "of": key, "iters": iters} | {
        "psnr": psnr,
        "ssim": ssim,
        "train_seconds": seconds,
    }


def _trained_for_fidelity(runlog: RunLog, key: str, iters: int) -> dict[str, Any] | None:
    return runlog.get(f"fidelity_trained:{key}:{iters}") or runlog.get(f"ranked:{key}:{iters}")


def _fidelity_job(cfg: SearchConfig, out: Path, a: Arch, iters: int) -> Job:
    """A fidelity training: the ranking recipe for ``iters``, in ``fidelity/<key>@<iters>``."""
    folder = fidelity.member_folder(out, a.key(), iters)
    genotype = folder / "genotype.json"
    atomic.write_json(genotype, a.genotype())
    # validation is where the trainer checkpoints: every FIDELITY_CHECKPOINT iterations, so a training
    # of hours cut by a session's end resumes (its score is the final model's either way)
    train = replace(_rank_recipe(cfg, str(genotype)), iters=iters, val_every=min(iters, FIDELITY_CHECKPOINT))
    return Job(label=folder.name, folder=str(folder), train=train.to_dict(), scale=cfg.space.scale)


def run_phase(
    jobs: list[Job], workers: Workers, out: Path, runlog: RunLog, phase: str, log: Callable[[str], None]
) -> dict[str, dict[str, Any]]:
    """Every job's result (:func:`.jobs.run_jobs`), its cost logged once: here as it runs (an
    interrupted piece counts too), from the trial's own clock where NNI ran it."""

    def here(job: Job) -> None:
        with spent(runlog, phase, job.label):
            run_job(job, progress=True)

    results = run_jobs(jobs, workers, out / "jobs", log, here)
    if workers.engine == "here":
        return results
    for job in jobs:
        r, key = results[job.label], f"cost:{phase}:{job.label}:trial"
        if runlog.get(key) is None:
            runlog.append(
                {"kind": "cost", "key": key, "phase": phase, "label": job.label}
                | {"seconds": r["job_seconds"], "threads": r["threads"], "host": r["host"]}
            )
    return results


def rank_folder(out: Path, key: str) -> Path:
    """Where a shortlisted architecture's stand-alone training runs: ``rank/<its key, path-safe>``."""
    return out / "rank" / fidelity.safe_name(key)


def _rank_recipe(cfg: SearchConfig, model: str):
    """The retraining recipe, for ``rank_iters``, on the supernet's training split, validated on the
    held-out split (the photos' own validation split for 'skimage'): never on a benchmark."""
    tc = _recipe(cfg, model, {})
    data = replace(tc.data, val_data=None, holdout=_holdout(cfg))
    return replace(tc, iters=cfg.ranking_iters, val_every=cfg.ranking_iters, data=data)


def retrain_jobs(cfg: SearchConfig, exported: list[Path]) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, model, model_args) to retrain: the exports (one per architecture, highest supernet PSNR
    first, ``retrain_top`` of them) and the chosen baselines."""
    found = {p: json.loads(p.read_text())["_search"] for p in exported}
    by_arch: dict[str, Path] = {}
    for p in sorted(exported, key=lambda p: -found[p].get("psnr_ranked", found[p]["psnr_supernet"])):
        by_arch.setdefault(found[p]["key"], p)  # one export per architecture, in PSNR order (ranked, else proxy)
    unique = list(by_arch.values())
    chosen = unique if cfg.retrain_top is None else unique[: cfg.retrain_top]
    specs = cfg.baselines if tuple(cfg.retrain_baselines) == ("all",) else cfg.retrain_baselines
    jobs: list[tuple[str, str, dict[str, Any]]] = [(p.stem, str(p), {}) for p in chosen]
    for spec in specs:
        name, kw = baseline_spec(spec)
        jobs.append((baseline_label(spec), name, kw))
    return jobs


def _retrained(cfg: SearchConfig, runlog: RunLog, label: str) -> dict[str, Any] | None:
    return runlog.get(f"retrained:{label}:{cfg.retrain_iters}")


def retrain(
    cfg: SearchConfig,
    out: Path,
    runlog: RunLog,
    jobs: list[tuple[str, str, dict[str, Any]]],
    log: Callable[[str], None],
    workers: Workers = HERE,
) -> None:
    """Train each job from scratch with one recipe (data, iterations, patch, batch, schedule, seed);
    its scores (the benchmarks' protocol PSNR/SSIM, else validation) join the log (``kind: retrained``).
    The trainings run on ``workers``; every latency is measured here."""
    from srkit.train.trainer import build_model

    todo = [(label, model, kw) for label, model, kw in jobs if _retrained(cfg, runlog, label) is None]
    if todo:
        log(f"retraining {', '.join(j[0] for j in todo)} from scratch for {cfg.retrain_iters} iterations")
    recipes = {label: _recipe(cfg, model, kw) for label, model, kw in todo}
    results = {label: m for label in recipes if (m := _from_curves(cfg, out, label, recipes[label])) is not None}
    if results:
        log(f"retrained {', '.join(results)}: taken from {cfg.retrained_from} (the same recipe, trained there)")
    specs = [
        Job(label, str(out / "retrain" / label), tc.to_dict(), cfg.benchmarks[1:], cfg.space.scale)
        for label, tc in recipes.items()
        if label not in results
    ]
    results |= run_phase(specs, workers, out, runlog, "retrain", log)
    for label, model, kwargs in todo:
        m = results[label]
        # the trainer's one validation is the first benchmark (or the training folder): not scored again
        first = {"psnr": m["val_psnr"], "ssim": m["val_ssim"]}
        scores = {Path(b).name: first for b in cfg.benchmarks[:1]} | m["scores"]
        net = build_model(recipes[label])
        lat = time_model(net, cfg.latency_input, cfg.device, runtime=cfg.latency_runtime)
        runlog.append(
            {
                "kind": "retrained",
                "key": f"retrained:{label}:{cfg.retrain_iters}",
                "label": label,
                "model": model,
                "model_args": kwargs,
                "iters": cfg.retrain_iters,
                "psnr": first["psnr"],
                "ssim": first["ssim"],
                "scores": scores,
                "bicubic_psnr": m["bicubic_psnr"],
                "train_seconds": m["seconds"],
                "params": sum(p.numel() for p in net.parameters()),
                "latency_ms": lat,
            }
            | ({"from": m["from"]} if "from" in m else {})
        )
        log(f"retrained {label}: {first['psnr']:.3f} dB, {lat:.1f} ms")


# what a training's weights depend on: a curves run equal in these trained the same network
SAME_TRAINING = (
    "model",
    "model_args",
    "scale",
    "iters",
    "seed",
    "loss",
    "ema",
    "amp",
    "optim",
    "perceptual",
    "adversarial",
)
SAME_DATA = ("data", "holdout", "patch", "batch", "flips", "rot90", "rgb_mean")


def _from_curves(cfg: SearchConfig, out: Path, label: str, recipe: Any) -> dict[str, Any] | None:
    """A job's result taken from ``retrained_from``: the curves run that trained the same network
    with the same recipe to ``retrain_iters`` and scored it on every benchmark of this run. Its
    weights and configuration are copied into ``retrain/<label>``; None where no run matches."""
    if cfg.retrained_from is None:
        return None
    src, want = Path(cfg.retrained_from), json.loads(json.dumps(recipe.to_dict()))
    sets = [Path(b).name for b in cfg.benchmarks]
    curves_log = RunLog(src / "log.jsonl") if (src / "log.jsonl").is_file() else None
    for folder in sorted((src / "train").glob("*/")) if curves_log else []:
        got = runfolder.read_config(folder)
        if got is None or not _same_training(got, want) or not (folder / "model.safetensors").is_file():
            continue
        curve = curves_log.get(f"curve:{folder.name}:{cfg.retrain_iters}")
        if curve is None or not set(sets) <= set(curve["scores"]):
            continue
        metrics = json.loads((folder / "metrics.json").read_text())
        dest = out / "retrain" / label
        for name in ("model.safetensors", "config.yaml"):
            atomic.write_bytes(dest / name, (folder / name).read_bytes())  # every retrained network's weights here
        first = curve["scores"][sets[0]]
        rest = {s: curve["scores"][s] for s in sets[1:]}
        validated_on = Path(got["data"].get("val_data") or "").name  # the trainer's bicubic score is on that set
        return {"val_psnr": first["psnr"], "val_ssim": first["ssim"], "scores": rest, "seconds": metrics["seconds"]} | {
            "bicubic_psnr": metrics["bicubic_psnr"] if validated_on == sets[0] else None,
            "from": str(folder),
        }
    return None


def _same_training(got: dict[str, Any], want: dict[str, Any]) -> bool:
    same = all(got.get(k) == want.get(k) for k in SAME_TRAINING)
    return same and all(got.get("data", {}).get(k) == want.get("data", {}).get(k) for k in SAME_DATA)


def _recipe(cfg: SearchConfig, model: str, kwargs: dict[str, Any]):
    """The one training recipe every retrained model gets (:func:`.curves.recipe` at the supernet's
    patch, batch and rate); validated once, at the end, on the first benchmark."""
    return curves.recipe(
        model,
        kwargs,
        scale=cfg.space.scale,
        data=cfg.data,
        val=cfg.benchmarks[0] if cfg.benchmarks else None,
        patch=cfg.supernet.patch,
        batch=cfg.supernet.batch,
        lr=cfg.supernet.lr,
        iters=cfg.retrain_iters,
        device=cfg.device,
    )


def time_final(
    cfg: SearchConfig, runlog: RunLog, jobs: list[tuple[str, str, dict[str, Any]]], log: Callable[[str], None]
) -> None:
    """Every retrained model timed again in ``timing_rounds`` interleaved rounds (``kind: timing``):
    the latencies the report compares, with their spread."""
    from srkit.train.trainer import build_model

    labels = [label for label, _, _ in jobs] + [f"official_{k}" for k in cfg.official]
    if all(runlog.get(f"timing:{label}") for label in labels):
        return
    models = {label: build_model(_recipe(cfg, model, kw)) for label, model, kw in jobs} | official_models(cfg)
    log(f"timing {len(models)} retrained models in {cfg.timing_rounds} interleaved rounds")
    with spent(runlog, "timing"):
        _log_rounds(cfg, runlog, models, cfg.timing_rounds, "timing", "label")


def official_models(cfg: SearchConfig) -> dict[str, torch.nn.Module]:
    """The published checkpoints as networks to time, labelled ``official_<label>``."""
    from srkit.models import load as load_model

    return {f"official_{k}": load_model(path, scale=cfg.space.scale) for k, path in cfg.official.items()}


def _log_rounds(cfg: SearchConfig, runlog: RunLog, models: dict[str, Any], rounds: int, kind: str, field: str) -> None:
    """``models`` timed in ``rounds`` interleaved rounds; one ``kind`` record each (none twice on a
    resume), its name under ``field``, with the rounds, their median, min and max."""
    by_name = time_rounds(models, cfg.latency_input, cfg.device, rounds=rounds, runtime=cfg.latency_runtime)
    for name, ms in by_name.items():
        if runlog.get(f"{kind}:{name}") is None:
            runlog.append(
                {
                    "kind": kind,
                    "key": f"{kind}:{name}",
                    field: name,
                    "rounds_ms": ms,
                    "median_ms": statistics.median(ms),
                    "min_ms": min(ms),
                    "max_ms": max(ms),
                }
            )
