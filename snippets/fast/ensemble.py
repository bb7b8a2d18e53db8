r"""Train many members of one cell type and size as one batched model.

A member is one run of `train.train_cell`: a seed (its initial weights and its data), a learning
rate, a clipping norm, a target loss and, for the LSTM, a forget-gate bias. Members of the same
cell, task, hidden size, batch size, budget, optimiser and evaluation schedule train here side by
side, with their weights stacked along a first, *member* dimension: $W_{hh}$ of $K$ members is one
$(K, G H, H)$ tensor, and every matrix product of a time step is one batched product
(`torch.bmm`) for all members. A tiny model spends much of a step in per-operation overhead;
$K$ members pay it once.

Each member computes what it computes alone, up to rounding:

- its initial weights come from `seed_everything(seed)` and the same `SequenceModel` as
  `train_cell` builds (and `set_forget_bias`), copied into the stack;
- its batches come from its own `data_generator(seed)` stream, its validation data from
  `train.validation_batch`: each member sees the batches it would see alone;
- its loss, gradient norm (clipped per member), optimiser state (Adam, SGD or RMSprop with the
  member's own learning rate) and early stop are its own. Nothing in a step mixes members: the
  batched products multiply member $k$'s weights with member $k$'s data only, the loss is the sum
  of the members' losses (so member $k$'s gradient is that of its own loss), and a member that
  stops (solved, out of budget, or diverged) leaves the stack, so its weights stop changing and a
  NaN in it can reach no one.

Three engines run the recurrence (`engine="auto"` picks the fastest measured):

- `"bptt"` (auto for `rnn` and `gru`): the time loops of `snippets.fast.bptt` batched over members,
  backward written by hand. `tests/test_ensemble.py` holds them equal to the step functions of
  `snippets.cells` (vmapped over members), and whole runs equal to `train.train_cell`.
- `"loop"` (auto for `lstm`): each member's recurrence through torch.nn's own layer in turn, the
  rest of the step batched. torch.nn's LSTM on the CPU is oneDNN's fused kernel, about as fast
  per member as the batched loops can be at these sizes (hidden 32, batch 32: its arithmetic, not
  its overhead, is the cost); its RNN and GRU are not (adding problem, one thread, CPU time: about
  5 and 17 ms per step alone, against 1.1 to 1.4 and 3.9 to 4.7 ms per member-step here).
- `"steps"` (auto with a `layer`): `torch.func.vmap` over a `SequenceModel` on `snippets`' own
  layer (`snippets.RNN`/`LSTM`/`GRU`, or a variant of `snippets.variants` passed as `layer`): the
  step functions the pages show run as they are, differentiated by autograd. The engine for the
  variants, which have no torch.nn twin.

`tanh` on the `"bptt"` engine is computed as $2\sigma(2x) - 1$: torch's `tanh` takes about 3 ns per
float on the AMD CPUs this project is built on, its `sigmoid` about 0.3 ns, and `tanh` was the
largest cost of a step. The two agree to rounding (in float32, within about 1e-7 of each other).

Time per member: members share every second of the run, so `seconds` gives each member its share:
the wall clock of each step divided by the number of members in that step, summed (compare it with
`train_cell`'s `seconds` for the cost of a member). The run's own wall clock is in the log's
`ensemble` entry (`wall_seconds`, when the member stopped).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import torch
from torch import Tensor, nn
from tqdm import tqdm

from snippets import fast, tasks
from snippets.fast import bptt
from snippets.layers import GRU, LSTM, RNN
from snippets.seeding import data_generator, seed_everything
from snippets.train import CELLS, SequenceModel, TrainConfig, count_parameters, validation_batch
from snippets.variants import set_forget_bias

SHARED = ("steps", "batch_size", "eval_every", "val_size", "optimizer")  # what members must share
ENGINES = ("bptt", "loop", "steps")
ADAM_BETAS, ADAM_EPS, RMSPROP_ALPHA, RMSPROP_EPS = (0.9, 0.999), 1e-8, 0.99, 1e-8  # torch.optim's defaults
EVAL_FLOATS = 2**24  # floats a validation chunk may hold per time loop (64 MiB in float32)
GROUP_BYTES = 8 * 2**20  # the bptt engine's largest tensor per group of members (see bptt_engine)

Forward = Callable[[dict[str, Tensor], Tensor], Tensor]  # stacked weights, (K, B, T, I) -> (K, B, T, O)


# -- tanh ----------------------------------------------------------------------------------------


def _tanh_(x: Tensor) -> Tensor:
    r"""$\tanh x = 2\sigma(2x) - 1$, in place: `torch.tanh` is the slow one on this CPU (see above)."""
    return x.mul_(2).sigmoid_().mul_(2).sub_(1)


def _tanh(x: Tensor, out: Tensor) -> Tensor:
    """`out` = tanh(x), as `_tanh_`."""
    return torch.mul(x, 2, out=out).sigmoid_().mul_(2).sub_(1)


# -- the batched time loops ----------------------------------------------------------------------
#
# Everything is member-major, (K, T, B, ...): each member's steps lie together, so the input
# projection, the read-out and every weight's gradient are one batched product over plain views,
# and the loops walk the `unbind(1)` views of the steps (a tensor iterated or indexed per step would
# cost a call per step, and indexing `xw[:, t]` in autograd a quadratic backward). Measured against
# time-major loops (T, K, B, ...), which need a transposing copy at every boundary: 5 to 25% faster.


def _summed_outer(d: Tensor, h: Tensor) -> Tensor:
    r"""$\sum_{t,b} d_{k,t,b}\, h_{k,t,b}^\top$ per member, (K, G, H): a recurrent weight's gradient.

    `d` is (K, T, B, G) and `h` (K, T, B, H), the states $h_{t-1}$ (a view that skips $h_T$).
    """
    K, T, B, G = d.shape
    return torch.bmm(d.reshape(K, T * B, G).transpose(1, 2), h.reshape(K, T * B, -1))


class EnsembleRNN(torch.autograd.Function):
    r"""Tanh RNN layer of K members: `out = EnsembleRNN.apply(xw, W_hh)`, $h_0 = 0$.

    `xw` is $W_{ih} x_t + b_{ih} + b_{hh}$, (K, T, B, H); `W_hh` is (K, H, H); `out` is
    (K, T, B, H). Forward, as `snippets.cells.rnn_step`: $h_t = \tanh(xw_t + W_{hh} h_{t-1})$.
    Backward, with $\delta h_t$ the gradient from the output at $t$ plus that from $t + 1$:

    $$\bar a_t = \delta h_t\, (1 - h_t^2), \qquad \delta h_{t-1} = \delta\mathrm{out}_{t-1} + W_{hh}^\top \bar a_t,
    \qquad \delta W_{hh} = \sum_t \bar a_t h_{t-1}^\top, \qquad \delta xw_t = \bar a_t.$$
    """

    @staticmethod
    def forward(ctx, xw: Tensor, weight_hh: Tensor) -> Tensor:
        K, T, B, H = xw.shape
        hs = xw.new_zeros(K, T + 1, B, H)  # hs[:, 0] = h_0
        weight_t, h = weight_hh.transpose(1, 2), hs[:, 0]
        for xw_t, h_t in zip(xw.unbind(1), hs[:, 1:].unbind(1)):
            h = _tanh_(h_t.copy_(torch.baddbmm(xw_t, h, weight_t)))
        ctx.save_for_backward(hs, weight_hh)
        return hs[:, 1:]

    @staticmethod
    def backward(ctx, d_out: Tensor):
        hs, weight_hh = ctx.saved_tensors
        d_a = torch.addcmul(torch.ones_like(d_out), hs[:, 1:], hs[:, 1:], value=-1)  # 1 - h_t^2, then abar_t
        d_a_, d_out_ = d_a.unbind(1), d_out.unbind(1)
        dh = d_out_[-1]
        for t in range(len(d_a_) - 1, -1, -1):
            d_a_[t].mul_(dh)  # abar_t
            if t > 0:
                dh = torch.baddbmm(d_out_[t - 1], d_a_[t], weight_hh)  # delta h_{t-1}
        return d_a, _summed_outer(d_a, hs[:, :-1])


class EnsembleLSTM(torch.autograd.Function):
    r"""LSTM layer of K members: `out = EnsembleLSTM.apply(xw, W_hh)`, $h_0 = c_0 = 0$.

    `xw` is $W_{ih} x_t + b_{ih} + b_{hh}$ (both biases add to the same pre-activation),
    (K, T, B, 4H); `W_hh` is (K, 4H, H). The equations are those of `snippets.fast.bptt.LSTMLayer` (and
    of `snippets.cells.lstm_step`), every product batched over members:
    $a_t = xw_t + W_{hh} h_{t-1}$, $(i, f, g, o) = (\sigma, \sigma, \tanh, \sigma)(a_t)$,
    $c_t = f c_{t-1} + i g$, $h_t = o \tanh(c_t)$; backward
    $\delta h_t = \delta\mathrm{out}_t + W_{hh}^\top \bar a_{t+1}$,
    $\delta c_t = f_{t+1} \delta c_{t+1} + \delta h_t\, o_t (1 - \tanh^2 c_t)$, and $\bar a_t$ from
    the local derivatives of `bptt.lstm_local_derivatives`.
    """

    @staticmethod
    def forward(ctx, xw: Tensor, weight_hh: Tensor) -> Tensor:
        K, T, B, G = xw.shape
        H = G // 4
        gates = xw.clone()  # the pre-activations, made into the gates in place
        hs, cs, tanh_cs = xw.new_zeros(K, T + 1, B, H), xw.new_zeros(K, T + 1, B, H), xw.new_empty(K, T, B, H)
        weight_t, h, c = weight_hh.transpose(1, 2), hs[:, 0], cs[:, 0]
        views = zip(
            *(
                v.unbind(1)
                for v in (gates, gates[..., H : 2 * H], gates[..., 2 * H : 3 * H], hs[:, 1:], cs[:, 1:], tanh_cs)
            )
        )
        for a, f, g, h_t, c_t, tanh_c in views:
            a.baddbmm_(h, weight_t)  # a_t = xw_t + W_hh h_{t-1}
            _lstm_activations_(a, g)
            i, o = a[..., :H], a[..., 3 * H :]
            torch.addcmul(torch.mul(f, c, out=c_t), i, g, out=c_t)  # c_t = f c_{t-1} + i g
            _tanh(c_t, out=tanh_c)
            h, c = torch.mul(o, tanh_c, out=h_t), c_t  # h_t = o tanh(c_t)
        ctx.save_for_backward(gates, cs, tanh_cs, hs, weight_hh)
        return hs[:, 1:]

    @staticmethod
    def backward(ctx, d_out: Tensor):
        gates, cs, tanh_cs, hs, weight_hh = ctx.saved_tensors
        T, H = gates.shape[1], gates.shape[-1] // 4
        # bptt's local derivatives take time first: given swapped views, they return swapped views.
        by_delta, dc_dh = (
            v.transpose(0, 1)
            for v in bptt.lstm_local_derivatives(gates.transpose(0, 1), cs.transpose(0, 1), tanh_cs.transpose(0, 1))
        )  # (K, T, B, 4, H), (K, T, B, H)
        d_gates = torch.empty_like(gates)  # abar_t, filled from the last step back
        d_out_, dc_dh_, f_, by_delta_, d_gates_, abar_ = (
            v.unbind(1)
            for v in (d_out, dc_dh, gates[..., H : 2 * H], by_delta, d_gates, d_gates.unflatten(-1, (4, -1)))
        )
        dh, dc = d_out_[-1], torch.zeros_like(d_out_[-1])
        for t in range(T - 1, -1, -1):
            if t < T - 1:
                dh = torch.baddbmm(d_out_[t], d_gates_[t + 1], weight_hh)  # delta h_t
                dc = dc * f_[t + 1]
            dc = torch.addcmul(dc, dh, dc_dh_[t])  # delta c_t
            torch.mul(torch.stack([dc, dc, dc, dh], dim=-2), by_delta_[t], out=abar_[t])
        return d_gates, _summed_outer(d_gates, hs[:, :-1])


def _lstm_activations_(a: Tensor, g: Tensor) -> None:
    r"""$(i, f, g, o) = (\sigma, \sigma, \tanh, \sigma)(a)$ in place; `g` is the view of `a`'s third block.

    One sigmoid for all four gates: $\tanh g = 2\sigma(2g) - 1$.
    """
    g.mul_(2)
    a.sigmoid_()
    g.mul_(2).sub_(1)


class EnsembleGRU(torch.autograd.Function):
    r"""GRU layer of K members: `out = EnsembleGRU.apply(xw, W_hh, b_hh)`, $h_0 = 0$.

    `xw` is $W_{ih} x_t + b_{ih}$, (K, T, B, 3H); `W_hh` is (K, 3H, H), `b_hh` (K, 3H). The
    equations of `snippets.fast.bptt.GRULayer` (and `snippets.cells.gru_step`), batched over members:
    $u_t = W_{hh} h_{t-1} + b_{hh}$, $r = \sigma(xw_r + u_r)$, $z = \sigma(xw_z + u_z)$,
    $n = \tanh(xw_n + r\, u_n)$, $h_t = (1 - z) n + z h_{t-1}$. Backward as there: with
    $\bar a_n = \delta h_t (1 - z)(1 - n^2)$, $\delta u_t = (\bar a_n u_n r (1 - r),\;
    \delta h_t (h_{t-1} - n) z (1 - z),\; r \bar a_n)$ and
    $\delta h_{t-1} = \delta\mathrm{out}_{t-1} + z_t \delta h_t + W_{hh}^\top \delta u_t$.
    """

    @staticmethod
    def forward(ctx, xw: Tensor, weight_hh: Tensor, bias_hh: Tensor) -> Tensor:
        K, T, B, G = xw.shape
        H = G // 3
        rzs, ns, us = xw.new_empty(K, T, B, 2 * H), xw.new_empty(K, T, B, H), torch.empty_like(xw)
        hs = xw.new_zeros(K, T + 1, B, H)
        weight_t, bias, h = weight_hh.transpose(1, 2), bias_hh.unsqueeze(1), hs[:, 0]
        views = zip(
            *(
                v.unbind(1)
                for v in (
                    xw[..., : 2 * H],
                    xw[..., 2 * H :],
                    us,
                    us[..., : 2 * H],
                    us[..., 2 * H :],
                    rzs,
                    ns,
                    hs[:, 1:],
                )
            )
        )
        for xw_rz, xw_n, u, u_rz, u_n, rz, n, h_t in views:
            u.copy_(torch.baddbmm(bias, h, weight_t))  # u_t = W_hh h_{t-1} + b_hh
            torch.add(xw_rz, u_rz, out=rz).sigmoid_()
            r, z = rz[..., :H], rz[..., H:]
            _tanh_(torch.addcmul(xw_n, r, u_n, out=n))  # n = tanh(xw_n + r u_n)
            h = torch.addcmul(n, z, torch.sub(h, n), out=h_t)  # h_t = (1 - z) n + z h_{t-1}
        ctx.save_for_backward(rzs, ns, us, hs, weight_hh)
        return hs[:, 1:]

    @staticmethod
    def backward(ctx, d_out: Tensor):
        rzs, ns, us, hs, weight_hh = ctx.saved_tensors
        T, H = ns.shape[1], ns.shape[-1]
        dn, du_dh = _gru_local_derivatives(rzs, ns, us, hs)
        d_u, dhs = torch.empty_like(us), torch.empty_like(hs)  # delta u_t; delta h_t at [:, t + 1]
        d_out_, z_, du_dh_, d_u_, d_u_gates_, dhs_ = (
            v.unbind(1) for v in (d_out, rzs[..., H:], du_dh, d_u, d_u.unflatten(-1, (3, -1)), dhs)
        )
        dh = dhs_[T].copy_(d_out_[T - 1])  # delta h_T
        for t in range(T - 1, -1, -1):
            torch.mul(dh.unsqueeze(-2), du_dh_[t], out=d_u_gates_[t])
            back = torch.bmm(d_u_[t], weight_hh)  # W_hh^T delta u_t
            if t > 0:
                back.add_(d_out_[t - 1])
            dh = torch.addcmul(back, z_[t], dh, out=dhs_[t])  # delta h_{t-1}
        d_xw = torch.cat([d_u[..., : 2 * H], dhs[:, 1:] * dn], dim=-1)  # abar_n has no factor r
        return d_xw, _summed_outer(d_u, hs[:, :-1]), d_u.sum((1, 2))


def _gru_local_derivatives(rz: Tensor, n: Tensor, u: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
    r"""`bptt.gru_local_derivatives`, members first: $\bar a_n / \delta h = (1 - z)(1 - n^2)$, and
    `du_dh`, (K, T, B, 3, H), with $\delta u_t = \delta h_t \cdot$ `du_dh`$_t$ gate by gate."""
    H = n.shape[-1]
    r, z, u_n = rz[..., :H], rz[..., H:], u[..., 2 * H :]
    dn = (1 - z) * (1 - n**2)
    return dn, torch.stack([dn * u_n * r * (1 - r), (h[:, :-1] - n) * z * (1 - z), r * dn], dim=-2)


# -- engines: stacked weights and a (K, B, T, I) batch in, (K, B, T, O) outputs out ----------------


def _projection(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """$W x_t + b$ of every member, step and row in one batched product: (K, B, T, I) -> (K, T, B, G)."""
    K, B, T, n_in = x.shape
    rows = x.transpose(1, 2).reshape(K, T * B, n_in)  # time-major rows within each member
    return torch.baddbmm(bias.unsqueeze(1), rows, weight.transpose(1, 2)).view(K, T, B, -1)


def _readout(hs: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    r"""$\hat y_t = W_{hy} h_t + b_y$ of every member: (K, T, B, H) -> (K, B, T, O), batch first."""
    K, T, B, H = hs.shape
    out = torch.baddbmm(bias.unsqueeze(1), hs.reshape(K, T * B, H), weight.transpose(1, 2))
    return out.view(K, T, B, -1).transpose(1, 2)


def bptt_engine(cell: str, group_bytes: int | None = None) -> Forward:
    """The batched time loops above, for a `SequenceModel` of `cell` (torch.nn's parameter names).

    Members go through in groups whose largest tensor, the gates of every step, stays under
    `group_bytes` (default `GROUP_BYTES`). Larger groups were slower per member (GRU, adding
    problem, 30 members: 4.2 ms per member-step in groups of 8 MiB, 7.7 ms in one group of 37 MiB):
    a block that large comes fresh from the system at every step (glibc maps blocks over 32 MiB
    anew, and returns a heap top over twice the largest freed block), and each of its pages
    faults on first touch; a group's working set also fits the caches better.
    """

    def layer(p: dict[str, Tensor], x: Tensor) -> Tensor:
        w_ih, w_hh, b_ih, b_hh = (p[f"rnn.{kind}_l0"] for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        if cell == "gru":  # b_hh stays apart: the reset gate scales W_hn h + b_hn
            return EnsembleGRU.apply(_projection(x, w_ih, b_ih), w_hh, b_hh)
        # b_ih and b_hh add to the same pre-activation: fold both into the projection
        return (EnsembleLSTM if cell == "lstm" else EnsembleRNN).apply(_projection(x, w_ih, b_ih + b_hh), w_hh)

    def forward(p: dict[str, Tensor], x: Tensor) -> Tensor:
        K, B, T, _ = x.shape
        gates = p["rnn.weight_hh_l0"].shape[1]
        size = max(1, (group_bytes or GROUP_BYTES) // (T * B * gates * x.element_size()))
        groups = [layer({n: w[i : i + size] for n, w in p.items()}, x[i : i + size]) for i in range(0, K, size)]
        hs = groups[0] if len(groups) == 1 else torch.cat(groups)
        return _readout(hs, p["readout.weight"], p["readout.bias"])

    return forward


def loop_engine(template: nn.Module) -> Forward:
    """Each member's own forward in turn (`template` with the member's weights): torch.nn's fused
    layers, the very code `train_cell` runs. Only the recurrence is per member; the rest of a step
    (data, loss, clipping, optimiser, bookkeeping) stays batched."""

    def forward(p: dict[str, Tensor], x: Tensor) -> Tensor:
        names, columns = list(p), [w.unbind(0) for w in p.values()]  # unbind: one stack in the backward
        return torch.stack(
            [
                torch.func.functional_call(template, dict(zip(names, weights)), (x_k,))
                for x_k, *weights in zip(x.unbind(0), *columns)
            ]
        )

    return forward


def steps_engine(template: nn.Module) -> Forward:
    """`template` (a `SequenceModel` on a `snippets` layer) vmapped over members, its time loop on
    the step functions of `snippets.cells`/`snippets.variants`, differentiated by autograd."""
    batched = torch.func.vmap(lambda p, x: torch.func.functional_call(template, p, (x,)))

    def forward(p: dict[str, Tensor], x: Tensor) -> Tensor:
        with fast.use("autograd"):  # the hand-written backward (snippets.fast.bptt) has no vmap rule
            return batched(p, x)

    return forward


def _twin(cell: str, model: SequenceModel) -> SequenceModel:
    """A `SequenceModel` on `snippets`' own layer for `cell`, shaped as `model` (weights are swapped in)."""
    layer = {"rnn": RNN, "lstm": LSTM, "gru": GRU}[cell]
    rnn = model.rnn
    with torch.random.fork_rng():  # building draws initial weights: leave the global stream alone
        return SequenceModel(
            cell,
            rnn.input_size,
            rnn.hidden_size,
            model.readout.out_features,
            layer=layer(rnn.input_size, rnn.hidden_size, batch_first=True),
        )


