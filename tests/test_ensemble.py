"""`snippets.fast.ensemble`: members trained as one batched model equal members trained alone.

The reference is `train.train_cell` (torch.nn layers, one member at a time), run in float64 on the
adding problem so that the comparison is exact up to rounding: losses, gradient norms, validation
metrics, status, steps run and final weights agree to a relative 1e-9 (observed: about 1e-14).
Every batch holds a member that clips hard, one that stops early on success, one that diverges at
its second step (a learning rate of 1e200 sends its weights past float64's range), and, for the
LSTM, forget-gate biases. Recall's inputs are float32 (one-hot), so there the runs are short
(10 steps) and held to 1e-4, relative and absolute (observed: losses and gradient norms within a
relative 1e-7, weights within 1e-6).
"""

import functools
import math
from dataclasses import replace

import pytest
import torch
from torch.func import vmap

from snippets import cells, tasks, train
from snippets.fast import ensemble
from snippets.fast.ensemble import EnsembleGRU, EnsembleLSTM, EnsembleRNN, train_ensemble

ADDING = tasks.AddingProblem(T=10)
HIDDEN = 6
BASE = train.TrainConfig(steps=24, batch_size=8, eval_every=4, val_size=16, lr=1e-2)
MEMBERS = [  # (config, LSTM forget bias)
    (replace(BASE, seed=0), None),
    (replace(BASE, seed=1, lr=3e-3, clip=0.05), 1.0),  # gradient norms are 2 to 4: clipping binds
    (replace(BASE, seed=2, lr=3e-2, target_loss=0.14), 2.0),  # solved at step 4 (rnn), 8 (lstm), 16 (gru)
    (replace(BASE, seed=3, lr=1e200), None),  # diverges at step 2
]
PER_STEP = ("train_loss", "grad_norm")
PER_EVAL = ("val_loss", "val_accuracy")


