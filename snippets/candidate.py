r"""Why the LSTM's candidate is a tanh: how big its cell state gets with a tanh or a ReLU candidate.

The cell adds $i_t \odot g_t$ to its state at every step. With $g_t = \tanh(\cdot)$ each addition
lies in $(-1, 1)$ whatever the input, so $|c_t| \le |c_{t-1}| + 1$, and additions of both signs can
cancel. With a ReLU candidate an addition is never negative and grows with the pre-activation, so
with the input. `cell_state_growth` runs a random LSTM with either candidate and records how large
$|c_t|$ gets and how many units end up where $\tanh(c_t)$ is flat (so $h_t$ no longer follows $c_t$).
Its step is `snippets.cells.lstm_step` itself, given the candidate's function (`candidate=`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from snippets.cells import lstm_step
from snippets.errors import check_size

CANDIDATES: dict[str, Callable[[Tensor], Tensor]] = {"tanh": torch.tanh, "relu": torch.relu}

# Where tanh is flat: tanh'(3) = 1 - tanh(3)^2 < 0.01, so h_t = o_t tanh(c_t) barely follows c_t.
SATURATED = 3.0


@torch.no_grad()
def cell_state_growth(
    candidate: str,
    input_scale: float = 1.0,
    seed: int = 0,
    steps: int = 300,
    hidden_size: int = 64,
    input_size: int = 8,
    batch: int = 16,
    forget_bias: float = 1.0,
) -> dict:
    r"""Run a random LSTM with a `"tanh"` or `"relu"` candidate on random input; measure $c_t$.

    Weights: `torch.nn.LSTM`'s initialisation (seeded with `seed`), forget-gate bias set to
    `forget_bias`; the same weights and the same input for either candidate. Input
    $x_t \sim N(0, s^2)$ with $s$ = `input_scale`. Returns per step $t$ (lists of floats,
    means over units and sequences): `"mean_abs_c"`, $\overline{|c_t|}$; `"saturated"`, the
    fraction of units with $|c_t| > 3$; `"max_write"`, the largest $|i_t g_t|$ of the step.
    """
    from snippets import LSTM
    from snippets.variants import set_forget_bias

    if candidate not in CANDIDATES:
        raise ValueError(f"cell_state_growth: expected candidate 'tanh' or 'relu', got {candidate!r}")
    if not input_scale > 0:
        raise ValueError(f"cell_state_growth: expected input_scale > 0, got {input_scale!r}")
    for name, value in (("steps", steps), ("hidden_size", hidden_size), ("input_size", input_size), ("batch", batch)):
        check_size(name, value, 1)
    nonlinearity = CANDIDATES[candidate]  # g_t = nonlinearity(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
    torch.manual_seed(seed)
    lstm = set_forget_bias(LSTM(input_size, hidden_size), forget_bias)
    x = torch.randn(steps, batch, input_size, generator=torch.Generator().manual_seed(seed)) * input_scale
    xw = F.linear(x, lstm.weight_ih_l0, lstm.bias_ih_l0)
    h = c = torch.zeros(batch, hidden_size)
    out = {"mean_abs_c": [], "saturated": [], "max_write": []}
    for xw_t in xw.unbind(0):
        (h, c), (i, _, g, _) = lstm_step(xw_t, h, c, lstm.weight_hh_l0, lstm.bias_hh_l0, candidate=nonlinearity)
        out["mean_abs_c"].append(float(c.abs().mean()))
        out["saturated"].append(float((c.abs() > SATURATED).float().mean()))
        out["max_write"].append(float((i * g).abs().max()))
    return out