# -- members -------------------------------------------------------------------------------------


def build_member(
    cell: str, task, hidden_size: int, seed: int, forget_bias: float | None = None, layer: type[nn.Module] | None = None
) -> SequenceModel:
    """A member's model with the initial weights it has alone: seeded, built and biased as
    `train.train_cell` does (or, with a `layer` class, as the variants' runs do)."""
    seed_everything(seed)
    if layer is None:
        model = SequenceModel(cell, task.input_size, hidden_size, task.output_size)
        if forget_bias is not None:
            set_forget_bias(model.rnn, forget_bias)
        return model
    rnn = layer(task.input_size, hidden_size, batch_first=True)
    if forget_bias is not None:
        set_forget_bias(rnn, forget_bias)
    return SequenceModel(cell, task.input_size, hidden_size, task.output_size, layer=rnn)


def check_members(
    cell: str,
    configs: Sequence[TrainConfig],
    forget_biases: Sequence[float | None] | None,
    layer: type[nn.Module] | None,
    engine: str,
) -> tuple[list[float | None], str]:
    """The forget biases, one per member, and the engine to use; a clear error for members that
    cannot share a batch (they must agree on every field of `SHARED`)."""
    configs = list(configs)
    if not configs:
        raise ValueError("train_ensemble: expected at least one TrainConfig, got none")
    for k, config in enumerate(configs):
        if not isinstance(config, TrainConfig):
            raise TypeError(f"train_ensemble: expected a TrainConfig for member {k}, got {type(config).__name__}")
    for name in SHARED:
        values = [getattr(c, name) for c in configs]
        if any(v != values[0] for v in values):
            k = next(k for k, v in enumerate(values) if v != values[0])
            raise ValueError(
                f"members of one batch must share {name}: member 0 has {name}={values[0]!r}, "
                f"member {k} has {name}={values[k]!r}; train them in separate ensembles"
            )
    biases = [None] * len(configs) if forget_biases is None else list(forget_biases)
    if len(biases) != len(configs):
        raise ValueError(f"expected one forget bias per member ({len(configs)}), got {len(biases)}")
    if layer is None and cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; expected one of {sorted(CELLS)}, or a layer class")
    if layer is None and cell != "lstm" and any(b is not None for b in biases):
        raise ValueError(f"forget_bias applies to the lstm only, got cell {cell!r} with forget biases {biases}")
    if engine == "auto":
        # Measured (module docstring; python -m snippets.bench.ensemble): torch.nn's fused CPU
        # LSTM is as fast per member as the batched loops; its RNN and GRU are 3 to 5 times slower.
        engine = "steps" if layer is not None else ("loop" if cell == "lstm" else "bptt")
    if engine not in ENGINES:
        raise ValueError(f"engine must be 'auto' or one of {ENGINES}, got {engine!r}")
    if engine == "bptt" and layer is not None:
        raise ValueError(
            f"the bptt engine runs torch.nn's rnn, lstm and gru only, got layer {layer.__name__}; "
            "use engine='steps' or 'loop'"
        )
    return biases, engine


