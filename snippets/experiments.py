"""The named experiments the pages show, each a cached function of a config.

Every experiment returns plain data (lists, numbers, strings; tensors only for
trained weights), runs every curve on several seeds, and states its budget in
its config: where a result depends on the budget, the budget is part of the
result. Runs go to the worker processes of `snippets.pool`, one thread each.

Results of the default configs (2-core CPU, torch 2.13.0) are what the pages
show; the tests re-run smaller budgets and check the effect, not the numbers.
"""

from __future__ import annotations

import functools
import math
import os
import time
from dataclasses import asdict, dataclass

import torch

from . import bench, bptt, cache, cells, gradients, layers, memory, pool, seeding, tasks, train
from .cache import experiment
from .train import TrainConfig

# Modules whose whole source every training experiment depends on (the cache key).
TRAINING = (tasks, train, seeding)

# --------------------------------------------------------------------------------------
# Running many seeds
# --------------------------------------------------------------------------------------

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
    logs = pool.run_jobs(_run, jobs)
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
             config.lstm_forget_bias if cell == "lstm" else None,
             cell in ("lstm", "gru") and seed == config.seeds[0])  # weights for the pages' traces
            for gap in config.gaps for cell in config.cells for seed in config.seeds]
    logs = iter(pool.run_jobs(_run, jobs))
    task = tasks.Recall()
    out = {"chance_accuracy": 1 / task.n_subjects, "baseline": task.baseline, "gaps": list(config.gaps),
           "cells": {cell: {"accuracy": [], "loss": [], "steps_run": []} for cell in config.cells},
           "state_dicts": {}}  # {cell: {str(gap): SequenceModel state_dict}}, first seed, lstm and gru
    for gap in config.gaps:
        for cell in config.cells:
            runs = [next(logs) for _ in config.seeds]
            if "state_dict" in runs[0]:
                out["state_dicts"].setdefault(cell, {})[str(gap)] = runs[0]["state_dict"]
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
    runs = pool.in_process(functools.partial(gradients.measure, cell, config.T, config.hidden_size,
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
    runs = pool.run_jobs(_run_exploding, [(config, clip, seed) for clip in config.clips for seed in config.seeds])
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


# --------------------------------------------------------------------------------------
# Variants and GRU pages
# --------------------------------------------------------------------------------------


def _variant_layers() -> dict:
    """Model name -> (layer class, forget-gate bias or None): the models of the two pages."""
    from . import layers, variants
    return {"lstm": (layers.LSTM, None), "lstm_fb1": (layers.LSTM, 1.0),
            "lstm1997": (variants.LSTM1997, None), "peephole": (variants.PeepholeLSTM, None),
            "coupled": (variants.CoupledLSTM, None),
            "gru": (layers.GRU, None), "cho_gru": (variants.ChoGRU, None)}


def _run_variant(model_name: str, task_name: str, task_args: dict, hidden_size: int, config: dict,
                 keep_weights: bool = False) -> dict:
    """One training run of a `snippets` layer by model name (a job for the pool)."""
    from .variants import set_forget_bias
    layer_class, forget_bias = _variant_layers()[model_name]
    task = tasks.make_task(task_name, **task_args)
    seeding.seed_everything(config["seed"])  # the same seed gives the same initial weights
    layer = layer_class(task.input_size, hidden_size, batch_first=True)
    if forget_bias is not None:
        set_forget_bias(layer, forget_bias)
    model = train.SequenceModel(model_name, task.input_size, hidden_size, task.output_size, layer=layer)
    log = train.train(model, task, TrainConfig(**config), desc=f"{model_name} seed {config['seed']}")
    log.update(model=model_name, n_params=train.count_parameters(model), hidden_size=hidden_size)
    if keep_weights:
        log["state_dict"] = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return _slim(log)


def _compare_models(models, task_name: str, task_args: dict, seeds, hidden_size: int,
                    config: TrainConfig, keep_weights_of=()) -> dict:
    """Every model on every seed, same task, hidden size and budget; summaries per model."""
    known = _variant_layers()
    if not models or any(m not in known for m in models):
        raise ValueError(f"models must be a non-empty subset of {sorted(known)}, got {models!r}")
    if len(seeds) < 1 or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, at least one, got {seeds!r}")
    task = tasks.make_task(task_name, **task_args)
    jobs = [(m, task_name, task_args, hidden_size, {**asdict(config), "seed": seed},
             m in keep_weights_of and seed == seeds[0]) for m in models for seed in seeds]
    logs = pool.run_jobs(_run_variant, jobs)
    out = {"baseline": task.baseline, "task": task_name, "task_args": dict(task_args),
           "hidden_size": hidden_size, "seeds": list(seeds), "models": {},
           "budget": {k: getattr(config, k) for k in ("steps", "batch_size", "lr", "clip", "target_loss")}}
    for m in models:
        runs = [log for log in logs if log["model"] == m]
        out["models"][m] = {
            "n_params": runs[0]["n_params"],
            "val_loss": summarise(runs),
            "final_val_loss": [r["val_loss"][-1] for r in runs],
            "final_val_accuracy": [r["val_accuracy"][-1] for r in runs],
            "steps_run": [r["steps_run"] for r in runs],
            "status": [r["status"] for r in runs],
            "runs": runs,
        }
    return out


@dataclass(frozen=True)
class VariantsConfig:
    """Five LSTMs, same hidden size, on one task; Adam, clipping at 1, early stop at `target_loss`.

    All five run on `snippets`' own time loop (the variants have no `torch.nn` twin).
    """

    models: tuple = ("lstm", "lstm_fb1", "lstm1997", "peephole", "coupled")
    task: str = "recall"
    task_args: tuple = (("gap", 10),)  # at gap 20 every forget-gate model stayed at chance in 600 steps
    seeds: tuple = (0, 1, 2)
    hidden_size: int = 32
    steps: int = 600
    batch_size: int = 32
    lr: float = 1e-2
    target_loss: float | None = 0.05
    eval_every: int = 25
    val_size: int = 512


def _variant_train_config(config) -> TrainConfig:
    return TrainConfig(steps=config.steps, batch_size=config.batch_size, lr=config.lr, clip=1.0,
                       eval_every=config.eval_every, val_size=config.val_size,
                       target_loss=config.target_loss)


def _layer_code():
    from . import bptt, cells, layers, variants
    return (cells, layers, bptt, variants)


@experiment("lstm_variants", modules=(*TRAINING, *_layer_code()))
def lstm_variants(config: VariantsConfig = VariantsConfig()) -> dict:
    """Validation loss against steps per LSTM variant, over seeds, with parameter counts and baseline."""
    return _compare_models(config.models, config.task, dict(config.task_args), config.seeds,
                           config.hidden_size, _variant_train_config(config))


@dataclass(frozen=True)
class GRUFormsConfig:
    """PyTorch's GRU against Cho et al.'s, same hidden size and budget, on one task."""

    models: tuple = ("gru", "cho_gru")
    task: str = "recall"
    task_args: tuple = (("gap", 10),)  # at gap 20 both forms solved it on some seeds only
    seeds: tuple = (0, 1, 2, 3, 4)
    hidden_size: int = 32
    steps: int = 600
    batch_size: int = 32
    lr: float = 1e-2
    target_loss: float | None = 0.05
    eval_every: int = 25
    val_size: int = 512


@experiment("gru_forms", modules=(*TRAINING, *_layer_code()))
def gru_forms(config: GRUFormsConfig = GRUFormsConfig()) -> dict:
    """Both GRU forms trained side by side; the first seed's weights kept for gate traces."""
    return _compare_models(config.models, config.task, dict(config.task_args), config.seeds,
                           config.hidden_size, _variant_train_config(config),
                           keep_weights_of=config.models)


# --------------------------------------------------------------------------------------
# Comparison and real-text pages
# --------------------------------------------------------------------------------------

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
        "adding": {"input_size": 2, "output_size": 1, "hidden_size": adding.hidden_size,
                   "batch_size": adding.batch_size, "length": adding.T, "args": {"T": adding.T}},
        "copy": {"input_size": 10, "output_size": 9, "hidden_size": copy.hidden_size,
                 "batch_size": copy.batch_size, "length": copy.T + 20, "args": {"T": copy.T}},
        "char": {"input_size": vocab, "output_size": vocab, "hidden_size": char.hidden_size,
                 "batch_size": char.batch_size, "length": char.seq_len, "args": {"seq_len": char.seq_len}},
    }


def parameter_counts(input_size: int, hidden_size: int, output_size: int, cells=("rnn", "lstm", "gru"),
                     match: str = "hidden") -> dict:
    """Per cell: hidden size, parameters by formula and counted off the built module.

    `match="params"` gives every cell the hidden size whose model is closest to the LSTM's count
    (`train.matched_hidden_size`), as `adding_problem(match="params")` does.
    """
    _check_cells(cells)
    if match not in ("hidden", "params"):
        raise ValueError(f"match must be 'hidden' or 'params', got {match!r}")
    reference = train.count_parameters(train.SequenceModel("lstm", input_size, hidden_size, output_size))
    out = {}
    for cell in cells:
        h = hidden_size if match == "hidden" else train.matched_hidden_size(cell, reference, input_size, output_size)
        model = train.SequenceModel(cell, input_size, h, output_size)
        out[cell] = {"hidden_size": h,
                     "layer_formula": layer_parameters(cell, input_size, h),
                     "layer_counted": train.count_parameters(model.rnn),
                     "model_formula": model_parameters(cell, input_size, h, output_size),
                     "model_counted": train.count_parameters(model)}
    return out


def steps_to_threshold(result: dict, threshold: float) -> dict:
    """Per cell and seed: the first validation step with loss below `threshold`, or None if never."""
    out = {}
    for cell, data in result["cells"].items():
        out[cell] = [next((s for s, v in zip(run["val_step"], run["val_loss"]) if v < threshold), None)
                     for run in data["runs"]]
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
    return {cell: s[config.warmup:] for cell, s in seconds.items()}


def _cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), or "" where there is none."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        return ""


