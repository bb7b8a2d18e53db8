"""The LSTM's equations live once, in `snippets.cells.lstm_step`: `snippets.candidate` and
`snippets.lstm_paths` call it with a candidate function and a recurrent product that stops the
gradient. The pages' numbers did not move when they stopped writing the cell again: below, the
three steps as they were written before (frozen here, the oracle) against what runs now, bit for
bit, outputs and gradients, in float32 and float64. The twins that remain (written again for
speed) are held equal elsewhere: `test_fast_paths.py` (bptt, compiled), `test_ensemble.py`
(batched members), `test_gate_lab_browser.py` (JavaScript); the benchmark's naive loops here.
"""

import pytest
import torch
import torch.nn.functional as F

from snippets import LSTM, LSTMCell, lstm_paths, lstm_step
from snippets.candidate import cell_state_growth
from snippets.experiments.layer_timing import NaiveGRU, NaiveLSTM

DTYPES = [torch.float32, torch.float64]


# -- the steps as they were written before (commit fead8b4) ---------------------------------------


def old_lstm_step(xw, h, c, weight_hh, bias_hh, weight_hr=None, clamp=None):
    i, f, g, o = (xw + F.linear(h, weight_hh, bias_hh)).chunk(4, dim=-1)
    i = torch.sigmoid(i)
    f = torch.sigmoid(f)
    g = torch.tanh(g)
    o = torch.sigmoid(o)
    if clamp is not None:
        i, f, g, o = clamp("i", i), clamp("f", f), clamp("g", g), clamp("o", o)
    c = f * c + i * g
    h = o * torch.tanh(c)
    if weight_hr is not None:
        h = F.linear(h, weight_hr)
    return (h, c), (i, f, g, o)


def old_lstm_step_with_candidate(xw, h, c, weight_hh, bias_hh, candidate=torch.tanh):
    i, f, g, o = (xw + F.linear(h, weight_hh, bias_hh)).chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), candidate(g), torch.sigmoid(o)
    c = f * c + i * g
    h = o * torch.tanh(c)
    return (h, c), (i, f, g, o)


def old_lstm_step_cut(xw, h, c, weight_hh, bias_hh, cut=""):
    biases = bias_hh.chunk(4) if bias_hh is not None else (None,) * 4
    recurrent = [
        F.linear(h.detach() if gate in cut else h, weight, bias)
        for gate, weight, bias in zip("ifgo", weight_hh.chunk(4), biases)
    ]
    i, f, g, o = (xw + torch.cat(recurrent, dim=-1)).chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c = f * c + i * g
    h = o * torch.tanh(c)
    return (h, c), (i, f, g, o)


# -- bit for bit ----------------------------------------------------------------------------------


def identical(new: list, old: list) -> None:
    """Each pair the same tensor bit for bit, or both None (a gradient that no path reaches)."""
    assert len(new) == len(old)
    for k, (a, b) in enumerate(zip(new, old)):
        if a is None or b is None:
            assert a is None and b is None, f"tensor {k}: {a} against {b}"
        else:
            assert a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b), f"tensor {k} differs"


def unrolled(step, dtype, seed, hidden=16, batch=8, steps=8, bias=True, **kwargs) -> list:
    """Outputs, final state and the gradients of every input of `step` unrolled over `steps` steps."""
    g = torch.Generator().manual_seed(seed)
    new = lambda *shape: (torch.randn(*shape, generator=g, dtype=dtype) * 0.7).requires_grad_()  # noqa: E731
    xw, h0, c0 = new(steps, batch, 4 * hidden), new(batch, hidden), new(batch, hidden)
    weight_hh, bias_hh = new(4 * hidden, hidden), new(4 * hidden) if bias else None
    h, c, outputs = h0, c0, []
    for xw_t in xw.unbind(0):
        (h, c), gates = step(xw_t, h, c, weight_hh, bias_hh, **kwargs)
        outputs += [h, c, *gates]
    loss = sum((out * torch.linspace(-1, 1, out.shape[-1], dtype=dtype)).sum() for out in outputs)
    inputs = [xw, h0, c0, weight_hh] + ([bias_hh] if bias else [])
    return [out.detach() for out in outputs] + list(torch.autograd.grad(loss, inputs, allow_unused=True))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
def test_the_default_step_is_the_old_step(dtype, bias):
    for seed in range(2):
        identical(unrolled(lstm_step, dtype, seed, bias=bias), unrolled(old_lstm_step, dtype, seed, bias=bias))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cut", ["", "g", "i", "ifgo"])
