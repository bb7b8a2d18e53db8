r"""Training runs on many seeds and learning rates, and their summaries.

`sweep` is how the comparison and variants pages train: every model at every learning rate of a
small grid on every seed, each model's members trained together as one batched model
(`snippets.fast.ensemble`, equal to training them one by one; `tests/test_ensemble.py`), on the
worker pool. Per model it keeps the learning rate with the lowest *validation score*, the mean
over seeds of

$$s = \frac{1}{E}\sum_{e=1}^{E} L^{\mathrm{val}}_e,$$

the validation loss averaged over the $E$ evaluations of the budget (a run stopped early on
success holds its last value; a diverged run scores $+\infty$): the area under the validation
curve, which rewards reaching a low loss and reaching it soon. Only then is each run of that
learning rate scored on its *test* data (`test_batch`), which neither training nor the choice saw.

A model is a cell and an initialisation (`MODELS`): `"lstm"` is torch.nn's LSTM as it comes
(forget-gate bias drawn near 0), `"lstm_fb1"` the same cell with its forget-gate biases set to 1.

The result of `sweep` (what `adding_problem`, `copy_task`, `recall` and `char_model` return, per task):

- `task`, `task_args`, `baseline` (the memoryless loss), `seeds`, `lrs`, `train` (the shared
  `TrainConfig` as a dict; its `lr` is replaced by each value of `lrs`), `test_size`;
- `hidden_size`: {model: H};
- `cells`: {model: {...}} with, per model: `cell`, `forget_bias`, `hidden_size`, `n_params`,
  `lr` (the chosen one), `sweep` ({`lrs`, `score` per lr (mean over seeds), `scores` per lr and
  seed, `solved` per lr}), and at the chosen lr, per seed in seed order: `status`, `steps_run`,
  `final_val_loss`, `final_val_accuracy`, `test_loss`, `test_accuracy`; `val_loss` and
  `val_accuracy` (`band`: the mean over seeds and its 95 % confidence interval per evaluation);
  `runs` (the per-seed logs, thinned by `slim`, each with `test_loss`/`test_accuracy`). The
  first seed's run (every seed's, with `keep_all`) keeps its trained weights,
  `runs[0]["state_dict"]` (a `train.SequenceModel` state dict, or the variant's layer for the
  variants page).
"""

from __future__ import annotations

import math
from dataclasses import asdict, replace

import torch

from .. import tasks, train
from ..seeding import data_generator
from ..train import TrainConfig
from . import pool
from .stats import mean_ci95

# Model name -> (cell, forget-gate bias or None for torch.nn's own initialisation).
MODELS = {
    "rnn": ("rnn", None),
    "lstm": ("lstm", None),
    "lstm_fb1": ("lstm", 1.0),
    "lstm_fb3": ("lstm", 3.0),
    "gru": ("gru", None),
}
TEST_STREAM = 3  # data streams per seed: 0 training, 1 validation, 2 the pages' traces, 3 test


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
    grid, table = _held(logs, key, steps_key)
    return {
        "step": list(grid),
        "mean": table.mean(0).tolist(),
        "std": table.std(0, unbiased=len(logs) > 1).tolist(),
        "min": table.min(0).values.tolist(),
        "max": table.max(0).values.tolist(),
        "stopped": [log[steps_key][-1] for log in logs],
    }


def band(logs: list[dict], key: str = "val_loss", steps_key: str = "val_step") -> dict:
    """Per evaluation step: the mean over seeds and its 95 % confidence interval (`stats.mean_ci95`),
    and the lowest and highest seed. Runs stopped early hold their last value, as in `summarise`.
    With one seed, low = high = mean.
    """
    grid, table = _held(logs, key, steps_key)
    if len(logs) < 2:
        mean = low = high = table[0]
    else:
        mean, low, high = mean_ci95(table)
    return {
        "step": list(grid),
        "mean": mean.tolist(),
        "low": low.tolist(),
        "high": high.tolist(),
        "min": table.min(0).values.tolist(),
        "max": table.max(0).values.tolist(),
    }


def _held(logs: list[dict], key: str, steps_key: str) -> tuple[list, torch.Tensor]:
    grid = max((log[steps_key] for log in logs), key=len)
    rows = [list(log[key]) + [log[key][-1]] * (len(grid) - len(log[key])) for log in logs]
    return grid, torch.tensor(rows, dtype=torch.float64)


def slim(log: dict) -> dict:
    """A run's log with its per-step lists thinned: every 10th step (and the last) for the pages."""
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


def check_cells(cells) -> None:
    unknown = [c for c in cells if c not in train.CELLS]
    if unknown or not cells:
        raise ValueError(f"cells must be a non-empty subset of {sorted(train.CELLS)}, got {cells!r}")


def check_models(models, known=MODELS) -> None:
    unknown = [m for m in models if m not in known]
    if unknown or not models or len(set(models)) != len(models):
        raise ValueError(f"models must be distinct names from {sorted(known)}, at least one, got {models!r}")


# -- held-out test data ----------------------------------------------------------------------------


