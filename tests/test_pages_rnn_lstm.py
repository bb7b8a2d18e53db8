"""The RNN and LSTM cell pages' own code: `snippets.candidate`, the `candidate_growth` experiment,
and what the built pages show (figures, included source, numbers printed from the experiments)."""

from pathlib import Path

import numpy as np
import pytest
import torch
from bs4 import BeautifulSoup

from snippets import candidate, interpret
from snippets import experiments as E
from snippets.cells import lstm_step, rnn_step
from snippets.seeding import data_generator
from snippets.tasks import Recall
from snippets.train import SequenceModel

# --------------------------------------------------------------------------------------
# snippets.candidate: the candidate's nonlinearity
# --------------------------------------------------------------------------------------


def test_the_candidate_argument_changes_only_the_candidate():
    torch.manual_seed(0)
    xw, h, c = torch.randn(5, 16, dtype=torch.float64), torch.randn(5, 4, dtype=torch.float64), torch.randn(5, 4)
    c = c.double()
    weight_hh, bias_hh = torch.randn(16, 4, dtype=torch.float64), torch.randn(16, dtype=torch.float64)
    _, (i, f, g, o) = lstm_step(xw, h, c, weight_hh, bias_hh)
    (h1, c1), (i1, f1, g1, o1) = lstm_step(xw, h, c, weight_hh, bias_hh, candidate=torch.relu)
    pre_g = (xw + torch.nn.functional.linear(h, weight_hh, bias_hh))[:, 8:12]  # as the step computes it
    assert torch.equal(g1, torch.relu(pre_g)) and not torch.equal(g1, g)
    torch.testing.assert_close(g, torch.tanh(pre_g))
    assert all(torch.equal(a, b) for a, b in ((i1, i), (f1, f), (o1, o)))  # the gates are untouched
    torch.testing.assert_close((c1, h1), (f * c + i * g1, o * torch.tanh(f * c + i * g1)), rtol=0, atol=0)


def test_relu_candidate_writes_are_never_negative():
    torch.manual_seed(1)
    xw, h, c = torch.randn(8, 12) * 5, torch.zeros(8, 3), torch.zeros(8, 3)
    (_, c1), (i, _, g, _) = lstm_step(xw, h, c, torch.randn(12, 3), None, candidate=torch.relu)
    assert (g >= 0).all() and (c1 >= 0).all() and (g > 1).any()  # unbounded above, unlike tanh


def test_cell_state_growth_is_seeded_and_bounded_for_tanh():
    tanh = candidate.cell_state_growth("tanh", input_scale=16.0, steps=40, hidden_size=8, batch=4)
    assert tanh == candidate.cell_state_growth("tanh", input_scale=16.0, steps=40, hidden_size=8, batch=4)
    assert len(tanh["mean_abs_c"]) == 40 and max(tanh["max_write"]) <= 1.0  # float32 tanh can round to 1
    # |c_t| <= |c_{t-1}| + 1 for a tanh candidate, so after t steps the mean is below t
    assert all(m < t + 1 for t, m in enumerate(tanh["mean_abs_c"]))
    relu = candidate.cell_state_growth("relu", input_scale=16.0, steps=40, hidden_size=8, batch=4)
    assert max(relu["max_write"]) > 1.0


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"candidate": "sigmoid"}, ValueError, "expected candidate 'tanh' or 'relu', got 'sigmoid'"),
        ({"candidate": "tanh", "input_scale": 0}, ValueError, "expected input_scale > 0, got 0"),
        ({"candidate": "tanh", "steps": 0}, ValueError, "expected steps >= 1, got 0"),
        ({"candidate": "tanh", "batch": 2.0}, TypeError, "expected batch to be an int"),
    ],
)
def test_cell_state_growth_rejects_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        candidate.cell_state_growth(**kwargs)


# --------------------------------------------------------------------------------------
# snippets.candidate: what a recall LSTM holds
# --------------------------------------------------------------------------------------


