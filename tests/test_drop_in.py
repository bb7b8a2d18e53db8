"""Where PyTorch's own RNN tests found our modules differ from torch.nn (issue 24), and the kinds of
error torch.nn users catch (issue 20): each case run on torch.nn and on ours, side by side.

- a cell with hidden size 0 works, as in torch.nn, and returns a (batch, 0) state;
- `proj_size` on RNN and GRU is a ValueError with torch.nn's words;
- `_flat_weights` is there, and follows `weight_norm` and parametrizations as torch.nn's does;
- a state of the wrong kind (three tensors for an LSTM, a list, float64 against float32 weights)
  raises the exception type torch.nn raises, with our message carrying torch.nn's words.
"""

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrizations

import snippets

INPUT, HIDDEN, BATCH, T = 4, 3, 2, 5


def pair(name: str, *args, **kwargs):
    """torch.nn's module and ours, with the same weights."""
    theirs = getattr(nn, name)(*args, **kwargs)
    ours = getattr(snippets, name)(*args, **kwargs)
    ours.load_state_dict(theirs.state_dict())
    return theirs, ours


# -- zero hidden size on cells ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched", [True, False])
def test_a_cell_of_hidden_size_zero_works_as_in_torch_nn(name, batched):
    theirs, ours = pair(name, 10, 0)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [(n, p.shape) for n, p in theirs.named_parameters()]
    x = torch.randn(BATCH, 10) if batched else torch.randn(10)
    results = []
    for module in (theirs, ours):
        xx = x.clone().requires_grad_()
        out = module(xx)
        states = out if isinstance(out, tuple) else (out,)
        sum(s.sum() for s in states).backward()
        results.append((states, xx.grad))
    (their_states, their_grad), (our_states, our_grad) = results
    for a, b in zip(their_states, our_states, strict=True):
        assert b.shape == a.shape == ((BATCH, 0) if batched else (0,))
    torch.testing.assert_close(our_grad, their_grad)  # zeros: nothing depends on x


def test_a_sequence_module_still_refuses_hidden_size_zero_as_torch_nn_does():
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.GRU(INPUT, 0)
    with pytest.raises(ValueError, match=r"expected hidden_size >= 1, got 0 \(hidden_size must be greater than zero\)"):
        snippets.GRU(INPUT, 0)


# -- projections are the LSTM's only ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["RNN", "GRU"])
@pytest.mark.parametrize("proj_size", [10, 0])
def test_proj_size_on_rnn_and_gru_is_a_value_error_in_torch_nn_words(name, proj_size):
    words = "proj_size argument is only supported for LSTM, not RNN or GRU"
    with pytest.raises(ValueError, match=words):
        getattr(nn, name)(INPUT, 20, proj_size=proj_size)
    with pytest.raises(ValueError, match=f"{name}: {words}.*got proj_size={proj_size}"):
        getattr(snippets, name)(INPUT, 20, proj_size=proj_size)


def test_variants_without_a_projection_refuse_it_too():
    from snippets.variants import PeepholeLSTM

    with pytest.raises(ValueError, match="PeepholeLSTM: proj_size argument is only supported for LSTM"):
        PeepholeLSTM(INPUT, 20, proj_size=2)


# -- _flat_weights, weight_norm, parametrizations --------------------------------------------------


@pytest.mark.parametrize(
    "name, options",
    [("LSTM", dict(num_layers=2, bidirectional=True)), ("LSTM", dict(proj_size=2)), ("GRU", dict(bias=False))],
)
def test_flat_weights_are_torch_nn_s(name, options):
    theirs, ours = pair(name, INPUT, HIDDEN, **options)
    assert ours._flat_weights_names == theirs._flat_weights_names
    assert ours._all_weights == theirs._all_weights
    assert len(ours._flat_weights) == len(theirs._flat_weights)
    for mine, their in zip(ours._flat_weights, theirs._flat_weights, strict=True):
        assert isinstance(mine, nn.Parameter) and torch.equal(mine, their)


