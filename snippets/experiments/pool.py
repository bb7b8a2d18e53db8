"""Where training runs execute: a plain pool of worker processes with one thread each.

On a small CPU two single-threaded runs side by side beat one run on two threads, and torch's
two-thread pool spins and crawls when other processes share the cores. `SNIPPETS_WORKERS`
sets the number of workers (default: the number of cores); `SNIPPETS_WORKERS=1` runs everything
in this process.

Every job seeds itself (`snippets.seeding`: its seed is one of its arguments), so a job computes
the same bits in whichever worker, and in whatever order, it runs. Nothing else is shared:

- `run_jobs(fn, jobs)`: one experiment's runs, spread over the workers.
- `side_by_side(calls)`: several experiments at once, each one a job of its own in a worker, where
  its runs execute one after another (`run_jobs` runs in the process that calls it). So the pool
  stays busy while any one experiment waits for its slowest run, and no experiment shares a
  random state, a thread or a turn with another.
- `stop()`: end the workers now. Waiting for a job, the pool calls it itself on Ctrl-C
  (`KeyboardInterrupt`) or `SystemExit`, and at exit.

A worker ignores Ctrl-C (a terminal sends it to the whole process group; the main process ends
the workers), turns SIGTERM into `SystemExit` so that its job unwinds (a half-written cache file
is removed on the way: `cache.write_atomic`) and exits, and does the same within half a second
when its parent dies, kill -9 included, so that no worker outlives the process that started it.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import multiprocessing
import os
import random
import re
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import torch

_pool: ProcessPoolExecutor | None = None
_pids = None  # the queue each worker announces its process id on, so that `stop` ends those and no other
_in_worker = False  # whether this process is one of the pool's workers
_in_job = False  # in a worker: whether a job is running
_local = threading.local()  # the CPU seconds of the jobs this thread sent to the workers

PARENT_POLL_S = 0.5  # how often a worker checks that the process that started it is alive
STOP_WAIT_S = 5.0  # how long `stop` lets a worker unwind after SIGTERM before it kills it


def workers() -> int:
    """`$SNIPPETS_WORKERS`, a positive int (default: the number of cores)."""
    value = os.environ.get("SNIPPETS_WORKERS", str(os.cpu_count() or 1))
    if not re.fullmatch(r"[0-9]+", value) or int(value) < 1:  # "²".isdigit() is True, int("²") fails
        raise ValueError(f"SNIPPETS_WORKERS must be a positive int such as 2, got {value!r}")
    return int(value)


def in_process(fn, jobs: list[tuple]) -> list:
    """`[fn(*job) for job in jobs]` in this process, as in the workers: on one thread, and leaving
    the caller's random state as it was (a job in a worker cannot change it either), so that an
    experiment computes the same bits wherever its jobs ran."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    state = random.getstate(), np.random.get_state()
    try:
        with torch.random.fork_rng(devices=[]):  # torch's CPU generator, restored on the way out
            return [fn(*job) for job in jobs]
    finally:
        random.setstate(state[0])
        np.random.set_state(state[1])
        torch.set_num_threads(threads)


def run_jobs(fn, jobs: list[tuple]) -> list:
    """`[fn(*job) for job in jobs]`, on the worker pool unless there is one worker (or this is one)."""
    if _in_worker or workers() == 1:
        return in_process(fn, jobs)
    done = _results([_get_pool().submit(_timed, fn, *job) for job in jobs])
    _local.job_cpu = job_cpu_seconds() + sum(cpu for _, cpu in done)
    return [result for result, _ in done]


def job_cpu_seconds() -> float:
    """CPU seconds that the worker processes spent on the jobs this thread sent them, so far."""
    return getattr(_local, "job_cpu", 0.0)


def side_by_side(calls) -> list:
    """Run the zero-argument `calls` at once, each in a worker of its own; their results, in order.

    The calls must be picklable (a module-level function, or a `functools.partial` of one). If one
    raises, the others still finish, then the first error in order is raised. With one worker, or
    one call, they run here one after the other (a call alone spreads its runs over the pool).
    """
    calls = list(calls)
    if _in_worker or workers() == 1 or len(calls) < 2:
        return [call() for call in calls]
    futures = [_get_pool().submit(_timed, call) for call in calls]
    return [result for result, _ in _results(futures, finish_all=True)]


def _results(futures: list, finish_all: bool = False) -> list:
    """The futures' results in order. On Ctrl-C or `SystemExit` while waiting, the workers are
    ended first (`stop`); after a job's error the jobs not started yet are dropped, unless
    `finish_all`; a worker that died (killed, out of memory) takes the pool with it."""
    try:
        if finish_all:
            concurrent.futures.wait(futures)
        return [future.result() for future in futures]
    except BrokenProcessPool:
        stop()  # the pool is unusable: the next call starts a fresh one
        raise
    except Exception:
        for future in futures:
            future.cancel()
        raise
    except BaseException:  # KeyboardInterrupt, SystemExit: the workers must not go on without us
        stop()
        raise


def _timed(fn, *job):
    """In a worker: `fn(*job)` and the CPU seconds it took."""
    global _in_job
    start = time.process_time()
    _in_job = True
    try:
        result = fn(*job)
    except SystemExit as stopped:  # SIGTERM or the parent's death: the job has unwound, now exit
        sys.stderr.flush()
        os._exit(stopped.code if isinstance(stopped.code, int) else 1)  # the pool would wait for more work
    finally:
        _in_job = False
    return result, time.process_time() - start


def stop(timeout: float = STOP_WAIT_S) -> None:
    """End the workers now: cancel what has not started, SIGTERM each worker (its job unwinds),
    and kill any still alive after `timeout` seconds. The next job starts a fresh pool."""
    global _pool, _pids
    if _pool is None:
        return
    executor, pids, _pool, _pids = _pool, _pids, None, None
    executor.shutdown(wait=False, cancel_futures=True)
    started = set()
    while not pids.empty():
        started.add(pids.get())
    ours = [process for process in multiprocessing.active_children() if process.pid in started]
    for process in ours:
        process.terminate()
    deadline = time.monotonic() + timeout
    for process in ours:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()


atexit.register(stop)  # a job still running at exit would otherwise keep the interpreter waiting for it


def _get_pool() -> ProcessPoolExecutor:
    global _pool, _pids
    if _pool is None:
        # spawn: a forked child of a process that has run torch's thread pool can hang.
        context = multiprocessing.get_context("spawn")
        _pids = context.SimpleQueue()
        _pool = ProcessPoolExecutor(workers(), context, initializer=_start_worker, initargs=(os.getpid(), _pids))
    return _pool


def _start_worker(parent: int, pids) -> None:
    """In a new worker: one thread; Ctrl-C left to the parent, SIGTERM unwinds; watch the parent."""
    global _in_worker
    _in_worker = True
    torch.set_num_threads(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _unwind)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="watch-parent").start()
    pids.put(os.getpid())


def _unwind(signum, frame) -> None:
    if not _in_job:  # waiting for work (or exiting already): nothing to clean up
        os._exit(128 + signum)
    raise SystemExit(128 + signum)  # the job's `finally` blocks run on the way out, as on Ctrl-C


def _watch_parent(parent: int) -> None:
    """Exit (through SIGTERM, so that the job unwinds) once the parent is gone; kill -9 gives it no
    chance to end us. A job that does not unwind within `STOP_WAIT_S` is ended without it."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(STOP_WAIT_S)
    os._exit(1)
