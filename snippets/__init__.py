"""Tested, readable PyTorch implementations of the vanilla RNN, the LSTM, the GRU and their successors.

`RNN`, `LSTM` and `GRU` are drop-in replacements for their `torch.nn` namesakes that can also
return every gate's activation (`return_gates=True`) and pin gates to a value (`clamp=`); the
cells are their one-step versions. `MinGRU`, `MinLSTM` (Feng et al. 2024) and `SLSTM` (Beck et al.
2024) are the gated recurrences of the 2020s.

`snippets.fast` (the opt-in faster twins) is machinery the models do not import: the name loads it
on first use, and it then registers its twins with `snippets.layers`.
"""

from snippets.cells import GRUCell, LSTMCell, RNNCell, gru_step, lstm_step, rnn_step
from snippets.errors import RNNInputError
from snippets.layers import GRU, LSTM, RNN, TRACE_DIMS
from snippets.min_rnn import MinGRU, MinLSTM
from snippets.slstm import SLSTM

__all__ = [
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "RNN",
    "LSTM",
    "GRU",
    "MinGRU",
    "MinLSTM",
    "SLSTM",
    "rnn_step",
    "lstm_step",
    "gru_step",
    "RNNInputError",
    "TRACE_DIMS",
]


def __getattr__(name: str):
    """`snippets.fast` on first use (PEP 562), so that `import snippets` loads none of the machinery."""
    if name == "fast":
        import snippets.fast as fast  # not `from snippets import fast`: that asks this function again

        return fast
    raise AttributeError(f"module 'snippets' has no attribute {name!r}")
