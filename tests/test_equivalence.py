"""snippets.RNN/LSTM/GRU equal torch.nn's: outputs, final states and every gradient.

The same weights are loaded into both modules (state_dict both ways), the same input goes in,
and every combination of constructor option and input form is compared in float32 and float64.
"""

import itertools

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

import snippets

TOL = {torch.float64: 1e-10, torch.float32: 1e-5}
T, B, INPUT, HIDDEN = 5, 3, 3, 4
LENGTHS = [5, 2, 4]  # unsorted on purpose: exercises sorted_indices / unsorted_indices


def option_grid(mode: str):
    """Every combination of constructor options for one mode."""
    grid = dict(
        num_layers=[1, 2],
        bias=[True, False],
        batch_first=[False, True],
        dropout=[0.0, 0.5],
        bidirectional=[False, True],
    )
    if mode == "LSTM":
        grid["proj_size"] = [0, 2]
    if mode == "RNN":
        grid["nonlinearity"] = ["tanh", "relu"]
    for values in itertools.product(*grid.values()):
        options = dict(zip(grid, values))
        if options["dropout"] and options["num_layers"] == 1:
            continue  # dropout applies between layers only; torch.nn warns and ignores it
        yield options


INPUT_FORMS = ["batched", "unbatched", "packed", "packed_sorted"]
CASES = [
    pytest.param(
        mode,
        options,
        form,
        given_state,
        dtype,
        id=f"{mode}-{'-'.join(f'{k}={v}' for k, v in options.items())}-{form}-h0={given_state}-{str(dtype)[6:]}",
    )
    for mode in ["RNN", "LSTM", "GRU"]
    for options in option_grid(mode)
    for form in INPUT_FORMS
    for given_state in [False, True]
    for dtype in [torch.float64, torch.float32]
]


def make_pair(mode: str, options: dict, dtype):
    """A torch.nn module and ours with the same weights, loaded from theirs."""
    theirs = getattr(nn, mode)(INPUT, HIDDEN, **options).to(dtype)
    ours = getattr(snippets, mode)(INPUT, HIDDEN, **options).to(dtype)
    ours.load_state_dict(theirs.state_dict())
    return theirs, ours


def make_leaf(form: str, options: dict, dtype, generator):
    """The input tensor to differentiate, laid out as the form and batch_first say."""
    shape = (T,) if form == "unbatched" else (B, T) if options["batch_first"] else (T, B)
    return torch.randn(*shape, INPUT, dtype=dtype, generator=generator, requires_grad=True)


def module_input(leaf, form: str, options: dict):
    """The leaf itself, or a PackedSequence built from it (anew for each module: backward frees it)."""
    if form in ("batched", "unbatched"):
        return leaf
    lengths = sorted(LENGTHS, reverse=True) if form == "packed_sorted" else LENGTHS
    return pack_padded_sequence(
        leaf, torch.tensor(lengths), batch_first=options["batch_first"], enforce_sorted=form == "packed_sorted"
    )


def make_state(mode: str, options: dict, form: str, dtype, generator):
    layers = options["num_layers"] * (2 if options["bidirectional"] else 1)
    lead = (layers,) if form == "unbatched" else (layers, B)
    h_size = options.get("proj_size") or HIDDEN
    h = torch.randn(*lead, h_size, dtype=dtype, generator=generator, requires_grad=True)
    if mode != "LSTM":
        return h, [h]
    c = torch.randn(*lead, HIDDEN, dtype=dtype, generator=generator, requires_grad=True)
    return (h, c), [h, c]


def flat_outputs(output, hidden):
    data = output.data if isinstance(output, PackedSequence) else output
    return [data, *(hidden if isinstance(hidden, tuple) else (hidden,))]


def run(module, x, state, dropout_seed):
    """Forward with a fixed dropout seed, then a random linear function of all outputs to backward."""
    torch.manual_seed(dropout_seed)  # the same dropout masks for both modules
    output, hidden = module(x) if state is None else module(x, state)
    outs = flat_outputs(output, hidden)
    g = torch.Generator().manual_seed(7)
    loss = sum((o * torch.randn(o.shape, dtype=o.dtype, generator=g)).sum() for o in outs)
    return output, outs, loss


