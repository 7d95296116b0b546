"""srkit-search through NNI: the search spaces it is given, the latency-aware reward, and a local
experiment with two tiny trials that runs to completion."""

from __future__ import annotations

import dataclasses
import json
import math
import random
import socket
from pathlib import Path

import pytest
from srkit.search import nni_adapter as na
from srkit.search.space import Arch, BlockSpace
from srkit.search.srgan_space import SRGANSpace

from srkit.models import BlockSpec
from srkit.train.data import load_pairs


def test_reward_penalises_only_above_the_target() -> None:
    assert na.reward(30.0, 5.0, 10.0, 1.0) == 30.0
    assert na.reward(30.0, 20.0, 10.0, 1.0) == pytest.approx(29.0)  # 100 % over: one penalty
    assert na.reward(30.0, 15.0, 10.0, 2.0) == pytest.approx(29.0)
    assert na.reward(30.0, 1e6, None, 1.0) == 30.0


def test_search_spaces_and_parameters() -> None:
    space = BlockSpace(
        scale=2,
        channels=(16, 32),
        min_blocks=1,
        max_blocks=3,
        candidates=(BlockSpec("wdsr_a", expansion=2), BlockSpec("imdb", attention="cca")),
    )
    s = na.NNISettings(space=space.as_dict())
    ss = na.search_space(s)
    assert ss["channels"] == {"_type": "choice", "_value": [16, 32]}
    assert ss["depth"]["_value"] == [1, 2, 3] and ss["block2"]["_value"] == ["A2", "imdb+cca"]
    a = na.arch_from_parameters(
        space, {"channels": 32, "depth": 2, "block0": "imdb+cca", "block1": "A2", "block2": "A2"}
    )
    assert a == Arch(32, (BlockSpec("imdb", attention="cca"), BlockSpec("wdsr_a", expansion=2)))
    with pytest.raises(ValueError, match="do not name"):
        na.arch_from_parameters(space, {"channels": 32, "depth": 1, "block0": "B6"})
    hpt = na.search_space(na.NNISettings(mode="hpt", model="imdn"))
    assert hpt["lr"] == {"_type": "uniform", "_value": [1e-4, 1e-3]} and hpt["batch"]["_value"] == [8, 16]
    with pytest.raises(ValueError, match="tuner"):
        na._tuner(
            type("E", (), {"config": type("C", (), {"tuner": type("T", (), {})()})()})(),
            na.ExperimentConfig(tuner="Grid"),
        )


def _free_port() -> int:
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        return int(sk.getsockname()[1])


@pytest.mark.slow
@pytest.mark.distributed
def test_a_local_experiment_with_two_tiny_trials_completes(tmp_path: Path) -> None:
    space = BlockSpace(
        scale=2,
        channels=(16,),
        min_blocks=1,
        max_blocks=2,
        candidates=(BlockSpec("wdsr_a", expansion=2), BlockSpec("wdsr_b", expansion=4)),
    )
    s = na.NNISettings(
        out=str(tmp_path / "run"),
        space=space.as_dict(),
        scale=2,
        iters=3,
        patch=32,
        batch=2,
        latency_input=(16, 16),
        target_ms=0.001,
        penalty_db=0.5,
    )
    done = na.run(s, na.ExperimentConfig(tuner="Random", trials=2, port=_free_port()), log=lambda m: None)
    assert len(done) == 2, sorted(p.name for p in (tmp_path / "run").rglob("*stderr*"))
    for r in done:
        assert r["latency_ms"] > 0 and r["psnr"] > 0
        assert r["reward"] == pytest.approx(na.reward(r["psnr"], r["latency_ms"], 0.001, 0.5))
        space.validate(
            Arch.from_dict(json.loads((tmp_path / "run" / "trials" / r["trial"] / "genotype.json").read_text()))
        )
        assert (tmp_path / "run" / "trials" / r["trial"] / "metrics.json").is_file()
    assert na.best(done) == max(done, key=lambda r: r["reward"])
    with pytest.raises(ValueError, match="--resume"):
        na.run(s, na.ExperimentConfig(trials=2))


