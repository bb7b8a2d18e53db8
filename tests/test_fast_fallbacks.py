"""Nothing silent on the fast paths: where a twin cannot do what the default path does, the step
functions run (and give exactly what they give without the switch) or a clear error says why.

The cases come from a reliability probe (issue 20): a gradient penalty and a Hessian term
(`create_graph=True`), gate traces in a loss, an empty batch in float32, `torch.jit.trace`, and
beyond it `vmap`, `torch.func.grad`, forward-mode AD, `torch.autocast` and batched gradients; and
the switch itself, which holds in one thread only. `test_fast_paths.py` holds the twin equal to the
step functions where it is taken.
"""

import contextlib
import threading

import pytest
import torch
import torch.autograd.forward_ad as fwAD
from torch import nn
from torch.func import functional_call

import snippets
from snippets import fast
from snippets.fast import bptt

T, B, INPUT, HIDDEN = 5, 3, 3, 4
MODES = ["LSTM", "GRU"]
PATHS = ["bptt", "compiled"]  # every case below falls back or raises before anything is compiled


@pytest.fixture
def twin_calls(monkeypatch) -> list[str]:
    """The names of the twins called (bptt.lstm_layer, bptt.gru_layer), in order."""
    calls = []

    def spy(twin):
        def counted(*args, **kwargs):
            calls.append(twin.__name__)
            return twin(*args, **kwargs)

        return counted

    monkeypatch.setattr(bptt, "TWINS", {step: spy(twin) for step, twin in bptt.TWINS.items()})
    return calls


def module_and_input(mode: str, dtype=torch.float64, batch: int = B):
    torch.manual_seed(0)
    module = getattr(snippets, mode)(INPUT, HIDDEN).to(dtype)
    x = torch.randn(T, batch, INPUT, dtype=dtype, generator=torch.Generator().manual_seed(1))
    return module, x


def on(path: str | None):
    return contextlib.nullcontext() if path is None else fast.use(path)


# -- second derivatives: cannot be seen in the forward, so the backward refuses ----------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_gradient_penalty_is_refused_not_silently_dropped(mode):
    """`gx` with create_graph=True: on the default path it carries the penalty's gradient; the
    hand-written backward cannot give one, so it says so instead of returning a constant."""
    module, x = module_and_input(mode)
    x.requires_grad_()
    (gx,) = torch.autograd.grad(module(x)[0].sum(), x, create_graph=True)
    assert gx.requires_grad  # the default path: the penalty has a gradient
    with fast.use("bptt"):
        out = module(x)[0]
        with pytest.raises(fast.FastPathError, match=r"create_graph=True.*outside snippets\.fast\.use"):
            torch.autograd.grad(out.sum(), x, create_graph=True)


@pytest.mark.parametrize("mode", MODES)
def test_a_hessian_term_is_refused_not_none(mode):
    """Asked with allow_unused=True, the hand-written path used to answer None where the default
    path has a value; the forward ran inside the block, the second derivative is asked after it."""
    module, x = module_and_input(mode)
    (gw,) = torch.autograd.grad(module(x)[0].square().sum(), module.weight_hh_l0, create_graph=True)
    (hessian_term,) = torch.autograd.grad(gw.sum(), module.weight_ih_l0, allow_unused=True)
    assert hessian_term is not None and hessian_term.abs().sum() > 0
    with fast.use("bptt"):
        loss = module(x)[0].square().sum()
    with pytest.raises(fast.FastPathError, match="cannot be differentiated"):
        torch.autograd.grad(loss, module.weight_hh_l0, create_graph=True)


@pytest.mark.parametrize("mode", MODES)
def test_batched_gradients_are_refused_clearly(mode):
    """`is_grads_batched=True` runs the backward under vmap, which its in-place loops cannot take."""
    module, x = module_and_input(mode)
    x.requires_grad_()
    basis = torch.eye(HIDDEN, dtype=x.dtype).expand(T, B, HIDDEN, HIDDEN).permute(3, 0, 1, 2)
    expected = torch.autograd.grad(module(x)[0], x, basis, is_grads_batched=True)[0]
    assert expected.shape == (HIDDEN, *x.shape)
    with fast.use("bptt"):
        out = module(x)[0]
        with pytest.raises(fast.FastPathError, match="cannot run under a torch.func transform"):
            torch.autograd.grad(out, x, basis, is_grads_batched=True)


def test_first_order_gradients_stay_on_the_hand_written_path(twin_calls):
    """The refusals above cost nothing to plain training: a first-order backward runs as before."""
    module, x = module_and_input("LSTM")
    with fast.use("bptt"):
        module(x)[0].sum().backward()
    assert twin_calls == ["lstm_layer"] and module.weight_hh_l0.grad.abs().sum() > 0


# -- what the forward can see: the step functions run, and give what they give without the switch ---


def default_and_switched(run, path: str):
    """`run()` without the switch and inside `fast.use(path)`."""
    results = []
    for context in (None, path):
        with on(context):
            results.append(run())
    return results