@experiment("step_time", modules=TRAINING)
def step_time(config: StepTimeConfig = StepTimeConfig()) -> dict:
    """Median seconds per training step per task and cell (torch.nn layers), with the machine's name."""
    import platform
    import statistics
    _check_cells(config.cells)
    sizes = task_sizes()
    out = {"machine": _cpu_name() or platform.machine(), "torch": str(torch.__version__),
           "threads": 1, "repeats": config.repeats, "tasks": {}}
    for name in config.task_names:
        times = pool.in_process(_time_steps, [(name, sizes[name], config)])[0]
        out["tasks"][name] = {"sizes": {k: v for k, v in sizes[name].items() if k != "args"},
                              "cells": {cell: {"median": statistics.median(s), "min": min(s), "max": max(s),
                                               "seconds": s} for cell, s in times.items()}}
    return out


@dataclass(frozen=True)
class TextModelConfig:
    """One LSTM character model on torch/nn's source, trained longer than `char_model`'s.

    One seed: the whole budget goes to one model, whose cells the real-text page searches.
    """

    hidden_size: int = 128
    seq_len: int = 100
    steps: int = 1500
    batch_size: int = 32
    lr: float = 6e-3  # reached 1.79 bits/char at 1500 steps where 3e-3 reached 2.12
    eval_every: int = 100
    seed: int = 0


