"""What flows through the state: gradient norms back through time, exploding gradients and
clipping, and the growth of the LSTM's cell state."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from .. import candidate, gradients, lstm_paths, seeding, tasks, train
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


@dataclass(frozen=True)
class CellGradientConfig:
    """The LSTM page's measurement: untrained LSTMs (torch.nn's initialisation), `T` steps, float64.

    At each forget-gate bias, the gradient at the cell state through every path, through every path
    but the loop through the candidate (or the input gate), and along the cell state alone (`snippets.lstm_paths`); with
    a tanh RNN at largest singular value `rnn_sigma` for comparison. Same sizes as `GradientConfig`.
    """

    T: int = 100
    hidden_size: int = 64
    input_size: int = 4
    batch: int = 32
    seeds: int = 5
    forget_biases: tuple = (0.0, 1.0, 3.0)
    rnn_sigma: float = 1.0


# name -> the gate blocks whose h_{t-1} is cut ("no_input" is for the page's exercise)
CELL_PATHS = {"all": "", "no_candidate": "g", "no_input": "i", "cell": lstm_paths.TRUNCATED}


def lstm_path_norms(config: CellGradientConfig, forget_bias: float, seed: int) -> dict:
    """One seed: per path, the mean over sequences of ||dL/dc_{T-k}|| against k; and the mean forget gate.

    The layer, input and loss are `gradients.measure("lstm", ...)`'s, so "all" is its "c" curve and
    "cell" its "cell_path" curve (a test holds them equal).
    """
    layer, x, w = _fresh_lstm(config, seed, forget_bias)
    out = {name: lstm_paths.cell_gradient_norms(layer, x, w, cut).mean(0).tolist() for name, cut in CELL_PATHS.items()}
    with torch.no_grad():
        out["mean_f"] = float(lstm_paths.unroll(layer, x)[2].mean())
    return out


def _fresh_lstm(config: CellGradientConfig, seed: int, forget_bias: float):
    """The layer, input and unit vector `w` of `gradients.measure("lstm", ...)` for this seed and bias."""
    seeding.seed_everything(seed)
    layer = train.CELLS["lstm"](config.input_size, config.hidden_size, batch_first=True).double()
    train.set_forget_bias(layer, forget_bias)
    g = seeding.data_generator(seed)
    x = torch.randn(config.batch, config.T, config.input_size, generator=g, dtype=torch.float64)
    w = torch.randn(config.hidden_size, generator=g, dtype=torch.float64)
    return layer, x, w / w.norm()


def _rnn_norms(config: CellGradientConfig, seed: int) -> list:
    measured = gradients.measure(
        "rnn", config.T, config.hidden_size, config.input_size, config.batch, seed=seed, sigma=config.rnn_sigma
    )
    return measured["norms"]["h"].mean(0).tolist()


@experiment("gradient_decay_lstm")
def gradient_decay_lstm(config: CellGradientConfig = CellGradientConfig()) -> dict:
    """Per forget-gate bias and path: ||dL/dc_{T-k}|| against k per seed (mean over sequences)."""
    seeds = seeding.seeds(config.seeds)
    curves = {}
    for bias in config.forget_biases:
        runs = pool.in_process(functools.partial(lstm_path_norms, config, bias), [(seed,) for seed in seeds])
        curves[str(bias)] = {name: [r[name] for r in runs] for name in (*CELL_PATHS, "mean_f")}
    return {
        "forget_biases": list(config.forget_biases),
        "seeds": list(seeds),
        "k": list(range(config.T)),
        "paths": dict(CELL_PATHS),
        "curves": curves,  # {str(bias): {path: [per seed: [per k]]}, "mean_f": [per seed]}
        "rnn": {"sigma": config.rnn_sigma, "per_seed": pool.in_process(_rnn_norms, [(config, seed) for seed in seeds])},
        "batch": config.batch,
        "hidden_size": config.hidden_size,
    }


@dataclass(frozen=True)
class TruncatedConfig:
    """Full backpropagation through time against the 1997 truncated gradient, on the same networks.

    Untrained LSTMs (`SequenceModel`, torch.nn's initialisation, forget-gate bias set) on one batch
    of the adding problem at length `T`, float64: no training, two gradients of one loss.
    """

    T: int = 100
    hidden_size: int = 32
    batch: int = 256
    seeds: int = 5
    forget_biases: tuple = (0.0, 1.0, 3.0)


def _cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a * b).sum() / (a.norm() * b.norm()))


def truncated_run(config: TruncatedConfig, forget_bias: float, seed: int) -> dict:
    """One seed: ||dL/dx_{T-k}|| against k (mean over sequences) for both gradients, and how their
    gradients of the layer's weights compare: cosine and norm ratio (truncated / full)."""
    task = tasks.AddingProblem(T=config.T)
    seeding.seed_everything(seed)
    model = train.SequenceModel("lstm", task.input_size, config.hidden_size, task.output_size).double()
    train.set_forget_bias(model.rnn, forget_bias)
    x, y = task.sample(config.batch, seeding.data_generator(seed, stream=1))
    x, y = x.double(), y.double()
    full, cut = (lstm_paths.loss_gradients(model.rnn, model.readout, x, y, c) for c in ("", lstm_paths.TRUNCATED))
    weights = [name for name in full if name != "x"]
    flat = {g: torch.cat([grads[n].flatten() for n in weights]) for g, grads in (("full", full), ("cut", cut))}
    return {
        "x_full": full["x"].norm(dim=2).mean(0).flip(0).tolist(),  # k order: distance from the answer
        "x_truncated": cut["x"].norm(dim=2).mean(0).flip(0).tolist(),
        "cosine": _cosine(flat["full"], flat["cut"]),
        "norm_ratio": float(flat["cut"].norm() / flat["full"].norm()),
    }


@experiment("truncated_gradient")
def truncated_gradient(config: TruncatedConfig = TruncatedConfig()) -> dict:
    """Per forget-gate bias, per seed: the full and the truncated gradient compared (see `truncated_run`)."""
    seeds = seeding.seeds(config.seeds)
    runs = {str(b): pool.in_process(truncated_run, [(config, b, seed) for seed in seeds]) for b in config.forget_biases}
    return {
        "forget_biases": list(config.forget_biases),
        "seeds": list(seeds),
        "T": config.T,
        "hidden_size": config.hidden_size,
        "batch": config.batch,
        "runs": runs,
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
    seeds: int = 5
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
    seeds = seeding.seeds(config.seeds)
    jobs = [
        (cand, scale, seed, config.steps, config.hidden_size, config.input_size, config.batch, config.forget_bias)
        for cand in config.candidates
        for scale in config.scales
        for seed in seeds
    ]
    runs = iter(pool.in_process(candidate.cell_state_growth, jobs))
    return {
        "scales": list(config.scales),
        "seeds": list(seeds),
        "steps": config.steps,
        "forget_bias": config.forget_bias,
        "runs": {
            cand: {str(scale): [next(runs) for _ in seeds] for scale in config.scales} for cand in config.candidates
        },
    }
