"""Clear errors for bad input: each names what was expected and what came."""

from __future__ import annotations

import numbers

from torch import Tensor


class RNNInputError(ValueError, RuntimeError):
    """Bad input to a cell or sequence module.

    torch.nn raises ValueError for some of these conditions and RuntimeError for others;
    deriving from both keeps code written against torch.nn (`except RuntimeError`) working.
    """


def check_size(name: str, value, minimum: int) -> None:
    """`value` must be an int (not a bool) of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"expected {name} to be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"expected {name} >= {minimum}, got {value}")


def check_dims(what: str, tensor: Tensor, allowed: tuple[int, ...]) -> None:
    """`tensor` must be a Tensor with one of the `allowed` numbers of dimensions."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"expected {what} to be a Tensor, got {type(tensor).__name__}")
    if tensor.dim() not in allowed:
        dims = " or ".join(f"{d}-D" for d in allowed)
        raise RNNInputError(f"expected {what} to be {dims}, got {tensor.dim()}-D of shape {tuple(tensor.shape)}")
