r"""The LSTM cell page: figures, tables, facts and claims.

- the page's first figure: a trained LSTM's carrying unit on one adding-problem sequence, beside every
  other unit; and one step of that unit drawn with its numbers (`lstm_diagram` draws it);
- the gates of an untrained LSTM on a pulse input;
- the gradient at the cell state: all paths, all but the loop through the candidate, the cell path;
- a trained LSTM holding a value for 50 and more steps (the adding problem), next to a tanh RNN;
- what a trained recall LSTM holds over its gap;
- why the candidate is a tanh.

Facts functions return {name: text} for the page's sentences; claim functions return a `Claim`
whose docstring is the statement the page makes.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from snippets import seeding
from snippets.experiments.stats import mean_ci95
from snippets.figures import COLORS, LINESTYLES, PHONE_WIDTH, Claim, theme
from snippets.figures.lstm_diagram import plot_backward_paths, plot_lstm_cell
from snippets.figures.significance import compare_counts

__all__ = ["plot_backward_paths", "plot_lstm_cell"]  # drawn here, re-exported for the page

LSTM_PANELS = [  # (trace key, label, y range); "x" is the input
    ("x", "input\n$x_t$", None),
    ("i", "input gate\n$i_t$", (0, 1)),
    ("f", "forget gate\n$f_t$", (0, 1)),
    ("g", "candidate\n$g_t$", (-1, 1)),
    ("o", "output gate\n$o_t$", (0, 1)),
    ("c", "cell state\n$c_t$", None),
]


def _range(values, fmt: str = "{:.2f}") -> str:
    """'a–b' for the lowest and highest of `values` (or one number if they print the same)."""
    low, high = fmt.format(min(values)), fmt.format(max(values))
    return low if low == high else f"{low}–{high}"


def _ci(values, fmt: str = "{:.3f}") -> str:
    """'m (95 % CI a to b)': the mean over seeds and its confidence interval."""
    mean, low, high = (float(v) for v in mean_ci95(list(values)))
    return f"{fmt.format(mean)} (95 % CI {fmt.format(low)} to {fmt.format(high)})"


def _pm(values, fmt: str = "{:.3f}") -> str:
    """'m ± h' for a table: the mean over seeds and the half-width of its 95 % confidence interval."""
    mean, low, high = (float(v) for v in mean_ci95(list(values)))
    return f"{fmt.format(mean)} ± {fmt.format((high - low) / 2)}"


def _sci(value: float) -> str:
    """A number for a sentence: 0.123, or 4.6 × 10⁻³⁰ in Unicode (no TeX inside the page's text)."""
    if value == 0 or not math.isfinite(value) or 1e-2 <= abs(value) < 1e3:
        return f"{value:.3g}"
    exponent = math.floor(math.log10(abs(value)))
    digits = str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"{value / 10**exponent:.1f} × 10{digits}"


# --------------------------------------------------------------------------------------
# Gates of an untrained LSTM on a pulse input
# --------------------------------------------------------------------------------------


def pulse_input(steps: int = 30, pulses: dict[int, float] | None = None) -> torch.Tensor:
    """A (steps, 1, 1) input that is zero except at the given steps: {step: value}."""
    pulses = {3: 1.0, 4: 1.0, 16: -1.0, 17: -1.0} if pulses is None else pulses
    if any(not 0 <= t < steps for t in pulses):
        raise ValueError(f"pulse_input: expected pulse steps in [0, {steps}), got {sorted(pulses)}")
    x = torch.zeros(steps, 1, 1)
    for t, value in pulses.items():
        x[t] = value
    return x


def lstm_gate_traces(
    x: torch.Tensor, hidden_size: int = 3, seed: int | None = None, init_bound: float = 2.0, forget_bias: float = 0.0
):
    """Gate traces of a seeded, untrained `snippets.LSTM(1, hidden_size)` on `x` (steps, 1, 1).

    Weights are drawn from U(-init_bound, init_bound) rather than torch.nn's U(-1/sqrt(H), 1/sqrt(H)),
    whose small weights keep every gate near 1/2; `forget_bias` is then added to the forget gate's
    input bias (rows H:2H, gate order i, f, g, o). Returns {key: array (steps, hidden_size)} for the
    keys "i", "f", "g", "o", "c", "h": layer 0, the only direction, batch element 0. `seed`
    defaults to `snippets.seeding.seed(0)`.
    """
    from snippets import LSTM  # here, not at the top: snippets/__init__ may import this module one day

    torch.manual_seed(seeding.seed(0) if seed is None else seed)
    model = LSTM(1, hidden_size)
    with torch.no_grad():
        for weight in model.parameters():
            weight.uniform_(-init_bound, init_bound)
        model.bias_ih_l0[hidden_size : 2 * hidden_size] += forget_bias
        _, _, trace = model(x, return_gates=True)
    return {key: value[0, 0, :, 0, :].numpy() for key, value in trace.items()}


def plot_lstm_gates(x: torch.Tensor, trace: dict, narrow: bool = False) -> Figure:
    """One panel per gate (and the input, and the cell state) over time; one line per unit."""
    steps, units = trace["c"].shape
    active = [t for t in range(steps) if x[t].abs().sum() > 0]
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 7.2) if narrow else (7, 7.5), layout="constrained")
        axes = fig.subplots(len(LSTM_PANELS), 1, sharex=True)
        for ax, (key, label, limits) in zip(axes, LSTM_PANELS):
            for t in active:  # shade the steps where the input is non-zero
                ax.axvspan(t - 0.5, t + 0.5, color="#000000", alpha=0.07, linewidth=0)
            if key == "x":
                ax.step(range(steps), x[:, 0, 0].numpy(), where="mid", color="#000000")
            else:
                for unit in range(units):
                    ax.plot(range(steps), trace[key][:, unit], label=f"unit {unit + 1}")
            if limits:
                ax.set_ylim(limits[0] - 0.05, limits[1] + 0.05)
                ax.set_yticks([limits[0], (limits[0] + limits[1]) / 2, limits[1]])
            ax.set_ylabel(
                label if not narrow else label.split("\n")[1],
                rotation=0 if not narrow else 90,
                ha="right" if not narrow else "center",
                va="center",
            )
        if narrow:
            fig.legend(*axes[1].get_legend_handles_labels(), loc="outside upper center", ncols=units)
        else:
            axes[1].legend(ncols=units, loc="lower left", bbox_to_anchor=(0, 1.02), borderaxespad=0)
        axes[-1].set_xlabel("time step $t$")
    return fig


