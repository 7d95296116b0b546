"""Detection over the whole zoo (timm's style: every ``list_models()`` entry): each model's own state
dict, saved bare, is recognised as that model with its hyper-parameters, by exactly one registered
support; the models whose hyper-parameters are not all in the weights say so; overlaps are errors."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import torch

from srkit.models import (
    CheckpointError,
    create_model,
    families,
    list_models,
    load,
    save,
)
from srkit.models.arch import ArchSupport

from .roundtrip import random_weights, round_trip

detect_mod = importlib.import_module("srkit.models.detect")  # the package's `detect` is the function

SMALL = families.small_configs()  # each family's small configurations (srkit/models/<family>/)
METADATA_ONLY = families.undetectable()


def test_every_model_is_covered() -> None:
    assert set(SMALL) | set(METADATA_ONLY) == set(list_models())
    assert not set(SMALL) & set(METADATA_ONLY)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_own_state_dict_is_detected_as_itself(name: str, tmp_path: Path) -> None:
    kw = SMALL[name]
    weights_fix_scale = name not in ("srcnn", "vdsr", "fsrcnn", "carn", "carn_m")
    extra = {} if weights_fix_scale else {"scale": kw["scale"]}
    round_trip(name, kw, lambda sd: sd, tmp_path, None, **extra)
    found = [a.name for a in detect_mod.ARCHS if a.detect(random_weights(name, kw).state_dict())]
    assert len(found) == 1, found  # one support claims it: the order of ARCHS decides nothing


@pytest.mark.parametrize("name", sorted(METADATA_ONLY))
def test_metadata_only_models_need_srkit_files(name: str, tmp_path: Path) -> None:
    scale = 4 if name != "srcnn_ps" else 2
    model = create_model(name, scale=scale)
    bare = tmp_path / "bare.pth"
    torch.save(model.state_dict(), bare)
    with pytest.raises(CheckpointError, match="no srkit architecture matches"):
        load(bare)
    save(model, tmp_path / "own.safetensors")
    assert load(tmp_path / "own.safetensors").arch == name


def test_support_names_are_unique() -> None:
    names = [a.name for a in detect_mod.ARCHS]
    assert len(names) == len(set(names))
    assert detect_mod.support("edsr").name == "edsr"
    with pytest.raises(KeyError, match="no architecture support named"):
        detect_mod.support("nope")


def test_two_matching_supports_are_an_error_unless_one_supersedes(monkeypatch: pytest.MonkeyPatch) -> None:
    sd = random_weights("imdn", SMALL["imdn"]).state_dict()
    imdn = detect_mod.support("imdn")
    rival = ArchSupport("rival", ("fea_conv.weight",), lambda s: ("imdn", {"scale": 2}))
    monkeypatch.setattr(detect_mod, "ARCHS", (rival, *detect_mod.ARCHS))
    with pytest.raises(CheckpointError, match=r"more than one architecture \(rival, imdn\)"):
        detect_mod.find(sd)
    rival_name = ArchSupport("rival", ("fea_conv.weight",), lambda s: ("rfdn", {"scale": 2}))
    monkeypatch.setattr(detect_mod, "ARCHS", (rival_name, *detect_mod.ARCHS[1:]))
    assert detect_mod.find(sd, arch="imdn").name == "imdn"  # arch= chooses among the matches
    winner = ArchSupport("rival", rival.keys, rival.hparams, supersedes=("imdn",), why="test")
    monkeypatch.setattr(detect_mod, "ARCHS", (*detect_mod.ARCHS[1:], winner))  # last, and still it wins
    assert detect_mod.find(sd).support is winner
    assert imdn.detect(sd) is not None


def test_an_unknown_state_dict_names_the_closest_architecture() -> None:
    sd = dict(random_weights("rlfn", SMALL["rlfn"]).state_dict())
    del sd["block_1.esa.conv1.weight"]
    with pytest.raises(CheckpointError, match=r"closest: rlfn, which lacks block_1\.esa\.conv1\.weight"):
        detect_mod.find(sd)


def test_a_support_loads_a_state_dict_directly() -> None:
    want = random_weights("rcan", SMALL["rcan"])
    got = detect_mod.support("rcan").load(want.state_dict())
    x = torch.rand(1, 3, 7, 9)
    with torch.no_grad():
        assert torch.equal(got(x), want(x))
    assert got.info.layout is None and got.hparams["groups"] == 2
    with pytest.raises(CheckpointError, match="not a rlfn network in any layout"):
        detect_mod.support("rlfn").load(want.state_dict())
