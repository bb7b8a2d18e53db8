"""The named experiments the pages show, each a cached function of a config.

Every experiment returns plain data (lists, numbers, strings; tensors only for
trained weights), runs every curve on several seeds, and states its budget in
its config: where a result depends on the budget, the budget is part of the
result. Runs go to a pool of worker processes, one thread each: on a small
CPU two single-threaded runs side by side beat one run on two threads.
`SNIPPETS_WORKERS=1` runs everything in this process.

Results of the default configs (2-core CPU, torch 2.13.0) are what the pages
show; the tests re-run smaller budgets and check the effect, not the numbers.
"""

from __future__ import annotations

import atexit
import functools
import math
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass

import torch

from . import gradients, seeding, tasks, train
from .cache import experiment
from .train import TrainConfig

# Modules whose whole source every training experiment depends on (the cache key).
TRAINING = (tasks, train, seeding)

# --------------------------------------------------------------------------------------
# Running many seeds
# --------------------------------------------------------------------------------------

_pool: ProcessPoolExecutor | None = None


def _workers() -> int:
    value = os.environ.get("SNIPPETS_WORKERS", str(os.cpu_count() or 1))
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"SNIPPETS_WORKERS must be a positive int, got {value!r}")
    return int(value)


def _init_worker() -> None:
    torch.set_num_threads(1)


def _in_process(fn, jobs: list[tuple]) -> list:
    # One thread: torch's two-thread pool spins and crawls when other processes share the cores.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return [fn(*job) for job in jobs]
    finally:
        torch.set_num_threads(threads)


def _map(fn, jobs: list[tuple]) -> list:
    """`[fn(*job) for job in jobs]`, on the worker pool when there is more than one worker."""
    global _pool
    if _workers() == 1 or len(jobs) == 1:
        return _in_process(fn, jobs)
    if _pool is None:
        # spawn: a forked child of a process that has run torch's thread pool can hang.
        _pool = ProcessPoolExecutor(_workers(), multiprocessing.get_context("spawn"),
                                    initializer=_init_worker)
        atexit.register(_pool.shutdown, cancel_futures=True)
    return list(_pool.map(fn, *zip(*jobs)))


def _run(cell: str, task_name: str, task_args: dict, hidden_size: int, config: dict,
         forget_bias: float | None = None, keep_weights: bool = False) -> dict:
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
    return {"step": list(grid), "mean": table.mean(0).tolist(),
            "std": table.std(0, unbiased=len(rows) > 1).tolist(),
            "min": table.min(0).values.tolist(), "max": table.max(0).values.tolist(),
            "stopped": [log[steps_key][-1] for log in logs]}


def _slim(log: dict) -> dict:
    """A run's log without its per-step lists thinned: keep every 10th step for the pages."""
    out = dict(log)
    for key in ("step", "train_loss", "grad_norm", "seconds"):
        out[key] = log[key][::10] + ([log[key][-1]] if (len(log[key]) - 1) % 10 else [])
    return out


def _hidden_sizes(cells, hidden_size: int, match: str, task) -> dict:
    """Hidden size per cell: all equal (`match="hidden"`), or matched to the LSTM's parameters."""
    if match == "hidden":
        return {cell: hidden_size for cell in cells}
    if match != "params":
        raise ValueError(f"match must be 'hidden' or 'params', got {match!r}")
    reference = train.count_parameters(
        train.SequenceModel("lstm", task.input_size, hidden_size, task.output_size))
    return {cell: train.matched_hidden_size(cell, reference, task.input_size, task.output_size)
            for cell in cells}


def _compare_cells(task_name: str, task_args: dict, cells, seeds, hidden_size: int, match: str,
                   config: TrainConfig, keep_weights_of=()) -> dict:
    task = tasks.make_task(task_name, **task_args)
    sizes = _hidden_sizes(cells, hidden_size, match, task)
    jobs = [(cell, task_name, task_args, sizes[cell], {**asdict(config), "seed": seed}, None,
             cell in keep_weights_of and seed == seeds[0])
            for cell in cells for seed in seeds]
    logs = _map(_run, jobs)
    out = {"baseline": task.baseline, "hidden_size": sizes, "cells": {}}
    for cell in cells:
        runs = [log for log in logs if log["cell"] == cell]
        out["cells"][cell] = {
            "n_params": runs[0]["n_params"],
            "val_loss": summarise(runs),
            "val_accuracy": summarise(runs, "val_accuracy"),
            "final_val_loss": [r["val_loss"][-1] for r in runs],
            "status": [r["status"] for r in runs],
            "runs": [_slim(r) for r in runs],
        }
    return out


