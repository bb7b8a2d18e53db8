"""Figures, tables and sentences of the comparison page, on small known data.

Each check feeds a result shaped like the experiment's and asserts the figure draws exactly that
data, the tables print it, and the sentences a page prints say what the data says.
"""

import numpy as np
import pytest

from snippets import experiments as ex
from snippets.figures import comparison as compare
from snippets.figures import svg_html


def fake_result(finals: dict, baseline: float = 1.0, solved=(), steps=(10, 20, 30)) -> dict:
    """A comparison result: per cell, three seeds whose loss falls linearly from 1.2 * baseline."""
    cells = {}
    for cell, final in finals.items():
        runs = []
        for f in final:
            curve = list(np.linspace(1.2 * baseline, f, len(steps)))
            runs.append({"val_step": list(steps), "val_loss": curve})
        table = np.array([r["val_loss"] for r in runs])
        cells[cell] = {
            "val_loss": {
                "step": list(steps),
                "mean": table.mean(0).tolist(),
                "min": table.min(0).tolist(),
                "max": table.max(0).tolist(),
            },
            "final_val_loss": list(final),
            "status": ["solved" if cell in solved else "budget"] * len(final),
            "runs": runs,
        }
    return {"baseline": baseline, "baseline_bpc": baseline, "cells": cells, "hidden_size": {cell: 8 for cell in finals}}


RESULT = fake_result({"rnn": [1.0, 0.99, 1.01], "lstm": [0.97, 0.8, 0.99], "gru": [0.5, 0.6, 0.4]})


def test_curves_figure_draws_each_cells_mean_and_the_baseline():
    fig = compare.curves_figure(RESULT, "copy")
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    for cell, label in compare.LABELS.items():
        line = next(v for k, v in lines.items() if k.startswith(label + " "))
        np.testing.assert_allclose(line.get_ydata(), RESULT["cells"][cell]["val_loss"]["mean"])
        np.testing.assert_allclose(line.get_xdata(), [10, 20, 30])
    assert list(lines["memoryless baseline"].get_ydata()) == [1.0, 1.0]
    assert ax.get_xlabel() and ax.get_ylabel()


def test_char_curves_are_in_bits():
    fig = compare.curves_figure(RESULT, "char")
    line = next(ln for ln in fig.axes[0].get_lines() if ln.get_label().startswith("GRU"))
    np.testing.assert_allclose(line.get_ydata(), np.array(RESULT["cells"]["gru"]["val_loss"]["mean"]) / np.log(2))


def test_curves_figure_is_deterministic_and_rejects_unknown_tasks():
    alt = "Curves."
    assert svg_html(compare.curves_figure(RESULT, "adding"), alt) == svg_html(
        compare.curves_figure(RESULT, "adding"), alt
    )
    with pytest.raises(ValueError, match="task must be one of"):
        compare.curves_figure(RESULT, "translation")


def test_curve_caption_says_how_each_cell_ended():
    caption = compare.curve_caption(RESULT, "copy")
    assert "tanh RNN: did not leave the baseline on any of 3 seeds" in caption
    assert "LSTM: ended below 95% of the baseline on 1 of 3 seeds (best seed: 80% of the baseline)" in caption
    assert "GRU: ended below 95% of the baseline on 3 of 3 seeds (best seed: 40%" in caption
    solved = compare.curve_caption(fake_result({"gru": [0.01, 0.01, 0.01]}, solved=("gru",)), "adding")
    assert "GRU: solved on 3 of 3 seeds" in solved


def test_threshold_section_counts_steps_and_who_was_first():
    section = compare.threshold_section(RESULT, "copy", fraction=0.9)
    rows = {line.split("|")[1].strip(): line for line in section.splitlines() if line.startswith("| ")}
    assert "not within 30" in rows["tanh RNN"]
    assert rows["GRU"].count("| 20 ") == 3  # linear from 1.2 to 0.5: below 0.9 at the second evaluation
    assert "the GRU got there first on 3 of 3 seeds, the LSTM on 0" in section
    with pytest.raises(ValueError, match="exactly one"):
        compare.threshold_section(RESULT, "copy")


def test_parameter_table_prints_the_formula_with_values_equal_to_the_count():
    table = compare.parameter_section("adding", {"input_size": 2, "hidden_size": 32, "output_size": 1})
    counts = ex.parameter_counts(2, 32, 1)
    for cell, c in counts.items():
        g = compare.GATE_COUNT[cell]
        row = next(line for line in table.splitlines() if line.startswith(f"| {compare.LABELS[cell]} |"))
        assert f"${g} \\cdot (32 \\cdot (2 + 32) + 2 \\cdot 32)$ = {compare.fmt_params(c['layer_counted'])}" in row
        assert g * (32 * 34 + 64) == c["layer_counted"]


def test_parameter_claim_states_the_exact_ratio():
    claim = compare.parameter_claim(ex.parameter_counts(100, 128, 100))
    assert "exactly 75%" in claim and "88\u202f320" in claim and "117\u202f760" in claim


def test_timing_table_prints_medians_in_milliseconds():
    cells = {
        c: {"median": m, "min": m / 2, "max": 2 * m, "seconds": [m]}
        for c, m in (("rnn", 0.001), ("lstm", 0.004), ("gru", 0.003))
    }
    result = {
        "machine": "test-cpu",
        "torch": "x",
        "threads": 1,
        "repeats": 1,
        "tasks": {"adding": {"sizes": {"batch_size": 32, "length": 100, "hidden_size": 32}, "cells": cells}},
    }
    section = compare.timing_section(result)
    assert "| adding problem (32 x 100, 32) | 1.0 (0.5-2.0) | 4.0 (2.0-8.0) | 3.0 (1.5-6.0) | 0.75 |" in section
    assert "test-cpu" in section
    assert "the GRU's step was the faster one at every size, 0.75 to 0.75 times the LSTM's" in section


def test_budgets_print_every_field_of_the_configs():
    budgets = compare.budgets()
    assert f"steps = {ex.CopyConfig().steps}" in budgets and "seeds = (0, 1, 2)" in budgets
    assert budgets.count("\n- ") == 2


def test_final_losses_lists_mean_and_range():
    line = compare.final_loss_line(RESULT, "copy")
    assert "LSTM 0.92 (0.8 to 0.99)" in line and "baseline 1." in line
