"""The home page: one figure that shows the site's thesis, drawn from the LSTM page's experiment.

Left, the adding problem at T = 100 (`snippets.experiments.adding_problem`): the validation error of
every LSTM run (forget bias 1 and PyTorch's default) and every tanh RNN run against training steps,
with the error of predicting the mean.
Right, the carrying unit the LSTM page finds by its rule (`snippets.figures.lstm.adding_memory`):
its cell state on three validation sequences, the steps of the two marked values drawn in.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from snippets.figures import COLORS, PHONE_WIDTH, theme
from snippets.figures import lstm as lstm_page


def plot_hero(result: dict, memory: dict, narrow: bool = False, sequences: int = 3) -> Figure:
    """Learning curves of both cells (left or top) beside the LSTM's carrying unit (right or bottom),
    each panel with a legend of its own under it: the sequences on the right take colours and line
    styles the curves on the left do not use, so no line can be read as another panel's."""
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 7.0) if narrow else (7.4, 3.9), layout="constrained")
        curves, unit = fig.subplots(2, 1) if narrow else fig.subplots(1, 2, width_ratios=(1, 1.3))
        lstm_page.draw_adding_curves(curves, result)
        curves.set(xlabel="training step", ylabel="validation MSE", title="Learning to add")
        traces, steps = memory["shown"]["traces"], np.arange(memory["T"])
        styles = zip(range(sequences), SEQUENCE_COLORS, SEQUENCE_STYLES)
        for s, color, style in styles:
            marks = np.flatnonzero(traces["x"][s, :, 1])
            for mark in marks:
                unit.axvline(mark, color=color, alpha=0.45, linewidth=0.9, linestyle=style)
            first = float(traces["x"][s, marks[0], 0]) if len(marks) else float("nan")
            unit.plot(
                steps,
                traces["c"][:, s],
                color=color,
                linestyle=style,
                linewidth=1.4,
                label=f"sequence {s + 1}: first value {first:.2f}",
            )
        unit.set(
            xlabel="time step (thin lines: the marked steps)",
            ylabel="cell state $c_t$",
            title=f"Unit {memory['shown']['unit']} of one trained LSTM",
        )
        for ax in (curves, unit):
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=1 if ax is unit else 2, fontsize=9)
    return fig


# The right panel's sequences: colours and styles the learning curves do not use.
SEQUENCE_COLORS = (COLORS[3], COLORS[4], "#000000")
SEQUENCE_STYLES = ("-", "-.", ":")


def hero_figure(narrow: bool = False) -> Figure:
    """`plot_hero` of the cached `adding_problem` experiment and its traced LSTMs."""
    from snippets.experiments import adding_problem

    result = adding_problem()
    return plot_hero(result, lstm_page.adding_memory(result), narrow=narrow)