def lstm_gates_figure(
    seed: int | None = None, hidden_size: int = 3, forget_bias: float = 0.0, narrow: bool = False
) -> Figure:
    """The figure on the LSTM cell page: `plot_lstm_gates` of a pulse input through a seeded LSTM."""
    x = pulse_input()
    trace = lstm_gate_traces(x, hidden_size=hidden_size, seed=seed, forget_bias=forget_bias)
    return plot_lstm_gates(x, trace, narrow=narrow)


# --------------------------------------------------------------------------------------
# The gradient at the cell state
# --------------------------------------------------------------------------------------

PATH_STYLES = {  # path -> (label, colour, line style); the figure and table show these
    "all": ("all paths", COLORS[0], "-"),
    "no_candidate": ("all but the loop through the candidate", COLORS[1], "--"),
    "cell": ("cell path only ($h_{t-1}$ cut from every gate)", COLORS[2], "-."),
}


def _load_gradients(result: dict | None) -> dict:
    from snippets.experiments import gradient_decay_lstm

    return gradient_decay_lstm() if result is None else result


def log_band(per_seed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Geometric mean over seeds (rows) and its 95 % CI: `mean_ci95` of log10, back on the linear scale."""
    mean, low, high = mean_ci95(np.log10(np.asarray(per_seed, dtype=np.float64)))
    return 10 ** mean.numpy(), 10 ** low.numpy(), 10 ** high.numpy()


def fitted_factor(curve, start: int = 10) -> float:
    """The per-step factor of a curve that falls (or grows) geometrically: exp of the slope of log(curve)
    fitted by least squares on k = `start` .. the end."""
    curve = np.asarray(curve, dtype=np.float64)
    k = np.arange(start, len(curve))
    return float(math.exp(np.polyfit(k, np.log(curve[start:]), 1)[0]))


def plot_cell_gradient(result: dict, narrow: bool = False) -> Figure:
    r"""$\lVert \partial L/\partial c_{T-k} \rVert$ against $k$: one panel per forget-gate bias, one line per path.

    Lines: geometric mean over seeds; bands: its 95 % confidence interval. The tanh RNN's
    $\lVert \partial L/\partial h_{T-k} \rVert$ (dotted, grey) in every panel for comparison.
    """
    biases = result["forget_biases"]
    k = np.asarray(result["k"])
    rnn, _, _ = log_band(result["rnn"]["per_seed"])
    with theme():
        size = (PHONE_WIDTH, 2.2 * len(biases) + 0.9) if narrow else (7.4, 3.3)
        fig = Figure(figsize=size, layout="constrained")
        axes = (
            fig.subplots(len(biases), 1, sharex=True, sharey=True)
            if narrow
            else fig.subplots(1, len(biases), sharey=True)
        )
        for ax, bias in zip(np.atleast_1d(axes), biases):
            curves = result["curves"][str(bias)]
            for path, (label, color, style) in PATH_STYLES.items():
                mean, low, high = log_band(curves[path])
                ax.fill_between(k, low, high, color=color, alpha=0.25, linewidth=0)
                ax.plot(k, mean, color=color, linestyle=style, label=label)
            rnn_label = rf"tanh RNN, $\lambda_1 = {result['rnn']['sigma']:g}$ (at $h$)"
            ax.plot(k, rnn, color="#000000", alpha=0.5, linestyle=":", label=rnn_label)
            ax.set_yscale("log")
            if not narrow or bias == biases[-1]:
                ax.set_xlabel("distance $k$ (steps)")
            ax.set_title(rf"$b_f = {bias:g}$ (mean $f_t$ {np.mean(curves['mean_f']):.2f})", fontsize=10)
        first = np.atleast_1d(axes)[0]
        first.set_ylabel(r"$\Vert \partial L / \partial c_{T-k} \Vert$")
        if narrow:
            for ax in axes:
                ax.set_ylabel(r"$\Vert \partial L / \partial c_{T-k} \Vert$")
        handles, labels = first.get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside upper center", ncols=1 if narrow else 2, fontsize=9)
    return fig


def cell_gradient_figure(narrow: bool = False) -> Figure:
    """`plot_cell_gradient` of the cached `gradient_decay_lstm` experiment."""
    return plot_cell_gradient(_load_gradients(None), narrow=narrow)


def gradient_summary(result: dict | None = None) -> dict:
    """Per bias, per seed: fitted per-step factors of each path, the values at k = 0 and the farthest k."""
    result = _load_gradients(result)
    out = {}
    for bias in result["forget_biases"]:
        curves = result["curves"][str(bias)]
        row = {"mean_f": np.asarray(curves["mean_f"])}
        for path in PATH_STYLES:
            per_seed = np.asarray(curves[path], dtype=np.float64)
            row[path] = {
                "factor": np.array([fitted_factor(c) for c in per_seed]),
                "first": per_seed[:, 0],
                "last": per_seed[:, -1],
            }
        out[bias] = row
    rnn = np.asarray(result["rnn"]["per_seed"], dtype=np.float64)
    out["rnn"] = {"factor": np.array([fitted_factor(c) for c in rnn]), "first": rnn[:, 0], "last": rnn[:, -1]}
    return out


def cell_gradient_table(result: dict | None = None) -> str:
    """Markdown: per forget bias, the mean forget gate, the fitted per-step factor of each path (mean and
    95 % CI over seeds) and the gradient at the farthest distance (geometric mean)."""
    result = _load_gradients(result)
    summary = gradient_summary(result)
    far = result["k"][-1]
    lines = [
        f"| $b_f$ | mean $f_t$ | per step: all paths | no cand. loop | cell path "
        f"| $k = {far}$: all paths | no cand. loop | cell path |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for bias in result["forget_biases"]:
        row = summary[bias]
        factors = " | ".join(_pm(row[path]["factor"]) for path in PATH_STYLES)
        values = " | ".join(_sci(float(10 ** np.log10(row[path]["last"]).mean())) for path in PATH_STYLES)
        lines.append(f"| {bias:g} | {row['mean_f'].mean():.3f} | {factors} | {values} |")
    rnn = summary["rnn"]
    lines.append(
        f"| RNN, $\\lambda_1 = {result['rnn']['sigma']:g}$ | | {_pm(rnn['factor'])} | | "
        f"| {_sci(float(10 ** np.log10(rnn['last']).mean()))} | | |"
    )
    return "\n".join(lines) + "\n"


def gradient_facts(result: dict | None = None) -> dict:
    """The numbers the gradient section's sentences print."""
    result = _load_gradients(result)
    summary = gradient_summary(result)
    low, high = min(result["forget_biases"]), max(result["forget_biases"])
    grow = summary[high]["all"]["last"] / summary[high]["all"]["first"]
    extra_low = summary[low]["all"]["last"] / summary[low]["cell"]["last"]
    no_cand = np.concatenate(
        [summary[b]["no_candidate"]["last"] / summary[b]["cell"]["last"] for b in result["forget_biases"]]
    )
    return {
        "seeds": str(len(result["seeds"])),
        "batch": str(result["batch"]),
        "hidden": str(result["hidden_size"]),
        "T": str(len(result["k"])),
        "far": str(result["k"][-1]),
        "low": f"{low:g}",
        "high": f"{high:g}",
        "high_growth": "×" + _range(grow, "{:.1f}"),
        "high_factor": _range(summary[high]["all"]["factor"], "{:.3f}"),
        "high_cell_factor": _range(summary[high]["cell"]["factor"], "{:.3f}"),
        "low_all_mean": _sci(float(10 ** np.log10(summary[low]["all"]["last"]).mean())),
        "low_cell_mean": _sci(float(10 ** np.log10(summary[low]["cell"]["last"]).mean())),
        "low_extra": _sci(float(extra_low.min())) + " to " + _sci(float(extra_low.max())),
        "no_candidate_ratio": "×" + _range(no_cand, "{:.1f}"),
        "factor_gain": _range(
            [summary[b]["all"]["factor"].mean() - summary[b]["cell"]["factor"].mean() for b in result["forget_biases"]],
            "{:.2f}",
        ),
        "rnn_factor": _ci(summary["rnn"]["factor"]),
        "low_cell_factor": _ci(summary[low]["cell"]["factor"]),
        "no_input_share": _share_range(result, "no_input"),
        "no_candidate_share": _share_range(result, "no_candidate"),
    }


def _share_range(result: dict, path: str) -> str:
    """The gradient at the farthest distance through `path`, as a fraction of all paths': its range."""
    ratios = [
        np.asarray(result["curves"][str(b)][path])[:, -1] / np.asarray(result["curves"][str(b)]["all"])[:, -1]
        for b in result["forget_biases"]
    ]
    ratios = np.concatenate(ratios)
    return f"{_sci(float(ratios.min()))} to {_sci(float(ratios.max()))}"


def cell_path_follows_the_forget_gates(result: dict | None = None) -> Claim:
    """Along the cell path alone the gradient shrinks per step by about the mean forget gate: the fitted
    factor is within 0.03 of the mean of f_t, at every bias, on every seed."""
    summary = gradient_summary(result)
    gaps = {b: np.abs(row["cell"]["factor"] - row["mean_f"]).max() for b, row in summary.items() if b != "rnn"}
    worst = max(gaps.values())
    return Claim(
        worst < 0.03, "largest |factor - mean f| per bias: " + ", ".join(f"{b:g}: {g:.3f}" for b, g in gaps.items())
    )


def all_paths_exceed_the_cell_path(result: dict | None = None) -> Claim:
    """At the farthest distance the gradient through all paths is more than 10 times the cell path's,
    at every bias, on every seed."""
    summary = gradient_summary(result)
    ratios = {b: (row["all"]["last"] / row["cell"]["last"]).min() for b, row in summary.items() if b != "rnn"}
    return Claim(
        min(ratios.values()) > 10,
        "smallest ratio per bias: " + ", ".join(f"{b:g}: {_sci(r)}" for b, r in ratios.items()),
    )


def high_bias_gradient_grows(result: dict | None = None) -> Claim:
    """At the largest forget bias the gradient through all paths is larger at the farthest distance than
    at k = 0, on every seed: the untrained LSTM there is on the exploding side."""
    result = _load_gradients(result)
    row = gradient_summary(result)[max(result["forget_biases"])]["all"]
    growth = row["last"] / row["first"]
    return Claim(
        bool(np.all(growth > 1) and np.all(row["factor"] > 1)),
        f"growth k=0 to the end per seed: {', '.join(f'{g:.2f}' for g in growth)}; "
        f"fitted factors {', '.join(f'{f:.3f}' for f in row['factor'])}",
    )


def candidate_loop_carries_the_extra(result: dict | None = None) -> Claim:
    """Cutting only the loop through the candidate brings the gradient at the farthest distance to within
    a factor 4 of the cell path's (between 0.5 and 4 times it), at every bias, on every seed."""
    summary = gradient_summary(result)
    ratios = np.concatenate(
        [row["no_candidate"]["last"] / row["cell"]["last"] for b, row in summary.items() if b != "rnn"]
    )
    return Claim(bool(np.all((ratios > 0.5) & (ratios < 4))), f"ratios {ratios.min():.2f} to {ratios.max():.2f}")


def lstm_outlasts_the_rnn(result: dict | None = None) -> Claim:
    """Through all paths, from 10 steps back on, the LSTM's gradient has shrunk less (relative to k = 0)
    than the tanh RNN's at every bias (geometric means over seeds)."""
    result = _load_gradients(result)
    rnn, _, _ = log_band(result["rnn"]["per_seed"])
    worst = {}
    for bias in result["forget_biases"]:
        lstm, _, _ = log_band(result["curves"][str(bias)]["all"])
        worst[bias] = float(((lstm / lstm[0]) / (rnn / rnn[0]))[10:].min())
    return Claim(
        min(worst.values()) > 1,
        "smallest ratio of relative gradients per bias: " + ", ".join(f"{b:g}: {w:.2f}" for b, w in worst.items()),
    )


# --------------------------------------------------------------------------------------
# A trained LSTM holds a value for 50 and more steps: the adding problem
# --------------------------------------------------------------------------------------

HOLDS = 0.95  # a carrying unit "keeps" its value if its mean forget gate while holding is at least this


def _load_adding(result: dict | None) -> dict:
    from snippets.experiments import adding_problem

    return adding_problem() if result is None else result


def _adding_T(result: dict) -> int:
    from snippets.experiments import AddingConfig

    return int(result.get("T", AddingConfig().T))


def adding_runs(result: dict, cell: str) -> list[dict]:
    """The training logs of `cell` in an `adding_problem` result, one per seed."""
    return result["cells"][cell]["runs"]


def _digest(state_dict: dict) -> str:
    """A short fingerprint of a state dict's values: the key under which its traces are kept."""
    digest = hashlib.sha1()
    for name, value in sorted(state_dict.items()):
        digest.update(name.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


_traced: dict[tuple, dict] = {}  # (state-dict digest, T, seed, n) -> adding_unit's result: a page asks several times


def adding_unit(state_dict: dict, T: int, seed: int, n: int = 1024) -> dict:
    """`trace_adding_unit`, kept in memory for the process: the page's facts, claims and figures share it."""
    key = (_digest(state_dict), T, seed, n)
    if key not in _traced:
        _traced[key] = trace_adding_unit(state_dict, T, seed, n)
    return _traced[key]


@torch.no_grad()
def trace_adding_unit(state_dict: dict, T: int, seed: int, n: int = 1024) -> dict:
    """Trace a trained adding-problem LSTM on `n` of its validation sequences and find its carrying unit.

    The unit is picked by a rule, not by hand: the one whose cell state just before the second mark
    correlates most (in absolute value) with the first marked value. Returns the unit, that
    correlation, its mean forget gate while it holds the first value alone (after the first mark,
    before the second), its mean input gate at the two marks and at every other step, and the traces
    (time, sequence) of the unit's `"i"`, `"f"`, `"c"` with the input `"x"` (sequence, time, 2).
    """
    from snippets import fast
    from snippets.seeding import data_generator
    from snippets.tasks import AddingProblem
    from snippets.train import traceable_layer

    layer = traceable_layer(state_dict)
    x, _ = AddingProblem(T=T).sample(n, data_generator(seed, stream=1))
    with fast.use("bptt"):  # the same equations, and its traces come free (tests/test_fast_paths.py)
        _, _, trace = layer(x.to(layer.weight_ih_l0.dtype), return_gates=True)
    trace = {key: value[0, 0].double().numpy() for key, value in trace.items()}  # (time, sequence, unit)
    marks, values = x[..., 1].numpy(), x[..., 0].numpy()
    rows = np.arange(n)
    first, second = marks.argmax(1), T - 1 - marks[:, ::-1].argmax(1)
    first_value = values[rows, first]
    before = trace["c"][second - 1, rows]  # (sequence, unit)
    corr = np.array([np.corrcoef(before[:, u], first_value)[0, 1] for u in range(before.shape[1])])
    unit = int(np.argmax(np.abs(corr)))
    t = np.arange(T)[:, None]
    holding = (t > first[None]) & (t < second[None])
    at_marks = (t == first[None]) | (t == second[None])
    i, f, c = (trace[key][:, :, unit] for key in ("i", "f", "c"))
    return {
        "unit": unit,
        "corr": float(corr[unit]),
        "f_hold": float(f[holding].mean()),
        "i_marks": float(i[at_marks].mean()),
        "i_else": float(i[~at_marks].mean()),
        "steps_back": (T - first).tolist(),
        "traces": {"i": i, "f": f, "c": c, "x": x.numpy()},
    }


LSTMS = (("lstm_fb1", "LSTM, forget bias 1"), ("lstm", "LSTM, default bias"))  # the adding problem's LSTMs


def adding_solved(result: dict, model: str) -> list[dict]:
    """The runs of `model` that reached the target MSE."""
    return [run for run in adding_runs(result, model) if run["status"] == "solved"]


def adding_memory(result: dict | None = None) -> dict:
    """Every LSTM of the adding problem that solved it (both forget biases), traced (`adding_unit`),
    and the one the page shows: the first (forget bias 1 first, then in seed order) whose carrying
    unit keeps its value (mean forget gate >= `HOLDS`)."""
    result = _load_adding(result)
    T = _adding_T(result)
    units = [
        {"model": model, "seed": run["config"]["seed"], **adding_unit(run["state_dict"], T, run["config"]["seed"])}
        for model, _ in LSTMS
        for run in adding_solved(result, model)
    ]
    if not units:
        raise ValueError("adding_memory: no LSTM of the adding_problem result solved it")
    keeping = [u for u in units if u["f_hold"] >= HOLDS]
    if not keeping:
        raise ValueError(f"adding_memory: no solved LSTM has a unit that keeps its value (f >= {HOLDS})")
    return {"T": T, "units": units, "shown": keeping[0]}


ADDING_LINES = (  # model, label, colour, line style
    *((m, label, color, "-") for (m, label), color in zip(LSTMS, COLORS)),
    ("rnn", "tanh RNN", COLORS[2], "--"),
)


def draw_adding_curves(ax, result: dict) -> None:
    """On `ax`: validation MSE against training step, one line per seed, for both LSTMs and the
    tanh RNN, with the memoryless baseline (predicting the mean), on a log scale."""
    for model, label, color, style in ADDING_LINES:
        runs = adding_runs(result, model)
        for k, run in enumerate(runs):
            name = f"{label} ({len(runs)} seeds)" if k == 0 else None
            ax.plot(run["val_step"], run["val_loss"], color=color, linestyle=style, linewidth=1.2, label=name)
    ax.axhline(result["baseline"], color="#000000", linestyle=":", linewidth=1.2, label="predict the mean")
    ax.set_yscale("log")


def plot_adding_curves(result: dict, narrow: bool = False) -> Figure:
    """`draw_adding_curves` in a figure of its own. A run that reaches the target stops there."""
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 2.9) if narrow else (5.4, 2.9), layout="constrained")
        ax = fig.subplots()
        draw_adding_curves(ax, result)
        ax.set_xlabel("training step")
        ax.set_ylabel("validation MSE")
        fig.legend(loc="outside upper center", ncols=1 if narrow else 2, fontsize=9)
    return fig