def test_srgan_space() -> None:
    space = SRGANSpace()
    assert space.size() == 2**7 * 3  # seven two-way choices, three pre-training lengths (x a continuous lr)
    nni_space = space.nni()
    assert nni_space["g_blocks"] == {"_type": "choice", "_value": [8, 16]}
    assert nni_space["g_act"]["_value"] == ["prelu", "relu"] and nni_space["lr"] == {
        "_type": "uniform",
        "_value": [1e-4, 1e-3],
    }
    assert na.search_space(na.NNISettings(mode="srgan")) == nni_space
    rng = random.Random(0)
    for _ in range(20):
        space.validate(space.sample(rng))
    p = {
        "g_blocks": 16,
        "d_blocks": 3,
        "kernel": 5,
        "g_width": 64,
        "d_width": 128,
        "g_act": "relu",
        "batch": 8,
        "pretrain_epochs": 10,
        "lr": 3e-4,
    }
    cfg = space.train_config(p, scale=4, data="skimage", iters=100, patch=96, device="cpu", train_images=17)
    assert cfg.model == "srresnet" and cfg.model_args == {"blocks": 16, "kernel_size": 5, "channels": 64, "act": "relu"}
    a = cfg.adversarial
    assert a.enabled and (a.d_blocks, a.d_channels, a.d_kernel) == (3, 128, 5)
    assert a.pretrain_iters == 10 * 3  # an epoch: one crop of each of 17 images in batches of 8
    assert cfg.optim.lr == 3e-4 and cfg.data.batch == 8 and cfg.loss == "mse"
    assert (
        space.train_config(
            p, scale=4, data="skimage", iters=100, patch=96, device="cpu", train_images=17, vgg_weights="vgg.pth"
        ).loss
        == "mse+perceptual*0.006"
    )
    with pytest.raises(ValueError, match="g_width=96 is not one of"):
        space.validate({**p, "g_width": 96})
    with pytest.raises(ValueError, match="lr=0.01 is outside"):
        space.validate({**p, "lr": 0.01})
    assert SRGANSpace.from_dict(json.loads(json.dumps(space.as_dict()))) == space


@pytest.mark.slow
@pytest.mark.distributed
def test_a_local_srgan_experiment_completes(tmp_path: Path) -> None:
    space = SRGANSpace(
        g_blocks=(1,),
        d_blocks=(1,),
        kernel=(3,),
        g_width=(8,),
        d_width=(8,),
        g_act=("prelu", "relu"),
        batch=(2,),
        pretrain_epochs=(0, 1),
    )
    s = na.NNISettings(
        mode="srgan",
        out=str(tmp_path / "run"),
        space=space.as_dict(),
        scale=2,
        iters=3,
        patch=32,
        latency_input=(16, 16),
    )
    done = na.run(s, na.ExperimentConfig(tuner="Random", trials=1, port=_free_port()), log=lambda m: None)
    assert len(done) == 1, sorted(p.name for p in (tmp_path / "run").rglob("*stderr*"))
    (r,) = done
    space.validate(r["parameters"])
    m = json.loads((tmp_path / "run" / "trials" / r["trial"] / "metrics.json").read_text())
    pre = r["parameters"]["pretrain_epochs"] * math.ceil(
        len(load_pairs("skimage", 2, "train")) / 2
    )  # epoch: one crop each
    assert len(m["d_losses"]) == max(0, 3 - pre) and r["psnr"] == m["val_psnr"] and r["latency_ms"] > 0


@pytest.mark.slow
@pytest.mark.distributed
def test_a_stopped_experiment_resumes_without_rerunning_its_trials(tmp_path: Path) -> None:
    space = BlockSpace(
        scale=2, channels=(8,), min_blocks=1, max_blocks=1, candidates=(BlockSpec("wdsr_a", expansion=2),)
    )
    s = na.NNISettings(
        out=str(tmp_path / "run"), space=space.as_dict(), scale=2, iters=2, patch=32, batch=2, latency_input=(16, 16)
    )
    first = na.run(s, na.ExperimentConfig(tuner="Random", trials=1, port=_free_port()), log=lambda m: None)
    assert len(first) == 1
    state = json.loads((tmp_path / "run" / "nni_experiment.json").read_text())
    said: list[str] = []
    again = na.run(s, na.ExperimentConfig(tuner="Random", trials=1, port=_free_port()), resume=True, log=said.append)
    assert again == first  # the finished trial is kept and not run again
    assert said and state["id"] in said[0]
    with pytest.raises(ValueError, match="no NNI experiment to resume"):
        na.run(na.NNISettings(out=str(tmp_path / "empty")), na.ExperimentConfig(), resume=True)


def test_latency_is_measured_only_on_the_machine_that_started_the_experiment(tmp_path: Path) -> None:
    from srkit.profiler.device import TIMING_KEYS, fingerprint

    here = {k: fingerprint("cpu").get(k) for k in TIMING_KEYS}
    s = na.NNISettings(out=str(tmp_path / "run"), device="cpu", timing_machine=here)
    assert na.timing_problem(s) == "" and na.timing_problem(na.NNISettings(device="cpu")) == ""
    elsewhere = na.NNISettings(out=str(tmp_path / "run"), device="cpu", timing_machine=here | {"host": "0123abcd"})
    assert "host: '0123abcd' there" in na.timing_problem(elsewhere)
    fewer = here | {"cpu_threads": here["cpu_threads"] + 1}
    assert "cpu_threads" in na.timing_problem(dataclasses.replace(s, timing_machine=fewer))
    (tmp_path / "run").mkdir()
    elsewhere.save(tmp_path / "run")
    (tmp_path / "run" / "nni_experiment.json").write_text('{"id": "abc", "port": 1}')
    with pytest.raises(ValueError, match="measured on the machine that started it"):
        na.run(elsewhere, na.ExperimentConfig(), resume=True)  # refused before NNI starts
