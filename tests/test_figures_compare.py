"""Figures, tables and facts of the comparison page, on small known data.

Each check feeds a result shaped like the experiment's (`runs.sweep`) and asserts that the figure
draws exactly that data, the tables print it, and the facts and claims read it right.
"""

import math

import numpy as np
import pytest

from snippets import experiments as ex
from snippets.experiments import runs
from snippets.experiments.stats import mean_ci95
from snippets.figures import PHONE_WIDTH, svg_html
from snippets.figures import comparison as compare


def fake_run(final: float, baseline: float, steps, seed: int, solved: bool, lr: float = 0.01) -> dict:
    curve = list(np.linspace(1.2 * baseline, final, len(steps)))
    return {
        "val_step": list(steps),
        "val_loss": curve,
        "val_accuracy": [0.5] * len(steps),
        "status": "solved" if solved else "budget",
        "steps_run": steps[-1],
        "n_params": 100,
        "test_loss": final,
        "test_accuracy": 0.5,
        "config": {"seed": seed, "lr": lr},
        "probe": [[0.0, 1.0, 0.0, 0.0], [-0.5, 0.5, 0.0, -0.4]],
        "transfer": [],
    }


def fake_result(finals: dict, baseline: float = 1.0, solved=(), steps=(10, 20, 30)) -> dict:
    """A sweep result: per model, seeds whose loss falls linearly from 1.2 * baseline to `final`."""
    cells = {}
    for model, final in finals.items():
        logs = [fake_run(f, baseline, steps, k, model in solved) for k, f in enumerate(final)]
        summary = runs._model_summary(model, runs.MODELS[model], logs, 8)
        summary["test_bpc"] = [v / math.log(2) for v in summary["test_loss"]]
        summary.update(
            lr=0.01, sweep={"lrs": [0.01, 0.03], "score": [1.0, 2.0], "scores": [[1.0], [2.0]], "solved": [0, 0]}
        )
        cells[model] = summary
    return {
        "baseline": baseline,
        "baseline_bpc": baseline,
        "cells": cells,
        "hidden_size": {m: 8 for m in finals},
        "seeds": list(range(len(next(iter(finals.values()))))),
        "lrs": [0.01, 0.03],
        "train": {"steps": steps[-1], "target_loss": 0.5, "batch_size": 4, "eval_every": 10},
        "task_args": {"seq_len": 8},
    }


RESULT = fake_result(
    {"rnn": [1.0, 0.99, 1.01], "lstm": [0.97, 0.8, 0.99], "lstm_fb1": [0.9, 0.8, 0.7], "gru": [0.5, 0.6, 0.4]}
)


def test_curves_figure_draws_each_models_mean_and_its_confidence_band():
    fig = compare.curves_figure(RESULT, "copy")
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    for model, data in RESULT["cells"].items():
        line = lines[compare.LABELS[model]]
        np.testing.assert_allclose(line.get_ydata(), data["val_loss"]["mean"])
        np.testing.assert_allclose(line.get_xdata(), [10, 20, 30])
    assert list(lines["memoryless baseline"].get_ydata()) == [1.0, 1.0]
    # the band is the 95 % CI of the mean (Student t), not the range of the seeds
    mean, low, high = mean_ci95([[r["val_loss"][-1] for r in RESULT["cells"]["gru"]["runs"]]], dim=1)
    assert RESULT["cells"]["gru"]["val_loss"]["low"][-1] == pytest.approx(float(low[0]))
    assert ax.get_xlabel() and ax.get_ylabel()


def test_char_curves_are_in_bits_and_the_narrow_figure_fits_a_phone():
    fig = compare.curves_figure(RESULT, "char")
    line = next(ln for ln in fig.axes[0].get_lines() if ln.get_label() == "GRU")
    np.testing.assert_allclose(line.get_ydata(), np.array(RESULT["cells"]["gru"]["val_loss"]["mean"]) / np.log(2))
    narrow = compare.curves_figure(RESULT, "char", narrow=True)
    assert narrow.get_size_inches()[0] <= 3.6
    html = svg_html(fig, "Curves.", narrow=narrow)
    assert "snippets-figure-narrow" in html


def test_curves_figure_is_deterministic_and_rejects_unknown_tasks():
    alt = "Curves."
    assert svg_html(compare.curves_figure(RESULT, "adding"), alt) == svg_html(
        compare.curves_figure(RESULT, "adding"), alt
    )
    with pytest.raises(ValueError, match="task must be one of"):
        compare.curves_figure(RESULT, "translation")


