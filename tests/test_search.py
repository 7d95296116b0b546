"""srkit-search: the space samples valid networks only, subnets equal the supernet's paths, evolution
respects the budget, Pareto filtering is right, and the run log survives a kill."""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from srkit.search import pareto
from srkit.search.evolution import Evaluator, EvolutionConfig, evolve, mutate
from srkit.search.runlog import RunLog
from srkit.search.space import DEFAULT_CANDIDATES, Arch, BlockSpace
from srkit.search.spos import BASELINES
from srkit.search.supernet import Supernet, SupernetConfig, train

from srkit.models import BlockSpec, from_genotype
from srkit.models.blocknet import BlockNet

SPACE = BlockSpace(
    scale=2,
    channels=(16,),
    min_blocks=1,
    max_blocks=3,
    candidates=(
        BlockSpec("wdsr_a", expansion=2),
        BlockSpec("wdsr_b", expansion=4, attention="cca"),
        BlockSpec("imdb", attention="cca"),
        BlockSpec("rfdb"),
    ),
    upsamplers=("direct",),
)
# width and upsampler as one-shot choices: one supernet at width 16, sliced to 12
WIDE = BlockSpace(
    scale=2,
    channels=(12, 16),
    min_blocks=1,
    max_blocks=3,
    candidates=(
        BlockSpec("wdsr_a", expansion=2),
        BlockSpec("wdsr_b", expansion=4),
        BlockSpec("imdb", attention="none"),
        BlockSpec("rfdb"),
    ),
    upsamplers=("direct", "progressive", "nearest", "direct+skip"),
)


def test_space_samples_only_valid_networks() -> None:
    rng = random.Random()
    space = BlockSpace(scale=3, channels=(16, 32), min_blocks=0, max_blocks=4)
    depths, seen = set(), set()
    for _ in range(300):
        a = space.validate(space.sample(rng))
        depths.add(len(a.blocks))
        seen.update(a.blocks)
    assert depths == {0, 1, 2, 3, 4} and seen == set(DEFAULT_CANDIDATES)  # uniform sampling reaches everything
    ups = {space.sample(rng).upsampler for _ in range(100)}
    assert ups == {"direct", "progressive", "nearest"}
    for a in (space.sample(rng) for _ in range(4)):
        net = BlockNet(3, a.channels, list(a.blocks), upsampler=a.upsampler)
        y = net(torch.rand(1, 3, 15, 17))
        assert y.shape == (1, 3, 45, 51) and torch.isfinite(y).all()


def test_space_size_serialisation_and_errors(tmp_path: Path) -> None:
    assert SPACE.size() == 4 + 16 + 64
    assert WIDE.size() == 2 * 4 * (4 + 16 + 64)  # widths x upsamplers x block chains
    for sp in (SPACE, WIDE):
        sp.save(tmp_path / "s.json")
        assert BlockSpace.load(tmp_path / "s.json") == sp
    old = SPACE.as_dict()
    del old["upsamplers"]  # a space saved before the upsampler was a choice had IMDN's
    assert BlockSpace.from_dict(old).upsamplers == ("direct",)
    with pytest.raises(ValueError, match="bilinear"):
        BlockSpace(upsamplers=("bilinear",))
    with pytest.raises(ValueError, match="upsampler 'nearest'"):
        SPACE.validate(Arch(16, (BlockSpec("rfdb"),), "nearest"))
    with pytest.raises(ValueError, match="16 channels"):
        BlockSpace(channels=(8,))  # CCA and IMDB cannot be that narrow
    with pytest.raises(ValueError, match="min_blocks"):
        BlockSpace(min_blocks=3, max_blocks=2)
    with pytest.raises(ValueError, match="not a candidate"):
        SPACE.validate(Arch(16, (BlockSpec("wdsr_b", expansion=6),)))
    with pytest.raises(ValueError, match="4 blocks"):
        SPACE.validate(Arch(16, (BlockSpec("rfdb"),) * 4))
    a = WIDE.sample(random.Random(3))
    assert Arch.from_dict(json.loads(json.dumps(a.as_dict()))) == a
    assert Arch(16, a.blocks, "nearest").key() != Arch(16, a.blocks, "progressive").key() != Arch(16, a.blocks).key()


