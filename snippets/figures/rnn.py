r"""Figures and tables of the RNN page: the unrolled network, gradient decay, exploding gradients.

Each `plot_*` function draws one experiment's result (the dict the experiment returns); each
`*_figure` function loads that result through the cache and plots it, which is what a page calls.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from snippets.figures import COLORS, theme

FORWARD = "#000000"
BACKWARD = COLORS[1]


# --------------------------------------------------------------------------------------
# The unrolled network
# --------------------------------------------------------------------------------------


def _box(ax, x, y, text, width=1.0, height=0.7, dashed=False):
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2),
            width,
            height,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor="none",
            edgecolor=FORWARD,
            linewidth=1.3,
            linestyle="--" if dashed else "-",
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=12)


def _arrow(ax, start, end, color=FORWARD, style="-", rad=0.0, label=None, label_at=None, **text):
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=12,
            color=color,
            linewidth=1.3,
            linestyle=style,
            connectionstyle=f"arc3,rad={rad}",
            shrinkA=0,
            shrinkB=0,
        )
    )
    if label:
        x, y = label_at or ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
        ax.text(x, y, label, color=color, ha="center", va="center", fontsize=10, **text)


def plot_unrolled_rnn(steps: int = 4) -> Figure:
    r"""The RNN unrolled over `steps` time steps, forward (black) and backward (coloured) passes.

    One column per step: $x_t$ enters $h_t$ through $W_{ih}$, $h_{t-1}$ through the same
    $W_{hh}$ at every step; the loss reads $h_T$. The backward pass runs the other way, each step
    multiplying the gradient by the transposed Jacobian $W_{hh}^\top \operatorname{diag}(1 - h_t^2)$.
    """
    if not isinstance(steps, int) or not 2 <= steps <= 6:
        raise ValueError(f"plot_unrolled_rnn: expected steps an int from 2 to 6, got {steps!r}")
    names = [str(t) for t in range(1, steps)] + ["T"]
    xs = [2.6 * t for t in range(1, steps + 1)]
    with theme():
        fig = Figure(figsize=(1.55 * steps + 1.6, 3.6), layout="constrained")
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.set_xlim(-0.6, xs[-1] + 1.4)
        ax.set_ylim(-0.75, 5.1)
        ax.set_aspect("equal")
        _box(ax, 0, 2, "$h_0$", dashed=True)
        for t, (x, name) in enumerate(zip(xs, names)):
            _box(ax, x, 0, f"$x_{{{name}}}$")
            _box(ax, x, 2, f"$h_{{{name}}}$")
            _arrow(ax, (x, 0.35), (x, 1.65), label="$W_{ih}$", label_at=(x + 0.45, 1.0))
            previous = xs[t - 1] if t else 0
            _arrow(ax, (previous + 0.5, 2), (x - 0.5, 2), label="$W_{hh}$", label_at=((previous + x) / 2, 1.72))
            # backward: from h_t to h_{t-1}, above the forward arrow
            _arrow(
                ax,
                (x - 0.35, 2.4),
                (previous + 0.35, 2.4),
                color=BACKWARD,
                style="--",
                rad=0.45,
                label=rf"$\times J_{{{name}}}^{{\top}}$",
                label_at=((previous + x) / 2, 3.2),
            )
        _box(ax, xs[-1], 4.4, "$L$", width=0.8)
        _arrow(
            ax, (xs[-1] - 0.15, 2.35), (xs[-1] - 0.15, 4.05), label="$w^{\\top} h_T$", label_at=(xs[-1] - 0.75, 3.75)
        )
        _arrow(
            ax,
            (xs[-1] + 0.15, 4.05),
            (xs[-1] + 0.15, 2.35),
            color=BACKWARD,
            style="--",
            label=r"$\partial L/\partial h_T$",
            label_at=(xs[-1] + 0.95, 3.75),
        )
        ax.text(
            -0.5,
            4.75,
            r"forward: $h_t = \tanh(W_{ih} x_t + W_{hh} h_{t-1} + b)$",
            ha="left",
            va="center",
            fontsize=10,
            color=FORWARD,
        )
        ax.text(
            -0.5,
            4.25,
            r"backward: $\partial L/\partial h_{t-1} = J_t^{\top}\, \partial L/\partial h_t$,"
            r"  $J_t = \mathrm{diag}(1 - h_t^2)\, W_{hh}$",
            ha="left",
            va="center",
            fontsize=10,
            color=BACKWARD,
        )
    return fig


# --------------------------------------------------------------------------------------
# Vanishing: measured gradient norms against the bound
# --------------------------------------------------------------------------------------


def plot_gradient_decay(result: dict) -> Figure:
    r"""One panel per largest singular value $\lambda_1$: $\lVert \partial L/\partial h_{T-k}\rVert$ against $k$.

    In each: the mean over sequences (line; band from the lowest to the highest seed's mean),
    the largest single sequence (thin), and the bound $\lambda_1^k$ (dashed). Log scale.
    """
    sigmas = result["sigmas"]
    with theme():
        fig = Figure(figsize=(8, 5.2), layout="constrained")
        grid = fig.subplots(2, 3, sharex=True)
        axes = grid.flat
        for ax, sigma, color in zip(axes, sigmas, COLORS * 2):
            curve = result["curves"][str(sigma)]
            k, h = curve["k"], curve["h"]
            ax.fill_between(k, h["min"], h["max"], color=color, alpha=0.25, linewidth=0)
            ax.plot(k, h["mean"], color=color, linestyle="-", label="measured, mean")
            ax.plot(k, h["max_ratio"], color=color, linestyle=":", linewidth=1.0, label="largest sequence")
            ax.plot(k, curve["bound"], color="#000000", linestyle="--", linewidth=1.1, label=r"bound $\lambda_1^k$")
            ax.set_yscale("log")
            ax.set_title(rf"$\lambda_1 = {sigma:g}$", fontsize=10)
            ax.set_xlabel("distance $k$ (steps)")
            ax.xaxis.set_tick_params(labelbottom=True)
        for row in grid:
            row[0].set_ylabel(r"$\Vert \partial L / \partial h_{T-k} \Vert$")
        spare = grid.flat[len(sigmas) :]
        for ax in spare:  # the empty panels hold the legend
            ax.set_axis_off()
        handles, labels = grid.flat[0].get_legend_handles_labels()
        (spare[0] if len(spare) else fig).legend(handles, labels, loc="center")
    return fig


def gradient_decay_figure() -> Figure:
    """`plot_gradient_decay` of the cached `gradient_decay_rnn` experiment."""
    from snippets.experiments import gradient_decay_rnn

    return plot_gradient_decay(gradient_decay_rnn())


def bound_holds(result: dict, rtol: float = 1e-9) -> bool:
    """Whether every sequence's gradient ratio stays at or below $\\lambda_1^k$, at every distance and $\\lambda_1$."""
    return all(
        ratio <= bound * (1 + rtol)
        for curve in result["curves"].values()
        for ratio, bound in zip(curve["h"]["max_ratio"], curve["bound"])
    )


def gradient_decay_text(result: dict) -> str:
    """A paragraph: how many sequences were measured, whether all obey the bound, the measured $\\lambda_1$."""
    from snippets.experiments import GradientConfig

    config = GradientConfig()  # the default run: its batch and T are not in the result
    curves = result["curves"].values()
    n_seeds = len(next(iter(curves))["h"]["per_seed"])
    spread = max(abs(lam - float(sigma)) for sigma, c in result["curves"].items() for lam in c["sigma_max"])
    verdict = (
        "none of them exceeds its bound at any distance"
        if bound_holds(result)
        else "some exceed the bound: the measurement or the theory is wrong"
    )
    return (
        f"Each curve is {n_seeds} seeds × {config.batch} sequences of {config.T} steps of Gaussian "
        f"input through a tanh RNN with {config.hidden_size} units, in float64, with $W_{{hh}}$ rescaled to "
        f"the given largest singular value (measured afterwards: within {_sci(spread)} of it); "
        f"{verdict}.\n"
    )


def gradient_decay_table(result: dict, distances=(1, 10, 50, 99)) -> str:
    """A Markdown table: per $\\lambda_1$, the mean measured norm and the bound $\\lambda_1^k$ at a few distances."""
    k_max = len(result["curves"][str(result["sigmas"][0])]["k"]) - 1
    if any(not 0 <= d <= k_max for d in distances):
        raise ValueError(f"gradient_decay_table: expected distances in [0, {k_max}], got {distances!r}")
    lines = [
        "| $\\lambda_1$ | | " + " | ".join(f"$k = {d}$" for d in distances) + " |",
        "| ---: | --- | " + " | ".join("---:" for _ in distances) + " |",
    ]
    for sigma in result["sigmas"]:
        curve = result["curves"][str(sigma)]
        lines.append(f"| {sigma:g} | measured | " + " | ".join(_sci(curve["h"]["mean"][d]) for d in distances) + " |")
        lines.append("| | bound $\\lambda_1^k$ | " + " | ".join(_sci(curve["bound"][d]) for d in distances) + " |")
    return "\n".join(lines) + "\n"


def _sci(value: float) -> str:
    """A number for a table: 0.123, 12.3, or 1.2 × 10⁻¹⁵ in Markdown math."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    if 1e-2 <= abs(value) < 1e3:
        return f"{value:.3g}"
    exponent = math.floor(math.log10(abs(value)))
    return f"${value / 10**exponent:.1f} \\times 10^{{{exponent}}}$"


# --------------------------------------------------------------------------------------
# Exploding: training with and without clipping
# --------------------------------------------------------------------------------------


def plot_exploding(result: dict) -> Figure:
    """Three panels over training steps, one line per seed, unclipped and clipped runs.

    Gradient norm before clipping (log), training loss (log), and the clipped runs' validation
    MSE against the memoryless baseline. A run that diverged ends in a cross.
    """
    groups = [(clip, logs) for clip, logs in ((c, r["logs"]) for c, r in result["runs"].items())]
    with theme():
        fig = Figure(figsize=(8.5, 3.0), layout="constrained")
        ax_norm, ax_loss, ax_val = fig.subplots(1, 3)
        for (clip, logs), color, style in zip(groups, COLORS, ("-", "--", ":")):
            label = ("no clipping" if clip == "None" else f"clipped at {float(clip):g}") + f" ({len(logs)} seeds)"
            for i, log in enumerate(logs):
                steps, norms, losses = _finite_prefix(log["step"], log["grad_norm"], log["train_loss"])
                name = label if i == 0 else None
                ax_norm.plot(steps, norms, color=color, linestyle=style, label=name)
                ax_loss.plot(steps, losses, color=color, linestyle=style, label=name)
                if log["status"] == "diverged":
                    for ax, values in ((ax_norm, norms), (ax_loss, losses)):
                        ax.plot(steps[-1], values[-1], marker="x", color=color, markersize=8, linestyle="none")
                if clip != "None":
                    ax_val.plot(
                        log["val_step"], log["val_loss"], color=color, linestyle=style, label=label if i == 0 else None
                    )
            if clip != "None":
                ax_norm.axhline(float(clip), color=color, linewidth=0.8, alpha=0.6)
        ax_val.axhline(
            result["baseline"],
            color="#000000",
            linestyle="--",
            linewidth=1.1,
            label=f"baseline {result['baseline']:.3f}",
        )
        ax_norm.set(
            yscale="log",
            xscale="symlog",
            xlabel="training step",
            ylabel=r"$\Vert \nabla_\theta L \Vert$ before clipping",
        )
        ax_loss.set(yscale="log", xscale="symlog", xlabel="training step", ylabel="training MSE")
        ax_val.set(xlabel="training step", ylabel="validation MSE")
        ax_val.set_ylim(0, max(0.3, result["baseline"] * 1.5))
        for ax in (ax_norm, ax_loss):
            ax.set_xlim(0.8, None)
        ax_norm.legend(loc="upper right")
        ax_val.legend(loc="upper right", fontsize=8)
    return fig


def _finite_prefix(steps, *series):
    """The steps up to the last one where every series is finite (a diverged run ends in inf)."""
    arrays = [np.asarray(s, dtype=float) for s in series]
    ok = np.all([np.isfinite(a) for a in arrays], axis=0)
    end = len(ok) if ok.all() else int(np.argmin(ok))
    return (np.asarray(steps)[:end], *(a[:end] for a in arrays))


def exploding_figure() -> Figure:
    """`plot_exploding` of the cached `exploding_gradients` experiment."""
    from snippets.experiments import exploding_gradients

    return plot_exploding(exploding_gradients())


def exploding_text(result: dict) -> str:
    """A paragraph with the run's numbers: when the unclipped runs diverged, where the clipped ones ended."""
    from snippets.experiments import ExplodingConfig

    config = ExplodingConfig()  # the default run: its T and sigma are not in the logs
    plain, clipped = result["runs"]["None"], [r for c, r in result["runs"].items() if c != "None"]
    if not clipped:
        raise ValueError("exploding_text: expected a clipped setting in the result, got only 'None'")
    clipped = clipped[0]
    diverged = [s for s, status in zip(plain["steps_run"], plain["status"]) if status == "diverged"]
    peak = max(max(v for v in log["grad_norm"] if math.isfinite(v)) for log in plain["logs"])
    final = clipped["final_val_loss"]
    budget = clipped["logs"][0]["config"]  # the TrainConfig of the runs
    return (
        f"Without clipping, {len(diverged)} of the {len(plain['status'])} runs diverged, at steps "
        f"{', '.join(map(str, sorted(diverged)))} "
        f"(the largest finite gradient norm in the log, which keeps every 10th step, was {_sci(peak)}). "
        f"With clipping, the same seeds ran all {budget['steps']} steps and ended at a validation MSE of "
        f"{min(final):.3f} to {max(final):.3f}, against the baseline of {result['baseline']:.3f} "
        f"(plain SGD, learning rate {budget['lr']:g}, batch {budget['batch_size']}, sequences of "
        f"length {config.T}, $\\lambda_1(W_{{hh}}) = {config.sigma:g}$ at the start).\n"
    )
