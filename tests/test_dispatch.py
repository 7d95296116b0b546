"""Backend dispatch: defaults by device, forcing, honest availability, logged fallback, recording."""

from __future__ import annotations

import importlib
import logging
import subprocess
import sys

import pytest
import torch
from torch.fx.experimental.proxy_tensor import make_fx

from srkit import ops
from srkit.ops import dispatch


def test_extension_is_built() -> None:
    ext = dispatch.extension()
    assert ext is not None, dispatch._extension()[1]
    assert isinstance(ext.built_with_cuda(), bool) and ext.openmp_threads() >= 1


def test_the_extension_loads_with_the_ops_not_in_a_first_image() -> None:
    # a fresh interpreter: a model built from the zoo has srkit._C before any op runs
    code = "import sys; from srkit.models import create_model; create_model('espcn'); print('srkit._C' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"


def test_cpu_default_is_the_cpp_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SRKIT_BACKEND", raising=False)
    ops.pixel_shuffle(torch.zeros(1, 4, 2, 2), 2)
    call = ops.last_call("pixel_shuffle")
    assert call is not None and call.backend == "cpp" and call.fallback_from is None and call.device == "cpu"


def test_an_op_may_order_its_backends_by_measurement(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SRKIT_BACKEND", raising=False)
    assert dispatch.default_order("conv_epilogue", "cpu") == ("torch", "cpp")  # oneDNN's conv wins on the CPU
    assert dispatch.default_order("pixel_shuffle", "cpu") == dispatch.DEFAULT_ORDER["cpu"]
    x = torch.randn(1, 2, 3, 3)
    ops.conv_epilogue(x, torch.randn(2, 2, 3, 3))
    call = ops.last_call("conv_epilogue")
    assert call is not None and call.backend == "torch" and call.fallback_from is None  # a choice, not a fallback
    monkeypatch.setenv("SRKIT_BACKEND", "cpp")
    ops.conv_epilogue(x, torch.randn(2, 2, 3, 3))
    assert ops.last_backend("conv_epilogue") == "cpp"
    with pytest.raises(ValueError, match=r"unknown backends \['opengl'\]"):
        dispatch.register("made_up", {"torch": print}, order={"cpu": ("opengl",)})


def test_env_variable_and_context_manager_force_a_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SRKIT_BACKEND", "torch")
    ops.pixel_shuffle(torch.zeros(1, 4, 2, 2), 2)
    assert ops.last_backend("pixel_shuffle") == "torch"
    with ops.use_backend("triton"):  # the context manager wins over the environment
        ops.pixel_shuffle(torch.zeros(1, 4, 2, 2), 2)
    assert ops.last_backend("pixel_shuffle") == "triton"
    monkeypatch.setenv("SRKIT_BACKEND", "tpu")
    with pytest.raises(ValueError, match="SRKIT_BACKEND='tpu' is not a backend"):
        ops.pixel_shuffle(torch.zeros(1, 4, 2, 2), 2)


def test_unavailable_backend_falls_back_loudly(caplog: pytest.LogCaptureFixture) -> None:
    x = torch.rand(1, 3, 8, 8)
    with caplog.at_level(logging.WARNING, logger="srkit.ops"), ops.trace() as calls, ops.use_backend("cuda"):
        ops.psnr(x, x, 255.0, 255.0, False, False, 0)
    assert calls == [ops.last_call("psnr")]
    call = calls[0]
    assert call.backend == "cpp" and call.fallback_from == "cuda" and "CUDA tensors only" in (call.reason or "")
    assert any("backend 'cuda' cannot run" in r.message for r in caplog.records)


def test_strict_mode_raises_instead_of_falling_back() -> None:
    with (
        ops.use_backend("cuda", strict=True),
        pytest.raises(ops.BackendUnavailable, match="cuda backend runs CUDA tensors only"),
    ):
        ops.pixel_shuffle(torch.zeros(1, 4, 2, 2), 2)


def test_unknown_backend_is_named() -> None:
    with pytest.raises(ValueError, match="unknown srkit backend 'fast'"):
        with ops.use_backend("fast"):
            pass


def test_probes_are_honest() -> None:
    assert dispatch.unavailable_reason("torch", "cpu") == ""
    assert dispatch.unavailable_reason("cpp", "cpu") == ""
    assert "CPU tensors only" in dispatch.unavailable_reason("cpp", "cuda")
    # the Triton probe launched a kernel and checked its result (interpreter on, in the tests)
    assert dispatch.unavailable_reason("triton", "cpu") == ""
    if not torch.cuda.is_available():
        assert dispatch.unavailable_reason("cuda", "cuda") != ""
        assert dispatch.unavailable_reason("triton", "cuda") != ""
    assert set(dispatch.available_backends("cpu")) == {"triton", "cpp", "torch"}


def test_triton_probe_refuses_cpu_without_the_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    dispatch._probe_triton.cache_clear()
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    try:
        assert "interpreter mode" in dispatch.unavailable_reason("triton", "cpu")
    finally:
        monkeypatch.setenv("TRITON_INTERPRET", "1")
        dispatch._probe_triton.cache_clear()


def test_the_probe_kernel_belongs_to_no_op_and_a_wrong_answer_disables_triton(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from srkit.kernels import helpers

    x = torch.randn(41)
    out = torch.full_like(x, float("nan"))  # poisoned: every element must be written
    helpers.probe(x, out)
    assert torch.equal(out, x * 2 + 1)
    dispatch._probe_triton.cache_clear()
    monkeypatch.setattr(helpers, "probe", lambda x, out: out.zero_())
    try:
        assert "wrong result" in dispatch.unavailable_reason("triton", "cpu")
    finally:
        monkeypatch.undo()
        dispatch._probe_triton.cache_clear()
    assert dispatch.unavailable_reason("triton", "cpu") == ""


def test_registry_names_unknown_ops_and_backends() -> None:
    assert set(ops.implementations("pixel_shuffle")) == {"triton", "cuda", "cpp", "torch"}
    assert "wide_pointwise" in dispatch.registered_ops()
    with pytest.raises(ValueError, match="unknown op 'pixel_shufle'"):
        ops.implementations("pixel_shufle")
    with pytest.raises(ValueError, match=r"unknown backends \['opencl'\]"):
        dispatch.register("made_up", {"opencl": print})


def test_the_shared_part_of_a_plan_is_made_once_and_the_argument_check_every_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SRKIT_BACKEND", raising=False)
    impls = dispatch.implementations("pixel_shuffle")
    dispatch.plan("pixel_shuffle", "cpu", impls)
    before = dispatch._candidates.cache_info()
    asked: list[str] = []

    def refuse_cpp(b: str) -> str:
        asked.append(b)
        return "this call's shape" if b == "cpp" else ""

    for _ in range(3):
        assert dispatch.plan("pixel_shuffle", "cpu", impls) == ("cpp", None, None)
        backend, fell_from, why = dispatch.plan("pixel_shuffle", "cpu", impls, refuse_cpp)
        assert (fell_from, why) == ("cpp", "this call's shape") and backend != "cpp"
    after = dispatch._candidates.cache_info()
    assert after.hits - before.hits == 6 and after.misses == before.misses
    assert asked.count("cpp") == 3  # the per-call check is never cached
    with dispatch.use_backend("torch"):
        assert dispatch.plan("pixel_shuffle", "cpu", impls)[0] == "torch"  # forcing is part of the key


def test_a_torch_backend_choice_runs_inline_without_the_custom_op(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the dispatcher would run an op's PyTorch reference anyway (WDSR-B's pointwise pair and
    the conv epilogue on a CPU) and no gradient is needed, the op calls it inline: no output buffer,
    no copy, no custom-op boundary, so a srkit block costs what the plain modules do; the call is
    still recorded as the torch backend's."""
    monkeypatch.delenv("SRKIT_BACKEND", raising=False)
    x = torch.randn(1, 8, 5, 7)
    w1, b1, w2, b2 = torch.randn(24, 8), torch.randn(24), torch.randn(8, 24), torch.randn(8)
    module = importlib.import_module("srkit.ops.wide_pointwise")
    custom, seen = module._wide_pointwise_op, []
    monkeypatch.setattr(module, "_wide_pointwise_op", lambda *a: seen.append("custom") or custom(*a))
    with torch.inference_mode(), dispatch.trace() as calls:
        y = ops.wide_pointwise(x, w1, b1, w2, b2)
    assert [c.backend for c in calls] == ["torch"] and ops.last_backend("wide_pointwise") == "torch" and not seen
    with torch.inference_mode():
        assert torch.allclose(y, custom(x, w1, b1, w2, b2), atol=1e-5)  # the same result as through the op
    # training on the CPU: plain autograd of the reference (test_cpu_training_runs_plain_autograd...)
    xg = x.clone().requires_grad_()
    with dispatch.trace() as calls:
        ops.wide_pointwise(xg, w1, b1, w2, b2).sum().backward()
    assert [(c.op, c.backend) for c in calls] == [("wide_pointwise", "torch")] and not seen
    # forced, training keeps the custom op (its backward recomputes the wide activation instead of storing it)
    with dispatch.use_backend("torch"), dispatch.trace() as calls:
        ops.wide_pointwise(xg, w1, b1, w2, b2).sum().backward()
    assert [c.op for c in calls] == ["wide_pointwise", "wide_pointwise_backward"] and seen == ["custom"]
    # a backend other than torch first: the custom op as before
    with dispatch.use_backend("cpp"), dispatch.trace() as calls:
        ops.wide_pointwise(x, w1, b1, w2, b2)
    assert calls[0].backend == "cpp" and seen == ["custom", "custom"]


def test_an_inference_call_runs_the_op_body_and_never_imports_torch_compiler() -> None:
    """A custom op's first call imports torch's compiler (2-3 s on 2 CPU cores, a small network's
    whole first image); a call that needs nothing of the op's boundary runs its body directly: the
    same backend and the same bits, and the compiler never imported."""
    code = (
        "import sys, torch\nfrom srkit import ops\n"
        "x = torch.rand(2, 12, 5, 7)\n"
        "with torch.inference_mode():\n"
        "    y = ops.pixel_shuffle(x, 2)\n"
        "same = torch.equal(y, torch.nn.functional.pixel_shuffle(x, 2))\n"
        "print('torch._dynamo' in sys.modules, same, ops.last_backend('pixel_shuffle'))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    imported, same, backend = p.stdout.split()
    assert imported == "False" and same == "True" and backend in ("cpp", "torch", "triton")


def test_a_call_that_needs_the_op_boundary_goes_through_it(monkeypatch: pytest.MonkeyPatch) -> None:
    module = importlib.import_module("srkit.ops.pixel_shuffle")
    op, seen = module._pixel_shuffle_op, []
    body = dispatch._bodies[op]
    monkeypatch.setitem(dispatch._bodies, op, lambda *a: seen.append("body") or body(*a))
    x = torch.rand(1, 8, 3, 5)
    ops.pixel_shuffle(x, 2)  # no gradient needed: the body
    assert seen == ["body"]
    xg = x.clone().requires_grad_()
    with dispatch.use_backend("cpp"):  # forced (unforced CPU training runs plain autograd)
        ops.pixel_shuffle(xg, 2).sum().backward()  # autograd needs the op (its backward is registered there)
    assert seen == ["body"] and torch.equal(xg.grad, torch.ones_like(x))
    traced = make_fx(lambda t: ops.pixel_shuffle(t, 2))(x)
    assert seen == ["body"] and "srkit.pixel_shuffle" in str(traced.graph)  # a trace records the op, not its body


def test_a_module_s_parameters_in_inference_take_the_direct_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """A block's weights are nn.Parameters (requires_grad): in inference they need no custom op."""
    module = importlib.import_module("srkit.ops.attention_scale")
    op, seen = module._attention_scale_op, []
    body = dispatch._bodies[op]
    monkeypatch.setitem(dispatch._bodies, op, lambda *a: seen.append("body") or body(*a))
    x, mean, std = torch.rand(2, 6, 4, 5), torch.rand(2, 6), torch.rand(2, 6)
    w = [torch.nn.Parameter(torch.randn(*s)) for s in ((3, 6), (3,), (6, 3), (6,))]
    with torch.inference_mode():
        y = ops.attention_scale(x, mean, std, *w)
    assert seen == ["body"]
    with dispatch.use_backend("cpp"):  # forced (unforced CPU training runs plain autograd)
        y2 = ops.attention_scale(x, mean, std, *w)  # gradients wanted for the weights: through the op
    assert seen == ["body"] and y2.requires_grad and torch.allclose(y, y2.detach())


MODEL_OPS = ("pixel_shuffle", "channel_stats", "attention_scale", "upsample_tail")


def test_cpu_training_runs_plain_autograd_unless_a_backend_is_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where autograd records on the CPU, srkit's ops run their reference inline, as the plain modules
    would (the custom ops' boundary and backward cost a training step up to 1.3x there): no custom op
    is entered, every call is recorded as torch's, and the gradients are the op's own. A forced
    backend goes through the op, as before."""
    monkeypatch.delenv("SRKIT_BACKEND", raising=False)
    entered: list[str] = []
    for name in ("pixel_shuffle", "upsample_tail", "channel_stats", "attention_scale", "channel_scale"):
        module = importlib.import_module(f"srkit.ops.{name}")
        op = getattr(module, f"_{name}_op")
        monkeypatch.setattr(module, f"_{name}_op", lambda *a, _op=op, _n=name: entered.append(_n) or _op(*a))
    x = torch.randn(2, 12, 5, 7, requires_grad=True)
    w = [torch.randn(*s, requires_grad=True) for s in ((3, 12), (3,), (12, 3), (12,))]

    def net() -> torch.Tensor:
        mean, std = ops.channel_stats(x)
        y = ops.attention_scale(x, mean, std, *w)
        return ops.upsample_tail(y, 2, None, None).sum() + ops.pixel_shuffle(y, 2).square().sum()

    with dispatch.trace() as calls:
        net().backward()
    plain = [x.grad.clone(), *(t.grad.clone() for t in w)]
    assert not entered and {(c.op, c.backend) for c in calls} == {(op, "torch") for op in MODEL_OPS}
    for t in (x, *w):
        t.grad = None
    with dispatch.use_backend("cpp"), dispatch.trace() as calls:
        net().backward()
    assert set(MODEL_OPS) <= set(entered) and {c.backend for c in calls} == {"cpp"}  # (and their backwards)
    for got, want in zip([x.grad, *(t.grad for t in w)], plain, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    for t in (x, *w):
        t.grad = None
    with ops.through_ops(), dispatch.trace() as calls:  # asked for: the ops' own path, unforced backends
        net().backward()
    assert {(c.op, c.backend) for c in calls} >= {(op, "cpp") for op in MODEL_OPS}
    with torch.no_grad(), dispatch.trace() as calls:  # no gradient: the CPU's choice, as before
        ops.pixel_shuffle(x, 2)
    assert [c.backend for c in calls] == ["cpp"]
