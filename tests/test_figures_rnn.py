"""Figures of the RNN page: deterministic SVG, drawn from the experiments' data, and the claims
their captions make, checked against the same data (the LSTM page's: tests/test_lstm_page.py).

The page figures read cached experiment results; these tests use small, fast configs of the same
experiments (through a temporary cache) for the plotting contract, and the default results (the
ones the pages show, computed or loaded once per session) for the caption claims.
"""

import math

import numpy as np
import pytest

from snippets import experiments as E
from snippets import figures
from snippets.figures import rnn as rnn_figures


@pytest.fixture(scope="module")
def small_gradients():
    config = E.GradientConfig(T=12, hidden_size=8, batch=4, seeds=(0, 1, 2))
    return E.gradient_decay_rnn(config, cache=False), None


@pytest.fixture(scope="module")
def page_results():
    """The default results the pages show (from the shared cache when it is warm)."""
    return {
        "rnn": E.gradient_decay_rnn(),
        "exploding": E.exploding_gradients(),
    }


def lines_by_label(ax) -> dict:
    return {line.get_label(): line for line in ax.get_lines()}


# --------------------------------------------------------------------------------------
# The unrolled network
# --------------------------------------------------------------------------------------


def test_unrolled_diagram_is_deterministic_and_labelled():
    svg = figures.svg_html(rnn_figures.plot_unrolled_rnn(), "Unrolled RNN.")
    assert svg == figures.svg_html(rnn_figures.plot_unrolled_rnn(), "Unrolled RNN.")
    texts = [t.get_text() for t in rnn_figures.plot_unrolled_rnn(steps=3).axes[0].texts]
    assert {"$h_0$", "$x_{1}$", "$h_{T}$", "$x_{T}$", "$L$"} <= set(texts)
    assert texts.count("$W_{hh}$") == 3  # the same matrix on every step's arrow


@pytest.mark.parametrize("steps", [1, 7, 2.5])
def test_unrolled_diagram_rejects_bad_steps(steps):
    with pytest.raises(ValueError, match="expected steps an int from 2 to 6"):
        rnn_figures.plot_unrolled_rnn(steps)


# --------------------------------------------------------------------------------------
# Gradient decay of the RNN
# --------------------------------------------------------------------------------------


def test_gradient_decay_plots_the_measurement_and_the_bound(small_gradients):
    result, _ = small_gradients
    fig = rnn_figures.plot_gradient_decay(result)
    for ax, sigma in zip(fig.axes, result["sigmas"]):
        lines = lines_by_label(ax)
        k = np.arange(len(result["curves"][str(sigma)]["k"]))
        np.testing.assert_allclose(lines[r"bound $\lambda_1^k$"].get_ydata(), sigma**k, rtol=1e-12)
        np.testing.assert_allclose(lines["measured, mean"].get_ydata(), result["curves"][str(sigma)]["h"]["mean"])
        assert ax.get_yscale() == "log" and f"{sigma:g}" in ax.get_title()
    svg = figures.svg_html(fig, "Decay.")
    assert svg == figures.svg_html(rnn_figures.plot_gradient_decay(result), "Decay.")


def test_bound_holds_detects_a_violation(small_gradients):
    result, _ = small_gradients
    assert rnn_figures.bound_holds(result)
    broken = {**result, "curves": {**result["curves"]}}
    curve = broken["curves"]["0.5"] = {**result["curves"]["0.5"], "h": dict(result["curves"]["0.5"]["h"])}
    curve["h"]["max_ratio"] = [r * 0 + 2 * b for r, b in zip(curve["h"]["max_ratio"], curve["bound"])]
    assert not rnn_figures.bound_holds(broken)


def test_gradient_decay_table_has_measured_and_bound_rows(small_gradients):
    result, _ = small_gradients
    table = rnn_figures.gradient_decay_table(result, distances=(1, 5))
    rows = table.strip().splitlines()
    assert len(rows) == 2 + 2 * len(result["sigmas"])
    assert "0.5 |" in rows[2] and "bound" in rows[3]
    with pytest.raises(ValueError, match=r"expected distances in \[0, 11\]"):
        rnn_figures.gradient_decay_table(result, distances=(1, 50))


