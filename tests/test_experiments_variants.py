"""The variants and GRU experiments: the structure the pages read (tiny budgets), and the pages'
claims on the real runs (read through the cache, computed once if cold: about 40 s of CPU)."""

import math

import pytest

from snippets import experiments as ex
from snippets import tasks
from snippets.figures import gru as fg
from snippets.figures import variants as fv

FIVE = ("lstm", "lstm_fb1", "lstm1997", "peephole", "coupled")


@pytest.fixture(scope="module")
def tiny_variants():
    config = ex.VariantsConfig(seeds=(0, 1), steps=20, eval_every=10, val_size=64, task_args=(("gap", 3),))
    return ex.lstm_variants(config, cache=False)


def test_lstm_variants_returns_what_the_page_reads(tiny_variants):
    r = tiny_variants
    assert tuple(r["models"]) == FIVE
    assert r["baseline"] == pytest.approx(math.log(8))
    assert r["budget"]["steps"] == 20 and r["seeds"] == [0, 1]
    for data in r["models"].values():
        assert len(data["final_val_loss"]) == 2 and len(data["status"]) == 2
        assert data["val_loss"]["step"][-1] <= 20
        assert "state_dict" not in data["runs"][0]


def test_parameter_counts_are_read_off_the_modules(tiny_variants):
    counts = {m: d["n_params"] for m, d in tiny_variants["models"].items()}
    task = tasks.Recall(gap=3)
    H, X, Y = 32, task.input_size, task.output_size
    readout = H * Y + Y
    assert counts["lstm"] == counts["lstm_fb1"] == 4 * H * (X + H + 2) + readout
    assert counts["lstm1997"] == counts["coupled"] == 3 * H * (X + H + 2) + readout
    assert counts["peephole"] == counts["lstm"] + 3 * H


def test_forget_bias_one_changes_only_the_initial_forget_gate():
    # Same seed, same architecture: the two standard LSTMs' first losses differ only through the bias.
    config = ex.VariantsConfig(models=("lstm", "lstm_fb1"), seeds=(0,), steps=1, eval_every=1, val_size=16)
    r = ex.lstm_variants(config, cache=False)
    assert r["models"]["lstm"]["runs"][0]["train_loss"] != r["models"]["lstm_fb1"]["runs"][0]["train_loss"]


def test_unknown_models_and_bad_seeds_are_rejected():
    with pytest.raises(ValueError, match="models must be"):
        ex.lstm_variants(ex.VariantsConfig(models=("lstm", "lstm2")), cache=False)
    with pytest.raises(ValueError, match="seeds must be distinct"):
        ex.gru_forms(ex.GRUFormsConfig(seeds=(0, 0)), cache=False)


def test_gru_forms_keeps_the_first_seeds_weights_of_both_forms():
    config = ex.GRUFormsConfig(seeds=(0, 1), steps=5, eval_every=5, val_size=16, task_args=(("gap", 2),))
    r = ex.gru_forms(config, cache=False)
    assert set(r["models"]) == {"gru", "cho_gru"}
    for data in r["models"].values():
        assert data["runs"][0]["state_dict"]["rnn.weight_hh_l0"].shape == (3 * 32, 32)
        assert "state_dict" not in data["runs"][1]
    trace = fg.trained_gru_trace(r)
    assert set(trace) >= {"r", "z", "n", "h", "tokens", "target"}
    assert trace["z"].shape == (len(trace["tokens"]), 32) == (4, 32)


def test_update_gate_extremes_z_keeps_the_past_in_both_forms():
    e = ex.update_gate_extremes()
    assert e == {"pytorch_z1": 0.0, "pytorch_z0": 0.0, "cho_z1": 0.0, "cho_z0": 0.0}


def test_same_weights_small_config():
    config = ex.SameWeightsConfig(T=5, batch=2, seeds=(0,), bounds=(None,))
    r = ex.gru_forms_same_weights(config, cache=False)
    data = r["bounds"]["default"]
    assert len(data["mean_abs_diff"][0]) == 5
    assert data["bound"] == pytest.approx(1 / math.sqrt(32))
    with pytest.raises(ValueError, match="T and batch"):
        ex.gru_forms_same_weights(ex.SameWeightsConfig(T=0), cache=False)


