"""The notebooks' figures: they draw the data they are given, deterministically."""

import numpy as np
import pytest

from snippets.figures import svg_html
from snippets.figures.traces import plot_divergence, plot_traces


def test_plot_traces_draws_one_line_per_chosen_unit_and_the_input():
    gates = np.linspace(0, 1, 40).reshape(10, 4)
    fig = plot_traces({"input": np.arange(10.0), "gate": gates}, units=[1, 3], shade=[2])
    ax_input, ax_gate = fig.axes
    assert len(ax_input.lines) == 1 and len(ax_gate.lines) == 2
    np.testing.assert_array_equal(ax_gate.lines[1].get_ydata(), gates[:, 3])
    assert svg_html(fig, "traces") == svg_html(
        plot_traces({"input": np.arange(10.0), "gate": gates}, [1, 3], [2]), "traces"
    )


def test_plot_traces_rejects_panels_of_different_lengths():
    with pytest.raises(ValueError, match="expected 10 steps in panel 'b', got 9"):
        plot_traces({"a": np.zeros(10), "b": np.zeros((9, 2))}, units=[0])


def test_plot_divergence_plots_each_curve_on_a_log_axis():
    fig = plot_divergence({"RNN": np.array([1.0, 0.1, 0.01]), "LSTM": np.array([1.0, 0.9, 0.8])})
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and [ln.get_label() for ln in ax.lines] == ["RNN", "LSTM"]
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [1.0, 0.1, 0.01])
    zero = plot_divergence({"GRU": np.array([1.0, 1e-9, 0.0])}).axes[0].lines[0].get_ydata()
    assert zero[1] == 1e-9 and np.isnan(zero[2])  # the line ends where the runs became identical


def test_narrow_variants_fit_a_phone_and_draw_the_same_lines():
    from snippets.figures import PHONE_WIDTH

    gates = np.linspace(0, 1, 40).reshape(10, 4)
    wide = plot_traces({"input": np.arange(10.0), "gate": gates}, units=[1, 3], shade=[2])
    narrow = plot_traces({"input": np.arange(10.0), "gate": gates}, units=[1, 3], shade=[2], narrow=True)
    assert narrow.get_size_inches()[0] <= PHONE_WIDTH
    assert [len(ax.lines) for ax in narrow.axes] == [len(ax.lines) for ax in wide.axes]
    assert [ax.get_title(loc="left") for ax in narrow.axes] == ["input", "gate"]
    curves = {"RNN": np.array([1.0, 0.1, 0.01]), "LSTM": np.array([1.0, 0.9, 0.8])}
    assert plot_divergence(curves, narrow=True).get_size_inches()[0] <= PHONE_WIDTH
    assert [t.get_text() for t in plot_divergence(curves).legends[0].get_texts()] == ["RNN", "LSTM"]
