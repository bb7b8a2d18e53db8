r"""Backpropagation through time, written out, for one LSTM or GRU layer in one direction.

`torch.autograd` can differentiate the time loop in `snippets.layers` by itself, but it records
about 25 small operations per step and replays them one by one. Here the backward pass is
written by hand, as the chain rule through time:

1. The forward loop runs without autograd and keeps what the backward needs: the gate
   activations, the states, and nothing else.
2. Before the backward loop, every *local* derivative (one gate's activation with respect to its
   pre-activation, a state with respect to a gate) is computed for all time steps at once: none
   of them depends on the gradient flowing back.
3. Only the gradients of the states, $\delta h$ (and $\delta c$ for the LSTM), go through the
   time loop, from the last step to the first: a few operations per step.
4. The gradient of $W_{hh}$ is then one matrix product over all steps, and the gradient of the
   input projection $W_{ih} x_t + b$ is the gradient of the pre-activations themselves, which
   autograd carries on to $W_{ih}$, $b$ and $x$.

What the forward keeps is also what `return_gates=True` returns, so traces cost next to nothing;
they come out marked non-differentiable (they are for looking inside, not for a loss).
The backward is not differentiable itself: asking for second derivatives raises an error.
`compiled_loops()` runs the same four loop functions through `torch.compile` (opt-in).

Notation: $\delta y = \partial L / \partial y$ for the loss $L$, and $\bar a$ is the gradient
of a gate's pre-activation $a$ (for $i_t = \sigma(a_{i,t})$, $\bar a_i = \delta i \; i (1-i)$).
Gates are stacked as in `snippets.cells`: $(i, f, g, o)$ and $(r, z, n)$. The equations are the
same as `lstm_step` and `gru_step`; `tests/test_fast_paths.py` checks both against those and
against finite differences.

The functions work on time-major tensors: `xw` is $(T, B, G H)$, the states $(B, H)$.
"""

from __future__ import annotations

import contextlib
import functools

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

# -- LSTM -----------------------------------------------------------------------------------


class LSTMLayer(torch.autograd.Function):
    r"""One LSTM layer-direction: `out, h_T, c_T, gates, c = LSTMLayer.apply(xw, h_0, c_0, weight_hh)`.

    `xw` holds $W_{ih} x_t + b_{ih} + b_{hh}$ for every step (both biases are folded in: they add
    to the same pre-activation). Forward, per step (the equations of `lstm_step`):

    $$
    a_t = xw_t + W_{hh} h_{t-1}, \quad (i, f, g, o) = (\sigma, \sigma, \tanh, \sigma)(a_t), \quad
    c_t = f c_{t-1} + i g, \quad h_t = o \tanh(c_t)
    $$

    Backward, from $t = T$ down to 1, with $\delta h_t$ the gradient from the output at step $t$
    plus the one coming back from step $t+1$:

    $$
    \begin{aligned}
    \delta h_t &= \delta \mathrm{out}_t + W_{hh}^\top \bar a_{t+1} \\
    \delta c_t &= f_{t+1}\, \delta c_{t+1} + \delta h_t\, o_t (1 - \tanh^2 c_t) \\
    \bar a_{i,t} &= \delta c_t\, g_t\, i_t (1 - i_t) \qquad
    \bar a_{f,t} = \delta c_t\, c_{t-1}\, f_t (1 - f_t) \\
    \bar a_{g,t} &= \delta c_t\, i_t (1 - g_t^2) \qquad\;\;\,
    \bar a_{o,t} = \delta h_t \tanh(c_t)\, o_t (1 - o_t)
    \end{aligned}
    $$

    and at the end $\delta W_{hh} = \sum_t \bar a_t h_{t-1}^\top$, $\delta xw_t = \bar a_t$,
    $\delta h_0 = W_{hh}^\top \bar a_1$, $\delta c_0 = f_1 \delta c_1$.
    """

    @staticmethod
    def forward(ctx, xw: Tensor, h0: Tensor, c0: Tensor, weight_hh: Tensor):
        gates, h, c, tanh_c = _loop(lstm_forward)(xw, h0, c0, weight_hh)
        ctx.save_for_backward(gates, h, c, tanh_c, weight_hh)
        ctx.set_materialize_grads(False)
        traces = (gates, c[1:])
        ctx.mark_non_differentiable(*traces)
        return h[1:], h[-1].clone(), c[-1].clone(), *traces

    @staticmethod
    @once_differentiable  # the backward is not itself differentiable: say so rather than be wrong
    def backward(ctx, d_out, d_hT, d_cT, *_traces):
        gates, h, c, tanh_c, weight_hh = ctx.saved_tensors
        d_out = torch.zeros_like(h[1:]) if d_out is None else d_out
        d_hT = torch.zeros_like(h[0]) if d_hT is None else d_hT
        d_cT = torch.zeros_like(c[0]) if d_cT is None else d_cT
        return _loop(lstm_backward)(gates, h, c, tanh_c, weight_hh, d_out, d_hT, d_cT)


