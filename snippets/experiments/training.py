"""The RNN, the LSTM and the GRU trained on the same tasks: the adding problem, copy memory,
long-range recall and a character model.

Every experiment here is a `runs.sweep`: each model (`runs.MODELS`: the tanh RNN, the LSTM at
torch.nn's initialisation and with forget-gate bias 1, the GRU) at each learning rate of a small
grid on `seeds` seeds, the learning rate chosen per model on validation data, the final numbers
on held-out test data. The result format is `runs.sweep`'s (see `snippets.experiments.runs`);
`recall` returns one per gap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .. import seeding, tasks
from ..train import TrainConfig
from .cache import experiment
from .runs import MODELS, check_models, hidden_sizes, sweep, sweeps

COMPARED = ("rnn", "lstm", "lstm_fb1", "gru")


def _hidden(models, hidden_size: int, match: str, task) -> dict:
    """{model: H}: equal, or each cell at the LSTM's parameter count (`runs.hidden_sizes`)."""
    cells = sorted({MODELS[m][0] for m in models})
    per_cell = hidden_sizes(cells, hidden_size, match, task)
    return {m: per_cell[MODELS[m][0]] for m in models}


def _check(config) -> None:
    check_models(config.models)
    if not config.lrs or any(not lr > 0 for lr in config.lrs):
        raise ValueError(f"lrs must be positive learning rates, at least one, got {config.lrs!r}")


# --------------------------------------------------------------------------------------
# The adding problem and copy memory
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddingConfig:
    """Adding problem (Arjovsky form) at length `T`; Adam, clipping at 1.

    Budget: up to `train.steps` updates of `train.batch_size` sequences, stopping once the
    validation MSE (`train.val_size` held-out sequences) is below `train.target_loss`. A tanh RNN
    that fails here is failing *on this budget*, not necessarily for good: these runs do not show
    what far more updates would do.
    """

    T: int = 100
    models: tuple = COMPARED
    seeds: int = 5
    lrs: tuple = (3e-2, 1e-1)
    sweep_seeds: int = 2  # the learning rates are tried on these first seeds (runs.sweep)
    hidden_size: int = 32
    match: str = "hidden"  # or "params": every cell gets the LSTM's parameter count
    train: TrainConfig = TrainConfig(
        steps=1500, batch_size=16, clip=1.0, eval_every=100, val_size=256, target_loss=0.01
    )
    test_size: int = 2048
    variant: str = "arjovsky"


@experiment("adding_problem")
def adding_problem(config: AddingConfig = AddingConfig()) -> dict:
    """Validation MSE against steps per model (mean and 95 % CI over seeds), test MSE, the baseline 1/6."""
    _check(config)
    args = {"T": config.T, "variant": config.variant}
    task = tasks.make_task("adding", **args)
    sizes = _hidden(config.models, config.hidden_size, config.match, task)
    seeds = seeding.seeds(config.seeds)
    return sweep(
        "adding",
        args,
        config.models,
        seeds,
        config.lrs,
        sizes,
        config.train,
        config.test_size,
        config.sweep_seeds,
        keep_all=True,  # the LSTM page looks inside every trained network
    )


@dataclass(frozen=True)
class CopyConfig:
    """Copy memory with `T` blanks; cross-entropy per step against 10 ln 8 / (T + 20), and the
    share of the 10 recalled symbols that are right."""

    T: int = 10
    models: tuple = COMPARED
    seeds: int = 5
    lrs: tuple = (1e-2, 3e-2)
    sweep_seeds: int = 2
    hidden_size: int = 32
    # Stop once the validation loss is below 0.02 nats per step (6 % of the baseline, 10 ln 8 / 30):
    # nearly every symbol right.
    train: TrainConfig = TrainConfig(steps=600, batch_size=16, clip=1.0, eval_every=50, val_size=256, target_loss=0.02)
    test_size: int = 1024


@experiment("copy_task")
def copy_task(config: CopyConfig = CopyConfig()) -> dict:
    """Validation cross-entropy against steps per model (mean, 95 % CI), test loss and symbol accuracy."""
    _check(config)
    sizes = {m: config.hidden_size for m in config.models}
    seeds = seeding.seeds(config.seeds)
    return sweep(
        "copy",
        {"T": config.T},
        config.models,
        seeds,
        config.lrs,
        sizes,
        config.train,
        config.test_size,
        config.sweep_seeds,
    )


