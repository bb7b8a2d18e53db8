r"""sLSTM (Beck et al. 2024, "xLSTM: Extended Long Short-Term Memory"), one head: exponential gates.

An LSTM whose input gate is $\exp$ rather than $\sigma$, so that a new input can outweigh all that
is stored however strongly it was written, and whose forget gate may be $\exp$ too. The cell state
then has no bound, so a normaliser state $n_t$ sums the gates the same way $c_t$ sums the inputs,
and $h_t$ reads their ratio, a weighted average of the $z_t$. The recurrence keeps $h_{t-1}$ in
every gate (unlike minGRU/minLSTM): the sLSTM cannot be a scan, and is run as a time loop.

$\exp(\tilde i_t)$ overflows float32 once $\tilde i_t > 88$. The fix is a third state, the
stabiliser $m_t$, a running maximum of the log-gates: the stored $c_t$ and $n_t$ are the true ones
times $e^{-m_t}$, which leaves $h_t = o_t \odot c_t / n_t$ unchanged and every exponent $\le 0$.
`slstm_step` is that stabilised form, `slstm_step_unstabilised` the plain one (to watch it fail).

Weights are stacked by gate in the order $z, i, f, o$ (as the paper lists them): `weight_ih` ($W$,
`(4H, I)`), `weight_hh` ($R$, `(4H, H)`, dense: one head) and `bias` ($b$, `(4H,)`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from snippets.errors import RNNInputError, check_size
from snippets.sequence import caller_layout, check_choice, initial_state, time_major

FORGET_GATES = ("sigmoid", "exp")
State = tuple[Tensor, Tensor, Tensor, Tensor]


def slstm_step(
    xw: Tensor, h: Tensor, c: Tensor, n: Tensor, m: Tensor, weight_hh: Tensor, forget_gate: str = "sigmoid"
) -> tuple[State, tuple[Tensor, Tensor, Tensor, Tensor]]:
    r"""Stabilised sLSTM step. `xw` is $W x_t + b$ for the gates $z, i, f, o$.

    $$
    \begin{aligned}
    (\tilde z_t, \tilde i_t, \tilde f_t, \tilde o_t) &= W x_t + R h_{t-1} + b && \text{pre-activations} \\
    \log f_t &= \log \sigma(\tilde f_t) \ \text{ or } \ \tilde f_t && \text{sigmoid or exp forget gate} \\
    m_t &= \max(\log f_t + m_{t-1},\ \tilde i_t) && \text{stabiliser} \\
    i'_t &= \exp(\tilde i_t - m_t) && \text{input gate } e^{\tilde i_t}\text{, rescaled} \\
    f'_t &= \exp(\log f_t + m_{t-1} - m_t) && \text{forget gate, rescaled} \\
    z_t &= \tanh(\tilde z_t) && \text{cell input} \\
    o_t &= \sigma(\tilde o_t) && \text{output gate} \\
    c_t &= f'_t \odot c_{t-1} + i'_t \odot z_t && \text{cell state } \times e^{-m_t} \\
    n_t &= f'_t \odot n_{t-1} + i'_t && \text{normaliser } \times e^{-m_t} \\
    h_t &= o_t \odot c_t / n_t
    \end{aligned}
    $$

    Both exponents are $\le 0$, and one of them is 0, so $n_t \ge 1$ from the first step on when
    $m_0 = -\infty$ (`SLSTM`'s default: nothing stored yet, so $m_1 = \tilde i_1$). Returns the
    state `(h, c, n, m)` and the gates `(z, i', f', o)`.
    """
    z_tilde, i_tilde, f_tilde, o_tilde = (xw + F.linear(h, weight_hh)).chunk(4, dim=-1)
    log_f = F.logsigmoid(f_tilde) if forget_gate == "sigmoid" else f_tilde
    m_new = torch.maximum(log_f + m, i_tilde)
    i = torch.exp(i_tilde - m_new)
    f = torch.exp(log_f + m - m_new)
    z = torch.tanh(z_tilde)
    o = torch.sigmoid(o_tilde)
    c = f * c + i * z
    n = f * n + i
    h = o * c / n
    return (h, c, n, m_new), (z, i, f, o)


def slstm_step_unstabilised(
    xw: Tensor, h: Tensor, c: Tensor, n: Tensor, weight_hh: Tensor, forget_gate: str = "sigmoid"
) -> tuple[tuple[Tensor, Tensor, Tensor], tuple[Tensor, ...]]:
    r"""The sLSTM step as first written: overflows once a gate's exponent passes ~88 (float32).

    $$
    \begin{aligned}
    (\tilde z_t, \tilde i_t, \tilde f_t, \tilde o_t) &= W x_t + R h_{t-1} + b \\
    z_t &= \tanh(\tilde z_t), \quad i_t = \exp(\tilde i_t), \quad
    f_t = \sigma(\tilde f_t) \text{ or } \exp(\tilde f_t), \quad o_t = \sigma(\tilde o_t) \\
    c_t &= f_t \odot c_{t-1} + i_t \odot z_t \\
    n_t &= f_t \odot n_{t-1} + i_t \\
    h_t &= o_t \odot c_t / n_t
    \end{aligned}
    $$

    Returns the state `(h, c, n)` and the gates `(z, i, f, o)`.
    """
    z_tilde, i_tilde, f_tilde, o_tilde = (xw + F.linear(h, weight_hh)).chunk(4, dim=-1)
    z = torch.tanh(z_tilde)
    i = torch.exp(i_tilde)
    f = torch.sigmoid(f_tilde) if forget_gate == "sigmoid" else torch.exp(f_tilde)
    o = torch.sigmoid(o_tilde)
    c = f * c + i * z
    n = f * n + i
    h = o * c / n
    return (h, c, n), (z, i, f, o)


def slstm_loop(
    xw: Tensor, state: State, weight_hh: Tensor, forget_gate: str = "sigmoid", stabilised: bool = True
) -> tuple[Tensor, State, list[tuple[Tensor, ...]]]:
    """The time loop over `(T, B, 4H)` projections from `state` `(h, c, n, m)`, each `(B, H)`.

    Returns the outputs `(T, B, H)`, the final state and, per step, the gates then the state.
    Unstabilised, the loop carries the true $c e^{m}$, $n e^{m}$ and reports $m = 0$, so a state
    means the same thing to both forms.
    """
    h, c, n, m = state
    if not stabilised:
        c, n, m = c * m.exp(), n * m.exp(), torch.zeros_like(m)
    outputs, steps = [], []
    for xw_t in xw.unbind(0):
        if stabilised:
            (h, c, n, m), gates = slstm_step(xw_t, h, c, n, m, weight_hh, forget_gate)
        else:
            (h, c, n), gates = slstm_step_unstabilised(xw_t, h, c, n, weight_hh, forget_gate)
        outputs.append(h)
        steps.append((*gates, h, c, n, m))
    return torch.stack(outputs), (h, c, n, m), steps


class SLSTM(nn.Module):
    r"""sLSTM over a sequence, one head (Beck et al. 2024); each step is `slstm_step`:

    $$
    \begin{aligned}
    c_t &= f_t \odot c_{t-1} + i_t \odot z_t, \qquad n_t = f_t \odot n_{t-1} + i_t,
    \qquad h_t = o_t \odot c_t / n_t \\
    z_t &= \tanh(\tilde z_t), \quad i_t = \exp(\tilde i_t), \quad
    f_t = \sigma(\tilde f_t) \text{ or } \exp(\tilde f_t), \quad o_t = \sigma(\tilde o_t)
    \end{aligned}
    $$

    with pre-activations $W x_t + R h_{t-1} + b$, computed in the stabilised form unless
    `stabilise=False`. The state is `(h, c, n, m)`, each `(B, H)` (`(H,)` unbatched); it
    defaults to $h = c = n = 0$, $m = -\infty$. Traces (`return_gates=True`): `z`, `i`, `f`, `o`
    (the rescaled $i'_t$, $f'_t$ when stabilised) and the states `h`, `c`, `n`, `m`, each `(T, B, H)`.
    Initialisation: every parameter $U(-1/\sqrt{H}, 1/\sqrt{H})$, as torch.nn's LSTM.
    """

    trace_names = ("z", "i", "f", "o", "h", "c", "n", "m")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        forget_gate: str = "sigmoid",
        batch_first: bool = False,
        bias: bool = True,
        stabilise: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        check_size("input_size", input_size, minimum=1)
        check_size("hidden_size", hidden_size, minimum=1)
        check_choice("SLSTM", "forget_gate", forget_gate, FORGET_GATES)
        self.input_size, self.hidden_size, self.forget_gate = input_size, hidden_size, forget_gate
        self.batch_first, self.stabilise = batch_first, stabilise
        new = dict(device=device, dtype=dtype)
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size, **new))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size, **new))
        self.bias = nn.Parameter(torch.empty(4 * hidden_size, **new)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}, forget_gate={self.forget_gate!r}"
        for key, default in dict(batch_first=False, stabilise=True).items():
            s += f", {key}={getattr(self, key)}" if getattr(self, key) != default else ""
        return s + ("" if self.bias is not None else ", bias=False")

    def forward(self, input: Tensor, state: State | None = None, return_gates: bool = False):
        """`(output, (h, c, n, m))`, plus a dict of traces with `return_gates=True`."""
        x, batched = time_major("SLSTM", input, self.input_size, self.weight_ih.dtype, self.batch_first)
        state = self._initial_state(state, x, batched)
        xw = F.linear(x, self.weight_ih, self.bias)  # all steps in one product
        output, state, steps = slstm_loop(xw, state, self.weight_hh, self.forget_gate, self.stabilise)
        output, state = caller_layout(output, state, batched, self.batch_first)
        if not return_gates:
            return output, state
        return output, state, dict(zip(self.trace_names, (torch.stack(v) for v in zip(*steps))))

    def _initial_state(self, state: State | None, x: Tensor, batched: bool) -> State:
        names, fills = ("h", "c", "n", "m"), (0.0, 0.0, 0.0, -math.inf)
        if state is None:
            return tuple(
                initial_state("SLSTM", name, None, x, self.hidden_size, batched, fill)
                for name, fill in zip(names, fills)
            )
        if not isinstance(state, (tuple, list)) or len(state) != 4:
            raise RNNInputError(
                f"SLSTM: expected state to be a tuple (h, c, n, m), got {type(state).__name__}"
                + (f" of length {len(state)}" if isinstance(state, (tuple, list)) else "")
            )
        return tuple(initial_state("SLSTM", name, s, x, self.hidden_size, batched) for name, s in zip(names, state))