def adding_curves_figure(narrow: bool = False) -> Figure:
    """`plot_adding_curves` of the cached `adding_problem` experiment."""
    return plot_adding_curves(_load_adding(None), narrow=narrow)


def plot_adding_unit(memory: dict, sequences: int | list[int] = 3, narrow: bool = False) -> Figure:
    """The shown network's carrying unit on some of its validation sequences: the first `sequences`,
    or those listed.

    Rows: the marked values (stems at their steps), the unit's input gate, forget gate and cell
    state; one colour and line style per sequence, named by its first marked value in the legend,
    its marks as thin vertical lines in every row.
    """
    tr = memory["shown"]["traces"]
    sequences = list(range(sequences)) if isinstance(sequences, int) else list(sequences)
    steps = np.arange(memory["T"])
    rows = [
        ("marked\nvalues", None),
        ("input gate\n$i_t$", "i"),
        ("forget gate\n$f_t$", "f"),
        ("cell state\n$c_t$", "c"),
    ]
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 5.6) if narrow else (7.2, 4.8), layout="constrained")
        axes = fig.subplots(len(rows), 1, sharex=True)
        for s, color, style in zip(sequences, COLORS, LINESTYLES):
            marks = np.flatnonzero(tr["x"][s, :, 1])
            for ax, (_, key) in zip(axes, rows):
                for m in marks:
                    ax.axvline(m, color=color, alpha=0.35, linewidth=0.8)
                if key is None:
                    ax.vlines(marks, 0, tr["x"][s, marks, 0], color=color, linewidth=2.5)
                    ax.plot(marks, tr["x"][s, marks, 0], "o", color=color, markersize=4)
                else:
                    ax.plot(steps, tr[key][:, s], color=color, linestyle=style, linewidth=1.4)
        for ax, (label, _) in zip(axes, rows):
            ax.set_ylabel(
                label.replace("\n", " ") if narrow else label,
                rotation=90 if narrow else 0,
                ha="center" if narrow else "right",
                va="center",
                fontsize=9 if narrow else 10,
            )
        axes[0].set_ylim(0, 1.05)
        axes[1].set_ylim(-0.03, 1.03)
        axes[2].set_ylim(-0.03, 1.03)
        handles = [  # a sequence's dot (its marked values) and line style (its gates and cell state)
            Line2D([], [], color=color, linestyle=style, marker="o", markersize=4, linewidth=1.4)
            for _, color, style in zip(sequences, COLORS, LINESTYLES)
        ]
        names = [f"first value {tr['x'][s, np.flatnonzero(tr['x'][s, :, 1])[0], 0]:.2f}" for s in sequences]
        fig.legend(handles, names, loc="outside upper center", ncols=1 if narrow else len(sequences), fontsize=9)
        axes[-1].set_xlabel("time step $t$" + ("" if narrow else " (the answer is read at the last step)"))
        axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def adding_unit_figure(narrow: bool = False) -> Figure:
    """The LSTM page's first figure: `plot_adding_unit` of the shown network (`adding_memory`) on the
    validation sequences `carry_sequences` picks, whose first values must cross almost the whole sequence."""
    memory = adding_memory()
    return plot_adding_unit(memory, carry_sequences(memory["shown"]["traces"]["x"]), narrow=narrow)


