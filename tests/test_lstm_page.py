"""The LSTM cell page and the backpropagation page: the code they show (`snippets.lstm_paths`; how
`include.source` shows it is tested in tests/test_include.py), their experiments at small sizes,
their figures, and that their claims are checks that can fail. The claims on the real results run
in the `site` tests at the end."""

import copy
import math

import numpy as np
import pytest
import torch

from snippets import LSTM, figures, gradients, lstm_paths
from snippets import experiments as E
from snippets.cells import lstm_step
from snippets.figures import lstm as L
from snippets.figures import lstm_backprop as B
from snippets.figures import lstm_diagram as D

F64 = dict(dtype=torch.float64)

# --------------------------------------------------------------------------------------
# snippets.lstm_paths
# --------------------------------------------------------------------------------------


def _step_inputs(seed=0, batch=3, hidden=4):
    g = torch.Generator().manual_seed(seed)
    xw = torch.randn(batch, 4 * hidden, generator=g, **F64)
    h, c = torch.randn(batch, hidden, generator=g, **F64), torch.randn(batch, hidden, generator=g, **F64)
    weight, bias = torch.randn(4 * hidden, hidden, generator=g, **F64), torch.randn(4 * hidden, generator=g, **F64)
    return xw, h.requires_grad_(), c.requires_grad_(), weight, bias


@pytest.mark.parametrize("cut", ["", "g", "i", "ifgo"])
def test_cut_step_has_lstm_steps_forward_values(cut):
    xw, h, c, weight, bias = _step_inputs()
    (h1, c1), gates1 = lstm_paths.lstm_step_cut(xw, h, c, weight, bias, cut)
    (h2, c2), gates2 = lstm_step(xw, h, c, weight, bias)
    torch.testing.assert_close((h1, c1, *gates1), (h2, c2, *gates2), rtol=0, atol=1e-15)


def test_uncut_step_has_lstm_steps_gradient_and_a_full_cut_leaves_only_the_cell():
    xw, h, c, weight, bias = _step_inputs()
    out = lambda step, *a: step(*a)[0][1].sum()  # noqa: E731  (the new cell state)
    full = torch.autograd.grad(out(lstm_step, xw, h, c, weight, bias), (h, c))
    uncut = torch.autograd.grad(out(lstm_paths.lstm_step_cut, xw, h, c, weight, bias, ""), (h, c))
    torch.testing.assert_close(uncut, full)
    d_h = torch.autograd.grad(out(lstm_paths.lstm_step_cut, xw, h, c, weight, bias, "ifgo"), h, allow_unused=True)[0]
    assert d_h is None or torch.all(d_h == 0)  # no route from h_{t-1} into the cell is left
    with pytest.raises(ValueError, match="expected cut made of the gate names"):
        lstm_paths.lstm_step_cut(xw, h, c, weight, bias, "x")


def test_cell_gradient_paths_match_the_gradient_measurement():
    config = E.CellGradientConfig(T=15, hidden_size=6, input_size=3, batch=4, seeds=2)
    layer, x, w = E.gradient_flow._fresh_lstm(config, 0, 1.0)
    measured = gradients.measure("lstm", 15, 6, 3, 4, seed=0, forget_bias=1.0)["norms"]
    torch.testing.assert_close(lstm_paths.cell_gradient_norms(layer, x, w, ""), measured["c"], rtol=1e-10, atol=0)
    cell = lstm_paths.cell_gradient_norms(layer, x, w, lstm_paths.TRUNCATED)
    torch.testing.assert_close(cell, measured["cell_path"], rtol=1e-8, atol=1e-300)