@experiment("text_model", modules=TRAINING)
def text_model(config: TextModelConfig = TextModelConfig()) -> dict:
    """Validation bits per character against steps of one LSTM, its trained weights and the baseline."""
    corpus = tasks.CharCorpus(seq_len=config.seq_len)
    train_config = TrainConfig(steps=config.steps, batch_size=config.batch_size, lr=config.lr, clip=1.0,
                               eval_every=config.eval_every, seed=config.seed)
    # _map: one job runs in this process on one thread (two spin and crawl on a shared CPU).
    log = pool.run_jobs(_run, [("lstm", "char", {"seq_len": config.seq_len}, config.hidden_size,
                       asdict(train_config), None, True)])[0]
    bits = 1 / math.log(2)
    return {"baseline_bpc": corpus.baseline_bpc, "vocab": corpus.vocab, "fingerprint": corpus.fingerprint,
            "val_step": log["val_step"], "val_bpc": [v * bits for v in log["val_loss"]],
            "seconds": log["seconds"][-1], "n_params": log["n_params"], "state_dict": log["state_dict"]}


def _trace_code():
    from . import bptt, cells, interpret, layers
    return (cells, layers, bptt, interpret)


@dataclass(frozen=True)
class TextUnitsConfig:
    """Search the trained `text_model`'s units for ones that track features of the source.

    Runs `snippets.LSTM` (with the trained weights) from a zero state over the first
    `max_chars` characters of every validation file, all files as one padded batch; the
    untrained model (same seed, no training) is searched the same way as a baseline.
    """

    model: TextModelConfig = TextModelConfig()
    max_chars: int = 4000
    # Searched side by side: the cell state (what Karpathy et al. show) and the hidden output.
    traces: tuple = ("c", "h")
    top: int = 3
    excerpt_lines: int = 14
    temperatures: tuple = (0.5, 1.0)
    sample_chars: int = 500
    sample_seed: int = 0
    prime: str = "class "


