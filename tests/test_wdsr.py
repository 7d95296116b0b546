"""WideActBlockA/B: equal the plain PyTorch blocks (forward, backward, compiled, autocast), fold
weight norm, and B stores less for backward."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from srkit import ops
from srkit.nn import WideActBlockA, WideActBlockB


def eager_block(x: torch.Tensor, b: WideActBlockB) -> torch.Tensor:
    """WDSR-B's block as plain PyTorch layers (what the paper's code runs)."""
    y = F.conv2d(F.relu(b.expand(x)), b.reduce.weight, b.reduce.bias)
    return x + b.res_scale * b.conv(y)


@pytest.mark.parametrize("backend_name", ["torch", "triton"])
def test_matches_plain_pytorch_forward_and_backward(backend_name: str) -> None:
    torch.manual_seed(0)
    block = WideActBlockB(8, expansion=6, low_rank=0.8, res_scale=0.5)
    x = torch.randn(2, 8, 9, 11, requires_grad=True)
    with ops.use_backend(backend_name, strict=True):
        y = block(x)
        grads = torch.autograd.grad(y.square().sum(), (x, *block.parameters()))
    want = eager_block(x, block)
    want_grads = torch.autograd.grad(want.square().sum(), (x, *block.parameters()))
    torch.testing.assert_close(y, want, rtol=1e-5, atol=1e-5)
    for a, b in zip(grads, want_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def eager_block_a(x: torch.Tensor, b: WideActBlockA) -> torch.Tensor:
    return x + b.res_scale * b.conv(F.relu(b.expand(x)))


@pytest.mark.parametrize("backend_name", ["torch", "triton", "cpp"])
def test_block_a_matches_plain_pytorch_forward_and_backward(backend_name: str) -> None:
    torch.manual_seed(3)
    block = WideActBlockA(5, expansion=4, res_scale=0.3)
    x = torch.randn(2, 5, 7, 9).to(memory_format=torch.channels_last).requires_grad_()
    with ops.use_backend(backend_name, strict=True), ops.trace() as calls:
        y = block(x)
        grads = torch.autograd.grad(y.square().sum(), (x, *block.parameters()))
    # two convs forward, and their input gradients backward on the same op
    assert [c.op for c in calls] == ["conv_epilogue"] * 4 and {c.backend for c in calls} == {backend_name}
    want = eager_block_a(x, block)
    want_grads = torch.autograd.grad(want.square().sum(), (x, *block.parameters()))
    torch.testing.assert_close(y, want, rtol=1e-5, atol=1e-5)
    for a, b in zip(grads, want_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_blocks_compile_fullgraph_and_run_under_autocast() -> None:
    torch.manual_seed(4)
    for block, eager in (
        (WideActBlockA(8, 2, 0.5, weight_norm=False), eager_block_a),
        (WideActBlockB(8, 4, 0.5, 0.5), eager_block),
    ):
        x = torch.randn(1, 8, 6, 7, requires_grad=True)
        compiled = torch.compile(block, fullgraph=True)
        torch.testing.assert_close(compiled(x), block(x))
        (g1,) = torch.autograd.grad(compiled(x).sum(), x)
        (g2,) = torch.autograd.grad(eager(x, block).sum(), x)
        torch.testing.assert_close(g1, g2, rtol=1e-4, atol=1e-5)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            y = block(x.bfloat16())
        assert y.dtype == torch.bfloat16
        torch.testing.assert_close(y.float(), eager(x, block), rtol=5e-2, atol=5e-2)


def test_fold_weight_norm_keeps_the_function() -> None:
    torch.manual_seed(1)
    block = WideActBlockB(6, expansion=4, low_rank=0.5)
    x = torch.randn(1, 6, 5, 5)
    before = block(x)
    names = {n for n, _ in block.named_parameters()}
    assert any("parametrizations" in n for n in names)
    block.fold_weight_norm()
    assert not any("parametrizations" in n for n, _ in block.named_parameters())
    torch.testing.assert_close(block(x), before)


def test_a_stack_stores_a_fraction_of_eager_activations() -> None:
    """Bytes saved for backward by 4 stacked blocks (C=32, expansion 6, low rank 0.8), srkit vs eager."""
    torch.manual_seed(2)
    blocks = torch.nn.Sequential(*[WideActBlockB(32, weight_norm=False) for _ in range(4)])
    x = torch.randn(2, 32, 24, 24, requires_grad=True)
    params = {p.data_ptr() for p in blocks.parameters()}

    def saved_activation_bytes(fn) -> int:
        seen: dict[int, int] = {}

        def pack(t: torch.Tensor) -> torch.Tensor:
            if t.data_ptr() not in params:  # weights are shared, not activations
                seen[t.data_ptr()] = t.numel() * t.element_size()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            fn()
        return sum(seen.values())

    with ops.use_backend("torch", strict=True):  # srkit's ops (a GPU's path): the CPU's default trains plain
        ours = saved_activation_bytes(lambda: blocks(x))
    eager = saved_activation_bytes(lambda: [y := x] and [y := eager_block(y, b) for b in blocks])
    assert ours <= 0.4 * eager, (ours, eager)
    assert saved_activation_bytes(lambda: blocks(x)) == eager  # unforced on the CPU: what eager stores


def test_bad_configuration_is_named() -> None:
    with pytest.raises(ValueError, match="do not make a block"):
        WideActBlockB(2, low_rank=0.2)
