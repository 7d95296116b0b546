"""``srkit.ops.plain_torch``: the baseline mode of srkit-bench runs every op as inline PyTorch.

It must compute what the dispatched ops compute (else the baselines time another network), call
no srkit backend, and leave nothing opaque to torch.compile.
"""

from __future__ import annotations

import pytest
import torch

from srkit import metrics, ops
from srkit.models import create_model
from srkit.ops import dispatch


def _model_inputs() -> list[tuple[str, torch.nn.Module, torch.Tensor]]:
    torch.manual_seed(0)
    out = []
    for name, kw in [
        ("imdn", {"blocks": 2, "channels": 32}),
        ("wdsr_b", {"blocks": 2}),
        ("wdsr_a", {"blocks": 1}),
        ("span", {}),
        (
            "blocknet",
            {"channels": 16, "blocks": [{"type": "wdsr_b", "attention": "cca"}, {"type": "imdb", "attention": "cca"}]},
        ),
    ]:
        m = create_model(name, scale=3, **kw).eval()
        out.append((name, m, torch.rand(2, 3, 9, 13)))
    return out


@pytest.mark.parametrize(("name", "model", "x"), _model_inputs(), ids=lambda v: v if isinstance(v, str) else "")
def test_models_compute_the_same_in_plain_torch_without_srkit_ops(
    name: str, model: torch.nn.Module, x: torch.Tensor
) -> None:
    model = model.double()
    x = x.double()
    with torch.no_grad():
        with dispatch.trace() as calls:
            want = model(x)
        assert calls, f"{name} calls srkit ops when dispatched"
        with dispatch.trace() as calls, ops.plain_torch():
            got = model(x)
    assert not calls, f"plain_torch still dispatched {[c.op for c in calls]}"
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)
    assert not dispatch.inline()  # the mode ends with the block


def test_metrics_compute_the_same_in_plain_torch() -> None:
    g = torch.Generator().manual_seed(3)
    a = torch.randint(0, 256, (2, 3, 23, 17), dtype=torch.uint8, generator=g)
    b = torch.randint(0, 256, (2, 3, 23, 17), dtype=torch.uint8, generator=g)
    want = metrics.psnr_ssim(a, b, y_only=True, shave=2)
    with dispatch.trace() as calls, ops.plain_torch():
        got = metrics.psnr_ssim(a, b, y_only=True, shave=2)
        p, s = metrics.psnr(a, b, y_only=True, shave=2), metrics.ssim(a, b, y_only=True, shave=2)
    assert not calls
    for w, g_ in ((want[0], got[0]), (want[1], got[1]), (want[0], p), (want[1], s)):
        torch.testing.assert_close(g_, w, rtol=1e-12, atol=1e-12)


def test_compile_sees_through_every_op_in_plain_torch() -> None:
    m = create_model("blocknet", scale=2, channels=16, blocks=[{"type": "wdsr_b", "attention": "cca"}]).eval()
    from srkit.nn import UpsampleTail

    tail = UpsampleTail(2, mean=[0.1, 0.2, 0.3], clamp=(0, 1))
    graphs: list[torch.fx.GraphModule] = []

    def record(gm: torch.fx.GraphModule, example_inputs: object) -> object:
        graphs.append(gm)
        return gm.forward

    def f(x: torch.Tensor) -> torch.Tensor:
        y = m(x)
        return tail(torch.cat([y] * 4, dim=1), skip=None)

    x = torch.rand(1, 3, 8, 8)
    torch._dynamo.reset()
    with torch.no_grad(), ops.plain_torch():
        torch.compile(f, backend=record, fullgraph=True)(x)
    targets = {str(n.target) for gm in graphs for n in gm.graph.nodes if n.op == "call_function"}
    assert graphs and not [t for t in targets if "srkit" in t], targets
    graphs.clear()
    torch._dynamo.reset()
    with torch.no_grad():
        torch.compile(f, backend=record, fullgraph=True)(x)
    targets = {str(n.target) for gm in graphs for n in gm.graph.nodes if n.op == "call_function"}
    assert [t for t in targets if "srkit" in t]  # dispatched, the ops are custom ops in the graph
