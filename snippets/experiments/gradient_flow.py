"""What flows through the state: gradient norms back through time, exploding gradients and
clipping, and the growth of the LSTM's cell state."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import torch

from .. import candidate, gradients, lstm_paths, seeding, tasks, train
from ..train import TrainConfig
from . import pool, stats
from .cache import experiment


@dataclass(frozen=True)
class GradientConfig:
    """Gradient norms at initialisation, `T` steps, float64, over `seeds` seeds (`seeding.seeds`).

    tanh RNN: full curves at each of `sigmas` (largest singular value of W_hh), for PyTorch's
    random W_hh and an orthogonal one; per-step rates only (no curves) also at each of `rate_sigmas`.
    Rates are fitted on distances k >= `fit_from`.
    """

    T: int = 100
    hidden_size: int = 64
    input_size: int = 4
    batch: int = 32
    seeds: int = 5
    sigmas: tuple = (0.5, 0.9, 1.0, 1.5, 3.0)  # tanh RNN: largest singular value of W_hh
    rate_sigmas: tuple = (1.25, 2.0, 2.5, 3.5)  # tanh RNN: rates only, besides those at `sigmas`
    fit_from: int = 10
    forget_biases: tuple = (0.0, 1.0, 3.0)  # LSTM

    def __post_init__(self):
        if not 0 <= self.fit_from <= self.T - 2:
            raise ValueError(f"expected fit_from in [0, T - 2] = [0, {self.T - 2}], got {self.fit_from!r}")


def _measure(cell: str, config: GradientConfig, **kwargs) -> list[dict]:
    """`gradients.measure` on each seed of `config`, in this process (it takes a fraction of a second)."""
    return [
        gradients.measure(cell, config.T, config.hidden_size, config.input_size, config.batch, seed=seed, **kwargs)
        for seed in seeding.seeds(config.seeds)
    ]


def _norm_curves(cell: str, config: GradientConfig, **kwargs) -> dict:
    """Per distance k: mean over the batch per seed, then over seeds (mean/min/max, and the 95 % CI
    of the mean of log10), per path; for the RNN, per seed also its rates, rho and mean tanh slope.

    On one thread, as in the workers: these tensors are small, and torch's thread pool spends more
    than it saves on them (up to a thousand times more when other processes share the cores)."""
    return pool.in_process(_curves, [(cell, config, kwargs)])[0]


def _curves(cell: str, config: GradientConfig, kwargs: dict) -> dict:
    runs = _measure(cell, config, **kwargs)
    out = {"k": list(range(config.T)), "sigma_max": [r["sigma_max"] for r in runs]}
    for path in runs[0]["norms"]:
        per_seed = torch.stack([r["norms"][path].mean(0) for r in runs])
        log_mean, log_low, log_high = stats.mean_ci95(per_seed.log10())
        out[path] = {
            "per_seed": per_seed.tolist(),
            "mean": per_seed.mean(0).tolist(),
            "min": per_seed.min(0).values.tolist(),
            "max": per_seed.max(0).values.tolist(),
            # geometric mean over seeds and its 95 % confidence interval (log10), for log-scale plots
            "log10_mean": log_mean.tolist(),
            "log10_low": log_low.tolist(),
            "log10_high": log_high.tolist(),
            # the largest per-sequence ratio to the first norm, for the bound check
            "max_ratio": torch.stack([r["norms"][path] / r["norms"][path][:, :1] for r in runs]).amax((0, 1)).tolist(),
        }
    out.update(_rates(runs, config))
    return out


def _rates(runs: list[dict], config: GradientConfig) -> dict:
    """Per seed: the fitted rate of ||dL/dh||, and for the RNN rho, the mean tanh slope and the linear pass's rate."""
    out = {"rate": [gradients.decay_rate(r["norms"]["h"], config.fit_from) for r in runs]}
    if "rho" in runs[0]:
        out["rho"] = [r["rho"] for r in runs]
        out["linear_rate"] = [gradients.decay_rate(r["linear"], config.fit_from) for r in runs]
    if "tanh_slope" in runs[0]:
        out["tanh_slope"] = [r["tanh_slope"] for r in runs]
    return out


def _rates_at(config: GradientConfig, sigma: float, init: str) -> dict:
    return _rates(_measure("rnn", config, sigma=sigma, init=init), config)


INITS = ("default", "orthogonal")  # PyTorch's random W_hh, and sigma * Q with Q orthogonal


