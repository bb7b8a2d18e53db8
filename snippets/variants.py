r"""LSTM and GRU variants from the literature, as step functions and sequence modules.

None of these has a `torch.nn` twin. Each module is an `RNN`/`LSTM`/`GRU` with a different step,
so it takes the same constructor arguments (no projection) and input forms, and returns traces.

| module | step | what changes | paper |
| --- | --- | --- | --- |
| `LSTM1997` | `lstm1997_step` | no forget gate: $c_t = c_{t-1} + i_t \odot g_t$ | Hochreiter & Schmidhuber 1997 |
| `PeepholeLSTM` | `peephole_lstm_step` | gates also see the cell state | Gers & Schmidhuber 2000 |
| `CoupledLSTM` | `coupled_lstm_step` | one gate to forget and write: $i_t = 1 - f_t$ | Greff et al. 2017 (CIFG) |
| `ChoGRU` | `cho_gru_step` | reset gate applied before the matmul | Cho et al. 2014 |

`set_forget_bias` gives a standard LSTM the forget-gate bias of Jozefowicz et al. 2015.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from snippets.layers import GRU, LSTM, _NoProjection, _param_name


def lstm1997_step(xw, h, c, weight_hh, bias_hh):
    r"""LSTM without a forget gate: the cell state only accumulates (gates in the order i, g, o).

    $$
    \begin{aligned}
    i_t &= \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) \\
    g_t &= \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \\
    o_t &= \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) \\
    c_t &= c_{t-1} + i_t \odot g_t \\
    h_t &= o_t \odot \tanh(c_t)
    \end{aligned}
    $$
    """
    i, g, o = (xw + F.linear(h, weight_hh, bias_hh)).chunk(3, dim=-1)
    i = torch.sigmoid(i)
    g = torch.tanh(g)
    o = torch.sigmoid(o)
    c = c + i * g
    h = o * torch.tanh(c)
    return (h, c), (i, g, o)


def peephole_lstm_step(xw, h, c, weight_hh, bias_hh, weight_ci, weight_cf, weight_co):
    r"""LSTM whose gates see the cell state through diagonal peephole weights $p$ (gates i, f, g, o).

    $$
    \begin{aligned}
    i_t &= \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi} + p_i \odot c_{t-1}) \\
    f_t &= \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf} + p_f \odot c_{t-1}) \\
    g_t &= \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \\
    c_t &= f_t \odot c_{t-1} + i_t \odot g_t \\
    o_t &= \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho} + p_o \odot c_t) && \text{sees the new } c_t \\
    h_t &= o_t \odot \tanh(c_t)
    \end{aligned}
    $$
    """
    i, f, g, o = (xw + F.linear(h, weight_hh, bias_hh)).chunk(4, dim=-1)
    i = torch.sigmoid(i + weight_ci * c)
    f = torch.sigmoid(f + weight_cf * c)
    g = torch.tanh(g)
    c = f * c + i * g
    o = torch.sigmoid(o + weight_co * c)
    h = o * torch.tanh(c)
    return (h, c), (i, f, g, o)


def coupled_lstm_step(xw, h, c, weight_hh, bias_hh):
    r"""Coupled input and forget gate (CIFG): what is forgotten is replaced (gates f, g, o).

    $$
    \begin{aligned}
    f_t &= \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) \\
    g_t &= \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \\
    o_t &= \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) \\
    c_t &= f_t \odot c_{t-1} + (1 - f_t) \odot g_t \\
    h_t &= o_t \odot \tanh(c_t)
    \end{aligned}
    $$
    """
    f, g, o = (xw + F.linear(h, weight_hh, bias_hh)).chunk(3, dim=-1)
    f = torch.sigmoid(f)
    g = torch.tanh(g)
    o = torch.sigmoid(o)
    c = f * c + (1 - f) * g
    h = o * torch.tanh(c)
    return (h, c), (f, g, o)


def cho_gru_step(xw, h, weight_hh, bias_hh):
    r"""GRU as Cho et al. 2014 wrote it: the reset gate scales $h_{t-1}$ *before* the matmul.

    $$
    \begin{aligned}
    r_t &= \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) \\
    z_t &= \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) \\
    n_t &= \tanh(W_{in} x_t + b_{in} + W_{hn} (r_t \odot h_{t-1}) + b_{hn}) \\
    h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1} && z_t \text{ keeps the past, as in the paper}
    \end{aligned}
    $$

    Compare `snippets.cells.gru_step` (PyTorch's and cuDNN's form): $r_t \odot (W_{hn} h_{t-1} + b_{hn})$.
    The two agree whenever $r_t = 1$, and in general differ.
    """
    (w_r, w_z, w_n), (b_r, b_z, b_n) = weight_hh.chunk(3), _chunk_or_none(bias_hh, 3)
    x_r, x_z, x_n = xw.chunk(3, dim=-1)
    r = torch.sigmoid(x_r + F.linear(h, w_r, b_r))
    z = torch.sigmoid(x_z + F.linear(h, w_z, b_z))
    n = torch.tanh(x_n + F.linear(r * h, w_n, b_n))
    h = (1 - z) * n + z * h
    return h, (r, z, n)


def _chunk_or_none(bias: Tensor | None, n: int):
    return (None,) * n if bias is None else bias.chunk(n)


class _LSTMVariant(_NoProjection, LSTM):
    """An LSTM with another step function and no projection."""


class LSTM1997(_LSTMVariant):
    """LSTM with no forget gate (Hochreiter & Schmidhuber 1997); weights stacked as (i, g, o)."""

    step = staticmethod(lstm1997_step)
    gates = ("i", "g", "o")


class CoupledLSTM(_LSTMVariant):
    """LSTM whose input gate is one minus its forget gate (CIFG); weights stacked as (f, g, o)."""

    step = staticmethod(coupled_lstm_step)
    gates = ("f", "g", "o")


class PeepholeLSTM(_LSTMVariant):
    """LSTM with peephole connections (Gers & Schmidhuber 2000); weights stacked as (i, f, g, o).

    Adds `weight_ci_l{k}`, `weight_cf_l{k}`, `weight_co_l{k}` (each of size hidden_size) per layer.
    With them at zero it is exactly `snippets.LSTM`.
    """

    step = staticmethod(peephole_lstm_step)
    peepholes = ("weight_ci", "weight_cf", "weight_co")

    def _add_layer_parameters(self, layer: int, direction: int, new: dict) -> None:
        super()._add_layer_parameters(layer, direction, new)
        for kind in self.peepholes:
            name = _param_name(kind, layer, direction)
            self.register_parameter(name, nn.Parameter(torch.empty(self.hidden_size, **new)))
            self._flat_weights_names.append(name)

    def _layer_weights(self, layer: int, direction: int):
        projection, step_args = super()._layer_weights(layer, direction)
        return projection, step_args + tuple(getattr(self, _param_name(k, layer, direction)) for k in self.peepholes)


class ChoGRU(GRU):
    """GRU with the reset gate applied before the recurrent matmul (Cho et al. 2014).

    Same parameters, names and shapes as `torch.nn.GRU`, so weights load both ways; only the
    candidate's equation differs.
    """

    step = staticmethod(cho_gru_step)


def set_forget_bias(lstm: nn.Module, value: float) -> nn.Module:
    """Sets every layer's forget-gate bias to `value` (Jozefowicz et al. 2015 recommend 1).

    For LSTMs whose gates are stacked (i, f, g, o): `torch.nn.LSTM`, `snippets.LSTM`,
    `PeepholeLSTM`. The forget rows of `bias_ih` become `value` and those of `bias_hh` zero, so
    their sum, what the gate sees, is `value`. Other stackings (`CoupledLSTM`'s f, g, o;
    `LSTM1997`'s i, g, o) are refused rather than silently given another gate's bias.
    """
    # torch.nn.LSTM names no gates; this package's modules list theirs in `gates`.
    gates = getattr(lstm, "gates", ("i", "f", "g", "o"))
    if getattr(lstm, "mode", None) != "LSTM" or gates != ("i", "f", "g", "o"):
        raise ValueError(
            f"set_forget_bias: expected an LSTM with gates stacked (i, f, g, o), "
            f"got {type(lstm).__name__} with gates {gates}"
        )
    hidden = lstm.hidden_size
    found = False
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith(("bias_ih", "bias_hh")):
                param[hidden : 2 * hidden] = value if name.startswith("bias_ih") else 0.0
                found = True
    if not found:
        raise ValueError(
            f"set_forget_bias: expected an LSTM with biases, got {type(lstm).__name__} without bias_ih/bias_hh"
        )
    return lstm
