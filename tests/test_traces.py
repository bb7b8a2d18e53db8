"""Gate traces: the right shapes, consistent with the outputs and with the cell equations."""

import math

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

import snippets

T, B, INPUT, HIDDEN = 6, 3, 2, 4


def test_lstm_trace_obeys_the_cell_equations():
    torch.manual_seed(0)
    lstm = snippets.LSTM(INPUT, HIDDEN, num_layers=2).double()
    x = torch.randn(T, B, INPUT, dtype=torch.float64)
    output, (h_n, c_n), tr = lstm(x, return_gates=True)
    assert set(tr) == {"i", "f", "g", "o", "h", "c"}
    for name, value in tr.items():
        assert value.shape == (2, 1, T, B, HIDDEN), name
    i, f, g, o, c, h = (tr[k][:, 0] for k in "ifgoch")
    c_prev = torch.cat([torch.zeros_like(c[:, :1]), c[:, :-1]], dim=1)
    torch.testing.assert_close(c, f * c_prev + i * g)  # c_t = f_t c_{t-1} + i_t g_t
    torch.testing.assert_close(h, o * torch.tanh(c))  # h_t = o_t tanh(c_t)
    assert ((0 < i) & (i < 1) & (0 < f) & (f < 1) & (0 < o) & (o < 1)).all()
    torch.testing.assert_close(h[-1], output)  # the last layer's h is the output
    torch.testing.assert_close(h[:, -1], h_n)
    torch.testing.assert_close(c[:, -1], c_n)


def test_gru_trace_obeys_the_update_equation():
    torch.manual_seed(0)
    gru = snippets.GRU(INPUT, HIDDEN).double()
    h0 = torch.randn(1, B, HIDDEN, dtype=torch.float64)
    _, h_n, tr = gru(torch.randn(T, B, INPUT, dtype=torch.float64), h0, return_gates=True)
    z, n, h = (tr[k][0, 0] for k in "znh")
    h_prev = torch.cat([h0, h[:-1]])
    torch.testing.assert_close(h, (1 - z) * n + z * h_prev)
    torch.testing.assert_close(h[-1], h_n[0])


def test_bidirectional_batch_first_trace_is_in_input_time_order():
    torch.manual_seed(0)
    lstm = snippets.LSTM(INPUT, HIDDEN, bidirectional=True, batch_first=True)
    output, (h_n, _), tr = lstm(torch.randn(B, T, INPUT), return_gates=True)
    assert tr["h"].shape == (1, 2, T, B, HIDDEN)
    torch.testing.assert_close(tr["h"][0, 0, -1], h_n[0])  # forward ends at the last step
    torch.testing.assert_close(tr["h"][0, 1, 0], h_n[1])  # reverse ends at the first
    torch.testing.assert_close(tr["h"][0, 1].transpose(0, 1), output[..., HIDDEN:])


def test_packed_trace_is_nan_past_each_length():
    lengths = [3, 6, 1]
    lstm = snippets.LSTM(INPUT, HIDDEN)
    packed = pack_padded_sequence(torch.randn(T, B, INPUT), torch.tensor(lengths), enforce_sorted=False)
    _, (h_n, _), tr = lstm(packed, return_gates=True)
    for b, n in enumerate(lengths):
        assert torch.isfinite(tr["f"][0, 0, :n, b]).all()
        assert torch.isnan(tr["f"][0, 0, n:, b]).all()
        torch.testing.assert_close(tr["h"][0, 0, n - 1, b], h_n[0, b])


def test_unbatched_trace_has_batch_size_one():
    _, _, tr = snippets.RNN(INPUT, HIDDEN)(torch.randn(T, INPUT), return_gates=True)
    assert set(tr) == {"h"} and tr["h"].shape == (1, 1, T, 1, HIDDEN)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_traces_do_not_change_the_result(mode):
    torch.manual_seed(0)
    m = getattr(snippets, mode)(INPUT, HIDDEN, num_layers=2)
    x = torch.randn(T, B, INPUT)
    plain = m(x)
    assert len(plain) == 2
    traced = m(x, return_gates=True)
    assert len(traced) == 3
    torch.testing.assert_close(traced[0], plain[0], atol=0, rtol=0)


def test_trace_a_trained_torch_lstm_by_loading_its_weights():
    """The recipe the pages use: train with torch.nn, look inside with snippets."""
    torch.manual_seed(0)
    theirs = nn.LSTM(INPUT, HIDDEN)
    ours = snippets.LSTM(INPUT, HIDDEN)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(T, B, INPUT)
    _, (h_theirs, _) = theirs(x)
    _, (h_ours, _), tr = ours(x, return_gates=True)
    torch.testing.assert_close(h_ours, h_theirs)
    assert not math.isnan(tr["o"].sum().item())
