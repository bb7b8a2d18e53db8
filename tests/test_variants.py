"""The variants: each reduces to a standard cell where the papers say it should, and differs where not."""

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

import snippets
from snippets import variants

T, B, INPUT, HIDDEN = 7, 3, 2, 4
OPEN = 1e4  # sigmoid(1e4) == 1.0 exactly in float64: a gate saturated open


def seq(dtype=torch.float64, seed=0):
    return torch.randn(T, B, INPUT, dtype=dtype, generator=torch.Generator().manual_seed(seed))


def test_peephole_lstm_with_zero_peepholes_is_the_standard_lstm():
    torch.manual_seed(0)
    standard = nn.LSTM(INPUT, HIDDEN, num_layers=2).double()
    peephole = variants.PeepholeLSTM(INPUT, HIDDEN, num_layers=2).double()
    missing = peephole.load_state_dict(standard.state_dict(), strict=False).missing_keys
    assert sorted(missing) == sorted(f"weight_c{g}_l{k}" for g in "ifo" for k in (0, 1))
    x = seq()
    with torch.no_grad():
        for name in missing:
            getattr(peephole, name).zero_()
    torch.testing.assert_close(peephole(x)[0], standard(x)[0], atol=1e-10, rtol=0)


def test_peepholes_change_the_output():
    torch.manual_seed(0)
    standard = nn.LSTM(INPUT, HIDDEN).double()
    peephole = variants.PeepholeLSTM(INPUT, HIDDEN).double()  # random peepholes
    peephole.load_state_dict(standard.state_dict(), strict=False)
    assert (peephole(seq())[0] - standard(seq())[0]).abs().max() > 1e-3


def test_lstm1997_is_an_lstm_whose_forget_gate_is_always_open():
    torch.manual_seed(0)
    old = variants.LSTM1997(INPUT, HIDDEN).double()
    standard = nn.LSTM(INPUT, HIDDEN).double()
    with torch.no_grad():  # insert forget rows (zero weights, saturated bias) between i and (g, o)
        for name, p in old.named_parameters():
            i, g, o = p.chunk(3)
            forget = torch.full_like(i, OPEN if name == "bias_ih_l0" else 0.0)
            getattr(standard, name).copy_(torch.cat([i, forget, g, o]))
    x = seq()
    out_old, (h_old, c_old), tr = old(x, return_gates=True)
    out_std, (h_std, c_std) = standard(x)
    torch.testing.assert_close(out_old, out_std, atol=1e-10, rtol=0)
    torch.testing.assert_close(c_old, c_std, atol=1e-10, rtol=0)
    c = tr["c"][0, 0]
    torch.testing.assert_close(c[1:] - c[:-1], (tr["i"] * tr["g"])[0, 0, 1:])  # c only accumulates


def test_coupled_lstm_writes_exactly_what_it_forgets():
    torch.manual_seed(0)
    cifg = variants.CoupledLSTM(INPUT, HIDDEN).double()
    c0 = torch.randn(1, B, HIDDEN, dtype=torch.float64)
    _, _, tr = cifg(seq(), (torch.zeros_like(c0), c0), return_gates=True)
    f, g, c = (tr[k][0, 0] for k in "fgc")
    c_prev = torch.cat([c0, c[:-1]])
    torch.testing.assert_close(c, f * c_prev + (1 - f) * g)
    assert set(tr) == {"f", "g", "o", "h", "c"}


def test_cho_gru_equals_pytorch_gru_when_reset_is_open_and_differs_otherwise():
    torch.manual_seed(0)
    pytorch_form = nn.GRU(INPUT, HIDDEN).double()
    cho = variants.ChoGRU(INPUT, HIDDEN).double()
    cho.load_state_dict(pytorch_form.state_dict())  # same parameter names and shapes
    x = seq()
    assert (cho(x)[0] - pytorch_form(x)[0]).abs().max() > 1e-3
    with torch.no_grad():
        for module in (pytorch_form, cho):
            module.weight_ih_l0[:HIDDEN] = 0
            module.weight_hh_l0[:HIDDEN] = 0
            module.bias_ih_l0[:HIDDEN] = OPEN
    torch.testing.assert_close(cho(x)[0], pytorch_form(x)[0], atol=1e-10, rtol=0)


