"""Tested, readable PyTorch implementations of the vanilla RNN, the LSTM and the GRU.

`RNN`, `LSTM` and `GRU` are drop-in replacements for their `torch.nn` namesakes that can also
return every gate's activation (`return_gates=True`); the cells are their one-step versions.
"""

from snippets.cells import GRUCell, LSTMCell, RNNCell, gru_step, lstm_step, rnn_step
from snippets.errors import RNNInputError
from snippets.layers import GRU, LSTM, RNN, TRACE_DIMS

__all__ = [
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "RNN",
    "LSTM",
    "GRU",
    "rnn_step",
    "lstm_step",
    "gru_step",
    "RNNInputError",
    "TRACE_DIMS",
]
