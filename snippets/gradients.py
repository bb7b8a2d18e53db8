r"""Gradient flow through time, measured.

A loss read at the last step, $L = w^\top h_T$, is back-propagated through
an unrolled layer, and the norm of its gradient with respect to every earlier
hidden state is recorded: $\lVert \partial L / \partial h_{T-k} \rVert$
against the distance $k$.

For the tanh RNN, $h_t = \tanh(W_{ih} x_t + b + W_{hh} h_{t-1})$, the
chain rule gives

$$
\frac{\partial L}{\partial h_{T-k}}
= \Big(\prod_{s=T-k+1}^{T} \operatorname{diag}(1 - h_s^2)\, W_{hh}\Big)^{\!\top}
  \frac{\partial L}{\partial h_T},
\qquad
\Big\lVert \frac{\partial L}{\partial h_{T-k}} \Big\rVert
\le \lambda_1^k \Big\lVert \frac{\partial L}{\partial h_T} \Big\rVert,
$$

with $\lambda_1$ the largest singular value of $W_{hh}$, because
$|\tanh'| \le 1$ (Bengio et al. 1994; Pascanu et al. 2013). Below 1 the
gradient must vanish geometrically; above 1 it may grow, but need not.

The bound is loose in two ways. Over many steps a product of the same matrix grows like its
*spectral radius* $\rho(W_{hh}) = \max_i |\mu_i|$ (the largest absolute eigenvalue), not like
$\lambda_1$: $\lVert (W^\top)^k g \rVert^{1/k} \to \rho(W)$ (Gelfand's formula), and
$\rho \le \lambda_1$. And each step multiplies by the slopes $1 - h_t^2 \le 1$. With $\bar s$ the
mean slope, the measured rate per step is close to $\rho \bar s$ where the slopes are even
(`spectral_radius`, `tanh_slope`, `decay_rate` and `linear_norms` measure each part).

For the LSTM the cell state adds a path,
$c_t = f_t \odot c_{t-1} + i_t \odot g_t$, along which the gradient is
multiplied by the forget gate only: $\prod_s f_s$, elementwise. The
forget-gate bias sets how close to 1 those factors start.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .cells import gru_step, lstm_step, rnn_step
from .seeding import data_generator, seed_everything


def set_largest_singular_value(weight: torch.Tensor, sigma: float) -> None:
    r"""Rescale `weight` in place so that its largest singular value is `sigma`."""
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma!r}")
    with torch.no_grad():
        weight.mul_(sigma / torch.linalg.matrix_norm(weight, ord=2))


def spectral_radius(weight: torch.Tensor) -> float:
    r"""$\rho(W) = \max_i |\mu_i|$, the largest absolute eigenvalue of the square matrix `weight`.

    $\rho \le \lambda_1$ (the largest singular value), with equality for normal matrices
    (orthogonal, symmetric); for a random matrix with i.i.d. entries $\lambda_1 \approx 2\rho$.
    """
    if weight.dim() != 2 or weight.shape[0] != weight.shape[1]:
        raise ValueError(f"spectral_radius: expected a square matrix, got shape {tuple(weight.shape)}")
    return float(torch.linalg.eigvals(weight.detach()).abs().max())


def set_orthogonal(weight: torch.Tensor, sigma: float) -> None:
    r"""Replace `weight` in place by $\sigma Q$, $Q$ a random orthogonal matrix (torch's global generator).

    Every singular value of $\sigma Q$ is $\sigma$ and every eigenvalue has modulus $\sigma$, so
    $\lambda_1 = \rho = \sigma$: the matrix for which the bound $\lambda_1^k$ is tight.
    """
    with torch.no_grad():
        nn.init.orthogonal_(weight)
    set_largest_singular_value(weight, sigma)


def decay_rate(norms: torch.Tensor, start: int = 0) -> float:
    r"""The gradient's factor per step: $e^b$, $b$ the least-squares slope of the mean log norm against $k$.

    `norms` is (batch, T) as `gradient_norms` returns it (or (T,)); the mean of the log over the
    batch is fitted for $k \ge$ `start`, past the first steps where the direction still settles.
    Below 1 the gradient vanishes, above 1 it grows.
    """
    logs = norms.double().log()
    logs = logs.mean(0) if logs.dim() == 2 else logs
    if not 0 <= start <= logs.shape[0] - 2:
        raise ValueError(f"decay_rate: expected start in [0, {logs.shape[0] - 2}], got {start!r}")
    y = logs[start:]
    k = torch.arange(start, start + y.shape[0], dtype=torch.float64)
    slope = ((k - k.mean()) * (y - y.mean())).sum() / ((k - k.mean()) ** 2).sum()
    return float(slope.exp())


def linear_norms(weight_hh: torch.Tensor, w: torch.Tensor, T: int) -> torch.Tensor:
    r"""$\lVert (W_{hh}^\top)^k w \rVert$ for $k = 0 \dots T-1$: the backward pass with every slope set to 1."""
    g, out = w.detach().clone(), []
    W = weight_hh.detach()
    for _ in range(T):
        out.append(g.norm())
        g = W.T @ g
    return torch.stack(out)


def tanh_slope(layer: nn.Module, x: torch.Tensor) -> float:
    r"""$\bar s$, the mean of $\tanh'(a_t) = 1 - h_t^2$ over sequences, steps and units, of a tanh RNN on `x`."""
    if getattr(layer, "mode", None) != "RNN_TANH":
        raise ValueError(f"tanh_slope: expected a tanh RNN layer, got {type(layer).__name__}")
    with torch.no_grad():
        h, _ = layer(x)
    return float((1 - h**2).mean())


def _weights(layer: nn.Module):
    """(W_ih, b_ih, W_hh, b_hh) of a one-layer, one-direction RNN, LSTM or GRU (torch.nn or snippets)."""
    if getattr(layer, "num_layers", None) != 1 or layer.bidirectional:
        raise ValueError(f"gradient flow is measured on one unidirectional layer, got {layer!r}")
    return tuple(getattr(layer, f"{kind}_l0") for kind in ("weight_ih", "bias_ih", "weight_hh", "bias_hh"))


def gradient_norms(layer: nn.Module, x: torch.Tensor, w: torch.Tensor) -> dict:
    r"""Unroll `layer` over `x` (batch, T, input) and back-propagate $L = \sum_b w^\top h_T^{(b)}$.

    The unrolling runs this package's own step functions (`snippets.cells`) with the layer's
    weights. Rows of the batch do not interact, so row `b` of each gradient is that
    sequence's own $\partial L / \partial h_t$. Returns tensors of shape (batch, T), indexed
    by $k = 0 \dots T-1$ (distance from the end):

    - `"h"`: $\lVert \partial L / \partial h_{T-k} \rVert$ for every cell;
    - LSTM also `"c"`: $\lVert \partial L / \partial c_{T-k} \rVert$, all paths, and
      `"cell_path"`: $\lVert (\prod_{s=T-k+1}^{T} f_s) \odot \partial L / \partial c_T \rVert$,
      the part carried by the cell state alone;
    - GRU also `"z_path"`: the same product over the update gate, the GRU's direct path
      (PyTorch's convention $h_t = (1 - z_t) n_t + z_t h_{t-1}$).
    """
    mode = getattr(layer, "mode", None)
    if mode not in ("RNN_TANH", "RNN_RELU", "LSTM", "GRU"):
        raise ValueError(f"expected an RNN, LSTM or GRU layer, got {type(layer).__name__}")
    weight_ih, bias_ih, weight_hh, bias_hh = _weights(layer)
    steps = F.linear(x, weight_ih, bias_ih).unbind(1)
    h = x.new_zeros(x.shape[0], layer.hidden_size)
    c = torch.zeros_like(h)
    hs, cs, carry = [], [], []
    for xw in steps:
        if mode == "LSTM":
            (h, c), (_, f, _, _) = lstm_step(xw, h, c, weight_hh, bias_hh)
            carry.append(f)
            c.retain_grad()
            cs.append(c)
        elif mode == "GRU":
            h, (_, z, _) = gru_step(xw, h, weight_hh, bias_hh)
            carry.append(z)
        else:
            h = rnn_step(xw, h, weight_hh, bias_hh, layer.nonlinearity)
        h.retain_grad()
        hs.append(h)
    (h @ w).sum().backward()

    def by_distance(states):  # (batch, T) norms, column k = distance from the end
        return torch.stack([s.grad.norm(dim=1) for s in reversed(states)], dim=1).detach()

    out = {"h": by_distance(hs)}
    if carry:
        gates = torch.stack(carry[::-1], dim=1).detach()  # (batch, T, H), k order
        # Gain of the direct path from step T back to T-k: product of the gates after T-k.
        gain = torch.cat([torch.ones_like(gates[:, :1]), gates[:, :-1].cumprod(dim=1)], dim=1)
        end = cs[-1].grad if mode == "LSTM" else hs[-1].grad
        out["cell_path" if mode == "LSTM" else "z_path"] = (gain * end[:, None, :]).norm(dim=2)
    if mode == "LSTM":
        out["c"] = by_distance(cs)
    return out


def measure(
    cell: str,
    T: int = 100,
    hidden_size: int = 64,
    input_size: int = 4,
    batch: int = 32,
    seed: int = 0,
    sigma: float | None = None,
    forget_bias: float | None = None,
    init: str = "default",
) -> dict:
    r"""Gradient norms against distance for a freshly initialised layer.

    `sigma`: rescale $W_{hh}$ to that largest singular value (any cell;
    for the LSTM/GRU the stacked gate matrix). `forget_bias`: the LSTM's
    $b_f$. `init="orthogonal"` (tanh RNN, with `sigma`): $W_{hh} = \sigma Q$
    instead (`set_orthogonal`), the rest of the layer and the data unchanged.
    Inputs $x_t \sim N(0, 1)$; $w$ a random unit
    vector. Float64, so that norms of order $10^{-30}$ are still exact.

    Returns `norms` (`gradient_norms`) and `sigma_max`; for the RNN also `rho`
    (`spectral_radius` of $W_{hh}$) and `linear` (`linear_norms`), for the tanh RNN `tanh_slope`.
    """
    from .train import CELLS, set_forget_bias  # train imports nothing from here

    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; expected one of {sorted(CELLS)}")
    if not isinstance(T, int) or T < 1:
        raise ValueError(f"T must be an int >= 1, got {T!r}")
    if init not in ("default", "orthogonal"):
        raise ValueError(f"init must be 'default' or 'orthogonal', got {init!r}")
    if init == "orthogonal" and (cell != "rnn" or sigma is None):
        raise ValueError(f"init='orthogonal' applies to the rnn with a sigma, got cell {cell!r}, sigma {sigma!r}")
    seed_everything(seed)
    layer = CELLS[cell](input_size, hidden_size, batch_first=True).double()
    if init == "orthogonal":
        set_orthogonal(layer.weight_hh_l0, sigma)
    elif sigma is not None:
        set_largest_singular_value(layer.weight_hh_l0, sigma)
    if forget_bias is not None:
        if cell != "lstm":
            raise ValueError(f"forget_bias applies to the lstm only, got cell {cell!r}")
        set_forget_bias(layer, forget_bias)
    g = data_generator(seed)
    x = torch.randn(batch, T, input_size, generator=g, dtype=torch.float64)
    w = torch.randn(hidden_size, generator=g, dtype=torch.float64)
    w = w / w.norm()
    norms = gradient_norms(layer, x, w)
    weight_hh = layer.weight_hh_l0.detach()
    out = {"norms": norms, "sigma_max": float(torch.linalg.matrix_norm(weight_hh, ord=2))}
    if cell == "rnn":
        out.update(rho=spectral_radius(weight_hh), linear=linear_norms(weight_hh, w, T))
        if layer.nonlinearity == "tanh":
            out["tanh_slope"] = tanh_slope(layer, x)
    return out


def perturbation_decay(layer: nn.Module, x: torch.Tensor, delta: float = 1.0) -> torch.Tensor:
    r"""How long a change at the first step stays visible: $\lVert h_t - h'_t \rVert$ for every $t$.

    $h'$ is the hidden state on the same input with `delta` added to the first step's features;
    `layer` is batch-first and `x` is (1, T, input). The forward-pass twin of the gradient norms
    above: for the tanh RNN it obeys the same $\lambda_1^t$ bound, for small changes.
    """
    if x.dim() != 3 or x.shape[0] != 1:
        raise ValueError(f"perturbation_decay: expected x of shape (1, T, input), got {tuple(x.shape)}")
    changed = x.clone()
    changed[0, 0] += delta
    with torch.no_grad():
        h, h_changed = layer(x)[0], layer(changed)[0]
    return (h - h_changed)[0].norm(dim=-1)