def test_subnets_equal_the_supernet_paths() -> None:
    torch.manual_seed(0)
    net = Supernet(SPACE, 16).double().eval()
    x = torch.rand(2, 3, 15, 16, dtype=torch.float64)
    rng = random.Random(1)
    archs = [SPACE.sample(rng) for _ in range(6)] + [Arch(16, tuple(SPACE.candidates[:3]))]
    for a in archs:
        sub = net.subnet(a).double().eval()
        with torch.no_grad():
            assert torch.equal(sub(x), net(x, a)), a.key()
        built = from_genotype(a.genotype(), scale=2).double().eval()  # the genotype builds the same network
        built.load_state_dict(sub.state_dict())
        with torch.no_grad():
            assert torch.equal(built(x), sub(x))
    sub = net.subnet(archs[0])
    next(sub.parameters()).data.add_(1.0)  # the subnet is a copy
    with torch.no_grad():
        assert not torch.equal(net.subnet(archs[0]).double()(x), sub.double()(x))


def test_width_and_upsampler_subnets_equal_the_supernet_paths() -> None:
    torch.manual_seed(0)
    net = Supernet(WIDE).double().eval()  # no width given: it holds 12 and 16
    assert net.width == 16 and net.widths == (12, 16)
    x = torch.rand(1, 3, 23, 21, dtype=torch.float64)  # rfdb's ESA needs >= 15 pixels
    rng = random.Random(4)
    archs = [WIDE.sample(rng) for _ in range(8)]
    archs += [Arch(c, (b,), up) for c in (12, 16) for b in WIDE.candidates for up in WIDE.upsamplers]
    assert {a.channels for a in archs} == {12, 16}
    for a in archs:
        sub = net.subnet(a).double().eval()
        assert sub.head.weight.shape[0] == a.channels and sub.upsampler_kind == a.upsampler
        with torch.no_grad():
            assert torch.equal(sub(x), net(x, a)), a.key()
        built = from_genotype(a.genotype(), scale=2).double().eval()
        built.load_state_dict(sub.state_dict())
        with torch.no_grad():
            assert torch.equal(built(x), sub(x)), a.key()
    # a width-12 path trains the leading slices of the shared weights and nothing else
    net.zero_grad()
    net(x, Arch(12, (WIDE.candidates[1],), "nearest")).sum().backward()
    g = net.head.weight.grad
    assert g[:12].abs().sum() > 0 and g[12:].abs().sum() == 0
    w = net.choices[0][1].expand.weight.grad  # WDSR-B 12 -> 48 of 16 -> 64
    assert w[:48, :12].abs().sum() > 0 and w[48:].abs().sum() == 0 and w[:, 12:].abs().sum() == 0
    assert net.tails["direct"][0].weight.grad is None and net.tails["progressive"][0][0].weight.grad is None
    assert net.skip is not None and net.skip[0].weight.grad is None  # the input branch only on +skip paths
    with pytest.raises(ValueError, match="width"):
        net.subnet(Arch(8, (WIDE.candidates[0],)))


def test_a_member_of_no_block_is_head_body_conv_and_tail_and_a_subnet_of_the_supernet() -> None:
    space = dataclasses.replace(WIDE, min_blocks=0)
    torch.manual_seed(0)
    net = Supernet(space).double().eval()
    x = torch.rand(1, 3, 11, 13, dtype=torch.float64)
    for c, up in itertools.product(space.channels, space.upsamplers):
        a = space.validate(space.member(c, (), up))
        assert a.key() == f"c{c}:0" + ("" if up == "direct" else f":{up}")
        sub = net.subnet(a).double().eval()
        assert len(sub.body) == 0
        with torch.no_grad():
            assert torch.equal(sub(x), net(x, a)), a.key()
        assert Arch.from_dict(json.loads(json.dumps(a.as_dict()))) == a
    rng = random.Random(0)
    grown = {len(mutate(space.member(16, (), "direct"), space, rng, 1.0).blocks) for _ in range(20)}
    assert grown == {0, 1}  # a mutation moves the depth by one, never below the space's minimum


