"""Figures of the LSTM cell page: gate activations and cell state of a real forward pass."""

from __future__ import annotations

import math

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from snippets.figures import COLORS, theme

LSTM_PANELS = [  # (trace key, label, y range); "x" is the input
    ("x", "input\n$x_t$", None),
    ("i", "input gate\n$i_t$", (0, 1)),
    ("f", "forget gate\n$f_t$", (0, 1)),
    ("g", "candidate\n$g_t$", (-1, 1)),
    ("o", "output gate\n$o_t$", (0, 1)),
    ("c", "cell state\n$c_t$", None),
]


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
    x: torch.Tensor, hidden_size: int = 3, seed: int = 0, init_bound: float = 2.0, forget_bias: float = 0.0
):
    """Gate traces of a seeded, untrained `snippets.LSTM(1, hidden_size)` on `x` (steps, 1, 1).

    Weights are drawn from U(-init_bound, init_bound) rather than torch.nn's U(-1/sqrt(H), 1/sqrt(H)),
    whose small weights keep every gate near 1/2; `forget_bias` is then added to the forget gate's
    input bias (rows H:2H, gate order i, f, g, o). Returns {key: array (steps, hidden_size)} for the
    keys "i", "f", "g", "o", "c", "h": layer 0, the only direction, batch element 0.
    """
    from snippets import LSTM  # here, not at the top: snippets/__init__ may import this module one day

    torch.manual_seed(seed)
    model = LSTM(1, hidden_size)
    with torch.no_grad():
        for weight in model.parameters():
            weight.uniform_(-init_bound, init_bound)
        model.bias_ih_l0[hidden_size : 2 * hidden_size] += forget_bias
        _, _, trace = model(x, return_gates=True)
    return {key: value[0, 0, :, 0, :].numpy() for key, value in trace.items()}


def plot_lstm_gates(x: torch.Tensor, trace: dict) -> Figure:
    """One panel per gate (and the input, and the cell state) over time; one line per unit."""
    steps, units = trace["c"].shape
    active = [t for t in range(steps) if x[t].abs().sum() > 0]
    with theme():
        fig = Figure(figsize=(7, 7.5), layout="constrained")
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
            ax.set_ylabel(label, rotation=0, ha="right", va="center")
        axes[1].legend(ncols=units, loc="lower left", bbox_to_anchor=(0, 1.02), borderaxespad=0)
        axes[-1].set_xlabel("time step $t$")
    return fig


def lstm_gates_figure(seed: int = 0, hidden_size: int = 3, forget_bias: float = 0.0) -> Figure:
    """The figure on the LSTM cell page: `plot_lstm_gates` of a pulse input through a seeded LSTM."""
    x = pulse_input()
    return plot_lstm_gates(x, lstm_gate_traces(x, hidden_size=hidden_size, seed=seed, forget_bias=forget_bias))


# --------------------------------------------------------------------------------------
# One step of the cell, drawn with the values of a real forward pass
# --------------------------------------------------------------------------------------


def lstm_step_values(
    step: int = 3, unit: int = 0, seed: int = 0, hidden_size: int = 3, forget_bias: float = 0.0
) -> dict:
    r"""One unit's values at one step of the pulse-input forward pass of `lstm_gates_figure`.

    Read from the `return_gates=True` traces: the gates `"i"`, `"f"`, `"g"`, `"o"`, the states
    `"c_prev"`, `"c"`, `"h"`, the whole previous hidden state `"h_prev"` (a list: every gate sees
    all of it) and the input `"x"`; plus the products the diagram shows, `"fc"` $= f_t c_{t-1}$,
    `"ig"` $= i_t g_t$ and `"tanh_c"` $= \tanh(c_t)$. Before the first step the state is zero.
    """
    x = pulse_input()
    if not isinstance(step, int) or not 0 <= step < len(x):
        raise ValueError(f"lstm_step_values: expected step an int in [0, {len(x)}), got {step!r}")
    if not isinstance(unit, int) or not 0 <= unit < hidden_size:
        raise ValueError(f"lstm_step_values: expected unit an int in [0, {hidden_size}), got {unit!r}")
    trace = lstm_gate_traces(x, hidden_size=hidden_size, seed=seed, forget_bias=forget_bias)
    values = {key: float(trace[key][step, unit]) for key in ("i", "f", "g", "o", "c", "h")}
    values["c_prev"] = float(trace["c"][step - 1, unit]) if step else 0.0
    values["h_prev"] = [float(v) for v in trace["h"][step - 1]] if step else [0.0] * hidden_size
    values["x"] = float(x[step, 0, 0])
    values.update(fc=values["f"] * values["c_prev"], ig=values["i"] * values["g"], tanh_c=float(np.tanh(values["c"])))
    values.update(step=step, unit=unit, seed=seed, hidden_size=hidden_size)
    return values


