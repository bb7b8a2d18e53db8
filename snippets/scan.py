r"""The linear recurrence $h_t = a_t \odot h_{t-1} + b_t$, step by step and as a parallel scan.

minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?") drop the hidden state from
their gates, so their gates depend on the input alone and the whole sequence of states is one
linear recurrence with known coefficients. Unrolled,

$$
h_t = A_t\, h_0 + \sum_{s=1}^{t} \frac{A_t}{A_s}\, b_s, \qquad A_t = \prod_{k=1}^{t} a_k ,
$$

which prefix sums compute for all $t$ at once. Feng et al. do it in log space with Heinsen's
(2023) trick: with $a_t > 0$ and $b_t > 0$, $\log A_t$ is a cumulative sum and the sum over $s$ a
cumulative log-sum-exp, so no product under- or overflows however long the sequence.

Two things go beyond the public implementations:

- **$h_0$ of any sign.** Taking $\log h_0$ and feeding it to the scan as one more $b$, as common
  implementations do, needs $h_0 > 0$. Here the $h_0$ term stays out of the logarithm: only the
  sum over $b_s > 0$ is done in log space, and $A_t h_0$ is added afterwards.
- **float32 over long sequences.** $\log A_t$ grows like $t$, and float32 resolves a number near
  $-2000$ only to $2 \times 10^{-4}$, so one log-space pass over 4096 steps gives states off by
  about that relative amount (measured: $4 \times 10^{-4}$). The scan therefore works in chunks
  of `chunk_size` steps: log space inside a chunk, where the sums stay small, and the state
  carried from chunk to chunk by the recurrence itself, one multiply-add per chunk (measured:
  $1.4 \times 10^{-6}$). `chunk_size=None` is the single pass.
- **Gates that shut.** A factor $a_t$ far below one does the same within a chunk: $\log a_t$ is
  then a large negative number (about $-x$ for a gate's pre-activation $x$), the cumulative
  sum $a^*$ reaches it, and the scan subtracts it from itself again to find the states after
  it, losing $|a^*| \varepsilon$ of relative precision ($\varepsilon$ the float's resolution:
  $1.2 \times 10^{-7}$ in float32). For a minGRU on inputs of size $10^3$, whose gates reach
  pre-activations of several thousand, that was a state off by 0.4 where the loop is off by
  $10^{-3}$. So $\log a_t$ is floored at $\log \varepsilon$: a factor below $\varepsilon$
  counts as $\varepsilon$, which moves $h_t$ by at most $\varepsilon |h_{t-1}|$, the size of
  one rounding of $h_{t-1}$, and bounds $|a^*|$ by `chunk_size` $\cdot |\log \varepsilon|$ (8 x 16
  in float32). The states are then within about $10^{-5}$ of the largest $|h|$ in float32
  whatever the gates (measured: $3 \times 10^{-6}$ at inputs of size $10^3$ and $10^4$, where
  the loop is within $4 \times 10^{-7}$; the tests hold the bound). Where every $a_t \ge
  \varepsilon$, as for gates with pre-activations below about 16 in float32, the floor changes nothing.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from snippets.errors import check_size

# Measured on minGRU and minLSTM, float32 against float64 at T = 512 and 4096 (3 seeds each): the
# worst error in states and gradients is 4e-5 with chunks of 32 steps, 9e-6 with 16, 4e-6 with 8,
# 1e-6 with 4. Chunks of 8 cost a loop of T/8 multiply-adds, a few ms at T = 4096.
CHUNK_SIZE = 8


def linear_recurrence(a: Tensor, b: Tensor, h0: Tensor) -> Tensor:
    r"""The sequential reference: one step per time step, along dim 0.

    $$h_t = a_t \odot h_{t-1} + b_t, \qquad t = 1, \dots, T$$

    `a` and `b` are (T, ...) and `h0` broadcasts against one step. Returns $h_1, \dots, h_T$.
    """
    h, states = h0, []
    for a_t, b_t in zip(a.unbind(0), b.unbind(0)):
        h = a_t * h + b_t
        states.append(h)
    return torch.stack(states)


def log_space_scan(log_a: Tensor, log_b: Tensor, h0: Tensor, chunk_size: int | None = CHUNK_SIZE) -> Tensor:
    r"""All states of $h_t = a_t \odot h_{t-1} + b_t$ from $\log a_t$ and $\log b_t$, in parallel over time.

    Within a chunk that starts from state $h_\text{start}$ (the first chunk from $h_0$), with
    $a^*_t = \sum_{k \le t} \log a_k$ counted from the chunk's start:

    $$
    \begin{aligned}
    a^*_t &= \operatorname{cumsum}_t \log a_t && \log A_t \\
    \ell_t &= a^*_t + \operatorname{logcumsumexp}_t\,(\log b_t - a^*_t)
        && \log \textstyle\sum_{s \le t} (A_t / A_s)\, b_s \\
    h_t &= e^{a^*_t}\, h_\text{start} + e^{\ell_t} && h_\text{start} \text{ stays out of the logs}
    \end{aligned}
    $$

    and the next chunk starts from the last state of this one. `log_a` and `log_b` are (T, ...),
    time first; `h0` broadcasts against one step and may have any sign. Returns $h_1, \dots, h_T$.
    A factor $a_t$ below the float's resolution $\varepsilon$ is taken as $\varepsilon$ (the module's
    docstring says why).
    """
    steps = log_a.shape[0]
    check_size("the number of steps", steps, 1)
    if chunk_size is not None:
        check_size("chunk_size", chunk_size, 1)
    log_a = log_a.clamp_min(math.log(torch.finfo(log_a.dtype).eps))  # see "Gates that shut" above
    size = steps if chunk_size is None else min(chunk_size, steps)
    chunks = -(-steps // size)  # rounded up
    decay, inner = _within_chunks(_chunked(log_a, chunks, size), _chunked(log_b, chunks, size))
    starts = _carry(decay[:, -1], inner[:, -1], h0)
    return (decay * starts.unsqueeze(1) + inner).flatten(0, 1)[:steps]


def _chunked(v: Tensor, chunks: int, size: int) -> Tensor:
    """`(T, ...)` as `(chunks, size, ...)`. The zeros padding the last chunk only feed padded steps, cut off later."""
    padding = v.new_zeros(chunks * size - v.shape[0], *v.shape[1:])
    return torch.cat([v, padding]).unflatten(0, (chunks, size))


def _within_chunks(log_a: Tensor, log_b: Tensor) -> tuple[Tensor, Tensor]:
    """Per chunk (dim 0), along its steps (dim 1): $A_t$ and the states reached from a zero start."""
    a_star = log_a.cumsum(1)
    return a_star.exp(), (a_star + torch.logcumsumexp(log_b - a_star, dim=1)).exp()


def _carry(decay: Tensor, inner: Tensor, h0: Tensor) -> Tensor:
    """Each chunk's starting state: the recurrence again, one step per chunk, in linear space."""
    h, starts = h0.expand_as(inner[0]), []
    for decay_k, inner_k in zip(decay.unbind(0), inner.unbind(0)):
        starts.append(h)
        h = decay_k * h + inner_k
    return torch.stack(starts)
