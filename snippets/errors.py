"""Clear errors for bad input: each names what was expected and what came.

The checks of a module's input and state are written once, here, for the sequence modules
(`snippets.layers`), the one-layer modern modules (`snippets.sequence`) and the cells
(`snippets.cells`). Where `torch.nn` refuses the same thing, the message also carries the words of
its own error (`lstm expects two hidden states`, `must have the same dtype`), which is what users
search for.
"""

from __future__ import annotations

import numbers

from torch import Tensor


class RNNInputError(ValueError, RuntimeError):
    """Bad input to a cell or sequence module.

    torch.nn raises ValueError for some of these conditions and RuntimeError for others;
    deriving from both keeps code written against torch.nn (`except RuntimeError`) working.
    """


class RNNTypeError(TypeError, AttributeError, RuntimeError):
    """An argument of the wrong kind: a list where a tensor goes, three states where two go.

    For these torch.nn raises RuntimeError (`lstm expects two hidden states`), TypeError, or fails
    deep inside with an AttributeError (`'list' object has no attribute 'dim'`); deriving from all
    three keeps code written against torch.nn working, whichever it catches.
    """


def check_size(name: str, value, minimum: int) -> None:
    """`value` must be an int (not a bool) of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"expected {name} to be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        words = {0: "must be non-negative", 1: "must be greater than zero"}.get(minimum, f"must be at least {minimum}")
        raise ValueError(f"expected {name} >= {minimum}, got {value} ({name} {words})")


def check_tensor(what: str, value) -> None:
    """`value` must be a Tensor (torch.nn's words for a list: `'list' object has no attribute 'dim'`)."""
    if not isinstance(value, Tensor):
        kind = type(value).__name__
        raise RNNTypeError(f"expected {what} to be a Tensor, got {kind} ('{kind}' object has no attribute 'dim')")


def check_dims(what: str, tensor: Tensor, allowed: tuple[int, ...]) -> None:
    """`tensor` must be a Tensor with one of the `allowed` numbers of dimensions."""
    check_tensor(what, tensor)
    if tensor.dim() not in allowed:
        dims = " or ".join(f"{d}-D" for d in allowed)
        raise RNNInputError(f"expected {what} to be {dims}, got {tensor.dim()}-D of shape {tuple(tensor.shape)}")


def check_dtype(name: str, what: str, tensor: Tensor, dtype) -> None:
    """`tensor` must have the weights' `dtype` (torch.nn's products refuse a mix)."""
    if tensor.dtype != dtype:
        raise RNNInputError(
            f"{name}: expected {what} of dtype {dtype}, got {tensor.dtype} "
            f"(a module's tensors and weights must have the same dtype)"
        )


def check_input(name: str, input: Tensor, dims: tuple[int, ...], input_size: int, dtype, what: str = "input") -> None:
    """A module's input: a Tensor with one of `dims` dimensions, `input_size` features last, of `dtype`."""
    check_dims(f"{name} {what}", input, dims)
    if input.shape[-1] != input_size:
        raise RNNInputError(
            f"{name}: expected {what} of size {input_size} in its last dimension, "
            f"got {input.shape[-1]} ({what} shape {tuple(input.shape)})"
        )
    check_dtype(name, what, input, dtype)


def check_state(name: str, what: str, state: Tensor, expected: tuple, dtype, for_input: str) -> None:
    """A given state: a Tensor of shape `expected` and of `dtype` (any dtype if None); `for_input`
    names the input it goes with in the messages ("batched 3-D input", "input of shape (2, 4)")."""
    check_dims(f"{name} {what} for {for_input}", state, (len(expected),))
    if tuple(state.shape) != expected:
        raise RNNInputError(f"{name}: expected {what} of shape {expected} for {for_input}, got {tuple(state.shape)}")
    if dtype is not None:
        check_dtype(name, what, state, dtype)