def test_evolution_searches_widths_and_upsamplers(tmp_path: Path) -> None:
    def latency(a: Arch) -> float:
        return (
            a.channels / 4
            + len(a.blocks)
            + {"direct": 0.0, "progressive": 2.0, "nearest": 1.0, "direct+skip": 0.5}[a.upsampler]
        )

    psnr = lambda a: 25.0 + 0.01 * a.channels + 0.1 * len(a.blocks)  # noqa: E731
    cfg = EvolutionConfig(population=6, topk=3, iterations=4, crossover=3, mutation_children=3, mutation=0.5, seed=1)
    scored = evolve(WIDE, None, Evaluator(RunLog(tmp_path / "log.jsonl"), psnr, latency, None), cfg)
    archs = [Arch.from_dict(r["arch"]) for r in scored]
    assert {a.channels for a in archs} == {12, 16} and {a.upsampler for a in archs} == set(WIDE.upsamplers)
    fixed = evolve(WIDE, 12, Evaluator(RunLog(tmp_path / "log12.jsonl"), psnr, latency, None), cfg)
    assert {Arch.from_dict(r["arch"]).channels for r in fixed} == {12}  # a one-width supernet keeps its width


def _fake(costs: dict[str, float]) -> tuple:
    calls: list[str] = []

    def latency(a: Arch) -> float:
        return 1.0 + sum(costs[b.short()] for b in a.blocks)

    def psnr(a: Arch) -> float:
        calls.append(a.key())
        return 25.0 + sum(0.1 * costs[b.short()] ** 0.5 for b in a.blocks)

    return latency, psnr, calls


COSTS = {"A2": 1.0, "B4+cca": 2.0, "imdb+cca": 3.0, "rfdb": 5.0}


def test_evolution_respects_the_budget(tmp_path: Path) -> None:
    latency, psnr, calls = _fake(COSTS)
    log = RunLog(tmp_path / "log.jsonl")
    cfg = EvolutionConfig(population=6, topk=3, iterations=4, crossover=3, mutation_children=3, budget_ms=6.0, seed=2)
    scored = evolve(SPACE, 16, Evaluator(log, psnr, latency, cfg.budget_ms), cfg)
    assert scored and all(r["latency_ms"] <= 6.0 for r in scored)
    over = [r for r in log.records if r["over_budget"]]
    assert over and all(r["latency_ms"] > 6.0 and r["psnr"] is None for r in over)  # seen, timed, never scored
    assert sorted(calls) == sorted(r["key"] for r in scored)  # PSNR computed once per scored architecture
    best = max(scored, key=lambda r: r["psnr"])
    # the exhaustive optimum under the budget
    every = [Arch(16, bl) for d in range(1, 4) for bl in itertools.product(SPACE.candidates, repeat=d)]
    optimum = max((a for a in every if latency(a) <= 6.0), key=psnr)
    assert best["psnr"] <= psnr(optimum) + 1e-12


def test_evolution_resumes_from_its_log_without_rescoring(tmp_path: Path) -> None:
    latency, psnr, calls = _fake(COSTS)
    cfg = EvolutionConfig(population=5, topk=3, iterations=2, crossover=2, mutation_children=2, seed=5)
    first = evolve(SPACE, 16, Evaluator(RunLog(tmp_path / "log.jsonl"), psnr, latency, None), cfg)
    n = len(calls)
    again = evolve(SPACE, 16, Evaluator(RunLog(tmp_path / "log.jsonl"), psnr, latency, None), cfg)
    assert len(calls) == n  # everything came from the log
    assert [r["key"] for r in again] == [r["key"] for r in first]