def adding_facts(result: dict | None = None) -> dict:
    """The numbers the adding-problem section prints: final MSEs, budgets, the shown unit."""
    result = _load_adding(result)
    lstm, default, rnn = (adding_runs(result, m) for m in ("lstm_fb1", "lstm", "rnn"))
    memory = adding_memory(result)
    shown = memory["shown"]
    config = lstm[0]["config"]
    return {
        "T": str(memory["T"]),
        "seeds": str(len(lstm)),
        "baseline": f"{result['baseline']:.3f}",
        "lstm_mse": _ci([r["val_loss"][-1] for r in lstm], "{:.4f}"),
        "default_solved": str(len(adding_solved(result, "lstm"))),
        "fb1_solved": str(len(adding_solved(result, "lstm_fb1"))),
        "rnn_solved": str(len(adding_solved(result, "rnn"))),
        "fb1_vs_rnn": compare_counts(
            len(adding_solved(result, "lstm_fb1")), len(lstm), len(adding_solved(result, "rnn")), len(rnn)
        ).text,
        "default_mse": _range([r["val_loss"][-1] for r in default], "{:.4f}"),
        "rnn_mse": _ci([r["val_loss"][-1] for r in rnn], "{:.3f}"),
        "rnn_best": f"{min(r['val_loss'][-1] for r in rnn) / result['baseline']:.2f}",
        "lstm_steps": _range([r["steps_run"] for r in lstm], "{:d}"),
        "budget": str(max(r["steps_run"] for r in rnn)),
        "batch": str(config["batch_size"]),
        "lr_lstm": f"{config['lr']:g}",
        "lr_default": f"{default[0]['config']['lr']:g}",
        "lr_rnn": f"{rnn[0]['config']['lr']:g}",
        "lrs": " and ".join(f"{lr:g}" for lr in result["lrs"]),
        "target": f"{config['target_loss']:g}",
        "hidden": str(lstm[0]["hidden_size"]),
        "steps_back": _range(shown["steps_back"], "{:d}"),
        "unit": str(shown["unit"]),
        "seed": str(shown["seed"]),
        "shown_model": dict(LSTMS)[shown["model"]],
        "corr": f"{shown['corr']:+.3f}",
        "f_hold": f"{shown['f_hold']:.4f}",
        "kept_50": f"{shown['f_hold'] ** 50:.0%}",
        "kept_100": f"{shown['f_hold'] ** 100:.0%}",
        "i_marks": f"{shown['i_marks']:.2f}",
        "i_else": f"{shown['i_else']:.3f}",
        "n_stored": str(len(memory["units"])),
        "n_keeping": str(sum(u["f_hold"] >= HOLDS for u in memory["units"])),
        "n_corr": str(sum(abs(u["corr"]) >= 0.9 for u in memory["units"])),
        "corr_range": _range([abs(u["corr"]) for u in memory["units"]], "{:.3f}"),
    }


