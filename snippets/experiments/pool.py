"""Where training runs execute: a pool of worker processes with one thread each.

On a small CPU two single-threaded runs side by side beat one run on two threads, and torch's
two-thread pool spins and crawls when other processes share the cores. `SNIPPETS_WORKERS`
sets the number of workers (default: the number of cores); `SNIPPETS_WORKERS=1` runs everything
in this process.

`side_by_side(calls)` runs several experiments at once, so that the pool stays busy while one of
them waits for its slowest run. They take turns in this process: only one runs its own code at a
time, and the others run only while it waits for the pool. Each gets its random state back when
its turn comes again, so an experiment computes exactly what it computes alone (every run
seeds itself in its worker, and the workers run one thread each, whatever the order).
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import random
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import torch

_pool: ProcessPoolExecutor | None = None
_turn = threading.Lock()  # held by the experiment whose code runs in this process now
_local = threading.local()  # whether this thread is one of side_by_side's; its jobs' CPU seconds


def workers() -> int:
    value = os.environ.get("SNIPPETS_WORKERS", str(os.cpu_count() or 1))
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"SNIPPETS_WORKERS must be a positive int, got {value!r}")
    return int(value)


def in_process(fn, jobs: list[tuple]) -> list:
    """`[fn(*job) for job in jobs]` in this process, on one thread as in the workers."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return [fn(*job) for job in jobs]
    finally:
        torch.set_num_threads(threads)


def run_jobs(fn, jobs: list[tuple]) -> list:
    """`[fn(*job) for job in jobs]`, on the worker pool unless there is one worker."""
    if workers() == 1:
        return in_process(fn, jobs)
    futures = [_get_pool().submit(_timed, fn, *job) for job in jobs]
    with _others_may_run():
        done = [future.result() for future in futures]
    _local.job_cpu = job_cpu_seconds() + sum(cpu for _, cpu in done)
    return [result for result, _ in done]


def job_cpu_seconds() -> float:
    """CPU seconds that the worker processes spent on the jobs this thread sent them, so far."""
    return getattr(_local, "job_cpu", 0.0)


def _timed(fn, *job):
    """In a worker: `fn(*job)` and the CPU seconds it took."""
    start = time.process_time()
    result = fn(*job)
    return result, time.process_time() - start


def side_by_side(calls) -> list:
    """Run the zero-argument `calls` at once, taking turns in this process; their results, in order."""
    calls = list(calls)
    if workers() == 1 or len(calls) < 2:
        return [call() for call in calls]
    with ThreadPoolExecutor(len(calls)) as threads:
        return list(threads.map(_in_turn, calls))


def _in_turn(call):
    with _turn:
        _local.taking_turns = True
        try:
            return call()
        finally:
            _local.taking_turns = False


@contextlib.contextmanager
def _others_may_run():
    """Hand the turn to another experiment while this one waits; take back its random state after."""
    if not getattr(_local, "taking_turns", False):
        yield
        return
    state = random.getstate(), np.random.get_state(), torch.get_rng_state()
    _turn.release()
    try:
        yield
    finally:
        _turn.acquire()
        random.setstate(state[0]), np.random.set_state(state[1]), torch.set_rng_state(state[2])


def _get_pool() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn: a forked child of a process that has run torch's thread pool can hang.
        _pool = ProcessPoolExecutor(workers(), multiprocessing.get_context("spawn"), initializer=_one_thread)
        atexit.register(_pool.shutdown, cancel_futures=True)
    return _pool


def _one_thread() -> None:
    torch.set_num_threads(1)
