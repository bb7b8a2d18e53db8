"""The training loop: seeding, clipping, metrics, early stop, divergence, parameter matching."""

import math

import pytest
import torch

from snippets.seeding import seed_everything
from snippets.tasks import AddingProblem, CopyMemory
from snippets.train import (
    SequenceModel,
    TrainConfig,
    count_parameters,
    matched_hidden_size,
    set_forget_bias,
    train,
    train_cell,
)


def small(**kw):
    return TrainConfig(**{"steps": 20, "batch_size": 8, "eval_every": 5, "val_size": 32, **kw})


def test_same_seed_gives_the_same_run_and_another_seed_does_not():
    task = AddingProblem(T=10)
    _, a = train_cell("gru", task, 8, small(seed=1))
    _, b = train_cell("gru", task, 8, small(seed=1))
    _, c = train_cell("gru", task, 8, small(seed=2))
    assert a["train_loss"] == b["train_loss"] and a["val_loss"] == b["val_loss"]
    assert a["train_loss"] != c["train_loss"]


def test_metrics_are_recorded_per_step_and_per_evaluation():
    _, log = train_cell("lstm", CopyMemory(T=5), 8, small())
    assert log["step"] == list(range(1, 21)) and log["status"] == "budget"
    assert len(log["train_loss"]) == len(log["grad_norm"]) == len(log["seconds"]) == 20
    assert log["val_step"] == [5, 10, 15, 20]
    assert log["seconds"] == sorted(log["seconds"]) and log["seconds"][0] > 0
    assert all(0 <= a <= 1 for a in log["val_accuracy"])
    assert log["n_params"] == count_parameters(SequenceModel("lstm", 10, 8, 9))


def test_clipping_bounds_the_update_but_the_recorded_norm_is_before_clipping():
    task = AddingProblem(T=10)
    seed_everything(0)
    model = SequenceModel("rnn", 2, 8, 1)
    before = [p.detach().clone() for p in model.parameters()]
    log = train(
        model, task, TrainConfig(steps=1, batch_size=8, lr=1.0, optimizer="sgd", clip=1e-3, val_size=8, eval_every=1)
    )
    step = torch.cat([(p.detach() - q).flatten() for p, q in zip(model.parameters(), before)])
    assert float(step.norm()) == pytest.approx(1e-3, rel=1e-4)  # lr 1 x clipped norm
    assert log["grad_norm"][0] > 1e-3


def test_early_stop_on_success():
    _, log = train_cell("gru", AddingProblem(T=10), 8, small(target_loss=100.0))
    assert log["status"] == "solved" and log["steps_run"] == 5


def test_a_non_finite_loss_ends_the_run_as_diverged():
    seed_everything(0)
    model = SequenceModel("rnn", 2, 8, 1)
    with torch.no_grad():
        model.readout.bias.fill_(math.inf)
    log = train(model, AddingProblem(T=10), small())
    assert log["status"] == "diverged" and log["steps_run"] == 1
    assert math.isnan(log["val_loss"][-1])


def test_progress_bar_is_quiet_when_not_a_terminal(capsys):
    train_cell("rnn", AddingProblem(T=10), 8, small())
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_forget_bias_sets_the_sum_of_both_biases_of_the_f_gate():
    lstm = torch.nn.LSTM(3, 5, num_layers=2)
    set_forget_bias(lstm, 2.5)
    for layer in range(2):
        total = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
        assert torch.allclose(total[5:10], torch.full((5,), 2.5))
    with pytest.raises(ValueError, match="lstm only"):
        train_cell("gru", AddingProblem(T=10), 8, small(), forget_bias=1.0)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_matched_hidden_size_is_the_closest_parameter_count(cell):
    target = count_parameters(SequenceModel("lstm", 2, 32, 1))
    h = matched_hidden_size(cell, target, 2, 1)

    def gap(size):
        return abs(count_parameters(SequenceModel(cell, 2, size, 1)) - target)

    assert gap(h) <= gap(h - 1) and gap(h) <= gap(h + 1)
    if cell == "lstm":
        assert h == 32


@pytest.mark.parametrize("kwargs", [{"steps": 0}, {"optimizer": "lbfgs"}, {"lr": 0.0}, {"clip": -1.0}])
def test_bad_train_config_names_what_was_expected_and_got(kwargs):
    with pytest.raises(ValueError, match="got"):
        TrainConfig(**kwargs)


def test_unknown_cell_is_rejected():
    with pytest.raises(ValueError, match=r"unknown cell 'transformer'; expected one of"):
        SequenceModel("transformer", 2, 8, 1)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_traceable_layer_reproduces_the_trained_torch_layer(cell):
    import snippets
    from snippets.train import SequenceModel, traceable_layer

    torch.manual_seed(0)
    model = SequenceModel(cell, 3, 5, 2)
    layer = traceable_layer(model.state_dict())
    assert type(layer) is getattr(snippets, {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[cell])
    x = torch.randn(4, 7, 3)
    torch.testing.assert_close(layer(x)[0], model.rnn(x)[0])
    assert "h" in layer(x, return_gates=True)[2]


def test_traceable_layer_rejects_other_state_dicts():
    from snippets.train import traceable_layer

    with pytest.raises(ValueError, match="expected a SequenceModel state_dict"):
        traceable_layer({"weight": torch.zeros(1)})
