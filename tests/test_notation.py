"""The notation tables are complete, and the measured gate orders are PyTorch's."""

import pytest
import torch

import snippets
from snippets import notation, variants


@pytest.mark.parametrize(
    "rows, sources",
    [(notation.LSTM_SYMBOLS, notation.LSTM_SOURCES), (notation.GRU_SYMBOLS, notation.GRU_SOURCES)],
)
def test_every_row_names_every_source(rows, sources):
    assert set(sources) <= set(notation.SOURCES)
    for quantity, symbols in rows:
        assert len(symbols) == len(sources), quantity
    table = notation.symbol_table(rows, sources)
    assert table.count("\n") == len(rows) + 1 and all(s in table for s in sources)


@pytest.mark.parametrize(
    "cls, expected",
    [
        (snippets.LSTM, ["i", "f", "g", "o"]),
        (snippets.GRU, ["r", "z", "n"]),
        (variants.CoupledLSTM, ["f", "g", "o"]),
        (variants.ChoGRU, ["r", "z", "n"]),
    ],
)
def test_measured_gate_order(cls, expected):
    assert notation.gate_order(cls) == expected


def test_pytorch_column_matches_the_trace_names():
    pytorch = notation.LSTM_SOURCES.index("PyTorch")
    lstm = {row[0]: row[1][pytorch] for row in notation.LSTM_SYMBOLS}
    assert [lstm[q] for q in ("input gate", "forget gate", "candidate (cell input)", "output gate")] == [
        f"${g}_t$" for g in notation.gate_order(snippets.LSTM)
    ]


def test_measured_order_agrees_with_torch_nn_weights():
    """Loading torch.nn.LSTM's weights, block 1 of bias_ih is what our forget gate sees."""
    theirs = torch.nn.LSTM(1, 2)
    ours = snippets.LSTM(1, 2)
    with torch.no_grad():
        theirs.bias_ih_l0.zero_(), theirs.bias_hh_l0.zero_(), theirs.weight_ih_l0.zero_()
        theirs.bias_ih_l0[2:4] = 5.0
    ours.load_state_dict(theirs.state_dict())
    *_, tr = ours(torch.zeros(1, 1, 1), return_gates=True)
    assert torch.allclose(tr["f"], torch.sigmoid(torch.tensor(5.0)))