# --------------------------------------------------------------------------------------
# Long-range recall
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecallConfig:
    """Recall the first token after `gap` distractors, at several gaps; one sweep per gap.

    `lstm_fb3`: at forget bias 1 the LSTM stayed at chance at gap 20 (research: 0 of 10 seeds, at
    learning rates 3e-3 to 3e-2, 3000 steps, with and without clipping); at 3 it learns.
    """

    gaps: tuple = (5, 10, 20, 40)
    models: tuple = ("rnn", "lstm", "lstm_fb1", "lstm_fb3", "gru")
    seeds: int = 5
    lrs: tuple = (3e-3, 1e-2, 3e-2)
    sweep_seeds: int = 2
    hidden_size: int = 32
    train: TrainConfig = TrainConfig(steps=1000, batch_size=16, clip=1.0, eval_every=50, val_size=256, target_loss=0.05)
    test_size: int = 1024
    # The learning rates are chosen at this gap (runs.sweep); every other gap uses each model's choice.
    sweep_gap: int = 20
    # Every trained run is also tested at gap + each offset: does its read-out work one step off?
    transfer: tuple = (-1, 1, 30)


@experiment("recall")
def recall(config: RecallConfig = RecallConfig()) -> dict:
    """Per gap, a `runs.sweep` of every model (`by_gap`; the learning rates tried at `sweep_gap`, the
    chosen one used at every other gap), each run also tested at the gaps `transfer` steps away (its
    log's `transfer`); and per model, per gap and seed, the test accuracy
    (`cells[model]["accuracy"]`), test loss, status, steps run and chosen learning rate, with the
    first seed's trained weights in `state_dicts[model][str(gap)]` (a `train.SequenceModel` state
    dict); chance is 1 / n_subjects."""
    _check(config)
    if not config.gaps or any(not isinstance(g, int) or g < 0 for g in config.gaps):
        raise ValueError(f"gaps must be non-negative ints, got {config.gaps!r}")
    seeds = seeding.seeds(config.seeds)
    sizes = {m: config.hidden_size for m in config.models}

    def args(gaps):
        return [{"gap": gap} for gap in gaps], [[{"gap": g + d} for d in config.transfer if g + d >= 0] for g in gaps]

    def run(gaps, lrs) -> list[dict]:
        task_args, transfers = args(gaps)
        common = (config.models, seeds, lrs, sizes, config.train, config.test_size, config.sweep_seeds)
        return sweeps("recall", task_args, *common, transfers=transfers)

    first = config.sweep_gap if config.sweep_gap in config.gaps else config.gaps[0]
    (swept,) = run([first], config.lrs)
    chosen = {m: (swept["cells"][m]["lr"],) for m in config.models}
    others = [gap for gap in config.gaps if gap != first]
    done = dict(zip(others, run(others, chosen))) if others else {}
    by_gap = {str(gap): swept if gap == first else done[gap] for gap in config.gaps}
    task = tasks.Recall()
    out = {
        "chance_accuracy": 1 / task.n_subjects,
        "baseline": task.baseline,
        "gaps": list(config.gaps),
        "seeds": list(seeds),
        "by_gap": by_gap,
        "cells": {},
        "state_dicts": {},
    }
    for m in config.models:
        per_gap = [by_gap[str(g)]["cells"][m] for g in config.gaps]
        out["cells"][m] = {
            "accuracy": [r["test_accuracy"] for r in per_gap],
            "loss": [r["test_loss"] for r in per_gap],
            "steps_run": [r["steps_run"] for r in per_gap],
            "status": [r["status"] for r in per_gap],
            "lr": [r["lr"] for r in per_gap],
        }
        out["state_dicts"][m] = {str(g): r["runs"][0]["state_dict"] for g, r in zip(config.gaps, per_gap)}
    return out


# --------------------------------------------------------------------------------------
# Character-level language model
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CharConfig:
    """Next character on torch/nn's source; bits per character against the unigram model.

    Validation and test are the two halves of the held-out files (`CharCorpus(held_out=True)`).
    """

    models: tuple = COMPARED
    seeds: int = 5
    lrs: tuple = (1e-2, 3e-2)
    sweep_seeds: int = 2
    hidden_size: int = 64
    seq_len: int = 64
    train: TrainConfig = TrainConfig(steps=600, batch_size=16, clip=1.0, eval_every=50)


@experiment("char_model")
def char_model(config: CharConfig = CharConfig()) -> dict:
    """Validation bits per character against steps per model (mean, 95 % CI), test bits per character."""
    _check(config)
    sizes = {m: config.hidden_size for m in config.models}
    args = {"seq_len": config.seq_len, "held_out": True}
    seeds = seeding.seeds(config.seeds)
    out = sweep("char", args, config.models, seeds, config.lrs, sizes, config.train, 0, config.sweep_seeds)
    corpus = tasks.CharCorpus(**args)
    bits = 1 / math.log(2)
    out.update(
        baseline_bpc=corpus.baseline_bpc,
        baseline_perplexity=2**corpus.baseline_bpc,
        vocab_size=len(corpus.vocab),
        train_chars=len(corpus.train_text),
        fingerprint=corpus.fingerprint,
    )
    for result in out["cells"].values():
        result["test_bpc"] = [v * bits for v in result["test_loss"]]
        result["final_val_bpc"] = [v * bits for v in result["final_val_loss"]]
    return out
