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
4. The gradient of $W_{hh}$ is then one matrix product over all steps. The gradient of the
   input projection $W_{ih} x_t + b$ is the gradient of the pre-activations themselves, and
   gives those of $W_{ih}$, $b$ and $x$ in two more products.

Every matrix product goes through `linear` (oneDNN on the CPU, as `torch.nn.LSTM` does), and each
step writes into slices of tensors allocated once. What the forward keeps is also what
`return_gates=True` returns, so traces cost next to nothing; they come out marked
non-differentiable (they are for looking inside, not for a loss: where a trace needs a gradient,
`snippets.fast` runs the step functions instead). The backward is not differentiable itself:
asked to build a graph (`create_graph=True`), it raises `snippets.fast.FastPathError`.
`snippets.fast.use("compiled")` runs the same equations through `torch.compile`.

What it buys, measured side by side on 2026-12-07 with `python -m snippets.bench --threads 1
--cpu-time` (this project's 2-core AMD EPYC, medians of 21 interleaved rounds, CPU seconds: the
machine was shared): a training step takes 0.71 to 0.83 of the default path's time. LSTM 16.4 ->
12.8 ms and GRU 24.7 -> 18.0 ms at hidden 32, 24.1 -> 20.0 and 28.1 -> 20.4 ms at hidden 64 (batch
16, 100 steps, input 2: the sizes the site trains), 58.8 -> 43.8 and 54.8 -> 38.9 ms at hidden 128
(batch 32, input 64). `torch.nn.LSTM`'s fused kernel stays 2.3 to 4.9 times faster than the
twin; `torch.nn.GRU` has none, and the GRU twin takes 0.82 to 0.93 of its time.
Inference gains only on large batches: gate traces of 1024 sequences at hidden 32 take 103 ms
against 195 ms (measured the same way), but a batch of 16 takes 1.4 to 1.6 times as long as on the
default path.

Notation: $\delta y = \partial L / \partial y$ for the loss $L$, and $\bar a$ is the gradient
of a gate's pre-activation $a$ (for $i_t = \sigma(a_{i,t})$, $\bar a_i = \delta i \; i (1-i)$).
Gates are stacked as in `snippets.cells`: $(i, f, g, o)$ and $(r, z, n)$. The equations are the
same as `lstm_step` and `gru_step`, written again for speed; `tests/test_fast_paths.py` holds them
equal to those step functions, to `torch.nn` and to finite differences. The sequence modules run
this file only inside `snippets.fast.use("bptt")` (or `"compiled"`): see `snippets.fast`.

The functions work on time-major tensors: `x` is $(T, B, I)$, `xw` $(T, B, G H)$, the states $(B, H)$.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import Tensor

from snippets.cells import gru_step, lstm_step
from snippets.fast.support import FastPathError, batched, functorch_transforms_active

# -- matrix products ------------------------------------------------------------------------------

_ONEDNN = torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """$x W^\\top (+ b)$ for a matrix $x$: through oneDNN for float32 on the CPU, else `torch.addmm`.

    oneDNN is the library behind `torch.nn.LSTM`'s fused CPU kernel. At the shapes of a time step
    (32 rows, hidden 512) its product takes about half the time of the default one (MKL) on the
    AMD CPUs this project is built on (`python -m snippets.bench`). It has no float64 and no
    autograd formula (the loops here need none), and `torch.compile` cannot trace it: compiled
    loops use the plain product, which the compiler picks its own kernel for.
    """
    if _ONEDNN and x.dtype == torch.float32 and x.device.type == "cpu" and not torch.compiler.is_compiling():
        if x.numel() and weight.numel():  # oneDNN has no primitive for an empty product (batch 0)
            return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")
    return x @ weight.t() if bias is None else torch.addmm(bias, x, weight.t())


def project(x: Tensor, weight_ih: Tensor, bias: Tensor | None) -> Tensor:
    """The input projection of every step at once: $W_{ih} x_t + b$ for $x$ of shape (T, B, I)."""
    return linear(x.flatten(0, 1), weight_ih, bias).unflatten(0, x.shape[:2])


def project_backward(d_xw: Tensor, x: Tensor, weight_ih: Tensor, wanted: tuple[bool, bool, bool]):
    """Gradients of x, W_ih and b from that of the projection, each only if `wanted`."""
    d_x = d_weight_ih = d_bias = None
    d_flat = d_xw.flatten(0, 1)
    if wanted[0]:
        d_x = linear(d_flat, weight_ih.t().contiguous()).view_as(x)
    if wanted[1]:
        d_weight_ih = summed_outer(d_xw, x)
    if wanted[2]:
        d_bias = d_flat.sum(0)
    return d_x, d_weight_ih, d_bias


