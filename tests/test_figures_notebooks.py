"""The notebooks' tables and checks, on small known data: each check holds exactly when its statement
does, and `require` stops a notebook with the statement and the numbers when it does not."""

import json
from pathlib import Path

import pytest
import torch

from snippets import tasks, train
from snippets.figures import notebooks as nb

NOTEBOOKS = Path(__file__).resolve().parents[1] / "docs" / "notebooks"


def test_require_returns_the_evidence_or_raises_with_the_statement():
    checked = nb.require(nb.forget_gate_between, 0.5, 0.4, 0.6)
    assert "mean forget gate 0.500" in checked._repr_markdown_()
    with pytest.raises(nb.ClaimFailed, match=r"It says: The mean forget gate lies between .* Evidence: mean forget"):
        nb.require(nb.forget_gate_between, 0.7, 0.4, 0.6)
    with pytest.raises(TypeError, match="Claim"):
        nb.require(lambda: True)


def test_tables_are_markdown_or_folded_html():
    table = nb.Table(["a", "b"], [["1", "x<y"]])
    assert table._repr_markdown_() == "| a | b |\n| --- | --- |\n| 1 | x<y |" and table._repr_html_() is None
    folded = nb.Table(["a"], [["x<y"]], summary="Per seed")
    assert folded._repr_markdown_() is None
    assert folded._repr_html_().startswith("<details><summary>Per seed</summary>") and "x&lt;y" in folded._repr_html_()


def fake_adding_result(lstm=(0.003, 0.004, 0.005), gru=(0.004, 0.004, 0.003), rnn=(0.17, 0.18, 0.16)) -> dict:
    cells = {}
    for cell, finals in (("rnn", rnn), ("lstm", lstm), ("gru", gru)):
        status = ["solved" if v < 0.01 else "budget" for v in finals]
        runs = [
            {"val_step": [100, 300 if s == "solved" else 3000], "val_loss": [0.2, v]} for v, s in zip(finals, status)
        ]
        cells[cell] = {"n_params": 100, "final_val_loss": list(finals), "status": status, "runs": runs}
    return {"baseline": 1 / 6, "hidden_size": {"rnn": 32, "lstm": 32, "gru": 32}, "cells": cells}


def test_site_runs_table_prints_mean_and_ci_and_counts_early_stops():
    table = nb.site_runs_table(fake_adding_result())._repr_markdown_()
    # mean 0.004, sample std 0.001, t(2) = 4.303: half-width 4.303 * 0.001 / sqrt(3) = 0.0025
    assert "| lstm | 32 | 100 | 0.0040 ± 0.0025 | 3 of 3 |" in table
    assert "| rnn | 32 | 100 | 0.1700 ± 0.0248 | 0 of 3 |" in table
    per_seed = nb.site_runs_per_seed(fake_adding_result())._repr_html_()
    assert per_seed.count("<tr>") == 10 and "<td>3000</td><td>budget</td>" in per_seed


def test_gated_cells_claim_needs_every_seed_ten_times_below_the_baseline():
    gated = ("lstm", "gru")
    assert nb.gated_cells_learn_on_every_seed(fake_adding_result(), cells=gated).holds
    assert not nb.gated_cells_learn_on_every_seed(fake_adding_result(gru=(0.004, 0.02, 0.003)), cells=gated).holds


def test_training_table_reports_the_last_check_and_whether_the_run_stopped_early():
    task = tasks.AddingProblem(T=10)
    config = train.TrainConfig(steps=600, target_loss=0.01)
    log = {"status": "solved", "steps_run": 400, "val_loss": [0.1, 0.0049]}
    row = nb.training_table(log, task, config)._repr_markdown_().splitlines()[-1]
    assert row == "| 600 | validation MSE < 0.01 | 400 | early (rule met) | 0.0049 | 0.1667 |"
    assert nb.far_below_baseline(log, task).holds
    assert not nb.far_below_baseline({**log, "val_loss": [0.02]}, task).holds