def parameters_in_flat_weights(module) -> int:
    return sum(isinstance(w, nn.Parameter) for w in module._flat_weights)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_weight_norm_as_pytorchs_own_rnn_test_applies_it(name):
    """As PyTorch's test_rnn_weight_norm: the normed weight becomes a tensor in `_flat_weights`, and
    a Parameter again once the norm is removed; the outputs stay torch.nn's."""
    theirs, ours = pair(name, INPUT, HIDDEN)
    x = torch.randn(T, BATCH, INPUT)
    counts = []
    for module in (theirs, ours):
        before = parameters_in_flat_weights(module)
        nn.utils.weight_norm(module, name="weight_hh_l0")
        normed = parameters_in_flat_weights(module)
        output = module(x)[0]
        nn.utils.remove_weight_norm(module, name="weight_hh_l0")
        counts.append((before, normed, parameters_in_flat_weights(module), "weight_hh_l0" in module._parameters))
        counts.append(output)
    assert counts[0] == counts[2] == (4, 3, 4, True)
    torch.testing.assert_close(counts[3], counts[1])


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_a_parametrization_reaches_the_forward_and_flat_weights_as_in_torch_nn(name):
    theirs, ours = pair(name, INPUT, HIDDEN)
    x = torch.randn(T, BATCH, INPUT)
    results = []
    for module in (theirs, ours):
        parametrizations.weight_norm(module, "weight_ih_l0")
        output = module(x)[0]
        grads = torch.autograd.grad(output.square().sum(), list(module.parameters()))
        flat = module._flat_weights[0]
        if hasattr(module, "_update_flat_weights"):  # torch.nn refreshes its list in forward
            module._update_flat_weights()
            flat = module._flat_weights[0]
        results.append((output, grads, flat))
    (their_out, their_grads, their_flat), (our_out, our_grads, our_flat) = results
    torch.testing.assert_close(our_out, their_out)
    for a, b in zip(our_grads, their_grads, strict=True):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(our_flat, their_flat)
    assert not isinstance(our_flat, nn.Parameter)  # the computed weight, as torch.nn's refreshed list holds


# -- a state of the wrong kind: the exception type torch.nn raises, its words in ours -------------

h = torch.zeros(1, BATCH, HIDDEN)
x3 = torch.randn(T, BATCH, INPUT)
xc, hc = torch.randn(BATCH, INPUT), torch.zeros(BATCH, HIDDEN)
WRONG_KIND = {
    "LSTM given three states": (
        "LSTM",
        lambda m: m(x3, (h, h, h)),
        RuntimeError,
        r"LSTM: expected hx to be a pair \(h_0, c_0\), got a tuple of 3 \(lstm expects two hidden states\)",
    ),
    "LSTMCell given three states": (
        "LSTMCell",
        lambda m: m(xc, (hc, hc, hc)),
        RuntimeError,
        r"expected hx to be a pair \(h, c\), got a tuple of 3 \(lstm_cell expects two hidden states\)",
    ),
    "GRU given a list": (
        "GRU",
        lambda m: m(x3, h.tolist()),
        AttributeError,
        r"expected GRU hx to be a Tensor, got list \('list' object has no attribute 'dim'\)",
    ),
    "LSTM given a pair of lists": (
        "LSTM",
        lambda m: m(x3, (h.tolist(), h.tolist())),
        AttributeError,
        r"expected LSTM h_0 for batched 3-D input to be a Tensor, got list",
    ),
    "GRUCell given a list": (
        "GRUCell",
        lambda m: m(xc, hc.tolist()),
        AttributeError,
        r"expected GRUCell hx for input of shape \(2, 4\) to be a Tensor, got list \('list' object has no",
    ),
    "LSTMCell given lists": (
        "LSTMCell",
        lambda m: m(xc, (hc.tolist(), hc.tolist())),
        AttributeError,
        r"expected LSTMCell h for input of shape \(2, 4\) to be a Tensor, got list",
    ),
    "RNNCell given a float64 state": (
        "RNNCell",
        lambda m: m(xc, hc.double()),
        RuntimeError,
        r"RNNCell: expected hx of dtype torch.float32, got torch.float64 \(.*must have the same dtype\)",
    ),
    "LSTMCell given float64 states": (
        "LSTMCell",
        lambda m: m(xc, (hc.double(), hc.double())),
        RuntimeError,
        r"LSTMCell: expected h of dtype torch.float32, got torch.float64 \(.*must have the same dtype\)",
    ),
    "GRUCell given a float64 input": (
        "GRUCell",
        lambda m: m(xc.double()),
        RuntimeError,
        r"GRUCell: expected input of dtype torch.float32, got torch.float64 \(.*must have the same dtype\)",
    ),
    "GRU given a float64 state": (
        "GRU",
        lambda m: m(x3, h.double()),
        RuntimeError,
        r"GRU: expected h_0 of dtype torch.float32, got torch.float64 \(.*must have the same dtype\)",
    ),
}


@pytest.mark.parametrize("case", WRONG_KIND)
def test_a_state_of_the_wrong_kind_raises_what_torch_nn_raises(case):
    name, call, kind, message = WRONG_KIND[case]
    sizes = (INPUT, HIDDEN)
    with pytest.raises(kind):
        call(getattr(nn, name)(*sizes))
    with pytest.raises(kind, match=message):
        call(getattr(snippets, name)(*sizes))


def test_an_lstm_cell_takes_c_in_another_dtype_as_torch_nn_does():
    """torch.nn multiplies only h by a weight: a float64 c goes through and makes the result float64."""
    theirs, ours = pair("LSTMCell", INPUT, HIDDEN)
    c = torch.randn(BATCH, HIDDEN, dtype=torch.float64)
    expected, got = theirs(xc, (hc, c)), ours(xc, (hc, c))
    for a, b in zip(expected, got, strict=True):
        assert b.dtype == a.dtype == torch.float64
        torch.testing.assert_close(b, a)
