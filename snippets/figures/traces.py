"""Figures for the hands-on notebooks: gate traces of chosen units, and how long a change is remembered."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from snippets.figures import theme


def plot_traces(panels: dict[str, np.ndarray], units: list[int], shade: list[int] = ()) -> Figure:
    """One panel per entry of `panels` ({label: array (time,) or (time, units)}), sharing the time axis.

    1-D arrays (the input, say) are drawn as one black step line; 2-D ones as one line per unit in
    `units`. Steps in `shade` (the marked ones, say) are shaded in every panel.
    """
    if not panels:
        raise ValueError("plot_traces: expected at least one panel, got none")
    steps = len(next(iter(panels.values())))
    with theme():
        fig = Figure(figsize=(7, 1.3 * len(panels) + 0.6), layout="constrained")
        axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
        for ax, (label, values) in zip(axes, panels.items()):
            values = np.asarray(values)
            if len(values) != steps:
                raise ValueError(f"plot_traces: expected {steps} steps in panel {label!r}, got {len(values)}")
            for t in shade:
                ax.axvspan(t - 0.5, t + 0.5, color="#000000", alpha=0.1, linewidth=0)
            if values.ndim == 1:
                ax.step(range(steps), values, where="mid", color="#000000")
            else:
                for unit in units:
                    ax.plot(range(steps), values[:, unit], label=f"unit {unit}")
            ax.set_ylabel(label, rotation=0, ha="right", va="center")
        lines = [ax for ax in axes if np.asarray(panels[ax.get_ylabel()]).ndim == 2]
        if lines:
            lines[0].legend(ncols=len(units), loc="lower left", bbox_to_anchor=(0, 1.02), borderaxespad=0)
        axes[-1].set_xlabel("time step $t$")
    return fig


def plot_divergence(curves: dict[str, np.ndarray]) -> Figure:
    r"""$\lVert h_t - h'_t \rVert$ against $t$ for each model, on a log scale: how long a change survives."""
    with theme():
        fig = Figure(figsize=(6.5, 3.2), layout="constrained")
        ax = fig.subplots()
        for name, curve in curves.items():
            ax.semilogy(np.arange(len(curve)), np.maximum(np.asarray(curve), 1e-300), label=name)
        ax.set_xlabel("time step $t$")
        ax.set_ylabel(r"$\|h_t - h'_t\|$")
        ax.legend()
    return fig