@pytest.fixture(autouse=True)
def one_thread():
    """One thread, as the pool's workers run (and two threads spin on a shared 2-core machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def float64():
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def forget_biases(cell):
    return [fb for _, fb in MEMBERS] if cell == "lstm" else None


@functools.cache
def alone(cell: str, member: int):
    """Member `member` trained alone by `train.train_cell` (float64): its log and final weights."""
    config, forget_bias = MEMBERS[member]
    model, log = train.train_cell(cell, ADDING, HIDDEN, config, forget_bias=forget_bias if cell == "lstm" else None)
    return log, model.state_dict()


def assert_same_run(together: dict, log: dict, weights: dict, rel: float) -> None:
    for key in ("step", "val_step", "status", "steps_run", "config", "n_params", "hidden_size"):
        assert together[key] == log[key], key
    for key in PER_STEP + PER_EVAL:
        assert together[key] == pytest.approx(log[key], rel=rel, abs=rel, nan_ok=True), key
    assert together["state_dict"].keys() == weights.keys()
    for name, value in weights.items():
        torch.testing.assert_close(together["state_dict"][name], value, rtol=rel, atol=rel, msg=name)


# -- the batched time loops are the step functions of snippets.cells -------------------------------


def step_function_loop(cell: str, xw, weight_hh, bias_hh=None):
    """`cells.*_step` vmapped over members, looped over time: the equations the pages show."""
    K, _, B, _ = xw.shape
    h = c = xw.new_zeros(K, B, weight_hh.shape[-1])
    out = []
    for xw_t in xw.unbind(1):
        if cell == "rnn":
            h = vmap(lambda a, h, w: cells.rnn_step(a, h, w, None))(xw_t, h, weight_hh)
        elif cell == "lstm":
            h, c = vmap(lambda a, h, c, w: cells.lstm_step(a, h, c, w, None)[0])(xw_t, h, c, weight_hh)
        else:
            h = vmap(lambda a, h, w, b: cells.gru_step(a, h, w, b)[0])(xw_t, h, weight_hh, bias_hh)
        out.append(h)
    return torch.stack(out, 1)


@pytest.mark.parametrize(
    "cell, layer, gates", [("rnn", EnsembleRNN, 1), ("lstm", EnsembleLSTM, 4), ("gru", EnsembleGRU, 3)]
)
def test_batched_loops_equal_the_step_functions(cell, layer, gates):
    torch.manual_seed(0)
    K, T, B, H = 3, 7, 4, 5
    new = dict(dtype=torch.float64, requires_grad=True)
    inputs = [torch.randn(K, T, B, gates * H, **new), torch.randn(K, gates * H, H, **new)]
    if cell == "gru":
        inputs.append(torch.randn(K, gates * H, **new))
    d_out = torch.randn(K, T, B, H, dtype=torch.float64)
    ours = layer.apply(*inputs)
    theirs = step_function_loop(cell, *inputs)
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    for a, b in zip(torch.autograd.grad(ours, inputs, d_out), torch.autograd.grad(theirs, inputs, d_out)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


# -- whole runs: together equals alone -----------------------------------------------------------


@pytest.mark.parametrize("engine", ["bptt", "loop", "steps"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_members_trained_together_equal_members_trained_alone(float64, cell, engine):
    together = train_ensemble(
        cell, ADDING, HIDDEN, [c for c, _ in MEMBERS], forget_biases(cell), engine=engine, keep_weights=True
    )
    for member, log in enumerate(together):
        assert_same_run(log, *alone(cell, member), rel=1e-9)
    statuses = [log["status"] for log in together]
    assert statuses == ["budget", "budget", "solved", "diverged"]
    assert together[2]["steps_run"] < BASE.steps and together[3]["steps_run"] == 2
    assert all(log["ensemble"]["members"] == len(MEMBERS) for log in together)


def test_a_diverging_member_changes_nothing_in_the_others(float64):
    """The members that stay finite compute the same numbers with or without a NaN beside them."""
    configs = [c for c, _ in MEMBERS]
    with_it = train_ensemble("gru", ADDING, HIDDEN, configs, keep_weights=True)
    without = train_ensemble("gru", ADDING, HIDDEN, configs[:3], keep_weights=True)
    for a, b in zip(with_it, without):
        assert a["train_loss"] == b["train_loss"] and a["grad_norm"] == b["grad_norm"]
        assert a["val_loss"] == b["val_loss"]
        assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])


@pytest.mark.parametrize("cell, engine", [("rnn", "bptt"), ("lstm", "loop"), ("lstm", "bptt"), ("gru", "bptt")])
def test_float32_short_runs_on_recall(cell, engine):
    task = tasks.Recall(gap=5)
    config = train.TrainConfig(steps=10, batch_size=8, eval_every=5, val_size=32, lr=1e-2)
    configs = [replace(config, seed=s, lr=lr) for s, lr in [(0, 1e-2), (1, 3e-3), (2, 3e-2)]]
    biases = [1.0, None, 2.0] if cell == "lstm" else None
    together = train_ensemble(cell, task, 8, configs, biases, engine=engine, keep_weights=True)
    for k, config in enumerate(configs):
        model, log = train.train_cell(cell, task, 8, config, forget_bias=biases[k] if biases else None)
        assert_same_run(together[k], log, model.state_dict(), rel=1e-4)


def test_final_weights_load_into_a_sequence_model(float64):
    log = train_ensemble("lstm", ADDING, HIDDEN, [MEMBERS[1][0]], [1.0], keep_weights=True)[0]
    model = train.SequenceModel("lstm", ADDING.input_size, HIDDEN, ADDING.output_size)
    model.load_state_dict(log["state_dict"])  # strict: every name and shape
    metrics = train.evaluate(model, ADDING, train.validation_batch(ADDING, MEMBERS[1][0]))
    assert metrics["loss"] == pytest.approx(log["val_loss"][-1], rel=1e-12)


def test_a_variant_trains_on_its_own_step_function(float64):
    """A `snippets.variants` layer (no torch.nn twin): the steps engine against `train.train` alone."""
    from snippets.variants import PeepholeLSTM

    configs = [replace(BASE, steps=8, seed=s, lr=lr) for s, lr in [(0, 1e-2), (1, 3e-2)]]
    together = train_ensemble("peephole", ADDING, HIDDEN, configs, [None, 1.0], layer=PeepholeLSTM, keep_weights=True)
    assert together[0]["ensemble"]["engine"] == "steps"
    for log, config, bias in zip(together, configs, [None, 1.0]):
        model = ensemble.build_member("peephole", ADDING, HIDDEN, config.seed, bias, PeepholeLSTM)
        alone_log = train.train(model, ADDING, config)
        alone_log.update(n_params=train.count_parameters(model), hidden_size=HIDDEN)
        assert_same_run(log, alone_log, model.state_dict(), rel=1e-9)


def test_seconds_are_each_members_share_of_the_wall_clock():
    configs = [replace(BASE, seed=s) for s in range(3)]
    logs = train_ensemble("rnn", ADDING, HIDDEN, configs)
    for log in logs:
        assert log["seconds"] == sorted(log["seconds"]) and log["seconds"][0] > 0
        # three members shared every step: each one's share is a third of the run's wall clock
        assert 3 * log["seconds"][-1] <= log["ensemble"]["wall_seconds"] * (1 + 1e-9)


# -- members that cannot share a batch -----------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(configs=[BASE, replace(BASE, batch_size=4)]), ["batch_size", "member 0", "8", "member 1", "4"]),
        (dict(configs=[BASE, replace(BASE, optimizer="sgd")]), ["optimizer", "'adam'", "'sgd'"]),
        (dict(configs=[BASE], forget_biases=[1.0], cell="gru"), ["lstm only", "'gru'"]),
        (dict(configs=[BASE, BASE], forget_biases=[1.0]), ["one forget bias per member (2)", "got 1"]),
        (dict(configs=[BASE], engine="fast"), ["engine", "'fast'"]),
        (dict(configs=[]), ["at least one"]),
        (
            dict(configs=[BASE, replace(BASE, seed=1)], task=tasks.AddingProblem(T=30, variant="hochreiter")),
            ["different shapes", "hochreiter", "train_cell"],
        ),
        (dict(configs=[BASE], task=tasks.Recall(gap=3), dtype=torch.float64), ["float32", "float64"]),
    ],
)
def test_members_that_cannot_share_a_batch_are_refused(kwargs, words):
    kwargs = {"cell": "lstm", "task": ADDING, **kwargs}
    dtype = kwargs.pop("dtype", None)
    before = torch.get_default_dtype()
    torch.set_default_dtype(dtype or before)
    try:
        with pytest.raises(ValueError) as error:
            train_ensemble(kwargs.pop("cell"), kwargs.pop("task"), HIDDEN, **kwargs)
    finally:
        torch.set_default_dtype(before)
    assert all(w in str(error.value) for w in words), str(error.value)


def test_a_non_finite_validation_loss_ends_a_member_as_diverged(float64, monkeypatch):
    """As `train.train`: a NaN validation loss stops the member, and no NaN row is added after it."""
    real, calls = ensemble._evaluate, []

    def poisoned(forward, params, x, y, task, hidden_size):
        """Member 0's first validation loss is NaN; everything else as computed."""
        metrics = real(forward, params, x, y, task, hidden_size)
        calls.append(1)
        return [(math.nan, math.nan)] + metrics[1:] if len(calls) == 1 else metrics

    monkeypatch.setattr(ensemble, "_evaluate", poisoned)
    logs = train_ensemble("rnn", ADDING, HIDDEN, [replace(BASE, seed=0), replace(BASE, seed=1)])
    assert logs[0]["status"] == "diverged" and logs[0]["steps_run"] == BASE.eval_every
    assert logs[0]["val_step"] == [BASE.eval_every] and math.isnan(logs[0]["val_loss"][-1])
    assert logs[1]["status"] == "budget"


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_members_in_groups_compute_what_one_group_computes(float64, cell):
    """The bptt engine splits many members into groups (to bound its memory): same outputs, same gradients."""
    K, B, T = 5, 3, 4
    models = [ensemble.build_member(cell, ADDING, HIDDEN, seed) for seed in range(K)]
    params = {
        n: torch.stack([dict(m.named_parameters())[n].detach() for m in models]).requires_grad_()
        for n, _ in models[0].named_parameters()
    }
    x = torch.randn(K, B, T, ADDING.input_size)
    outs = [ensemble.bptt_engine(cell, group_bytes=g)(params, x) for g in (1, 2**30)]  # groups of 1, one group
    torch.testing.assert_close(outs[0], outs[1], rtol=1e-12, atol=1e-12)
    grads = [torch.autograd.grad(out.square().sum(), list(params.values())) for out in outs]
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_a_pool_job_returns_the_logs_train_run_returns():
    from dataclasses import asdict

    from snippets.experiments.runs import train_run

    configs = [asdict(replace(BASE, steps=6, seed=s)) for s in (0, 1)]
    logs = ensemble.ensemble_run("gru", "recall", {"gap": 3}, 8, configs)
    for log, config in zip(logs, configs):
        alone_log = train_run("gru", "recall", {"gap": 3}, 8, config)
        assert set(log) == set(alone_log) | {"ensemble"} and log["cell"] == "gru"
        assert log["val_loss"] == pytest.approx(alone_log["val_loss"], rel=1e-4)