def test_rnn_page_caption_claims(page_results):
    """Caption of the decay figure: no sequence crosses its bound; geometric decay at lambda_1 <= 1;
    vanishing at 1.5 though the bound allows growth; growth at 3, far below the bound."""
    result = page_results["rnn"]
    assert rnn_figures.bound_holds(result)
    for sigma in (0.5, 0.9, 1.0):
        mean = np.log(result["curves"][str(sigma)]["h"]["mean"])
        k = np.arange(len(mean))
        slope, intercept = np.polyfit(k[5:], mean[5:], 1)  # a straight line on the log scale
        residual = mean[5:] - (slope * k[5:] + intercept)
        assert slope < 0 and np.abs(residual).max() < 0.05 * abs(mean[-1]), sigma
    at_15 = result["curves"]["1.5"]
    assert at_15["h"]["mean"][-1] < 1e-6 * at_15["h"]["mean"][0] and at_15["bound"][-1] > 1
    at_3 = result["curves"]["3.0"]
    assert at_3["h"]["mean"][-1] > 10 * at_3["h"]["mean"][0]
    assert at_3["h"]["mean"][-1] < 1e-30 * at_3["bound"][-1]
    text = rnn_figures.gradient_decay_text(result)
    assert "none of them exceeds its bound" in text and "3 seeds × 32 sequences" in text


# --------------------------------------------------------------------------------------
# Exploding gradients
# --------------------------------------------------------------------------------------


def test_exploding_figure_draws_every_run_and_the_baseline(page_results):
    result = page_results["exploding"]
    fig = rnn_figures.plot_exploding(result)
    ax_norm, ax_loss, ax_val = fig.axes
    n_runs = sum(len(r["logs"]) for r in result["runs"].values())
    assert len([line for line in ax_norm.get_lines() if line.get_marker() in ("None", None, "")]) >= n_runs
    baseline = lines_by_label(ax_val)[f"baseline {result['baseline']:.3f}"]
    assert set(baseline.get_ydata()) == {result["baseline"]}
    clipped = [log for clip, r in result["runs"].items() if clip != "None" for log in r["logs"]]
    drawn = [line.get_ydata() for line in ax_val.get_lines() if line is not baseline]
    assert len(drawn) == len(clipped)
    for line, log in zip(drawn, clipped):
        np.testing.assert_allclose(line, log["val_loss"])
    assert figures.svg_html(fig, "Exploding.") == figures.svg_html(rnn_figures.plot_exploding(result), "Exploding.")


def test_exploding_caption_claims(page_results):
    """Without clipping every run overflows, growing by orders of magnitude within a few logged steps;
    with clipping every run trains and ends below the baseline."""
    result = page_results["exploding"]
    plain = result["runs"]["None"]
    assert len(plain["status"]) >= 3 and set(plain["status"]) == {"diverged"}
    for log in plain["logs"]:
        finite = [v for v in log["grad_norm"] if math.isfinite(v)]
        assert finite[-1] > 1e4 * finite[0]
    for clip, runs in result["runs"].items():
        if clip != "None":
            assert set(runs["status"]) != {"diverged"} and "diverged" not in runs["status"]
            assert max(runs["final_val_loss"]) < result["baseline"]
    text = rnn_figures.exploding_text(result)
    assert "3 of the 3 runs diverged" in text and f"{result['baseline']:.3f}" in text


def test_finite_prefix_stops_at_the_first_overflow():
    steps, a, b = rnn_figures._finite_prefix([1, 2, 3, 4], [1.0, 2.0, math.inf, 3.0], [1.0, 1.0, 1.0, math.nan])
    assert list(steps) == [1, 2] and list(a) == [1.0, 2.0] and list(b) == [1.0, 1.0]