def assert_identical(a, b):
    """Bit for bit: the call fell back to the very same code."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        a, b = list(a.values()), list(b.values())
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            assert_identical(u, v)
        return
    assert torch.equal(a, b) and a.dtype == b.dtype and a.requires_grad == b.requires_grad


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("mode", MODES)
def test_traces_in_a_loss_get_their_gradient(mode, path, twin_calls):
    """forward's docstring: traces are in the graph. A loss on a gate changes the weights' gradient."""
    module, x = module_and_input(mode)
    gate = module.gates[1]

    def run():
        output, _, traces = module(x, return_gates=True)
        loss = output.sum() + 100 * traces[gate].mean()
        return {k: v.detach() for k, v in traces.items()}, torch.autograd.grad(loss, list(module.parameters()))

    default, switched = default_and_switched(run, path)
    assert_identical(switched, default)
    assert twin_calls == []
    with torch.no_grad(), fast.use(path if path == "bptt" else "bptt"):  # without grad, the twin records
        module(x, return_gates=True)
    assert twin_calls == [f"{mode.lower()}_layer"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("mode", MODES)
def test_jit_trace_runs_the_step_functions(mode, path, twin_calls):
    module, x = module_and_input(mode, torch.float32)

    def run():
        return torch.jit.trace(module, x, check_trace=False)(x)[0]

    default, switched = default_and_switched(run, path)
    assert_identical(switched, default)
    torch.testing.assert_close(switched, module(x)[0].detach())
    assert twin_calls == []


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("mode", MODES)
def test_vmap_and_func_grad_run_the_step_functions(mode, path, twin_calls):
    module, x = module_and_input(mode)
    params = dict(module.named_parameters())
    xs = torch.stack([x, 2 * x])

    def run():
        mapped = torch.vmap(lambda xi: module(xi)[0])(xs)
        grads = torch.func.grad(lambda p: functional_call(module, p, (x,))[0].square().sum())(params)
        return mapped, grads

    default, switched = default_and_switched(run, path)
    assert_identical(switched, default)
    assert twin_calls == []


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("mode", MODES)
def test_forward_mode_ad_runs_the_step_functions(mode, path, twin_calls):
    module, x = module_and_input(mode)

    def run():
        with fwAD.dual_level():
            output = module(fwAD.make_dual(x, torch.ones_like(x)))[0]
            return fwAD.unpack_dual(output).tangent

    default, switched = default_and_switched(run, path)
    assert default.abs().sum() > 0
    assert_identical(switched, default)
    assert twin_calls == []


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("mode", MODES)
def test_autocast_runs_the_step_functions(mode, path, twin_calls):
    """Under autocast the step functions' products run in bfloat16; the oneDNN products would not."""
    module, x = module_and_input(mode, torch.float32)

    def run():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return module(x)[0]

    default, switched = default_and_switched(run, path)
    assert_identical(switched, default)
    assert twin_calls == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_an_empty_batch_runs_on_the_hand_written_path_like_torch_nn(mode, dtype, twin_calls):
    """oneDNN has no primitive for an empty product: `bptt.linear` takes addmm for it."""
    theirs = getattr(nn, mode)(INPUT, HIDDEN).to(dtype)
    ours = getattr(snippets, mode)(INPUT, HIDDEN).to(dtype)
    ours.load_state_dict(theirs.state_dict())
    results = []
    for module, context in ((theirs, None), (ours, "bptt")):
        x = torch.randn(T, 0, INPUT, dtype=dtype, requires_grad=True)
        with on(context):
            output, hidden = module(x)
            states = hidden if isinstance(hidden, tuple) else (hidden,)
            (output.sum() + sum(s.sum() for s in states)).backward()
        results.append([output, *states, x.grad, *(p.grad for p in module.parameters())])
    assert twin_calls == [f"{mode.lower()}_layer"]
    for a, b in zip(*results, strict=True):
        assert a.shape == b.shape
        torch.testing.assert_close(b, a)


# -- the switch holds in one thread ----------------------------------------------------------------


def test_another_thread_does_not_see_the_switch(twin_calls):
    module, x = module_and_input("GRU")
    seen, entered, checked = {}, threading.Event(), threading.Event()

    def other_thread():
        entered.wait(timeout=30)
        seen["path"] = fast.active()
        module(x)  # runs while the main thread is inside fast.use("bptt")
        seen["calls"] = list(twin_calls)
        checked.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with fast.use("bptt"):
        entered.set()
        assert checked.wait(timeout=60)
        assert fast.active() == "bptt"
    worker.join()
    assert seen == {"path": "autograd", "calls": []}


def test_the_switch_nests_and_is_undone_on_error():
    with fast.use("bptt"):
        with pytest.raises(KeyError):
            with fast.use("compiled"):
                assert fast.active() == "compiled"
                raise KeyError("inside")
        assert fast.active() == "bptt"
    assert fast.active() == "autograd"