def validation_texts(corpus: tasks.CharCorpus) -> list[tuple[str, str]]:
    """(path under torch/, whole text) of each validation file, as `CharCorpus` splits them."""
    files = tasks.torch_source_files(corpus.subdir)
    root = next(p for p in files[0].parents if p.name == "torch")
    return [(f.relative_to(root).as_posix(), f.read_text(encoding="utf-8"))
            for i, f in enumerate(files) if i % corpus.val_every == 0]


@torch.no_grad()
def unit_traces(state_dict: dict, corpus: tasks.CharCorpus, texts: list[str],
                keys=("c", "h")) -> list[torch.Tensor]:
    """Traces `keys` of every unit at every character of each text: one (chars, units) tensor per
    text, the keys' units side by side (for `("c", "h")`: columns 0..H-1 are $c_t$, H..2H-1 $h_t$).

    The weights are loaded into `snippets.LSTM` (`train.traceable_layer`); all texts run as one
    batch from a zero state, shorter ones padded at their end, which a left-to-right model never
    sees before the text's last character.
    """
    layer = train.traceable_layer(state_dict)
    ids = [corpus.encode(t) for t in texts]
    x = torch.zeros(len(ids), max(len(i) for i in ids), len(corpus.vocab))
    for b, i in enumerate(ids):
        x[b, torch.arange(len(i)), i] = 1.0
    _, _, trace = layer(x, return_gates=True)
    both = torch.cat([trace[k][0, 0] for k in keys], dim=-1)  # (time, batch, units)
    return [both[:len(i), b, :] for b, i in enumerate(ids)]


def busy_window(features: dict, text: str, n_lines: int) -> tuple[int, float]:
    """The `n_lines`-line window of `text` with the most lines holding a string, a comment and an
    open bracket (the least common of the three counts first): (its first line from 0, its score)."""
    starts = [0] + [k + 1 for k, ch in enumerate(text) if ch == "\n"]
    lines = list(zip(starts, starts[1:] + [len(text)]))
    marks = torch.tensor([[float(features[f][a:b].sum() > 0) for f in ("in_string", "in_comment", "bracket_depth")]
                          for a, b in lines]).reshape(-1, 3)
    if len(lines) <= n_lines:
        return 0, float(marks.sum(0).min() * 1000 + marks.sum())
    windows = marks.unfold(0, n_lines, 1).sum(-1)  # (windows, 3): lines with each mark
    score = windows.min(1).values * 1000 + windows.sum(1)
    return int(score.argmax()), float(score.max())


