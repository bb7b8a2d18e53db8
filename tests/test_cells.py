"""snippets.RNNCell/LSTMCell/GRUCell equal torch.nn's cells, and their gradients are right."""

import itertools

import pytest
import torch
from torch import nn

import snippets

TOL = {torch.float64: 1e-10, torch.float32: 1e-5}
INPUT, HIDDEN, BATCH = 3, 5, 4


def cell_options(name):
    for bias in (True, False):
        if name == "RNNCell":
            for nonlinearity in ("tanh", "relu"):
                yield dict(bias=bias, nonlinearity=nonlinearity)
        else:
            yield dict(bias=bias)


CASES = [
    pytest.param(name, options, batched, given, dtype, id=f"{name}-{options}-batched={batched}-hx={given}-{dtype}")
    for name in ("RNNCell", "LSTMCell", "GRUCell")
    for options in cell_options(name)
    for batched, given, dtype in itertools.product((True, False), (True, False), (torch.float64, torch.float32))
]


def make_state(name, batched, dtype, gen):
    lead = (BATCH,) if batched else ()
    new = lambda: torch.randn(*lead, HIDDEN, dtype=dtype, generator=gen, requires_grad=True)  # noqa: E731
    return (new(), new()) if name == "LSTMCell" else (new(),)


@pytest.mark.parametrize("name, options, batched, given, dtype", CASES)
def test_cell_matches_torch(name, options, batched, given, dtype):
    torch.manual_seed(3)
    theirs = getattr(nn, name)(INPUT, HIDDEN, **options).to(dtype)
    torch.manual_seed(3)
    ours = getattr(snippets, name)(INPUT, HIDDEN, **options).to(dtype)
    assert {k: v for k, v in theirs.state_dict().items()}.keys() == ours.state_dict().keys()
    for k, v in theirs.state_dict().items():
        assert torch.equal(v, ours.state_dict()[k]), f"initialisation differs in {k}"

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(*((BATCH,) if batched else ()), INPUT, dtype=dtype, generator=gen, requires_grad=True)
    state = make_state(name, batched, dtype, gen) if given else ()
    results = []
    for module in (theirs, ours):
        hx = None if not given else state if name == "LSTMCell" else state[0]
        out = module(x, hx)
        outs = out if isinstance(out, tuple) else (out,)
        sum((o * torch.arange(o.numel(), dtype=dtype).reshape(o.shape).cos()).sum() for o in outs).backward()
        leaves = [x, *state, *module.parameters()]
        results.append(([o.detach() for o in outs], [t.grad.clone() for t in leaves]))
        for t in leaves:
            t.grad = None
    for a, b in zip(results[0][0] + results[0][1], results[1][0] + results[1][1], strict=True):
        assert a.shape == b.shape
        torch.testing.assert_close(b, a, atol=TOL[dtype], rtol=0)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_gradcheck(name):
    """Analytic gradients of our equations equal finite differences (float64)."""
    torch.manual_seed(0)
    cell = getattr(snippets, name)(INPUT, HIDDEN).double()
    x = torch.randn(BATCH, INPUT, dtype=torch.float64, requires_grad=True)
    h = torch.randn(BATCH, HIDDEN, dtype=torch.float64, requires_grad=True)
    c = torch.randn(BATCH, HIDDEN, dtype=torch.float64, requires_grad=True)
    params = list(cell.parameters())

    def f(x, h, c, *weights):
        functional = dict(zip([n for n, _ in cell.named_parameters()], weights))
        hx = (h, c) if name == "LSTMCell" else h
        return torch.func.functional_call(cell, functional, (x, hx))

    assert torch.autograd.gradcheck(f, (x, h, c, *params))