def grads(tensors):
    grads = [t.grad.clone() for t in tensors]
    for t in tensors:
        t.grad = None
    return grads


@pytest.mark.parametrize("mode, options, form, given_state, dtype", CASES)
def test_same_outputs_states_and_gradients(mode, options, form, given_state, dtype):
    theirs, ours = make_pair(mode, options, dtype)
    gen = torch.Generator().manual_seed(0)
    leaf = make_leaf(form, options, dtype, gen)
    state, state_leaves = make_state(mode, options, form, dtype, gen) if given_state else (None, [])

    results = {}
    for name, module in [("theirs", theirs), ("ours", ours)]:
        output, outs, loss = run(module, module_input(leaf, form, options), state, dropout_seed=123)
        loss.backward()
        results[name] = dict(
            output=output,
            outs=outs,
            input_grads=grads([leaf, *state_leaves]),
            param_grads={n: p.grad for n, p in module.named_parameters()},
        )

    a, b = results["theirs"], results["ours"]
    assert type(a["output"]) is type(b["output"])
    if isinstance(a["output"], PackedSequence):
        for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
            x, y = getattr(a["output"], field), getattr(b["output"], field)
            assert (x is None and y is None) or torch.equal(x, y)
    tol = TOL[dtype]
    for x, y in zip(a["outs"], b["outs"], strict=True):
        assert x.shape == y.shape and x.dtype == y.dtype
        torch.testing.assert_close(y, x, atol=tol, rtol=0)
    for x, y in zip(a["input_grads"], b["input_grads"], strict=True):
        torch.testing.assert_close(y, x, atol=tol, rtol=0)
    assert a["param_grads"].keys() == b["param_grads"].keys()
    for name in a["param_grads"]:
        torch.testing.assert_close(b["param_grads"][name], a["param_grads"][name], atol=tol, rtol=0, msg=name)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_eval_mode_switches_dropout_off(mode):
    theirs, ours = make_pair(mode, dict(num_layers=3, dropout=0.9), torch.float64)
    theirs.eval(), ours.eval()
    x = torch.randn(T, B, INPUT, dtype=torch.float64)
    torch.testing.assert_close(ours(x)[0], theirs(x)[0], atol=1e-10, rtol=0)
    torch.testing.assert_close(ours(x)[0], ours(x)[0], atol=0, rtol=0)  # no randomness left


@pytest.mark.parametrize(
    "mode, options",
    [
        *[
            (mode, options)
            for mode in ["RNN", "LSTM", "GRU"]
            for options in [dict(), dict(num_layers=3, bidirectional=True, bias=False)]
        ],
        ("LSTM", dict(num_layers=2, proj_size=3, bidirectional=True)),
    ],
)
def test_same_initialisation_and_state_dict_both_ways(mode, options):
    torch.manual_seed(42)
    theirs = getattr(nn, mode)(INPUT, HIDDEN, **options)
    torch.manual_seed(42)
    ours = getattr(snippets, mode)(INPUT, HIDDEN, **options)
    a, b = theirs.state_dict(), ours.state_dict()
    assert list(a) == list(b)  # same names, in the same order
    for name in a:
        assert torch.equal(a[name], b[name]), name
    # Loading works both ways, strictly.
    theirs.load_state_dict(getattr(snippets, mode)(INPUT, HIDDEN, **options).state_dict())
    ours.load_state_dict(getattr(nn, mode)(INPUT, HIDDEN, **options).state_dict())


def test_constructor_signatures_match_torch_positionally():
    """RNN takes nonlinearity as its 4th positional argument, LSTM proj_size as its 8th, like torch.nn."""
    assert snippets.RNN(2, 3, 1, "relu").nonlinearity == nn.RNN(2, 3, 1, "relu").nonlinearity == "relu"
    assert snippets.LSTM(2, 3, 1, True, False, 0.0, False, 2).proj_size == 2
    assert snippets.GRU(2, 3, 2, False, True).batch_first is True