def lstm_forward(xw: Tensor, h: Tensor, c: Tensor, weight_hh: Tensor):
    """The forward loop. Returns, stacked over time: the gates, h and c (from h_0, c_0), tanh(c)."""
    hidden = h.shape[-1]
    gates, hs, cs, tanh_cs = [], [h], [c], []
    for xw_t in xw.unbind(0):
        a = torch.addmm(xw_t, h, weight_hh.t())  # pre-activations a_t, made into gates in place:
        i_f, g, o = a.split([2 * hidden, hidden, hidden], dim=-1)
        i_f.sigmoid_(), g.tanh_(), o.sigmoid_()
        i, f = i_f.chunk(2, dim=-1)
        c = torch.addcmul(f * c, i, g)  # c_t = f c_{t-1} + i g
        tanh_c = c.tanh()
        h = o * tanh_c  # h_t = o tanh(c_t)
        gates.append(a), hs.append(h), cs.append(c), tanh_cs.append(tanh_c)
    return torch.stack(gates), torch.stack(hs), torch.stack(cs), torch.stack(tanh_cs)


def lstm_backward(gates, h, c, tanh_c, weight_hh, d_out, d_hT, d_cT):
    """The backward loop: gradients of xw, h_0, c_0 and W_hh, from those of the outputs."""
    i, f, g, o = gates.chunk(4, dim=-1)
    # Local derivatives, all steps at once: abar_t = delta_t * by_delta_t, where delta_t is
    # delta c_t for i, f and g and delta h_t for o. Start from sigma' = s (1 - s) everywhere.
    by_delta = torch.addcmul(gates, gates, gates, value=-1)
    d_i, d_f, d_g, d_o = by_delta.chunk(4, dim=-1)
    d_i.mul_(g), d_f.mul_(c[:-1]), d_o.mul_(tanh_c)
    d_g.copy_(torch.addcmul(i, i * g, g, value=-1))  # i (1 - g^2): tanh' instead of sigma'
    dc_dh = torch.addcmul(o, o * tanh_c, tanh_c, value=-1)  # o (1 - tanh^2 c_t)
    by_delta = by_delta.unflatten(-1, (4, -1))  # (T, B, gate, H)
    d_in = d_out.unbind(0)
    dh, dc = d_in[-1] + d_hT, d_cT  # delta h_T, and delta c_T from outside
    d_gates = []  # abar_t, from the last step back
    for t in range(len(d_in) - 1, -1, -1):
        if d_gates:
            dh = torch.addmm(d_in[t], d_gates[-1], weight_hh)  # delta h_t
            dc = dc * f[t + 1]
        dc = torch.addcmul(dc, dh, dc_dh[t])  # delta c_t
        d_gates.append(torch.mul(torch.stack([dc, dc, dc, dh], dim=1), by_delta[t]).flatten(1))
    d_gates = torch.stack(d_gates[::-1])
    d_h0 = d_gates[0] @ weight_hh
    d_c0 = dc * f[0]
    d_weight_hh = d_gates.flatten(0, 1).t() @ h[:-1].flatten(0, 1)
    return d_gates, d_h0, d_c0, d_weight_hh


# -- GRU ------------------------------------------------------------------------------------


class GRULayer(torch.autograd.Function):
    r"""One GRU layer-direction: `out, h_T, rz, n = GRULayer.apply(xw, h_0, weight_hh, bias_hh)`.

    `xw` holds $W_{ih} x_t + b_{ih}$ and `bias_hh` may be None. Forward, per step (the equations
    of `gru_step`), with $u_t = W_{hh} h_{t-1} + b_{hh}$ split as $(u_r, u_z, u_n)$:

    $$
    r = \sigma(xw_r + u_r), \quad z = \sigma(xw_z + u_z), \quad n = \tanh(xw_n + r\, u_n), \quad
    h_t = (1 - z)\, n + z\, h_{t-1}
    $$

    Backward: every gradient of step $t$ is $\delta h_t$ times a local derivative, so only
    $\delta h$ goes through the loop:

    $$
    \begin{aligned}
    \bar a_{n,t} &= \delta h_t (1 - z_t)(1 - n_t^2) \\
    \bar a_{r,t} &= \bar a_{n,t}\, u_{n,t}\, r_t (1 - r_t) \qquad
    \bar a_{z,t} = \delta h_t (h_{t-1} - n_t)\, z_t (1 - z_t) \\
    \delta u_t &= (\bar a_{r,t},\; \bar a_{z,t},\; r_t\, \bar a_{n,t}) \\
    \delta h_{t-1} &= \delta \mathrm{out}_{t-1} + z_t\, \delta h_t + W_{hh}^\top \delta u_t
    \end{aligned}
    $$

    and at the end $\delta xw_t = (\bar a_{r,t}, \bar a_{z,t}, \bar a_{n,t})$,
    $\delta W_{hh} = \sum_t \delta u_t\, h_{t-1}^\top$, $\delta b_{hh} = \sum_t \delta u_t$.
    """

    @staticmethod
    def forward(ctx, xw: Tensor, h0: Tensor, weight_hh: Tensor, bias_hh: Tensor | None):
        if bias_hh is None:
            bias_hh = xw.new_zeros(weight_hh.shape[0])
        rz, n, u, h = _loop(gru_forward)(xw, h0, weight_hh, bias_hh)
        ctx.save_for_backward(rz, n, u, h, weight_hh)
        ctx.set_materialize_grads(False)
        ctx.mark_non_differentiable(rz, n)
        return h[1:], h[-1].clone(), rz, n

    @staticmethod
    @once_differentiable  # the backward is not itself differentiable: say so rather than be wrong
    def backward(ctx, d_out, d_hT, *_traces):
        rz, n, u, h, weight_hh = ctx.saved_tensors
        d_out = torch.zeros_like(h[1:]) if d_out is None else d_out
        d_hT = torch.zeros_like(h[0]) if d_hT is None else d_hT
        d_xw, d_h0, d_weight_hh, d_bias_hh = _loop(gru_backward)(rz, n, u, h, weight_hh, d_out, d_hT)
        return d_xw, d_h0, d_weight_hh, d_bias_hh if ctx.needs_input_grad[3] else None