def _node(ax, xy, text, *, width=1.7, height=0.75, round_=True, weight="normal", color="#000000"):
    from matplotlib.patches import FancyBboxPatch

    x, y = xy
    style = "round,pad=0.02,rounding_size=0.15" if round_ else "square,pad=0.02"
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2),
            width,
            height,
            boxstyle=style,
            facecolor="none",
            edgecolor=color,
            linewidth=1.3,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=12, fontweight=weight, color=color)


def _op(ax, xy, symbol):
    from matplotlib.patches import Circle

    ax.add_patch(Circle(xy, 0.3, facecolor="none", edgecolor="#000000", linewidth=1.3))
    ax.text(xy[0], xy[1], symbol, ha="center", va="center", fontsize=15)


def _link(ax, start, end, color="#000000", width=1.3):
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(
        FancyArrowPatch(
            start, end, arrowstyle="-|>", mutation_scale=11, color=color, linewidth=width, shrinkA=0, shrinkB=0
        )
    )


def plot_lstm_cell(values: dict) -> Figure:
    r"""The LSTM cell as a diagram, with the numbers of one real step written in.

    The cell-state path runs along the top, $c_{t-1} \to \times f_t \to + \, i_t g_t \to c_t$
    (drawn heavier: the path along which the gradient meets only the forget gate); the gates
    sit below it, fed by $h_{t-1}$ and $x_t$; on the right $h_t = o_t \tanh(c_t)$.
    """
    v = values
    path = COLORS[0]
    fmt = "{:+.2f}".format
    with theme():
        fig = Figure(figsize=(8.0, 4.8), layout="constrained")
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.set_xlim(-0.3, 13.4)
        ax.set_ylim(-0.2, 7.6)
        ax.set_aspect("equal")
        top = 6.2
        # the cell-state path
        _node(ax, (0.9, top), f"$c_{{t-1}}$\n{fmt(v['c_prev'])}", width=1.4, height=1.0, color=path)
        _op(ax, (3.4, top), "×")
        _op(ax, (6.6, top), "+")
        _node(ax, (12.0, top), f"$c_t$\n{fmt(v['c'])}", width=1.4, height=1.0, color=path)
        _link(ax, (1.6, top), (3.1, top), path, 2.4)
        _link(ax, (3.7, top), (6.3, top), path, 2.4)
        _link(ax, (6.9, top), (11.3, top), path, 2.4)
        ax.text(5.0, top + 0.3, f"$f_t c_{{t-1}}$ = {fmt(v['fc'])}", ha="center", va="bottom", fontsize=12)
        # the gates
        gates_y = 2.9
        boxes = {
            "f": (3.4, r"$\sigma$  forget $f_t$"),
            "i": (5.6, r"$\sigma$  input $i_t$"),
            "g": (7.8, r"$\tanh$  cand. $g_t$"),
            "o": (10.05, r"$\sigma$  output $o_t$"),
        }
        for key, (x, label) in boxes.items():
            _node(ax, (x, gates_y), f"{label}\n{fmt(v[key])}", width=2.12, height=1.05)
        _link(ax, (3.4, gates_y + 0.5), (3.4, top - 0.3))  # f to the x on the path
        _op(ax, (6.6, 4.55), "×")  # i * g
        _link(ax, (5.6, gates_y + 0.5), (6.38, 4.35))
        _link(ax, (7.8, gates_y + 0.5), (6.82, 4.35))
        _link(ax, (6.6, 4.85), (6.6, top - 0.3))
        ax.text(6.95, 5.2, f"$i_t g_t$ = {fmt(v['ig'])}", ha="left", va="center", fontsize=12)
        # the output
        _node(ax, (12.0, 4.55), f"tanh $c_t$ = {fmt(v['tanh_c'])}", width=2.6, height=0.6, round_=False)
        _link(ax, (12.0, top - 0.5), (12.0, 4.85))
        _op(ax, (12.0, gates_y), "×")
        _link(ax, (12.0, 4.25), (12.0, gates_y + 0.3))
        _link(ax, (11.11, gates_y), (11.7, gates_y))  # o into the product
        _node(ax, (12.0, 1.0), f"$h_t$\n{fmt(v['h'])}", width=1.4, height=1.0)
        _link(ax, (12.0, gates_y - 0.3), (12.0, 1.5))
        # the inputs every gate sees
        h_prev = ", ".join(f"{h:+.2f}" for h in v["h_prev"])
        _node(
            ax,
            (6.65, 0.55),
            f"$h_{{t-1}}$ = ({h_prev})      $x_t$ = {fmt(v['x'])}",
            width=7.6,
            height=0.7,
            round_=False,
        )
        for x, _ in boxes.values():
            _link(ax, (x, 0.9), (x, gates_y - 0.5))
        ax.text(
            -0.2,
            7.45,
            f"unit {v['unit'] + 1} of snippets.LSTM(1, {v['hidden_size']}), seed {v['seed']}, step $t$ = {v['step']}",
            ha="left",
            va="center",
            fontsize=11,
            alpha=0.75,
        )
    return fig


