"""The LSTM variants and the two forms of the GRU, trained and compared.

Both experiments are a `runs.sweep` (result format in `snippets.experiments.runs`) of models built
on `snippets`' own layers (`_variant_layers`: the variants have no torch.nn twin), trained
together per model by the ensemble's steps engine, which runs the step functions the pages show.
Every run records its gate blocks' mean biases at every evaluation (`runs.bias_blocks`, the log's
`probe`): how far each gate is open, and which way it drifts while the model is still at chance.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch

from .. import seeding
from ..train import TrainConfig
from . import pool
from .cache import experiment
from .runs import sweep

# The keep gate of each model: the block of its bias that decides how much of the old state stays
# (the forget gate f of an LSTM or CIFG, the update gate z of a GRU; the 1997 cell has none, its
# input gate i decides how much is written).
KEEP_BLOCK = {"lstm": 1, "lstm_fb1": 1, "peephole": 1, "coupled": 0, "lstm1997": 0, "gru": 1, "cho_gru": 1}


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


def _compare_models(config) -> dict:
    """`runs.sweep` of the config's models on its task, each on its `snippets` layer."""
    known = _variant_layers()
    models = config.models
    if not models or any(m not in known for m in models):
        raise ValueError(f"models must be a non-empty subset of {sorted(known)}, got {models!r}")
    names = {m: ("lstm" if known[m][0].__name__ == "LSTM" else m, known[m][1]) for m in models}
    out = sweep(
        config.task,
        dict(config.task_args),
        models,
        seeding.seeds(config.seeds),
        config.lrs,
        {m: config.hidden_size for m in models},
        config.train,
        config.test_size,
        config.sweep_seeds,
        layers={m: known[m][0] for m in models},
        known=names,
    )
    out["keep_block"] = {m: KEEP_BLOCK[m] for m in models}
    return out


@dataclass(frozen=True)
class VariantsConfig:
    """Five LSTMs, same hidden size, on one task; Adam, clipping at 1, early stop at `train.target_loss`.

    All five run on `snippets`' own step functions (the variants have no `torch.nn` twin).
    """

    models: tuple = ("lstm", "lstm_fb1", "lstm1997", "peephole", "coupled")
    task: str = "recall"
    task_args: tuple = (("gap", 10),)  # at gap 20 every forget-gate model stayed at chance in 600 steps
    seeds: int = 5
    lrs: tuple = (1e-2, 3e-2)
    sweep_seeds: int = 2
    hidden_size: int = 32
    train: TrainConfig = TrainConfig(steps=600, batch_size=16, clip=1.0, eval_every=25, val_size=256, target_loss=0.05)
    test_size: int = 1024


@experiment("lstm_variants")
def lstm_variants(config: VariantsConfig = VariantsConfig()) -> dict:
    """Per LSTM variant: validation loss against steps (mean, 95 % CI), test loss and accuracy,
    the learning rate chosen, the gate biases over training; parameter counts and baseline."""
    return _compare_models(config)


@dataclass(frozen=True)
class GRUFormsConfig:
    """PyTorch's GRU against Cho et al.'s, same hidden size and budget, on one task."""

    models: tuple = ("gru", "cho_gru")
    task: str = "recall"
    task_args: tuple = (("gap", 10),)  # at gap 20 both forms solved it on some seeds only
    seeds: int = 5
    lrs: tuple = (1e-2, 3e-2)
    sweep_seeds: int = 2
    hidden_size: int = 32
    train: TrainConfig = TrainConfig(steps=600, batch_size=16, clip=1.0, eval_every=25, val_size=256, target_loss=0.05)
    test_size: int = 1024


@experiment("gru_forms")
def gru_forms(config: GRUFormsConfig = GRUFormsConfig()) -> dict:
    """Both GRU forms trained side by side (the first seed's weights kept, `cells[m]["runs"][0]`)."""
    return _compare_models(config)


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
    seeds: int = 5
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
    if config.T < 1 or config.batch < 1:
        raise ValueError(f"T and batch must be >= 1, got {config!r}")
    seeds = seeding.seeds(config.seeds)
    out = {
        "T": config.T,
        "hidden_size": config.hidden_size,
        "input_size": config.input_size,
        "batch": config.batch,
        "seeds": list(seeds),
        "bounds": {},
    }
    for bound in config.bounds:
        runs = pool.in_process(functools.partial(_same_weights_run, config), [(seed, bound) for seed in seeds])
        label = "default" if bound is None else str(bound)
        out["bounds"][label] = {
            "bound": 1 / math.sqrt(config.hidden_size) if bound is None else bound,
            **{key: [r[key] for r in runs] for key in runs[0]},
        }
    return out