def test_the_cut_step_is_the_old_cut_step(dtype, cut):
    """`cut=""` included: its products stay block by block, as the pages' "all paths" curves were computed."""
    for seed in range(2):
        identical(
            unrolled(lstm_paths.lstm_step_cut, dtype, seed, cut=cut), unrolled(old_lstm_step_cut, dtype, seed, cut=cut)
        )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("candidate", [torch.tanh, torch.relu], ids=["tanh", "relu"])
def test_the_candidate_step_is_the_old_candidate_step(dtype, candidate):
    for seed in range(2):
        new = unrolled(lstm_step, dtype, seed, candidate=candidate)
        identical(new, unrolled(old_lstm_step_with_candidate, dtype, seed, candidate=candidate))


def test_cell_state_growth_runs_the_old_candidate_step(monkeypatch):
    """The measurement the page shows, with the old step swapped in: the same numbers."""
    runs = [cell_state_growth(name, input_scale=8.0, steps=20, hidden_size=16, seed=2) for name in ("tanh", "relu")]
    with_candidate = lambda *args, candidate: old_lstm_step_with_candidate(*args, candidate)  # noqa: E731
    monkeypatch.setattr("snippets.candidate.lstm_step", with_candidate)
    assert runs == [
        cell_state_growth(name, input_scale=8.0, steps=20, hidden_size=16, seed=2) for name in ("tanh", "relu")
    ]


class OldLSTM(LSTM):
    step = staticmethod(old_lstm_step)


CONFIGS = {
    "plain": (dict(input_size=5, hidden_size=16), (10, 8, 5), {}),
    "deep": (dict(input_size=3, hidden_size=16, num_layers=2, bidirectional=True, batch_first=True), (4, 7, 3), {}),
    "projection": (dict(input_size=4, hidden_size=12, proj_size=5), (9, 3, 4), {}),
    "unbatched, no bias": (dict(input_size=4, hidden_size=7, bias=False), (6, 4), {}),
    "traces and a clamp": (
        dict(input_size=2, hidden_size=16),
        (12, 8, 2),
        dict(return_gates=True, clamp=[{"gate": "f", "unit": 3, "from": 5, "to": 10, "value": 1.0}]),
    ),
}


def module_results(cls, dtype, kwargs, shape, forward) -> list:
    torch.manual_seed(0)
    module = cls(**kwargs).to(dtype)
    x = torch.randn(*shape, dtype=dtype, requires_grad=True)
    output, (h, c), *traces = module(x, **forward)
    loss = output.square().sum() + h.sin().sum() + c.cos().sum()
    values = [v for trace in traces for v in trace.values()]
    loss = loss + sum(v.sum() for v in values)
    return [output.detach(), h.detach(), c.detach(), *(v.detach() for v in values)] + list(
        torch.autograd.grad(loss, [x, *module.parameters()])
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", CONFIGS, ids=list(CONFIGS))
def test_the_lstm_module_computes_what_it_computed_with_the_old_step(dtype, config):
    kwargs, shape, forward = CONFIGS[config]
    identical(
        module_results(LSTM, dtype, kwargs, shape, forward), module_results(OldLSTM, dtype, kwargs, shape, forward)
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_lstm_cell_computes_what_it_computed_with_the_old_step(dtype):
    torch.manual_seed(1)
    cell = LSTMCell(5, 9).to(dtype)
    x, h, c = (torch.randn(3, n, dtype=dtype, requires_grad=True) for n in (5, 9, 9))
    h1, c1 = cell(x, (h, c))
    xw = F.linear(x, cell.weight_ih, cell.bias_ih)
    (h2, c2), _ = old_lstm_step(xw, h, c, cell.weight_hh, cell.bias_hh)
    grads = [
        torch.autograd.grad(a.sum() + b.square().sum(), [x, h, c, *cell.parameters()]) for a, b in ((h1, c1), (h2, c2))
    ]
    identical([h1.detach(), c1.detach(), *grads[0]], [h2.detach(), c2.detach(), *grads[1]])


# -- the benchmark's baseline ---------------------------------------------------------------------


@pytest.mark.parametrize("naive, mode", [(NaiveLSTM, "LSTM"), (NaiveGRU, "GRU")], ids=["LSTM", "GRU"])
def test_the_naive_loops_the_benchmark_times_compute_what_torch_nn_computes(naive, mode):
    """They are the textbook's loop, one product per gate, timed as a baseline: still the same cell."""
    torch.manual_seed(0)
    theirs = getattr(torch.nn, mode)(3, 6).double()
    x = torch.randn(7, 2, 3, dtype=torch.float64)
    torch.testing.assert_close(naive(theirs)(x), theirs(x)[0], rtol=0, atol=1e-12)
