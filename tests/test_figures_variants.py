"""Figures and tables of the variants and GRU pages: deterministic SVG, drawn from the experiment's data."""

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.image import AxesImage

from snippets import experiments as ex
from snippets.figures import gru as fg
from snippets.figures import svg_html
from snippets.figures import variants as fv


@pytest.fixture(scope="module")
def variants():
    config = ex.VariantsConfig(
        seeds=(0, 1, 2), steps=20, eval_every=10, val_size=32, task_args=(("gap", 3),), target_loss=2.0
    )
    return ex.lstm_variants(config, cache=False)


@pytest.fixture(scope="module")
def forms():
    config = ex.GRUFormsConfig(seeds=(0, 1), steps=10, eval_every=5, val_size=16, task_args=(("gap", 4),))
    return ex.gru_forms(config, cache=False)


@pytest.fixture(scope="module")
def same_weights():
    return ex.gru_forms_same_weights(ex.SameWeightsConfig(T=8, batch=4), cache=False)


def test_loss_curves_plot_each_models_mean_band_and_the_baseline(variants):
    fig = fv.loss_curves_figure(variants)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    for model, data in variants["models"].items():
        line = lines[fv.LABELS[model]]
        np.testing.assert_allclose(line.get_xdata(), data["val_loss"]["step"])
        np.testing.assert_allclose(line.get_ydata(), data["val_loss"]["mean"])
    baseline = next(line for label, line in lines.items() if label.startswith("memoryless baseline"))
    np.testing.assert_allclose(baseline.get_ydata(), [variants["baseline"]] * 2)
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == len(variants["models"])
    assert ax.get_xlabel() and ax.get_ylabel().endswith("(nats)")


def test_svg_is_deterministic(variants, same_weights, forms):
    for make in (
        lambda: fv.loss_curves_figure(variants),
        lambda: fg.same_weights_figure(same_weights),
        lambda: fg.gru_gates_figure(forms),
    ):
        first, second = svg_html(make(), alt="a figure"), svg_html(make(), alt="a figure")
        assert first == second and first.startswith("<svg")


def test_table_and_summary_name_every_model_with_its_parameter_count(variants):
    table = fv.results_table(variants)
    rows = table.strip().splitlines()[2:]
    assert len(rows) == 5
    for row, (model, data) in zip(rows, variants["models"].items()):
        assert row.startswith(f"| {fv.LABELS[model]} | 32 | {data['n_params']:,} |")
    summary = fv.summary(variants)
    for model in variants["models"]:
        assert f"{fv.solved(variants, model)} of 3 seeds" in summary
    assert "at most 20 Adam updates" in fv.budget_sentence(variants)


def test_solved_counts_statuses(variants):
    for model, data in variants["models"].items():
        assert fv.solved(variants, model) == data["status"].count("solved")
    with pytest.raises(ValueError, match="expected one of"):
        fv.solved(variants, "gru")


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="lstm_variants"):
        fv.loss_curves_figure({"cells": {}})
    with pytest.raises(ValueError, match="gru_forms_same_weights"):
        fg.same_weights_figure({"models": {}})
    with pytest.raises(ValueError, match="kept weights"):
        fg.trained_gru_trace({"models": {}})


def test_same_weights_figure_plots_the_mean_difference(same_weights):
    fig = fg.same_weights_figure(same_weights)
    assert len(fig.axes) == len(same_weights["bounds"])
    for ax, data in zip(fig.axes, same_weights["bounds"].values()):
        diff = next(line for line in ax.get_lines() if "PyTorch} - h" in line.get_label())
        np.testing.assert_allclose(diff.get_ydata(), np.mean(data["mean_abs_diff"], axis=0))
        assert ax.get_xlabel() == "time step $t$"
    text = fg.same_weights_summary(same_weights)
    assert "rounding error" in text and "8 steps" in text


def test_gates_figure_shows_the_trace_sorted_by_update_gate(forms):
    trace = fg.trained_gru_trace(forms)
    fig = fg.gru_gates_figure(forms)
    images = [a.get_images()[0] for a in fig.axes if a.get_images()]
    assert [isinstance(i, AxesImage) for i in images] == [True] * 4
    z = images[1].get_array()
    assert z.shape == (32, len(trace["tokens"]))
    row_means = np.asarray(z)[:, 1:].mean(1)
    assert np.all(np.diff(row_means) <= 1e-7)  # sorted: highest mean z on top
    np.testing.assert_allclose(np.sort(np.asarray(z).ravel()), np.sort(trace["z"].ravel()))


def test_memory_units_follow_the_update_gate():
    z = np.array([[0.5, 0.5, 0.5], [0.95, 0.2, 0.99], [0.97, 0.3, 0.5]])
    assert fg.memory_units({"z": z}, threshold=0.9) == [0]
