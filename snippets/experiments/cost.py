"""Parameter counts from the formula and from the modules, steps to a threshold, time per step."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import seeding, tasks, train
from . import pool
from .cache import experiment
from .runs import check_cells
from .training import AddingConfig, CharConfig, CopyConfig

GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # weight blocks per layer: G


def layer_parameters(cell: str, input_size: int, hidden_size: int) -> int:
    r"""Parameters of one recurrent layer, by formula: $G \cdot (H (I + H) + 2H)$.

    $G$ weight blocks (1 for the tanh RNN, 4 for the LSTM's $i, f, g, o$, 3 for the
    GRU's $r, z, n$), each an input matrix $H \times I$, a recurrent matrix
    $H \times H$ and two bias vectors $b_{i\cdot}, b_{h\cdot}$ of size $H$ (torch.nn's layout).
    """
    if cell not in GATES:
        raise ValueError(f"unknown cell {cell!r}; expected one of {sorted(GATES)}")
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    return GATES[cell] * (hidden_size * (input_size + hidden_size) + 2 * hidden_size)


def model_parameters(cell: str, input_size: int, hidden_size: int, output_size: int) -> int:
    r"""A `SequenceModel`'s parameters by formula: the layer plus the read-out, $H O + O$."""
    return layer_parameters(cell, input_size, hidden_size) + hidden_size * output_size + output_size


def task_sizes() -> dict:
    """Input, output and hidden size (and the batch and length of a step) of each comparison task."""
    adding, copy, char = AddingConfig(), CopyConfig(), CharConfig()
    vocab = len(tasks.CharCorpus(seq_len=char.seq_len).vocab)
    return {
        "adding": {
            "input_size": 2,
            "output_size": 1,
            "hidden_size": adding.hidden_size,
            "batch_size": adding.batch_size,
            "length": adding.T,
            "args": {"T": adding.T},
        },
        "copy": {
            "input_size": 10,
            "output_size": 9,
            "hidden_size": copy.hidden_size,
            "batch_size": copy.batch_size,
            "length": copy.T + 20,
            "args": {"T": copy.T},
        },
        "char": {
            "input_size": vocab,
            "output_size": vocab,
            "hidden_size": char.hidden_size,
            "batch_size": char.batch_size,
            "length": char.seq_len,
            "args": {"seq_len": char.seq_len},
        },
    }


def parameter_counts(
    input_size: int, hidden_size: int, output_size: int, cells=("rnn", "lstm", "gru"), match: str = "hidden"
) -> dict:
    """Per cell: hidden size, parameters by formula and counted off the built module.

    `match="params"` gives every cell the hidden size whose model is closest to the LSTM's count
    (`train.matched_hidden_size`), as `adding_problem(match="params")` does.
    """
    check_cells(cells)
    if match not in ("hidden", "params"):
        raise ValueError(f"match must be 'hidden' or 'params', got {match!r}")
    reference = train.count_parameters(train.SequenceModel("lstm", input_size, hidden_size, output_size))
    out = {}
    for cell in cells:
        h = hidden_size if match == "hidden" else train.matched_hidden_size(cell, reference, input_size, output_size)
        model = train.SequenceModel(cell, input_size, h, output_size)
        out[cell] = {
            "hidden_size": h,
            "layer_formula": layer_parameters(cell, input_size, h),
            "layer_counted": train.count_parameters(model.rnn),
            "model_formula": model_parameters(cell, input_size, h, output_size),
            "model_counted": train.count_parameters(model),
        }
    return out


def steps_to_threshold(result: dict, threshold: float) -> dict:
    """Per cell and seed: the first validation step with loss below `threshold`, or None if never."""
    out = {}
    for cell, data in result["cells"].items():
        out[cell] = [
            next((s for s, v in zip(run["val_step"], run["val_loss"]) if v < threshold), None) for run in data["runs"]
        ]
    return out


@dataclass(frozen=True)
class StepTimeConfig:
    """Seconds per training step (forward, backward, clipping, Adam) at each comparison task's sizes.

    One thread, one process, the cells interleaved step by step so that a slow moment of the
    machine hits all three alike; `warmup` steps are dropped, the median of `repeats` is kept.
    """

    cells: tuple = ("rnn", "lstm", "gru")
    task_names: tuple = ("adding", "copy", "char")
    warmup: int = 3
    repeats: int = 11
    seed: int = 0


def _time_steps(task_name: str, sizes: dict, config: StepTimeConfig) -> dict:
    import time

    task = tasks.make_task(task_name, **sizes["args"])
    g = seeding.data_generator(config.seed)
    models = {}
    for cell in config.cells:
        seeding.seed_everything(config.seed)
        model = train.SequenceModel(cell, task.input_size, sizes["hidden_size"], task.output_size)
        models[cell] = (model, torch.optim.Adam(model.parameters(), lr=1e-3))
    seconds = {cell: [] for cell in config.cells}
    for _ in range(config.warmup + config.repeats):
        x, y = task.sample(sizes["batch_size"], g)
        for cell, (model, opt) in models.items():
            start = time.perf_counter()
            loss = task.loss(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            seconds[cell].append(time.perf_counter() - start)
    return {cell: s[config.warmup :] for cell, s in seconds.items()}


def _cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), or "" where there is none."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        return ""


@experiment("step_time")
def step_time(config: StepTimeConfig = StepTimeConfig()) -> dict:
    """Median seconds per training step per task and cell (torch.nn layers), with the machine's name."""
    import platform
    import statistics

    check_cells(config.cells)
    sizes = task_sizes()
    out = {
        "machine": _cpu_name() or platform.machine(),
        "torch": str(torch.__version__),
        "threads": 1,
        "repeats": config.repeats,
        "tasks": {},
    }
    for name in config.task_names:
        times = pool.in_process(_time_steps, [(name, sizes[name], config)])[0]
        out["tasks"][name] = {
            "sizes": {k: v for k, v in sizes[name].items() if k != "args"},
            "cells": {
                cell: {"median": statistics.median(s), "min": min(s), "max": max(s), "seconds": s}
                for cell, s in times.items()
            },
        }
    return out