def summed_outer(d: Tensor, x: Tensor) -> Tensor:
    """$\\sum_{t,b} d_{t,b}\\, x_{t,b}^\\top$ over time and batch: a weight's gradient.

    Computed as its transpose, the arrangement in which neither operand is copied.
    """
    return linear(x.flatten(0, 1).t(), d.flatten(0, 1).t()).t()


def _with_first(state: Tensor, steps: int) -> Tensor:
    """A (steps + 1, ...) tensor for a state over time, holding the initial `state` at [0]."""
    over_time = state.new_empty(steps + 1, *state.shape)
    over_time[0] = state
    return over_time


def _wanted(ctx, *positions: int) -> tuple[bool, ...]:
    """Whether the Function's inputs at `positions` need a gradient."""
    return tuple(ctx.needs_input_grad[k] for k in positions)


def first_order_only(backward):
    """A Function's `backward` that refuses what it cannot do exactly: build a graph, or run batched.

    Autograd runs a backward with grad mode on exactly when `create_graph=True` was asked (a
    gradient penalty, a Hessian). A hand-written backward run then would return gradients that
    are constants to autograd, so whatever is built on them would silently get no gradient
    through them (`torch.autograd.function.once_differentiable` catches this only when the
    incoming gradients themselves require grad). And under `vmap` (`is_grads_batched=True`,
    `jacobian(..., vectorize=True)`) its in-place loops have no batching rule. It raises instead,
    naming what was asked and what to do.
    """

    @functools.wraps(backward)
    def checked(ctx, *grads):
        if torch.is_grad_enabled():
            raise FastPathError(
                "snippets.fast: the hand-written backward pass of the 'bptt' and 'compiled' paths cannot be "
                "differentiated, but a graph of the gradient was asked for (create_graph=True: a gradient "
                "penalty, a Hessian); run this computation outside snippets.fast.use(...), on the default path"
            )
        if functorch_transforms_active() or batched(grads):
            raise FastPathError(
                "snippets.fast: the hand-written backward pass of the 'bptt' and 'compiled' paths cannot run "
                "under a torch.func transform (vmap: is_grads_batched=True, jacobian(..., vectorize=True)); "
                "run this computation outside snippets.fast.use(...), on the default path"
            )
        return backward(ctx, *grads)

    return checked


# -- LSTM -----------------------------------------------------------------------------------


class LSTMLayer(torch.autograd.Function):
    r"""One LSTM layer-direction: `out, h_T, c_T, gates, c = LSTMLayer.apply(x, h_0, c_0, W_ih, W_hh, b)`.

    `x` is the input, (T, B, I), and `b` is $b_{ih} + b_{hh}$ (both add to the same pre-activation)
    or None. Forward: the input projection $xw_t = W_{ih} x_t + b$ of all steps in one product,
    then per step (the equations of `lstm_step`):

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
    $\delta h_0 = W_{hh}^\top \bar a_1$, $\delta c_0 = f_1 \delta c_1$, and from $\delta xw$ those of
    $x$, $W_{ih}$ and $b$ (`project_backward`).
    """

    @staticmethod
    def forward(
        ctx,
        x: Tensor,
        h0: Tensor,
        c0: Tensor,
        weight_ih: Tensor,
        weight_hh: Tensor,
        bias: Tensor | None,
        compiler: Callable | None = None,
    ):
        gates, h, c, tanh_c = _loop(lstm_forward, compiler)(project(x, weight_ih, bias), h0, c0, weight_hh)
        ctx.save_for_backward(x, weight_ih, gates, h, c, tanh_c, weight_hh)
        ctx.set_materialize_grads(False)
        ctx.compiler = compiler
        traces = (gates, c[1:])
        ctx.mark_non_differentiable(*traces)
        return h[1:], h[-1].clone(), c[-1].clone(), *traces

    @staticmethod
    @first_order_only  # the backward is not itself differentiable: say so rather than be wrong
    def backward(ctx, d_out, d_hT, d_cT, *_traces):
        x, weight_ih, gates, h, c, tanh_c, weight_hh = ctx.saved_tensors
        d_out = torch.zeros_like(h[1:]) if d_out is None else d_out
        d_hT = torch.zeros_like(h[0]) if d_hT is None else d_hT
        d_cT = torch.zeros_like(c[0]) if d_cT is None else d_cT
        d_xw, d_h0, d_c0 = _loop(lstm_backward, ctx.compiler)(gates, h, c, tanh_c, weight_hh, d_out, d_hT, d_cT)
        d_weight_hh = summed_outer(d_xw, h[:-1])  # d xw_t = abar_t
        d_x, d_weight_ih, d_bias = project_backward(d_xw, x, weight_ih, _wanted(ctx, 0, 3, 5))
        return d_x, d_h0, d_c0, d_weight_ih, d_weight_hh, d_bias, None