def _stacked(batches: list[tuple[Tensor, Tensor]], what: str, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    """The members' batches as one (K, ...) pair; a clear error where they cannot stack."""
    shapes = sorted({(tuple(x.shape), tuple(y.shape)) for x, y in batches})
    if len(shapes) > 1:
        raise ValueError(
            f"members drew {what} of different shapes, {shapes}: this task varies its sequence "
            "length per batch (e.g. AddingProblem(variant='hochreiter')), so its members cannot "
            "share a batch; train them one by one with train.train_cell"
        )
    x, y = torch.stack([b[0] for b in batches]), torch.stack([b[1] for b in batches])
    if x.dtype != dtype:
        raise ValueError(f"the task's inputs are {x.dtype} but the members' weights are {dtype} ({what})")
    return x, y


# -- clipping and the optimisers, member by member ------------------------------------------------


def _per_member(values: Sequence[float], like: Tensor) -> Tensor:
    """One value per member, shaped to broadcast over `like`'s (K, ...) rows."""
    return torch.tensor(list(values), dtype=like.dtype).view(-1, *[1] * (like.dim() - 1))


@torch.no_grad()
def clip_per_member(grads: Sequence[Tensor], max_norms: Sequence[float]) -> tuple[list[Tensor], Tensor]:
    r"""Each member's gradient clipped by its own norm, and the norms before clipping, (K,).

    As `torch.nn.utils.clip_grad_norm_` does for one model, over member $k$'s parameters $p$ only:

    $$\lVert g_k \rVert = \Big(\sum_p \lVert g_{k,p} \rVert_2^2\Big)^{1/2}, \qquad
    g_k \leftarrow g_k \cdot \min\Big(1, \frac{c_k}{\lVert g_k \rVert + 10^{-6}}\Big)$$

    with $c_k$ the member's `clip` ($\infty$ for none: then it only measures). New tensors, not in
    place: autograd may hand two parameters the same gradient tensor ($b_{ih}$ and $b_{hh}$, summed
    in the forward, get one), which scaling in place would scale twice.
    """
    per_param = torch.stack([torch.linalg.vector_norm(g.flatten(1), dim=1) for g in grads])  # (P, K)
    norms = torch.linalg.vector_norm(per_param, dim=0)
    scale = (_per_member(max_norms, norms) / (norms + 1e-6)).clamp(max=1.0)
    return [g * scale.view(-1, *[1] * (g.dim() - 1)) for g in grads], norms


class Optimizer:
    r"""Adam, SGD or RMSprop on stacked weights, with `torch.optim`'s defaults and arithmetic, one
    learning rate per member. Adam (Kingma & Ba 2015), at step $s$:

    $$m \leftarrow \beta_1 m + (1 - \beta_1) g, \quad v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \quad
    \theta \leftarrow \theta - \frac{\eta_k}{1 - \beta_1^s} \cdot \frac{m}{\sqrt{v / (1 - \beta_2^s)} + \epsilon}$$

    Every member still here has taken every step so far (members only ever leave), so $s$ is shared.
    """

    def __init__(self, kind: str, params: dict[str, Tensor], lrs: Sequence[float]):
        self.kind, self.lrs, self.steps = kind, list(lrs), 0
        slots = {"adam": 2, "rmsprop": 1, "sgd": 0}[kind]
        self.state = {name: [torch.zeros_like(p) for _ in range(slots)] for name, p in params.items()}

    def keep(self, rows: Tensor) -> None:
        """Keep the members at `rows` only (the others have stopped)."""
        self.lrs = [self.lrs[r] for r in rows.tolist()]
        self.state = {name: [s.index_select(0, rows) for s in slots] for name, slots in self.state.items()}

    @torch.no_grad()
    def step(self, params: dict[str, Tensor], grads: Sequence[Tensor]) -> None:
        self.steps += 1
        (beta1, beta2), s = ADAM_BETAS, self.steps
        # Step sizes in Python floats, then one rounding, and multiplied before the division: as
        # torch.optim's `addcdiv_(..., value=-step_size)` computes them.
        step_sizes = [-lr / (1 - beta1**s) for lr in self.lrs] if self.kind == "adam" else [-lr for lr in self.lrs]
        for (name, p), g in zip(params.items(), grads):
            neg_lr = _per_member(step_sizes, p)
            if self.kind == "adam":
                m, v = self.state[name]
                m.lerp_(g, 1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                denom = (v.sqrt() / (1 - beta2**s) ** 0.5).add_(ADAM_EPS)
                p.addcdiv_(m * neg_lr, denom)
            elif self.kind == "rmsprop":
                (v,) = self.state[name]
                v.mul_(RMSPROP_ALPHA).addcmul_(g, g, value=1 - RMSPROP_ALPHA)
                p.addcdiv_(g * neg_lr, v.sqrt().add_(RMSPROP_EPS))
            else:
                p.addcmul_(g, neg_lr)


# -- the training loop ---------------------------------------------------------------------------


@dataclass
class _Members:
    """The members still training, in stack order, with their stacked weights and optimiser state."""

    ids: list[int]
    params: dict[str, Tensor]
    optimizer: Optimizer
    finals: dict[int, dict[str, Tensor]] = field(default_factory=dict)  # member -> final weights
    status: dict[int, str] = field(default_factory=dict)
    wall: dict[int, float] = field(default_factory=dict)  # member -> the run's wall clock when it left

    def leave(self, rows: list[int], status: str, wall: float) -> Tensor:
        """The members at `rows` stop with `status`: their weights are kept as they are now and
        they leave the stack. Returns the rows that stay."""
        for r in rows:
            member = self.ids[r]
            self.finals[member] = {name: p[r].detach().clone() for name, p in self.params.items()}
            self.status[member], self.wall[member] = status, wall
        keep = torch.tensor([r for r in range(len(self.ids)) if r not in rows], dtype=torch.long)
        if rows:
            self.ids = [self.ids[r] for r in keep.tolist()]
            self.params = {n: p.detach().index_select(0, keep).requires_grad_() for n, p in self.params.items()}
            self.optimizer.keep(keep)
        return keep


def _engine(engine: str, cell: str, model: SequenceModel, layer: type[nn.Module] | None) -> Forward:
    if engine == "bptt":
        return bptt_engine(cell)
    if engine == "loop":
        return loop_engine(model)
    return steps_engine(model if layer is not None else _twin(cell, model))


def _validation(task, configs: list[TrainConfig], dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    """Every member's fixed validation batch, (K, N, ...): the task's own split is shared (a view)."""
    if hasattr(task, "validation"):
        x, y = _stacked([validation_batch(task, configs[0])], "validation batches", dtype)
        return x.expand(len(configs), *x.shape[1:]), y.expand(len(configs), *y.shape[1:])
    return _stacked([validation_batch(task, c) for c in configs], "validation batches", dtype)


@torch.no_grad()
def _evaluate(
    forward: Forward, params: dict[str, Tensor], x: Tensor, y: Tensor, task, hidden_size: int
) -> list[tuple[float, float]]:
    """Validation loss and accuracy of each member on its batch, as `train.evaluate` computes them.

    The rows go through in chunks (each row's outputs are its own) so that a long validation batch
    of many members does not hold every step's gates at once.
    """
    K, N, T = x.shape[:3]
    rows = max(1, EVAL_FLOATS // (K * T * 8 * hidden_size))  # ~8 H floats per member, row and step
    out = torch.cat([forward(params, x[:, i : i + rows]) for i in range(0, N, rows)], dim=1)
    return [(float(task.loss(o, t)), task.accuracy(o, t)) for o, t in zip(out, y)]


def _new_log() -> dict:
    return {
        "step": [],
        "train_loss": [],
        "grad_norm": [],
        "seconds": [],
        "val_step": [],
        "val_loss": [],
        "val_accuracy": [],
    }


def train_ensemble(
    cell: str,
    task,
    hidden_size: int,
    configs: Sequence[TrainConfig],
    forget_biases: Sequence[float | None] | None = None,
    *,
    layer: type[nn.Module] | None = None,
    engine: str = "auto",
    keep_weights: bool = False,
    desc: str | None = None,
    init: Callable[[SequenceModel], None] | None = None,
    probe: Callable[[dict[str, Tensor]], Tensor] | None = None,
) -> list[dict]:
    """Train the members `configs` (with `forget_biases`, one per member or None) as one batched model.

    Each member's log is what `train.train_cell(cell, task, hidden_size, config, forget_bias)` returns
    for it, up to rounding, with `seconds` its share of the run's wall clock (see the module
    docstring) and an `ensemble` entry: `members` (K), `engine`, `wall_seconds`. With
    `keep_weights`, also its final `state_dict`, loadable into `train.SequenceModel`.

    `layer` (a `snippets` layer class, e.g. `snippets.variants.PeepholeLSTM`) builds each member on
    that layer instead of torch.nn's (`cell` then only names the model). `engine`: `"auto"`,
    `"bptt"`, `"loop"` or `"steps"` (module docstring). `init`, if given, is called on each member's
    model after it is built, to change its initial weights in place (e.g. rescale $W_{hh}$).

    `probe`, if given, is called with the stacked weights ({name: (K, ...)}) of the members still
    training, before the first step and at every evaluation (before members leave); row k of the
    tensor it returns goes into member k's log as `probe` (a list: step 0, then one per `val_step`).
    """
    biases, engine = check_members(cell, configs, forget_biases, layer, engine)
    configs, first = list(configs), configs[0]
    models = [build_member(cell, task, hidden_size, c.seed, b, layer) for c, b in zip(configs, biases)]
    if init is not None:
        for model in models:
            init(model)
    names = [name for name, _ in models[0].named_parameters()]
    params = {n: torch.stack([dict(m.named_parameters())[n].detach() for m in models]).requires_grad_() for n in names}
    dtype = params[names[0]].dtype
    forward = _engine(engine, cell, models[0], layer)
    generators = [data_generator(c.seed, stream=0) for c in configs]
    val_x, val_y = _validation(task, configs, dtype)
    members = _Members(list(range(len(configs))), params, Optimizer(first.optimizer, params, [c.lr for c in configs]))
    logs = [_new_log() for _ in configs]
    if probe is not None:
        _record_probe(probe, members, logs)
    share, start = 0.0, time.perf_counter()  # share: seconds per member so far (all here took every step)

    bar = tqdm(range(1, first.steps + 1), desc=desc or f"{cell} x{len(configs)}", disable=None, delay=2.0, leave=False)
    for step in bar:
        began, n = time.perf_counter(), len(members.ids)
        batches = [task.sample(first.batch_size, generators[m]) for m in members.ids]
        x, y = _stacked(batches, f"training batches at step {step}", dtype)
        losses = torch.stack([task.loss(o, t) for o, t in zip(forward(members.params, x), y)])
        grads = list(torch.autograd.grad(losses.sum(), list(members.params.values())))
        clips = [math.inf if configs[m].clip is None else configs[m].clip for m in members.ids]
        grads, norms = clip_per_member(grads, clips)  # norms before clipping
        loss_values, norm_values = torch.stack([losses.detach(), norms]).tolist()  # one sync per step
        for m, loss, norm in zip(members.ids, loss_values, norm_values):
            logs[m]["step"].append(step), logs[m]["train_loss"].append(loss), logs[m]["grad_norm"].append(norm)
        bad = [
            r
            for r, (loss, norm) in enumerate(zip(loss_values, norm_values))
            if not (math.isfinite(loss) and math.isfinite(norm))
        ]
        if bad:
            now = time.perf_counter()
            for r in bad:
                logs[members.ids[r]]["seconds"].append(share + (now - began) / n)
            keep = members.leave(bad, "diverged", now - start)  # before the update: weights as they were
            grads = [g.index_select(0, keep) for g in grads]
        members.optimizer.step(members.params, grads)
        share += (time.perf_counter() - began) / n
        for m in members.ids:
            logs[m]["seconds"].append(share)
        if step % first.eval_every == 0 or step == first.steps:
            if probe is not None:
                _record_probe(probe, members, logs)
            _record_validation(members, logs, configs, step, forward, task, hidden_size, val_x, val_y, start)
        if not members.ids:
            break
        bar.set_postfix(members=len(members.ids), refresh=False)
    bar.close()
    members.leave(list(range(len(members.ids))), "budget", time.perf_counter() - start)
    return [
        _finish(logs[m], members, m, configs[m], models[0], hidden_size, engine, keep_weights)
        for m in range(len(configs))
    ]


@torch.no_grad()
def _record_probe(probe: Callable, members: _Members, logs: list[dict]) -> None:
    values = probe({name: p.detach() for name, p in members.params.items()}).tolist()
    for m, row in zip(members.ids, values):
        logs[m].setdefault("probe", []).append(row)


def _record_validation(
    members: _Members,
    logs: list[dict],
    configs: list[TrainConfig],
    step: int,
    forward: Forward,
    task,
    hidden_size: int,
    val_x: Tensor,
    val_y: Tensor,
    start: float,
) -> None:
    """Evaluate the members still here; those solved or diverged leave, as `train.train` stops them."""
    index = torch.tensor(members.ids, dtype=torch.long)
    metrics = _evaluate(
        forward, members.params, val_x.index_select(0, index), val_y.index_select(0, index), task, hidden_size
    )
    diverged, solved = [], []
    for r, (m, (loss, accuracy)) in enumerate(zip(members.ids, metrics)):
        logs[m]["val_step"].append(step), logs[m]["val_loss"].append(loss), logs[m]["val_accuracy"].append(accuracy)
        target = configs[m].target_loss
        if not math.isfinite(loss):
            diverged.append(r)
        elif target is not None and loss < target:
            solved.append(r)
    now = time.perf_counter() - start
    kept = members.leave(diverged, "diverged", now)
    rows_left = {r: k for k, r in enumerate(kept.tolist())}
    members.leave([rows_left[r] for r in solved], "solved", now)


def _finish(
    log: dict,
    members: _Members,
    m: int,
    config: TrainConfig,
    model: SequenceModel,
    hidden_size: int,
    engine: str,
    keep_weights: bool,
) -> dict:
    """The member's log completed as `train.train` and `train.train_cell` complete theirs."""
    status = members.status[m]
    if status == "diverged" and (not log["val_step"] or log["val_step"][-1] != log["step"][-1]):
        log["val_step"].append(log["step"][-1])
        log["val_loss"].append(math.nan)
        log["val_accuracy"].append(math.nan)
    log.update(
        status=status,
        steps_run=log["step"][-1],
        config=asdict(config),
        n_params=count_parameters(model),
        hidden_size=hidden_size,
        ensemble={"members": len(members.finals), "engine": engine, "wall_seconds": members.wall[m]},
    )
    if keep_weights:
        log["state_dict"] = members.finals[m]
    return log


def ensemble_run(
    cell: str,
    task_name: str,
    task_args: dict,
    hidden_size: int,
    configs: list[dict],
    forget_biases: list[float | None] | None = None,
    keep_weights: bool = False,
    engine: str = "auto",
) -> list[dict]:
    """Members trained together, as a job for `snippets.pool` (the ensemble's `runs.train_run`):
    build the task, train, return one log per member, each with its `cell` as `train_run` adds it."""
    task = tasks.make_task(task_name, **task_args)
    logs = train_ensemble(
        cell,
        task,
        hidden_size,
        [TrainConfig(**c) for c in configs],
        forget_biases,
        engine=engine,
        keep_weights=keep_weights,
    )
    for log in logs:
        log["cell"] = cell
    return logs
