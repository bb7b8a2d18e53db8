r"""Opt-in fast paths for `snippets.LSTM` and `snippets.GRU`, behind one switch: `use(path)`.

By default the sequence modules run the step functions of `snippets.cells`, the code the pages
show, and `torch.autograd` differentiates them. Inside `with snippets.fast.use("bptt"):` an `LSTM`
(without projection) or a `GRU` on a padded batch runs a faster twin of its time loop instead:

- `"bptt"`: `snippets.fast.bptt`, the backward pass through time written by hand, every matrix
  product through oneDNN: a training step in about three quarters of the default path's time at
  the sizes the site trains (`snippets.fast.bptt` gives the measurement; `python -m
  snippets.bench` repeats it on your machine); inference only on large batches;
- `"compiled"`: the same equations through `torch.compile` (`snippets.fast.compiled`; a one-off
  compile of a minute or more per sequence length).

A twin has the equations of its step function written again, for speed, so it exists only where
a test holds it equal to that step function (`tests/test_fast_paths.py`: outputs, states and
every gradient, against `torch.nn` too). A twin either gives what the step functions give or is
not taken; the call then runs the step functions, as without the switch (`twin_for` decides):

- no twin for `RNN`, an LSTM with a projection, `PackedSequence` input, `clamp=` (the clamp is
  honoured), or a variant or subclass with its own step function;
- gate traces that need a gradient (`return_gates=True` while a weight or the input requires
  grad): the twin's traces are values only, so the step functions run, and a loss on the traces
  gets its gradient; traces without grad (inference, `torch.no_grad()`) come from the twin;
- `torch.jit.trace`, `torch.func` transforms (`vmap`, `grad`, ...), forward-mode AD (dual tensors)
  and `torch.autocast`, which the hand-written loops do not support.

One thing cannot be seen when the forward runs: whether its backward will itself be
differentiated (`create_graph=True`: a gradient penalty, a Hessian). The hand-written backward
is first-order only, so it raises `FastPathError` when asked to build a graph, rather than
return a gradient that is silently cut from it; and likewise when its backward runs under `vmap`
(`is_grads_batched=True`, `jacobian(..., vectorize=True)`). Run such code outside the switch.

The switch is a `contextvars.ContextVar`: it holds in the thread (or asyncio task) that set it,
until its block ends, and another thread running at the same time does not see it.

The model code does not import this package: importing it registers `twin_for` with
`snippets.layers` (`register_twins`), and `snippets.fast` is imported on first use of the name.
Here: the switch. `snippets.fast.support`: which calls a twin can take. `snippets.fast.bptt`: the
twins; `snippets.fast.compiled`: their loops for `torch.compile`, loaded only for that path.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator

from torch import Tensor

from snippets import layers
from snippets.fast.support import FastPathError, batched, functorch_transforms_active, plain_autograd

__all__ = ["PATHS", "FastPathError", "active", "batched", "functorch_transforms_active", "twin_for", "use"]

PATHS = ("autograd", "bptt", "compiled")

_active: contextvars.ContextVar[str] = contextvars.ContextVar("snippets.fast path", default="autograd")


def active() -> str:
    """The path the time loops take now, in this thread: one of `PATHS`."""
    return _active.get()


@contextlib.contextmanager
def use(path: str) -> Iterator[None]:
    """Inside the block, time loops take `path`: `"autograd"` (the default), `"bptt"` or `"compiled"`."""
    if path not in PATHS:
        raise ValueError(f"snippets.fast.use: expected a path in {PATHS}, got {path!r}")
    token = _active.set(path)
    try:
        yield
    finally:
        _active.reset(token)


def twin_for(step: Callable, step_args: tuple, tensors: tuple[Tensor | None, ...], record: bool) -> Callable | None:
    """The twin of a time loop over `step` on the active path, or None to run `step` itself.

    `step_args` is what the step takes besides the input and the state: `(weight_hh, bias_hh)`,
    and `weight_hr` for an LSTM with a projection, which has no twin. `tensors` is everything the
    layer reads (input, initial state, weights; None for a missing bias), and `record` whether
    it returns traces: see the module's docstring for when the twin is not taken, and why.
    """
    path = active()
    if path == "autograd" or len(step_args) != 2:
        return None
    from snippets.fast import bptt  # here, not above: a model without the switch never loads it

    twin = bptt.TWINS.get(step)
    if twin is None or not plain_autograd(tuple(t for t in tensors if t is not None), record):
        return None
    if path == "compiled":
        from snippets.fast import compiled  # only for this path: it needs torch.compile and a C++ compiler

        return functools.partial(twin, compiler=compiled.compiled)
    return twin


layers.register_twins(twin_for)
