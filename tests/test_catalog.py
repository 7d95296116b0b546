"""The block catalogue and BlockNet: specs validate, every block keeps its input's shape, and a
BlockNet built from specs round-trips through a checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from srkit.models import BLOCK_TYPES, BlockSpec, build_block, create_model, load, save
from srkit.models.catalog import ATTENTIONS
from srkit.nn import ContrastChannelAttention

SPECS = [BlockSpec(t, attention=a) for t in BLOCK_TYPES for a in ATTENTIONS] + [
    BlockSpec("wdsr_b", expansion=3, low_rank=0.5, kernel_size=5),
    BlockSpec("wdsr_a", expansion=2, kernel_size=1),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.short())
def test_every_block_keeps_the_shape_and_trains(spec: BlockSpec) -> None:
    torch.manual_seed(0)
    b = build_block(spec, 16)
    x = torch.randn(2, 16, 17, 19, requires_grad=True)  # RFDB's ESA needs >= 15 pixels
    y = b(x)
    assert y.shape == x.shape and torch.isfinite(y).all()
    y.square().mean().backward()
    assert x.grad is not None and all(p.grad is not None for p in b.parameters() if p.requires_grad)
    has_cca = any(isinstance(m, ContrastChannelAttention) for m in b.modules())
    assert has_cca == (spec.attention == "cca")


def test_spec_validation_names_the_problem() -> None:
    with pytest.raises(ValueError, match="wdsr_c"):
        BlockSpec("wdsr_c")
    with pytest.raises(ValueError, match="attention 'se'"):
        BlockSpec("imdb", attention="se")
    with pytest.raises(ValueError, match="odd kernel_size"):
        BlockSpec("wdsr_a", kernel_size=4)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['width'\]"):
        BlockSpec.from_dict({"type": "rfdb", "width": 3})
    with pytest.raises(ValueError, match="'type'"):
        BlockSpec.from_dict({"expansion": 3})
    with pytest.raises(ValueError, match="16 channels"):
        build_block(BlockSpec("imdb", attention="cca"), 8)
    with pytest.raises(ValueError, match="16 channels"):
        build_block(BlockSpec("wdsr_b", attention="cca"), 8)


def test_canonical_forms_and_names() -> None:
    assert BlockSpec("imdb", expansion=7).canonical() == {
        "type": "imdb",
        "attention": "none",
    }  # irrelevant options dropped
    assert BlockSpec("imdb", expansion=7).key() == BlockSpec("imdb").key()
    assert BlockSpec("wdsr_b", expansion=6, attention="cca").short() == "B6+cca"
    assert BlockSpec("wdsr_b", expansion=6, low_rank=0.5, kernel_size=5).short() == "B6k5r0.5"
    assert BlockSpec.from_dict(BlockSpec("wdsr_a", expansion=2).canonical()) == BlockSpec("wdsr_a", expansion=2)


def test_blocknet_from_specs_round_trips(tmp_path: Path) -> None:
    torch.manual_seed(1)
    blocks = [{"type": "wdsr_b", "expansion": 4, "attention": "cca"}, {"type": "imdb"}, {"type": "rfdb"}]
    net = create_model("blocknet", scale=3, channels=16, blocks=blocks).eval()
    assert net.min_size == 15
    x = torch.rand(1, 3, 15, 16)
    with torch.no_grad():
        want = net(x)
    assert want.shape == (1, 3, 45, 48)
    save(net, tmp_path / "net.safetensors")
    back = load(tmp_path / "net.safetensors").eval()
    assert [s.canonical() for s in back.specs] == [BlockSpec.from_dict(b).canonical() for b in blocks]
    with torch.no_grad():
        assert torch.equal(back(x), want)
    empty = create_model("blocknet", scale=2, channels=8, blocks=[])
    assert empty(torch.rand(1, 3, 5, 4)).shape == (1, 3, 10, 8)
