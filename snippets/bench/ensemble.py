"""Time per training step of `train.train_cell` (one member) against `train_ensemble` (K members).

`python -m snippets.bench.ensemble [--rounds N] [--steps S] [--ks 5,15,30] [--engines bptt,loop]`
prints, per task and cell, milliseconds per training step and per member-step, on one thread:
the median over rounds of the process's CPU time per step (what a run costs, whatever else the
machine is doing) and of the wall clock per step (what a run takes, on this machine now). Rounds
interleave every configuration, so that a busy spell of a shared machine hits all of them alike.
Each run includes building its members and one small validation at its last step; a first,
untimed round warms up (oneDNN compiles its LSTM kernels on first use).
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


def run_once(cell, task, hidden, config, k, engine) -> tuple[float, float]:
    """CPU and wall seconds per training step of one run: `train_cell` (engine None) or K members."""
    cpu, wall = time.process_time(), time.perf_counter()
    if engine is None:
        train.train_cell(cell, task, hidden, config)
    else:
        configs = [replace(config, seed=s, lr=config.lr * (1 + 0.1 * s)) for s in range(k)]
        train_ensemble(cell, task, hidden, configs, engine=engine)
    return (time.process_time() - cpu) / config.steps, (time.perf_counter() - wall) / config.steps


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
    for round in range(args.rounds + 1):
        for run in runs:
            name, cell, engine, k = run
            make, hidden, batch = TASKS[name]
            config = train.TrainConfig(steps=args.steps, batch_size=batch, lr=1e-3, eval_every=10**6, val_size=64)
            measured = run_once(cell, make(), hidden, config, k, engine)
            if round > 0:  # round 0 warms up
                times[run].append(measured)
    print(
        f"{'task':7} {'cell':5} {'engine':10} {'K':>3} {'CPU ms/step':>12} {'per member':>11} {'speed-up':>9}"
        f" {'wall ms/step':>13} {'per member':>11} {'speed-up':>9}"
    )
    for run in runs:
        name, cell, engine, k = run
        line = f"{name:7} {cell:5} {engine or 'train_cell':10} {k:3d}"
        for which in (0, 1):
            ms = statistics.median(t[which] for t in times[run]) * 1e3
            single = statistics.median(t[which] for t in times[(name, cell, None, 1)]) * 1e3
            line += f" {ms:12.2f} {ms / k:11.2f} {single / (ms / k):8.2f}x"
        print(line, flush=True)


if __name__ == "__main__":
    main()