def adding_units_table(result: dict | None = None) -> str:
    """Markdown, one row per LSTM that solved the task: its carrying unit and how it holds the first value."""
    memory = adding_memory(result)
    lines = [
        "| LSTM | seed | unit | corr. with the first value | mean $f_t$ while holding "
        "| mean $i_t$ at the marks | elsewhere |",
        "| :--- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for u in memory["units"]:
        lines.append(
            f"| {dict(LSTMS)[u['model']]} | {u['seed']} | {u['unit']} | {u['corr']:+.3f} | {u['f_hold']:.4f} "
            f"| {u['i_marks']:.2f} | {u['i_else']:.3f} |"
        )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------
# The carrying unit across a whole sequence: the page's first figure, and the step its diagram draws
# --------------------------------------------------------------------------------------

CARRY_WITHIN = 5  # the sequences the page's first figure shows have their first mark in their first 5 steps


def carry_sequences(x: np.ndarray, n: int = 3, within: int = CARRY_WITHIN) -> list[int]:
    """The first `n` sequences of `x` (sequence, time, 2: value, marker) whose first mark falls on one
    of their first `within` steps: the values they carry have (almost) the whole sequence to cross."""
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[2] != 2:
        raise ValueError(f"carry_sequences: expected x of shape (sequence, time, 2), got {x.shape}")
    found = np.flatnonzero((x[:, :, 1].max(1) == 1) & (x[:, :, 1].argmax(1) < within))[:n]
    if len(found) < n:
        raise ValueError(
            f"carry_sequences: expected {n} sequences with a first mark in their first {within} steps, "
            f"found {len(found)} of {len(x)}"
        )
    return [int(s) for s in found]


@torch.no_grad()
def trace_sequence(state_dict: dict, x) -> dict:
    r"""Run a trained adding-problem model (a `SequenceModel` state dict) on one sequence `x` (time, 2).

    The weights go into `snippets.LSTM` (`traceable_layer`), which runs in float64 on its default
    path, the step function the page shows, and returns every gate (`return_gates=True`).
    Returns arrays (time, unit) for `"i"`, `"f"`, `"g"`, `"o"`, `"c"`, `"h"`; the input `"x"`;
    the marked steps `"marks"`; the network's answer at the last step, `"answer"` (the read-out of
    $h_T$), and the sum it should give, `"target"`.
    """
    from snippets.train import traceable_layer

    x = torch.as_tensor(np.asarray(x), dtype=torch.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(
            f"trace_sequence: expected one adding-problem sequence of shape (time, 2), got {tuple(x.shape)}"
        )
    layer = traceable_layer(state_dict).double()
    _, _, gates = layer(x[None], return_gates=True)
    trace = {key: value[0, 0, :, 0].numpy() for key, value in gates.items()}  # (time, unit)
    readout_w, readout_b = state_dict["readout.weight"].double(), state_dict["readout.bias"].double()
    marks = torch.nonzero(x[:, 1] == 1).flatten().tolist()
    trace.update(
        x=x.numpy(),
        marks=marks,
        answer=float(torch.as_tensor(trace["h"][-1]) @ readout_w[0] + readout_b[0]),
        target=float(x[marks, 0].sum()),
    )
    return trace


_carried: dict[tuple, dict] = {}  # (state-dict digest, sequence) -> carry_trace's result


def carry_trace(result: dict | None = None) -> dict:
    """The network the page shows (`adding_memory`) on the first sequence of its first figure (`carry_sequences`),
    every unit traced (`trace_sequence`); adds the carrying `"unit"`, its `"seed"` and `"model"`, and the
    `"sequence"`'s index. Kept in memory for the process: the page's first figure, its diagram and their
    sentences all read it."""
    result = _load_adding(result)
    shown = adding_memory(result)["shown"]
    run = next(r for r in adding_solved(result, shown["model"]) if r["config"]["seed"] == shown["seed"])
    sequence = carry_sequences(shown["traces"]["x"])[0]
    key = (_digest(run["state_dict"]), sequence)
    if key not in _carried:
        trace = trace_sequence(run["state_dict"], shown["traces"]["x"][sequence])
        trace.update(unit=shown["unit"], seed=shown["seed"], model=shown["model"], sequence=sequence)
        _carried[key] = trace
    return _carried[key]


def carry_facts(result: dict | None = None) -> dict:
    """The numbers of the page's first sentence and figure: the sequences shown, how the carrying unit's
    gates write and hold their first values, whether its cell state keeps them in order, and the
    network's answer on the first of them."""
    result = _load_adding(result)
    memory = adding_memory(result)
    tr, shown = memory["shown"]["traces"], memory["shown"]
    sequences = carry_sequences(tr["x"])
    marks = [np.flatnonzero(tr["x"][s, :, 1]) for s in sequences]
    firsts = np.array([tr["x"][s, m[0], 0] for s, m in zip(sequences, marks)])
    holding = [np.arange(m[0] + 1, m[1]) for m in marks]
    f_gap = max(float((1 - tr["f"][h, s]).max()) for s, h in zip(sequences, holding))
    # While every shown sequence holds its first value alone, are the cell states in the order of those values?
    common = np.arange(max(m[0] for m in marks) + 1, min(m[1] for m in marks))
    order = np.argsort(firsts * np.sign(shown["corr"]))
    c = tr["c"][np.ix_(common, sequences)]
    order_kept = bool(len(common)) and bool(np.all(np.diff(c[:, order], axis=1) > 0))
    first = carry_trace(result)
    return {
        "within": str(CARRY_WITHIN),
        "n": str(len(sequences)),
        "n_validation": str(tr["x"].shape[0]),
        "first_values": ", ".join(f"{v:.2f}" for v in firsts),
        "carried": _range([memory["T"] - 1 - m[0] for m in marks], "{:d}"),
        "apart": _range([m[1] - m[0] for m in marks], "{:d}"),
        "f_gap": _sci(f_gap),
        "order_kept": order_kept,
        "common": f"{common[0]}–{common[-1]}" if len(common) else "",
        "c_after": f"{first['c'][first['marks'][0], first['unit']]:+.2f}",
        "c_before": f"{first['c'][first['marks'][1] - 1, first['unit']]:+.2f}",
        "first_step": str(first["marks"][0]),
        "second_step": str(first["marks"][1]),
        "answer": f"{first['answer']:.2f}",
        "target": f"{first['target']:.2f}",
        "i_else": f"{np.delete(first['i'][:, first['unit']], first['marks']).max():.3f}",
    }


def lstm_step_values(step: int | None = None, unit: int | None = None, trace: dict | None = None) -> dict:
    r"""One unit's values at one step of a traced sequence: by default `carry_trace`'s carrying unit at
    its first marked step, where it writes the value it will carry.

    Read from the `return_gates=True` traces: the gates `"i"`, `"f"`, `"g"`, `"o"`, the states
    `"c_prev"`, `"c"`, `"h"`, the whole previous hidden state `"h_prev"` (a list: every gate sees
    all of it) and the input `"x"` (value, marker); plus the products the diagram shows, `"fc"`
    $= f_t c_{t-1}$, `"ig"` $= i_t g_t$ and `"tanh_c"` $= \tanh(c_t)$. Before the first step the
    state is zero. `trace`: a `trace_sequence` result with `"unit"`, `"seed"` and `"model"` added.
    """
    trace = carry_trace() if trace is None else trace
    steps, hidden = trace["c"].shape
    step = trace["marks"][0] if step is None else step
    unit = trace["unit"] if unit is None else unit
    if not isinstance(step, int) or not 0 <= step < steps:
        raise ValueError(f"lstm_step_values: expected step an int in [0, {steps}), got {step!r}")
    if not isinstance(unit, int) or not 0 <= unit < hidden:
        raise ValueError(f"lstm_step_values: expected unit an int in [0, {hidden}), got {unit!r}")
    values = {key: float(trace[key][step, unit]) for key in ("i", "f", "g", "o", "c", "h")}
    values["c_prev"] = float(trace["c"][step - 1, unit]) if step else 0.0
    values["h_prev"] = [float(v) for v in trace["h"][step - 1]] if step else [0.0] * hidden
    values["x"] = [float(v) for v in trace["x"][step]]
    values.update(fc=values["f"] * values["c_prev"], ig=values["i"] * values["g"], tanh_c=float(np.tanh(values["c"])))
    values.update(step=step, unit=unit, hidden_size=hidden, seed=trace["seed"], model=trace["model"])
    values["title"] = f"the trained adding-problem LSTM of seed {trace['seed']}"  # the diagram's heading
    return values


def lstm_cell_figure(step: int | None = None, highlight: str | None = None, narrow: bool = False) -> Figure:
    """The page's cell diagram: `plot_lstm_cell` of `lstm_step_values` (by default the carrying unit's first mark)."""
    return plot_lstm_cell(lstm_step_values(step=step), highlight=highlight, narrow=narrow)


def step_facts(step: int | None = None) -> dict:
    """The numbers of the drawn step, as the walk-through's sentences print them (signed, 2 decimals)."""
    v = lstm_step_values(step=step)
    out = {key: f"{v[key]:+.2f}" for key in ("i", "f", "g", "o", "c", "h", "c_prev", "fc", "ig", "tanh_c")}
    out.update(
        step=str(v["step"]),
        unit=str(v["unit"]),
        hidden=str(v["hidden_size"]),
        seed=str(v["seed"]),
        model=dict(LSTMS)[v["model"]],
        value=f"{v['x'][0]:.2f}",
        marker=f"{v['x'][1]:g}",
        kept_share=f"{v['f']:.0%}",
        h_prev=f"{v['h_prev'][v['unit']]:+.2f}",
    )
    return out


def step_numbers_add_up(step: int | None = None, trace: dict | None = None) -> Claim:
    """The drawn numbers obey the equations: c_t = f_t c_{t-1} + i_t g_t and h_t = o_t tanh(c_t)."""
    v = lstm_step_values(step=step, trace=trace)
    errors = (abs(v["c"] - v["fc"] - v["ig"]), abs(v["h"] - v["o"] * v["tanh_c"]))
    return Claim(max(errors) < 1e-6, f"|c - (fc + ig)| = {errors[0]:.1e}, |h - o tanh c| = {errors[1]:.1e}")


# --------------------------------------------------------------------------------------
# What a trained recall LSTM holds over its gap
# --------------------------------------------------------------------------------------


def _load_recall(result: dict | None) -> dict:
    from snippets.experiments import recall

    return recall() if result is None else result


RECALL_LSTM = "lstm_fb3"  # the recall experiment's LSTM this page looks inside: forget bias 3


def recall_gap(result: dict, cell: str = RECALL_LSTM, min_accuracy: float = 0.9) -> int:
    """The longest gap at which the stored run (the first seed) of model `cell` reached `min_accuracy`."""
    stored = result.get("state_dicts", {}).get(cell, {})
    solved = [
        gap
        for gap, accs in zip(result["gaps"], result["cells"][cell]["accuracy"])
        if str(gap) in stored and accs[0] >= min_accuracy
    ]
    if not solved:
        raise ValueError(
            f"recall_gap: no stored {cell} run reached accuracy {min_accuracy} at any gap of {result['gaps']}"
        )
    return max(solved)


def recall_memory(result: dict | None = None, n_units: int = 3, state_dict: dict | None = None, gap=None) -> dict:
    """Traces of a trained recall LSTM on its validation sequences, and the units that carry the subject.

    By default the stored LSTM at `recall_gap`; or the given `state_dict` at `gap`. Units:
    `snippets.interpret.carrying_units` at the query step. Adds `"gap"`, `"units"`, `"share"` (the
    subject's share of each unit's cell-state variance at every step, (time, unit)).
    """
    from snippets import interpret

    if state_dict is None:
        result = _load_recall(result)
        gap = recall_gap(result)
        state_dict = result["state_dicts"][RECALL_LSTM][str(gap)]
    traces = interpret.recall_traces(state_dict, gap)
    units = interpret.carrying_units(traces["c"][-1], traces["subject"], n_units)
    _, share = interpret.subject_variance(traces["c"], traces["subject"])
    return {**traces, "gap": gap, "units": units, "share": share}


def plot_recall_memory(memory_traces: dict, narrow: bool = False) -> Figure:
    """Cell state and forget gate of each carrying unit against the step, one line per subject.

    A subject's line (the mean over its sequences) is coloured by what the unit holds for it at the
    query: a positive value, a negative one, or about nothing ($|c| < 1$). Desktop: cell states on
    top, forget gates below, one column per unit; phone: one row per unit.
    """
    m = memory_traces
    steps = np.arange(m["c"].shape[0])
    subjects = np.unique(m["subject"])
    n = len(m["units"])
    kinds = [
        ("positive at the query", COLORS[0], "-"),
        ("negative at the query", COLORS[1], "--"),
        ("near 0 at the query ($|c| < 1$)", "#000000", ":"),
    ]
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 2.0 * n + 0.8) if narrow else (7.4, 4.8), layout="constrained")
        grid = (
            fig.subplots(n, 2, sharex=True, squeeze=False)
            if narrow
            else fig.subplots(2, n, sharex=True, squeeze=False).T
        )
        for (ax_c, ax_f), unit in zip(grid, m["units"]):
            for s in subjects:
                rows = m["subject"] == s
                c, f = m["c"][:, rows, unit].mean(1), m["f"][:, rows, unit].mean(1)
                kind = 0 if c[-1] >= 1 else 1 if c[-1] <= -1 else 2
                label, color, style = kinds[kind]
                alpha = 0.9 if kind < 2 else 0.5
                ax_c.plot(steps, c, color=color, linestyle=style, alpha=alpha, label=label)
                ax_f.plot(steps, f, color=color, linestyle=style, alpha=alpha)
            ax_c.set_title(f"unit {unit}: $c_t$", fontsize=10)
            ax_f.set_title(f"unit {unit}: $f_t$", fontsize=10)
            ax_f.set_ylim(-0.03, 1.03)
            for ax in (ax_c, ax_f):
                ax.axvspan(0.5, m["gap"] + 0.5, color="#000000", alpha=0.06, linewidth=0)
        for ax in grid[-1] if narrow else grid[:, 1]:
            ax.set_xlabel("step (0: subject)" if narrow else "step (0: subject; last: query)")
        handles = {label: handle for ax in grid[:, 0] for handle, label in zip(*ax.get_legend_handles_labels())}
        ordered = [k[0] for k in kinds if k[0] in handles]
        fig.legend([handles[k] for k in ordered], ordered, loc="outside upper center", ncols=1 if narrow else 3)
        grid[0, 0].xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def recall_memory_figure(narrow: bool = False) -> Figure:
    """`plot_recall_memory` of the cached `recall` experiment's stored LSTM."""
    return plot_recall_memory(recall_memory(), narrow=narrow)