def test_pareto_filtering() -> None:
    pts = [
        {"psnr": p, "latency_ms": t, "id": i}
        for i, (p, t) in enumerate(
            [
                (30.0, 10.0),
                (31.0, 20.0),
                (29.0, 5.0),
                (30.5, 20.0),
                (28.0, 6.0),
                (31.0, 20.0),
                (32.0, 50.0),
                (29.5, 10.0),
            ]
        )
    ]
    assert [p["id"] for p in pareto.front(pts)] == [2, 0, 1, 5, 6]  # ties in both objectives stay
    assert pareto.ranks(pts) == [0, 0, 0, 1, 1, 0, 0, 1]
    assert pareto.best_under(pts, 12.0)["id"] == 0 and pareto.best_under(pts, 4.0) is None
    rng = random.Random()
    rand = [{"psnr": rng.uniform(25, 30), "latency_ms": rng.uniform(1, 10)} for _ in range(60)]
    fr = pareto.front(rand)
    for p in rand:  # brute force: on the front iff nothing beats it in both
        beaten = any(
            q["psnr"] >= p["psnr"]
            and q["latency_ms"] <= p["latency_ms"]
            and q is not p
            and (q["psnr"] > p["psnr"] or q["latency_ms"] < p["latency_ms"])
            for q in rand
        )
        assert (p in fr) != beaten
    assert [p["latency_ms"] for p in fr] == sorted(p["latency_ms"] for p in fr)
    assert [p["psnr"] for p in fr] == sorted(p["psnr"] for p in fr)


def test_runlog_drops_a_torn_last_line(tmp_path: Path) -> None:
    log = RunLog(tmp_path / "log.jsonl")
    for i in range(3):
        log.append({"kind": "candidate", "key": f"k{i}", "psnr": 30.0 + i})
    with (tmp_path / "log.jsonl").open("a") as f:
        f.write('{"kind": "candidate", "key": "k3", "ps')  # the process died mid-write
    back = RunLog(tmp_path / "log.jsonl")
    assert [r["key"] for r in back.records] == ["k0", "k1", "k2"] and back.get("k3") is None
    back.append({"kind": "candidate", "key": "k3", "psnr": 1.0})
    assert [r["key"] for r in RunLog(tmp_path / "log.jsonl").records] == ["k0", "k1", "k2", "k3"]
    (tmp_path / "bad.jsonl").write_text('{"key": 1}\nnot json\n{"key": 2}\n')
    with pytest.raises(ValueError, match="line 2"):
        RunLog(tmp_path / "bad.jsonl")


@pytest.mark.parametrize("rule", ["uniform", "sandwich"])
def test_supernet_training_resumes_exactly(tmp_path: Path, rule: str) -> None:
    from srkit.train.data import load_pairs

    pairs = load_pairs("skimage", 2, "valid")
    cfg = SupernetConfig(iters=6, patch=32, batch=2, checkpoint_every=2, rule=rule, sandwich_random=1)
    torch.manual_seed(0)
    whole = train(Supernet(SPACE, 16), pairs, cfg, tmp_path / "a", log=lambda s: None)
    torch.manual_seed(0)
    first = train(
        Supernet(SPACE, 16),
        pairs,
        SupernetConfig(**{**cfg.__dict__, "max_minutes": 0.0}),
        tmp_path / "b",
        log=lambda s: None,
    )
    assert len(first) == 1  # stopped (and checkpointed) after one step
    torch.manual_seed(123)  # the resumed run takes everything from the checkpoint
    resumed = train(Supernet(SPACE, 16), pairs, cfg, tmp_path / "b", log=lambda s: None)
    assert resumed == whole
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "supernet.pt").write_bytes(b"\x80\x02garbage")
    with pytest.raises(ValueError, match="corrupt or truncated"):
        train(Supernet(SPACE, 16), pairs, cfg, tmp_path / "c", log=lambda s: None)