def lstm_cell_figure(step: int = 3, unit: int = 0, seed: int = 0) -> Figure:
    """The page's cell diagram: `plot_lstm_cell` of `lstm_step_values` (the gates figure's network)."""
    return plot_lstm_cell(lstm_step_values(step=step, unit=unit, seed=seed))


# --------------------------------------------------------------------------------------
# Why the candidate is a tanh
# --------------------------------------------------------------------------------------


def candidate_summary(result: dict, last: int = 100) -> dict:
    """Per candidate, per input scale: the per-seed values the figure draws.

    `"max_write"`: the largest $|i_t g_t|$ over all steps; `"mean_abs_c"` and `"saturated"`:
    averages over the last `last` steps (the state has settled by then). Arrays (scale, seed).
    """
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


def plot_candidate_growth(result: dict) -> Figure:
    """Three panels against the input scale: the largest write, the size of $c_t$, the saturated share.

    Mean over seeds (markers and line) with the lowest and highest seed as error bars; tanh and
    ReLU candidates in two colours; the tanh candidate's bound on a write, 1, dashed.
    """
    summary = candidate_summary(result)
    scales = np.array(result["scales"])
    with theme():
        fig = Figure(figsize=(8.5, 3.0), layout="constrained")
        axes = fig.subplots(1, len(CANDIDATE_PANELS), sharex=True)
        for ax, (key, label, log) in zip(axes, CANDIDATE_PANELS):
            for (cand, values), color, marker in zip(summary.items(), COLORS, "os"):
                values = values[key]
                mean = values.mean(1)
                ax.errorbar(
                    scales,
                    mean,
                    yerr=[mean - values.min(1), values.max(1) - mean],
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
            ax.set_xlabel(r"input scale $s$, $x_t \sim N(0, s^2)$")
        axes[0].legend(loc="upper left", fontsize=8)
    return fig


def candidate_growth_figure() -> Figure:
    """`plot_candidate_growth` of the cached `candidate_growth` experiment."""
    from snippets.experiments import candidate_growth

    return plot_candidate_growth(candidate_growth())


def candidate_text(result: dict) -> str:
    """The numbers behind the tanh-versus-ReLU figure, as a paragraph."""
    summary = candidate_summary(result)
    tanh, relu = summary["tanh"], summary["relu"]
    small, large = result["scales"][0], result["scales"][-1]
    return (
        f"At the largest input scale, $s = {large:g}$, the largest single write was "
        f"{tanh['max_write'][-1].max():.3f} with the tanh candidate and {relu['max_write'][-1].max():.1f} "
        f"with the ReLU; the cell state averaged {tanh['mean_abs_c'][-1].mean():.2f} against "
        f"{relu['mean_abs_c'][-1].mean():.2f}, and {100 * tanh['saturated'][-1].mean():.1f}% against "
        f"{100 * relu['saturated'][-1].mean():.0f}% of the units sat where $\\tanh$ is flat. "
        f"At $s = {small:g}$ the two differ little ({tanh['mean_abs_c'][0].mean():.2f} and "
        f"{relu['mean_abs_c'][0].mean():.2f}): the difference is in what happens when the input is large. "
        f"(Untrained LSTM, {result['steps']} steps, forget-gate bias {result['forget_bias']:g}, "
        f"seeds {', '.join(map(str, result['seeds']))}.)\n"
    )


# --------------------------------------------------------------------------------------
# What a trained cell holds: the recall task
# --------------------------------------------------------------------------------------


def recall_gap(result: dict, cell: str = "lstm", min_accuracy: float = 0.9) -> int:
    """The longest gap at which the stored run (the first seed) of `cell` reached `min_accuracy`."""
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


def recall_memory(result: dict, n_units: int = 3) -> dict:
    """Traces of the trained recall LSTM at `recall_gap`, and the units that carry the subject.

    Units: `snippets.interpret.carrying_units` at the query step. Adds `"gap"`, `"units"`, and
    `"share"`, the subject's share of each unit's cell-state variance at every step (time, unit).
    """
    from snippets import interpret

    gap = recall_gap(result)
    traces = interpret.recall_traces(result["state_dicts"]["lstm"][str(gap)], gap)
    units = interpret.carrying_units(traces["c"][-1], traces["subject"], n_units)
    _, share = interpret.subject_variance(traces["c"], traces["subject"])
    return {**traces, "gap": gap, "units": units, "share": share}


def plot_recall_memory(memory_traces: dict) -> Figure:
    """Cell state (top) and forget gate (bottom) of each carrying unit against the step, per subject.

    One line per subject: the mean over its sequences. A subject's line is coloured by what the
    unit holds for it at the query: a positive value, a negative one, or about nothing ($|c| < 1$).
    """
    m = memory_traces
    steps = np.arange(m["c"].shape[0])
    subjects = np.unique(m["subject"])
    kinds = [
        ("positive at the query", COLORS[0], "-"),
        ("negative at the query", COLORS[1], "--"),
        ("near 0 at the query ($|c| < 1$)", "#000000", ":"),
    ]
    with theme():
        fig = Figure(figsize=(8.5, 4.8), layout="constrained")
        axes = fig.subplots(2, len(m["units"]), sharex=True, squeeze=False)
        for col, unit in enumerate(m["units"]):
            for s in subjects:
                rows = m["subject"] == s
                c, f = m["c"][:, rows, unit].mean(1), m["f"][:, rows, unit].mean(1)
                kind = 0 if c[-1] >= 1 else 1 if c[-1] <= -1 else 2
                label, color, style = kinds[kind]
                axes[0, col].plot(steps, c, color=color, linestyle=style, alpha=0.9 if kind < 2 else 0.5, label=label)
                axes[1, col].plot(steps, f, color=color, linestyle=style, alpha=0.9 if kind < 2 else 0.5)
            axes[0, col].set_title(f"unit {unit} (of {m['c'].shape[-1]})", fontsize=10)
            axes[1, col].set_ylim(-0.03, 1.03)
            axes[1, col].set_xlabel("step (0: subject; last: query)")
            for ax in axes[:, col]:
                ax.axvspan(0.5, m["gap"] + 0.5, color="#000000", alpha=0.06, linewidth=0)
        axes[0, 0].set_ylabel("cell state $c_t$")
        axes[1, 0].set_ylabel("forget gate $f_t$")
        handles = {label: handle for ax in axes[0] for handle, label in zip(*ax.get_legend_handles_labels())}
        ordered = [k[0] for k in kinds if k[0] in handles]
        fig.legend([handles[k] for k in ordered], ordered, loc="outside upper center", ncols=3)
        axes[1, 0].xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def recall_memory_figure() -> Figure:
    """`plot_recall_memory` of the cached `recall` experiment's stored LSTM."""
    from snippets.experiments import recall

    return plot_recall_memory(recall_memory(recall()))


def recall_memory_text(memory_traces: dict) -> str:
    """The numbers behind the recall figure: accuracy, the subject's share, the forget gates that hold."""
    m = memory_traces
    units = m["units"]
    share = m["share"][:, units]
    c_query = m["c"][-1][:, units]
    holding = np.abs(c_query) >= 1  # (sequence, unit): the unit holds something for this sequence
    f_hold = m["f"][1:-1][:, :, units][:, holding]  # forget gates over the gap where it holds
    f_free = m["f"][1:-1][:, :, units][:, ~holding]
    per_step = np.abs(np.diff(m["c"][:, :, units], axis=0))
    return (
        f"On {len(m['subject'])} validation sequences at gap {m['gap']} the model names the subject "
        f"in {100 * m['correct'].mean():.1f}% of them. For units {', '.join(map(str, units))}, the "
        f"subject accounts for at least {100 * share.min():.0f}% of the variance of the cell state "
        f"at every step from the subject to the query. Over the gap, where a unit holds a value "
        f"($|c| \\ge 1$ at the query) its forget gate has a median of {np.median(f_hold):.3f}; where "
        f"it holds nothing, {np.median(f_free):.2f}. No step changes these cell states by more than "
        f"{per_step.max():.2f}: a tanh candidate writes less than 1 per step.\n"
    )


# --------------------------------------------------------------------------------------
# The gradient along the cell path
# --------------------------------------------------------------------------------------


def plot_cell_gradient(lstm_result: dict, rnn_result: dict, rnn_sigma: float = 1.0) -> Figure:
    r"""$\lVert \partial L/\partial c_{T-k} \rVert$ (left) and its cell-path part (right) against $k$.

    One line per forget-gate bias (mean over seeds, band from the lowest to the highest seed),
    and the tanh RNN's $\lVert \partial L/\partial h_{T-k} \rVert$ at $\lambda_1$ = `rnn_sigma` in grey.
    """
    rnn = rnn_result["curves"][str(rnn_sigma)]
    with theme():
        fig = Figure(figsize=(8.5, 3.4), layout="constrained")
        axes = fig.subplots(1, 2, sharey=True)
        titles = {
            "c": r"all paths: $\Vert \partial L / \partial c_{T-k} \Vert$",
            "cell_path": r"cell path only: $\Vert (\prod f_s) \odot \partial L / \partial c_T \Vert$",
        }
        for ax, (path, title) in zip(axes, titles.items()):
            for bias, color, style in zip(lstm_result["forget_biases"], COLORS, ("-", "--", "-.")):
                curve = lstm_result["curves"][str(bias)]
                k, values = curve["k"], curve[path]
                ax.fill_between(k, values["min"], values["max"], color=color, alpha=0.25, linewidth=0)
                ax.plot(k, values["mean"], color=color, linestyle=style, label=f"LSTM, forget bias {bias:g}")
            ax.plot(
                rnn["k"],
                rnn["h"]["mean"],
                color="#000000",
                alpha=0.55,
                linestyle=":",
                label=rf"tanh RNN, $\lambda_1 = {rnn_sigma:g}$: $\Vert \partial L/\partial h_{{T-k}} \Vert$",
            )
            ax.set_yscale("log")
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("distance $k$ (steps)")
        axes[0].set_ylabel("gradient norm")
        axes[1].legend(loc="lower left", fontsize=8)
    return fig


def cell_gradient_figure() -> Figure:
    """`plot_cell_gradient` of the cached `gradient_decay_lstm` and `gradient_decay_rnn` experiments."""
    from snippets.experiments import gradient_decay_lstm, gradient_decay_rnn

    return plot_cell_gradient(gradient_decay_lstm(), gradient_decay_rnn())


def cell_gradient_table(lstm_result: dict, rnn_result: dict, rnn_sigma: float = 1.0) -> str:
    r"""A Markdown table at the farthest distance $k$: per forget bias, $\sigma(b_f)^k$ and the two measured norms."""
    k = lstm_result["curves"][str(lstm_result["forget_biases"][0])]["k"][-1]
    lines = [
        f"| model | $\\sigma(b_f)$ | $\\sigma(b_f)^{{{k}}}$ | cell path at $k = {k}$ | all paths at $k = {k}$ |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for bias in lstm_result["forget_biases"]:
        curve = lstm_result["curves"][str(bias)]
        gate = 1 / (1 + math.exp(-bias))
        lines.append(
            f"| LSTM, forget bias {bias:g} | {gate:.3f} | ${_latex_number(gate**k)}$ | "
            f"${_latex_number(curve['cell_path']['mean'][-1])}$ | ${_latex_number(curve['c']['mean'][-1])}$ |"
        )
    rnn = rnn_result["curves"][str(rnn_sigma)]["h"]["mean"][-1]
    lines.append(f"| tanh RNN, $\\lambda_1 = {rnn_sigma:g}$ (at $h$) | | | | ${_latex_number(rnn)}$ |")
    return "\n".join(lines) + "\n"


def _latex_number(value: float) -> str:
    """0.123, or $1.2 \\times 10^{-5}$ written for inline math (no dollars: the caller adds them)."""
    if value == 0 or not math.isfinite(value) or 1e-2 <= abs(value) < 1e3:
        return f"{value:.3g}"
    exponent = math.floor(math.log10(abs(value)))
    return f"{value / 10**exponent:.1f} \\times 10^{{{exponent}}}"


def recall_results_text(result: dict, cell: str = "lstm") -> str:
    """One sentence per gap: the final validation accuracy of each seed, and chance."""
    accuracies = result["cells"][cell]["accuracy"]
    per_gap = [f"gap {gap}: {', '.join(f'{a:.2f}' for a in accs)}" for gap, accs in zip(result["gaps"], accuracies)]
    return (
        f"Final validation accuracy of the {cell.upper()} per seed ({len(accuracies[0])} seeds; chance "
        f"{result['chance_accuracy']:.3f}): " + "; ".join(per_gap) + ".\n"
    )
