"""RDN's published layouts: srkit's, and EDSR-PyTorch's (the PyTorch release its authors point to).

EDSR-PyTorch names the same modules ``SFENet1/2``, ``RDBs.N.convs.M.conv.0``, ``RDBs.N.LFF``,
``GFF.0/1`` and ``UPNet.K``, and trains on [0, 255] with no mean shift (``io_range=255``).
"""

from __future__ import annotations

import math
from typing import Any

from ..arch import ArchSupport, Layout, count_ids, renamed
from ..errors import CheckpointError, StateDict

_P = r"(weight|bias)"


def edsr_pytorch(sd: StateDict) -> StateDict | None:
    """EDSR-PyTorch's names renamed to srkit's, or None if ``sd`` is not in that layout."""
    if "SFENet1.weight" not in sd or "RDBs.0.LFF.weight" not in sd:
        return None
    rules = [
        (rf"SFENet([12])\.{_P}", r"sfe\1.\2"),
        (rf"RDBs\.(\d+)\.convs\.(\d+)\.conv\.0\.{_P}", r"rdbs.\1.convs.\2.0.\3"),
        (rf"RDBs\.(\d+)\.LFF\.{_P}", r"rdbs.\1.fuse.\2"),
        (rf"GFF\.([01])\.{_P}", r"gff.\1.\2"),
        (rf"UPNet\.(\d+)\.{_P}", r"upnet.\1.\2"),
    ]
    return renamed(sd, rules, "RDN (EDSR-PyTorch)")


def _rdn(sd: StateDict) -> tuple[str, dict[str, Any]]:
    first = sd["sfe1.weight"]
    channels, cin = first.shape[0], first.shape[1]
    growth = sd["rdbs.0.convs.0.0.weight"].shape[0]
    ups = sorted(int(k.split(".")[1]) for k in sd if k.startswith("upnet.") and k.endswith(".weight"))[:-1]
    scale = 1
    for i in ups:  # each step: conv to growth x r^2, pixel shuffle
        r = math.isqrt(sd[f"upnet.{i}.weight"].shape[0] // growth)
        if r * r * growth != sd[f"upnet.{i}.weight"].shape[0]:
            raise CheckpointError(f"RDN: upsampling conv upnet.{i} makes {sd[f'upnet.{i}.weight'].shape[0]} outputs")
        scale *= r
    return "rdn", {
        "scale": scale,
        "channels": channels,
        "blocks": count_ids(sd, r"rdbs\.(\d+)\.fuse\.weight"),
        "layers": count_ids(sd, r"rdbs\.0\.convs\.(\d+)\.0\.weight"),
        "growth": growth,
        "in_channels": cin,
    }


ARCHS = (
    ArchSupport(
        "rdn",
        ("sfe1.weight", "sfe2.weight", "rdbs.0.fuse.weight", "gff.0.weight", "upnet.0.weight"),
        _rdn,
        layouts=(Layout("RDN (EDSR-PyTorch)", edsr_pytorch, implies=(("io_range", 255.0),)),),
    ),
)