# -- the pages' claims, on the site's own results ------------------------------------------------


@pytest.fixture(scope="module")
def variants():
    return ex.lstm_variants()


@pytest.fixture(scope="module")
def forms():
    return ex.gru_forms()


@pytest.fixture(scope="module")
def same_weights():
    return ex.gru_forms_same_weights()


def test_the_pages_describe_the_default_configs():
    # The prose names the task: 8 subjects, 10 distractors, 600 steps, hidden size 32.
    assert ex.VariantsConfig().task_args == ex.GRUFormsConfig().task_args == (("gap", 10),)
    assert tasks.Recall().n_subjects == 8
    assert ex.VariantsConfig().hidden_size == ex.GRUFormsConfig().hidden_size == 32
    assert ex.VariantsConfig().steps == ex.GRUFormsConfig().steps == 600
    assert ex.SameWeightsConfig().bounds == (None, 1.0)


def test_variant_comparison_has_all_five_models_on_three_seeds_or_more(variants):
    assert tuple(variants["models"]) == FIVE
    assert all(len(d["final_val_loss"]) >= 3 for d in variants["models"].values())


def test_variants_page_claims(variants):
    m = variants["models"]
    n = len(variants["seeds"])
    # Standard LSTM at forget bias 0 and the peephole LSTM stay on the baseline on every seed.
    for model in ("lstm", "peephole"):
        assert fv.solved(variants, model) == 0
        assert min(m[model]["val_loss"]["min"]) > 0.95 * variants["baseline"]
    # Forget bias 1 leaves the baseline on every seed; the 1997 and coupled cells reach the target ...
    assert max(m["lstm_fb1"]["final_val_loss"]) < 0.5 * variants["baseline"]
    for model in ("lstm1997", "coupled"):
        assert fv.solved(variants, model) == n
    # ... and the 1997 cell first, on every seed.
    for seed in range(n):
        others = [m[o]["steps_run"][seed] for o in ("lstm_fb1", "coupled")]
        assert m["lstm1997"]["steps_run"][seed] < min(others)
    # Coupled gates: a quarter fewer parameters in the recurrent layer than the standard cell.
    assert m["coupled"]["n_params"] < m["lstm"]["n_params"]


def test_gru_page_claims(forms, variants, same_weights):
    # Both forms reach the target on every seed; the standard LSTM at forget bias 0 never does.
    n = len(forms["seeds"])
    assert n >= 3
    assert fv.solved(forms, "gru") == fv.solved(forms, "cho_gru") == n
    assert fv.solved(variants, "lstm") == 0
    # The forms' spreads overlap ("about the same pace").
    gru, cho = forms["models"]["gru"]["steps_run"], forms["models"]["cho_gru"]["steps_run"]
    assert max(gru) >= min(cho) and max(cho) >= min(gru)
    # Same weights: the forms differ from the first step, by a sizeable fraction of |h| ...
    for data in same_weights["bounds"].values():
        for diff, size in zip(data["mean_abs_diff"], data["mean_abs_h"]):
            assert diff[0] > 0
            assert sum(diff[10:]) / sum(size[10:]) > 0.2
        # ... and agree to rounding with the reset gate open.
        assert max(data["open_reset_max_abs_diff"]) < 1e-9


def test_trained_gru_has_units_that_copy_their_state(forms):
    trace = fg.trained_gru_trace(forms)
    units = fg.memory_units(trace, threshold=0.9)
    assert units, "the caption says the top units keep z near 1"
    assert max(abs(trace["h"][-1, u] - trace["h"][1, u]) for u in units) < 0.2
    # ... and the bottom units (lowest mean z) follow their candidate.
    order = trace["z"][1:].mean(0).argsort()
    assert trace["z"][1:, order[0]].mean() < 0.1
