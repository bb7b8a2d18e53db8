"""Input, state and output plumbing shared by the one-layer modern modules (minGRU, minLSTM, sLSTM).

Layouts follow torch.nn: input `(T, B, I)`, or `(B, T, I)` with `batch_first`, or unbatched
`(T, I)`. These modules are one layer in one direction, so a state has no layer dimension:
`(B, H)` for batched input, `(H,)` for unbatched. Traces are `(T, B, H)`, time first whatever
`batch_first` says, with batch size 1 for unbatched input.
"""

from __future__ import annotations

from torch import Tensor

from snippets.errors import RNNInputError, check_input, check_state

TRACE_DIMS = ("time", "batch", "hidden")


def time_major(name: str, input: Tensor, input_size: int, dtype, batch_first: bool) -> tuple[Tensor, bool]:
    """`input` checked and made `(T, B, I)`, and whether it was batched."""
    check_input(name, input, (2, 3), input_size, dtype)
    batched = input.dim() == 3
    x = input.transpose(0, 1) if batched and batch_first else input
    x = x if batched else x.unsqueeze(1)
    if x.shape[0] == 0:
        raise RNNInputError(
            f"{name}: expected a sequence of at least one time step, got input of shape {tuple(input.shape)}"
        )
    return x, batched


def for_input(batched: bool) -> str:
    """The input a state goes with, as the messages of `snippets.errors.check_state` name it."""
    return "batched 3-D input" if batched else "unbatched 2-D input"


def initial_state(
    name: str, what: str, given: Tensor | None, like: Tensor, hidden: int, batched: bool, fill: float = 0.0
) -> Tensor:
    """A given state checked against the time-major input `like`, or `fill`; always `(B, H)`."""
    batch = like.shape[1]
    if given is None:
        return like.new_full((batch, hidden), fill)
    check_state(name, what, given, (batch, hidden) if batched else (hidden,), like.dtype, for_input(batched))
    return given if batched else given.unsqueeze(0)


def caller_layout(output: Tensor, state: tuple[Tensor, ...], batched: bool, batch_first: bool):
    """A time-major output and `(B, H)` states back to the layout the input came in."""
    if not batched:
        return output.squeeze(1), tuple(s.squeeze(0) for s in state)
    return (output.transpose(0, 1) if batch_first else output), state


def check_choice(name: str, what: str, value, choices: tuple) -> None:
    if value not in choices:
        expected = " or ".join(repr(c) for c in choices)
        raise RNNInputError(f"{name}: expected {what} {expected}, got {value!r}")
