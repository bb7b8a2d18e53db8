r"""One time step of the vanilla RNN, the LSTM and the GRU, written as their equations.

Each `*_step` function is the whole cell: one line of code per equation. The cell modules
(`RNNCell`, `LSTMCell`, `GRUCell`) and the sequence modules in `snippets.layers` call the same
functions, so the equations exist once.

Every step takes `xw`, the input projection $W_{i\cdot} x_t + b_{i\cdot}$, already computed:
a sequence module computes it for all time steps in one matrix product, which is much faster
than one small product per step, and only the recurrent product is left inside the time loop.

Conventions are PyTorch's: weights are stacked by gate along their first dimension, LSTM gates
in the order $i, f, g, o$ and GRU gates in the order $r, z, n$.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from snippets.errors import RNNTypeError, check_input, check_size, check_state

NONLINEARITIES = {"tanh": torch.tanh, "relu": torch.relu}

Clamp = Callable[[str, Tensor], Tensor]  # (gate name, its values) -> the values the step goes on with
Recurrent = Callable[[Tensor, Tensor, Tensor | None], Tensor]  # (h, W_hh, b_hh) -> W_hh h + b_hh


def rnn_step(xw: Tensor, h: Tensor, weight_hh: Tensor, bias_hh: Tensor | None, nonlinearity: str = "tanh") -> Tensor:
    r"""Elman RNN step.

    $$h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}), \qquad \phi \in \{\tanh, \mathrm{ReLU}\}$$
    """
    return NONLINEARITIES[nonlinearity](xw + F.linear(h, weight_hh, bias_hh))


def lstm_step(
    xw: Tensor,
    h: Tensor,
    c: Tensor,
    weight_hh: Tensor,
    bias_hh: Tensor | None,
    weight_hr: Tensor | None = None,
    clamp: Clamp | None = None,
    candidate: Callable[[Tensor], Tensor] = torch.tanh,
    recurrent: Recurrent = F.linear,
) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor, Tensor, Tensor]]:
    r"""LSTM step with a forget gate (Gers et al. 2000) and an optional projection (Sak et al. 2014).

    $$
    \begin{aligned}
    i_t &= \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) && \text{input gate} \\
    f_t &= \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) && \text{forget gate} \\
    g_t &= \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) && \text{candidate} \\
    o_t &= \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) && \text{output gate} \\
    c_t &= f_t \odot c_{t-1} + i_t \odot g_t && \text{cell state} \\
    h_t &= o_t \odot \tanh(c_t) && \text{hidden state}
    \end{aligned}
    $$

    With a projection, $h_t = W_{hr}\,(o_t \odot \tanh(c_t))$. `clamp`, if given, may replace
    each gate before it is used (`clamp(name, value)`: the gate lab's interventions).
    `candidate` is the candidate's nonlinearity (`snippets.candidate` tries a ReLU), and
    `recurrent(h, weight_hh, bias_hh)` computes $W_{hh} h_{t-1} + b_{hh}$ (`snippets.lstm_paths`
    passes one that stops the gradient through $h_{t-1}$ in chosen gate blocks).
    Returns the new state `(h, c)` and the gate activations `(i, f, g, o)`.
    """
    i, f, g, o = (xw + recurrent(h, weight_hh, bias_hh)).chunk(4, dim=-1)
    i = torch.sigmoid(i)
    f = torch.sigmoid(f)
    g = candidate(g)
    o = torch.sigmoid(o)
    if clamp is not None:
        i, f, g, o = clamp("i", i), clamp("f", f), clamp("g", g), clamp("o", o)
    c = f * c + i * g
    h = o * torch.tanh(c)
    if weight_hr is not None:
        h = F.linear(h, weight_hr)
    return (h, c), (i, f, g, o)


def gru_step(
    xw: Tensor, h: Tensor, weight_hh: Tensor, bias_hh: Tensor | None, clamp: Clamp | None = None
) -> tuple[Tensor, tuple[Tensor, Tensor, Tensor]]:
    r"""GRU step in PyTorch's form: the reset gate scales the recurrent product *after* the matmul.

    $$
    \begin{aligned}
    r_t &= \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) && \text{reset gate} \\
    z_t &= \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) && \text{update gate} \\
    n_t &= \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})) && \text{candidate} \\
    h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1} && z_t \text{ keeps the past}
    \end{aligned}
    $$

    (Cho et al. 2014 apply $r_t$ before the matmul, $W_{hn}(r_t \odot h_{t-1})$, and write
    $h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t$ too.) `clamp`, as in `lstm_step`, may
    replace each gate before it is used. Returns `h` and `(r, z, n)`.
    """
    x_r, x_z, x_n = xw.chunk(3, dim=-1)
    h_r, h_z, h_n = F.linear(h, weight_hh, bias_hh).chunk(3, dim=-1)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    if clamp is not None:
        r, z = clamp("r", r), clamp("z", z)
    n = torch.tanh(x_n + r * h_n)
    if clamp is not None:
        n = clamp("n", n)
    h = (1 - z) * n + z * h
    return h, (r, z, n)


class _CellBase(nn.Module):
    """Parameters, initialisation and input checks shared by the three cells (as in torch.nn)."""

    num_gates: int

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        check_size("input_size", input_size, minimum=0)
        check_size("hidden_size", hidden_size, minimum=0)  # as torch.nn: a zero-width state, (batch, 0)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        new = dict(device=device, dtype=dtype)
        gates = self.num_gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(gates, input_size, **new))
        self.weight_hh = nn.Parameter(torch.empty(gates, hidden_size, **new))
        self.bias_ih = nn.Parameter(torch.empty(gates, **new)) if bias else None
        self.bias_hh = nn.Parameter(torch.empty(gates, **new)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) for every parameter, in torch.nn's order."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0  # no weights to draw at 0
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")

    def _check_input(self, input: Tensor) -> bool:
        """Checks `input` and says whether it is batched (2-D) rather than one sample (1-D)."""
        check_input(type(self).__name__, input, (1, 2), self.input_size, self.weight_ih.dtype)
        return input.dim() == 2

    def _initial(self, input: Tensor, hx: Tensor | None, what: str, batched: bool, same_dtype: bool = True) -> Tensor:
        """A given state checked against the input, or zeros; always 2-D (batch, hidden).

        `same_dtype`: whether the state must have the weights' dtype. torch.nn requires it of the
        state that enters the product with W_hh (h), not of the LSTM's c, which only mixes in.
        """
        batch = input.shape[0] if batched else None
        if hx is None:
            return input.new_zeros(batch if batched else 1, self.hidden_size)
        expected = (batch, self.hidden_size) if batched else (self.hidden_size,)
        dtype = self.weight_hh.dtype if same_dtype else None
        check_state(type(self).__name__, what, hx, expected, dtype, f"input of shape {tuple(input.shape)}")
        return hx if batched else hx.unsqueeze(0)


def _equations(step: Callable) -> str:
    """The display equations ($$ ... $$) of a step function's docstring, which its cell's docstring
    reuses: the rest of it (clamp, what the step returns) is not true of the cell."""
    doc = step.__doc__
    start = doc.rindex("\n", 0, doc.index("$$")) + 1
    return doc[start : doc.rindex("$$") + 2]  # indented as in the step's docstring; getdoc dedents


class RNNCell(_CellBase):
    __doc__ = "Elman RNN cell, a drop-in for `torch.nn.RNNCell`: `h' = cell(x, h)`.\n\n" + _equations(rnn_step)
    num_gates = 1

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None) -> None:
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"RNNCell: expected nonlinearity 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        batched = self._check_input(input)
        h = self._initial(input, hx, "hx", batched)
        x = input if batched else input.unsqueeze(0)
        h = rnn_step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh, self.nonlinearity)
        return h if batched else h.squeeze(0)


class LSTMCell(_CellBase):
    __doc__ = "LSTM cell, a drop-in for `torch.nn.LSTMCell`: `h', c' = cell(x, (h, c))`.\n\n" + _equations(lstm_step)
    num_gates = 4

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        batched = self._check_input(input)
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            got = f"a {type(hx).__name__} of {len(hx)}" if isinstance(hx, (tuple, list)) else type(hx).__name__
            raise RNNTypeError(
                f"LSTMCell: expected hx to be a pair (h, c), got {got} (lstm_cell expects two hidden states)"
            )
        h = self._initial(input, None if hx is None else hx[0], "h", batched)
        c = self._initial(input, None if hx is None else hx[1], "c", batched, same_dtype=False)
        x = input if batched else input.unsqueeze(0)
        (h, c), _ = lstm_step(F.linear(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(_CellBase):
    __doc__ = "GRU cell, a drop-in for `torch.nn.GRUCell`: `h' = cell(x, h)`.\n\n" + _equations(gru_step)
    num_gates = 3

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        batched = self._check_input(input)
        h = self._initial(input, hx, "hx", batched)
        x = input if batched else input.unsqueeze(0)
        h, _ = gru_step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)