def gate_trace(store_f=0.999, store_i_marks=0.8) -> tuple[dict, torch.Tensor]:
    """Two sequences of 20 steps, marks at 3 and 12; unit 0 stores (or not), unit 1 does not."""
    T, B, H = 20, 2, 2
    x = torch.zeros(B, T, 2)
    x[:, [3, 12], 1] = 1.0
    f = torch.full((T, B, H), 0.3)
    f[..., 0] = store_f
    i = torch.full((T, B, H), 0.3)
    i[..., 0] = 0.01
    i[[3, 12], :, 0] = store_i_marks
    c = torch.zeros(T, B, H)
    c[3:, :, 0], c[12:, :, 0] = 0.5, 1.0  # unit 0 moves only at the marks
    c[:, :, 1] = torch.arange(T)[:, None] * 0.01
    trace = {k: v[None, None] for k, v in {"f": f, "i": i, "c": c}.items()}
    return trace, x


def test_gate_summary_measures_the_gates_where_the_text_says():
    trace, x = gate_trace()
    s = nb.gate_summary(trace, x, [0, 1])
    assert s[0]["f_after"] == pytest.approx(0.999) and s[0]["i_marks"] == pytest.approx(0.8)
    assert s[0]["i_other"] == pytest.approx(0.01)
    assert s[0]["move_marks"] == pytest.approx(0.5) and s[0]["move_other"] == 0
    assert s[1]["move_other"] == pytest.approx(0.01)
    assert nb.a_unit_stores_the_sum(s).holds and nb.stores_move_at_the_marks(s).holds
    table = nb.gate_table(s, torch.tensor([0.99, -0.5]))._repr_markdown_()
    assert "| 0 | +0.990 | 0.999 | 0.800 | 0.010 | 0.500 | 0.0000 |" in table


def test_no_store_when_the_forget_gate_leaks_or_the_input_gate_does_not_open():
    for trace, x in (gate_trace(store_f=0.9), gate_trace(store_i_marks=0.05)):
        s = nb.gate_summary(trace, x, [0, 1])
        assert not nb.a_unit_stores_the_sum(s).holds and not nb.stores_move_at_the_marks(s).holds


def test_in_distribution_names_what_fails():
    values = [0.5] * 100
    assert nb.in_distribution(values, (5, 62), 100).holds
    claim = nb.in_distribution([-0.5] + values[1:] + [0.1], (5, 20), 100)
    assert not claim.holds and claim.evidence == "fails: length, values in [0, 1], one mark in each half"
    table = nb.distribution_table(values, (5, 62), 100)._repr_markdown_()
    assert "| marks one in each half | yes | yes |" in table


def test_mean_forget_gate_of_a_torch_lstm():
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(2, 8, batch_first=True)
    with torch.no_grad():
        for p in lstm.parameters():
            p.zero_()
        lstm.bias_ih_l0[8:16] = 3.0  # the forget gate's bias: sigma(3) everywhere
    assert nb.mean_forget_gate(lstm, torch.rand(1, 5, 2)) == pytest.approx(torch.sigmoid(torch.tensor(3.0)).item())


def test_survival_and_answers():
    curves = {"RNN": torch.tensor([1.0, 1e-3]), "LSTM": torch.tensor([2.0, 0.0]), "biased": torch.tensor([1.0, 3.0])}
    assert "| LSTM | 1 | 0 |" in nb.survival_table(curves)._repr_markdown_()
    assert nb.longest_memory(curves, "biased").holds and not nb.longest_memory(curves, "RNN").holds
    table = nb.answers_table({"lstm": 0.9}, 1.0, {"lstm": 0.0025})._repr_markdown_()
    assert "| lstm | 0.900 | 1.000 | -0.100 | 0.050 |" in table


@pytest.mark.parametrize("name", ["adding-problem.ipynb", "your-sequence.ipynb"])
def test_the_notebooks_state_results_in_markdown_and_check_them_in_code(name):
    """No result sentence is built in a code cell, every check is one `nb.require`, and ± is defined."""
    cells = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    text = " ".join(" ".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown").split())
    assert not any("Markdown(" in c for c in code), "results come as tables and checks, not built sentences"
    assert any("nb.require(" in c for c in code)
    if "±" in "\n".join(code) + text or "site_runs_table" in "\n".join(code):
        assert "95 % confidence interval of the mean" in text