def test_the_sandwich_rule_spans_the_largest_and_smallest_members() -> None:
    from srkit.search.supernet import extremes

    from srkit.models.catalog import build_block

    big, small = extremes(WIDE, None)
    size = {b: sum(p.numel() for p in build_block(b, 16).parameters()) for b in WIDE.candidates}
    assert big.channels == 16 and len(big.blocks) == WIDE.max_blocks and set(big.blocks) == {max(size, key=size.get)}
    assert small.channels == 12 and len(small.blocks) == WIDE.min_blocks
    assert set(small.blocks) <= {
        min(WIDE.candidates, key=lambda b: sum(p.numel() for p in build_block(b, 12).parameters()))
    }
    assert big.upsampler != small.upsampler  # WIDE's upsamplers differ in size


def test_a_sandwich_step_distils_every_path_from_the_largest() -> None:
    """One step's update is the largest path's L1 to the HR target plus each other path's L1 to the
    largest's output (detached), summed: checked against gradients taken by hand."""
    from srkit.search.supernet import _step, extremes

    from srkit.train.distributed import World

    torch.manual_seed(0)
    net = Supernet(SPACE, 16)
    big, small = extremes(SPACE, 16)
    other = SPACE.member(16, (SPACE.candidates[0],), "direct")
    side = SPACE.min_size()  # RFDB's attention pools its input down
    lr, hr = torch.rand(2, 3, side, side), torch.rand(2, 3, 2 * side, 2 * side)
    ref = Supernet(SPACE, 16)
    ref.load_state_dict(net.state_dict())
    teacher = ref(lr, big)
    loss = torch.nn.functional.l1_loss(teacher, hr)
    for p in (small, other):
        loss = loss + torch.nn.functional.l1_loss(ref(lr, p), teacher.detach())
    loss.backward()
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    first = _step(net, opt, sched, lr, hr, [big, small, other], World())
    assert float(first) == pytest.approx(float(torch.nn.functional.l1_loss(teacher.detach(), hr)))
    moved = 0
    for (name, p), q in zip(net.named_parameters(), ref.parameters(), strict=True):
        grad = q.grad if q.grad is not None else torch.zeros_like(q)
        torch.testing.assert_close(p.detach(), before[name] - grad, rtol=1e-5, atol=1e-6)
        moved += int(q.grad is not None)
    assert moved > 0


TINY = [
    "--scale",
    "2",
    "--channels",
    "16",
    "--min-blocks",
    "1",
    "--max-blocks",
    "2",
    "--iters",
    "20",
    "--patch",
    "32",
    "--batch",
    "2",
    "--population",
    "4",
    "--topk",
    "2",
    "--generations",
    "2",
    "--latency-input",
    "16x16",
]