def _check_cells(cells) -> None:
    unknown = [c for c in cells if c not in train.CELLS]
    if unknown or not cells:
        raise ValueError(f"cells must be a non-empty subset of {sorted(train.CELLS)}, got {cells!r}")


# --------------------------------------------------------------------------------------
# The adding problem and copy memory
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddingConfig:
    """Adding problem (Arjovsky form) at length `T`; RNN, LSTM, GRU; Adam, clipping at 1.

    Budget: up to `steps` updates of batch `batch_size`, stopping once the
    validation MSE (2048 held-out sequences) is below `target_loss`. A
    tanh RNN that fails here is failing *on this budget*: with far more
    updates (Le et al. 2015 report ~10^6) it can learn the task.
    """

    T: int = 100
    cells: tuple = ("rnn", "lstm", "gru")
    seeds: tuple = (0, 1, 2)
    hidden_size: int = 32
    match: str = "hidden"  # or "params": every cell gets the LSTM's parameter count
    steps: int = 3000
    batch_size: int = 32
    lr: float = 1e-2
    target_loss: float | None = 0.01
    eval_every: int = 100
    variant: str = "arjovsky"


@experiment("adding_problem", modules=TRAINING)
def adding_problem(config: AddingConfig = AddingConfig()) -> dict:
    """Validation MSE against steps per cell, mean and spread over seeds, with the baseline."""
    _check_cells(config.cells)
    train_config = TrainConfig(steps=config.steps, batch_size=config.batch_size, lr=config.lr,
                               clip=1.0, eval_every=config.eval_every, val_size=2048,
                               target_loss=config.target_loss)
    return _compare_cells("adding", {"T": config.T, "variant": config.variant}, config.cells,
                          config.seeds, config.hidden_size, config.match, train_config,
                          keep_weights_of=("lstm", "gru"))


@dataclass(frozen=True)
class CopyConfig:
    """Copy memory with `T` blanks; cross-entropy per step against 10 ln 8 / (T + 20)."""

    T: int = 30
    cells: tuple = ("rnn", "lstm", "gru")
    seeds: tuple = (0, 1, 2)
    hidden_size: int = 64
    match: str = "hidden"
    steps: int = 1000
    batch_size: int = 64
    lr: float = 1e-2
    eval_every: int = 50


@experiment("copy_task", modules=TRAINING)
def copy_task(config: CopyConfig = CopyConfig()) -> dict:
    """Validation cross-entropy against steps per cell, over seeds, with the memoryless baseline."""
    _check_cells(config.cells)
    train_config = TrainConfig(steps=config.steps, batch_size=config.batch_size, lr=config.lr,
                               clip=1.0, eval_every=config.eval_every, val_size=512)
    return _compare_cells("copy", {"T": config.T}, config.cells, config.seeds,
                          config.hidden_size, config.match, train_config)


# --------------------------------------------------------------------------------------
# Long-range recall
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecallConfig:
    """Recall the first token after `gap` distractors, at several gaps."""

    gaps: tuple = (5, 10, 20, 40)
    cells: tuple = ("rnn", "lstm", "gru")
    seeds: tuple = (0, 1, 2)
    hidden_size: int = 32
    steps: int = 1000
    batch_size: int = 32
    lr: float = 1e-2
    # At torch's default (0) the LSTM stayed at chance even at gap 10 on this budget.
    lstm_forget_bias: float | None = 1.0
    target_loss: float | None = 0.05
    eval_every: int = 50


