"""SwinIR-light in its official layout (the authors' repository, KAIR), spandrel's style: variants
with random weights, renamed into that layout (the map below is written from its module names, with
the buffers it saves), are detected back with the same hyper-parameters and identical outputs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from srkit.models import CheckpointError, create_model, load

VARIANTS = [
    {"scale": 4, "embed_dim": 12, "depths": (2,), "heads": (2,), "window": 4, "mlp_ratio": 2.0},
    {"scale": 2, "embed_dim": 16, "depths": (2, 1), "heads": (2, 4), "window": 2, "mlp_ratio": 1.5},
    {"scale": 3, "embed_dim": 8, "depths": (1, 2, 2), "heads": (1, 2, 2), "window": 4, "mlp_ratio": 2.0},
]


def to_official(sd: dict[str, torch.Tensor], window: int) -> dict[str, torch.Tensor]:
    """srkit names -> the official ones, with the buffers the official files carry."""
    out = {}
    for k, v in sd.items():
        new = "patch_embed.norm." + k[len("embed_norm.") :] if k.startswith("embed_norm.") else k
        new = (
            new.replace(".blocks.", ".residual_group.blocks.")
            .replace(".mlp.0.", ".mlp.fc1.")
            .replace(".mlp.2.", ".mlp.fc2.")
        )
        out[new] = v
        if k.endswith("attn.relative_position_bias_table"):
            stem = new[: -len("relative_position_bias_table")]
            out[stem + "relative_position_index"] = torch.zeros(window * window, window * window, dtype=torch.long)
            block = int(new.split(".blocks.")[1].split(".")[0])
            if block % 2:  # shifted blocks save their mask, made for the training patch size
                out[stem[: -len("attn.")] + "attn_mask"] = torch.zeros(16, window * window, window * window)
    return out


@pytest.mark.parametrize("kw", VARIANTS, ids=lambda kw: f"x{kw['scale']}-c{kw['embed_dim']}-d{len(kw['depths'])}")
@pytest.mark.parametrize("wrapper", [None, "params"])
def test_official_layout_round_trips(kw: dict, wrapper: str | None, tmp_path: Path) -> None:
    torch.manual_seed(0)
    want = create_model("swinir_light", **kw).eval()
    sd = to_official(want.state_dict(), kw["window"])
    path = tmp_path / "swinir.pth"
    torch.save({wrapper: sd} if wrapper else sd, path)
    got = load(path)
    assert {k: tuple(v) if isinstance(v, list) else v for k, v in got.hparams.items() if k in kw} == kw
    assert got.info.layout == "SwinIR (official repository / KAIR)"
    x = torch.rand(1, 3, 11, 13)
    with torch.no_grad():
        assert torch.equal(got(x), want(x))


def test_the_classical_model_is_named_not_misloaded(tmp_path: Path) -> None:
    torch.manual_seed(0)
    sd = to_official(create_model("swinir_light", **VARIANTS[0]).state_dict(), 4)
    sd["conv_before_upsample.0.weight"] = torch.zeros(64, 12, 3, 3)
    torch.save(sd, tmp_path / "classical.pth")
    with pytest.raises(CheckpointError, match="SwinIR-light .pixelshuffledirect. only"):
        load(tmp_path / "classical.pth")
