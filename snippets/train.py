"""One training loop for every experiment.

`SequenceModel` is a recurrent layer (`torch.nn.RNN`, `LSTM` or
`GRU`, or any drop-in module of the same contract) with a linear read-out
at every step. `train` runs seeded Adam or SGD with gradient clipping by
norm, records per-step metrics, evaluates on a fixed validation batch, and
stops early once the task counts as solved.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from torch import nn
from tqdm import tqdm

from .seeding import data_generator, seed_everything
from .variants import set_forget_bias  # noqa: F401  (part of the training API)

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _layer_class(cell: str):
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; expected one of {sorted(CELLS)}")
    return CELLS[cell]


class SequenceModel(nn.Module):
    r"""A recurrent layer and a linear read-out at every step: $\hat y_t = W_{hy} h_t + b_y$.

    `layer` may be passed to swap in another module with the `torch.nn`
    contract (`batch_first=True`), for example `snippets.LSTM`.
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, output_size: int, layer: nn.Module | None = None):
        super().__init__()
        self.cell = cell
        self.rnn = layer if layer is not None else _layer_class(cell)(input_size, hidden_size, batch_first=True)
        self.readout = nn.Linear(hidden_size, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.rnn(x)
        return self.readout(h)


def traceable_layer(state_dict: dict) -> nn.Module:
    """The recurrent layer of a trained `SequenceModel`, rebuilt as this package's twin to trace its gates.

    Training runs on `torch.nn` (faster); `snippets.RNN`/`LSTM`/`GRU` take the same weights and
    also return the gate activations (`return_gates=True`). Sizes are read off the weights.
    """
    import snippets  # the package's own modules; imported here because snippets/__init__ may import this one

    weights = {k.removeprefix("rnn."): v for k, v in state_dict.items() if k.startswith("rnn.")}
    if "weight_ih_l0" not in weights:
        raise ValueError(
            "traceable_layer: expected a SequenceModel state_dict with 'rnn.weight_ih_l0', "
            f"got keys {sorted(state_dict)[:4]}"
        )
    hidden = weights["weight_hh_l0"].shape[1]
    gates = weights["weight_ih_l0"].shape[0] // hidden
    cls = {1: snippets.RNN, 4: snippets.LSTM, 3: snippets.GRU}[gates]
    layer = cls(weights["weight_ih_l0"].shape[1], hidden, bias="bias_ih_l0" in weights, batch_first=True)
    layer.load_state_dict(weights)
    return layer.to(weights["weight_ih_l0"].dtype)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable scalars, counted from the module itself."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def matched_hidden_size(cell: str, n_params: int, input_size: int, output_size: int) -> int:
    """The hidden size whose `SequenceModel` has the parameter count closest to `n_params`.

    Counts come from built modules, not formulas, so they stay right whatever
    the layer's biases and gates are.
    """

    def count(h):
        return count_parameters(SequenceModel(cell, input_size, h, output_size))

    low, high = 1, 1
    while count(high) < n_params:
        low, high = high, high * 2
    while high - low > 1:  # count grows with h: bisect
        mid = (low + high) // 2
        low, high = (mid, high) if count(mid) < n_params else (low, mid)
    return min((low, high), key=lambda h: abs(count(h) - n_params))


@dataclass(frozen=True)
class TrainConfig:
    """How to train: the whole budget of a run is here.

    `target_loss`: stop once the validation loss is below it (early stop on
    success). `clip`: maximum gradient norm, or `None` for no clipping.
    """

    steps: int = 1000
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adam"
    clip: float | None = 1.0
    eval_every: int = 50
    val_size: int = 512
    target_loss: float | None = None
    seed: int = 0

    def __post_init__(self):
        for name in ("steps", "batch_size", "eval_every", "val_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.optimizer not in ("adam", "sgd", "rmsprop"):
            raise ValueError(f"optimizer must be 'adam', 'sgd' or 'rmsprop', got {self.optimizer!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        if self.clip is not None and not self.clip > 0:
            raise ValueError(f"clip must be > 0 or None, got {self.clip!r}")


def _optimizer(config: TrainConfig, params):
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr)
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=config.lr)
    return torch.optim.SGD(params, lr=config.lr)


def validation_batch(task, config: TrainConfig):
    """The fixed validation data of a run: the task's own split, or a held-out seeded batch."""
    if hasattr(task, "validation"):
        return task.validation()
    return task.sample(config.val_size, data_generator(config.seed, stream=1))


@torch.no_grad()
def evaluate(model: nn.Module, task, batch) -> dict:
    """Validation loss and accuracy of `model` on a fixed batch."""
    was_training = model.training
    model.eval()
    x, y = batch
    out = model(x)
    model.train(was_training)
    return {"loss": float(task.loss(out, y)), "accuracy": task.accuracy(out, y)}


def train(
    model: nn.Module, task, config: TrainConfig, desc: str | None = None, on_step: Callable | None = None
) -> dict:
    r"""Train `model` on `task`; return the metrics as plain lists.

    Per step: training loss, gradient norm $\lVert \nabla_\theta L \rVert_2$
    before clipping, and wall-clock seconds since the start. Every
    `eval_every` steps (and at the end): validation loss and accuracy.
    A non-finite loss or gradient ends the run as `diverged`.

    Seeds torch, Python and NumPy with `config.seed` before the first step;
    build the model after `seed_everything` for repeatable weights.
    """
    seed_everything(config.seed)
    g = data_generator(config.seed, stream=0)
    val = validation_batch(task, config)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = _optimizer(config, params)
    clip = math.inf if config.clip is None else config.clip

    log = {
        "step": [],
        "train_loss": [],
        "grad_norm": [],
        "seconds": [],
        "val_step": [],
        "val_loss": [],
        "val_accuracy": [],
    }

    def record_validation(step):
        metrics = evaluate(model, task, val)
        log["val_step"].append(step)
        log["val_loss"].append(metrics["loss"])
        log["val_accuracy"].append(metrics["accuracy"])
        return metrics["loss"]

    status, start = "budget", time.perf_counter()
    # tqdm: shown after 2 s only (short runs stay quiet), never when not a terminal.
    bar = tqdm(range(1, config.steps + 1), desc=desc, disable=None, delay=2.0, leave=False)
    for step in bar:
        x, y = task.sample(config.batch_size, g)
        loss = task.loss(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        # clip_grad_norm_ returns the norm before clipping; with max_norm=inf it only measures.
        grad_norm = float(torch.nn.utils.clip_grad_norm_(params, clip))
        log["step"].append(step)
        log["train_loss"].append(float(loss.detach()))
        log["grad_norm"].append(grad_norm)
        if not (math.isfinite(log["train_loss"][-1]) and math.isfinite(grad_norm)):
            log["seconds"].append(time.perf_counter() - start)
            status = "diverged"
            break
        opt.step()
        log["seconds"].append(time.perf_counter() - start)
        if on_step is not None:
            on_step(step, model)
        if step % config.eval_every == 0 or step == config.steps:
            val_loss = record_validation(step)
            bar.set_postfix(val_loss=f"{val_loss:.4f}", refresh=False)
            if not math.isfinite(val_loss):
                status = "diverged"
                break
            if config.target_loss is not None and val_loss < config.target_loss:
                status = "solved"
                break
    bar.close()
    if status == "diverged" and (not log["val_step"] or log["val_step"][-1] != log["step"][-1]):
        log["val_step"].append(log["step"][-1])
        log["val_loss"].append(math.nan)
        log["val_accuracy"].append(math.nan)
    log["status"] = status
    log["steps_run"] = log["step"][-1]
    log["config"] = asdict(config)
    return log


def train_cell(
    cell: str, task, hidden_size: int, config: TrainConfig, forget_bias: float | None = None, desc: str | None = None
) -> tuple[SequenceModel, dict]:
    """Seed, build a `SequenceModel` of `cell` for `task`, train it; return both."""
    seed_everything(config.seed)  # the same seed gives the same initial weights
    model = SequenceModel(cell, task.input_size, hidden_size, task.output_size)
    if forget_bias is not None:
        if cell != "lstm":
            raise ValueError(f"forget_bias applies to the lstm only, got cell {cell!r}")
        set_forget_bias(model.rnn, forget_bias)
    log = train(model, task, config, desc=desc or f"{cell} seed {config.seed}")
    log["n_params"] = count_parameters(model)
    log["hidden_size"] = hidden_size
    return model, log
