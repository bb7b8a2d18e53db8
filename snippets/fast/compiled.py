r"""The compiled path: `with snippets.fast.use("compiled"): ...` runs the time loops through `torch.compile`.

The compiler unrolls a loop over all its steps and fuses each step's elementwise operations into
one kernel, so it compiles once per sequence length, shape and dtype: a minute or more of one-off
cost (`python -m snippets.bench --compiled` reports it), worth it for a long training run on
fixed-length batches. It needs a C++ compiler at run time.

The loops here are the equations of `snippets.fast.bptt`'s loops, written for the compiler. The eager
loops write each step into slices of tensors allocated once; `torch.compile` would turn each
such write into a copy of the whole tensor (it makes programs functional before it optimises
them), so the loops became quadratic in the sequence length. Here each step makes new tensors and
they are stacked at the end, which the compiler fuses. Products use `@`: the compiler cannot trace
oneDNN's `linear`, and picks its own kernel. `tests/test_fast_paths.py` holds both to `torch.nn`.
"""

from __future__ import annotations

import functools

import torch
from torch import Tensor

from snippets.fast import bptt


def lstm_forward(xw: Tensor, h: Tensor, c: Tensor, weight_hh: Tensor):
    """As `bptt.lstm_forward`: the gates, h and c (from h_0, c_0), and tanh(c), stacked over time."""
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
    """As `bptt.lstm_backward`: gradients of xw, h_0 and c_0."""
    f = gates.chunk(4, dim=-1)[1]
    by_delta, dc_dh = bptt.lstm_local_derivatives(gates, c, tanh_c)
    d_out_ = d_out.unbind(0)
    last = len(d_out_) - 1
    dh, dc = d_out_[last] + d_hT, d_cT
    d_gates = []  # abar_t, from the last step back
    for t in range(last, -1, -1):
        if d_gates:
            dh = d_out_[t] + d_gates[-1] @ weight_hh  # delta h_t
            dc = dc * f[t + 1]
        dc = dc + dh * dc_dh[t]  # delta c_t
        d_gates.append((torch.stack([dc, dc, dc, dh], dim=1) * by_delta[t]).flatten(1))
    d_gates = torch.stack(d_gates[::-1])
    return d_gates, d_gates[0] @ weight_hh, dc * f[0]


def gru_forward(xw: Tensor, h: Tensor, weight_hh: Tensor, bias_hh: Tensor):
    """As `bptt.gru_forward`: r and z, n, u = W_hh h_{t-1} + b_hh, and h (from h_0), stacked over time."""
    hidden = h.shape[-1]
    rzs, ns, us, hs = [], [], [], [h]
    for xw_t in xw.unbind(0):
        u = torch.addmm(bias_hh, h, weight_hh.t())
        xw_rz, xw_n = xw_t.split([2 * hidden, hidden], dim=-1)
        u_rz, u_n = u.split([2 * hidden, hidden], dim=-1)
        rz = torch.sigmoid(xw_rz + u_rz)
        r, z = rz.chunk(2, dim=-1)
        n = torch.tanh(xw_n + r * u_n)
        h = (1 - z) * n + z * h
        rzs.append(rz), ns.append(n), us.append(u), hs.append(h)
    return torch.stack(rzs), torch.stack(ns), torch.stack(us), torch.stack(hs)


def gru_backward(rz, n, u, h, weight_hh, d_out, d_hT):
    """As `bptt.gru_backward`: gradients of xw, u and h_0."""
    z = rz.chunk(2, dim=-1)[1]
    dn, du_dh = bptt.gru_local_derivatives(rz, n, u, h)
    d_out_ = d_out.unbind(0)
    dh = d_out_[-1] + d_hT  # delta h_T
    d_u, dhs = [], []  # delta u_t and delta h_t, from the last step back
    for t in range(len(d_out_) - 1, -1, -1):
        d_u.append((dh.unsqueeze(1) * du_dh[t]).flatten(1))
        dhs.append(dh)
        carry = z[t] * dh if t == 0 else d_out_[t - 1] + z[t] * dh
        dh = carry + d_u[-1] @ weight_hh  # delta h_{t-1}
    d_u, dhs = torch.stack(d_u[::-1]), torch.stack(dhs[::-1])
    d_xw = torch.cat([d_u[..., : 2 * n.shape[-1]], dhs * dn], dim=-1)  # abar_n has no factor r
    return d_xw, d_u, dh


TWINS = {
    bptt.lstm_forward: lstm_forward,
    bptt.lstm_backward: lstm_backward,
    bptt.gru_forward: gru_forward,
    bptt.gru_backward: gru_backward,
}


@functools.cache
def compiled(function):
    """The compiled form of the eager loop `function` of `snippets.fast.bptt` (compiled on first use)."""
    # fullgraph: a graph break would silently fall back to eager, slower than not compiling.
    return torch.compile(TWINS[function], fullgraph=True, dynamic=False)
