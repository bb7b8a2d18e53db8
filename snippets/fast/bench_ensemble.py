"""Time per training step of `train.train_cell` (one member) against `train_ensemble` (K members).

`python -m snippets.fast.bench_ensemble [--rounds N] [--steps S] [--ks 5,15,30] [--engines bptt,loop]`
prints, per task and cell, the median seconds per training step and per member-step, on one
thread. Rounds interleave every configuration, so a slow spell of a shared machine hits all alike.
Validation runs once, at the last step, and is left out: only training steps are timed.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import torch

from snippets import tasks, train
from snippets.fast.ensemble import train_ensemble

TASKS = {"adding": (lambda: tasks.AddingProblem(T=100), 32, 32), "recall": (lambda: tasks.Recall(gap=20), 32, 32)}


def step_times(log: dict, members: int) -> list[float]:
    """Wall seconds of each training step after the first two (warm-up), from a member's log."""
    seconds = log["seconds"]
    return [(b - a) * members for a, b in zip(seconds[2:], seconds[3:])]


def time_single(cell, task, hidden, config) -> list[float]:
    _, log = train.train_cell(cell, task, hidden, config)
    return step_times(log, 1)


def time_ensemble(cell, task, hidden, config, k, engine) -> list[float]:
    configs = [replace(config, seed=s, lr=config.lr * (1 + 0.1 * s)) for s in range(k)]
    logs = train_ensemble(cell, task, hidden, configs, engine=engine)
    return step_times(logs[0], k)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--ks", default="5,15,30")
    parser.add_argument("--engines", default="bptt,loop")
    parser.add_argument("--cells", default="rnn,lstm,gru")
    parser.add_argument("--tasks", default="adding,recall")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    ks, engines = [int(k) for k in args.ks.split(",")], args.engines.split(",")
    runs = [(name, cell, None, 1) for name in args.tasks.split(",") for cell in args.cells.split(",")]
    runs += [(name, cell, engine, k) for name, cell, _, _ in list(runs) for engine in engines for k in ks]
    times = {run: [] for run in runs}
    for _ in range(args.rounds):
        for run in runs:
            name, cell, engine, k = run
            make, hidden, batch = TASKS[name]
            config = train.TrainConfig(steps=args.steps, batch_size=batch, lr=1e-3, eval_every=10**6, val_size=64)
            task = make()
            times[run] += (time_single(cell, task, hidden, config) if engine is None
                           else time_ensemble(cell, task, hidden, config, k, engine))
    print(f"{'task':8} {'cell':5} {'engine':10} {'K':>3} {'ms/step':>9} {'ms/member-step':>15} {'vs train_cell':>14}")
    for run in runs:
        name, cell, engine, k = run
        ms = statistics.median(times[run]) * 1e3
        single = statistics.median(times[(name, cell, None, 1)]) * 1e3
        print(f"{name:8} {cell:5} {engine or 'train_cell':10} {k:3d} {ms:9.2f} {ms / k:15.2f} {single / (ms / k):13.2f}x")


if __name__ == "__main__":
    main()
