"""Search space 2, the IMDB multi-path supernet: its paths, the block they build (IMDN's IMDB is one),
weight sharing across paths, exact subnets, and a search over it through the command line."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
from srkit.search.imdb_space import SharedIMDBSupernet, imdb_paths, imdb_space, make_supernet
from srkit.search.space import Arch

from srkit.cli.search import main
from srkit.models import BlockSpec, from_genotype
from srkit.models.imdb_path import IMDBPath
from srkit.models.imdn import IMDB
from srkit.train.runfolder import read_config


def test_path_sets() -> None:
    assert imdb_paths("five") == ["0000", "1000", "1100", "1110", "1111"]
    dyn = imdb_paths("dynamic", 3)
    assert len(dyn) == 8 == len(set(dyn)) and "111" in dyn and "000" in dyn
    assert len(imdb_paths("dynamic", 5)) == 32
    with pytest.raises(ValueError, match="paths 'seven'"):
        imdb_paths("seven")
    space = imdb_space(scale=2, channels=(32,), min_blocks=1, max_blocks=2, distill=(0.25, 0.5))
    assert len(space.candidates) == 8 * 2 * 2  # paths x rates x attention
    assert space.size() == 32 + 32**2
    with pytest.raises(ValueError, match="'12': expected a string of 0/1 bits"):
        BlockSpec("imdb_path", path="12")
    with pytest.raises(ValueError, match="need 0 < distill < 1"):
        BlockSpec("imdb_path", distill=1.5)


def test_imdns_block_is_the_path_111() -> None:
    torch.manual_seed(0)
    imdb, path = IMDB(32, attention=False), IMDBPath(32, "111")
    names = {"c1": "stages.0", "c2": "stages.1", "c3": "stages.2", "c4": "last", "c5": "fuse"}
    path.load_state_dict({f"{names[k.split('.')[0]]}.{k.split('.')[1]}": v for k, v in imdb.state_dict().items()})
    x = torch.randn(2, 32, 7, 13)
    assert torch.equal(imdb(x), path(x))
    assert sum(p.numel() for p in IMDBPath(32, "000").parameters()) > sum(p.numel() for p in path.parameters())


@pytest.mark.parametrize("paths,shared", [("dynamic", True), ("five", True), ("dynamic", False)])
def test_subnets_are_exact_and_weights_are_shared(paths: str, shared: bool) -> None:
    space = imdb_space(scale=3, channels=(32,), min_blocks=1, max_blocks=3, paths=paths, distill=(0.25, 0.5))
    torch.manual_seed(1)
    net = make_supernet(space, 32, shared)
    rng = random.Random(2)
    x = torch.rand(2, 3, 11, 6)
    for _ in range(6):
        arch = space.sample(rng)
        sub = net.subnet(arch)
        with torch.no_grad():
            assert torch.equal(net(x, arch), sub(x)), arch.key()
        again = from_genotype(arch.genotype(), scale=3)  # the exported genotype builds the same network
        again.load_state_dict(sub.state_dict())
        with torch.no_grad():
            assert torch.equal(again(x), sub(x))
    if not shared:
        return
    assert isinstance(net, SharedIMDBSupernet)
    # a path's gradient reaches only the fusion columns of the pieces it keeps
    a = Arch(32, (BlockSpec("imdb_path", path=imdb_paths(paths)[1]),))
    net.zero_grad()
    net(x, a).square().mean().backward()
    bank = net._bank(0, a.blocks[0])
    dc = bank.dc
    kept = {i for i, bit in enumerate(a.blocks[0].path) if bit == "1"} | {len(a.blocks[0].path)}
    for i in range(len(a.blocks[0].path) + 1):
        g = bank.fuse.weight.grad[:, i * dc : (i + 1) * dc]
        assert (g.abs().sum() > 0) == (i in kept), i
    # two paths read the same first-stage weights
    p, q = (BlockSpec("imdb_path", path=s) for s in imdb_paths(paths)[:2])
    with torch.no_grad():
        bank.stages[0].weight.add_(1.0)
    for s in (p, q):
        assert torch.equal(bank.weights(s)["stages.0.weight"], bank.stages[0].weight)


def test_a_search_over_the_shared_imdb_space(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert (
        main(
            [
                "spos",
                "--out",
                str(out),
                "--space",
                "imdb",
                "--shared",
                "--imdb-paths",
                "five",
                "--channels",
                "16",
                "--scale",
                "2",
                "--min-blocks",
                "1",
                "--max-blocks",
                "2",
                "--iters",
                "8",
                "--patch",
                "32",
                "--batch",
                "2",
                "--population",
                "4",
                "--topk",
                "2",
                "--generations",
                "1",
                "--latency-input",
                "16x16",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    cfg = read_config(out)
    assert cfg["shared"] is True and {c["type"] for c in cfg["space"]["candidates"]} == {"imdb_path"}
    front = json.loads((out / "front.json").read_text())
    net = from_genotype(out / front["genotypes"][0], scale=2)
    assert net(torch.rand(1, 3, 12, 12)).shape == (1, 3, 24, 24)
    assert all(isinstance(m, IMDBPath) for m in net.body)
    assert main(["spos", "--out", str(tmp_path / "x"), "--shared"]) == 2


def test_resuming_with_other_sharing_is_refused(tmp_path: Path) -> None:
    from srkit.search.supernet import SupernetConfig, train

    from srkit.train.data import load_pairs

    space = imdb_space(scale=2, channels=(16,), min_blocks=1, max_blocks=1, paths="five", attention=("none",))
    pairs = load_pairs("skimage", 2, "train")[:2]
    cfg = SupernetConfig(iters=2, patch=32, batch=1, checkpoint_every=1)
    train(make_supernet(space, 16, True), pairs, cfg, tmp_path, log=lambda m: None)
    with pytest.raises(ValueError, match="holds a SharedIMDBSupernet, not a Supernet"):
        train(make_supernet(space, 16, False), pairs, cfg, tmp_path, log=lambda m: None)


def test_weight_norm_is_refused_for_the_imdb_space(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for flags in (["--weight-norm"], ["--input-mean", "div2k"], ["--in-channels", "1"]):
        assert main(["spos", "--out", str(tmp_path / "x"), "--space", "imdb", *flags]) == 2
        said = capsys.readouterr().err
        assert "--weight-norm, --input-mean and --in-channels are choices of --space blocks" in said
        assert not (tmp_path / "x").exists()