def test_batch(task, seed: int, size: int):
    """A run's held-out test data: the corpus's test split (`CharCorpus(held_out=True)`), or `size`
    sequences of the task from the seed's stream 3, which no run trains (0) or validates (1) on."""
    if isinstance(task, tasks.CharCorpus):
        return task.test()
    return task.sample(size, data_generator(seed, stream=TEST_STREAM))


# -- members trained together ----------------------------------------------------------------------


def members_job(
    cell: str,
    task_name: str,
    task_args: dict,
    hidden_size: int,
    configs: list[dict],
    forget_biases: list[float | None],
    keep: list[bool],
    test_size: int,
    layer: type | None = None,
    transfer: tuple = (),
) -> list[dict]:
    """A pool job: train the members together (`fast.ensemble.train_ensemble`, with `bias_blocks` as
    probe), score each on its test data, and return their logs (thinned by `slim`; `state_dict` only
    where `keep`). `transfer`: task arguments to change for further tests (e.g. `{"gap": 21}` after
    training at gap 20), each scored on its own test data into the log's `transfer` list."""
    from ..fast import ensemble

    task = tasks.make_task(task_name, **task_args)
    logs = ensemble.train_ensemble(
        cell,
        task,
        hidden_size,
        [TrainConfig(**c) for c in configs],
        forget_biases,
        layer=layer,
        keep_weights=True,
        probe=bias_blocks,
    )
    for log, config, bias, kept in zip(logs, configs, forget_biases, keep):
        model = ensemble.build_member(cell, task, hidden_size, config["seed"], bias, layer)
        model.load_state_dict(log["state_dict"])
        metrics = train.evaluate(model, task, test_batch(task, config["seed"], test_size))
        log.update(test_loss=metrics["loss"], test_accuracy=metrics["accuracy"], forget_bias=bias)
        log["transfer"] = []
        for change in transfer:
            other = tasks.make_task(task_name, **{**task_args, **change})
            scored = train.evaluate(model, other, test_batch(other, config["seed"], test_size))
            log["transfer"].append({"args": dict(change), "loss": scored["loss"], "accuracy": scored["accuracy"]})
        if not kept:
            del log["state_dict"]
    return [slim(log) for log in logs]


def bias_blocks(params: dict) -> torch.Tensor:
    r"""Per member, the mean over units of each gate block's bias $b_{i\cdot} + b_{h\cdot}$, (K, G):
    for an LSTM the blocks $i, f, g, o$, for a GRU $r, z, n$ (a variant's in its own order). How
    far a gate is open before any input arrives; recorded at every evaluation (`probe`)."""
    bias = params["rnn.bias_ih_l0"] + params["rnn.bias_hh_l0"]
    return bias.unflatten(-1, (-1, params["rnn.weight_hh_l0"].shape[-1])).mean(-1)


def validation_score(log: dict, evaluations: int) -> float:
    """The mean validation loss over a budget's `evaluations`, the last value held after an early
    stop; `inf` for a run that diverged (or left a non-finite loss)."""
    values = list(log["val_loss"]) + [log["val_loss"][-1]] * (evaluations - len(log["val_loss"]))
    score = sum(values) / len(values)
    return score if log["status"] != "diverged" and math.isfinite(score) else math.inf


def sweep(
    task_name: str,
    task_args: dict,
    models,
    seeds,
    lrs,
    hidden_size: dict,
    config: TrainConfig,
    test_size: int,
    sweep_seeds: int | None = None,
    layers: dict | None = None,
    known: dict = MODELS,
    transfer: tuple = (),
    keep_all: bool = False,
) -> dict:
    """Per model, the learning rate of `lrs` with the lowest validation score, and its runs on every
    seed, scored on test data (module docstring).

    Two stages: every learning rate on the first `sweep_seeds` seeds (all of them if None), the
    choice, then the other seeds at the chosen rate only; the sweep's runs at that rate are kept.
    `lrs` is one grid for all models, or {model: grid}; where every grid has one value there is
    nothing to choose and all seeds run at once. `hidden_size` is {model: H}. `layers` ({model:
    layer class}) trains a `snippets` layer instead of torch.nn's (the variants); `known` maps each
    name to (cell, forget bias). `transfer`: further tests of every run on changed task arguments
    (`members_job`). `keep_all`: every seed's run keeps its weights, not only the first's.
    `sweeps` runs several tasks' sweeps at once.
    """
    return sweeps(
        task_name,
        [task_args],
        models,
        seeds,
        lrs,
        hidden_size,
        config,
        test_size,
        sweep_seeds,
        layers,
        known,
        [transfer],
        keep_all,
    )[0]


