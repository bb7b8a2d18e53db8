r"""The LSTM's memory, measured: how big its cell state gets, and what a trained cell holds.

Two questions from the LSTM cell page.

*Why is the candidate a tanh?* The cell adds $i_t \odot g_t$ to its state at every step. With
$g_t = \tanh(\cdot)$ each addition lies in $(-1, 1)$ whatever the input, so
$|c_t| \le |c_{t-1}| + 1$, and additions of both signs can cancel. With a ReLU candidate an
addition is never negative and grows with the pre-activation, so with the input.
`cell_state_growth` runs a random LSTM with either candidate and records how large $|c_t|$ gets
and how many units end up where $\tanh(c_t)$ is flat (so $h_t$ no longer follows $c_t$).

*What does a trained cell hold?* `recall_traces` runs a trained recall LSTM (weights from the
`recall` experiment) on the task's own validation sequences and returns its gate traces;
`subject_variance` measures how much of a unit's cell state the subject explains at each step,
and `carrying_units` picks the units whose cell state depends most on the subject at the query.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from snippets.errors import check_size

CANDIDATES: dict[str, Callable[[Tensor], Tensor]] = {"tanh": torch.tanh, "relu": torch.relu}

# Where tanh is flat: tanh'(3) = 1 - tanh(3)^2 < 0.01, so h_t = o_t tanh(c_t) barely follows c_t.
SATURATED = 3.0


def lstm_step_with_candidate(xw: Tensor, h: Tensor, c: Tensor, weight_hh: Tensor, bias_hh: Tensor | None,
                             candidate: Callable[[Tensor], Tensor] = torch.tanh):
    r"""`snippets.cells.lstm_step` (no projection) with the candidate's nonlinearity $\phi$ as an argument.

    $$
    g_t = \phi(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}), \qquad \phi \in \{\tanh, \mathrm{ReLU}\}
    $$

    and the other five equations unchanged. Returns `(h, c)` and `(i, f, g, o)`.
    """
    i, f, g, o = (xw + F.linear(h, weight_hh, bias_hh)).chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), candidate(g), torch.sigmoid(o)
    c = f * c + i * g
    h = o * torch.tanh(c)
    return (h, c), (i, f, g, o)


@torch.no_grad()
def cell_state_growth(candidate: str, input_scale: float = 1.0, seed: int = 0, steps: int = 300,
                      hidden_size: int = 64, input_size: int = 8, batch: int = 16,
                      forget_bias: float = 1.0) -> dict:
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
    for name, value in (("steps", steps), ("hidden_size", hidden_size), ("input_size", input_size),
                        ("batch", batch)):
        check_size(name, value, 1)
    torch.manual_seed(seed)
    lstm = set_forget_bias(LSTM(input_size, hidden_size), forget_bias)
    x = torch.randn(steps, batch, input_size, generator=torch.Generator().manual_seed(seed)) * input_scale
    xw = F.linear(x, lstm.weight_ih_l0, lstm.bias_ih_l0)
    h = c = torch.zeros(batch, hidden_size)
    out = {"mean_abs_c": [], "saturated": [], "max_write": []}
    for xw_t in xw.unbind(0):
        (h, c), (i, _, g, _) = lstm_step_with_candidate(xw_t, h, c, lstm.weight_hh_l0, lstm.bias_hh_l0,
                                                        CANDIDATES[candidate])
        out["mean_abs_c"].append(float(c.abs().mean()))
        out["saturated"].append(float((c.abs() > SATURATED).float().mean()))
        out["max_write"].append(float((i * g).abs().max()))
    return out


@torch.no_grad()
def recall_traces(state_dict: dict, gap: int, n: int = 1024, seed: int = 0) -> dict:
    """Gate traces of a trained recall model on `n` of the task's sequences at `gap`.

    `state_dict` is a `SequenceModel`'s (keys `rnn.weight_ih_l0`, ..., `readout.weight`), as the
    `recall` experiment stores it. The sequences are the run's validation batch for `seed` when
    `n` is the validation size (`data_generator(seed, stream=1)`). Returns numpy arrays: every
    trace key (`"i"`, `"f"`, `"g"`, `"o"`, `"h"`, `"c"`) as (time, sequence, unit), `"subject"`
    (sequence,), and `"correct"` (sequence,), whether the read-out named the subject.
    """
    from snippets.seeding import data_generator
    from snippets.tasks import Recall
    from snippets.train import traceable_layer

    check_size("n", n, 1)
    layer = traceable_layer(state_dict)
    if layer.mode != "LSTM":
        raise ValueError(f"recall_traces: expected an LSTM's state_dict, got one of a {layer.mode} layer")
    task = Recall(gap=gap)
    if layer.input_size != task.input_size:
        raise ValueError(f"recall_traces: the weights expect input size {layer.input_size}, "
                         f"the recall task has {task.input_size}")
    x, subject = task.sample(n, data_generator(seed, stream=1))
    output, _, trace = layer(x, return_gates=True)
    logits = F.linear(output, state_dict["readout.weight"], state_dict["readout.bias"])
    out = {key: value[0, 0].numpy() for key, value in trace.items()}
    out["subject"] = subject.numpy()
    out["correct"] = (logits[:, -1].argmax(-1) == subject).numpy()
    return out


def subject_variance(c: np.ndarray, subject: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""How much of each unit's cell state the subject accounts for.

    `c` is (sequence, unit) at one step, or (time, sequence, unit). Returns the between-subject
    variance $\sum_s p_s (\bar c_s - \bar c)^2$ and its share of the total variance ($R^2$ of a
    model that knows only the subject; 1 where the total variance is 0), one per unit (per step).
    """
    c = np.asarray(c, dtype=np.float64)
    subject = np.asarray(subject)
    if c.ndim not in (2, 3) or c.shape[-2] != subject.shape[0]:
        raise ValueError(f"subject_variance: expected c of shape ([time,] sequence, unit) with "
                         f"{subject.shape[0]} sequences, got {c.shape}")
    mean = c.mean(-2, keepdims=True)
    between = np.zeros(c.shape[:-2] + c.shape[-1:])
    for s in np.unique(subject):
        rows = c[..., subject == s, :]
        between += rows.shape[-2] / c.shape[-2] * (rows.mean(-2) - mean[..., 0, :]) ** 2
    total = ((c - mean) ** 2).mean(-2)
    share = np.divide(between, total, out=np.ones_like(between), where=total > 0)
    return between, share


def carrying_units(c_query: np.ndarray, subject: np.ndarray, n_units: int = 3) -> list[int]:
    """The `n_units` units whose cell state at the query step varies most between subjects."""
    check_size("n_units", n_units, 1)
    between, _ = subject_variance(c_query, subject)
    if n_units > between.shape[-1]:
        raise ValueError(f"carrying_units: asked for {n_units} units of {between.shape[-1]}")
    return [int(u) for u in np.argsort(-between, kind="stable")[:n_units]]
