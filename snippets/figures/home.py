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
    """Learning curves of both cells (left or top) beside the LSTM's carrying unit (right or bottom)."""
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 6.2) if narrow else (7.4, 3.3), layout="constrained")
        curves, unit = fig.subplots(2, 1) if narrow else fig.subplots(1, 2, width_ratios=(1, 1.3))
        lstm_page.draw_adding_curves(curves, result)
        curves.set(xlabel="training step", ylabel="validation MSE", title="Learning to add")
        # above the panels: inside, it would hide the curves it names
        fig.legend(
            *curves.get_legend_handles_labels(), loc="outside upper center", ncols=1 if narrow else 2, fontsize=9
        )
        traces, steps = memory["shown"]["traces"], np.arange(memory["T"])
        for s, color in zip(range(sequences), COLORS):
            for mark in np.flatnonzero(traces["x"][s, :, 1]):
                unit.axvline(mark, color=color, alpha=0.4, linewidth=0.9)
            unit.plot(steps, traces["c"][:, s], color=color, linewidth=1.4)  # one colour per sequence
        unit.set(
            xlabel="time step (lines: the two marked steps)",
            ylabel="cell state $c_t$",
            title=f"One LSTM unit holds the first value (unit {memory['shown']['unit']})",
        )
    return fig


def hero_figure(narrow: bool = False) -> Figure:
    """`plot_hero` of the cached `adding_problem` experiment and its traced LSTMs."""
    from snippets.experiments import adding_problem

    result = adding_problem()
    return plot_hero(result, lstm_page.adding_memory(result), narrow=narrow)