def lstm_forward(xw: Tensor, h: Tensor, c: Tensor, weight_hh: Tensor):
    """The forward loop. Returns, stacked over time: the gates (in the place of `xw`, which they
    overwrite), h and c (from h_0, c_0), and tanh(c)."""
    steps, hidden = len(xw), h.shape[-1]
    # Every step writes into slices of tensors made once: no per-step allocation, no copy to stack.
    gates, tanh_cs, hs, cs = xw, xw.new_empty(steps, *h.shape), _with_first(h, steps), _with_first(c, steps)
    views = zip(
        gates,
        gates[..., : 2 * hidden],
        gates[..., 2 * hidden : 3 * hidden],
        gates[..., 3 * hidden :],
        hs[1:],
        cs[1:],
        tanh_cs,
    )  # iterating a tensor unbinds it
    for a, i_f, g, o, h_t, c_t, tanh_c in views:
        a.add_(linear(h, weight_hh))  # pre-activations a_t = xw_t + W_hh h_{t-1}, made into gates in place:
        i_f.sigmoid_(), g.tanh_(), o.sigmoid_()
        i, f = i_f.chunk(2, dim=-1)
        torch.addcmul(torch.mul(f, c, out=c_t), i, g, out=c_t)  # c_t = f c_{t-1} + i g
        torch.tanh(c_t, out=tanh_c)
        torch.mul(o, tanh_c, out=h_t)  # h_t = o tanh(c_t)
        h, c = h_t, c_t
    return gates, hs, cs, tanh_cs


def lstm_local_derivatives(gates: Tensor, c: Tensor, tanh_c: Tensor) -> tuple[Tensor, Tensor]:
    """The local derivatives of every step at once: none depends on the gradient flowing back.

    Returns `by_delta`, (T, B, 4, H), with $\\bar a_t = \\delta_t \\cdot$ `by_delta`$_t$ where $\\delta_t$
    is $\\delta c_t$ for i, f, g and $\\delta h_t$ for o; and `dc_dh` $= o_t (1 - \\tanh^2 c_t)$.
    """
    i, f, g, o = gates.chunk(4, dim=-1)
    by_delta = torch.addcmul(gates, gates, gates, value=-1)  # sigma' = s (1 - s) for every gate, then:
    d_i, d_f, d_g, d_o = by_delta.chunk(4, dim=-1)
    d_i.mul_(g), d_f.mul_(c[:-1]), d_o.mul_(tanh_c)
    d_g.copy_(torch.addcmul(i, i * g, g, value=-1))  # i (1 - g^2): tanh' instead of sigma'
    dc_dh = torch.addcmul(o, o * tanh_c, tanh_c, value=-1)
    return by_delta.unflatten(-1, (4, -1)), dc_dh


def lstm_backward(gates, h, c, tanh_c, weight_hh, d_out, d_hT, d_cT):
    """The backward loop: gradients of xw (that is, abar), h_0 and c_0, from those of the outputs."""
    f = gates.chunk(4, dim=-1)[1]
    by_delta, dc_dh = lstm_local_derivatives(gates, c, tanh_c)
    weight_t = weight_hh.t().contiguous()  # delta h_t = abar_{t+1} W_hh, as a product with a transpose
    d_gates = torch.empty_like(gates)  # abar_t, filled from the last step back
    # Per-step views, made once (indexing a tensor in the loop would cost a call per step).
    d_out_, dc_dh_, f_, by_delta_, d_gates_, abar_ = (
        v.unbind(0) for v in (d_out, dc_dh, f, by_delta, d_gates, d_gates.unflatten(-1, (4, -1)))
    )
    last = len(d_out) - 1
    dh, dc = d_out_[last] + d_hT, d_cT  # delta h_T, and delta c_T from outside
    for t in range(last, -1, -1):
        if t < last:
            dh = torch.add(d_out_[t], linear(d_gates_[t + 1], weight_t))  # delta h_t
            dc = dc * f_[t + 1]
        dc = torch.addcmul(dc, dh, dc_dh_[t])  # delta c_t
        torch.mul(torch.stack([dc, dc, dc, dh], dim=1), by_delta_[t], out=abar_[t])
    d_h0 = linear(d_gates[0], weight_t)
    d_c0 = dc * f[0]
    return d_gates, d_h0, d_c0


