"""The perceptual loss: distances between VGG19 feature maps of the SR and HR images (SRGAN's VGG54).

srkit ships no VGG weights: the user gives a file (``perceptual.weights``) in torchvision's layout
(``features.<index>.weight`` / ``.bias``, e.g. torchvision's ``vgg19-dcbb9e9d.pth``, or the same keys
as safetensors). It is read with ``weights_only=True``; only the layers up to the chosen one are
built and loaded, and a missing file or one with other keys or shapes is a clear error.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..models.arch import load_state
from ..models.checkpoint import read_checkpoint
from ..models.detect import CheckpointError

# VGG19 ("E"): conv widths per stage; each stage ends in a 2x2 max-pool
VGG19_STAGES = ((64, 64), (128, 128), (256, 256, 256, 256), (512, 512, 512, 512), (512, 512, 512, 512))
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class PerceptualError(ValueError):
    """The perceptual loss cannot be built: no weights given, or the weights file is not VGG19's."""


def layer_index(layer: str) -> int:
    """Index in torchvision's ``vgg19().features`` of ``conv<s>_<i>`` or ``relu<s>_<i>`` (e.g. relu5_4 -> 35)."""
    m = re.fullmatch(r"(conv|relu)([1-5])_([1-4])", layer)
    if not m or int(m.group(3)) > len(VGG19_STAGES[int(m.group(2)) - 1]):
        names = [f"relu{s + 1}_{i + 1}" for s, widths in enumerate(VGG19_STAGES) for i in range(len(widths))]
        raise PerceptualError(
            f"perceptual.layer {layer!r}: expected conv<s>_<i> or relu<s>_<i> of VGG19 ({', '.join(names)})"
        )
    kind, stage, conv = m.group(1), int(m.group(2)), int(m.group(3))
    index = sum(2 * len(widths) + 1 for widths in VGG19_STAGES[: stage - 1]) + 2 * (conv - 1)
    return index + (kind == "relu")


def vgg19_features(upto: int) -> nn.Sequential:
    """torchvision's ``vgg19().features[:upto + 1]`` (same indices, so its state-dict keys load)."""
    layers: list[nn.Module] = []
    cin = 3
    for widths in VGG19_STAGES:
        for w in widths:
            layers += [nn.Conv2d(cin, w, 3, padding=1), nn.ReLU(inplace=False)]
            cin = w
        layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers[: upto + 1])


class PerceptualLoss(nn.Module):
    """``criterion(vgg(sr), vgg(hr))`` on ImageNet-normalised RGB in [0, 1] (grey inputs are repeated
    to three channels); the VGG is frozen (it has no layer whose behaviour depends on the mode)."""

    def __init__(self, weights: str | Path | None, layer: str = "relu5_4", criterion: str = "mse") -> None:
        super().__init__()
        if not weights:
            raise PerceptualError(
                "the 'perceptual' loss term needs VGG19 weights: set perceptual.weights to a file in "
                "torchvision's layout (features.<i>.weight), e.g. torchvision's vgg19-dcbb9e9d.pth"
            )
        if criterion not in ("mse", "l1"):
            raise PerceptualError(f"perceptual.criterion {criterion!r}: expected mse or l1")
        upto = layer_index(layer)
        self.features = vgg19_features(upto)
        try:
            sd, _ = read_checkpoint(weights)
        except CheckpointError as e:
            raise PerceptualError(f"perceptual.weights: {e}") from e
        wanted = {k[len("features.") :]: v for k, v in sd.items() if k.startswith("features.")}
        wanted = {k: v for k, v in wanted.items() if int(k.split(".")[0]) <= upto}
        try:
            load_state(self.features, wanted, f"perceptual.weights {weights} (VGG19 up to {layer})")
        except CheckpointError as e:
            raise PerceptualError(str(e)) from e
        self.features.requires_grad_(False).eval()
        self.register_buffer(
            "mean", torch.tensor(IMAGENET_MEAN, dtype=torch.float64).view(1, 3, 1, 1), persistent=False
        )
        self.register_buffer("std", torch.tensor(IMAGENET_STD, dtype=torch.float64).view(1, 3, 1, 1), persistent=False)
        self.distance = F.mse_loss if criterion == "mse" else F.l1_loss

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return self.features((x - self.mean.to(x.dtype)) / self.std.to(x.dtype))

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            target = self.embed(hr)
        return self.distance(self.embed(sr), target)