def test_truncation_agrees_at_the_last_step_and_differs_before_it():
    torch.manual_seed(0)
    layer, readout = LSTM(2, 5, batch_first=True).double(), torch.nn.Linear(5, 1).double()
    x, y = torch.randn(4, 12, 2, **F64), torch.randn(4, 1, **F64)
    full = lstm_paths.loss_gradients(layer, readout, x, y, "")
    cut = lstm_paths.loss_gradients(layer, readout, x, y, lstm_paths.TRUNCATED)
    torch.testing.assert_close(full["x"][:, -1], cut["x"][:, -1])
    assert not torch.allclose(full["x"][:, 0], cut["x"][:, 0])
    assert not torch.allclose(full["weight_hh"], cut["weight_hh"])
    with pytest.raises(ValueError, match="one-layer, one-direction LSTM"):
        lstm_paths.unroll(torch.nn.GRU(2, 5, batch_first=True), x)


# --------------------------------------------------------------------------------------
# The experiments at small sizes
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_gradients():
    return E.gradient_decay_lstm(E.CellGradientConfig(T=20, hidden_size=8, batch=4, seeds=3), cache=False)


@pytest.fixture(scope="module")
def small_truncated():
    return E.truncated_gradient(E.TruncatedConfig(T=20, hidden_size=6, batch=16, seeds=3), cache=False)


def test_gradient_decay_lstm_reports_every_path_per_seed(small_gradients):
    result = small_gradients
    assert result["seeds"] == [0, 1, 2] and set(result["curves"]) == {"0.0", "1.0", "3.0"}
    curves = result["curves"]["1.0"]
    assert set(curves) == {*E.gradient_flow.CELL_PATHS, "mean_f"}
    assert np.asarray(curves["all"]).shape == (3, 20) and np.asarray(result["rnn"]["per_seed"]).shape == (3, 20)
    assert all(0.6 < f < 0.85 for f in curves["mean_f"])  # sigma(1) = 0.73


def test_truncated_gradient_experiment_shape(small_truncated):
    runs = small_truncated["runs"]["0.0"]
    assert len(runs) == 3 and len(runs[0]["x_full"]) == 20
    assert runs[0]["x_full"][0] == pytest.approx(runs[0]["x_truncated"][0], rel=1e-12)
    assert -1 <= runs[0]["cosine"] <= 1 and runs[0]["norm_ratio"] > 0


# --------------------------------------------------------------------------------------
# Figures: deterministic, phone variants that fit, and the diagram's stages
# --------------------------------------------------------------------------------------


def _hand_set_trace(seed: int = 0, T: int = 40) -> dict:
    """The hand-set integrating LSTM (below) on one adding-problem sequence, traced as the page traces its
    trained network, with the fields `carry_trace` adds."""
    from snippets.tasks import AddingProblem

    x, _ = AddingProblem(T=T).sample(1, torch.Generator().manual_seed(seed))
    trace = L.trace_sequence(_integrating_lstm(), x[0])
    trace.update(unit=2, seed=seed, model="lstm_fb1")
    return trace


