"""Figures, tables and facts of the variants and GRU pages: deterministic SVG, drawn from the experiment's data."""

import math

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.image import AxesImage

from snippets import experiments as ex
from snippets.figures import gru as fg
from snippets.figures import svg_html
from snippets.figures import variants as fv
from snippets.train import TrainConfig

TINY = TrainConfig(steps=20, batch_size=8, eval_every=10, val_size=32, target_loss=2.0)


@pytest.fixture(scope="module")
def variants():
    config = ex.VariantsConfig(seeds=3, lrs=(1e-2,), task_args=(("gap", 3),), train=TINY, test_size=32)
    return ex.lstm_variants(config, cache=False)


@pytest.fixture(scope="module")
def forms():
    train = TrainConfig(steps=10, batch_size=8, eval_every=5, val_size=16)
    config = ex.GRUFormsConfig(seeds=2, lrs=(1e-2,), task_args=(("gap", 4),), train=train, test_size=16)
    return ex.gru_forms(config, cache=False)


@pytest.fixture(scope="module")
def same_weights():
    return ex.gru_forms_same_weights(ex.SameWeightsConfig(T=8, batch=4, seeds=2), cache=False)


def test_loss_curves_plot_each_models_mean_and_confidence_band(variants):
    fig = fv.loss_curves_figure(variants)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    for model, data in variants["cells"].items():
        line = lines[fv.LABELS[model]]
        np.testing.assert_allclose(line.get_xdata(), data["val_loss"]["step"])
        np.testing.assert_allclose(line.get_ydata(), data["val_loss"]["mean"])
    baseline = next(line for label, line in lines.items() if label.startswith("memoryless baseline"))
    np.testing.assert_allclose(baseline.get_ydata(), [variants["baseline"]] * 2)
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == len(variants["cells"])
    assert ax.get_xlabel() and ax.get_ylabel().endswith("(nats)")
    assert fv.loss_curves_figure(variants, narrow=True).get_size_inches()[0] <= 3.6


def test_svg_is_deterministic(variants, same_weights, forms):
    for make in (
        lambda: fv.loss_curves_figure(variants),
        lambda: fv.drift_figure(variants),
        lambda: fg.same_weights_figure(same_weights),
        lambda: fg.gru_gates_figure(forms),
    ):
        first, second = svg_html(make(), alt="a figure"), svg_html(make(), alt="a figure")
        assert first == second and first.startswith("<svg")


def test_tables_name_every_model_with_its_parameter_count_and_learning_rate(variants):
    table = fv.results_table(variants)
    rows = table.strip().splitlines()[2:]
    assert len(rows) == 5
    for row, (model, data) in zip(rows, variants["cells"].items()):
        assert row.startswith(f"| {fv.LABELS[model]} | {data['n_params']:,} | 0.01 |")
    assert fv.per_seed_table(variants).count("\n| ") == 1 + 5 * 3
    assert "**" in fv.sweep_table(variants)


def test_solved_counts_statuses(variants):
    for model, data in variants["cells"].items():
        assert fv.solved(variants, model) == data["status"].count("solved")
    with pytest.raises(ValueError, match="expected one of"):
        fv.solved(variants, "gru")


def test_keep_drift_reads_the_keep_block_while_at_chance(variants):
    drift = fv.keep_drift(variants)
    assert "lstm1997" not in drift and set(drift) == {"lstm", "lstm_fb1", "peephole", "coupled"}
    run = variants["cells"]["lstm"]["runs"][0]
    last = min(fv._at_chance_until(run, variants["baseline"]), len(run["probe"]) - 1)
    expected = run["probe"][last][1] - run["probe"][0][1] if last else None
    assert drift["lstm"]["per_seed"][0] == expected
    # forget bias 1: the fresh forget gate is sigma(~1)
    assert drift["lstm_fb1"]["initial_gate"] == pytest.approx(1 / (1 + math.exp(-1)), abs=0.02)
    assert 0.4 < drift["lstm"]["initial_gate"] < 0.6


def test_at_chance_counts_the_evaluations_above_nine_tenths_of_the_baseline():
    run = {"val_loss": [2.0, 1.95, 1.5, 2.0]}
    assert fv._at_chance_until(run, 2.08) == 2


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="lstm_variants"):
        fv.loss_curves_figure({"models": {}})
    with pytest.raises(ValueError, match="gru_forms_same_weights"):
        fg.same_weights_figure({"models": {}})
    with pytest.raises(ValueError, match="kept weights"):
        fg.trained_gru_trace({"cells": {}})


def test_same_weights_figure_plots_the_mean_difference(same_weights):
    fig = fg.same_weights_figure(same_weights)
    assert len(fig.axes) == len(same_weights["bounds"])
    for ax, data in zip(fig.axes, same_weights["bounds"].values()):
        diff = next(line for line in ax.get_lines() if "PyTorch} - h" in line.get_label())
        np.testing.assert_allclose(diff.get_ydata(), np.mean(data["mean_abs_diff"], axis=0))
    narrow = fg.same_weights_figure(same_weights, narrow=True)
    assert narrow.get_size_inches()[0] <= 3.6


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
    assert fg.gru_gates_figure(forms, narrow=True).get_size_inches()[0] <= 3.6


def test_memory_units_follow_the_update_gate():
    z = np.array([[0.5, 0.5, 0.5], [0.95, 0.2, 0.99], [0.97, 0.3, 0.5]])
    assert fg.memory_units({"z": z}, threshold=0.9) == [0]


def test_decay_rate_recovers_a_geometric_factor():
    curve = [0.7**k for k in range(60)]
    assert fg.decay_rate(curve) == pytest.approx(0.7)


def test_gradient_figure_plots_both_paths():
    result = ex.gradient_decay_gru(ex.GradientConfig(T=12, hidden_size=8, batch=4), cache=False)
    fig = fg.gradient_figure(result)
    lines = fig.axes[0].get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), result["curves"]["h"]["mean"])
    np.testing.assert_allclose(lines[1].get_ydata(), result["curves"]["z_path"]["mean"])
