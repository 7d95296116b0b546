"""SwinIR (Liang et al., ICCVW 2021), the lightweight configuration: shifted-window transformer groups."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..base import SRNet
from ..blocks import DIV2K_RGB_MEAN, conv, pixelshuffle_head
from ..registry import register


class WindowAttention(nn.Module):
    """Multi-head self-attention inside w x w windows with a learned relative-position bias."""

    def __init__(self, dim: int, window: int, heads: int) -> None:
        super().__init__()
        self.window, self.heads = window, heads
        self.scale = (dim // heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (window - 1)
        self.register_buffer("relative_position_index", rel[..., 0] * (2 * window - 1) + rel[..., 1], persistent=False)
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        b, n, c = x.shape  # b = batch * windows, n = window^2 tokens
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(n, n, -1).permute(2, 0, 1)
        attn = (q * self.scale) @ k.transpose(-2, -1) + bias[None].to(q.dtype)
        if mask is not None:
            nw = mask.shape[0]
            attn = attn.view(b // nw, nw, self.heads, n, n) + mask[None, :, None].to(attn.dtype)
            attn = attn.view(b, self.heads, n, n)
        return self.proj((attn.softmax(-1) @ v).transpose(1, 2).reshape(b, n, c))


def _windows(x: torch.Tensor, w: int) -> torch.Tensor:
    b, h, wd, c = x.shape
    return x.view(b, h // w, w, wd // w, w, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, w * w, c)


def _unwindows(t: torch.Tensor, w: int, h: int, wd: int) -> torch.Tensor:
    b = t.shape[0] // ((h // w) * (wd // w))
    return t.view(b, h // w, wd // w, w, w, -1).permute(0, 1, 3, 2, 4, 5).reshape(b, h, wd, -1)


def shift_mask(h: int, w: int, window: int, shift: int, device: torch.device) -> torch.Tensor:
    """(windows, w^2, w^2) additive mask keeping attention within the regions a cyclic shift joined."""
    region = torch.zeros(1, h, w, 1, device=device)
    cuts = (slice(0, -window), slice(-window, -shift), slice(-shift, None))
    label = 0
    for hs in cuts:
        for ws in cuts:
            region[:, hs, ws, :] = label
            label += 1
    r = _windows(region, window).squeeze(-1)
    diff = r[:, None, :] - r[:, :, None]
    return torch.zeros_like(diff).masked_fill(diff != 0, -100.0)


class SwinBlock(nn.Module):
    def __init__(self, dim: int, heads: int, window: int, shift: int, mlp_ratio: float) -> None:
        super().__init__()
        self.window, self.shift = window, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, window, heads)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor, size: tuple[int, int], mask: torch.Tensor | None) -> torch.Tensor:
        """``mask``: :func:`shift_mask` for this size (made once per forward by SwinIR), used by shifted blocks."""
        h, w = size
        b, _, c = x.shape
        y = self.norm1(x).view(b, h, w, c)
        if self.shift:
            y = torch.roll(y, (-self.shift, -self.shift), dims=(1, 2))
        y = _unwindows(self.attn(_windows(y, self.window), mask if self.shift else None), self.window, h, w)
        if self.shift:
            y = torch.roll(y, (self.shift, self.shift), dims=(1, 2))
        x = x + y.reshape(b, h * w, c)
        return x + self.mlp(self.norm2(x))


class RSTB(nn.Module):
    """Residual Swin transformer group: blocks alternating plain and shifted windows, a 3x3 conv, plus the input."""

    def __init__(self, dim: int, depth: int, heads: int, window: int, mlp_ratio: float) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            SwinBlock(dim, heads, window, 0 if i % 2 == 0 else window // 2, mlp_ratio) for i in range(depth)
        )
        self.conv = conv(dim, dim, 3)

    def forward(self, x: torch.Tensor, size: tuple[int, int], mask: torch.Tensor | None) -> torch.Tensor:
        y = x
        for blk in self.blocks:
            y = blk(y, size, mask)
        b, n, c = y.shape
        img = self.conv(y.transpose(1, 2).reshape(b, c, *size))
        return img.flatten(2).transpose(1, 2) + x


class SwinIR(SRNet):
    def __init__(
        self,
        scale: int,
        embed_dim: int = 60,
        depths: tuple[int, ...] = (6, 6, 6, 6),
        heads: tuple[int, ...] = (6, 6, 6, 6),
        window: int = 8,
        mlp_ratio: float = 2.0,
        in_channels: int = 3,
    ) -> None:
        super().__init__(scale, in_channels)
        if len(depths) != len(heads):
            raise ValueError(f"SwinIR: depths {depths} and heads {heads} differ in length")
        self.window = window
        mean = DIV2K_RGB_MEAN if in_channels == 3 else (0.0,) * in_channels
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.conv_first = conv(in_channels, embed_dim, 3)
        self.embed_norm = nn.LayerNorm(embed_dim)
        self.layers = nn.ModuleList(
            RSTB(embed_dim, d, h, window, mlp_ratio) for d, h in zip(depths, heads, strict=True)
        )
        self.norm = nn.LayerNorm(embed_dim)
        self.conv_after_body = conv(embed_dim, embed_dim, 3)
        self.upsample = pixelshuffle_head(embed_dim, in_channels, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % self.window, (-w) % self.window
        mean = self.mean.to(x.dtype)
        x = F.pad(x, (0, pw, 0, ph), mode="reflect" if min(h, w) > max(ph, pw) else "replicate") - mean
        f = self.conv_first(x)
        size = (h + ph, w + pw)
        t = self.embed_norm(f.flatten(2).transpose(1, 2))
        mask = shift_mask(*size, self.window, self.window // 2, x.device) if self.window > 1 else None
        for layer in self.layers:
            t = layer(t, size, mask)
        t = self.norm(t)
        y = self.conv_after_body(t.transpose(1, 2).reshape(f.shape)) + f
        return (self.upsample(y) + mean)[..., : h * self.scale, : w * self.scale]


@register(
    "swinir_light",
    scales=(2, 3, 4),
    paper_params=(
        ({"scale": 2}, 878_000, 1000, "SwinIR-light x2, 878K (without the relative-position tables)"),
        ({"scale": 3}, 886_000, 1000, "SwinIR-light x3, 886K (same)"),
        ({"scale": 4}, 897_000, 1000, "SwinIR-light x4, 897K (same)"),
    ),
)
def swinir_light(
    scale: int = 4,
    embed_dim: int = 60,
    depths: tuple[int, ...] = (6, 6, 6, 6),
    heads: tuple[int, ...] = (6, 6, 6, 6),
    window: int = 8,
    mlp_ratio: float = 2.0,
) -> SwinIR:
    """SwinIR-light: 4 residual Swin groups of 6 blocks, 60 channels, window 8, one-step sub-pixel tail."""
    return SwinIR(scale, embed_dim, tuple(depths), tuple(heads), window, mlp_ratio)


# small configurations of this family's models: tests and quick checks build them in milliseconds
SMALL: dict[str, dict] = {
    "swinir_light": {"scale": 2, "embed_dim": 12, "depths": (2,), "heads": (2,), "window": 4},
}