def test_init_changes_each_members_initial_weights_as_it_would_alone(float64):
    """`init` runs on each member's freshly built model: the run equals `train.train` from the same weights."""
    from snippets.gradients import set_largest_singular_value

    def scale(model):
        set_largest_singular_value(model.rnn.weight_hh_l0, 2.0)

    config = replace(BASE, seed=5, clip=1.0)
    log = train_ensemble("rnn", ADDING, HIDDEN, [config], init=scale, keep_weights=True)[0]
    train.seed_everything(config.seed)
    model = train.SequenceModel("rnn", ADDING.input_size, HIDDEN, ADDING.output_size)
    scale(model)
    alone_log = train.train(model, ADDING, config)
    assert log["train_loss"] == pytest.approx(alone_log["train_loss"], rel=1e-9)
    assert log["grad_norm"] == pytest.approx(alone_log["grad_norm"], rel=1e-9)
    assert log["grad_norm"] != pytest.approx(train_ensemble("rnn", ADDING, HIDDEN, [config])[0]["grad_norm"], rel=1e-3)


def test_a_probe_records_what_it_reads_off_each_members_weights_alone(float64):
    """`probe` sees member k's weights as `train.train` has them at step 0 and at each evaluation."""

    def bias_sum(params):
        return params["rnn.bias_hh_l0"].sum(-1, keepdim=True)

    configs = [c for c, _ in MEMBERS]
    together = train_ensemble("gru", ADDING, HIDDEN, configs, probe=bias_sum)
    for member, log in enumerate(together):
        model = ensemble.build_member("gru", ADDING, HIDDEN, configs[member].seed)
        seen = [float(model.rnn.bias_hh_l0.detach().sum())]

        def on_step(step, model, seen=seen, every=configs[member].eval_every, last=configs[member].steps):
            if step % every == 0 or step == last:
                seen.append(float(model.rnn.bias_hh_l0.detach().sum()))

        alone = train.train(model, ADDING, configs[member], on_step=on_step)
        # alone, the hook runs after each update; together, at each evaluation the member attends
        attended = 1 + sum(1 for s in alone["val_step"] if s <= log["steps_run"] and log["status"] != "diverged")
        assert [row[0] for row in log["probe"]] == pytest.approx(seen[:attended], rel=1e-9)
