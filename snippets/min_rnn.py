r"""minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?"): gates that see only the input.

The GRU's gates and candidate read $h_{t-1}$, so step $t$ must wait for step $t - 1$. Feng et al.
remove $h_{t-1}$ from them, and with it the GRU's reset gate, the LSTM's output gate and cell
state, and the tanh that bounds the candidate. What is left is $h_t = a_t \odot h_{t-1} + b_t$
with $a_t$ and $b_t$ computed from $x_t$ alone, for all steps in one matrix product, and the
recurrence is a prefix scan (`snippets.scan`). Each module runs either way: `mode="scan"` (log
space, parallel over time) or `mode="loop"` (the step function in a time loop); the tests hold
the two equal.

The log-space scan needs $b_t > 0$, so the candidate goes through

$$
g(x) = \begin{cases} x + \tfrac12 & x \ge 0 \\ \sigma(x) & x < 0 \end{cases}
$$

(positive, continuous at 0, linear for large $x$). The paper's plain formulation has the linear
candidate $\tilde h_t = W_h x_t + b_h$; its log-space version applies $g$, and so do both modes
here, so that they compute the same function.

| | minGRU | minLSTM | GRU |
| --- | --- | --- | --- |
| weights, input = hidden = $d$ | $2d^2$ | $3d^2$ | $6d^2$ |
| biases | $2d$ | $3d$ | $6d$ |
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from snippets.errors import check_size
from snippets.scan import log_space_scan
from snippets.sequence import caller_layout, check_choice, initial_state, time_major

MODES = ("scan", "loop")


def g(x: Tensor) -> Tensor:
    r"""The positive candidate activation: $x + \tfrac12$ for $x \ge 0$, $\sigma(x)$ below."""
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def log_g(x: Tensor) -> Tensor:
    r"""$\log g(x)$ without forming $g(x)$: `logsigmoid` does not underflow where $\sigma(x)$ does."""
    return torch.where(x >= 0, (F.relu(x) + 0.5).log(), F.logsigmoid(x))


def min_gru_step(xw_z: Tensor, xw_h: Tensor, h: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    r"""minGRU step: a GRU whose update gate and candidate see only $x_t$, and no reset gate.

    $$
    \begin{aligned}
    z_t &= \sigma(W_z x_t + b_z) && \text{update gate} \\
    \tilde h_t &= g(W_h x_t + b_h) && \text{candidate} \\
    h_t &= (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t && z_t \text{ writes, as in Feng et al.}
    \end{aligned}
    $$

    `xw_z` and `xw_h` are the projections $W_z x_t + b_z$ and $W_h x_t + b_h$. Returns $h_t$ and
    $(z_t, \tilde h_t)$. (Here $z_t$ takes the new candidate; in `snippets.cells.gru_step` it keeps the past.)
    """
    z = torch.sigmoid(xw_z)
    h_tilde = g(xw_h)
    h = (1 - z) * h + z * h_tilde
    return h, (z, h_tilde)


def min_gru_scan(xw_z: Tensor, xw_h: Tensor, h0: Tensor) -> Tensor:
    r"""All minGRU states at once: `min_gru_step`'s recurrence with $a_t = 1 - z_t$, $b_t = z_t \tilde h_t$.

    $$
    \begin{aligned}
    \log z_t &= \log \sigma(W_z x_t + b_z) \\
    \log (1 - z_t) &= \log \sigma(-(W_z x_t + b_z)) && 1 - \sigma(x) = \sigma(-x) \\
    \log \tilde h_t &= \log g(W_h x_t + b_h) \\
    h_{1:T} &= \operatorname{scan}\big(\log a = \log(1 - z),\ \log b = \log z + \log \tilde h,\ h_0\big)
    \end{aligned}
    $$

    `xw_z`, `xw_h` are `(T, B, H)`; `h0` is `(B, H)`, any sign. Returns $h_1, \dots, h_T$.
    """
    log_z = F.logsigmoid(xw_z)
    log_one_minus_z = F.logsigmoid(-xw_z)
    log_h_tilde = log_g(xw_h)
    return log_space_scan(log_one_minus_z, log_z + log_h_tilde, h0)


def min_lstm_step(xw_f: Tensor, xw_i: Tensor, xw_h: Tensor, h: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor, Tensor]]:
    r"""minLSTM step: forget and input gates that see only $x_t$, normalised to sum to one.

    $$
    \begin{aligned}
    f_t &= \sigma(W_f x_t + b_f) && \text{forget gate} \\
    i_t &= \sigma(W_i x_t + b_i) && \text{input gate} \\
    \tilde h_t &= g(W_h x_t + b_h) && \text{candidate} \\
    f'_t &= f_t / (f_t + i_t) \\
    i'_t &= i_t / (f_t + i_t) \\
    h_t &= f'_t \odot h_{t-1} + i'_t \odot \tilde h_t && \text{no cell state, no output gate}
    \end{aligned}
    $$

    The normalisation keeps $h_t$ a weighted average of $h_{t-1}$ and $\tilde h_t$, so its scale
    does not depend on $t$ (`normalised_gates` computes it where both gates underflow, too).
    Returns $h_t$ and $(f'_t, i'_t, \tilde h_t)$: the gates as they act.
    """
    f_prime, i_prime = normalised_gates(xw_f, xw_i)
    h_tilde = g(xw_h)
    h = f_prime * h + i_prime * h_tilde
    return h, (f_prime, i_prime, h_tilde)


def normalised_gates(xw_f: Tensor, xw_i: Tensor) -> tuple[Tensor, Tensor]:
    r"""minLSTM's gates $f' = f / (f + i)$ and $i' = i / (f + i)$, for $f = \sigma(a_f)$, $i = \sigma(a_i)$.

    For pre-activations far below zero both gates underflow to 0 (below about $-104$ in
    float32, $-745$ in float64), and $f / (f + i)$ is $0 / 0$, where its value is well defined:
    dividing through by $f$,

    $$
    f' = \frac{1}{1 + i / f} = \sigma(\log f - \log i), \qquad i' = \sigma(\log i - \log f),
    $$

    and `logsigmoid` gives $\log f$ and $\log i$ without forming $f$ and $i$ (as `min_lstm_scan` does).
    Wherever $f + i$ is a normal float the quotient is exact to rounding, and it is what is
    returned there, so those values (and their gradients) are the plain quotient's bit for bit;
    below that (pre-activations under about $-87$ in float32) the quotient of subnormal numbers
    loses its digits or is $0 / 0$, and the logarithmic form is returned.
    """
    f = torch.sigmoid(xw_f)
    i = torch.sigmoid(xw_i)
    normal = f + i >= torch.finfo(f.dtype).tiny
    log_ratio = F.logsigmoid(xw_f) - F.logsigmoid(xw_i)  # log f - log i
    # The quotient's denominator is 1 where it is not taken: a 0 / 0 there would leak NaN into the gradient.
    f_prime = torch.where(normal, f / torch.where(normal, f + i, 1.0), torch.sigmoid(log_ratio))
    i_prime = torch.where(normal, i / torch.where(normal, f + i, 1.0), torch.sigmoid(-log_ratio))
    return f_prime, i_prime


def min_lstm_scan(xw_f: Tensor, xw_i: Tensor, xw_h: Tensor, h0: Tensor) -> Tensor:
    r"""All minLSTM states at once: `min_lstm_step`'s recurrence with $a_t = f'_t$, $b_t = i'_t \tilde h_t$.

    $$
    \begin{aligned}
    \log f_t &= \log \sigma(W_f x_t + b_f) \\
    \log i_t &= \log \sigma(W_i x_t + b_i) \\
    \log f'_t &= \log f_t - \log(f_t + i_t) \\
    \log i'_t &= \log i_t - \log(f_t + i_t) \\
    h_{1:T} &= \operatorname{scan}\big(\log a = \log f',\ \log b = \log i' + \log g(W_h x + b_h),\ h_0\big)
    \end{aligned}
    $$
    """
    log_f = F.logsigmoid(xw_f)
    log_i = F.logsigmoid(xw_i)
    log_f_prime = log_f - torch.logaddexp(log_f, log_i)
    log_i_prime = log_i - torch.logaddexp(log_f, log_i)
    return log_space_scan(log_f_prime, log_i_prime + log_g(xw_h), h0)


class _MinRNN(nn.Module):
    """One layer: a `linear_<gate>` per gate, then the scan or the step function in a time loop."""

    gates: tuple[str, ...]  # one nn.Linear each, in the step function's argument order
    trace_names: tuple[str, ...]  # what the step function returns as gates, then "h"

    def __init__(
        self, input_size: int, hidden_size: int, batch_first: bool = False, bias: bool = True, device=None, dtype=None
    ) -> None:
        super().__init__()
        check_size("input_size", input_size, minimum=1)
        check_size("hidden_size", hidden_size, minimum=1)
        self.input_size, self.hidden_size, self.batch_first, self.bias = input_size, hidden_size, batch_first, bias
        for gate in self.gates:  # nn.Linear's own initialisation, as Feng et al. use
            self.add_module(f"linear_{gate}", nn.Linear(input_size, hidden_size, bias, device=device, dtype=dtype))

    def extra_repr(self) -> str:
        options = ("" if not self.batch_first else ", batch_first=True") + ("" if self.bias else ", bias=False")
        return f"{self.input_size}, {self.hidden_size}{options}"

    def forward(self, input: Tensor, h0: Tensor | None = None, mode: str = "scan", return_gates: bool = False):
        """`(output, h_n)`, plus a dict of `(T, B, H)` traces with `return_gates=True`.

        `input` is `(T, B, I)`, `(B, T, I)` with `batch_first`, or unbatched `(T, I)`; `h0` and
        `h_n` are `(B, H)` (`(H,)` unbatched): one layer, so no layer dimension. `h0` defaults to
        zeros. `mode="scan"` runs the parallel log-space scan, `mode="loop"` the step function.
        """
        name = type(self).__name__
        check_choice(name, "mode", mode, MODES)
        x, batched = time_major(name, input, self.input_size, self.linear_h.weight.dtype, self.batch_first)
        h0 = initial_state(name, "h0", h0, x, self.hidden_size, batched)
        xw = tuple(getattr(self, f"linear_{gate}")(x) for gate in self.gates)  # all steps, one product each
        output = self.scan(*xw, h0) if mode == "scan" else self._loop(xw, h0)
        traces = self._traces(xw, h0, output) if return_gates else None
        output, (h_n,) = caller_layout(output, (output[-1],), batched, self.batch_first)
        return (output, h_n, traces) if return_gates else (output, h_n)

    def _loop(self, xw: tuple[Tensor, ...], h: Tensor) -> Tensor:
        outputs = []
        for xw_t in zip(*(v.unbind(0) for v in xw)):
            h, _ = self.step(*xw_t, h)
            outputs.append(h)
        return torch.stack(outputs)

    def _traces(self, xw: tuple[Tensor, ...], h0: Tensor, output: Tensor) -> dict[str, Tensor]:
        # The gates depend on x alone: the step function evaluates them for all steps at once.
        _, gates = self.step(*xw, torch.cat([h0.unsqueeze(0), output[:-1]]))
        return dict(zip(self.trace_names, (*gates, output)))


class MinGRU(_MinRNN):
    r"""minGRU over a sequence (Feng et al. 2024); each step is `min_gru_step`:

    $$
    h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t, \qquad
    z_t = \sigma(W_z x_t + b_z), \quad \tilde h_t = g(W_h x_t + b_h)
    $$

    Parameters `linear_z` and `linear_h` ($W_z, b_z$ and $W_h, b_h$).
    Traces (`return_gates=True`): `z`, `h_tilde`, and the state `h`.
    """

    gates = ("z", "h")
    trace_names = ("z", "h_tilde", "h")
    step = staticmethod(min_gru_step)
    scan = staticmethod(min_gru_scan)


class MinLSTM(_MinRNN):
    r"""minLSTM over a sequence (Feng et al. 2024); each step is `min_lstm_step`:

    $$
    h_t = f'_t \odot h_{t-1} + i'_t \odot \tilde h_t, \qquad
    (f'_t, i'_t) = \frac{(f_t, i_t)}{f_t + i_t}, \quad
    f_t = \sigma(W_f x_t + b_f), \quad i_t = \sigma(W_i x_t + b_i), \quad \tilde h_t = g(W_h x_t + b_h)
    $$

    Parameters `linear_f`, `linear_i` and `linear_h`.
    Traces (`return_gates=True`): the normalised gates $f'_t$, $i'_t$ as `f` and `i`, `h_tilde`, and `h`.
    """

    gates = ("f", "i", "h")
    trace_names = ("f", "i", "h_tilde", "h")
    step = staticmethod(min_lstm_step)
    scan = staticmethod(min_lstm_scan)
