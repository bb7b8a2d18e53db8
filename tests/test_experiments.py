"""Results a correct implementation must show, on budgets small enough for CI.

Each test runs an experiment with ``cache=False`` (nothing is read or written)
on fewer seeds and steps than the site, and checks the effect, not numbers.
Budgets were sized with margin: the slowest of 12 seeds solved the adding
problem in 1800 LSTM steps; the budget is 3000.
"""

import math

import pytest

from snippets import experiments as ex


@pytest.fixture(scope="module")
def adding():
    config = ex.AddingConfig(T=100, seeds=(0,), steps=3000, target_loss=0.01)
    return ex.adding_problem(config, cache=False)


@pytest.mark.site  # trains the cells to the effect the pages show: minutes
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_adding_problem_gated_cells_beat_the_baseline_at_T_100(adding, cell):
    assert adding["baseline"] == pytest.approx(1 / 6)
    assert adding["cells"][cell]["final_val_loss"][0] < 0.3 * adding["baseline"]
    assert adding["cells"][cell]["status"] == ["solved"]


@pytest.mark.site  # trains the cells to the effect the pages show: minutes
def test_adding_problem_tanh_rnn_stays_at_the_baseline_on_the_same_budget(adding):
    rnn = adding["cells"]["rnn"]
    assert rnn["status"] == ["budget"] and rnn["runs"][0]["steps_run"] == 3000
    assert min(rnn["val_loss"]["mean"]) > 0.8 * adding["baseline"]


@pytest.mark.site  # trains the cells to the effect the pages show: minutes
def test_adding_problem_keeps_trained_weights_for_gate_traces(adding):
    state = adding["cells"]["lstm"]["runs"][0]["state_dict"]
    assert state["rnn.weight_hh_l0"].shape == (4 * 32, 32)


@pytest.mark.site  # trains the cells to the effect the pages show: minutes
def test_copy_task_rnn_sits_on_the_baseline_and_a_gru_escapes_it():
    config = ex.CopyConfig(T=30, cells=("rnn", "gru"), seeds=(0,), steps=800)
    result = ex.copy_task(config, cache=False)
    baseline = 10 * math.log(8) / 50
    assert result["baseline"] == pytest.approx(baseline)
    assert result["cells"]["rnn"]["final_val_loss"][0] == pytest.approx(baseline, rel=0.03)
    assert result["cells"]["gru"]["final_val_loss"][0] < 0.9 * baseline


def test_gradient_decay_of_the_tanh_rnn_respects_the_bound():
    config = ex.GradientConfig(T=40, hidden_size=16, batch=8, seeds=3, rate_sigmas=(2.0,))
    result = ex.gradient_decay_rnn(config, cache=False)
    for key in ("curves", "orthogonal"):
        for sigma in result["sigmas"]:
            curves = result[key][str(sigma)]
            assert all(r <= b * (1 + 1e-9) for r, b in zip(curves["h"]["max_ratio"], curves["bound"]))
            assert len(curves["h"]["per_seed"]) == len(curves["rho"]) == len(curves["rate"]) == 3
    assert result["seeds"] == [0, 1, 2] and result["rate_sigmas"] == sorted({*config.sigmas, 2.0})
    assert all(rho == pytest.approx(float(s)) for s, c in result["orthogonal"].items() for rho in c["rho"])
    assert result["rates"]["default"]["1.0"]["rate"] == result["curves"]["1.0"]["rate"]  # shared, not re-measured
    with pytest.raises(ValueError, match=r"fit_from in \[0, T - 2\] = \[0, 8\], got 10"):
        ex.GradientConfig(T=10)


def test_gradient_decay_gru_reports_every_path():  # the LSTM's: tests/test_lstm_page.py
    config = ex.GradientConfig(T=20, hidden_size=8, batch=4)
    assert {"h", "z_path"} <= set(ex.gradient_decay_gru(config, cache=False)["curves"])


@pytest.mark.site  # trains the cells to the effect the pages show: minutes
def test_exploding_gradients_diverge_without_clipping_and_train_with_it():
    result = ex.exploding_gradients(ex.ExplodingConfig(steps=1000), cache=False)
    assert result["runs"]["None"]["status"] == ["diverged"] * 5
    clipped = result["runs"]["1.0"]
    assert clipped["status"] == ["budget"] * 5
    assert max(clipped["final_val_loss"]) < 0.8 * result["baseline"]


def test_recall_gru_remembers_across_a_short_gap():
    config = ex.RecallConfig(gaps=(5,), cells=("gru",), seeds=(0,), steps=600)
    result = ex.recall(config, cache=False)
    assert result["cells"]["gru"]["accuracy"][0][0] > 0.9 > 4 * result["chance_accuracy"]


def test_summarise_holds_the_last_value_of_a_run_that_stopped_early():
    logs = [{"val_step": [1, 2, 3], "val_loss": [3.0, 2.0, 1.0]}, {"val_step": [1], "val_loss": [5.0]}]
    s = ex.summarise(logs)
    assert s["step"] == [1, 2, 3] and s["mean"] == [4.0, 3.5, 3.0] and s["stopped"] == [3, 1]
    assert s["min"] == [3.0, 2.0, 1.0] and s["max"] == [5.0, 5.0, 5.0]


@pytest.mark.parametrize(
    "call",
    [
        lambda: ex.adding_problem(ex.AddingConfig(cells=("lstm", "tcn")), cache=False),
        lambda: ex.copy_task(ex.CopyConfig(cells=()), cache=False),
        lambda: ex.adding_problem(ex.AddingConfig(T=0, cells=("lstm",), seeds=(0,)), cache=False),
        lambda: ex.recall(ex.RecallConfig(gaps=(-1,)), cache=False),
    ],
)
def test_bad_experiment_configs_are_rejected(call):
    with pytest.raises(ValueError, match="got"):
        call()
