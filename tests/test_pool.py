"""The pool: experiments side by side compute exactly what each computes alone, each in a worker of
its own, sharing no random state; workers end when asked, on a signal, or when their parent dies."""

import functools
import os
import pathlib
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest
import torch

from snippets import seeding
from snippets.experiments import pool


def draw(seed: int) -> list[float]:
    """A job for the pool: seeds itself, draws, takes long enough for the other experiment to run."""
    seeding.seed_everything(seed)
    time.sleep(0.2)
    return [*torch.rand(2).tolist(), random.random()]


def experiment(seed: int) -> list:
    """Draws from its process's random state before and after its jobs, like module initialisation."""
    seeding.seed_everything(seed)
    before = [*torch.rand(2).tolist(), random.random()]
    runs = pool.run_jobs(draw, [(seed + k,) for k in range(3)])
    after = [*torch.rand(2).tolist(), random.random()]
    return [before, runs, after]


def where(marks: str, tag: str, seconds: float) -> tuple[int, float, float]:
    """The process it ran in and when, after a nap; marks its start in the folder `marks`."""
    start = time.monotonic()
    pathlib.Path(marks, f"{tag}-{os.getpid()}").write_text("")
    time.sleep(seconds)
    return os.getpid(), start, time.monotonic()


def failing(marks: str) -> None:
    pool.run_jobs(draw, [(0,)])
    raise RuntimeError("boom in an experiment")


def finishing(marks: str) -> list:
    time.sleep(0.5)  # the failing one has failed by now
    out = experiment(3)
    pathlib.Path(marks, "finished").write_text(repr(out))
    return out


def napping(marks: str, seconds: float) -> None:
    """A job that marks its start, sleeps, and marks that it unwound (its `finally` ran)."""
    pathlib.Path(marks, f"started-{os.getpid()}").write_text("")
    try:
        time.sleep(seconds)
    finally:
        pathlib.Path(marks, f"unwound-{os.getpid()}").write_text("")


@pytest.fixture(scope="module")
def two_workers():
    """Two workers, one pool for the module's tests (starting workers costs seconds)."""
    before = os.environ.get("SNIPPETS_WORKERS")
    os.environ["SNIPPETS_WORKERS"] = "2"
    pool.stop()
    yield
    pool.stop()
    if before is None:
        del os.environ["SNIPPETS_WORKERS"]
    else:
        os.environ["SNIPPETS_WORKERS"] = before


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie, ended but not yet reaped, does not)."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def wait_for(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_side_by_side_equals_one_after_the_other(two_workers):
    alone = [experiment(1), experiment(2)]
    together = pool.side_by_side([functools.partial(experiment, 1), functools.partial(experiment, 2)])
    assert together == alone
    assert alone[0] != alone[1]


def test_side_by_side_runs_each_call_in_a_worker_of_its_own_at_once(two_workers, tmp_path):
    calls = [functools.partial(where, str(tmp_path), tag, 1.0) for tag in "ab"]
    (pid_a, start_a, end_a), (pid_b, start_b, end_b) = pool.side_by_side(calls)
    assert os.getpid() not in (pid_a, pid_b) and pid_a != pid_b
    assert start_a < end_b and start_b < end_a  # their naps overlap


def test_side_by_side_leaves_this_process_random_state_alone(two_workers):
    seeding.seed_everything(123)
    state = random.getstate(), np.random.get_state()[1].tolist(), torch.get_rng_state()
    pool.side_by_side([functools.partial(experiment, 1), functools.partial(experiment, 2)])
    assert random.getstate() == state[0] and np.random.get_state()[1].tolist() == state[1]
    assert torch.equal(torch.get_rng_state(), state[2])


def test_an_error_in_one_experiment_is_raised_and_the_other_finishes(two_workers, tmp_path):
    calls = [functools.partial(failing, str(tmp_path)), functools.partial(finishing, str(tmp_path))]
    with pytest.raises(RuntimeError, match="boom in an experiment"):
        pool.side_by_side(calls)
    assert (tmp_path / "finished").read_text() == repr(experiment(3))


@pytest.mark.parametrize("value", ["two", "0", "-1", "²", "1.5", ""])
def test_workers_must_be_a_positive_int(monkeypatch, value):
    monkeypatch.setenv("SNIPPETS_WORKERS", value)
    with pytest.raises(ValueError, match=f"SNIPPETS_WORKERS must be a positive int such as 2, got {value!r}"):
        pool.workers()


def test_stop_ends_a_running_job_within_seconds_and_lets_it_unwind(two_workers, tmp_path):
    errors = []

    def send():
        try:
            pool.run_jobs(napping, [(str(tmp_path), 60.0)])
        except BaseException as err:  # what the sender sees when the pool is stopped under it
            errors.append(err)

    sender = threading.Thread(target=send)
    sender.start()
    wait_for(lambda: list(tmp_path.glob("started-*")))
    (started,) = tmp_path.glob("started-*")
    worker = int(started.name.partition("-")[2])
    began = time.monotonic()
    pool.stop()
    sender.join(10)
    assert not sender.is_alive() and len(errors) == 1, errors
    assert time.monotonic() - began < 5 and not alive(worker)
    assert (tmp_path / f"unwound-{worker}").exists()  # SIGTERM unwound the job: its `finally` ran
    assert pool.run_jobs(draw, [(5,)]) == [draw(5)]  # and the next job gets a fresh pool


def test_a_worker_killed_mid_job_breaks_only_that_call(two_workers, tmp_path):
    errors = []
    sender = threading.Thread(target=lambda: errors.append(_raised(napping, str(tmp_path), 60.0)))
    sender.start()
    wait_for(lambda: list(tmp_path.glob("started-*")))
    (started,) = tmp_path.glob("started-*")
    os.kill(int(started.name.partition("-")[2]), signal.SIGKILL)
    sender.join(20)
    assert not sender.is_alive() and isinstance(errors[0], BrokenProcessPool), errors
    assert pool.run_jobs(draw, [(5,)]) == [draw(5)]


def _raised(fn, *job):
    try:
        pool.run_jobs(fn, [job])
    except BaseException as err:
        return err
    return None


ORPHAN = """
import functools, sys
sys.path.insert(0, {tests!r})
from snippets.experiments import pool
import test_pool
pool.run_jobs(test_pool.napping, [({marks!r}, 60.0), ({marks!r}, 60.0)])
"""


def test_workers_do_not_outlive_a_parent_killed_outright(tmp_path):
    """kill -9 of the parent gives it no chance to end them: the workers notice within a second, unwind
    and exit. (Ctrl-C and SIGTERM, which the parent handles: tests/test_experiments_cli.py.)"""
    script = textwrap.dedent(ORPHAN.format(tests=str(pathlib.Path(__file__).parent), marks=str(tmp_path)))
    env = {**os.environ, "SNIPPETS_WORKERS": "2"}
    parent = subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_for(lambda: len(list(tmp_path.glob("started-*"))) == 2, 60)
        workers = [int(p.name.partition("-")[2]) for p in tmp_path.glob("started-*")]
        parent.kill()
        parent.wait(10)
        wait_for(lambda: not any(alive(w) for w in workers), 5)
        for w in workers:
            assert (tmp_path / f"unwound-{w}").exists()  # each job unwound: its `finally` ran
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
