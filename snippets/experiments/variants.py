"""The LSTM variants and the two forms of the GRU, trained and compared."""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass

import torch

from .. import seeding, tasks, train
from ..train import TrainConfig
from . import pool
from .cache import experiment
from .runs import slim, summarise


def _variant_layers() -> dict:
    """Model name -> (layer class, forget-gate bias or None): the models of the two pages."""
    from .. import layers, variants

    return {
        "lstm": (layers.LSTM, None),
        "lstm_fb1": (layers.LSTM, 1.0),
        "lstm1997": (variants.LSTM1997, None),
        "peephole": (variants.PeepholeLSTM, None),
        "coupled": (variants.CoupledLSTM, None),
        "gru": (layers.GRU, None),
        "cho_gru": (variants.ChoGRU, None),
    }


def _run_variant(
    model_name: str, task_name: str, task_args: dict, hidden_size: int, config: dict, keep_weights: bool = False
) -> dict:
    """One training run of a `snippets` layer by model name (a job for the pool)."""
    from ..variants import set_forget_bias

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
    return slim(log)


def _compare_models(
    models, task_name: str, task_args: dict, seeds, hidden_size: int, config: TrainConfig, keep_weights_of=()
) -> dict:
    """Every model on every seed, same task, hidden size and budget; summaries per model."""
    known = _variant_layers()
    if not models or any(m not in known for m in models):
        raise ValueError(f"models must be a non-empty subset of {sorted(known)}, got {models!r}")
    if len(seeds) < 1 or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, at least one, got {seeds!r}")
    task = tasks.make_task(task_name, **task_args)
    jobs = [
        (
            m,
            task_name,
            task_args,
            hidden_size,
            {**asdict(config), "seed": seed},
            m in keep_weights_of and seed == seeds[0],
        )
        for m in models
        for seed in seeds
    ]
    logs = pool.run_jobs(_run_variant, jobs)
    out = {
        "baseline": task.baseline,
        "task": task_name,
        "task_args": dict(task_args),
        "hidden_size": hidden_size,
        "seeds": list(seeds),
        "models": {},
        "budget": {k: getattr(config, k) for k in ("steps", "batch_size", "lr", "clip", "target_loss")},
    }
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
    return TrainConfig(
        steps=config.steps,
        batch_size=config.batch_size,
        lr=config.lr,
        clip=1.0,
        eval_every=config.eval_every,
        val_size=config.val_size,
        target_loss=config.target_loss,
    )


@experiment("lstm_variants")
def lstm_variants(config: VariantsConfig = VariantsConfig()) -> dict:
    """Validation loss against steps per LSTM variant, over seeds, with parameter counts and baseline."""
    return _compare_models(
        config.models,
        config.task,
        dict(config.task_args),
        config.seeds,
        config.hidden_size,
        _variant_train_config(config),
    )


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


@experiment("gru_forms")
def gru_forms(config: GRUFormsConfig = GRUFormsConfig()) -> dict:
    """Both GRU forms trained side by side; the first seed's weights kept for gate traces."""
    return _compare_models(
        config.models,
        config.task,
        dict(config.task_args),
        config.seeds,
        config.hidden_size,
        _variant_train_config(config),
        keep_weights_of=config.models,
    )


def update_gate_extremes(hidden_size: int = 8, seed: int = 0) -> dict:
    r"""Which of $z_t$ and $1 - z_t$ keeps the past, measured in both GRU forms (float64).

    With the update gate saturated at 1, $\max |h_t - h_{t-1}|$; saturated at 0, $\max |h_t - n_t|$.
    """
    from ..cells import gru_step
    from ..variants import cho_gru_step

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
            shifted[:, H : 2 * H] = bias  # sigmoid(+-1e4) is exactly 1 or 0 in float64
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
    from ..layers import GRU
    from ..variants import ChoGRU

    seeding.seed_everything(seed)
    pytorch_form = GRU(config.input_size, config.hidden_size).double()
    if bound is not None:
        with torch.no_grad():
            for p in pytorch_form.parameters():
                p.uniform_(-bound, bound)
    cho_form = ChoGRU(config.input_size, config.hidden_size).double()
    cho_form.load_state_dict(pytorch_form.state_dict())
    x = torch.randn(
        config.T, config.batch, config.input_size, dtype=torch.float64, generator=seeding.data_generator(seed)
    )
    with torch.no_grad():
        h_pt, _, trace = pytorch_form(x, return_gates=True)
        h_cho = cho_form(x)[0]
        diff = (h_pt - h_cho).abs()
        # Control: a saturated reset gate (r = 1 exactly in float64) makes the two forms one function.
        H = config.hidden_size
        for module in (pytorch_form, cho_form):
            module.bias_ih_l0[:H] = 1e4
        open_diff = (pytorch_form(x)[0] - cho_form(x)[0]).abs()
    return {
        "mean_abs_diff": diff.mean((1, 2)).tolist(),
        "max_abs_diff": diff.amax((1, 2)).tolist(),
        "mean_abs_h": h_pt.abs().mean((1, 2)).tolist(),
        "mean_r": float(trace["r"].mean()),
        "open_reset_max_abs_diff": float(open_diff.max()),
    }


@experiment("gru_forms_same_weights")
def gru_forms_same_weights(config: SameWeightsConfig = SameWeightsConfig()) -> dict:
    """Per weight scale: the two forms' output difference against time step, per seed."""
    if config.T < 1 or config.batch < 1 or not config.seeds:
        raise ValueError(f"T and batch must be >= 1 and seeds non-empty, got {config!r}")
    out = {
        "T": config.T,
        "hidden_size": config.hidden_size,
        "input_size": config.input_size,
        "batch": config.batch,
        "seeds": list(config.seeds),
        "bounds": {},
    }
    for bound in config.bounds:
        runs = pool.in_process(functools.partial(_same_weights_run, config), [(seed, bound) for seed in config.seeds])
        label = "default" if bound is None else str(bound)
        out["bounds"][label] = {
            "bound": 1 / math.sqrt(config.hidden_size) if bound is None else bound,
            **{key: [r[key] for r in runs] for key in runs[0]},
        }
    return out
