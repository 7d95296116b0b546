"""WDSR's wide-activation residual blocks A and B."""

from __future__ import annotations

from typing import TypeVar

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm as _weight_norm

from .. import ops


class WideActBlockB(nn.Module):
    """``x + res_scale * conv_k(conv1x1(relu(conv1x1(x))))`` (WDSR-B).

    The first 1x1 widens ``channels`` to ``channels * expansion``, the second narrows to
    ``int(channels * low_rank)``, and a k x k convolution returns to ``channels``. The 1x1 pair runs
    as :func:`srkit.ops.wide_pointwise`, whose Triton kernel keeps the wide activation in registers
    and whose backward recomputes it, so training stores only the block's input and the narrow
    activation; the k x k conv, ``res_scale`` and the residual add run as one
    :func:`srkit.ops.conv_epilogue`. With ``weight_norm`` (WDSR's training setup) the weights are parametrised;
    :meth:`fold_weight_norm` turns them into plain weights for inference.
    """

    def __init__(
        self,
        channels: int,
        expansion: int = 6,
        low_rank: float = 0.8,
        res_scale: float = 1.0,
        kernel_size: int = 3,
        weight_norm: bool = True,
    ) -> None:
        super().__init__()
        narrow = int(channels * low_rank)
        if channels < 1 or expansion < 1 or narrow < 1 or kernel_size % 2 == 0:
            raise ValueError(
                f"WideActBlockB: channels={channels}, expansion={expansion}, low_rank={low_rank}, "
                f"kernel_size={kernel_size} do not make a block (need >= 1 narrow channel and an odd kernel)"
            )
        self.res_scale = res_scale
        self.expand = nn.Conv2d(channels, channels * expansion, 1)
        self.reduce = nn.Conv2d(channels * expansion, narrow, 1)
        self.conv = nn.Conv2d(narrow, channels, kernel_size, padding=kernel_size // 2)
        if weight_norm:
            for m in (self.expand, self.reduce, self.conv):
                _weight_norm(m)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = ops.wide_pointwise(x, self.expand.weight, self.expand.bias, self.reduce.weight, self.reduce.bias)
        return ops.conv_epilogue(y, self.conv.weight, self.conv.bias, residual=x, res_scale=self.res_scale)

    def fold_weight_norm(self) -> WideActBlockB:
        """Replace the weight-norm parametrisation by the plain weights it produces (for inference)."""
        return fold_weight_norm(self)


class WideActBlockA(nn.Module):
    """``x + res_scale * conv_k(relu(conv_k(x)))`` (WDSR-A), the first conv widening ``channels`` to
    ``channels * expansion``.

    Runs as two :func:`srkit.ops.conv_epilogue` calls: the widening conv with bias and ReLU fused,
    the narrowing conv with ``res_scale`` and the residual add fused (implicit GEMMs on tensor cores
    through Triton on a GPU). ``fused=True`` runs the whole block as one
    :func:`srkit.ops.wdsr_a_fused` kernel with halo recomputation instead (the wide activation
    never reaches memory, at the cost of recomputing the halo); which is faster is a GPU
    measurement (``srkit-bench ops --only wdsr_a wdsr_a_fused``). Weight norm as in
    :class:`WideActBlockB`.
    """

    def __init__(
        self,
        channels: int,
        expansion: int = 4,
        res_scale: float = 1.0,
        kernel_size: int = 3,
        weight_norm: bool = True,
        fused: bool = False,
    ) -> None:
        super().__init__()
        self.fused = fused
        if channels < 1 or expansion < 1 or kernel_size % 2 == 0:
            raise ValueError(
                f"WideActBlockA: channels={channels}, expansion={expansion}, kernel_size={kernel_size} "
                "do not make a block (need channels, expansion >= 1 and an odd kernel)"
            )
        self.res_scale = res_scale
        self.expand = nn.Conv2d(channels, channels * expansion, kernel_size, padding=kernel_size // 2)
        self.conv = nn.Conv2d(channels * expansion, channels, kernel_size, padding=kernel_size // 2)
        if weight_norm:
            for m in (self.expand, self.conv):
                _weight_norm(m)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fused:
            return ops.wdsr_a_fused(
                x, self.expand.weight, self.expand.bias, self.conv.weight, self.conv.bias, self.res_scale
            )
        h = ops.conv_epilogue(x, self.expand.weight, self.expand.bias, relu=True)
        return ops.conv_epilogue(h, self.conv.weight, self.conv.bias, residual=x, res_scale=self.res_scale)

    def fold_weight_norm(self) -> WideActBlockA:
        """Replace the weight-norm parametrisation by the plain weights it produces (for inference)."""
        return fold_weight_norm(self)


M = TypeVar("M", bound=nn.Module)


def apply_weight_norm(module: M) -> M:
    """Weight-normalise (``torch.nn.utils.parametrizations.weight_norm``) every convolution in
    ``module`` that is not already, in place; returns ``module``. WDSR's training setup for any network."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d) and not parametrize.is_parametrized(m, "weight"):
            _weight_norm(m)
    return module


def fold_weight_norm(module: M) -> M:
    """Replace every weight-norm (any ``weight``) parametrisation in ``module`` and its children by
    the plain weight it produces, in place, for inference; returns ``module``."""
    for m in module.modules():
        if parametrize.is_parametrized(m, "weight"):
            # a deep copy shares the generated Parametrized* class with its original, and removing the
            # parametrisation deletes the property from that class: give this module a class of its own
            cls = type(m)
            m.__class__ = type(cls.__name__, cls.__bases__, dict(cls.__dict__))
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
    return module
