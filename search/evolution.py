"""Evolutionary search over a trained supernet (SPOS's second stage).

A population of architectures is scored (validation PSNR with weights inherited from the supernet,
and latency on the device); the best ``topk`` become parents of the next generation by crossover
(each layer, the width and the upsampler from either parent, the depth from one) and mutation (each
layer, the width and the upsampler resampled, the depth moved by one, each with probability
``mutation``; the width only where the supernet holds several). With ``budget_ms`` only architectures within the
budget enter the population (over-budget ones are logged as such and never scored); without it the
parents are chosen by Pareto rank, then PSNR, so the search returns a front of (PSNR, latency).
Every scored candidate is appended to the run log as it is scored, and a resumed run takes scores
from the log instead of computing them again.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .pareto import ranks
from .runlog import RunLog
from .space import Arch, BlockSpace


@dataclass
class EvolutionConfig:
    population: int = 16
    topk: int = 8
    iterations: int = 5
    crossover: int = 6  # children by crossover per generation
    mutation_children: int = 6  # children by mutation per generation
    mutation: float = 0.25
    budget_ms: float | None = None
    seed: int = 0
    max_tries: int = 200  # draws allowed per wanted child before giving up on the budget


def crossover(a: Arch, b: Arch, space: BlockSpace, rng: random.Random) -> Arch:
    depth = len(rng.choice((a, b)).blocks)
    blocks = []
    for i in range(depth):
        options = [p.blocks[i] for p in (a, b) if i < len(p.blocks)]
        blocks.append(rng.choice(options))
    return space.member(rng.choice((a, b)).channels, tuple(blocks), rng.choice((a, b)).upsampler)


def mutate(a: Arch, space: BlockSpace, rng: random.Random, p: float, widths: tuple[int, ...] | None = None) -> Arch:
    """``a`` with each choice resampled with probability ``p``; the width among ``widths`` (default: kept)."""
    blocks = [rng.choice(space.candidates) if rng.random() < p else b for b in a.blocks]
    if rng.random() < p:
        depth = min(space.max_blocks, max(space.min_blocks, len(blocks) + rng.choice((-1, 1))))
        blocks = blocks[:depth] + [rng.choice(space.candidates) for _ in range(depth - len(blocks))]
    channels = rng.choice(widths) if widths and rng.random() < p else a.channels
    upsampler = rng.choice(space.upsamplers) if rng.random() < p else a.upsampler
    return space.member(channels, tuple(blocks), upsampler)


class Evaluator:
    """Scores an architecture once: latency first (cheap, and decides the budget), then PSNR; the
    log holds every result, so nothing is computed twice, also across a resumed run."""

    def __init__(
        self,
        log: RunLog,
        psnr: Callable[[Arch], float],
        latency: Callable[[Arch], float],
        budget_ms: float | None,
        stage: str = "evolution",
    ) -> None:
        self.log, self.psnr, self.latency, self.budget, self.stage = log, psnr, latency, budget_ms, stage

    def __call__(self, arch: Arch, generation: int) -> dict[str, Any]:
        key = arch.key()
        rec = self.log.get(key)
        if rec is not None:
            return rec
        lat = self.latency(arch)
        over = self.budget is not None and lat > self.budget
        rec = {
            "kind": "candidate",
            "key": key,
            "arch": arch.as_dict(),
            "latency_ms": lat,
            "psnr": None if over else self.psnr(arch),
            "over_budget": over,
            "generation": generation,
            "stage": self.stage,
        }
        return self.log.append(rec)


def _select(scored: list[dict[str, Any]], k: int, budget: bool) -> list[dict[str, Any]]:
    if budget:
        return sorted(scored, key=lambda r: (-r["psnr"], r["latency_ms"]))[:k]
    rk = ranks(scored)
    order = sorted(range(len(scored)), key=lambda i: (rk[i], -scored[i]["psnr"]))
    return [scored[i] for i in order[:k]]


def evolve(
    space: BlockSpace,
    channels: int | None,
    evaluate: Evaluator,
    cfg: EvolutionConfig,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Run the search at width ``channels`` (None: over all the space's widths, for a supernet that
    holds them all); returns every scored, within-budget candidate (the caller takes the front)."""
    widths = space.channels if channels is None else None
    rng = random.Random(cfg.seed)
    scored: dict[str, dict[str, Any]] = {}

    def want(make: Callable[[], Arch], n: int, gen: int) -> None:
        got, tries = 0, 0
        while got < n and tries < cfg.max_tries * n:
            tries += 1
            arch = make()
            if arch.key() in scored:
                continue
            rec = evaluate(arch, gen)
            if rec["over_budget"]:
                continue
            scored[rec["key"]] = rec
            got += 1
            if progress:
                progress(f"gen {gen}: {arch.key()} {rec['psnr']:.3f} dB {rec['latency_ms']:.2f} ms")

    want(lambda: space.sample(rng, channels), cfg.population, 0)
    if not scored:
        raise ValueError(f"no architecture of the space runs within {cfg.budget_ms} ms here; raise the budget")
    for gen in range(1, cfg.iterations + 1):
        parents = [
            Arch.from_dict(r["arch"]) for r in _select(list(scored.values()), cfg.topk, cfg.budget_ms is not None)
        ]
        if len(parents) >= 2:
            want(lambda parents=parents: crossover(*rng.sample(parents, 2), space, rng), cfg.crossover, gen)
        want(
            lambda parents=parents: mutate(rng.choice(parents), space, rng, cfg.mutation, widths),
            cfg.mutation_children,
            gen,
        )
    return list(scored.values())
