"""Figures of the RNN page: deterministic SVG, drawn from the experiments' data, and the claims
their captions make, checked against the same data (the LSTM page's: tests/test_lstm_page.py).

The page figures read cached experiment results; these tests use small, fast configs of the same
experiments (through a temporary cache) for the plotting contract, and the default results (the
ones the pages show, computed or loaded once per session) for the caption claims.
"""

import math
import pathlib
import re

import numpy as np
import pytest

from snippets import experiments as E
from snippets import figures
from snippets.figures import rnn as rnn_figures

REPO = pathlib.Path(__file__).resolve().parents[1]
RNN_CLAIMS = [
    name
    for name, function in vars(rnn_figures).items()
    if callable(function) and getattr(function, "__annotations__", {}).get("return") == "Claim"
]


@pytest.fixture(scope="module")
def small_gradients():
    config = E.GradientConfig(T=12, hidden_size=8, batch=4, seeds=3, fit_from=2, rate_sigmas=(2.0,))
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
    narrow = rnn_figures.plot_unrolled_rnn(3, narrow=True)
    assert narrow.get_size_inches()[0] <= figures.PHONE_WIDTH
    assert rnn_figures.plot_unrolled_rnn().get_size_inches()[0] <= 7.5


@pytest.mark.parametrize("steps", [1, 7, 2.5])
def test_unrolled_diagram_rejects_bad_steps(steps):
    with pytest.raises(ValueError, match="expected steps an int from 2 to 6"):
        rnn_figures.plot_unrolled_rnn(steps)


# --------------------------------------------------------------------------------------
# Gradient decay of the RNN
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("narrow", [False, True])
def test_gradient_decay_plots_both_matrices_and_the_bound_on_one_scale(small_gradients, narrow):
    result, _ = small_gradients
    fig = rnn_figures.plot_gradient_decay(result, narrow=narrow)
    panels = [ax for ax in fig.axes if ax.get_lines()]
    assert len(panels) == len(result["sigmas"])
    for ax, sigma in zip(panels, result["sigmas"]):
        lines = lines_by_label(ax)
        k = np.arange(len(result["curves"][str(sigma)]["k"]))
        np.testing.assert_allclose(lines[r"bound $\lambda_1^k$"].get_ydata(), sigma**k, rtol=1e-12)
        for key, label, _, _ in rnn_figures.MATRICES:
            expected = np.power(10.0, result[key][str(sigma)]["h"]["log10_mean"])
            np.testing.assert_allclose(lines[label].get_ydata(), expected)
        assert ax.get_yscale() == "log" and f"{sigma:g}" in ax.get_title()
    assert len({ax.get_ylim() for ax in panels}) == 1  # one range: the panels compare
    low, high = panels[0].get_ylim()
    for key, *_ in rnn_figures.MATRICES:
        for curve in result[key].values():
            assert low <= 10 ** min(curve["h"]["log10_low"]) and 10 ** max(curve["h"]["log10_high"]) <= high
    assert fig.get_size_inches()[0] <= (figures.PHONE_WIDTH if narrow else 7.5)
    svg = figures.svg_html(fig, "Decay.")
    assert svg == figures.svg_html(rnn_figures.plot_gradient_decay(result, narrow=narrow), "Decay.")


@pytest.mark.parametrize("narrow", [False, True])
def test_lead_figure_draws_the_random_matrix_at_every_sigma_named_at_its_end(small_gradients, narrow):
    result, _ = small_gradients
    fig = rnn_figures.plot_decay_lead(result, narrow=narrow)
    (ax,) = fig.axes
    lines = lines_by_label(ax)
    for sigma in result["sigmas"]:
        name = rf"$\lambda_1 = {sigma:g}$"
        expected = np.power(10.0, result["curves"][str(sigma)]["h"]["log10_mean"])
        np.testing.assert_allclose(lines[name].get_ydata(), expected)
        assert any(t.get_text() == name for t in ax.texts)  # named at the line's end, no legend to look up
    assert ax.get_yscale() == "log" and ax.get_legend() is None
    assert fig.get_size_inches()[0] <= (figures.PHONE_WIDTH if narrow else 7.5)