def test_recall_figure_plots_every_seed_and_the_mean_per_gap():
    recall = {
        "gaps": [5, 20],
        "chance_accuracy": 0.125,
        "cells": {"rnn": {"accuracy": [[1.0, 0.9, 0.8], [0.2, 0.1, 0.3]]}, "gru": {"accuracy": [[1.0] * 3, [0.5] * 3]}},
    }
    fig = compare.recall_figure(recall)
    ax = fig.axes[0]
    dots = sorted(float(y) for c in ax.collections for y in c.get_offsets()[:, 1] if len(c.get_offsets()) == 3)
    assert len(dots) == 12 and dots[0] == pytest.approx(0.1)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["5", "20"]


def test_parameter_table_prints_the_formula_with_values_equal_to_the_count():
    table = compare.parameter_section("adding", {"input_size": 2, "hidden_size": 32, "output_size": 1})
    counts = ex.parameter_counts(2, 32, 1)
    for cell, c in counts.items():
        g = compare.GATE_COUNT[cell]
        row = next(line for line in table.splitlines() if line.startswith(f"| {compare.LABELS[cell]} |"))
        assert f"${g} \\cdot (32 \\cdot (2 + 32) + 2 \\cdot 32)$ = {compare.fmt_params(c['layer_counted'])}" in row
        assert g * (32 * 34 + 64) == c["layer_counted"]


def test_the_gru_layer_claim_holds_at_every_tasks_sizes():
    claim = compare.gru_layer_is_three_quarters()
    assert claim.holds and claim.evidence.count(":") == len(ex.task_sizes())


def test_timing_table_prints_medians_and_the_paired_ratio():
    cells = {
        c: {"median": m, "min": m / 2, "max": 2 * m, "seconds": [m]}
        for c, m in (("rnn", 0.001), ("lstm", 0.004), ("gru", 0.003))
    }
    result = {
        "machine": "test-cpu",
        "torch": "x",
        "threads": 1,
        "repeats": 1,
        "tasks": {
            "adding": {
                "sizes": {"batch_size": 32, "length": 100, "hidden_size": 32},
                "cells": cells,
                "gru_over_lstm": {"median": 0.75, "low": 0.7, "high": 0.8, "share_above_1": 0.0},
            }
        },
    }
    table = compare.timing_table(result)
    assert "| adding problem (32 × 100, 32) | 1.0 | 4.0 | 3.0 | 0.75 [0.70, 0.80] |" in table


def test_paired_ratio_bootstraps_the_median_of_the_rounds():
    ratio = ex.paired_ratio([2.0, 2.2, 1.8, 2.0], [1.0, 1.0, 1.0, 1.0], resamples=500)
    assert ratio["median"] == pytest.approx(2.0) and ratio["low"] <= 2.0 <= ratio["high"]
    assert ratio["share_above_1"] == 1.0


def test_threshold_data_counts_updates_and_converts_them_to_seconds():
    times = {"tasks": {"copy": {"cells": {"rnn": {"median": 0.1}, "lstm": {"median": 0.2}, "gru": {"median": 0.4}}}}}
    data = compare.threshold_data(RESULT, "copy", times)
    assert data["threshold"] == pytest.approx(0.9)  # 90 % of the copy task's baseline
    # linear from 1.2 to the final 0.5, 0.6, 0.4: at most 0.9 by the second evaluation, step 20
    assert data["steps"]["gru"] == [20, 20, 20]
    assert data["steps"]["rnn"] == [None, None, None]
    assert data["seconds"]["gru"] == [None if s is None else s * 0.4 for s in data["steps"]["gru"]]
    assert data["seconds"]["lstm_fb1"] == [None if s is None else s * 0.2 for s in data["steps"]["lstm_fb1"]]
    table = compare.threshold_table([("copy", data)])
    assert "| copy |" in table and "not reached" in table


def test_fmt_ci_prints_the_mean_and_the_half_width_of_the_interval():
    mean, low, _ = mean_ci95([1.0, 2.0, 3.0])
    assert compare.fmt_ci([1.0, 2.0, 3.0], ".3g") == f"{float(mean):.3g} ± {float(mean - low):.3g}"


