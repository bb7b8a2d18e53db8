"""Bad input raises where torch.nn raises, with a message naming what was expected and what came."""

import re

import pytest
import torch
from torch import nn

import snippets

x3 = torch.randn(5, 2, 4)  # (time, batch, features)
CONSTRUCTOR = {
    "proj_size >= hidden_size": (
        lambda lib: lib.LSTM(4, 3, proj_size=3),
        r"proj_size < hidden_size.*proj_size=3 >= hidden_size=3",
    ),
    "negative proj_size": (lambda lib: lib.LSTM(4, 3, proj_size=-1), r"proj_size >= 0, got -1"),
    "negative input_size": (lambda lib: lib.GRU(-2, 3), r"input_size >= 1, got -2"),
    "zero input_size": (lambda lib: lib.LSTM(0, 3), r"input_size >= 1, got 0"),
    "batch_first None": (lambda lib: lib.LSTM(4, 3, batch_first=None), r"batch_first to be a bool, got NoneType None"),
    "bias None": (lambda lib: lib.GRU(4, 3, bias=None), r"bias to be a bool, got NoneType None"),
    "zero hidden_size": (lambda lib: lib.RNN(4, 0), r"hidden_size >= 1, got 0"),
    "zero num_layers": (lambda lib: lib.LSTM(4, 3, num_layers=0), r"num_layers >= 1, got 0"),
    "dropout above 1": (lambda lib: lib.GRU(4, 3, num_layers=2, dropout=1.5), r"dropout .*\[0, 1\], got 1.5"),
    "float hidden_size": (lambda lib: lib.LSTM(4, 3.0), r"hidden_size to be an int, got float 3.0"),
    "unknown nonlinearity": (lambda lib: lib.RNN(4, 3, nonlinearity="sigmoid"), r"'tanh' or 'relu', got 'sigmoid'"),
    "cell: negative hidden_size": (lambda lib: lib.LSTMCell(4, -3), r"hidden_size >= 0, got -3"),
}
FORWARD = {
    "wrong feature size": (
        lambda lib: lib.LSTM(9, 3),
        lambda m: m(x3),
        r"input of size 9 in its last dimension, got 4",
    ),
    "1-D input": (lambda lib: lib.GRU(4, 3), lambda m: m(torch.randn(4)), r"2-D or 3-D, got 1-D"),
    "4-D input": (lambda lib: lib.RNN(4, 3), lambda m: m(torch.randn(1, 5, 2, 4)), r"2-D or 3-D, got 4-D"),
    "dtype mismatch": (lambda lib: lib.LSTM(4, 3), lambda m: m(x3.double()), r"dtype torch.float32, got torch.float64"),
    "h_0 batch mismatch": (
        lambda lib: lib.GRU(4, 3),
        lambda m: m(x3, torch.zeros(1, 7, 3)),
        r"h_0 of shape \(1, 2, 3\) for batched 3-D input, got \(1, 7, 3\)",
    ),
    "h_0 layers mismatch": (
        lambda lib: lib.RNN(4, 3, num_layers=2),
        lambda m: m(x3, torch.zeros(1, 2, 3)),
        r"h_0 of shape \(2, 2, 3\) for batched 3-D input, got \(1, 2, 3\)",
    ),
    "h_0 2-D for 3-D input": (
        lambda lib: lib.GRU(4, 3),
        lambda m: m(x3, torch.zeros(1, 3)),
        r"batched 3-D input to be 3-D, got 2-D",
    ),
    "h_0 wrong with projection": (
        lambda lib: lib.LSTM(4, 3, proj_size=2),
        lambda m: m(x3, (torch.zeros(1, 2, 3), torch.zeros(1, 2, 3))),
        r"h_0 of shape \(1, 2, 2\) for batched 3-D input, got \(1, 2, 3\)",
    ),
    "c_0 wrong hidden size": (
        lambda lib: lib.LSTM(4, 3),
        lambda m: m(x3, (torch.zeros(1, 2, 3), torch.zeros(1, 2, 5))),
        r"c_0 of shape \(1, 2, 3\) for batched 3-D input, got \(1, 2, 5\)",
    ),
    "cell: wrong feature size": (
        lambda lib: lib.GRUCell(6, 3),
        lambda m: m(torch.randn(2, 4)),
        r"input of size 6 in its last dimension, got 4",
    ),
    "cell: 3-D input": (lambda lib: lib.RNNCell(4, 3), lambda m: m(x3), r"1-D or 2-D, got 3-D"),
    "cell: hx batch mismatch": (
        lambda lib: lib.LSTMCell(4, 3),
        lambda m: m(torch.randn(2, 4), (torch.zeros(5, 3), torch.zeros(5, 3))),
        r"shape \(2, 3\) for input of shape \(2, 4\), got \(5, 3\)",
    ),
}


@pytest.mark.parametrize("case", list(CONSTRUCTOR))
def test_constructor_errors(case):
    build, message = CONSTRUCTOR[case]
    with pytest.raises((ValueError, TypeError, RuntimeError)):
        build(nn)  # the condition is one torch.nn rejects too
    with pytest.raises((ValueError, TypeError), match=message):
        build(snippets)


@pytest.mark.parametrize("case", list(FORWARD))
def test_forward_errors(case):
    build, call, message = FORWARD[case]
    with pytest.raises((ValueError, TypeError, RuntimeError)):
        call(build(nn))
    with pytest.raises(snippets.RNNInputError, match=message) as info:
        call(build(snippets))
    assert not re.search(r"mat1 and mat2|size mismatch", str(info.value))


def test_input_errors_are_caught_as_torch_nn_users_catch_them():
    """torch.nn raises RuntimeError for some shape errors and ValueError for others."""
    assert issubclass(snippets.RNNInputError, RuntimeError) and issubclass(snippets.RNNInputError, ValueError)


def test_dropout_with_one_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="num_layers=1"):
        snippets.LSTM(4, 3, dropout=0.5)


@pytest.mark.parametrize(
    "text",
    [
        "100000000000000000000000",  # 1e23 written out: used to fail in torch.manual_seed, unnamed
        "1e23",
        "\u00b2",  # '²'.isdigit() is True, but int() refuses it
        "\u0663",  # an Arabic-Indic three: int() takes it, a seed written so is no one's intent
        "4294967296",
        "-1",
        "",
    ],
)
def test_a_bad_seed_base_names_the_variable_and_what_it_takes(monkeypatch, text):
    from snippets import seeding

    monkeypatch.setenv("SNIPPETS_SEED_BASE", text)
    with pytest.raises(ValueError, match=r"SNIPPETS_SEED_BASE must be a non-negative int below 2\*\*31.*0-9") as info:
        seeding.seeds(3)
    assert repr(text) in str(info.value)


def test_a_good_seed_base_shifts_every_seed(monkeypatch):
    from snippets import seeding

    monkeypatch.setenv("SNIPPETS_SEED_BASE", " 2147483600 ")
    assert seeding.seeds(3) == (2147483600, 2147483601, 2147483602)
    seeding.seed_everything(seeding.seed(2))  # within NumPy's range
    with pytest.raises(ValueError, match=r"seed must be an int in \[0, 2\*\*32\).*got 4294967296"):
        seeding.seed_everything(2**32)