@pytest.mark.parametrize("narrow", [False, True])
def test_rates_figure_plots_the_measured_rates_and_their_estimates(small_gradients, narrow):
    result, _ = small_gradients
    fig = rnn_figures.plot_rates(result, narrow=narrow)
    random, ortho = fig.axes
    for ax, init in ((random, "default"), (ortho, "orthogonal")):
        rows = [result["rates"][init][str(s)] for s in result["rate_sigmas"]]
        lines = lines_by_label(ax)
        measured = next(c for c in ax.containers if c.get_label() == "measured rate").lines[0]
        np.testing.assert_allclose(measured.get_ydata(), [np.mean(r["rate"]) for r in rows])
        estimate = [np.mean(np.array(r["rho"]) * np.array(r["tanh_slope"])) for r in rows]
        np.testing.assert_allclose(lines[r"$\rho \times$ mean slope $\bar s$"].get_ydata(), estimate)
        np.testing.assert_allclose(lines[r"bound: $\lambda_1$"].get_ydata(), result["rate_sigmas"])
    assert r"no tanh: $\rho$ (linear pass)" in lines_by_label(random)
    assert fig.get_size_inches()[0] <= (figures.PHONE_WIDTH if narrow else 7.5)


def test_bound_holds_detects_a_violation(small_gradients):
    result, _ = small_gradients
    assert rnn_figures.bound_holds(result)
    for key in ("curves", "orthogonal"):
        broken = {**result, key: {**result[key]}}
        curve = broken[key]["0.5"] = {**result[key]["0.5"], "h": dict(result[key]["0.5"]["h"])}
        curve["h"]["max_ratio"] = [2 * b for b in curve["bound"]]
        assert not rnn_figures.bound_holds(broken)
        assert not rnn_figures.no_sequence_crosses_the_bound(broken).holds


def test_rate_tables_have_a_row_per_sigma_and_seed(small_gradients):
    result, _ = small_gradients
    for init in ("default", "orthogonal"):
        rows = rnn_figures.rates_table(result, init).strip().splitlines()
        assert len(rows) == 2 + len(result["sigmas"]) and rows[2].startswith("| 0.5 |")
        per_seed = rnn_figures.per_seed_table(result, init).strip().splitlines()
        assert len(per_seed) == 2 + len(result["sigmas"]) * len(result["seeds"])
    assert "\u00a0±\u00a0" in rows[2]  # a mean and its interval stay on one line


@pytest.mark.site  # calls the facts and claims, which read the site's two RNN experiments at full size
def test_page_reads_only_facts_and_claims_that_exist():
    """Every `d.key`, `e.key` and claim the RNN page uses is in the facts dicts or a Claim function."""
    page = (REPO / "docs" / "rnn.md").read_text(encoding="utf-8")
    sets = dict(re.findall(r'{%\s*set (\w+) = facts\("rnn\.(\w+)"\)\s*%}', page))
    assert set(sets.values()) == {"decay_facts", "exploding_facts"}
    for name, function in sets.items():
        facts = getattr(rnn_figures, function)()
        used = set(re.findall(rf"\b{name}\.(\w+)", page))
        assert used and used <= set(facts), used - set(facts)
    claims = re.findall(r'claim\("rnn\.(\w+)"\)', page)
    assert len(claims) >= 10
    for name in claims:
        assert isinstance(getattr(rnn_figures, name)(), figures.Claim)


def test_rnn_page_claims_hold_on_the_page_results(page_results):
    for name in RNN_CLAIMS:
        claim = getattr(rnn_figures, name)()
        assert claim.holds, (name, claim.evidence)


def _scaled(result: dict, key: str, sigma: str, field: str, factor: float) -> dict:
    """A copy of `result` with one per-seed field of one curve multiplied by `factor`."""
    curve = {**result[key][sigma], field: [x * factor for x in result[key][sigma][field]]}
    return {**result, key: {**result[key], sigma: curve}}


@pytest.mark.parametrize(
    "claim, key, sigma, field, factor",
    [
        ("random_rate_is_radius_times_slope", "curves", "1.0", "rate", 1.1),
        ("random_rate_is_radius_times_slope", "curves", "0.5", "rate", 0.9),
        ("random_norm_is_about_twice_radius", "curves", "1.5", "rho", 1.5),
        ("slope_is_near_one_below_1_5", "curves", "1.5", "tanh_slope", 0.9),
        ("linear_pass_decays_at_radius", "orthogonal", "0.9", "linear_rate", 1.05),
        ("orthogonal_rate_is_bound_times_slope", "orthogonal", "1.0", "rate", 0.95),
        ("saturation_matters_only_at_3", "curves", "3.0", "tanh_slope", 1.3),
        ("saturation_matters_only_at_3", "curves", "3.0", "rate", 0.9),
        ("uneven_slopes_beat_the_prediction", "orthogonal", "1.5", "rate", 0.95),
    ],
)
def test_decay_claims_fail_on_data_that_contradicts_them(page_results, claim, key, sigma, field, factor):
    function = getattr(rnn_figures, claim)
    assert function(page_results["rnn"]).holds
    assert not function(_scaled(page_results["rnn"], key, sigma, field, factor)).holds