def test_trace_sequence_is_torch_nn_on_the_same_weights_and_reads_out_the_answer():
    state = _integrating_lstm()
    trace = _hand_set_trace()
    reference = torch.nn.LSTM(2, 4, batch_first=True).double()
    reference.load_state_dict({k.removeprefix("rnn."): v.double() for k, v in state.items() if k.startswith("rnn.")})
    out, (h_n, c_n) = reference(torch.as_tensor(trace["x"])[None])
    np.testing.assert_allclose(trace["h"], out[0].detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(trace["c"][-1], c_n[0, 0].detach().numpy(), rtol=0, atol=1e-12)
    readout = float(out[0, -1].detach() @ state["readout.weight"][0].double() + state["readout.bias"][0])
    assert trace["answer"] == pytest.approx(readout, abs=1e-12)
    assert len(trace["marks"]) == 2 and trace["target"] == pytest.approx(trace["x"][trace["marks"], 0].sum())
    with pytest.raises(ValueError, match=r"one adding-problem sequence of shape \(time, 2\)"):
        L.trace_sequence(state, np.zeros((3, 40, 2)))


def test_step_values_show_the_write_at_the_first_mark_and_obey_the_equations():
    trace = _hand_set_trace()
    first = trace["marks"][0]
    values = L.lstm_step_values(trace=trace)  # by default: the carrying unit at its first mark
    assert (values["step"], values["unit"]) == (first, 2)
    assert values["x"] == [pytest.approx(trace["x"][first, 0]), 1.0] and len(values["h_prev"]) == 4
    assert values["i"] > 0.99 and values["f"] > 0.999  # the hand-set unit opens at the mark and keeps
    assert values["g"] == pytest.approx(math.tanh(values["x"][0]), abs=1e-12)  # its candidate is the value
    assert values["c_prev"] == pytest.approx(float(trace["c"][first - 1, 2]))
    assert values["c"] == pytest.approx(values["fc"] + values["ig"], abs=1e-12)
    assert L.step_numbers_add_up(trace=trace).holds
    later = L.lstm_step_values(step=first + 1, trace=trace)
    assert later["i"] < 0.01 and later["c_prev"] == pytest.approx(values["c"])  # shut again, holding
    with pytest.raises(ValueError, match=r"step an int in \[0, 40\)"):
        L.lstm_step_values(step=40, trace=trace)
    with pytest.raises(ValueError, match=r"unit an int in \[0, 4\)"):
        L.lstm_step_values(unit=4, trace=trace)


def test_cell_diagram_writes_in_the_values_and_highlights_one_stage():
    values = L.lstm_step_values(trace=_hand_set_trace())
    fig = D.plot_lstm_cell(values)
    text = " ".join(t.get_text() for t in fig.axes[0].texts)
    for key in ("f", "i", "g", "o", "c", "h", "c_prev", "fc", "ig"):
        assert f"{values[key]:+.2f}" in text, key
    assert "4 values" in text and f"= ({values['x'][0]:.2f}".rstrip("0") in text  # h_{t-1} summed up, x_t whole
    assert values["title"] in text
    faded = [t.get_alpha() for t in D.plot_lstm_cell(values, highlight="forget").axes[0].texts]
    assert 1.0 in faded and min(a for a in faded if a is not None) < 0.5
    with pytest.raises(ValueError, match="expected highlight one of"):
        D.plot_lstm_cell(values, highlight="remember")
    assert figures.svg_html(fig, "Cell.") == figures.svg_html(D.plot_lstm_cell(values), "Cell.")


def test_carry_sequences_picks_the_first_sequences_with_an_early_first_mark():
    x = np.zeros((6, 20, 2))
    for s, (first, second) in enumerate([(7, 15), (2, 12), (0, 10), (5, 18), (4, 11), (1, 19)]):
        x[s, [first, second], 1] = 1
    assert L.carry_sequences(x, n=3, within=5) == [1, 2, 4]
    assert L.carry_sequences(x, n=1, within=1) == [2]
    with pytest.raises(ValueError, match="expected 5 sequences with a first mark in their first 5 steps, found 4"):
        L.carry_sequences(x, n=5, within=5)
    with pytest.raises(ValueError, match=r"shape \(sequence, time, 2\)"):
        L.carry_sequences(x[..., 0])


def test_carry_facts_read_the_shown_network_on_the_sequences_it_shows():
    result = {
        "T": 40,
        "cells": {
            "lstm_fb1": {"runs": [{"status": "solved", "config": {"seed": 0}, "state_dict": _integrating_lstm()}]},
            "lstm": {"runs": []},
        },
    }
    facts = L.carry_facts(result)
    x = L.adding_memory(result)["shown"]["traces"]["x"]
    shown = L.carry_sequences(x)
    assert facts["first_values"] == ", ".join(f"{x[s, np.flatnonzero(x[s, :, 1])[0], 0]:.2f}" for s in shown)
    assert facts["order_kept"] is True  # the hand-set unit holds each first value, so their order holds
    assert facts["f_gap"].startswith("3.") and facts["f_gap"].endswith("10⁻⁴")  # 1 - sigmoid(8) = 3.4e-4
    trace = L.carry_trace(result)
    assert trace["sequence"] == shown[0] and facts["first_step"] == str(trace["marks"][0])
    assert facts["answer"] == f"{trace['answer']:.2f}" and facts["target"] == f"{trace['target']:.2f}"


def test_narrow_figures_fit_a_phone(small_gradients, small_truncated):
    narrow = [
        D.plot_lstm_cell(L.lstm_step_values(trace=_hand_set_trace()), narrow=True),
        D.plot_backward_paths(narrow=True),
        D.plot_backward_paths(narrow=True, below="truncated"),
        L.plot_cell_gradient(small_gradients, narrow=True),
        B.plot_truncated(small_truncated, narrow=True),
    ]
    for fig in narrow:
        assert fig.get_size_inches()[0] <= figures.PHONE_WIDTH


def test_backward_paths_below_the_full_gradient_show_the_rnn_or_the_cut_loop():
    def texts(fig):
        return [t.get_text() for t in fig.axes[0].texts]

    rnn, cut = D.plot_backward_paths(), D.plot_backward_paths(below="truncated")
    assert any("W_{hh}" in t for t in texts(rnn)) and "✕" not in texts(rnn)
    assert texts(cut).count("✕") == 2 and not any("W_{hh}" in t for t in texts(cut))
    assert sum("via the gates" in t for t in texts(cut)) == 4  # the loop, drawn above and cut below
    with pytest.raises(ValueError, match="expected below 'rnn' or 'truncated'"):
        D.plot_backward_paths(below="gru")


def test_gradient_figure_draws_the_geometric_mean_of_each_path(small_gradients):
    fig = L.plot_cell_gradient(small_gradients)
    for ax, bias in zip(fig.axes, small_gradients["forget_biases"]):
        lines = {line.get_label(): line for line in ax.get_lines()}
        for path, (label, _, _) in L.PATH_STYLES.items():
            expected = 10 ** np.log10(np.asarray(small_gradients["curves"][str(bias)][path])).mean(0)
            np.testing.assert_allclose(lines[label].get_ydata(), expected, rtol=1e-10)


# --------------------------------------------------------------------------------------
# Claims are checks: they fail on data that contradicts them
# --------------------------------------------------------------------------------------


def test_gradient_claims_fail_on_contradicting_data(small_gradients):
    broken = copy.deepcopy(small_gradients)
    top = broken["curves"][str(max(broken["forget_biases"]))]
    top["all"] = [list(np.asarray(c) * np.exp(-0.5 * np.arange(len(c)))) for c in top["all"]]  # now it shrinks
    assert not L.high_bias_gradient_grows(broken).holds
    broken["curves"]["1.0"]["no_candidate"] = broken["curves"]["1.0"]["all"]  # the cut removed nothing
    assert not L.candidate_loop_carries_the_extra(broken).holds
    broken["curves"]["0.0"]["mean_f"] = [0.9] * len(broken["seeds"])
    assert not L.cell_path_follows_the_forget_gates(broken).holds


def test_truncation_claims_fail_on_contradicting_data(small_truncated):
    broken = copy.deepcopy(small_truncated)
    for run in broken["runs"]["0.0"]:
        run["cosine"] = 0.5
    assert not B.truncation_keeps_the_direction_at_low_bias(broken).holds
    for run in broken["runs"]["3.0"]:
        run["cosine"] = 0.9  # closer than at bias 0 now
    assert not B.truncation_differs_more_at_high_bias(broken).holds
    run = broken["runs"]["1.0"][0]
    run["x_truncated"] = [2 * v for v in run["x_full"]]
    assert not B.truncated_gradient_is_smaller_far_back(broken).holds
    assert not B.last_input_gradients_agree(broken).holds


def test_hand_written_backward_equals_autograd_on_a_small_problem():
    result = B.bptt_against_autograd(seed=0, sizes={"T": 4, "batch": 2, "input": 3, "hidden": 3})
    assert set(result["difference"]) == {"x", "h0", "c0", "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}
    assert max(result["difference"].values()) < 1e-12 < result["largest"]


def test_candidate_claims_fail_on_contradicting_data():
    result = {"scales": [1.0, 2.0, 4.0], "steps": 3, "forget_bias": 1.0, "seeds": [0, 1], "runs": {}}
    run = lambda write, c, sat: {"max_write": [write], "mean_abs_c": [c] * 3, "saturated": [sat] * 3}  # noqa: E731
    result["runs"]["tanh"] = {str(s): [run(1.2, 0.5, 0.0)] * 2 for s in result["scales"]}  # a write above 1
    result["runs"]["relu"] = {str(s): [run(20 * s, 3.0 * s, 0.05 * s)] * 2 for s in result["scales"]}
    assert not L.tanh_candidate_stays_bounded(result).holds
    assert L.relu_writes_grow_with_the_input(result).holds


# --------------------------------------------------------------------------------------
# The pages' claims on the results they show (site tests: full-size experiments)
# --------------------------------------------------------------------------------------

PAGE_CLAIMS = [
    L.cell_path_follows_the_forget_gates,
    L.all_paths_exceed_the_cell_path,
    L.high_bias_gradient_grows,
    L.candidate_loop_carries_the_extra,
    L.lstm_outlasts_the_rnn,
    L.tanh_candidate_stays_bounded,
    L.relu_writes_grow_with_the_input,
    B.hand_written_equals_autograd,
    B.truncation_keeps_the_direction_at_low_bias,
    B.truncation_differs_more_at_high_bias,
    B.truncated_gradient_is_smaller_far_back,
    B.last_input_gradients_agree,
]


@pytest.mark.site
@pytest.mark.parametrize("claim", PAGE_CLAIMS, ids=lambda c: c.__name__)
def test_page_claims_hold_on_the_pages_results(claim):
    found = claim()
    assert found.holds, f"{claim.__name__}: {found.evidence}"


def _integrating_lstm(hidden: int = 4) -> dict:
    """A hand-set adding-problem LSTM whose unit 2 writes the marked value at the marks and keeps it."""
    g = torch.Generator().manual_seed(0)
    w_ih, w_hh = 0.1 * torch.randn(4 * hidden, 2, generator=g), 0.1 * torch.randn(4 * hidden, hidden, generator=g)
    b_ih, b_hh = torch.zeros(4 * hidden), torch.zeros(4 * hidden)
    u = 2
    i, f, c, o = u, hidden + u, 2 * hidden + u, 3 * hidden + u
    w_hh[[i, f, c, o]] = 0
    w_ih[i] = torch.tensor([0.0, 12.0])  # the input gate opens at a mark only
    b_ih[i] = -6.0
    w_ih[f] = 0.0
    b_ih[f] = 8.0  # forget gate near 1
    w_ih[c] = torch.tensor([1.0, 0.0])  # the candidate is the value
    return {
        "rnn.weight_ih_l0": w_ih,
        "rnn.weight_hh_l0": w_hh,
        "rnn.bias_ih_l0": b_ih,
        "rnn.bias_hh_l0": b_hh,
        "readout.weight": torch.zeros(1, hidden),
        "readout.bias": torch.zeros(1),
    }


def test_adding_unit_finds_the_unit_that_holds_the_first_value():
    found = L.trace_adding_unit(_integrating_lstm(), T=40, seed=0, n=256)
    assert found["unit"] == 2 and abs(found["corr"]) > 0.95
    assert found["f_hold"] > 0.99 and found["i_marks"] > 10 * found["i_else"]
    assert found["traces"]["c"].shape == (40, 256) and all(20 < s <= 40 for s in found["steps_back"])  # first half
    assert L.adding_unit(_integrating_lstm(), 40, 0, 256) is L.adding_unit(_integrating_lstm(), 40, 0, 256)
