"""Figures for the hands-on notebooks: gate traces of chosen units, and how long a change is remembered."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from snippets.figures import PHONE_WIDTH, theme


def plot_traces(panels: dict[str, np.ndarray], units: list[int], shade: list[int] = (), narrow: bool = False) -> Figure:
    """One panel per entry of `panels` ({label: array (time,) or (time, units)}), sharing the time axis.

    1-D arrays (the input, say) are drawn as one black step line; 2-D ones as one line per unit in
    `units`, with one legend above the panels. Steps in `shade` (the marked ones, say) are shaded in
    every panel. `narrow`: at most `PHONE_WIDTH` wide, each panel's label above it.
    """
    if not panels:
        raise ValueError("plot_traces: expected at least one panel, got none")
    steps = len(next(iter(panels.values())))
    with theme():
        size = (PHONE_WIDTH, 1.25 * len(panels) + 1.0) if narrow else (5.6, 1.3 * len(panels) + 0.8)
        fig = Figure(figsize=size, layout="constrained")
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
            if narrow:
                ax.set_title(label, fontsize=9, loc="left", pad=2)
            else:
                ax.set_ylabel(label, rotation=0, ha="right", va="center")
        with_units = [ax for ax, values in zip(axes, panels.values()) if np.asarray(values).ndim == 2]
        if with_units:
            handles, labels = with_units[0].get_legend_handles_labels()
            fig.legend(handles, labels, loc="outside upper center", ncols=min(len(units), 3 if narrow else 6))
        axes[-1].set_xlabel("time step $t$")
    return fig


def plot_divergence(curves: dict[str, np.ndarray], narrow: bool = False) -> Figure:
    r"""$\lVert h_t - h'_t \rVert$ against $t$ for each model, on a log scale: how long a change survives.

    A curve ends where the distance becomes exactly 0. The legend sits above the plot; `narrow`: at
    most `PHONE_WIDTH` wide, one legend entry a line.
    """
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 3.8) if narrow else (5.6, 3.4), layout="constrained")
        ax = fig.subplots()
        for name, curve in curves.items():
            # A distance of exactly 0 (the runs became identical) has no place on a log scale: the line ends.
            curve = np.asarray(curve, dtype=float)
            ax.semilogy(np.arange(len(curve)), np.where(curve > 0, curve, np.nan), label=name)
        ax.set_xlabel("time step $t$")
        ax.set_ylabel(r"$\|h_t - h'_t\|$")
        fig.legend(loc="outside upper center", ncols=1 if narrow else 2)
    return fig
