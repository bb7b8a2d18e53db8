r"""Which way the LSTM's gradient goes back in time: the same forward pass, with paths cut.

An LSTM step reads $h_{t-1}$ in all four gate blocks, $a_t = W_{ih} x_t + b + W_{hh} h_{t-1}$, so
the gradient from a later step reaches $c_{t-1}$ two ways: along the cell state,
$\partial c_t / \partial c_{t-1} = \operatorname{diag}(f_t)$, and round a loop through the hidden state,

$$c_{t-1} \to h_{t-1} = o_{t-1} \odot \tanh(c_{t-1}) \to a_t \to (i_t, f_t, g_t, o_t) \to c_t .$$

`lstm_step_cut` is `lstm_step` with $h_{t-1}$ *detached* where it enters the gate blocks named in
`cut`: every value of the forward pass stays the same, and the backward pass loses exactly the
loops through those blocks.

- `cut=""`: full backpropagation through time (the gradient `torch.autograd` computes);
- `cut="g"`: every path but the loop through the candidate $g_t$;
- `cut="ifgo"`: only the cell state carries the gradient back in time. This is the gradient
  Hochreiter and Schmidhuber (1997) trained with: errors that reach a gate's input are used for
  that gate's weights but not sent further back through $h_{t-1}$; only the cell carries them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from snippets.cells import lstm_step

GATES = "ifgo"  # PyTorch's order of the four blocks
TRUNCATED = GATES  # the 1997 gradient: h_{t-1} cut out of every block


def lstm_step_cut(xw: Tensor, h: Tensor, c: Tensor, weight_hh: Tensor, bias_hh: Tensor | None, cut: str = ""):
    r"""`snippets.cells.lstm_step` with $h_{t-1}$ detached in the gate blocks named in `cut`.

    The forward values are `lstm_step`'s exactly; only the backward pass changes. Returns `(h, c)`
    and `(i, f, g, o)`, as `lstm_step` does.
    """
    if not set(cut) <= set(GATES):
        raise ValueError(f"lstm_step_cut: expected cut made of the gate names {GATES!r}, got {cut!r}")

    def recurrent(h: Tensor, weight_hh: Tensor, bias_hh: Tensor | None) -> Tensor:
        """$W_{hh} h_{t-1} + b_{hh}$, one gate block at a time."""
        biases = bias_hh.chunk(4) if bias_hh is not None else (None,) * 4
        blocks = [
            F.linear(h.detach() if gate in cut else h, weight, bias)  # detached: no gradient back through here
            for gate, weight, bias in zip(GATES, weight_hh.chunk(4), biases)
        ]
        return torch.cat(blocks, dim=-1)

    return lstm_step(xw, h, c, weight_hh, bias_hh, recurrent=recurrent)


def unroll(layer: nn.Module, x: Tensor, cut: str = "") -> tuple[Tensor, list[Tensor], Tensor]:
    """Run a one-layer `LSTM` (torch.nn or snippets, batch-first) over `x` (batch, T, input) with `cut`.

    Returns the hidden states (batch, T, hidden); the list of cell states $c_1 \\dots c_T$, each
    kept in the graph with `retain_grad`, so that after a backward pass `c.grad` is $\\partial L / \\partial c_t$;
    and the forget gates, detached (batch, T, hidden).
    """
    if getattr(layer, "mode", None) != "LSTM" or layer.num_layers != 1 or layer.bidirectional:
        raise ValueError(f"unroll: expected a one-layer, one-direction LSTM, got {layer!r}")
    if getattr(layer, "proj_size", 0):
        raise ValueError("unroll: an LSTM with a projection is not supported")
    projected = F.linear(x, layer.weight_ih_l0, layer.bias_ih_l0)
    h = x.new_zeros(x.shape[0], layer.hidden_size)
    c = torch.zeros_like(h)
    hs, cs, fs = [], [], []
    for xw in projected.unbind(1):
        (h, c), (_, f, _, _) = lstm_step_cut(xw, h, c, layer.weight_hh_l0, layer.bias_hh_l0, cut)
        if c.requires_grad:
            c.retain_grad()
        hs.append(h)
        cs.append(c)
        fs.append(f.detach())
    return torch.stack(hs, dim=1), cs, torch.stack(fs, dim=1)


def cell_gradient_norms(layer: nn.Module, x: Tensor, w: Tensor, cut: str = "") -> Tensor:
    r"""$\lVert \partial L / \partial c_{T-k} \rVert$ for $L = \sum_b w^\top h_T^{(b)}$, through the paths `cut` leaves.

    Shape (batch, T), column $k$ = distance from the last step (as `snippets.gradients.gradient_norms`).
    Rows of the batch do not interact, so row $b$ is sequence $b$'s own gradient.
    """
    with torch.enable_grad():
        x = x.detach()
        hs, cs, _ = unroll(layer, x.requires_grad_(), cut)
        (hs[:, -1] @ w).sum().backward()
    return torch.stack([c.grad.norm(dim=1) for c in reversed(cs)], dim=1).detach()


def loss_gradients(layer: nn.Module, readout: nn.Linear, x: Tensor, y: Tensor, cut: str = "") -> dict:
    r"""Gradients of the mean squared error of `readout(h_T)` against `y`, through the paths `cut` leaves.

    For a model that answers at the last step (the adding problem). Returns {name: gradient} for
    the input `"x"` (batch, T, input) and the layer's `"weight_ih"`, `"weight_hh"`, `"bias_ih"`,
    `"bias_hh"` (gate blocks stacked in the order i, f, g, o). The read-out's own gradients are
    left out: they do not go back through time, so the cut does not change them.
    """
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    with torch.enable_grad():
        x = x.detach().requires_grad_()
        hs, _, _ = unroll(layer, x, cut)
        loss = F.mse_loss(readout(hs[:, -1]), y)
        grads = torch.autograd.grad(loss, [x] + [getattr(layer, f"{name}_l0") for name in names])
    return dict(zip(("x", *names), grads))