@torch.no_grad()
def generate(state_dict: dict, corpus: tasks.CharCorpus, hidden_size: int, prime: str, n_chars: int,
             temperature: float, seed: int) -> str:
    r"""Sample `n_chars` characters after `prime`, drawing each from $\mathrm{softmax}(z / \tau)$."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    model = train.SequenceModel("lstm", len(corpus.vocab), hidden_size, len(corpus.vocab))
    model.load_state_dict(state_dict)
    g = torch.Generator().manual_seed(seed)
    one_hot = lambda ids: torch.nn.functional.one_hot(ids, len(corpus.vocab)).float()[None]  # noqa: E731
    h, state = model.rnn(one_hot(corpus.encode(prime)))
    out = []
    for _ in range(n_chars):
        p = torch.softmax(model.readout(h[0, -1]) / temperature, -1)
        nxt = torch.multinomial(p, 1, generator=g)
        out.append(corpus.vocab[int(nxt)])
        h, state = model.rnn(one_hot(nxt), state)
    return prime + "".join(out)


def _search(acts: torch.Tensor, features: dict, top: int, keys, hidden_size: int) -> dict:
    """The best unit per feature and the `top` units per feature; a unit is (trace key, index)."""
    from . import interpret

    def name(column: int) -> dict:
        return {"trace": keys[column // hidden_size], "unit": column % hidden_size, "column": column}

    best = interpret.find_tracking_units(acts, features)
    ranked = {}
    for feature, values in features.items():
        rho = interpret.correlations(acts, values)
        ranked[feature] = [{**name(int(u)), "correlation": float(rho[u])}
                           for u in rho.abs().argsort(descending=True)[:top]]
    return {"best": [{"feature": u.feature, **name(u.unit), "correlation": u.correlation} for u in best],
            "ranked": ranked}


@experiment("text_units", modules=(*TRAINING, *_trace_code()))
def text_units(config: TextUnitsConfig = TextUnitsConfig()) -> dict:
    """Units of the trained `text_model` that track features of Python source, found by correlation.

    Returns the best unit per feature (trained and untrained), the top units, an excerpt of a
    validation file with the best units' values on it, and samples from the model.
    """
    from . import interpret
    trained = text_model(config.model)
    corpus = tasks.CharCorpus(seq_len=config.model.seq_len)
    files = validation_texts(corpus)
    texts = [text[:config.max_chars] for _, text in files]
    features = [{k: v[:config.max_chars] for k, v in interpret.source_features(text).items()} for _, text in files]
    joined = {k: torch.cat([f[k] for f in features]) for k in features[0]}
    seeding.seed_everything(config.model.seed)
    untrained = train.SequenceModel("lstm", len(corpus.vocab), config.model.hidden_size,
                                    len(corpus.vocab)).state_dict()
    hidden = config.model.hidden_size
    out = {"files": [path for path, _ in files], "chars": sum(len(t) for t in texts),
           "traces": list(config.traces), "hidden_size": hidden, "max_chars": config.max_chars}
    acts = {}
    for name, weights in (("trained", trained["state_dict"]), ("untrained", untrained)):
        acts[name] = pool.in_process(unit_traces, [(weights, corpus, texts, config.traces)])[0]
        out[name] = _search(torch.cat(acts[name]), joined, config.top, config.traces, hidden)
    # The excerpt: the busiest window of all evaluated text, with every best unit's values on it.
    windows = [busy_window(f, text, config.excerpt_lines) for f, text in zip(features, texts)]
    k = max(range(len(texts)), key=lambda j: windows[j][1])
    first = windows[k][0]
    starts = [0] + [j + 1 for j, ch in enumerate(texts[k]) if ch == "\n"] + [len(texts[k]) + 1]
    a, b = starts[first], starts[min(first + config.excerpt_lines, len(starts) - 1)] - 1
    every = torch.cat(acts["trained"])
    out["excerpt"] = {
        "file": out["files"][k], "first_line": first + 1, "text": texts[k][a:b],
        "features": {name: f[a:b].tolist() for name, f in features[k].items()},
        "units": {u["feature"]: {**u, "values": acts["trained"][k][a:b, u["column"]].tolist(),
                                 # colour scale: 99th percentile of the unit's |value| over all evaluated
                                 # text (its largest value would leave most characters pale)
                                 "scale": float(every[:, u["column"]].abs().quantile(0.99))}
                  for u in out["trained"]["best"]},
    }
    out["samples"] = [{"temperature": t, "seed": config.sample_seed, "prime": config.prime,
                       "text": generate(trained["state_dict"], corpus, hidden, config.prime,
                                        config.sample_chars, t, config.sample_seed)}
                      for t in config.temperatures]
    return out


def update_gate_extremes(hidden_size: int = 8, seed: int = 0) -> dict:
    r"""Which of $z_t$ and $1 - z_t$ keeps the past, measured in both GRU forms (float64).

    With the update gate saturated at 1, $\max |h_t - h_{t-1}|$; saturated at 0, $\max |h_t - n_t|$.
    """
    from .cells import gru_step
    from .variants import cho_gru_step
    g = torch.Generator().manual_seed(seed)
    H = hidden_size
    xw = torch.randn(4, 3 * H, dtype=torch.float64, generator=g)
    h = torch.randn(4, H, dtype=torch.float64, generator=g)
    weight_hh = torch.randn(3 * H, H, dtype=torch.float64, generator=g)
    bias_hh = torch.randn(3 * H, dtype=torch.float64, generator=g)
    out = {}
    for name, step in (("pytorch", gru_step), ("cho", cho_gru_step)):
        for z_value, bias in ((1, 1e4), (0, -1e4)):
            shifted = xw.clone()
            shifted[:, H:2 * H] = bias  # sigmoid(+-1e4) is exactly 1 or 0 in float64
            new_h, (_, z, n) = step(shifted, h, weight_hh, bias_hh)
            gap = (new_h - h) if z_value == 1 else (new_h - n)
            out[f"{name}_z{z_value}"] = float(gap.abs().max())
    return out


@dataclass(frozen=True)
class SameWeightsConfig:
    """Both GRU forms on one set of weights and inputs, float64; weights from U(-bound, bound)."""

    T: int = 50
    input_size: int = 4
    hidden_size: int = 32
    batch: int = 64
    seeds: tuple = (0, 1, 2)
    bounds: tuple = (None, 1.0)  # None: torch.nn's default U(-1/sqrt(H), 1/sqrt(H))


def _same_weights_run(config: SameWeightsConfig, seed: int, bound: float | None) -> dict:
    """|h_PyTorch - h_Cho| per step on one seed's weights and inputs; also with r forced open."""
    from .layers import GRU
    from .variants import ChoGRU
    seeding.seed_everything(seed)
    pytorch_form = GRU(config.input_size, config.hidden_size).double()
    if bound is not None:
        with torch.no_grad():
            for p in pytorch_form.parameters():
                p.uniform_(-bound, bound)
    cho_form = ChoGRU(config.input_size, config.hidden_size).double()
    cho_form.load_state_dict(pytorch_form.state_dict())
    x = torch.randn(config.T, config.batch, config.input_size, dtype=torch.float64,
                    generator=seeding.data_generator(seed))
    with torch.no_grad():
        h_pt, _, trace = pytorch_form(x, return_gates=True)
        h_cho = cho_form(x)[0]
        diff = (h_pt - h_cho).abs()
        # Control: a saturated reset gate (r = 1 exactly in float64) makes the two forms one function.
        H = config.hidden_size
        for module in (pytorch_form, cho_form):
            module.bias_ih_l0[:H] = 1e4
        open_diff = (pytorch_form(x)[0] - cho_form(x)[0]).abs()
    return {"mean_abs_diff": diff.mean((1, 2)).tolist(), "max_abs_diff": diff.amax((1, 2)).tolist(),
            "mean_abs_h": h_pt.abs().mean((1, 2)).tolist(), "mean_r": float(trace["r"].mean()),
            "open_reset_max_abs_diff": float(open_diff.max())}