def recall_facts(result: dict | None = None) -> dict:
    """The numbers the recall section prints: the runs at each gap, and what the shown model holds."""
    from snippets.experiments.runs import MODELS

    result = _load_recall(result)
    accuracy = result["cells"][RECALL_LSTM]["accuracy"]
    solved = [sum(a >= 0.9 for a in accs) for accs in accuracy]
    m = recall_memory(result)
    units = m["units"]
    f_gap = m["f"][1:-1][:, :, units]  # over the gap: after the subject, before the query
    return {
        "seeds": str(len(accuracy[0])),
        "forget_bias": f"{MODELS[RECALL_LSTM][1]:g}",
        "solved": "; ".join(f"gap {g}: {s} of {len(a)}" for g, s, a in zip(result["gaps"], solved, accuracy)),
        "gap": str(m["gap"]),
        "accuracy": f"{m['correct'].mean():.1%}",
        "n": str(len(m["subject"])),
        "units": ", ".join(map(str, units)),
        "share_min": f"{m['share'][:, units].min():.0%}",
        "f_median": _range(np.median(f_gap, axis=(0, 1)), "{:.3f}"),
        "f_mean": _range(f_gap.mean(axis=(0, 1)), "{:.2f}"),
        "chance": f"{result['chance_accuracy']:.3f}",
    }