@experiment("recall", modules=TRAINING)
def recall(config: RecallConfig = RecallConfig()) -> dict:
    """Final validation accuracy per cell and gap, per seed; chance is 1 / n_subjects."""
    _check_cells(config.cells)
    if not config.gaps or any(not isinstance(g, int) or g < 0 for g in config.gaps):
        raise ValueError(f"gaps must be non-negative ints, got {config.gaps!r}")
    train_config = TrainConfig(steps=config.steps, batch_size=config.batch_size, lr=config.lr,
                               clip=1.0, eval_every=config.eval_every, val_size=1024,
                               target_loss=config.target_loss)
    jobs = [(cell, "recall", {"gap": gap}, config.hidden_size, {**asdict(train_config), "seed": seed},
             config.lstm_forget_bias if cell == "lstm" else None)
            for gap in config.gaps for cell in config.cells for seed in config.seeds]
    logs = iter(_map(_run, jobs))
    task = tasks.Recall()
    out = {"chance_accuracy": 1 / task.n_subjects, "baseline": task.baseline, "gaps": list(config.gaps),
           "cells": {cell: {"accuracy": [], "loss": [], "steps_run": []} for cell in config.cells}}
    for gap in config.gaps:
        for cell in config.cells:
            runs = [next(logs) for _ in config.seeds]
            out["cells"][cell]["accuracy"].append([r["val_accuracy"][-1] for r in runs])
            out["cells"][cell]["loss"].append([r["val_loss"][-1] for r in runs])
            out["cells"][cell]["steps_run"].append([r["steps_run"] for r in runs])
    return out


# --------------------------------------------------------------------------------------
# Character-level language model
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CharConfig:
    """Next character on torch/nn's source; bits per character against the unigram model."""

    cells: tuple = ("rnn", "lstm", "gru")
    seeds: tuple = (0, 1, 2)
    hidden_size: int = 128
    seq_len: int = 64
    steps: int = 300
    batch_size: int = 32
    lr: float = 3e-3
    eval_every: int = 100


@experiment("char_model", modules=TRAINING)
def char_model(config: CharConfig = CharConfig()) -> dict:
    """Validation bits per character (and perplexity) against steps, per cell, over seeds."""
    _check_cells(config.cells)
    train_config = TrainConfig(steps=config.steps, batch_size=config.batch_size, lr=config.lr,
                               clip=1.0, eval_every=config.eval_every)
    out = _compare_cells("char", {"seq_len": config.seq_len}, config.cells, config.seeds,
                         config.hidden_size, "hidden", train_config)
    corpus = tasks.CharCorpus(seq_len=config.seq_len)
    bits = 1 / math.log(2)
    out.update(baseline_bpc=corpus.baseline_bpc, baseline_perplexity=2 ** corpus.baseline_bpc,
               vocab_size=len(corpus.vocab), train_chars=len(corpus.train_text),
               val_chars=len(corpus.val_text), fingerprint=corpus.fingerprint)
    for result in out["cells"].values():
        result["final_bpc"] = [v * bits for v in result["final_val_loss"]]
        result["final_perplexity"] = [2 ** b for b in result["final_bpc"]]
    return out


# --------------------------------------------------------------------------------------
# Gradient flow
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradientConfig:
    """Gradient norms at initialisation, `T` steps, float64, over seeds."""

    T: int = 100
    hidden_size: int = 64
    input_size: int = 4
    batch: int = 32
    seeds: tuple = (0, 1, 2)
    sigmas: tuple = (0.5, 0.9, 1.0, 1.5, 3.0)  # tanh RNN: largest singular value of W_hh
    forget_biases: tuple = (0.0, 1.0, 3.0)  # LSTM


def _norm_curves(cell: str, config: GradientConfig, **kwargs) -> dict:
    """Per distance k: mean over the batch per seed, then mean/min/max over seeds, per path."""
    runs = _in_process(functools.partial(gradients.measure, cell, config.T, config.hidden_size,
                                         config.input_size, config.batch, **kwargs),
                       [(seed,) for seed in config.seeds])
    out = {"k": list(range(config.T)), "sigma_max": [r["sigma_max"] for r in runs]}
    for path in runs[0]["norms"]:
        per_seed = torch.stack([r["norms"][path].mean(0) for r in runs])
        out[path] = {"per_seed": per_seed.tolist(), "mean": per_seed.mean(0).tolist(),
                     "min": per_seed.min(0).values.tolist(), "max": per_seed.max(0).values.tolist(),
                     # the largest per-sequence ratio to the first norm, for the bound check
                     "max_ratio": torch.stack([r["norms"][path] / r["norms"][path][:, :1]
                                               for r in runs]).amax((0, 1)).tolist()}
    return out


