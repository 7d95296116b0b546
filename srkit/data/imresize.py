"""MATLAB-compatible bicubic ``imresize`` for batched torch tensors (CPU or GPU).

It reproduces ``imresize(im, scale, 'bicubic')`` of MATLAB's Image Processing Toolbox:

* the cubic convolution kernel with a = -0.5 (Keys), support 4;
* antialiasing when shrinking: the kernel is stretched by 1/scale (and its height scaled by scale);
* output coordinate x (1-based) samples the input at u = x / scale + 0.5 (1 - 1 / scale);
* out-of-range taps read the nearest edge pixel (replicate), which reproduces the MATLAB-made
  Set5 LR files bit for bit (symmetric mirroring does not, at the borders);
* the two 1-D passes run height first, then width (MATLAB's order for equal scales), and a uint8
  image is rounded back to uint8 after *each* pass (half away from zero, saturated), because
  MATLAB's resizing core returns the input's class.

Each pass is one matrix product with a dense (out x in) weight matrix built in float64.
"""

from __future__ import annotations

import math

import torch


def cubic(x: torch.Tensor) -> torch.Tensor:
    """Keys' cubic convolution kernel with a = -0.5."""
    ax = x.abs()
    ax2, ax3 = ax * ax, ax * ax * ax
    near = (1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1)
    far = (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2))
    return near + far


def weight_matrix(
    in_len: int, out_len: int, scale: float, antialiasing: bool = True, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """The (out_len, in_len) float64 matrix of one 1-D bicubic resize pass, as MATLAB builds it."""
    width = 4.0
    shrink = scale < 1 and antialiasing
    if shrink:
        width /= scale
    x = torch.arange(1, out_len + 1, dtype=torch.float64, device=device)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = torch.floor(u - width / 2)
    taps = math.ceil(width) + 2
    idx = left[:, None] + torch.arange(taps, dtype=torch.float64, device=device)[None, :]
    d = u[:, None] - idx
    w = scale * cubic(scale * d) if shrink else cubic(d)
    w = w / w.sum(1, keepdim=True)
    src = (idx.long() - 1).clamp(0, in_len - 1)  # replicate the edge pixel
    mat = torch.zeros(out_len, in_len, dtype=torch.float64, device=device)
    mat.scatter_add_(1, src, w)
    return mat


def _round_u8(v: torch.Tensor) -> torch.Tensor:
    return torch.floor(v.clamp(0, 255) + 0.5)  # MATLAB's double -> uint8: half away from zero, saturated


def imresize(
    x: torch.Tensor,
    scale: float | None = None,
    *,
    size: tuple[int, int] | None = None,
    antialiasing: bool = True,
) -> torch.Tensor:
    """Resize the last two dimensions of ``x`` (..., H, W) like MATLAB's bicubic ``imresize``.

    Give ``scale`` (e.g. 1/4 to shrink, 4 to enlarge; output size ceil(scale * H)) or ``size``
    (H_out, W_out). uint8 input gives uint8 output, rounded after each pass as MATLAB does; float
    input is computed in float64 and returned in its own dtype (values are not clamped).
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"srkit.data.imresize: expected a torch.Tensor, got {type(x).__name__}")
    if x.dim() < 2:
        raise ValueError(f"srkit.data.imresize: need (..., H, W), got shape {tuple(x.shape)}")
    if x.dtype != torch.uint8 and not x.is_floating_point():
        raise TypeError(f"srkit.data.imresize: unsupported dtype {x.dtype} (uint8 or floating point)")
    h, w = x.shape[-2:]
    if (scale is None) == (size is None):
        raise ValueError("srkit.data.imresize: give exactly one of scale and size")
    if size is not None:
        oh, ow = (int(s) for s in size)
        sh, sw = oh / h, ow / w
    else:
        if not scale or scale <= 0:
            raise ValueError(f"srkit.data.imresize: scale must be positive, got {scale}")
        sh = sw = float(scale)
        oh, ow = math.ceil(sh * h - 1e-9), math.ceil(sw * w - 1e-9)
    if oh < 1 or ow < 1:
        raise ValueError(f"srkit.data.imresize: output size {oh}x{ow} is empty (input {h}x{w}, scale {scale})")
    is_u8 = x.dtype == torch.uint8
    v = x.to(torch.float64)
    v = torch.matmul(weight_matrix(h, oh, sh, antialiasing, x.device), v)  # height first
    if is_u8:
        v = _round_u8(v)
    v = torch.matmul(v, weight_matrix(w, ow, sw, antialiasing, x.device).T)
    if is_u8:
        return _round_u8(v).to(torch.uint8)
    return v.to(x.dtype)