@experiment("gru_forms_same_weights", modules=(seeding, *_layer_code()))
def gru_forms_same_weights(config: SameWeightsConfig = SameWeightsConfig()) -> dict:
    """Per weight scale: the two forms' output difference against time step, per seed."""
    if config.T < 1 or config.batch < 1 or not config.seeds:
        raise ValueError(f"T and batch must be >= 1 and seeds non-empty, got {config!r}")
    out = {"T": config.T, "hidden_size": config.hidden_size, "input_size": config.input_size,
           "batch": config.batch, "seeds": list(config.seeds), "bounds": {}}
    for bound in config.bounds:
        runs = pool.in_process(functools.partial(_same_weights_run, config),
                           [(seed, bound) for seed in config.seeds])
        label = "default" if bound is None else str(bound)
        out["bounds"][label] = {
            "bound": 1 / math.sqrt(config.hidden_size) if bound is None else bound,
            **{key: [r[key] for r in runs] for key in runs[0]}}
    return out


# --------------------------------------------------------------------------------------
# RNN and LSTM pages
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CandidateConfig:
    """A random LSTM (torch.nn's initialisation, forget-gate bias 1) with a tanh or a ReLU candidate.

    Input $x_t \\sim N(0, s^2)$ at each scale $s$ in `scales`; `steps` steps, `batch` sequences,
    no training: a measurement of the forward pass only.
    """

    candidates: tuple = ("tanh", "relu")
    scales: tuple = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
    seeds: tuple = (0, 1, 2)
    steps: int = 300
    hidden_size: int = 64
    input_size: int = 8
    batch: int = 16
    forget_bias: float = 1.0