def sweeps(
    task_name: str,
    task_args: list[dict],
    models,
    seeds,
    lrs,
    hidden_size: dict,
    config: TrainConfig,
    test_size: int,
    sweep_seeds: int | None = None,
    layers: dict | None = None,
    known: dict = MODELS,
    transfers: list | None = None,
    keep_all: bool = False,
) -> list[dict]:
    """`sweep` for each of `task_args` (one `transfer` each in `transfers`), their runs sent to the
    pool together, stage by stage, so that both workers stay busy."""
    check_models(models, known)
    grids = {m: tuple(lrs[m] if isinstance(lrs, dict) else lrs) or (config.lr,) for m in models}
    seeds = list(seeds)
    n_first = len(seeds) if all(len(g) == 1 for g in grids.values()) else (sweep_seeds or len(seeds))
    first, rest = seeds[:n_first], seeds[n_first:]
    transfers = transfers or [()] * len(task_args)
    keep = set(seeds if keep_all else seeds[:1])
    run = _Runner(task_name, hidden_size, config, test_size, layers or {}, known, keep)
    logs = run(
        {(k, m, lr): first for k in range(len(task_args)) for m in models for lr in grids[m]}, task_args, transfers
    )
    evaluations = math.ceil(config.steps / config.eval_every)
    chosen = {}
    for k in range(len(task_args)):
        for m in models:
            scores = [[validation_score(logs[(k, m, lr, s)], evaluations) for s in first] for lr in grids[m]]
            means = [sum(row) / len(row) for row in scores]
            best = min(range(len(means)), key=lambda j: means[j])
            chosen[(k, m)] = (grids[m][best], means, scores)
    if rest:
        plan = {(k, m, chosen[(k, m)][0]): rest for k in range(len(task_args)) for m in models}
        logs.update(run(plan, task_args, transfers))
    out = []
    for k, args in enumerate(task_args):
        task = tasks.make_task(task_name, **args)
        result = {
            "task": task_name,
            "task_args": dict(args),
            "baseline": task.baseline,
            "seeds": seeds,
            "sweep_seeds": first,
            "lrs": sorted({lr for grid in grids.values() for lr in grid}),
            "train": asdict(config),
            "test_size": test_size,
            "hidden_size": {m: hidden_size[m] for m in models},
            "cells": {},
        }
        for m in models:
            lr, means, scores = chosen[(k, m)]
            result["cells"][m] = _model_summary(m, known[m], [logs[(k, m, lr, s)] for s in seeds], hidden_size[m])
            result["cells"][m].update(
                lr=lr,
                sweep={
                    "lrs": list(grids[m]),
                    "score": means,
                    "scores": scores,
                    "solved": [sum(logs[(k, m, g, s)]["status"] == "solved" for s in first) for g in grids[m]],
                },
            )
        out.append(result)
    return out


class _Runner:
    """Runs {(task index, model, lr): seeds} on the pool as batched models, returning
    {(task index, model, lr, seed): log}. Runs of the seeds in `keep` keep their weights."""

    def __init__(self, task_name, hidden_size, config, test_size, layers, known, keep):
        self.task_name, self.hidden_size, self.config, self.test_size = task_name, hidden_size, config, test_size
        self.layers, self.known, self.keep = layers, known, keep

    def __call__(self, plan: dict, task_args: list[dict], transfers: list) -> dict:
        groups: dict[tuple, list] = {}
        for (k, m, lr), seeds in plan.items():
            # One batched model per task, cell, layer, size and learning rate (an LSTM's forget biases
            # may differ), except torch.nn's LSTM: the ensemble runs its members' recurrences one by
            # one anyway (the "loop" engine), so one job per model keeps both workers evenly busy.
            cell, layer = self.known[m][0], self.layers.get(m)
            key = (k, cell, layer, self.hidden_size[m], lr, m if cell == "lstm" and layer is None else None)
            groups.setdefault(key, []).extend((m, seed) for seed in seeds)
        jobs, index = [], []
        for (k, cell, layer, H, lr, _), members in groups.items():
            jobs.append(
                (
                    cell,
                    self.task_name,
                    task_args[k],
                    H,
                    [asdict(replace(self.config, lr=lr, seed=seed)) for _, seed in members],
                    [self.known[m][1] for m, _ in members],
                    [seed in self.keep for _, seed in members],
                    self.test_size,
                    layer,
                    tuple(transfers[k]),
                )
            )
            index.append([(k, m, lr, seed) for m, seed in members])
        # the costliest first (members × sequence length, roughly), so that none is left alone at the end
        size = [len(job[4]) * (1 + sum(v for v in job[2].values() if isinstance(v, int))) for job in jobs]
        order = sorted(range(len(jobs)), key=lambda j: -size[j])
        logs = {}
        for j, job_logs in zip(order, pool.run_jobs(members_job, [jobs[j] for j in order])):
            logs.update(zip(index[j], job_logs))
        return logs


def _model_summary(name: str, spec: tuple, runs: list[dict], hidden_size: int) -> dict:
    return {
        "cell": spec[0],
        "forget_bias": spec[1],
        "hidden_size": hidden_size,
        "n_params": runs[0]["n_params"],
        "status": [r["status"] for r in runs],
        "steps_run": [r["steps_run"] for r in runs],
        "final_val_loss": [r["val_loss"][-1] for r in runs],
        "final_val_accuracy": [r["val_accuracy"][-1] for r in runs],
        "test_loss": [r["test_loss"] for r in runs],
        "test_accuracy": [r["test_accuracy"] for r in runs],
        "val_loss": band(runs),
        "val_accuracy": band(runs, "val_accuracy"),
        "runs": runs,
    }
