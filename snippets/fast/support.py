"""What the hand-written loops can take: the calls they compute exactly as the step functions would.

`snippets.fast` asks `plain_autograd` before it hands a layer to a twin; `snippets.fast.bptt`'s
backward raises `FastPathError` where it is asked for what it cannot do. Both read here whether a
`torch.func` transform is running, which torch answers only through private functions.
"""

from __future__ import annotations

import torch
from torch import Tensor


class FastPathError(RuntimeError):
    """The hand-written backward pass was asked for what it cannot do: be differentiated, or run under vmap."""


def plain_autograd(tensors: tuple[Tensor, ...], record: bool) -> bool:
    """Whether the call is one the hand-written loops compute exactly as the step functions would."""
    if record and torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        return False  # the twin's traces carry no gradient; the step functions' do
    if torch.jit.is_tracing() or functorch_transforms_active():
        return False  # a custom autograd.Function is opaque to both
    if torch.is_autocast_enabled(tensors[0].device.type):
        return False  # the step functions run in the autocast dtype; the oneDNN products would not
    # forward-mode AD: a custom Function without a jvp formula
    return all(torch.autograd.forward_ad.unpack_dual(t).tangent is None for t in tensors)


def functorch_transforms_active() -> bool:
    """Whether a `torch.func` transform (vmap, grad, jacrev, ...) is running.

    torch has no public test for this; `torch.autograd.Function.apply` itself asks
    `torch._C._are_functorch_transforms_active()`. Where that is gone, say yes: the step
    functions then always run, and `tests/test_fast_paths.py` (which needs the twin taken) fails.
    """
    check = getattr(torch._C, "_are_functorch_transforms_active", None)
    return True if check is None else bool(check())


def batched(tensors: tuple[Tensor | None, ...]) -> bool:
    """Whether any of `tensors` carries a hidden batch dimension of `vmap` (as `torch.func`'s
    transforms, and `torch.autograd.grad(..., is_grads_batched=True)`, pass them).

    Private too: `torch._C._functorch` asks each tensor; where it is gone, say no (the loops then
    meet vmap as they are, and `tests/test_fast_paths.py`, which expects a clear error, fails).
    """
    functorch = getattr(torch._C, "_functorch", None)
    tests = [getattr(functorch, name, None) for name in ("is_batchedtensor", "is_legacy_batchedtensor")]
    return any(test(t) for t in tensors if isinstance(t, Tensor) for test in tests if test is not None)
