"""The modern-cells page: the minGRU's scan timed against loops, and parity, which a recurrence
whose state only decays cannot track.

Both are sized for the site's cold build (a few CPU seconds each); their budgets are in their configs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import seeding
from ..fast import ensemble
from ..min_rnn import MinGRU, MinLSTM
from ..slstm import SLSTM
from ..tasks import Parity
from ..train import count_parameters
from . import pool
from .cache import experiment
from .layer_timing import machine_description
from .scan_timing import time_min_gru_against_gru

# -- speed ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanSpeedConfig:
    """`time_min_gru_against_gru` at two slices: time against T at one small size, and width at T = `at_length`.

    CPU time of one thread, medians of `repeats` interleaved rounds. The length sweep runs at
    `batch` x `hidden` = 64 lanes (state elements per step); the width sweep at `at_length` steps
    with batch `batch` and each of `widths` as hidden size (its first point is the length sweep's).
    """

    batch: int = 8
    hidden: int = 8
    lengths: tuple = (64, 512, 4096)
    widths: tuple = (64, 256)
    at_length: int = 512
    repeats: int = 3


@experiment("scan_speed")
def scan_speed(config: ScanSpeedConfig = ScanSpeedConfig()) -> dict:
    """Median CPU seconds per candidate: against T (`by_length`) and against width at one T (`by_width`)."""
    if config.at_length not in config.lengths:
        raise ValueError(f"at_length ({config.at_length}) must be one of the lengths {config.lengths}")
    by_length = time_min_gru_against_gru(
        config.lengths, config.batch, config.hidden, config.repeats, seed=seeding.seed(0)
    )
    column = config.lengths.index(config.at_length)
    by_width = {"hidden": [config.hidden], "seconds": {k: [v[column]] for k, v in by_length["seconds"].items()}}
    for hidden in config.widths:
        one = time_min_gru_against_gru((config.at_length,), config.batch, hidden, config.repeats, seed=seeding.seed(0))
        by_width["hidden"].append(hidden)
        for name, seconds in one["seconds"].items():
            by_width["seconds"][name].append(seconds[0])
    return {
        "machine": machine_description(),
        "batch": config.batch,
        "hidden": config.hidden,
        "at_length": config.at_length,
        "repeats": config.repeats,
        "by_length": by_length,
        "by_width": by_width,
    }


# -- parity -----------------------------------------------------------------------------------------

# name -> (layer class, or None for torch.nn's; LSTM forget-gate bias, or None for the default)
PARITY_MODELS: dict[str, tuple[type | None, float | None]] = {
    "lstm": (None, None),
    "lstm_fb1": (None, 1.0),
    "gru": (None, None),
    "min_gru": (MinGRU, None),
    "min_lstm": (MinLSTM, None),
    "slstm": (SLSTM, None),
}

Forward = Callable[[dict[str, Tensor], Tensor], Tensor]  # stacked weights, (K, B, T, I) -> (K, B, T, O)


@dataclass(frozen=True)
class ParityConfig:
    """Running parity (`snippets.tasks.Parity`): train on 3 to 40 bits, test on 40 to 256.

    Every model: one recurrent layer of `hidden_size` units and a linear read-out at every step,
    Adam, gradients clipped at norm `clip`, `steps` updates of `batch_size` strings, for each learning
    rate of `lrs` and each of `seeds` seeds. The learning rate is chosen per model by the mean loss
    over seeds on `val_size` validation strings of 40 bits; only the chosen members are tested, on
    `test_size` strings of `test_length` bits that neither training nor validation drew from.
    """

    models: tuple = tuple(PARITY_MODELS)
    hidden_size: int = 16
    seeds: int = 5
    lrs: tuple = (1e-2, 3e-2, 1e-1, 3e-1)
    steps: int = 100
    batch_size: int = 32
    clip: float = 1.0
    min_length: int = 3
    max_length: int = 40
    val_size: int = 256
    test_size: int = 256
    test_length: int = 256


def _projection(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """$W x_t + b$ for every member: (K, B, T, I) and (K, H, I) -> (T, K, B, H), time first."""
    return torch.einsum("kbti,khi->tkbh", x, weight) + bias[:, None, :]


def _min_rnn_engine(layer: type) -> Forward:
    """`MinGRU`/`MinLSTM` members: the layer's own step function in a time loop, all members at once.

    The gates are elementwise, so one call of the step function serves every member. The loop,
    not the scan: at this size (a few thousand state elements per step) it is the faster of the two
    (`scan_speed`), and the tests hold the two equal.
    """

    def forward(p: dict[str, Tensor], x: Tensor) -> Tensor:
        xw = [_projection(x, p[f"rnn.linear_{gate}.weight"], p[f"rnn.linear_{gate}.bias"]) for gate in layer.gates]
        h, states = xw[0].new_zeros(xw[0].shape[1:]), []
        for xw_t in zip(*(v.unbind(0) for v in xw)):
            h, _ = layer.step(*xw_t, h)
            states.append(h)
        out = torch.einsum("tkbh,koh->kbto", torch.stack(states), p["readout.weight"])
        return out + p["readout.bias"][:, None, None, :]

    return forward


def _engine(name: str, template) -> Forward:
    layer, _ = PARITY_MODELS[name]
    if layer is None:  # torch.nn's LSTM and GRU: the hand-written batched loops of fast.ensemble
        return ensemble.bptt_engine("lstm" if name.startswith("lstm") else "gru")
    if layer in (MinGRU, MinLSTM):
        return _min_rnn_engine(layer)
    return ensemble.steps_engine(template)  # the sLSTM's step function, vmapped over members


def _members(name: str, task: Parity, hidden_size: int, seeds) -> tuple[dict[str, Tensor], object]:
    """Stacked initial weights of one member per seed (each as it is built alone), and one model."""
    layer, forget_bias = PARITY_MODELS[name]
    cell = "lstm" if name.startswith("lstm") else name
    models = [ensemble.build_member(cell, task, hidden_size, s, forget_bias, layer) for s in seeds]
    names = [n for n, _ in models[0].named_parameters()]
    stacked = {n: torch.stack([dict(m.named_parameters())[n].detach() for m in models]) for n in names}
    return stacked, models[0]


def _batch(length: int, size: int, generators) -> tuple[Tensor, Tensor]:
    """One batch of strings of `length` bits per member, from each member's own generator."""
    task = Parity(length, length)
    pairs = [task.sample(size, g) for g in generators]
    return torch.stack([x for x, _ in pairs]), torch.stack([y for _, y in pairs])


def _accuracy_by_position(out: Tensor, y: Tensor) -> Tensor:
    """(K, B, T, 2) outputs, (K, B, T) targets -> (K, T): at position t, the accuracy on strings of t bits.

    The read-out at step t has seen the first t bits only, so it answers for the string of t bits.
    """
    return (out.argmax(-1) == y).double().mean(1)


def train_members(name: str, config: ParityConfig, seeds) -> tuple[dict[str, Tensor], Forward, object, float]:
    """Train member (seed, lr) for every seed and rate of `config` at once, as one batched model.

    Member (seed, lr) starts from the weights that seed gives the model alone and draws its strings
    from that seed's own generator; all members share each step's string length (a batch has one
    length, as `Parity` trains), drawn from a generator of the first seed. Returns the stacked
    weights (rate-major: all seeds of the first rate, then of the next), the forward function, one
    member's model, and the CPU seconds the training took.
    """
    task = Parity(config.min_length, config.max_length)
    initial, template = _members(name, task, config.hidden_size, seeds)
    params = {n: w.repeat(len(config.lrs), *[1] * (w.dim() - 1)).requires_grad_() for n, w in initial.items()}
    forward = _engine(name, template)
    optimizer = ensemble.Optimizer("adam", params, [lr for lr in config.lrs for _ in seeds])
    generators = [seeding.data_generator(seed, stream=0) for _ in config.lrs for seed in seeds]
    lengths = seeding.data_generator(seeds[0], stream=3)
    began = time.thread_time()
    for _ in range(config.steps):
        length = int(torch.randint(config.min_length, config.max_length + 1, (1,), generator=lengths))
        x, y = _batch(length, config.batch_size, generators)
        losses = torch.stack([task.loss(o, t) for o, t in zip(forward(params, x), y)])
        grads = torch.autograd.grad(losses.sum(), list(params.values()))
        grads, _ = ensemble.clip_per_member(list(grads), [config.clip] * len(generators))
        optimizer.step(params, grads)
    return params, forward, template, time.thread_time() - began


def choose_rate(val_loss: list[list[float]]) -> int:
    """The index of the rate with the lowest mean validation loss over seeds (`val_loss[rate][seed]`);
    a rate with a diverged seed (a non-finite loss) is never chosen unless all are."""
    means = [sum(v) / len(v) if all(math.isfinite(x) for x in v) else math.inf for v in val_loss]
    return min(range(len(means)), key=means.__getitem__)


def parity_members(name: str, config: dict, seeds: tuple[int, ...]) -> dict:
    """One model on every seed and rate (a job for the pool): train, choose the rate, test it.

    The rate is chosen on validation strings of `max_length` bits (each seed's stream 1); only the
    chosen rate's members see the test strings (stream 2).
    """
    config = ParityConfig(**config)
    params, forward, template, seconds = train_members(name, config, seeds)
    task = Parity(config.min_length, config.max_length)
    with torch.no_grad():
        val_x, val_y = _batch(config.max_length, config.val_size, [seeding.data_generator(s, 1) for s in seeds])
        rates = len(config.lrs)
        val_out = forward(params, val_x.repeat(rates, 1, 1, 1))
        val_loss = [float(task.loss(o, t)) for o, t in zip(val_out, val_y.repeat(rates, 1, 1))]
        by_rate = [val_loss[k * len(seeds) : (k + 1) * len(seeds)] for k in range(rates)]
        chosen = choose_rate(by_rate)
        rows = torch.arange(chosen * len(seeds), (chosen + 1) * len(seeds))
        best = {n: w.detach().index_select(0, rows) for n, w in params.items()}
        test_x, test_y = _batch(config.test_length, config.test_size, [seeding.data_generator(s, 2) for s in seeds])
        test = _accuracy_by_position(forward(best, test_x), test_y)
    return {
        "model": name,
        "n_params": count_parameters(template),
        "lr": config.lrs[chosen],
        "val_loss": by_rate,  # [rate][seed]
        "test_accuracy": test.tolist(),  # [seed][position 1 .. test_length]
        "train_seconds": seconds,
    }


@experiment("parity")
def parity(config: ParityConfig = ParityConfig()) -> dict:
    """Per model: the learning rate chosen, validation losses, and test accuracy by string length per seed."""
    unknown = [m for m in config.models if m not in PARITY_MODELS]
    if unknown or not config.models:
        raise ValueError(f"models must be a non-empty subset of {sorted(PARITY_MODELS)}, got {config.models!r}")
    seeds = seeding.seeds(config.seeds)
    runs = pool.run_jobs(parity_members, [(m, asdict(config), seeds) for m in config.models])
    task = Parity(config.min_length, config.max_length)
    return {
        "seeds": list(seeds),
        "baseline": task.baseline,
        "config": asdict(config),
        "models": {run["model"]: run for run in runs},
    }


# -- the scan, unrolled ---------------------------------------------------------------------------


def scan_anatomy(steps: int = 24, hidden_size: int = 4, chunk_size: int = 8, unit: int = 0) -> dict:
    r"""One random minGRU (float64) on one random sequence: what the scan sums, and that it sums it right.

    With $a_t = 1 - z_t$, $b_t = z_t \tilde h_t$ from the layer's own gate traces, the weight of
    $b_s$ in $h_t$ is $A_t / A_s = \prod_{k = s+1}^{t} a_k$ (`weights[t][s]`, zero for $s > t$).
    States of `unit` from the loop, the chunked scan, and the unrolled sum of the `snippets.scan`
    docstring, and the largest difference between any two over all units.
    """
    from ..scan import log_space_scan

    seed = seeding.seed(0)
    seeding.seed_everything(seed)
    layer = MinGRU(hidden_size, hidden_size).double()
    g = seeding.data_generator(seed)
    x = torch.randn(steps, 1, hidden_size, dtype=torch.float64, generator=g)
    h0 = torch.randn(1, hidden_size, dtype=torch.float64, generator=g)
    with torch.no_grad():
        loop, _ = layer(x, h0, mode="loop")
        _, _, traces = layer(x, h0, mode="scan", return_gates=True)
        a, b = 1 - traces["z"], traces["z"] * traces["h_tilde"]  # (T, 1, H)
        scan = log_space_scan(a.log(), b.log(), h0, chunk_size=chunk_size)
        log_A = a.log().cumsum(0)[:, 0]  # (T, H)
        weights = _lower(log_A)
        unrolled = log_A.exp() * h0 + torch.einsum("tsh,sh->th", weights, b[:, 0])
    gap = max(float((p - q).abs().max()) for p, q in ((loop[:, 0], scan[:, 0]), (loop[:, 0], unrolled)))
    return {
        "steps": steps,
        "chunk_size": chunk_size,
        "unit": unit,
        "weights": weights[:, :, unit].tolist(),
        "a": a[:, 0, unit].tolist(),
        "loop": loop[:, 0, unit].tolist(),
        "scan": scan[:, 0, unit].tolist(),
        "unrolled": unrolled[:, unit].tolist(),
        "max_difference": gap,
    }


def _lower(log_A: Tensor) -> Tensor:
    """(T, T, H): exp(log A_t - log A_s) for s <= t, else 0."""
    steps = log_A.shape[0]
    mask = torch.ones(steps, steps, dtype=torch.bool).tril()[:, :, None]
    return torch.where(mask, (log_A[:, None, :] - log_A[None, :, :]).exp(), 0.0)


# -- the sLSTM without its stabiliser ---------------------------------------------------------------

FLOAT32_LOG_MAX = math.log(torch.finfo(torch.float32).max)  # 88.72: exp overflows above it


def _slstm_pair(forget_gate: str, input_size: int, hidden_size: int) -> tuple[SLSTM, SLSTM]:
    """A stabilised sLSTM and an unstabilised one with the same (seeded) weights, float32."""
    seeding.seed_everything(seeding.seed(0))
    stable = SLSTM(input_size, hidden_size, forget_gate=forget_gate)
    plain = SLSTM(input_size, hidden_size, forget_gate=forget_gate, stabilise=False)
    plain.load_state_dict(stable.state_dict())
    return stable, plain


def _input_gate_preactivations(layer: SLSTM, x: Tensor, h: Tensor) -> Tensor:
    r"""$\tilde i_t = (W x_t + R h_{t-1} + b)_i$ along a run whose states are `h` (T, B, H), $h_0 = 0$."""
    H = layer.hidden_size
    h_prev = torch.cat([torch.zeros_like(h[:1]), h[:-1]])
    pre = F.linear(x, layer.weight_ih, layer.bias) + F.linear(h_prev, layer.weight_hh)
    return pre[..., H : 2 * H]


@torch.no_grad()
def slstm_overflow(
    scales: tuple = tuple(2.0 ** (k / 2) for k in range(-2, 19)),
    steps: int = 20,
    batch: int = 64,
    input_size: int = 4,
    hidden_size: int = 8,
) -> dict:
    """The two sLSTM forms on the same weights and inputs, the inputs scaled by each of `scales`.

    Per scale: the largest input-gate pre-activation $\tilde i_t$ (from the stabilised run), the
    fraction of outputs that are inf or NaN in each form, and the largest difference between the
    forms where both are finite. Float32, sigmoid forget gate (the default).
    """
    stable, plain = _slstm_pair("sigmoid", input_size, hidden_size)
    x = torch.randn(steps, batch, input_size, generator=seeding.data_generator(seeding.seed(0)))
    out = {"scales": list(scales), "max_i_tilde": [], "nonfinite_plain": [], "nonfinite_stable": [], "max_gap": []}
    for scale in scales:
        h_stable, _ = stable(scale * x)
        h_plain, _ = plain(scale * x)
        both = h_stable.isfinite() & h_plain.isfinite()
        out["max_i_tilde"].append(float(_input_gate_preactivations(stable, scale * x, h_stable).max()))
        out["nonfinite_plain"].append(float((~h_plain.isfinite()).double().mean()))
        out["nonfinite_stable"].append(float((~h_stable.isfinite()).double().mean()))
        out["max_gap"].append(float((h_stable - h_plain)[both].abs().max()) if both.any() else math.nan)
    return out


@torch.no_grad()
def slstm_exp_forget_growth(steps: int = 120, forget_bias: float = 1.0, batch: int = 16) -> dict:
    r"""Exponential forget gate, $\tilde f_t \approx$ `forget_bias`: the normaliser $n_t$ grows like $e^{t}$.

    Both forms on the same weights (recurrent and input weights scaled by 0.1 so that the bias
    dominates), float32. Per step: $\ln n_t$ of unit 0 in each form (the stabilised form stores
    $n_t e^{-m_t}$, so its $\ln n_t$ is $\ln(\text{stored}) + m_t$), and the fraction of non-finite outputs.
    """
    stable, plain = _slstm_pair("exp", 4, 8)
    H = stable.hidden_size
    for layer in (stable, plain):
        layer.weight_ih.mul_(0.1)
        layer.weight_hh.mul_(0.1)
        layer.bias[2 * H : 3 * H] = forget_bias
    x = torch.randn(steps, batch, 4, generator=seeding.data_generator(seeding.seed(0)))
    h_stable, _, tr_stable = stable(x, return_gates=True)
    h_plain, _, tr_plain = plain(x, return_gates=True)
    log_n_stable = tr_stable["n"].log() + tr_stable["m"]
    log_n_plain = tr_plain["n"].log()
    return {
        "steps": steps,
        "forget_bias": forget_bias,
        "log_n_stable": log_n_stable[:, 0, 0].tolist(),
        "log_n_plain": log_n_plain[:, 0, 0].tolist(),
        "nonfinite_plain": (~h_plain.isfinite()).double().mean((1, 2)).tolist(),
        "nonfinite_stable": (~h_stable.isfinite()).double().mean((1, 2)).tolist(),
    }


@torch.no_grad()
def scan_precision(steps: int = 4096, batch: int = 4, hidden_size: int = 16) -> dict:
    """Largest error of the float32 log-space scan, in one pass and in chunks, against the float64 loop.

    A random minGRU's gates on a random sequence of `steps` steps; errors are absolute, on states
    of size about 1 (the largest |h| is returned too).
    """
    from ..scan import CHUNK_SIZE, linear_recurrence, log_space_scan

    seed = seeding.seed(0)
    seeding.seed_everything(seed)
    layer = MinGRU(hidden_size, hidden_size).double()
    x = torch.randn(steps, batch, hidden_size, dtype=torch.float64, generator=seeding.data_generator(seed))
    _, _, traces = layer(x, return_gates=True)
    a, b = 1 - traces["z"], traces["z"] * traces["h_tilde"]
    h0 = torch.zeros(batch, hidden_size, dtype=torch.float64)
    reference = linear_recurrence(a, b, h0)
    log_a, log_b = a.log().float(), b.log().float()
    errors = {
        name: float((log_space_scan(log_a, log_b, h0.float(), chunk_size=size).double() - reference).abs().max())
        for name, size in (("one_pass", None), ("chunked", CHUNK_SIZE))
    }
    return {"steps": steps, "chunk_size": CHUNK_SIZE, "largest_h": float(reference.abs().max()), **errors}


@dataclass(frozen=True)
class NumericsConfig:
    """The page's small numerical demonstrations, with their default sizes (see each function)."""

    anatomy_steps: int = 24
    precision_steps: int = 4096
    growth_steps: int = 120


@experiment("modern_numerics")
def modern_numerics(config: NumericsConfig = NumericsConfig()) -> dict:
    """`scan_anatomy`, `scan_precision`, `slstm_overflow` and `slstm_exp_forget_growth`, in one entry
    (on one thread, as the pool's runs: these tensors are too small for a second one to help)."""

    def all_four() -> dict:
        return {
            "scan_anatomy": scan_anatomy(steps=config.anatomy_steps),
            "scan_precision": scan_precision(steps=config.precision_steps),
            "slstm_overflow": slstm_overflow(),
            "slstm_growth": slstm_exp_forget_growth(steps=config.growth_steps),
        }

    return pool.in_process(all_four, [()])[0]