def test_same_norm_claim_fails_when_the_orthogonal_gradient_shrinks(page_results):
    result = page_results["rnn"]
    curve = result["orthogonal"]["1.5"]
    shrunk = {**curve, "h": {**curve["h"], "per_seed": [[v * 1e-3 for v in row] for row in curve["h"]["per_seed"]]}}
    doctored = {**result, "orthogonal": {**result["orthogonal"], "1.5": shrunk}}
    assert not rnn_figures.same_norm_vanishes_or_explodes(doctored).holds


def test_decay_facts_come_from_the_result(page_results):
    result = page_results["rnn"]
    facts = rnn_figures.decay_facts(result)
    assert facts["seeds"] == str(len(result["seeds"])) == "5"
    rates = result["curves"]["1.5"]["rate"]
    assert facts["rate_1_5"] in (f"{min(rates):.2f}–{max(rates):.2f}", f"{min(rates):.2f}")
    low, high = (float(x) for x in facts["random_grows_between"])
    means = {s: np.mean(result["rates"]["default"][str(s)]["rate"]) for s in (low, high)}
    assert means[low] < 1 <= means[high]


# --------------------------------------------------------------------------------------
# Exploding gradients
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("narrow", [False, True])
def test_exploding_figure_draws_every_run_the_band_and_the_baseline(page_results, narrow):
    result = page_results["exploding"]
    fig = rnn_figures.plot_exploding(result, narrow=narrow)
    ax_norm, ax_loss, ax_val = fig.axes
    n_runs = sum(len(r["logs"]) for r in result["runs"].values())
    assert len([line for line in ax_norm.get_lines() if line.get_marker() in ("None", None, "")]) >= n_runs
    baseline = lines_by_label(ax_val)["memoryless baseline"]
    assert set(baseline.get_ydata()) == {result["baseline"]}
    clipped = [r for clip, r in result["runs"].items() if clip != "None"][0]
    mean = next(line for line in ax_val.get_lines() if line is not baseline)
    np.testing.assert_allclose(mean.get_ydata(), np.mean([log["val_loss"] for log in clipped["logs"]], axis=0))
    assert not any(ax.get_legend() for ax in fig.axes) and fig.legends  # above the panels, not on the curves
    assert fig.get_size_inches()[0] <= (figures.PHONE_WIDTH if narrow else 7.5)
    svg = figures.svg_html(fig, "Exploding.")
    assert svg == figures.svg_html(rnn_figures.plot_exploding(result, narrow=narrow), "Exploding.")


def test_exploding_claims_hold_and_fail_on_contrary_data(page_results):
    result = page_results["exploding"]
    assert rnn_figures.unclipped_runs_all_diverge(result).holds
    assert rnn_figures.clipped_runs_train_below_baseline(result).holds
    plain = {**result["runs"]["None"], "status": ["budget"] + result["runs"]["None"]["status"][1:]}
    assert not rnn_figures.unclipped_runs_all_diverge({**result, "runs": {**result["runs"], "None": plain}}).holds
    clip, clipped = [(c, r) for c, r in result["runs"].items() if c != "None"][0]
    worse = {**clipped, "final_val_loss": [result["baseline"] * 1.01] + clipped["final_val_loss"][1:]}
    doctored = {**result, "runs": {**result["runs"], clip: worse}}
    assert not rnn_figures.clipped_runs_train_below_baseline(doctored).holds


def test_exploding_facts_come_from_the_result(page_results):
    result = page_results["exploding"]
    facts = rnn_figures.exploding_facts(result)
    assert facts["seeds"] == str(len(result["seeds"])) == "5"
    assert facts["diverged"] == str(result["runs"]["None"]["status"].count("diverged"))
    assert facts["baseline"] == f"{result['baseline']:.3f}"


def test_finite_prefix_stops_at_the_first_overflow():
    steps, a, b = rnn_figures._finite_prefix([1, 2, 3, 4], [1.0, 2.0, math.inf, 3.0], [1.0, 1.0, 1.0, math.nan])
    assert list(steps) == [1, 2] and list(a) == [1.0, 2.0] and list(b) == [1.0, 1.0]
