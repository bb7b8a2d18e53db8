"""What flows through the state: gradient norms back through time, exploding gradients and
clipping, and the growth of the LSTM's cell state."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from .. import candidate, gradients, seeding, tasks, train
from ..train import TrainConfig
from . import pool
from .cache import experiment
from .runs import slim


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
    runs = pool.in_process(
        functools.partial(
            gradients.measure, cell, config.T, config.hidden_size, config.input_size, config.batch, **kwargs
        ),
        [(seed,) for seed in config.seeds],
    )
    out = {"k": list(range(config.T)), "sigma_max": [r["sigma_max"] for r in runs]}
    for path in runs[0]["norms"]:
        per_seed = torch.stack([r["norms"][path].mean(0) for r in runs])
        out[path] = {
            "per_seed": per_seed.tolist(),
            "mean": per_seed.mean(0).tolist(),
            "min": per_seed.min(0).values.tolist(),
            "max": per_seed.max(0).values.tolist(),
            # the largest per-sequence ratio to the first norm, for the bound check
            "max_ratio": torch.stack([r["norms"][path] / r["norms"][path][:, :1] for r in runs]).amax((0, 1)).tolist(),
        }
    return out


@experiment("gradient_decay_rnn")
def gradient_decay_rnn(config: GradientConfig = GradientConfig()) -> dict:
    """tanh RNN: ||dL/dh_{T-k}|| against k at each largest singular value, and the bound lambda_1^k."""
    out = {}
    for sigma in config.sigmas:
        curves = _norm_curves("rnn", config, sigma=sigma)
        curves["bound"] = [sigma**k for k in curves["k"]]
        out[str(sigma)] = curves
    return {"sigmas": list(config.sigmas), "curves": out}


@experiment("gradient_decay_lstm")
def gradient_decay_lstm(config: GradientConfig = GradientConfig()) -> dict:
    """LSTM: hidden-state and cell-state gradient norms against k at each forget-gate bias."""
    return {
        "forget_biases": list(config.forget_biases),
        "curves": {str(b): _norm_curves("lstm", config, forget_bias=b) for b in config.forget_biases},
    }


@experiment("gradient_decay_gru")
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
    log = train.train(
        model,
        task,
        TrainConfig(
            steps=config.steps,
            batch_size=config.batch_size,
            lr=config.lr,
            optimizer="sgd",
            clip=clip,
            eval_every=config.eval_every,
            val_size=1024,
            seed=seed,
        ),
    )
    return slim(log)


@experiment("exploding_gradients")
def exploding_gradients(config: ExplodingConfig = ExplodingConfig()) -> dict:
    """Per clip setting: status, gradient norms and validation MSE per seed; baseline 1/6."""
    runs = pool.run_jobs(_run_exploding, [(config, clip, seed) for clip in config.clips for seed in config.seeds])
    out = {"baseline": tasks.AddingProblem(T=config.T).baseline, "runs": {}}
    for i, clip in enumerate(config.clips):
        group = runs[i * len(config.seeds) : (i + 1) * len(config.seeds)]
        out["runs"][str(clip)] = {
            "status": [r["status"] for r in group],
            "steps_run": [r["steps_run"] for r in group],
            "final_val_loss": [r["val_loss"][-1] for r in group],
            "logs": group,
        }
    return out


# --------------------------------------------------------------------------------------
# Cell-state growth (RNN and LSTM pages)
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


@experiment("candidate_growth")
def candidate_growth(config: CandidateConfig = CandidateConfig()) -> dict:
    """Per candidate and input scale, per seed: mean |c_t|, saturated share and largest write per step."""
    if not config.scales or any(not s > 0 for s in config.scales):
        raise ValueError(f"scales must be positive numbers, got {config.scales!r}")
    jobs = [
        (cand, scale, seed, config.steps, config.hidden_size, config.input_size, config.batch, config.forget_bias)
        for cand in config.candidates
        for scale in config.scales
        for seed in config.seeds
    ]
    runs = iter(pool.in_process(candidate.cell_state_growth, jobs))
    return {
        "scales": list(config.scales),
        "seeds": list(config.seeds),
        "steps": config.steps,
        "forget_bias": config.forget_bias,
        "runs": {
            cand: {str(scale): [next(runs) for _ in config.seeds] for scale in config.scales}
            for cand in config.candidates
        },
    }
