"""SwinIR-light's official state-dict layout (the authors' repository and KAIR), renamed to srkit's
module names, and its hyper-parameters read from key names and shapes.

The official names differ from srkit's in four places: ``patch_embed.norm`` (srkit: ``embed_norm``),
``layers.N.residual_group.blocks`` (``layers.N.blocks``) and ``mlp.fc1`` / ``mlp.fc2`` (``mlp.0`` /
``mlp.2``). The files also hold two buffers that srkit recomputes (``relative_position_index`` and
the shifted blocks' ``attn_mask``, the latter made for the training patch size), which are dropped.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..arch import ArchSupport, Layout
from ..errors import CheckpointError, StateDict

_RENAMES = ((".residual_group.blocks.", ".blocks."), (".mlp.fc1.", ".mlp.0."), (".mlp.fc2.", ".mlp.2."))


def official(sd: StateDict) -> dict[str, Any] | None:
    """The official names renamed to srkit's, or None if ``sd`` is not in that layout."""
    if "layers.0.residual_group.blocks.0.attn.qkv.weight" not in sd:
        return None
    if "conv_before_upsample.0.weight" in sd:
        raise CheckpointError(
            "SwinIR with a conv_before_upsample: the classical (pixelshuffle) or real-world model; "
            "srkit has SwinIR-light (pixelshuffledirect) only"
        )
    out: dict[str, Any] = {}
    for k, v in sd.items():
        if k.endswith(("attn.relative_position_index", ".attn_mask")):
            continue
        new = "embed_norm." + k[len("patch_embed.norm.") :] if k.startswith("patch_embed.norm.") else k
        for a, b in _RENAMES:
            new = new.replace(a, b)
        out[new] = v
    return out


def swinir_light(sd: StateDict) -> tuple[str, dict[str, Any]]:
    first, up = sd["conv_first.weight"], sd["upsample.0.weight"]
    cin, dim = first.shape[1], first.shape[0]
    scale = math.isqrt(up.shape[0] // cin)
    if cin != 3 or scale * scale * cin != up.shape[0]:
        raise CheckpointError(
            f"SwinIR-light: {cin} input channels and {up.shape[0]} upsampler outputs (srkit's is RGB)"
        )
    layers = sorted({int(m.group(1)) for k in sd if (m := re.match(r"layers\.(\d+)\.blocks\.0\.", k))})
    depths = tuple(
        len({m.group(1) for k in sd if (m := re.match(rf"layers\.{i}\.blocks\.(\d+)\.", k))}) for i in layers
    )
    tables = [sd[f"layers.{i}.blocks.0.attn.relative_position_bias_table"] for i in layers]
    heads = tuple(int(t.shape[1]) for t in tables)
    window = (math.isqrt(tables[0].shape[0]) + 1) // 2  # the table has (2 window - 1)^2 rows
    mlp_ratio = sd["layers.0.blocks.0.mlp.0.weight"].shape[0] / dim
    return "swinir_light", {
        "scale": scale,
        "embed_dim": dim,
        "depths": depths,
        "heads": heads,
        "window": window,
        "mlp_ratio": mlp_ratio,
    }


ARCHS = (
    ArchSupport(
        "swinir_light",
        ("conv_first.weight", "embed_norm.weight", "layers.0.blocks.0.attn.qkv.weight", "upsample.0.weight"),
        swinir_light,
        layouts=(Layout("SwinIR (official repository / KAIR)", official),),
    ),
)