# -- GRU ------------------------------------------------------------------------------------


class GRULayer(torch.autograd.Function):
    r"""One GRU layer-direction: `out, h_T, rz, n = GRULayer.apply(x, h_0, W_ih, W_hh, b_ih, b_hh)`.

    `x` is the input, (T, B, I); the biases may be None. Forward: the input projection
    $xw_t = W_{ih} x_t + b_{ih}$ of all steps in one product, then per step (the equations of
    `gru_step`), with $u_t = W_{hh} h_{t-1} + b_{hh}$ split as $(u_r, u_z, u_n)$:

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
    $\delta W_{hh} = \sum_t \delta u_t\, h_{t-1}^\top$, $\delta b_{hh} = \sum_t \delta u_t$, and from
    $\delta xw$ those of $x$, $W_{ih}$ and $b_{ih}$ (`project_backward`).
    """

    @staticmethod
    def forward(
        ctx,
        x: Tensor,
        h0: Tensor,
        weight_ih: Tensor,
        weight_hh: Tensor,
        bias_ih: Tensor | None,
        bias_hh: Tensor | None,
        compiler: Callable | None = None,
    ):
        if bias_hh is None:
            bias_hh = x.new_zeros(weight_hh.shape[0])
        rz, n, u, h = _loop(gru_forward, compiler)(project(x, weight_ih, bias_ih), h0, weight_hh, bias_hh)
        ctx.save_for_backward(x, weight_ih, rz, n, u, h, weight_hh)
        ctx.set_materialize_grads(False)
        ctx.compiler = compiler
        ctx.mark_non_differentiable(rz, n)
        return h[1:], h[-1].clone(), rz, n

    @staticmethod
    @first_order_only  # the backward is not itself differentiable: say so rather than be wrong
    def backward(ctx, d_out, d_hT, *_traces):
        x, weight_ih, rz, n, u, h, weight_hh = ctx.saved_tensors
        d_out = torch.zeros_like(h[1:]) if d_out is None else d_out
        d_hT = torch.zeros_like(h[0]) if d_hT is None else d_hT
        d_xw, d_u, d_h0 = _loop(gru_backward, ctx.compiler)(rz, n, u, h, weight_hh, d_out, d_hT)
        d_weight_hh, d_bias_hh = summed_outer(d_u, h[:-1]), d_u.sum((0, 1))
        d_x, d_weight_ih, d_bias_ih = project_backward(d_xw, x, weight_ih, _wanted(ctx, 0, 2, 4))
        return d_x, d_h0, d_weight_ih, d_weight_hh, d_bias_ih, d_bias_hh if ctx.needs_input_grad[5] else None, None


def gru_forward(xw: Tensor, h: Tensor, weight_hh: Tensor, bias_hh: Tensor):
    """The forward loop. Returns, stacked over time: r and z, n, u = W_hh h_{t-1} + b_hh, and h (from h_0)."""
    steps, hidden = len(xw), h.shape[-1]
    # As in lstm_forward: every step writes into slices of tensors made once.
    rzs, ns, us = xw.new_empty(steps, len(h), 2 * hidden), xw.new_empty(steps, *h.shape), torch.empty_like(xw)
    hs = _with_first(h, steps)
    views = zip(
        xw[..., : 2 * hidden], xw[..., 2 * hidden :], us, us[..., : 2 * hidden], us[..., 2 * hidden :], rzs, ns, hs[1:]
    )
    for xw_rz, xw_n, u, u_rz, u_n, rz, n, h_t in views:
        u.copy_(linear(h, weight_hh, bias_hh))  # u_t = W_hh h_{t-1} + b_hh
        torch.add(xw_rz, u_rz, out=rz).sigmoid_()
        r, z = rz.chunk(2, dim=-1)
        torch.addcmul(xw_n, r, u_n, out=n).tanh_()  # n = tanh(xw_n + r u_n)
        torch.addcmul(n, z, torch.sub(h, n), out=h_t)  # h_t = (1 - z) n + z h_{t-1}
        h = h_t
    return rzs, ns, us, hs


