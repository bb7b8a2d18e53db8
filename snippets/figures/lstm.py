"""Figures of the LSTM cell page: gate activations and cell state of a real forward pass."""

from __future__ import annotations

import torch
from matplotlib.figure import Figure

from snippets.figures import theme

LSTM_PANELS = [  # (trace key, label, y range); "x" is the input
    ("x", "input\n$x_t$", None),
    ("i", "input gate\n$i_t$", (0, 1)),
    ("f", "forget gate\n$f_t$", (0, 1)),
    ("g", "candidate\n$g_t$", (-1, 1)),
    ("o", "output gate\n$o_t$", (0, 1)),
    ("c", "cell state\n$c_t$", None),
]


def pulse_input(steps: int = 30, pulses: dict[int, float] | None = None) -> torch.Tensor:
    """A (steps, 1, 1) input that is zero except at the given steps: {step: value}."""
    pulses = {3: 1.0, 4: 1.0, 16: -1.0, 17: -1.0} if pulses is None else pulses
    if any(not 0 <= t < steps for t in pulses):
        raise ValueError(f"pulse_input: expected pulse steps in [0, {steps}), got {sorted(pulses)}")
    x = torch.zeros(steps, 1, 1)
    for t, value in pulses.items():
        x[t] = value
    return x


def lstm_gate_traces(x: torch.Tensor, hidden_size: int = 3, seed: int = 0, init_bound: float = 2.0,
                     forget_bias: float = 0.0):
    """Gate traces of a seeded, untrained `snippets.LSTM(1, hidden_size)` on `x` (steps, 1, 1).

    Weights are drawn from U(-init_bound, init_bound) rather than torch.nn's U(-1/sqrt(H), 1/sqrt(H)),
    whose small weights keep every gate near 1/2; `forget_bias` is then added to the forget gate's
    input bias (rows H:2H, gate order i, f, g, o). Returns {key: array (steps, hidden_size)} for the
    keys "i", "f", "g", "o", "c", "h": layer 0, the only direction, batch element 0.
    """
    from snippets import LSTM  # here, not at the top: snippets/__init__ may import this module one day

    torch.manual_seed(seed)
    model = LSTM(1, hidden_size)
    with torch.no_grad():
        for weight in model.parameters():
            weight.uniform_(-init_bound, init_bound)
        model.bias_ih_l0[hidden_size:2 * hidden_size] += forget_bias
        _, _, trace = model(x, return_gates=True)
    return {key: value[0, 0, :, 0, :].numpy() for key, value in trace.items()}


def plot_lstm_gates(x: torch.Tensor, trace: dict) -> Figure:
    """One panel per gate (and the input, and the cell state) over time; one line per unit."""
    steps, units = trace["c"].shape
    active = [t for t in range(steps) if x[t].abs().sum() > 0]
    with theme():
        fig = Figure(figsize=(7, 7.5), layout="constrained")
        axes = fig.subplots(len(LSTM_PANELS), 1, sharex=True)
        for ax, (key, label, limits) in zip(axes, LSTM_PANELS):
            for t in active:  # shade the steps where the input is non-zero
                ax.axvspan(t - 0.5, t + 0.5, color="#000000", alpha=0.07, linewidth=0)
            if key == "x":
                ax.step(range(steps), x[:, 0, 0].numpy(), where="mid", color="#000000")
            else:
                for unit in range(units):
                    ax.plot(range(steps), trace[key][:, unit], label=f"unit {unit + 1}")
            if limits:
                ax.set_ylim(limits[0] - 0.05, limits[1] + 0.05)
                ax.set_yticks([limits[0], (limits[0] + limits[1]) / 2, limits[1]])
            ax.set_ylabel(label, rotation=0, ha="right", va="center")
        axes[1].legend(ncols=units, loc="lower left", bbox_to_anchor=(0, 1.02), borderaxespad=0)
        axes[-1].set_xlabel("time step $t$")
    return fig


def lstm_gates_figure(seed: int = 0, hidden_size: int = 3, forget_bias: float = 0.0) -> Figure:
    """The figure on the LSTM cell page: `plot_lstm_gates` of a pulse input through a seeded LSTM."""
    x = pulse_input()
    return plot_lstm_gates(x, lstm_gate_traces(x, hidden_size=hidden_size, seed=seed, forget_bias=forget_bias))
