"""Parameter counts from the formula and from the modules, steps to a threshold, time per step."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import seeding, tasks, train
from . import pool
from .cache import experiment
from .runs import check_cells
from .training import AddingConfig, CharConfig, CopyConfig, RecallConfig

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
    """Input, output and hidden size (and the batch and length of a step) of each comparison task,
    read off the experiments' default configs (`recall` at its longest-but-one gap, 20 by default)."""
    adding, copy, recall, char = AddingConfig(), CopyConfig(), RecallConfig(), CharConfig()
    vocab = len(tasks.CharCorpus(seq_len=char.seq_len).vocab)
    gap = sorted(recall.gaps)[-2] if len(recall.gaps) > 1 else recall.gaps[0]
    recall_task = tasks.Recall(gap=gap)
    rows = {
        "adding": (2, 1, adding.hidden_size, adding.train.batch_size, adding.T, {"T": adding.T}),
        "copy": (10, 9, copy.hidden_size, copy.train.batch_size, copy.T + 20, {"T": copy.T}),
        "recall": (
            recall_task.input_size,
            recall_task.output_size,
            recall.hidden_size,
            recall.train.batch_size,
            gap + 2,
            {"gap": gap},
        ),
        "char": (vocab, vocab, char.hidden_size, char.train.batch_size, char.seq_len, {"seq_len": char.seq_len}),
    }
    keys = ("input_size", "output_size", "hidden_size", "batch_size", "length", "args")
    return {name: dict(zip(keys, row)) for name, row in rows.items()}


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
    """Per model and seed: the first validation step with loss below `threshold`, or None if never."""
    out = {}
    for model, data in result["cells"].items():
        out[model] = [
            next((s for s, v in zip(run["val_step"], run["val_loss"]) if v < threshold), None) for run in data["runs"]
        ]
    return out


def seconds_to_threshold(steps: dict, step_seconds: dict, cells: dict) -> dict:
    """`steps_to_threshold` in seconds: each step count times the median seconds of one training
    step of its cell alone (`step_time`), so every model is timed as one run on this machine.

    `step_seconds` is {cell: median seconds}, `cells` {model: cell}; None stays None.
    """
    return {m: [None if s is None else s * step_seconds[cells[m]] for s in per_seed] for m, per_seed in steps.items()}


@dataclass(frozen=True)
class StepTimeConfig:
    """Seconds per training step (forward, backward, clipping, Adam) at each comparison task's sizes.

    One thread, one process, the cells interleaved step by step so that a slow moment of the
    machine hits all of them alike (and a round's GRU/LSTM ratio compares steps taken side by
    side); `warmup` rounds are dropped, `repeats` rounds kept.
    """

    cells: tuple = ("rnn", "lstm", "gru")
    task_names: tuple = ("adding", "copy", "recall", "char")
    warmup: int = 5
    repeats: int = 51
    bootstrap: int = 2000


def _time_steps(task_name: str, sizes: dict, config: StepTimeConfig, seed: int) -> dict:
    import time

    task = tasks.make_task(task_name, **sizes["args"])
    g = seeding.data_generator(seed)
    models = {}
    for cell in config.cells:
        seeding.seed_everything(seed)
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


def paired_ratio(a: list[float], b: list[float], resamples: int, seed: int = 0) -> dict:
    """The per-round ratio a/b: its median and a 95 % bootstrap interval of the median (percentile
    method, `resamples` resamples of the rounds), and the share of rounds with a > b."""
    ratio = torch.tensor(a, dtype=torch.float64) / torch.tensor(b, dtype=torch.float64)
    g = torch.Generator().manual_seed(seed)
    picks = torch.randint(0, len(ratio), (resamples, len(ratio)), generator=g)
    medians = ratio[picks].median(dim=1).values
    return {
        "median": float(ratio.median()),
        "low": float(medians.quantile(0.025)),
        "high": float(medians.quantile(0.975)),
        "share_above_1": float((ratio > 1).double().mean()),
    }


def _cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), or "" where there is none."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        return ""


@experiment("step_time")
def step_time(config: StepTimeConfig = StepTimeConfig()) -> dict:
    """Per task and cell: the seconds of each timed round and their median, min and max; per task
    the paired GRU/LSTM ratio (`paired_ratio`); and the machine's name."""
    import platform
    import statistics

    check_cells(config.cells)
    if config.repeats < 2:
        raise ValueError(f"repeats must be at least 2, got {config.repeats!r}")
    sizes = task_sizes()
    out = {
        "machine": _cpu_name() or platform.machine(),
        "torch": str(torch.__version__),
        "threads": 1,
        "repeats": config.repeats,
        "warmup": config.warmup,
        "tasks": {},
    }
    for name in config.task_names:
        times = pool.in_process(_time_steps, [(name, sizes[name], config, seeding.seed(0))])[0]
        out["tasks"][name] = {
            "sizes": {k: v for k, v in sizes[name].items() if k != "args"},
            "cells": {
                cell: {"median": statistics.median(s), "min": min(s), "max": max(s), "seconds": s}
                for cell, s in times.items()
            },
        }
        if {"gru", "lstm"} <= set(times):
            out["tasks"][name]["gru_over_lstm"] = paired_ratio(times["gru"], times["lstm"], config.bootstrap)
    return out