def gru_local_derivatives(rz: Tensor, n: Tensor, u: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
    """The local derivatives of every step at once: `dn` $= \\bar a_n / \\delta h$, and `du_dh`,
    (T, B, 3, H), with $\\delta u_t = \\delta h_t \\cdot$ `du_dh`$_t$ gate by gate."""
    r, z = rz.chunk(2, dim=-1)
    u_n = u[..., 2 * n.shape[-1] :]
    dn = (1 - z) * (1 - n**2)
    return dn, torch.stack([dn * u_n * r * (1 - r), (h[:-1] - n) * z * (1 - z), r * dn], dim=2)


def gru_backward(rz, n, u, h, weight_hh, d_out, d_hT):
    """The backward loop: gradients of xw, u and h_0, from those of the outputs."""
    z = rz.chunk(2, dim=-1)[1]
    dn, du_dh = gru_local_derivatives(rz, n, u, h)
    weight_t = weight_hh.t().contiguous()  # W_hh^T delta u_t, as a product with a transpose
    # delta u_t, and delta h_t at [t + 1] (delta h_0 at [0]), filled from the last step back
    d_u, dhs = torch.empty_like(u), h.new_empty(h.shape)
    d_out_, z_, du_dh_, d_u_, d_u_gates_, dhs_ = (
        v.unbind(0) for v in (d_out, z, du_dh, d_u, d_u.unflatten(-1, (3, -1)), dhs)
    )
    last = len(d_out) - 1
    dh = torch.add(d_out_[last], d_hT, out=dhs_[last + 1])  # delta h_T
    for t in range(last, -1, -1):
        torch.mul(dh.unsqueeze(1), du_dh_[t], out=d_u_gates_[t])
        back = linear(d_u_[t], weight_t)  # W_hh^T delta u_t
        if t > 0:
            back.add_(d_out_[t - 1])
        dh = torch.addcmul(back, z_[t], dh, out=dhs_[t])  # delta h_{t-1}
    d_xw = torch.cat([d_u[..., : 2 * n.shape[-1]], dhs[1:] * dn], dim=-1)  # abar_n has no factor r
    return d_xw, d_u, dh


# -- the layers' time loops, as `snippets.layers` calls them ------------------------------------------


def lstm_layer(x: Tensor, state, projection, step_args, reverse: bool, record: bool, compiler=None):
    """One LSTM layer-direction: what `snippets.layers` returns from its own loop, through `LSTMLayer`.

    `compiler`: None to run the loops below eagerly, or a function that gives the loop to run in
    the place of each (`snippets.fast.compiled.compiled`: through `torch.compile`).
    """
    (weight_ih, bias_ih), (weight_hh, bias_hh) = projection, step_args
    # b_ih and b_hh add to the same pre-activation: fold both into the input projection.
    bias = None if bias_ih is None else bias_ih + bias_hh
    x = _in_step_order(x, reverse)
    out, h, c, gates, cells = LSTMLayer.apply(x, *state, weight_ih, weight_hh, bias, compiler)
    trace = [_in_step_order(v, reverse) for v in (*gates.chunk(4, dim=-1), out, cells)] if record else None
    return _in_step_order(out, reverse), (h, c), trace


def gru_layer(x: Tensor, state, projection, step_args, reverse: bool, record: bool, compiler=None):
    """One GRU layer-direction, through `GRULayer`; same arguments and returns as `lstm_layer`."""
    (weight_ih, bias_ih), (weight_hh, bias_hh) = projection, step_args
    x = _in_step_order(x, reverse)
    out, h, rz, n = GRULayer.apply(x, state[0], weight_ih, weight_hh, bias_ih, bias_hh, compiler)
    trace = [_in_step_order(v, reverse) for v in (*rz.chunk(2, dim=-1), n, out)] if record else None
    return _in_step_order(out, reverse), (h,), trace


TWINS = {lstm_step: lstm_layer, gru_step: gru_layer}  # step function -> its hand-written twin


def _in_step_order(x: Tensor, reverse: bool) -> Tensor:
    """Time-major `x` in the order the loop visits the steps (the reverse direction starts at the end)."""
    return x.flip(0) if reverse else x


def _loop(function, compiler: Callable | None):
    """`function`, or what `compiler` gives in its place (`snippets.fast.compiled.compiled`).

    The choice is made in the forward and kept for the backward, which may run after the
    `snippets.fast.use` block has ended. Passed in, not imported: `snippets.fast.compiled` builds
    on this module, and this one needs nothing of it.
    """
    return function if compiler is None else compiler(function)