# --------------------------------------------------------------------------------------
# Why the candidate is a tanh
# --------------------------------------------------------------------------------------


def _load_candidate(result: dict | None) -> dict:
    from snippets.experiments import candidate_growth

    return candidate_growth() if result is None else result


def candidate_summary(result: dict, last: int | None = None) -> dict:
    """Per candidate, per input scale: the per-seed values the figure draws.

    `"max_write"`: the largest $|i_t g_t|$ over all steps; `"mean_abs_c"` and `"saturated"`:
    averages over the last `last` steps (default: 100, or all if fewer; the state has settled by
    then). Arrays (scale, seed).
    """
    last = min(100, result["steps"]) if last is None else last
    if not 1 <= last <= result["steps"]:
        raise ValueError(f"candidate_summary: expected last in [1, {result['steps']}], got {last!r}")
    out = {}
    for cand, by_scale in result["runs"].items():
        runs = [by_scale[str(s)] for s in result["scales"]]
        out[cand] = {
            "max_write": np.array([[max(r["max_write"]) for r in seeds] for seeds in runs]),
            "mean_abs_c": np.array([[np.mean(r["mean_abs_c"][-last:]) for r in seeds] for seeds in runs]),
            "saturated": np.array([[np.mean(r["saturated"][-last:]) for r in seeds] for seeds in runs]),
        }
    return out