def untrained_recall_model(gap=3, seed=0):
    task = Recall(gap=gap)
    torch.manual_seed(seed)
    return SequenceModel("lstm", task.input_size, 6, task.output_size), task


def test_recall_traces_match_the_torch_model_they_come_from():
    model, task = untrained_recall_model()
    traces = interpret.recall_traces(model.state_dict(), gap=3, n=20, seed=4)
    x, subject = task.sample(20, data_generator(4, stream=1))
    with torch.no_grad():
        output, _ = model.rnn(x)
        logits = model.readout(output)
    np.testing.assert_allclose(traces["h"], output.transpose(0, 1).numpy(), atol=1e-6)
    np.testing.assert_array_equal(traces["subject"], subject.numpy())
    np.testing.assert_array_equal(traces["correct"], (logits[:, -1].argmax(-1) == subject).numpy())
    assert traces["c"].shape == (3 + 2, 20, 6)


def test_recall_traces_reject_other_models_and_tasks():
    task = Recall()
    other = SequenceModel("lstm", task.input_size - 2, 6, task.output_size)
    with pytest.raises(
        ValueError, match=f"weights expect input size {task.input_size - 2}, the recall task has {task.input_size}"
    ):
        interpret.recall_traces(other.state_dict(), gap=3)
    gru = SequenceModel("gru", task.input_size, 6, task.output_size)
    with pytest.raises(ValueError, match="expected an LSTM's state_dict, got one of a GRU layer"):
        interpret.recall_traces(gru.state_dict(), gap=3)
    with pytest.raises(ValueError, match="expected n >= 1, got 0"):
        interpret.recall_traces(untrained_recall_model()[0].state_dict(), gap=3, n=0)


def test_subject_variance_and_carrying_units():
    subject = np.array([0, 0, 1, 1, 2, 2])
    c = np.zeros((6, 3))
    c[:, 0] = subject * 2.0  # depends only on the subject: share 1
    c[:, 1] = [1, -1, 1, -1, 1, -1]  # independent of it: share 0
    c[:, 2] = subject * 0.1 + [0.1, -0.1] * 3
    between, share = interpret.subject_variance(c, subject)
    np.testing.assert_allclose(share[:2], [1.0, 0.0], atol=1e-12)
    assert 0 < share[2] < 1 and between[0] > between[2] > between[1]
    assert interpret.carrying_units(c, subject, 2) == [0, 2]
    over_time = interpret.subject_variance(np.stack([c, c]), subject)[1]
    assert over_time.shape == (2, 3)
    with pytest.raises(ValueError, match="expected c of shape .* with 6 sequences, got \\(5, 3\\)"):
        interpret.subject_variance(c[:5], subject)
    with pytest.raises(ValueError, match="asked for 4 units of 3"):
        interpret.carrying_units(c, subject, 4)


# --------------------------------------------------------------------------------------
# The candidate_growth experiment
# --------------------------------------------------------------------------------------


def test_candidate_growth_experiment_shape_and_effect(tmp_path, monkeypatch):
    monkeypatch.setenv("SNIPPETS_CACHE_DIR", str(tmp_path))
    config = E.CandidateConfig(scales=(1.0, 16.0), seeds=3, steps=30, hidden_size=8, batch=4)
    result = E.candidate_growth(config)
    assert result["scales"] == [1.0, 16.0] and result["steps"] == 30
    runs = result["runs"]
    assert set(runs) == {"tanh", "relu"} and all(len(runs[c]["16.0"]) == 3 for c in runs)
    assert max(max(r["max_write"]) for r in runs["tanh"]["16.0"]) <= 1.0
    assert max(max(r["max_write"]) for r in runs["relu"]["16.0"]) > 1.0
    assert E.candidate_growth(config) == result  # from the cache now
    with pytest.raises(ValueError, match="scales must be positive numbers"):
        E.candidate_growth(E.CandidateConfig(scales=(1.0, -2.0)), cache=False)


def test_candidate_growth_is_on_the_site():
    assert (E.candidate_growth, None) in E.ALL