@pytest.mark.slow
def test_a_killed_search_resumes_without_losing_or_rescoring(tmp_path: Path) -> None:
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "srkit.cli.search", "spos", "--out", str(out), *TINY]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log = out / "log.jsonl"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if log.is_file() and len(log.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, (
        f"the search ended before it could be killed: {proc.stderr.read() if proc.stderr else ''}"
    )
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = [json.loads(x) for x in log.read_text().splitlines() if x.strip().endswith("}")]
    assert len(before) >= 3
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode != 0 and "--resume" in res.stderr  # an existing run is not silently restarted
    res = subprocess.run([*cmd, "--resume"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    after = [json.loads(x) for x in log.read_text().splitlines()]
    keys = [r["key"] for r in after]
    assert len(keys) == len(set(keys))  # nothing scored twice
    assert after[: len(before)] == before  # nothing lost
    front = json.loads((out / "front.json").read_text())
    assert front["front"] and {b["model"] for b in front["baselines"]} == set(BASELINES)
    assert (out / "pareto.png").read_bytes()[:4] == b"\x89PNG"
    geno = out / front["genotypes"][0]
    net = from_genotype(geno, scale=2)
    assert net(torch.rand(1, 3, 16, 16)).shape == (1, 3, 32, 32)
    res = subprocess.run([sys.executable, "-m", "srkit.cli.search", "report", str(out)], capture_output=True, text=True)
    assert res.returncode == 0 and "Pareto front" in res.stdout


def test_the_run_log_survives_a_torn_or_unterminated_last_line(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text('{"key": "a", "v": 1}\n{"key": "b", "v": 2}')  # whole, but no final newline
    RunLog(path).append({"key": "c", "v": 3})
    assert [r["key"] for r in RunLog(path).records] == ["a", "b", "c"]
    with path.open("a") as f:
        f.write('{"key": "d", "v"')  # a writer killed mid-line
    log = RunLog(path)
    assert [r["key"] for r in log.records] == ["a", "b", "c"]
    log.append({"key": "d", "v": 4})
    assert [r["key"] for r in RunLog(path).records] == ["a", "b", "c", "d"]


def test_a_weight_normalised_space_has_exact_subnets_and_records_the_choice() -> None:
    import dataclasses

    from srkit.models import create_model

    space = dataclasses.replace(WIDE, weight_norm=True)
    assert BlockSpace.from_dict(json.loads(json.dumps(space.as_dict()))) == space
    assert "weight_norm" not in WIDE.as_dict()  # records of spaces without it are unchanged
    torch.manual_seed(0)
    net = Supernet(space).double().eval()
    assert hasattr(net.head, "parametrizations")
    x = torch.rand(1, 3, 23, 21, dtype=torch.float64)
    rng = random.Random(7)
    for a in [space.sample(rng) for _ in range(6)]:
        assert a.weight_norm and a.key().endswith(":wn")
        sub = net.subnet(a).double().eval()
        with torch.no_grad():
            assert torch.equal(sub(x), net(x, a)), a.key()
        built = create_model("blocknet", scale=2, **a.as_dict()).double().eval()
        built.load_state_dict(sub.state_dict())
        with torch.no_grad():
            out = built(x)
            assert torch.equal(out, sub(x))
            torch.testing.assert_close(built.fold_weight_norm()(x), out)  # folded for inference: the same function
        assert not any("parametrizations" in k for k in built.state_dict())
    with pytest.raises(
        ValueError, match=r"weight norm, input normalisation or colour is not the space's \({'weight_norm': True}"
    ):
        space.validate(dataclasses.replace(a, weight_norm=False))
    from srkit.search.evolution import crossover, mutate

    for _ in range(20):  # children of a weight-normalised space stay in it
        b = space.sample(rng)
        space.validate(crossover(a, b, space, rng))
        space.validate(mutate(a, space, rng, 0.9, space.channels))


def test_an_input_normalised_space_has_exact_subnets_that_train_and_time_as_exported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dataclasses

    from srkit.search import latency
    from srkit.search.evolution import crossover, mutate

    from srkit.models import create_model

    mean = (0.4488, 0.4371, 0.404)
    space = dataclasses.replace(WIDE, input_mean=mean, input_std=0.5)
    assert BlockSpace.from_dict(json.loads(json.dumps(space.as_dict()))) == space
    assert "input_mean" not in WIDE.as_dict() and "input_std" not in WIDE.as_dict()
    torch.manual_seed(0)
    net = Supernet(space).double().eval()
    plain = Supernet(WIDE).double().eval()
    plain.load_state_dict(net.state_dict())
    x = torch.rand(1, 3, 19, 22, dtype=torch.float64)
    m = torch.tensor(mean, dtype=torch.float64).view(1, 3, 1, 1)
    rng = random.Random(3)
    for a in [space.sample(rng) for _ in range(5)]:
        assert a.input_mean == mean and a.key().endswith(":mean/0.5")
        with torch.no_grad():
            y = net(x, a)
            bare = dataclasses.replace(a, input_mean=None, input_std=1.0)
            torch.testing.assert_close(y, plain((x - m) / 0.5, bare) * 0.5 + m)
            sub = net.subnet(a).double().eval()
            assert torch.equal(sub(x), y), a.key()
            built = create_model("blocknet", scale=2, **a.as_dict()).double().eval()  # what retraining builds
            built.load_state_dict(sub.state_dict())
            assert torch.equal(built(x), y)
        assert sub.hparams["input_mean"] == list(mean) and sub.hparams["input_std"] == 0.5
    timed = []
    monkeypatch.setattr(latency, "time_model", lambda model, *args, **kw: timed.append(model) or 1.0)
    latency.Measured(2, (8, 8), "cpu")(a)
    assert torch.equal(timed[0].input_mean.flatten(), torch.tensor(mean))  # the normalisation is timed too
    with pytest.raises(ValueError, match="input normalisation or colour is not the space's"):
        space.validate(bare)
    for _ in range(20):  # children stay in the space
        b = space.sample(rng)
        space.validate(crossover(a, b, space, rng))
        space.validate(mutate(a, space, rng, 0.9, space.channels))
    with pytest.raises(ValueError, match="input_std=0.5 needs to be positive and to come with a mean"):
        dataclasses.replace(WIDE, input_std=0.5)
    with pytest.raises(ValueError, match=r"input_mean needs 3 value\(s\)"):
        dataclasses.replace(WIDE, input_mean=(0.5,))


def test_a_y_space_trains_scores_times_and_exports_one_channel_networks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    from srkit.search import latency

    from srkit.models import create_model
    from srkit.train.data import load_pairs
    from srkit.train.trainer import validate

    space = dataclasses.replace(WIDE, in_channels=1, input_mean=(0.43,), input_std=0.5)
    assert BlockSpace.from_dict(json.loads(json.dumps(space.as_dict()))) == space
    with pytest.raises(ValueError, match=r"input_mean needs 1 value\(s\)"):
        dataclasses.replace(WIDE, in_channels=1, input_mean=(0.4, 0.4, 0.4))
    with pytest.raises(ValueError, match="in_channels must be 1 \\(Y\\) or 3"):
        dataclasses.replace(WIDE, in_channels=2)
    torch.manual_seed(0)
    net = Supernet(space)
    pairs = load_pairs("skimage", 2, "train")[:2]
    losses = train(net, pairs, SupernetConfig(iters=2, patch=32, batch=1, checkpoint_every=1), tmp_path)
    assert len(losses) == 2  # trained on the patches' Y
    a = space.sample(random.Random(5))
    assert a.key().endswith(":mean/0.5:y") and a.as_dict()["in_channels"] == 1
    sub = net.subnet(a).eval()
    x = torch.rand(1, 1, 17, 19)
    with torch.no_grad():
        assert torch.equal(sub(x), net.eval()(x, a)) and sub(x).shape == (1, 1, 34, 38)
    psnr, _ = validate(sub, pairs, 2, "cpu")  # scored on Y, as ESPCN is
    assert 10 < psnr < 60
    built = create_model("blocknet", scale=2, **a.as_dict())  # what `srkit train --model genotype.json` builds
    assert built.in_channels == 1 and built.input_mean.numel() == 1
    shapes = []

    def timed(m: torch.nn.Module, x: torch.Tensor, runtime: str, **kw: object) -> tuple[dict, None]:
        shapes.append(tuple(x.shape))
        return {"median_ms": 1.0}, None

    monkeypatch.setattr(latency, "time_runtime", timed)
    latency.Measured(2, (16, 17), "cpu")(a)
    assert shapes == [(1, 1, 16, 17)]  # one plane timed, as for ESPCN


def test_latency_times_the_folded_inference_form_and_leaves_the_model_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from srkit.search import latency

    from srkit.models import create_model

    timed = []
    monkeypatch.setattr(
        latency, "time_runtime", lambda m, x, runtime, **kw: (timed.append(m) or {"median_ms": 1.0}, None)
    )
    wdsr = create_model("wdsr_b", scale=2, channels=8, blocks=1)
    assert latency.time_model(wdsr, (8, 8), "cpu") == 1.0
    assert not any("parametrizations" in k for k in timed[0].state_dict())  # the norm folded for timing
    assert any("parametrizations" in k for k in wdsr.state_dict())  # the caller's model still trains as it was