def gru_forward(xw: Tensor, h: Tensor, weight_hh: Tensor, bias_hh: Tensor):
    """The forward loop. Returns, stacked over time: r and z, n, u = W_hh h_{t-1} + b_hh, and h (from h_0)."""
    hidden = h.shape[-1]
    rzs, ns, us, hs = [], [], [], [h]
    for xw_t in xw.unbind(0):
        u = torch.addmm(bias_hh, h, weight_hh.t())
        xw_rz, xw_n = xw_t.split([2 * hidden, hidden], dim=-1)
        u_rz, u_n = u.split([2 * hidden, hidden], dim=-1)
        rz = torch.sigmoid(xw_rz + u_rz)
        r, z = rz.chunk(2, dim=-1)
        n = torch.tanh(torch.addcmul(xw_n, r, u_n))
        h = torch.addcmul(n, z, h - n)  # (1 - z) n + z h_{t-1}
        rzs.append(rz), ns.append(n), us.append(u), hs.append(h)
    return torch.stack(rzs), torch.stack(ns), torch.stack(us), torch.stack(hs)


def gru_backward(rz, n, u, h, weight_hh, d_out, d_hT):
    """The backward loop: gradients of xw, h_0, W_hh and b_hh, from those of the outputs."""
    r, z = rz.chunk(2, dim=-1)
    u_n = u[..., 2 * n.shape[-1] :]
    # Local derivatives, all steps at once: delta u_t = delta h_t * du_dh_t, gate by gate.
    dn = (1 - z) * (1 - n**2)  # abar_n / delta h
    du_dh = torch.stack([dn * u_n * r * (1 - r), (h[:-1] - n) * z * (1 - z), r * dn], dim=2)
    d_in = d_out.unbind(0)
    dh = d_in[-1] + d_hT  # delta h_T
    d_u, dhs = [], []  # delta u_t and delta h_t, from the last step back
    for t in range(len(d_in) - 1, -1, -1):
        d_u.append(torch.mul(dh.unsqueeze(1), du_dh[t]).flatten(1))
        dhs.append(dh)
        carry = z[t] * dh if t == 0 else torch.addcmul(d_in[t - 1], z[t], dh)
        dh = torch.addmm(carry, d_u[-1], weight_hh)  # delta h_{t-1}
    d_u, dhs = torch.stack(d_u[::-1]), torch.stack(dhs[::-1])
    d_xw = torch.cat([d_u[..., : 2 * n.shape[-1]], dhs * dn], dim=-1)  # abar_n has no factor r
    d_weight_hh = d_u.flatten(0, 1).t() @ h[:-1].flatten(0, 1)
    d_bias_hh = d_u.sum((0, 1))
    return d_xw, dh, d_weight_hh, d_bias_hh


# -- compiled loops (opt-in) -------------------------------------------------------------------

LOOPS = (lstm_forward, lstm_backward, gru_forward, gru_backward)
_compiled: dict = {}  # loop function -> its torch.compile'd version, while compiled loops are on


def _loop(function):
    """`function`, or its compiled version while `compiled_loops()` is on."""
    return _compiled.get(function, function)


@contextlib.contextmanager
def compiled_loops():
    """Runs the four time loops above through `torch.compile` inside the block (opt-in).

    The compiler unrolls a loop over all its steps and fuses each step's elementwise operations
    into one kernel, so it compiles once per sequence length, shape and dtype: tens of seconds
    to minutes of one-off cost (`python -m snippets.bench` reports it), worth it for a long
    training run on fixed-length batches. It needs a C++ compiler at run time.
    """
    before = dict(_compiled)
    _compiled.update({f: _compiled_version(f) for f in LOOPS})
    try:
        yield
    finally:
        _compiled.clear()
        _compiled.update(before)


@functools.cache
def _compiled_version(function):
    # fullgraph: a graph break would silently fall back to eager, slower than not compiling.
    return torch.compile(function, fullgraph=True, dynamic=False)
