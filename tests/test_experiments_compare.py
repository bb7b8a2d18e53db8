"""The comparison and real-text experiments: parameter formula, step timing, the text model's search.

Budgets are tiny (the text model trains for a few dozen steps): the tests check what the pages
read and that the computations are right, not the pages' numbers. No test times anything.
"""

import pytest

from snippets import experiments as ex
from snippets import tasks, train

SIZES = [(1, 1), (2, 32), (10, 64), (100, 128), (7, 3)]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("input_size,hidden_size", SIZES)
def test_printed_formula_equals_the_count_off_the_module(cell, input_size, hidden_size):
    layer = train.CELLS[cell](input_size, hidden_size)
    assert ex.layer_parameters(cell, input_size, hidden_size) == train.count_parameters(layer)
    model = train.SequenceModel(cell, input_size, hidden_size, 5)
    assert ex.model_parameters(cell, input_size, hidden_size, 5) == train.count_parameters(model)


@pytest.mark.parametrize("input_size,hidden_size", SIZES)
def test_a_gru_layer_is_exactly_three_quarters_of_an_lstm_layer(input_size, hidden_size):
    # The comparison page's claim: the ratio does not depend on the sizes.
    gru, lstm = (ex.layer_parameters(c, input_size, hidden_size) for c in ("gru", "lstm"))
    assert 4 * gru == 3 * lstm


def test_parameter_counts_formula_and_count_agree_and_match_params_equalises():
    equal = ex.parameter_counts(2, 32, 1)
    assert {c["hidden_size"] for c in equal.values()} == {32}
    matched = ex.parameter_counts(2, 32, 1, match="params")
    lstm = matched["lstm"]["model_counted"]
    for c in {**equal, **matched}.values():
        assert c["layer_formula"] == c["layer_counted"] and c["model_formula"] == c["model_counted"]
    assert matched["rnn"]["hidden_size"] > matched["gru"]["hidden_size"] > 32
    # matched: within one hidden unit's worth of the LSTM's count
    assert all(abs(c["model_counted"] - lstm) / lstm < 0.03 for c in matched.values())


def test_parameter_counts_match_what_adding_problem_uses():
    task = tasks.AddingProblem()
    assert {c: v["hidden_size"] for c, v in ex.parameter_counts(2, 32, 1, match="params").items()} == ex.hidden_sizes(
        ("rnn", "lstm", "gru"), 32, "params", task
    )


@pytest.mark.parametrize(
    "args, message",
    [(("lstm2", 2, 3), "unknown cell"), (("gru", 0, 3), "input_size"), (("rnn", 2, 1.5), "hidden_size")],
)
def test_layer_parameters_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        ex.layer_parameters(*args)


def test_parameter_counts_rejects_an_unknown_match():
    with pytest.raises(ValueError, match="match must be"):
        ex.parameter_counts(2, 8, 1, match="flops")


def test_task_sizes_agree_with_the_tasks_and_configs():
    sizes = ex.task_sizes()
    for name, s in sizes.items():
        task = tasks.make_task(name, **s["args"])
        assert (s["input_size"], s["output_size"]) == (task.input_size, task.output_size)
    assert sizes["adding"]["hidden_size"] == ex.AddingConfig().hidden_size
    assert sizes["copy"]["length"] == ex.CopyConfig().T + 20
    assert sizes["recall"]["length"] == ex.RecallConfig().sweep_gap + 2


def test_steps_to_threshold_takes_the_first_validation_step_below():
    result = {
        "cells": {
            "lstm": {
                "runs": [
                    {"val_step": [10, 20, 30], "val_loss": [0.5, 0.2, 0.05]},
                    {"val_step": [10, 20], "val_loss": [0.9, 0.8]},
                ]
            }
        }
    }
    assert ex.steps_to_threshold(result, 0.3) == {"lstm": [20, None]}
    assert ex.steps_to_threshold(result, 0.01) == {"lstm": [None, None]}


def test_step_time_reports_every_task_and_cell():
    result = ex.step_time(ex.StepTimeConfig(task_names=("adding",), warmup=1, repeats=3), cache=False)
    cells = result["tasks"]["adding"]["cells"]
    assert set(cells) == {"rnn", "lstm", "gru"}
    for c in cells.values():
        assert len(c["seconds"]) == 3 and c["min"] <= c["median"] <= c["max"] and c["min"] > 0
    assert result["tasks"]["adding"]["sizes"]["hidden_size"] == ex.AddingConfig().hidden_size
    assert result["tasks"]["adding"]["sizes"]["batch_size"] == ex.AddingConfig().train.batch_size
    ratio = result["tasks"]["adding"]["gru_over_lstm"]
    per_round = [g / s for g, s in zip(cells["gru"]["seconds"], cells["lstm"]["seconds"])]
    assert ratio["median"] == pytest.approx(sorted(per_round)[1])
    assert min(per_round) <= ratio["low"] <= ratio["high"] <= max(per_round)