CANDIDATE_PANELS = [  # (summary key, y label, log scale)
    ("max_write", "largest write $|i_t g_t|$", True),
    ("mean_abs_c", r"mean $|c_t|$", True),
    ("saturated", "share of units\nwith $|c_t| > 3$", False),
]


def plot_candidate_growth(result: dict, narrow: bool = False) -> Figure:
    """Three panels against the input scale: the largest write, the size of $c_t$, the saturated share.

    Mean over seeds (markers and line) with its 95 % confidence interval as error bars; tanh and
    ReLU candidates in two colours; the tanh candidate's bound on a write, 1, dashed.
    """
    summary = candidate_summary(result)
    scales = np.array(result["scales"])
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 7.0) if narrow else (7.4, 2.9), layout="constrained")
        axes = (
            fig.subplots(len(CANDIDATE_PANELS), 1, sharex=True)
            if narrow
            else fig.subplots(1, len(CANDIDATE_PANELS), sharex=True)
        )
        for ax, (key, label, log) in zip(axes, CANDIDATE_PANELS):
            for (cand, values), color, marker in zip(summary.items(), COLORS, "os"):
                mean, low, high = (v.numpy() for v in mean_ci95(values[key], dim=1))
                ax.errorbar(
                    scales,
                    mean,
                    yerr=[mean - low, high - mean],
                    color=color,
                    marker=marker,
                    markersize=4,
                    capsize=2,
                    label=f"{cand} candidate",
                )
            if key == "max_write":
                ax.axhline(1.0, color="#000000", linestyle="--", linewidth=1.0, label="tanh's bound, 1")
            ax.set_xscale("log", base=2)
            if log:
                ax.set_yscale("log")
            ax.set_ylabel(label)
        axes[-1].set_xlabel(r"input scale $s$, $x_t \sim N(0, s^2)$")
        if not narrow:
            for ax in axes:
                ax.set_xlabel(r"input scale $s$, $x_t \sim N(0, s^2)$")
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside upper center", ncols=1 if narrow else 3, fontsize=9)
    return fig


def candidate_growth_figure(narrow: bool = False) -> Figure:
    """`plot_candidate_growth` of the cached `candidate_growth` experiment."""
    return plot_candidate_growth(_load_candidate(None), narrow=narrow)


def candidate_facts(result: dict | None = None) -> dict:
    """The numbers behind the tanh-versus-ReLU figure."""
    result = _load_candidate(result)
    summary = candidate_summary(result)
    tanh, relu = summary["tanh"], summary["relu"]
    return {
        "small": f"{result['scales'][0]:g}",
        "large": f"{result['scales'][-1]:g}",
        "tanh_write": f"{tanh['max_write'][-1].max():.3f}",
        "relu_write": _ci(relu["max_write"][-1], "{:.0f}"),
        "tanh_c": _ci(tanh["mean_abs_c"][-1], "{:.2f}"),
        "relu_c": _ci(relu["mean_abs_c"][-1], "{:.1f}"),
        "tanh_saturated": f"{100 * tanh['saturated'][-1].mean():.1f} %",
        "relu_saturated": _ci(100 * relu["saturated"][-1], "{:.0f}").replace(")", " %)"),
        "tanh_c_small": f"{tanh['mean_abs_c'][0].mean():.2f}",
        "relu_c_small": f"{relu['mean_abs_c'][0].mean():.2f}",
        "steps": str(result["steps"]),
        "forget_bias": f"{result['forget_bias']:g}",
        "seeds": str(len(result["seeds"])),
    }


def tanh_candidate_stays_bounded(result: dict | None = None) -> Claim:
    """With the tanh candidate no single write exceeds 1 and under 1 % of the units saturate, at every
    input scale and seed; with the ReLU candidate the largest write passes 10 at the largest scale."""
    summary = candidate_summary(_load_candidate(result))
    tanh, relu = summary["tanh"], summary["relu"]
    holds = tanh["max_write"].max() <= 1.0 and tanh["saturated"].max() < 0.01 and relu["max_write"][-1].min() > 10
    return Claim(
        bool(holds),
        f"tanh: largest write {tanh['max_write'].max():.3f}, saturated at most "
        f"{tanh['saturated'].max():.4f}; ReLU: largest write at the largest scale at least "
        f"{relu['max_write'][-1].min():.1f}",
    )


def relu_writes_grow_with_the_input(result: dict | None = None) -> Claim:
    """With the ReLU candidate, from scale 2 on, the largest write grows in proportion to the input scale
    (its ratio to the scale varies by less than a factor 1.5), and the saturated share of units rises
    with the scale to above 10 %."""
    result = _load_candidate(result)
    relu = candidate_summary(result)["relu"]
    scales = np.array(result["scales"])
    ratio = relu["max_write"].mean(1)[scales >= 2] / scales[scales >= 2]
    saturated = relu["saturated"].mean(1)
    holds = ratio.max() / ratio.min() < 1.5 and np.all(np.diff(saturated) >= -1e-3) and saturated[-1] > 0.1
    return Claim(
        bool(holds),
        f"write/scale from {ratio.min():.2f} to {ratio.max():.2f}; saturated share "
        + ", ".join(f"{s:.3f}" for s in saturated),
    )