def test_cho_gru_candidate_uses_the_reset_hidden_state():
    torch.manual_seed(0)
    cho = variants.ChoGRU(INPUT, HIDDEN, bias=False).double()
    x = seq()
    _, _, tr = cho(x, return_gates=True)
    r, n, h = (tr[k][0, 0] for k in "rnh")
    h_prev = torch.cat([torch.zeros(1, B, HIDDEN, dtype=torch.float64), h[:-1]])
    w_in, w_hn = cho.weight_ih_l0[2 * HIDDEN :], cho.weight_hh_l0[2 * HIDDEN :]
    torch.testing.assert_close(n, torch.tanh(x @ w_in.T + (r * h_prev) @ w_hn.T))


STEPS = {
    "lstm1997": (variants.lstm1997_step, 3, 0),
    "peephole": (variants.peephole_lstm_step, 4, 3),
    "coupled": (variants.coupled_lstm_step, 3, 0),
}


@pytest.mark.parametrize("name", list(STEPS))
def test_lstm_variant_steps_gradcheck(name):
    step, gates, peepholes = STEPS[name]
    g = torch.Generator().manual_seed(0)
    new = lambda *shape: torch.randn(*shape, dtype=torch.float64, generator=g, requires_grad=True)  # noqa: E731
    args = (
        new(B, gates * HIDDEN),
        new(B, HIDDEN),
        new(B, HIDDEN),
        new(gates * HIDDEN, HIDDEN),
        new(gates * HIDDEN),
        *(new(HIDDEN) for _ in range(peepholes)),
    )
    assert torch.autograd.gradcheck(lambda *a: step(*a)[0], args)


def test_cho_gru_step_gradcheck():
    g = torch.Generator().manual_seed(0)
    new = lambda *shape: torch.randn(*shape, dtype=torch.float64, generator=g, requires_grad=True)  # noqa: E731
    args = (new(B, 3 * HIDDEN), new(B, HIDDEN), new(3 * HIDDEN, HIDDEN), new(3 * HIDDEN))
    assert torch.autograd.gradcheck(lambda *a: variants.cho_gru_step(*a)[0], args)


@pytest.mark.parametrize("cls", [variants.LSTM1997, variants.PeepholeLSTM, variants.CoupledLSTM, variants.ChoGRU])
def test_variants_take_every_input_form(cls):
    m = cls(INPUT, HIDDEN, num_layers=2, bidirectional=True, batch_first=True)
    out, _ = m(torch.randn(B, T, INPUT))
    assert out.shape == (B, T, 2 * HIDDEN)
    packed = pack_padded_sequence(
        torch.randn(B, T, INPUT), torch.tensor([3, 7, 5]), batch_first=True, enforce_sorted=False
    )
    out, _ = m(packed)
    assert out.data.shape == (15, 2 * HIDDEN)
    with pytest.raises(snippets.RNNInputError, match="size 2 in its last dimension, got 5"):
        m(torch.randn(B, T, 5))


@pytest.mark.parametrize("lstm", [nn.LSTM(INPUT, HIDDEN, num_layers=2), snippets.LSTM(INPUT, HIDDEN, num_layers=2)])
def test_set_forget_bias(lstm):
    variants.set_forget_bias(lstm, 1.0)
    for k in (0, 1):
        total = getattr(lstm, f"bias_ih_l{k}") + getattr(lstm, f"bias_hh_l{k}")
        assert torch.equal(total[HIDDEN : 2 * HIDDEN], torch.ones(HIDDEN))
        assert not torch.equal(total[:HIDDEN], torch.ones(HIDDEN))  # other gates untouched


def test_set_forget_bias_needs_biases():
    with pytest.raises(ValueError, match="without bias_ih"):
        variants.set_forget_bias(nn.LSTM(INPUT, HIDDEN, bias=False), 1.0)


@pytest.mark.parametrize(
    "module", [variants.CoupledLSTM(INPUT, HIDDEN), variants.LSTM1997(INPUT, HIDDEN), nn.GRU(INPUT, HIDDEN)]
)
def test_set_forget_bias_refuses_other_gate_orders(module):
    with pytest.raises(ValueError, match=r"gates stacked \(i, f, g, o\), got"):
        variants.set_forget_bias(module, 1.0)


def test_set_forget_bias_on_peepholes():
    peephole = variants.set_forget_bias(variants.PeepholeLSTM(INPUT, HIDDEN), 2.0)
    assert torch.equal((peephole.bias_ih_l0 + peephole.bias_hh_l0)[HIDDEN : 2 * HIDDEN], torch.full((HIDDEN,), 2.0))