@experiment("gradient_decay_rnn", modules=(gradients, train, seeding))
def gradient_decay_rnn(config: GradientConfig = GradientConfig()) -> dict:
    """tanh RNN: ||dL/dh_{T-k}|| against k at each largest singular value, and the bound lambda_1^k."""
    out = {}
    for sigma in config.sigmas:
        curves = _norm_curves("rnn", config, sigma=sigma)
        curves["bound"] = [sigma ** k for k in curves["k"]]
        out[str(sigma)] = curves
    return {"sigmas": list(config.sigmas), "curves": out}


@experiment("gradient_decay_lstm", modules=(gradients, train, seeding))
def gradient_decay_lstm(config: GradientConfig = GradientConfig()) -> dict:
    """LSTM: hidden-state and cell-state gradient norms against k at each forget-gate bias."""
    return {"forget_biases": list(config.forget_biases),
            "curves": {str(b): _norm_curves("lstm", config, forget_bias=b) for b in config.forget_biases}}


@experiment("gradient_decay_gru", modules=(gradients, train, seeding))
def gradient_decay_gru(config: GradientConfig = GradientConfig()) -> dict:
    """GRU at torch's default initialisation: hidden-state and update-gate-path norms against k."""
    return {"curves": _norm_curves("gru", config)}


# --------------------------------------------------------------------------------------
# Exploding gradients
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExplodingConfig:
    """A tanh RNN started with a large W_hh (largest singular value `sigma`), plain SGD.

    The same seeds and data are trained without clipping and with clipping
    by norm at each value of `clips`.
    """

    T: int = 10
    sigma: float = 3.0
    hidden_size: int = 64
    lr: float = 0.1
    steps: int = 1000
    batch_size: int = 32
    clips: tuple = (None, 1.0)
    seeds: tuple = (0, 1, 2)
    eval_every: int = 50


def _run_exploding(config: ExplodingConfig, clip, seed: int) -> dict:
    task = tasks.AddingProblem(T=config.T)
    seeding.seed_everything(seed)
    model = train.SequenceModel("rnn", task.input_size, config.hidden_size, task.output_size)
    gradients.set_largest_singular_value(model.rnn.weight_hh_l0, config.sigma)
    log = train.train(model, task, TrainConfig(
        steps=config.steps, batch_size=config.batch_size, lr=config.lr, optimizer="sgd",
        clip=clip, eval_every=config.eval_every, val_size=1024, seed=seed))
    return _slim(log)


@experiment("exploding_gradients", modules=(gradients, *TRAINING))
def exploding_gradients(config: ExplodingConfig = ExplodingConfig()) -> dict:
    """Per clip setting: status, gradient norms and validation MSE per seed; baseline 1/6."""
    runs = _map(_run_exploding, [(config, clip, seed) for clip in config.clips for seed in config.seeds])
    out = {"baseline": tasks.AddingProblem(T=config.T).baseline, "runs": {}}
    for i, clip in enumerate(config.clips):
        group = runs[i * len(config.seeds):(i + 1) * len(config.seeds)]
        out["runs"][str(clip)] = {
            "status": [r["status"] for r in group],
            "steps_run": [r["steps_run"] for r in group],
            "final_val_loss": [r["val_loss"][-1] for r in group],
            "logs": group,
        }
    return out


# What the site shows: (experiment, config); None is the experiment's default config.
ALL = ((adding_problem, None), (adding_problem, AddingConfig(match="params")), (copy_task, None),
       (recall, None), (char_model, None), (gradient_decay_rnn, None), (gradient_decay_lstm, None),
       (gradient_decay_gru, None), (exploding_gradients, None))


def run_all() -> list[dict]:
    """Every experiment the site shows (through the cache); returns the cache report."""
    from .cache import report
    for fn, config in ALL:
        fn(config)
    return report()


if __name__ == "__main__":  # python -m snippets.experiments: warm the cache, print the timings
    import time
    start = time.perf_counter()
    for record in run_all():
        print(f"{record['name']:<22} {'hit ' if record['hit'] else 'miss'} {record['seconds']:8.2f} s")
    print(f"total {time.perf_counter() - start:.1f} s")
