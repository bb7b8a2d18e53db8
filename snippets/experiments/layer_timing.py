"""How fast `snippets.LSTM` and `snippets.GRU` are, against `torch.nn` and a naive loop.

What the reuse page's `speed` experiment runs at one size and `python -m snippets.bench` at several
(it prints the table): it lives with the experiments, and the benchmark's command line uses it.

Times a training step (forward, then backward of a scalar loss) and inference (forward under
`torch.no_grad`) for each candidate, against `torch.nn` and against a naive teaching-style loop
written below (one matrix product per gate per step). The candidates run round-robin, one call
each per round, so load from other processes spreads over all of them alike; the table gives
medians and ratios, and states the machine and its load.

Candidates: `torch.nn`; `snippets` as it runs by default (the step functions of `snippets.cells`,
differentiated by autograd); the same with gate traces recorded (`return_gates=True`); `snippets`
on the opt-in hand-written backward (`snippets.fast.use("bptt")`), with and without traces; the
naive loop; and, with `compiled`, `snippets.fast.use("compiled")`, with its one-off compile time.
With traces, a training step inside `snippets.fast.use("bptt")` runs the step functions (the
twin's traces carry no gradient, so `snippets.fast` does not take it): that row times what such a
call costs, the fallback included; inference with traces runs on the twin.
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import statistics
import time

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import snippets
from snippets import fast

BATCH, STEPS, INPUT = 32, 100, 64


# -- the baseline: a loop as a textbook writes it -------------------------------------------------


class NaiveLSTM(nn.Module):
    """One `F.linear` per gate for the input and one for the state, at every step: 8 products."""

    def __init__(self, like: nn.LSTM) -> None:
        super().__init__()
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            for gate, part in zip("ifgo", getattr(like, f"{kind}_l0").detach().chunk(4)):
                self.register_parameter(f"{kind}_{gate}", nn.Parameter(part.clone()))

    def gate(self, name: str, x: Tensor, h: Tensor) -> Tensor:
        w = lambda kind: getattr(self, f"{kind}_{name}")  # noqa: E731
        return F.linear(x, w("weight_ih"), w("bias_ih")) + F.linear(h, w("weight_hh"), w("bias_hh"))

    def forward(self, x: Tensor) -> Tensor:
        h = c = x.new_zeros(x.shape[1], self.weight_hh_i.shape[1])
        outputs = []
        for x_t in x.unbind(0):
            i = torch.sigmoid(self.gate("i", x_t, h))
            f = torch.sigmoid(self.gate("f", x_t, h))
            g = torch.tanh(self.gate("g", x_t, h))
            o = torch.sigmoid(self.gate("o", x_t, h))
            c = f * c + i * g
            h = o * torch.tanh(c)
            outputs.append(h)
        return torch.stack(outputs)


class NaiveGRU(NaiveLSTM):
    """One `F.linear` per gate for the input and one for the state, at every step: 6 products."""

    def __init__(self, like: nn.GRU) -> None:
        nn.Module.__init__(self)
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            for gate, part in zip("rzn", getattr(like, f"{kind}_l0").detach().chunk(3)):
                self.register_parameter(f"{kind}_{gate}", nn.Parameter(part.clone()))

    def forward(self, x: Tensor) -> Tensor:
        h = x.new_zeros(x.shape[1], self.weight_hh_r.shape[1])
        outputs = []
        for x_t in x.unbind(0):
            r = torch.sigmoid(self.gate("r", x_t, h))
            z = torch.sigmoid(self.gate("z", x_t, h))
            hn = F.linear(h, self.weight_hh_n, self.bias_hh_n)
            n = torch.tanh(F.linear(x_t, self.weight_ih_n, self.bias_ih_n) + r * hn)
            h = (1 - z) * n + z * h
            outputs.append(h)
        return torch.stack(outputs)


# -- candidates and timing --------------------------------------------------------------------


def candidates(
    mode: str, hidden: int, compiled: bool, input_size: int = INPUT
) -> dict[str, tuple[nn.Module, dict, object]]:
    """name -> (module, forward keyword arguments, context to run it in); all share weights."""
    theirs = getattr(nn, mode)(input_size, hidden)
    ours = getattr(snippets, mode)(input_size, hidden)
    ours.load_state_dict(theirs.state_dict())
    naive = (NaiveLSTM if mode == "LSTM" else NaiveGRU)(theirs)
    plain, traced, bptt = contextlib.nullcontext, dict(return_gates=True), functools.partial(fast.use, "bptt")
    found = {
        f"torch.nn.{mode}": (theirs, {}, plain),
        f"snippets.{mode}": (ours, {}, plain),
        f"snippets.{mode} + traces": (ours, traced, plain),
        f"snippets.{mode} bptt": (ours, {}, bptt),
        f"snippets.{mode} bptt + traces": (ours, traced, bptt),
        f"naive {mode} loop": (naive, {}, plain),
    }
    if compiled:
        found[f"snippets.{mode} compiled"] = (ours, {}, functools.partial(fast.use, "compiled"))
    return found


def train_step(module: nn.Module, x: Tensor, kwargs: dict, context, clock=time.perf_counter) -> float:
    module.zero_grad(set_to_none=True)
    start = clock()
    with context():
        out = module(x, **kwargs)
        (out[0] if isinstance(out, tuple) else out).square().mean().backward()
    return clock() - start


def inference(module: nn.Module, x: Tensor, kwargs: dict, context, clock=time.perf_counter) -> float:
    start = clock()
    with context(), torch.no_grad():
        module(x, **kwargs)
    return clock() - start


def measure(
    mode: str,
    hidden: int,
    repeats: int,
    compiled: bool,
    batch: int = BATCH,
    steps: int = STEPS,
    input_size: int = INPUT,
    clock=time.perf_counter,
) -> tuple[dict, dict]:
    """Median seconds per candidate for a training step and for inference, and compile times.

    `clock`: wall time by default; `time.process_time` counts only this process's CPU seconds,
    which other processes on a shared machine do not inflate (with one thread, it is the time the
    candidate computed).
    """
    torch.manual_seed(0)
    x = torch.randn(steps, batch, input_size)
    found = candidates(mode, hidden, compiled, input_size)
    compile_s = {}
    for name, args in found.items():  # warm up; the first compiled call compiles
        start = time.perf_counter()
        train_step(*args[:1], x, *args[1:])
        inference(*args[:1], x, *args[1:])
        if name.endswith("compiled"):
            compile_s[name] = time.perf_counter() - start
    times = {name: ([], []) for name in found}
    for _ in range(repeats):
        for name, (module, kwargs, context) in found.items():
            times[name][0].append(train_step(module, x, kwargs, context, clock))
            times[name][1].append(inference(module, x, kwargs, context, clock))
    medians = {name: tuple(statistics.median(t) for t in pair) for name, pair in times.items()}
    return medians, compile_s


def machine_description() -> str:
    """The processor, its cores, torch and its threads, and Python: what a timing was measured on."""
    model = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), model)
    return (
        f"{model}, {os.cpu_count()} cores, torch {torch.__version__} with {torch.get_num_threads()} threads, "
        f"Python {platform.python_version()}"
    )
