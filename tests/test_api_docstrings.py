"""The docstrings the API page renders say what the code does: each module's states, the `clamp=`
it takes (its example is run here as written), and the cells' equations without the step
functions' extras; and the page documents every public name of the package."""

import ast
import inspect
import re
from pathlib import Path

import pytest
import torch

import snippets

API_PAGE = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def doc(obj) -> str:
    return inspect.getdoc(obj)


@pytest.mark.parametrize("cls, has_cell", [(snippets.RNN, False), (snippets.GRU, False), (snippets.LSTM, True)])
def test_only_the_lstm_speaks_of_a_cell_state(cls, has_cell):
    assert ("c_t" in doc(cls)) == has_cell


@pytest.mark.parametrize("cls", [snippets.LSTM, snippets.GRU])
def test_the_clamp_example_of_the_docstring_does_what_the_docstring_says(cls):
    text = doc(cls)
    line = next(line for line in text.splitlines() if line.lstrip().startswith("- `clamp`"))
    pin = ast.literal_eval(re.search(r"`(\{.*?\})`", text[text.index(line) :], re.S).group(1))
    assert pin["gate"] in cls.gates and all(f"`{gate}`" in text for gate in cls.gates)
    first, stop = re.search(r"at\s+steps (\d+) to (\d+)", text).groups()
    assert (int(first), int(stop) + 1) == (pin["from"], pin["to"]), "the words and the example disagree"

    torch.manual_seed(0)
    module = cls(3, 5).double()
    x = torch.randn(30, 2, 3, dtype=torch.float64)
    _, _, traces = module(x, return_gates=True, clamp=[pin])
    unit = traces[pin["gate"]][0, 0, :, :, pin["unit"]]  # (time, batch)
    inside = unit[pin["from"] : pin["to"]]
    assert torch.equal(inside, torch.full_like(inside, pin["value"]))
    outside = torch.cat([unit[: pin["from"]], unit[pin["to"] :]])
    assert (outside != pin["value"]).all(), "the clamp reached steps outside from..to-1"


def test_the_rnn_says_it_takes_no_clamp_and_refuses_one():
    assert "not taken" in doc(snippets.RNN)
    pin = {"gate": "h", "unit": 0, "from": 0, "to": 1, "value": 1.0}
    with pytest.raises(snippets.RNNInputError, match="clamp"):
        snippets.RNN(3, 5)(torch.randn(4, 2, 3), clamp=[pin])


@pytest.mark.parametrize(
    "cell, step",
    [
        (snippets.RNNCell, snippets.rnn_step),
        (snippets.LSTMCell, snippets.lstm_step),
        (snippets.GRUCell, snippets.gru_step),
    ],
)
def test_a_cell_shows_its_steps_equations_and_not_the_steps_extras(cell, step):
    equations = re.search(r"\$\$.*\$\$", doc(step), re.S).group(0)
    assert equations in doc(cell)
    assert "clamp" not in doc(cell) and "Returns" not in doc(cell)
    assert "clamp" not in inspect.signature(cell.forward).parameters


def test_the_api_page_documents_every_public_name():
    page = API_PAGE.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\s*::: snippets\.(?:\w+\.)*?(\w+)\s*$", page, re.M))
    public = {name for name in snippets.__all__ if callable(getattr(snippets, name))}
    assert public - documented == set(), f"not on the API page: {sorted(public - documented)}"
