"""Training runs on many seeds: one run as a job for the worker pool, and their summaries."""

from __future__ import annotations

from dataclasses import asdict

import torch

from .. import tasks, train
from ..train import TrainConfig
from . import pool


def train_run(
    cell: str,
    task_name: str,
    task_args: dict,
    hidden_size: int,
    config: dict,
    forget_bias: float | None = None,
    keep_weights: bool = False,
) -> dict:
    """One training run (a job for the pool): build the task, train, return the log."""
    task = tasks.make_task(task_name, **task_args)
    model, log = train.train_cell(cell, task, hidden_size, TrainConfig(**config), forget_bias=forget_bias)
    log["cell"] = cell
    if keep_weights:
        log["state_dict"] = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return log


def summarise(logs: list[dict], key: str = "val_loss", steps_key: str = "val_step") -> dict:
    """Mean, standard deviation, min and max over seeds, on the longest run's steps.

    A run stopped early on success (or divergence) holds its last value for
    the later steps; `stopped` lists, per seed, the step it stopped at.
    """
    grid = max((log[steps_key] for log in logs), key=len)
    rows = []
    for log in logs:
        values = list(log[key])
        rows.append(values + [values[-1]] * (len(grid) - len(values)))
    table = torch.tensor(rows, dtype=torch.float64)
    return {
        "step": list(grid),
        "mean": table.mean(0).tolist(),
        "std": table.std(0, unbiased=len(rows) > 1).tolist(),
        "min": table.min(0).values.tolist(),
        "max": table.max(0).values.tolist(),
        "stopped": [log[steps_key][-1] for log in logs],
    }


def slim(log: dict) -> dict:
    """A run's log without its per-step lists thinned: keep every 10th step for the pages."""
    out = dict(log)
    for key in ("step", "train_loss", "grad_norm", "seconds"):
        out[key] = log[key][::10] + ([log[key][-1]] if (len(log[key]) - 1) % 10 else [])
    return out


def hidden_sizes(cells, hidden_size: int, match: str, task) -> dict:
    """Hidden size per cell: all equal (`match="hidden"`), or matched to the LSTM's parameters."""
    if match == "hidden":
        return {cell: hidden_size for cell in cells}
    if match != "params":
        raise ValueError(f"match must be 'hidden' or 'params', got {match!r}")
    reference = train.count_parameters(train.SequenceModel("lstm", task.input_size, hidden_size, task.output_size))
    return {cell: train.matched_hidden_size(cell, reference, task.input_size, task.output_size) for cell in cells}


def compare_cells(
    task_name: str, task_args: dict, cells, seeds, hidden_size: int, match: str, config: TrainConfig, keep_weights_of=()
) -> dict:
    task = tasks.make_task(task_name, **task_args)
    sizes = hidden_sizes(cells, hidden_size, match, task)
    jobs = [
        (
            cell,
            task_name,
            task_args,
            sizes[cell],
            {**asdict(config), "seed": seed},
            None,
            cell in keep_weights_of and seed == seeds[0],
        )
        for cell in cells
        for seed in seeds
    ]
    logs = pool.run_jobs(train_run, jobs)
    out = {"baseline": task.baseline, "hidden_size": sizes, "cells": {}}
    for cell in cells:
        runs = [log for log in logs if log["cell"] == cell]
        out["cells"][cell] = {
            "n_params": runs[0]["n_params"],
            "val_loss": summarise(runs),
            "val_accuracy": summarise(runs, "val_accuracy"),
            "final_val_loss": [r["val_loss"][-1] for r in runs],
            "status": [r["status"] for r in runs],
            "runs": [slim(r) for r in runs],
        }
    return out


def check_cells(cells) -> None:
    unknown = [c for c in cells if c not in train.CELLS]
    if unknown or not cells:
        raise ValueError(f"cells must be a non-empty subset of {sorted(train.CELLS)}, got {cells!r}")
