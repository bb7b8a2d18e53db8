"""The variants and GRU experiments: the structure the pages read (tiny budgets), and the pages'
claims on the real runs (read through the cache, computed once if cold)."""

import math

import pytest

from snippets import experiments as ex
from snippets import seeding, tasks
from snippets.figures import gru as fg
from snippets.figures import variants as fv
from snippets.train import TrainConfig

FIVE = ("lstm", "lstm_fb1", "lstm1997", "peephole", "coupled")
TINY = TrainConfig(steps=20, batch_size=8, eval_every=10, val_size=64)


@pytest.fixture(scope="module")
def tiny_variants():
    config = ex.VariantsConfig(
        seeds=2, lrs=(1e-2, 3e-2), sweep_seeds=1, task_args=(("gap", 3),), train=TINY, test_size=32
    )
    return ex.lstm_variants(config, cache=False)


def test_lstm_variants_returns_what_the_page_reads(tiny_variants):
    r = tiny_variants
    assert tuple(r["cells"]) == FIVE
    assert r["baseline"] == pytest.approx(math.log(8))
    assert r["train"]["steps"] == 20 and r["seeds"] == list(seeding.seeds(2)) and r["sweep_seeds"] == r["seeds"][:1]
    for model, data in r["cells"].items():
        assert len(data["final_val_loss"]) == 2 and len(data["status"]) == 2 and len(data["test_accuracy"]) == 2
        assert data["val_loss"]["step"][-1] <= 20 and data["lr"] in (1e-2, 3e-2)
        # the gate biases at step 0 and at each evaluation the run attended
        assert len(data["runs"][0]["probe"]) == 1 + len(data["runs"][0]["val_step"])
        assert r["keep_block"][model] in (0, 1)


def test_parameter_counts_are_read_off_the_modules(tiny_variants):
    counts = {m: d["n_params"] for m, d in tiny_variants["cells"].items()}
    task = tasks.Recall(gap=3)
    H, X, Y = 32, task.input_size, task.output_size
    readout = H * Y + Y
    assert counts["lstm"] == counts["lstm_fb1"] == 4 * H * (X + H + 2) + readout
    assert counts["lstm1997"] == counts["coupled"] == 3 * H * (X + H + 2) + readout
    assert counts["peephole"] == counts["lstm"] + 3 * H


def test_forget_bias_one_changes_only_the_initial_forget_gate(tiny_variants):
    fb0 = tiny_variants["cells"]["lstm"]["runs"][0]["probe"][0]
    fb1 = tiny_variants["cells"]["lstm_fb1"]["runs"][0]["probe"][0]
    assert fb1[1] == pytest.approx(1.0) and abs(fb0[1]) < 0.3
    assert (fb1[0], fb1[2], fb1[3]) == pytest.approx((fb0[0], fb0[2], fb0[3]))


def test_unknown_models_are_rejected():
    with pytest.raises(ValueError, match="models must be"):
        ex.lstm_variants(ex.VariantsConfig(models=("lstm", "lstm2")), cache=False)


def test_gru_forms_keeps_the_first_seeds_weights_of_both_forms():
    train = TrainConfig(steps=5, batch_size=8, eval_every=5, val_size=16)
    config = ex.GRUFormsConfig(seeds=2, lrs=(1e-2,), task_args=(("gap", 2),), train=train, test_size=16)
    r = ex.gru_forms(config, cache=False)
    assert set(r["cells"]) == {"gru", "cho_gru"}
    for data in r["cells"].values():
        assert data["runs"][0]["state_dict"]["rnn.weight_hh_l0"].shape == (3 * 32, 32)
        assert "state_dict" not in data["runs"][1]
    trace = fg.trained_gru_trace(r)
    assert set(trace) >= {"r", "z", "n", "h", "tokens", "target"}
    assert trace["z"].shape == (len(trace["tokens"]), 32) == (4, 32)


def test_update_gate_extremes_z_keeps_the_past_in_both_forms():
    e = ex.update_gate_extremes()
    assert e == {"pytorch_z1": 0.0, "pytorch_z0": 0.0, "cho_z1": 0.0, "cho_z0": 0.0}


def test_same_weights_small_config():
    config = ex.SameWeightsConfig(T=5, batch=2, seeds=1, bounds=(None,))
    r = ex.gru_forms_same_weights(config, cache=False)
    data = r["bounds"]["default"]
    assert len(data["mean_abs_diff"][0]) == 5 and r["seeds"] == list(seeding.seeds(1))
    assert data["bound"] == pytest.approx(1 / math.sqrt(32))
    with pytest.raises(ValueError, match="T and batch"):
        ex.gru_forms_same_weights(ex.SameWeightsConfig(T=0), cache=False)


# -- the pages' claims, on the site's own results ------------------------------------------------


@pytest.mark.site  # the site's own runs, through the cache
@pytest.mark.parametrize(
    "claim",
    [
        fg.forms_differ_but_agree_with_reset_open,
    ],
)
def test_the_pages_claims_hold_on_the_sites_runs(claim):
    result = claim()
    assert result.holds, result.evidence


@pytest.mark.site
def test_the_variants_facts_cover_every_model():
    facts = fv.variants_facts()
    for model in FIVE:
        assert facts[f"{model}_solved"].isdigit()
    assert {"lstm_drift", "coupled_drift", "peephole_drift", "lstm_fb1_drift"} <= set(facts)
