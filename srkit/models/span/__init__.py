"""SPAN (Wan et al., CVPR 2024 / NTIRE 2024 ESR winner): swift parameter-free attention network."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..base import SRNet
from ..blocks import DIV2K_RGB_MEAN, pixelshuffle_head
from ..registry import register


class Conv3XC(nn.Module):
    """A 3x3 convolution trained over-parameterised and folded for inference.

    Training form: ``sk(x) + c3(c2(c1(pad(x))))`` (1x1 shortcut; 1x1 -> 3x3 'valid' -> 1x1 at ``gain``
    times the width). In eval mode it runs as the single equivalent 3x3 convolution :meth:`folded`
    (exact away from the one-pixel border, where the training form sees the first 1x1's bias on
    zero padding); the folded weights are derived, not stored, and recomputed only when a branch
    weight has changed. ``deploy=True`` builds only the 3x3 ``eval_conv``, the form of the released
    checkpoints.
    """

    def __init__(self, cin: int, cout: int, gain: int = 2, deploy: bool = False) -> None:
        super().__init__()
        self.deploy = deploy
        if deploy:
            self.eval_conv = nn.Conv2d(cin, cout, 3, padding=1)
        else:
            self.sk = nn.Conv2d(cin, cout, 1)
            self.conv = nn.Sequential(
                nn.Conv2d(cin, cin * gain, 1), nn.Conv2d(cin * gain, cout * gain, 3), nn.Conv2d(cout * gain, cout, 1)
            )
        self._fold_key: tuple[tuple[int, int], ...] | None = None
        self._fold: tuple[torch.Tensor, torch.Tensor] | None = None

    @property
    def derives_its_weights(self) -> bool:
        """Whether eval mode runs on weights folded from the branches, so that the branches' own
        layout is never read (:func:`srkit.inference.prepare` leaves it as it is)."""
        return not self.deploy

    def _compute_fold(self) -> tuple[torch.Tensor, torch.Tensor]:
        c1, c2, c3 = self.conv
        w1, w2, w3 = c1.weight[:, :, 0, 0], c2.weight, c3.weight[:, :, 0, 0]
        o, (m, k) = w3.shape[0], w2.shape[:2]
        # two matmuls in the cheap order (the three-operand einsum's product took 1.7x as long): the
        # result is channels_last-strided, the layout oneDNN runs the convolution in
        t = (w3 @ w2.reshape(m, k * 9)).reshape(o, k, 9).transpose(1, 2)
        w = (t @ w1).reshape(o, 3, 3, -1).permute(0, 3, 1, 2)
        w = w + F.pad(self.sk.weight, (1, 1, 1, 1))
        b = w3 @ (torch.einsum("mkyx,k->m", w2, c1.bias) + c2.bias) + c3.bias + self.sk.bias
        return w, b

    def folded(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(weight, bias) of the equivalent 3x3 convolution. Cached by the branch weights' storage and
        version counters; computed afresh (differentiably) while autograd records."""
        if self.deploy:
            return self.eval_conv.weight, self.eval_conv.bias
        if torch.is_grad_enabled() and any(p.requires_grad for p in self.parameters()):
            return self._compute_fold()
        try:
            key = tuple((p.data_ptr(), p._version) for p in self.parameters())
        except RuntimeError:  # inference tensors (a copy made in inference mode) keep no version counter
            with torch.no_grad():
                return self._compute_fold()
        if key != self._fold_key or self._fold is None:
            with torch.no_grad():
                self._fold = self._compute_fold()
            self._fold_key = key
        return self._fold

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.deploy:
            return self.eval_conv(x)
        if not self.training:
            w, b = self.folded()
            return F.conv2d(x, w.to(x.dtype), b.to(x.dtype), padding=1)
        return self.conv(F.pad(x, (1, 1, 1, 1))) + self.sk(x)


class SPAB(nn.Module):
    """Three Conv3XC with SiLU; the parameter-free attention sigmoid(y) - 0.5 gates y + x."""

    def __init__(self, channels: int, deploy: bool = False) -> None:
        super().__init__()
        self.c1_r = Conv3XC(channels, channels, deploy=deploy)
        self.c2_r = Conv3XC(channels, channels, deploy=deploy)
        self.c3_r = Conv3XC(channels, channels, deploy=deploy)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        act1 = F.silu(self.c1_r(x))
        out3 = self.c3_r(F.silu(self.c2_r(act1)))
        # the side output is the *activated* first conv: the released network's in-place SiLU
        # overwrote it before it was returned, and the trained weights depend on that
        return (out3 + x) * (torch.sigmoid(out3) - 0.5), act1


class SPAN(SRNet):
    def __init__(
        self, scale: int, channels: int = 48, in_channels: int = 3, img_range: float = 255.0, deploy: bool = False
    ) -> None:
        super().__init__(scale, in_channels)
        self.img_range = img_range
        mean = torch.tensor(DIV2K_RGB_MEAN if in_channels == 3 else (0.5,) * in_channels).view(1, -1, 1, 1)
        self.register_buffer("mean", mean, persistent=False)
        self.conv_1 = Conv3XC(in_channels, channels, deploy=deploy)
        for i in range(6):
            self.add_module(f"block_{i + 1}", SPAB(channels, deploy=deploy))
        self.conv_cat = nn.Conv2d(channels * 4, channels, 1)
        self.conv_2 = Conv3XC(channels, channels, deploy=deploy)
        self.upsampler = pixelshuffle_head(channels, in_channels, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.conv_1((x - self.mean.to(x.dtype)) * self.img_range)
        y, _ = self.block_1(f)
        b1 = y
        for i in range(2, 7):
            y, side = getattr(self, f"block_{i}")(y)
        # side is block 6's first-conv output, as in the official network
        return self.upsampler(self.conv_cat(torch.cat([f, self.conv_2(y), b1, side], dim=1)))


@register(
    "span",
    scales=(2, 3, 4),
    paper_params=(
        ({"scale": 4, "channels": 28, "deploy": True}, 150_688, 1, "SPAN-ch28 NTIRE 2024 entry (official file)"),
        ({"scale": 4, "channels": 26, "deploy": True}, 130_828, 1, "SPAN-tiny-ch26 NTIRE 2024 entry (official file)"),
    ),
)
def span(
    scale: int = 4, channels: int = 48, in_channels: int = 3, img_range: float = 255.0, deploy: bool = False
) -> SPAN:
    """SPAN: six parameter-free-attention blocks on re-parameterisable 3x3 convs (Wan et al. 2024)."""
    return SPAN(scale, channels, in_channels, img_range, deploy)


# small configurations of this family's models: tests and quick checks build them in milliseconds
SMALL: dict[str, dict] = {
    "span": {"scale": 2, "channels": 8},
}