# --------------------------------------------------------------------------------------
# The built pages
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page(built_site):
    def read(name):
        return BeautifulSoup((built_site / name / "index.html").read_text(encoding="utf-8"), "html.parser")

    return read


def article_text(soup) -> str:
    return " ".join(soup.select_one("article").get_text(" ").split())


@pytest.mark.parametrize("name, n_figures", [("rnn", 5), ("lstm-cell", 11), ("lstm-backprop", 2)])
def test_pages_show_their_figures_with_captions(page, name, n_figures):
    soup = page(name)
    # a figure drawn twice (desktop and phone) counts once
    svgs = [
        svg for svg in soup.select("figure svg.snippets-figure") if not svg.find_parent(class_="snippets-figure-narrow")
    ]
    assert len(svgs) == n_figures
    for svg in svgs:
        assert len(svg.get("aria-label", "")) > 40
        assert len(svg.find_parent("figure").find("figcaption").get_text(strip=True)) > 60
    assert "Traceback" not in soup.get_text()


def test_rnn_page_figures_come_with_a_phone_variant(page):
    figures = [f for f in page("rnn").select("figure") if f.select_one("svg.snippets-figure")]
    for figure in figures:
        assert figure.select_one(".snippets-figure-wide svg") and figure.select_one(".snippets-figure-narrow svg")


def test_rnn_page_includes_the_step_and_prints_the_runs(page):
    from snippets.figures import rnn as rnn_figures

    soup = page("rnn")
    code = " ".join(block.get_text() for block in soup.select("pre"))
    assert "def rnn_step(" in code and "NONLINEARITIES[nonlinearity]" in code
    assert "def gradient_norms(" in code  # the measurement code, in its admonition
    assert rnn_step.__name__ in code
    text = article_text(soup)
    # The numbers the page prints are the facts of this build's results...
    decay, exploding = rnn_figures.decay_facts(), rnn_figures.exploding_facts()
    for facts, keys in (
        (decay, ("norm_over_radius", "slope_small", "fit_small", "ortho_last_1_5", "rate_3")),
        (exploding, ("clipped_final", "diverged_steps", "baseline")),
    ):
        for key in keys:
            assert " ".join(facts[key].split()) in text, key
    # ...and every claim the Markdown makes is checked: one mark per claim macro.
    source = (Path(__file__).resolve().parents[1] / "docs" / "rnn.md").read_text(encoding="utf-8")
    assert len(soup.select("span.claim-checked")) == source.count('claim("rnn.')
    assert len(soup.select("article table")) >= 4  # rates, random and orthogonal, and per seed


def test_lstm_page_prints_the_numbers_and_shows_code_without_docstrings(page):
    soup = page("lstm-cell")
    text = article_text(soup)
    code = " ".join(b.get_text() for b in soup.select("pre"))
    assert "def cell_state_growth(" in code and "def lstm_step(" in code
    assert "begin{aligned}" not in code  # the docstrings the page renders are not shown again as code
    assert "snippets.interpret.carrying_units" in text and "Traceback" not in text
    # every claim the Markdown makes is checked, folded or not: one mark per claim macro
    source = (Path(__file__).resolve().parents[1] / "docs" / "lstm-cell.md").read_text(encoding="utf-8")
    assert len(soup.select(".claim-checked")) == source.count('claim("lstm.') >= 9


def test_backprop_page_shows_the_hand_written_code_and_its_check(page):
    soup = page("lstm-backprop")
    code = " ".join(b.get_text() for b in soup.select("pre"))
    assert "def lstm_backward(" in code and "def lstm_local_derivatives(" in code and "def lstm_step_cut(" in code
    assert "tests/test_fast_paths.py" in article_text(soup)
    source = (Path(__file__).resolve().parents[1] / "docs" / "lstm-backprop.md").read_text(encoding="utf-8")
    assert len(soup.select(".claim-checked")) == source.count("{{ claim(") >= 5  # one mark per claim
