"""How the minGRU's scan scales with sequence length and width, against its own loop and the GRU.

`time_min_gru_against_gru` returns plain data (no figure, no cache); a page or a script decides
what to show. It times a training step, forward and then backward of a scalar loss, on one CPU
thread: the scan's advantage is doing the T steps as a few whole-sequence operations instead of T
small ones, and this is what that buys on one core, without parallel hardware to spread them over.
The scan does more arithmetic per state element than the loop (its `logcumsumexp` costs most), so
it wins where the loop's per-step overhead dominates, at small batch x width, and can lose beyond.

Times are the CPU time of the calling thread (`time.thread_time`), not the wall clock: with one
thread, torch runs every operation and the backward pass in the calling thread, so its CPU time is
the work done, and time the scheduler gives to other processes on a busy machine does not count.
(Measured under a load average of 7 on 2 cores: wall times 2 to 3 times the CPU times, CPU times
within a few percent of each other from round to round.)
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
CANDIDATES = ("minGRU scan", "minGRU loop", "snippets.GRU", "torch.nn.GRU")


@contextlib.contextmanager
def _threads(n: int):
    before = torch.get_num_threads()
    torch.set_num_threads(n)
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


def _train_step(run: Callable[[Tensor], Tensor], x: Tensor, clock: Callable[[], float] = time.thread_time) -> float:
    """Seconds of `clock` (by default this thread's CPU time) for one forward and backward pass."""
    start = clock()
    run(x).square().mean().backward()
    return clock() - start


def time_min_gru_against_gru(
    lengths=LENGTHS, batch: int = 16, hidden: int = 64, repeats: int = 5, seed: int = 0, threads: int = 1
) -> dict:
    """Median seconds of a forward-and-backward pass per candidate and sequence length.

    Input size = hidden size, float32. On one thread (the default) the seconds are CPU time; with
    `threads` > 1 the other threads' work would not count there, so they are wall-clock seconds.
    Each candidate runs once on the shortest length to warm up; then, for each length, the
    candidates take turns, one call each per round, `repeats` rounds, so that whatever slows the
    machine for a while falls on all of them alike. Returns `{"lengths", "batch", "hidden",
    "repeats", "threads", "clock", "seconds": {candidate: [median seconds per length]}, "rounds":
    {candidate: [[seconds per round] per length]}}`.
    """
    torch.manual_seed(seed)
    clock = time.thread_time if threads == 1 else time.perf_counter
    with _threads(threads):
        runs = _candidates(hidden)
        warm_up = torch.randn(min(lengths), batch, hidden)
        for run in runs.values():  # first calls allocate and fill caches
            _train_step(run, warm_up, clock)
        rounds = {name: [] for name in runs}
        for steps in lengths:
            x = torch.randn(steps, batch, hidden)
            times = {name: [] for name in runs}
            for _ in range(repeats):
                for name, run in runs.items():
                    times[name].append(_train_step(run, x, clock))
            for name in runs:
                rounds[name].append(times[name])
    seconds = {name: [statistics.median(r) for r in per_length] for name, per_length in rounds.items()}
    return dict(
        lengths=list(lengths),
        batch=batch,
        hidden=hidden,
        repeats=repeats,
        threads=threads,
        clock="thread CPU time" if threads == 1 else "wall clock",
        seconds=seconds,
        rounds=rounds,
    )
