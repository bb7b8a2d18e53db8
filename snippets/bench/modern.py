"""How the minGRU's scan scales with sequence length, against its own loop and the GRU.

`time_min_gru_against_gru` returns plain data (no figure, no cache); a page or a script decides
what to show. It times a training step, forward and then backward of a scalar loss, on one CPU
thread: the scan's advantage is doing the T steps as a few whole-sequence operations instead of T
small ones, and this is what that buys on one core, without parallel hardware to spread them over.
The scan does more arithmetic per state element than the loop (its `logcumsumexp` costs most), so
it wins where the loop's per-step overhead dominates, at small batch x width, and can lose beyond.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable

import torch
from torch import Tensor, nn

import snippets
from snippets.min_rnn import MinGRU

LENGTHS = (64, 128, 256, 512, 1024, 2048, 4096)


@contextlib.contextmanager
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _candidates(hidden: int) -> dict[str, Callable[[Tensor], Tensor]]:
    """name -> a function from time-major input to output; the GRUs share weights."""
    min_gru = MinGRU(hidden, hidden)
    theirs = nn.GRU(hidden, hidden)
    ours = snippets.GRU(hidden, hidden)
    ours.load_state_dict(theirs.state_dict())
    return {
        "minGRU scan": lambda x: min_gru(x, mode="scan")[0],
        "minGRU loop": lambda x: min_gru(x, mode="loop")[0],
        "snippets.GRU": lambda x: ours(x)[0],
        "torch.nn.GRU": lambda x: theirs(x)[0],
    }


def _train_step(run: Callable[[Tensor], Tensor], x: Tensor) -> float:
    start = time.perf_counter()
    run(x).square().mean().backward()
    return time.perf_counter() - start


def time_min_gru_against_gru(
    lengths=LENGTHS, batch: int = 16, hidden: int = 64, repeats: int = 5, seed: int = 0
) -> dict:
    """Median seconds of a forward-and-backward pass per candidate and sequence length.

    Input size = hidden size, float32, one thread. For each length the candidates take turns, one
    call each per round, `repeats` rounds after one warm-up round, so that load from other
    processes falls on all of them alike. Returns `{"lengths", "batch", "hidden", "repeats",
    "threads", "seconds": {candidate: [median seconds per length]}}`.
    """
    torch.manual_seed(seed)
    with _one_thread():
        runs = _candidates(hidden)
        seconds = {name: [] for name in runs}
        for steps in lengths:
            x = torch.randn(steps, batch, hidden)
            times = {name: [] for name in runs}
            for round_ in range(repeats + 1):
                for name, run in runs.items():
                    elapsed = _train_step(run, x)
                    if round_ > 0:  # round 0 warms up allocators and caches
                        times[name].append(elapsed)
            for name in runs:
                seconds[name].append(statistics.median(times[name]))
    return dict(lengths=list(lengths), batch=batch, hidden=hidden, repeats=repeats, threads=1, seconds=seconds)