def test_test_table_has_the_copy_tasks_symbol_accuracy_beside_its_loss():
    table = compare.test_table(RESULT, RESULT, RESULT)
    assert "| copy task (symbols right) |" in table and "| copy task (cross-entropy, nats/step) |" in table
    assert table.count("±") == 4 * 4


def test_per_seed_and_sweep_tables_list_every_run():
    assert compare.per_seed_table(RESULT, "adding").count("\n| ") == 1 + 4 * 3  # the separator row, then one per run
    sweep = compare.sweep_table(RESULT)
    assert "**1 (0/3)**" in sweep and "| LSTM, forget bias 1 |" in sweep


def test_flattening_reads_the_fall_over_the_last_quarter():
    result = fake_result({"gru": [0.2, 0.2]}, steps=(10, 20, 30, 40, 50, 60, 70, 80))
    mean = result["cells"]["gru"]["val_loss"]["mean"]  # 1.2 down to 0.2 in 7 equal steps
    # the last quarter of 80 steps starts at step 60: index 5
    assert compare.flattening(result, "gru") == pytest.approx((mean[5] - mean[7]) / math.log(2))


# -- verdicts: the GRU against the better LSTM, each worded by its test ---------------------------


def _statuses(result: dict, solved: dict) -> dict:
    for model, k in solved.items():
        status = result["cells"][model]["status"]
        result["cells"][model]["status"] = ["solved"] * k + ["budget"] * (len(status) - k)
    return result


def test_the_adding_verdict_takes_the_better_lstm_and_words_fishers_test():
    five = fake_result({m: [0.5] * 5 for m in ("lstm", "lstm_fb1", "gru")})
    row = compare._adding_verdict(_statuses(five, {"lstm": 0, "lstm_fb1": 1, "gru": 5}))
    assert row["lstm_name"] == "LSTM, forget bias 1" and row["gru"] == "5 of 5" and row["lstm"] == "1 of 5"
    assert row["sign"] == 1 and row["verdict"].startswith("more often (one-sided Fisher exact test, p = 0.024")
    tie = compare._adding_verdict(_statuses(five, {"lstm": 5, "lstm_fb1": 5, "gru": 5}))
    assert tie["lstm_name"] == "LSTM, forget bias 1" and (tie["sign"], tie["verdict"]) == (0, "equally often")


def test_a_value_verdict_follows_which_way_is_better():
    result = fake_result({"lstm": [2.3] * 5, "lstm_fb1": [2.2, 2.21, 2.22, 2.23, 2.24], "gru": [2.4] * 5})
    # fewer bits are better: the better LSTM is forget bias 1, and the GRU's higher bits count against it
    bits = compare._value_verdict(result, "test_loss", "{:.2f}", higher_is_better=False)
    assert bits["lstm_name"] == "LSTM, forget bias 1" and bits["lstm"] == "2.22" and bits["sign"] == -1
    assert bits["verdict"] == "higher (one-sided exact Mann-Whitney test, p = 0.004)"
    share = compare._value_verdict(result, "test_loss", "{:.2f}", higher_is_better=True)
    assert share["lstm_name"] == "LSTM" and share["sign"] == 1


# -- the opening: which cell, for which kind of task ---------------------------------------------------


def _opening_results(copy_gru=0.9, char_gru=2.4) -> dict:
    """Five seeds per model: the adding problem tied (every seed solved), the copy task and the
    character model as given for the GRU, recall at the longest gap won by the GRU, and at gap 20
    the LSTM with forget bias 3 ahead of PyTorch's initialisation."""
    models = ("rnn", "lstm", "lstm_fb1", "gru")
    adding = _statuses(fake_result({m: [0.005] * 5 for m in models}), {m: 5 for m in models})
    adding["task_args"] = {"T": 100}
    copy = fake_result({m: [0.6] * 5 for m in models})
    for m, shares in {"rnn": [0.12] * 5, "lstm": [0.14] * 5, "lstm_fb1": [0.15, 0.16, 0.14, 0.15, 0.15]}.items():
        copy["cells"][m]["test_accuracy"] = shares
    copy["cells"]["gru"]["test_accuracy"] = [copy_gru] * 5
    char = fake_result({m: [2.3] * 5 for m in models})
    for m, bits in {"rnn": [2.8] * 5, "lstm": [2.2, 2.21, 2.22, 2.23, 2.24], "lstm_fb1": [2.3] * 5}.items():
        char["cells"][m]["test_bpc"] = bits
    char["cells"]["gru"]["test_bpc"] = [char_gru] * 5
    at = {
        "20": {"rnn": 0, "lstm": 0, "lstm_fb1": 1, "lstm_fb3": 5, "gru": 5},
        "40": {"rnn": 2, "lstm": 0, "lstm_fb1": 0, "lstm_fb3": 0, "gru": 5},
    }
    recall = {
        "gaps": [20, 40],
        "seeds": list(range(5)),
        "chance_accuracy": 0.125,
        "by_gap": {
            gap: {"cells": {m: {"test_accuracy": [1.0] * k + [0.125] * (5 - k)} for m, k in counts.items()}}
            for gap, counts in at.items()
        },
    }
    return {"adding": adding, "copy": copy, "recall": recall, "char": char}


