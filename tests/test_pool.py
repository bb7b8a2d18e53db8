"""Experiments side by side compute exactly what each computes alone, and fail as they would alone."""

import random
import time

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
    """Draws from this process's random state before and after its jobs, like module initialisation."""
    seeding.seed_everything(seed)
    before = [*torch.rand(2).tolist(), random.random()]
    runs = pool.run_jobs(draw, [(seed + k,) for k in range(3)])
    after = [*torch.rand(2).tolist(), random.random()]
    return [before, runs, after]


@pytest.fixture
def two_workers(monkeypatch):
    monkeypatch.setenv("SNIPPETS_WORKERS", "2")


def test_side_by_side_equals_one_after_the_other(two_workers):
    alone = [experiment(1), experiment(2)]
    together = pool.side_by_side([lambda: experiment(1), lambda: experiment(2)])
    assert together == alone
    assert alone[0] != alone[1]


def test_an_error_in_one_experiment_is_raised_and_the_other_finishes(two_workers):
    finished = []

    def failing():
        pool.run_jobs(draw, [(0,)])
        raise RuntimeError("boom in an experiment")

    with pytest.raises(RuntimeError, match="boom in an experiment"):
        pool.side_by_side([failing, lambda: finished.append(experiment(3))])
    assert finished == [experiment(3)]


def test_workers_must_be_a_positive_int(monkeypatch):
    monkeypatch.setenv("SNIPPETS_WORKERS", "two")
    with pytest.raises(ValueError, match="SNIPPETS_WORKERS must be a positive int, got 'two'"):
        pool.workers()


def test_one_runs_while_the_other_waits_for_the_pool(two_workers):
    events = []

    def logged(tag: str, seed: int):
        events.append(f"start {tag}")
        experiment(seed)
        events.append(f"end {tag}")

    pool.side_by_side([lambda: logged("a", 1), lambda: logged("b", 2)])
    assert sorted(events[:2]) == ["start a", "start b"], events
