r"""Opt-in fast paths for `snippets.LSTM` and `snippets.GRU`, behind one switch: `use(path)`.

By default the sequence modules run the step functions of `snippets.cells`, the code the pages
show, and `torch.autograd` differentiates them. Inside `with snippets.fast.use("bptt"):` an `LSTM`
(without projection) or a `GRU` on a padded batch runs a faster twin of its time loop instead:

- `"bptt"`: `snippets.fast.bptt`, the backward pass through time written by hand, every matrix
  product through oneDNN (`python -m snippets.bench` times it);
- `"compiled"`: the same equations through `torch.compile` (`snippets.fast.compiled`; a one-off
  compile of a minute or more per sequence length).

A twin has the equations of its step function written again, for speed, so it exists only where
a test holds it equal to that step function (`tests/test_fast_paths.py`: outputs, states and
every gradient, against `torch.nn` too). What a twin gives up: its gate traces carry no gradient,
it cannot be differentiated twice, and it ignores `clamp=`; everything else falls back to the step
functions (`RNN`, projections, `PackedSequence` input, variants with their own step function).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

PATHS = ("autograd", "bptt", "compiled")

_active = "autograd"


def active() -> str:
    """The path the time loops take now: one of `PATHS`."""
    return _active


@contextlib.contextmanager
def use(path: str) -> Iterator[None]:
    """Inside the block, time loops take `path`: `"autograd"` (the default), `"bptt"` or `"compiled"`."""
    global _active
    if path not in PATHS:
        raise ValueError(f"snippets.fast.use: expected a path in {PATHS}, got {path!r}")
    before, _active = _active, path
    try:
        yield
    finally:
        _active = before


def layer_loop(step: Callable, step_args: tuple) -> Callable | None:
    """The twin of a time loop over `step` on the active path, or None to run `step` itself.

    `step_args` is what the step takes besides the input and the state: `(weight_hh, bias_hh)`,
    and `weight_hr` for an LSTM with a projection, which has no twin.
    """
    if _active == "autograd":
        return None
    from snippets.fast import bptt  # here, not above: bptt imports this module for the switch

    twin = bptt.TWINS.get(step)
    return None if twin is None or len(step_args) != 2 else twin