def _times(*intervals) -> dict:
    return {
        "tasks": {
            f"t{k}": {"gru_over_lstm": {"median": m, "low": lo, "high": hi}} for k, (m, lo, hi) in enumerate(intervals)
        }
    }


def test_advice_rows_name_the_cell_each_test_favours_and_print_its_evidence():
    rows = compare.advice_rows(_opening_results(), _times((2.0, 1.9, 2.1), (4.0, 3.8, 4.2)))
    kinds, picks, evidence = zip(*rows)
    assert kinds[0] == "keep a number across 100 steps (adding problem)" and "gap of 40" in kinds[2]
    assert picks == ("either (GRU or LSTM, forget bias 1)", "GRU", "GRU", "LSTM", "LSTM", "forget-gate bias 3")
    assert evidence[0] == "GRU 5, LSTM (bias 1) 5 seeds solved it (equally often)"
    assert evidence[1] == "GRU 90%, LSTM (bias 1) 15% of the symbols recalled (p = 0.004)"
    assert evidence[2] == "GRU 5, LSTM (bias 1) 0 seeds learned it (p = 0.004)"
    assert evidence[3] == "GRU 2.40, LSTM 2.22 test bits per character (p = 0.004)"
    assert evidence[4] == "a GRU step took 2.0 to 4.0 times as long as an LSTM step here"
    assert evidence[5] == "bias 3 5, PyTorch's 0 seeds learned it (p = 0.004)"


def test_advice_turns_with_the_data_and_names_no_winner_without_a_significant_test():
    # the GRU now recalls fewer symbols and spends fewer bits; the step times straddle 1
    rows = compare.advice_rows(_opening_results(copy_gru=0.1, char_gru=2.0), _times((1.1, 0.9, 1.3), (2.0, 1.9, 2.1)))
    picks = [pick for _, pick, _ in rows]
    assert picks[1] == "LSTM, forget bias 1" and picks[3] == "GRU" and picks[4] == "either: it depends on the sizes"
    assert compare._speed_row(_times((0.5, 0.4, 0.6)))[1] == "GRU"
    level = compare._pick({"sign": 0, "lstm_name": "LSTM", "verdict": "not significantly ..."})
    assert level == "either (GRU or LSTM)"


def test_verdict_figure_draws_every_seed_and_leaves_the_rows_of_models_not_run_empty():
    results = _opening_results()
    fig = compare.verdict_figure(results)
    axes = fig.axes
    assert len(axes) == 4 and [t.get_text() for t in axes[0].get_yticklabels()] == [
        compare.SHORT[m] for m in compare.ROWS
    ]
    copy = axes[1]
    # each model's dots sit around its row: row -> the seeds' values
    dots = {round(float(c.get_offsets()[0][1])): sorted(float(x) for x, _ in c.get_offsets()) for c in copy.collections}
    assert dots[compare.ROWS.index("gru")] == [0.9] * 5
    assert dots[compare.ROWS.index("lstm_fb1")] == sorted([0.15, 0.16, 0.14, 0.15, 0.15])
    assert [t.get_text() for t in copy.texts] == ["not run"]  # the LSTM at forget bias 3 ran recall only
    assert not axes[2].texts  # recall: all five models
    assert copy.get_lines()[-1].get_xdata()[0] == pytest.approx(0.125)  # chance
    assert compare.verdict_figure(results, narrow=True).get_size_inches()[0] <= PHONE_WIDTH
    with pytest.raises(ValueError, match="task must be one of"):
        compare.verdict_values(results, "parity")