@experiment("candidate_growth", modules=(memory, seeding))
def candidate_growth(config: CandidateConfig = CandidateConfig()) -> dict:
    """Per candidate and input scale, per seed: mean |c_t|, saturated share and largest write per step."""
    if not config.scales or any(not s > 0 for s in config.scales):
        raise ValueError(f"scales must be positive numbers, got {config.scales!r}")
    jobs = [(cand, scale, seed, config.steps, config.hidden_size, config.input_size, config.batch,
             config.forget_bias)
            for cand in config.candidates for scale in config.scales for seed in config.seeds]
    runs = iter(pool.in_process(memory.cell_state_growth, jobs))
    return {"scales": list(config.scales), "seeds": list(config.seeds), "steps": config.steps,
            "forget_bias": config.forget_bias,
            "runs": {cand: {str(scale): [next(runs) for _ in config.seeds] for scale in config.scales}
                     for cand in config.candidates}}


# --------------------------------------------------------------------------------------
# Speed (reuse page): `python -m snippets.bench` at one size, cached like any experiment
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpeedConfig:
    """`snippets.bench.measure` at batch 32, sequence 100, input 64; medians of interleaved rounds.

    The full benchmark (hidden 128 and 512, 21 rounds) is `python -m snippets.bench`; the site
    runs this smaller one so that a cold build stays within its time budget.
    """

    hidden: int = 128
    repeats: int = 9
    modes: tuple = ("LSTM", "GRU")


@experiment("speed", modules=(bench, bptt, cells, layers))
def speed(config: SpeedConfig = SpeedConfig()) -> dict:
    """Median seconds per training step and per inference, for each candidate of `snippets.bench`."""
    out = {"machine": bench.machine(), "hidden": config.hidden, "repeats": config.repeats, "modes": {}}
    for mode in config.modes:
        medians, _ = bench.measure(mode, config.hidden, config.repeats, compiled=False)
        out["modes"][mode] = {name: [train, infer] for name, (train, infer) in medians.items()}
    return out


# What the site shows: (experiment, config); None is the experiment's default config.
ALL = ((adding_problem, None), (adding_problem, AddingConfig(match="params")), (copy_task, None),
       (recall, None), (char_model, None), (gradient_decay_rnn, None), (gradient_decay_lstm, None),
       (gradient_decay_gru, None), (exploding_gradients, None), (candidate_growth, None),
       (lstm_variants, None), (gru_forms, None), (gru_forms_same_weights, None))
ALL += ((step_time, None), (text_model, None), (text_units, None))  # comparison and real-text pages
ALL += ((speed, None),)  # reuse page


# Experiments that train on the worker pool and need no other experiment's result: `run_all`
# runs them side by side, so the pool stays busy while one of them waits for its slowest run.
SIDE_BY_SIDE = (adding_problem, copy_task, recall, char_model, exploding_gradients, lstm_variants,
                gru_forms, text_model)


last_run_seconds: float | None = None  # wall clock of this process's last run_all


def run_all() -> list[dict]:
    """Every experiment the site shows (through the cache); returns the cache report.

    First the SIDE_BY_SIDE ones, at once; then the rest in order (timings last, on a quiet CPU).
    """
    global last_run_seconds
    began = time.perf_counter()
    first = [call for call in ALL if call[0] in SIDE_BY_SIDE]
    start = len(cache.report())
    pool.side_by_side(functools.partial(fn, config) for fn, config in first)
    cache.sort_report(start, [fn.experiment_name for fn, _ in first])  # they end in any order
    for fn, config in ALL:
        if (fn, config) not in first:
            fn(config)
    last_run_seconds = time.perf_counter() - began
    return cache.report()


if __name__ == "__main__":  # python -m snippets.experiments: warm the cache, print the timings
    for record in run_all():
        print(f"{record['name']:<22} {'hit ' if record['hit'] else 'miss'} {record['seconds']:8.2f} s")
    print(f"total {last_run_seconds:.1f} s (wall clock)")