@experiment("gradient_decay_rnn")
def gradient_decay_rnn(config: GradientConfig = GradientConfig()) -> dict:
    """tanh RNN: ||dL/dh_{T-k}|| against k at each largest singular value, and the bound lambda_1^k,
    for a random W_hh (`curves`) and an orthogonal one (`orthogonal`); per-seed rates at `rate_sigmas`."""
    out = {
        "sigmas": list(config.sigmas),
        "seeds": list(seeding.seeds(config.seeds)),
        "T": config.T,
        "hidden_size": config.hidden_size,
        "batch": config.batch,
        "fit_from": config.fit_from,
    }
    for init, key in zip(INITS, ("curves", "orthogonal")):
        out[key] = {}
        for sigma in config.sigmas:
            curves = _norm_curves("rnn", config, sigma=sigma, init=init)
            curves["bound"] = [sigma**k for k in curves["k"]]
            out[key][str(sigma)] = curves
    # Rates at every sigma, in increasing order: those of the curves, and the rate-only ones.
    out["rate_sigmas"] = sorted(set(config.sigmas) | set(config.rate_sigmas))
    fields = ("rate", "rho", "linear_rate", "tanh_slope")
    out["rates"] = {}
    for init, key in zip(INITS, ("curves", "orthogonal")):
        extra = dict(
            zip(config.rate_sigmas, pool.in_process(_rates_at, [(config, s, init) for s in config.rate_sigmas]))
        )
        out["rates"][init] = {
            str(s): {f: out[key][str(s)][f] for f in fields} if str(s) in out[key] else extra[s]
            for s in out["rate_sigmas"]
        }
    return out


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

    The same `seeds` seeds (`seeding.seeds`: initial weights and data) are trained without
    clipping and with clipping by norm at each value of `clips`, all as one batched ensemble
    (`snippets.fast.ensemble`: each member computes what it computes alone, up to rounding).
    """

    T: int = 10
    sigma: float = 3.0
    hidden_size: int = 64
    lr: float = 0.1
    steps: int = 1000
    batch_size: int = 32
    clips: tuple = (None, 1.0)
    seeds: int = 5
    eval_every: int = 50


def _rescale_hh(model, sigma: float) -> None:
    gradients.set_largest_singular_value(model.rnn.weight_hh_l0, sigma)


def _exploding_runs(config: ExplodingConfig) -> list[dict]:
    """Every (clip, seed) member of `config` trained as one ensemble (a job for the pool)."""
    from ..fast.ensemble import train_ensemble

    members = [
        TrainConfig(
            steps=config.steps,
            batch_size=config.batch_size,
            lr=config.lr,
            optimizer="sgd",
            clip=clip,
            eval_every=config.eval_every,
            val_size=1024,
            seed=seed,
        )
        for clip in config.clips
        for seed in seeding.seeds(config.seeds)
    ]
    task = tasks.AddingProblem(T=config.T)
    init = functools.partial(_rescale_hh, sigma=config.sigma)
    return train_ensemble("rnn", task, config.hidden_size, members, init=init, desc="exploding")


def _thin(log: dict, first: int = 50, every: int = 10) -> dict:
    """A run's per-step lists at steps 1..`first` and every `every`-th step after (and the last)."""
    keep = [i for i, step in enumerate(log["step"]) if step <= first or step % every == 0 or i == len(log["step"]) - 1]
    out = {key: log[key] for key in ("val_step", "val_loss", "status", "steps_run")}
    out.update({key: [log[key][i] for i in keep] for key in ("step", "train_loss", "grad_norm")})
    return out


@experiment("exploding_gradients")
def exploding_gradients(config: ExplodingConfig = ExplodingConfig()) -> dict:
    """Per clip setting: status, gradient norms and validation MSE per seed; baseline 1/6."""
    (logs,) = pool.run_jobs(_exploding_runs, [(config,)])
    seeds = seeding.seeds(config.seeds)
    out = {
        "baseline": tasks.AddingProblem(T=config.T).baseline,
        "seeds": list(seeds),
        "config": dataclasses.asdict(config),
        "runs": {},
    }
    for i, clip in enumerate(config.clips):
        group = logs[i * len(seeds) : (i + 1) * len(seeds)]
        out["runs"][str(clip)] = {
            "status": [r["status"] for r in group],
            "steps_run": [r["steps_run"] for r in group],
            "final_val_loss": [r["val_loss"][-1] for r in group],
            "logs": [_thin(r) for r in group],
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
