"""Results a correct implementation must show, on budgets small enough for CI.

Each test runs an experiment with ``cache=False`` (nothing is read or written)
on fewer seeds and steps than the site, and checks the effect, not numbers; the
tests marked `site` read the site's own results through the cache.
"""

import math

import pytest
import torch

from snippets import experiments as ex
from snippets import seeding, tasks, train
from snippets.experiments import runs
from snippets.train import TrainConfig

TINY = TrainConfig(steps=20, batch_size=8, eval_every=10, val_size=32, target_loss=None)


@pytest.fixture(scope="module")
def tiny_adding():
    config = ex.AddingConfig(T=12, seeds=3, lrs=(1e-2, 3e-2), sweep_seeds=2, train=TINY, test_size=64)
    return ex.adding_problem(config, cache=False)


def test_a_sweep_reports_every_model_at_its_chosen_rate_on_every_seed(tiny_adding):
    r = tiny_adding
    assert r["seeds"] == list(seeding.seeds(3)) and r["sweep_seeds"] == r["seeds"][:2]
    assert tuple(r["cells"]) == ("rnn", "lstm", "lstm_fb1", "gru")
    for data in r["cells"].values():
        assert data["lr"] in (1e-2, 3e-2)
        sweep = data["sweep"]
        # the chosen rate has the lowest mean validation score over the sweep's seeds
        assert sweep["score"][sweep["lrs"].index(data["lr"])] == min(sweep["score"])
        assert len(sweep["scores"][0]) == 2
        assert len(data["test_loss"]) == len(data["status"]) == len(data["runs"]) == 3
        assert [run["config"]["seed"] for run in data["runs"]] == r["seeds"]
        assert all(run["config"]["lr"] == data["lr"] for run in data["runs"])
        band = data["val_loss"]
        assert band["low"][-1] <= band["mean"][-1] <= band["high"][-1]
        # the first seed keeps its weights, the others do not
        assert all("state_dict" in run for run in data["runs"])  # the adding problem keeps every network
    assert r["cells"]["lstm_fb1"]["forget_bias"] == 1.0 and r["cells"]["lstm"]["forget_bias"] is None


def test_the_test_loss_is_the_trained_models_loss_on_held_out_data(tiny_adding):
    data = tiny_adding["cells"]["gru"]
    seed = tiny_adding["seeds"][0]
    task = tasks.AddingProblem(T=12)
    model = train.SequenceModel("gru", 2, 32, 1)
    model.load_state_dict(data["runs"][0]["state_dict"])
    x, y = runs.test_batch(task, seed, 64)
    with torch.no_grad():
        assert float(task.loss(model(x), y)) == pytest.approx(data["test_loss"][0], rel=1e-5)
    # held out: not the run's validation batch (stream 1), which the sweep read
    val_x, _ = train.validation_batch(task, TrainConfig(val_size=32, seed=seed))
    assert not torch.equal(x[:32], val_x)


def test_the_recorded_gate_biases_show_the_forget_bias(tiny_adding):
    # runs.bias_blocks at step 0: only the forget block differs, set to 1 in lstm_fb1
    fb0 = tiny_adding["cells"]["lstm"]["runs"][0]["probe"][0]
    fb1 = tiny_adding["cells"]["lstm_fb1"]["runs"][0]["probe"][0]
    assert len(fb0) == 4 and fb1[1] == pytest.approx(1.0) and abs(fb0[1]) < 0.3
    assert fb1[0] == pytest.approx(fb0[0]) and fb1[3] == pytest.approx(fb0[3])


def test_recall_tests_every_run_at_other_gaps_and_keeps_the_first_seeds_weights():
    config = ex.RecallConfig(gaps=(3,), models=("rnn", "lstm_fb3"), seeds=2, lrs=(1e-2,), train=TINY, test_size=32)
    r = ex.recall(config, cache=False)
    assert r["gaps"] == [3] and set(r["by_gap"]) == {"3"}
    run = r["by_gap"]["3"]["cells"]["rnn"]["runs"][1]
    assert [t["args"] for t in run["transfer"]] == [{"gap": 2}, {"gap": 4}, {"gap": 33}]
    assert r["cells"]["lstm_fb3"]["accuracy"][0] == r["by_gap"]["3"]["cells"]["lstm_fb3"]["test_accuracy"]
    assert r["state_dicts"]["lstm_fb3"]["3"]["rnn.weight_hh_l0"].shape == (128, 32)


def test_char_model_reports_bits_on_the_test_half_of_the_held_out_files():
    config = ex.CharConfig(models=("lstm",), seeds=2, lrs=(1e-2,), hidden_size=8, seq_len=16, train=TINY)
    r = ex.char_model(config, cache=False)
    corpus = tasks.CharCorpus(seq_len=16, held_out=True)
    assert r["baseline_bpc"] == pytest.approx(corpus.baseline_bpc)
    data = r["cells"]["lstm"]
    assert data["test_bpc"] == pytest.approx([v / math.log(2) for v in data["test_loss"]])


@pytest.mark.site  # trains the cells to the effect the pages show, through the cache
def test_adding_problem_gated_cells_solve_and_the_tanh_rnn_stays_at_the_baseline():
    r = ex.adding_problem()
    for model in ("lstm", "lstm_fb1", "gru"):
        assert r["cells"][model]["status"].count("solved") >= 4
    rnn = r["cells"]["rnn"]
    assert "solved" not in rnn["status"] and min(rnn["test_loss"]) > 0.9 * r["baseline"]
    assert r["cells"]["lstm"]["runs"][0]["state_dict"]["rnn.weight_hh_l0"].shape == (4 * 32, 32)


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
    train_config = TrainConfig(steps=600, batch_size=16, eval_every=50, val_size=256, target_loss=0.05)
    config = ex.RecallConfig(gaps=(5,), models=("gru",), seeds=1, lrs=(3e-2,), train=train_config, test_size=256)
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
        lambda: ex.adding_problem(ex.AddingConfig(models=("lstm", "tcn")), cache=False),
        lambda: ex.copy_task(ex.CopyConfig(models=()), cache=False),
        lambda: ex.adding_problem(ex.AddingConfig(T=0, models=("lstm",), seeds=1), cache=False),
        lambda: ex.recall(ex.RecallConfig(gaps=(-1,)), cache=False),
        lambda: ex.copy_task(ex.CopyConfig(lrs=()), cache=False),
    ],
)
def test_bad_experiment_configs_are_rejected(call):
    with pytest.raises(ValueError, match="got"):
        call()


def test_recall_chooses_the_learning_rate_at_one_gap_and_uses_it_at_the_others():
    config = ex.RecallConfig(
        gaps=(2, 3), models=("rnn", "gru"), seeds=3, lrs=(1e-2, 3e-2), sweep_gap=3, train=TINY, test_size=16
    )
    r = ex.recall(config, cache=False)
    for model in ("rnn", "gru"):
        swept, other = r["by_gap"]["3"]["cells"][model], r["by_gap"]["2"]["cells"][model]
        assert swept["sweep"]["lrs"] == [1e-2, 3e-2] and other["sweep"]["lrs"] == [swept["lr"]]
        assert other["lr"] == swept["lr"] == r["cells"][model]["lr"][1]
        assert [run["config"]["seed"] for run in other["runs"]] == r["seeds"]
    assert r["by_gap"]["2"]["sweep_seeds"] == r["seeds"]  # nothing to choose: every seed in one stage
