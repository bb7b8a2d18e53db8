"""The comparison and real-text experiments: parameter formula, step timing, the text model's search.

Budgets are tiny (the text model trains for a few dozen steps): the tests check what the pages
read and that the computations are right, not the pages' numbers. No test times anything.
"""

import math

import pytest
import torch

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


# ------------------------------------------------------------------------------------------
# The real-text experiments
# ------------------------------------------------------------------------------------------

TINY_MODEL = ex.TextModelConfig(hidden_size=16, seq_len=32, steps=30, batch_size=8, eval_every=10)
TINY = ex.TextUnitsConfig(model=TINY_MODEL, max_chars=800, excerpt_lines=6, sample_chars=40)


@pytest.fixture(scope="module")
def units():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SNIPPETS_CACHE", "off")
        return ex.text_units(TINY, cache=False)


@pytest.fixture(scope="module")
def model():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SNIPPETS_CACHE", "off")
        return ex.text_model(TINY_MODEL, cache=False)


def test_text_model_learns_and_keeps_its_weights(model):
    assert len(model["val_bpc"]) == 3 and model["val_step"] == [10, 20, 30]
    assert model["val_bpc"][-1] < model["val_bpc"][0]
    assert model["baseline_bpc"] == pytest.approx(tasks.CharCorpus().baseline_bpc)
    assert model["state_dict"]["rnn.weight_hh_l0"].shape == (4 * 16, 16)


def test_unit_traces_agree_with_torch_nn(model):
    corpus = tasks.CharCorpus(seq_len=32)
    texts = ["def f(x):\n    return x\n", "a = [1, 2]\n"]
    traces = ex.unit_traces(model["state_dict"], corpus, texts, keys=("c", "h"))
    net = train.SequenceModel("lstm", len(corpus.vocab), 16, len(corpus.vocab))
    net.load_state_dict(model["state_dict"])
    for text, trace in zip(texts, traces):
        x = torch.nn.functional.one_hot(corpus.encode(text), len(corpus.vocab)).float()[None]
        with torch.no_grad():
            h, _ = net.rnn(x)
        assert trace.shape == (len(text), 32)
        torch.testing.assert_close(trace[:, 16:], h[0], atol=1e-5, rtol=1e-5)  # the h half


def test_text_units_returns_what_the_page_reads(units):
    features = {"in_string", "in_comment", "bracket_depth", "indent", "column"}
    for name in ("trained", "untrained"):
        best = units[name]["best"]
        assert {u["feature"] for u in best} == features
        assert all(u["trace"] in ("c", "h") and 0 <= u["unit"] < 16 and -1 <= u["correlation"] <= 1 for u in best)
        assert [abs(u["correlation"]) for u in best] == sorted((abs(u["correlation"]) for u in best), reverse=True)
        for feature, ranked in units[name]["ranked"].items():
            assert len(ranked) == TINY.top
            assert ranked[0]["column"] == next(u["column"] for u in best if u["feature"] == feature)
    assert units["chars"] == sum(min(len(t), 800) for _, t in ex.validation_texts(tasks.CharCorpus()))
    excerpt = units["excerpt"]
    assert excerpt["text"].count("\n") == TINY.excerpt_lines - 1
    for u in excerpt["units"].values():
        assert len(u["values"]) == len(excerpt["text"]) and u["scale"] > 0
    for sample, temperature in zip(units["samples"], TINY.temperatures):
        assert sample["temperature"] == temperature
        assert sample["text"].startswith(TINY.prime) and len(sample["text"]) == len(TINY.prime) + 40


def test_excerpt_is_the_text_of_the_file_it_names(units):
    texts = dict(ex.validation_texts(tasks.CharCorpus()))
    excerpt = units["excerpt"]
    lines = texts[excerpt["file"]].splitlines()
    first = excerpt["first_line"] - 1
    assert excerpt["text"] == "\n".join(lines[first : first + TINY.excerpt_lines])


def test_busy_window_finds_the_lines_with_strings_comments_and_brackets():
    from snippets.interpret import source_features

    plain = "x = 1\n" * 10
    busy = 'y = f("a")  # note\nz = [g("b")]  # more\n'
    text = plain + busy + plain
    first, _ = ex.busy_window(source_features(text), text, 2)
    assert first == 10


def test_generate_is_seeded_and_uses_the_temperature(model):
    corpus = tasks.CharCorpus(seq_len=32)
    args = (model["state_dict"], corpus, 16, "def ", 60)
    assert ex.generate(*args, temperature=1.0, seed=3) == ex.generate(*args, temperature=1.0, seed=3)
    assert ex.generate(*args, temperature=1.0, seed=3) != ex.generate(*args, temperature=0.3, seed=3)
    with pytest.raises(ValueError, match="temperature"):
        ex.generate(*args, temperature=0.0, seed=3)


def test_validation_texts_are_the_corpus_validation_split():
    corpus = tasks.CharCorpus()
    assert "\n".join(text for _, text in ex.validation_texts(corpus)) == corpus.val_text
    assert not math.isnan(corpus.baseline_bpc)
