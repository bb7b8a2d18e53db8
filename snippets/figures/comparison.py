"""Figures, tables and sentences of the comparison page (RNN vs LSTM vs GRU).

Every function takes the data of an experiment in `snippets.experiments` (or a count table from
`parameter_counts`) and returns a matplotlib `Figure` or Markdown text; none runs a model.
"""

from __future__ import annotations

import math

from matplotlib.figure import Figure

from snippets.figures import COLORS, LINESTYLES, theme

CELLS = ("rnn", "lstm", "gru")
LABELS = {"rnn": "tanh RNN", "lstm": "LSTM", "gru": "GRU"}
STYLE = {cell: {"color": COLORS[k], "linestyle": LINESTYLES[k]} for k, cell in enumerate(CELLS)}
GATE_COUNT = {"rnn": 1, "lstm": 4, "gru": 3}
BITS = 1 / math.log(2)

# How each task's curves are drawn: title, y label, baseline label, loss scale, log y axis.
PANELS = {
    "adding": ("Adding problem, T = 100", "validation MSE", "memoryless baseline (1/6)", 1.0, True),
    "copy": (
        "Copy task, 10 symbols after 30 blanks",
        "validation cross-entropy (nats/step)",
        "memoryless baseline",
        1.0,
        False,
    ),
    "char": ("Character model on torch/nn", "validation bits per character", "unigram baseline", BITS, False),
}


def _check_task(task: str) -> None:
    if task not in PANELS:
        raise ValueError(f"task must be one of {sorted(PANELS)}, got {task!r}")


def _baseline(result: dict, task: str) -> float:
    """The baseline in the units the panel draws (bits per character for the character model)."""
    return result["baseline_bpc"] if task == "char" else result["baseline"]


def plot_curves(ax, result: dict, task: str) -> None:
    """Mean validation loss over seeds (line) and its min-max range (band) per cell, and the baseline."""
    _check_task(task)
    title, ylabel, base_label, scale, log = PANELS[task]
    for cell, data in result["cells"].items():
        curve = data["val_loss"]
        n = len(data["final_val_loss"])
        ax.fill_between(
            curve["step"],
            [v * scale for v in curve["min"]],
            [v * scale for v in curve["max"]],
            color=STYLE[cell]["color"],
            alpha=0.18,
            linewidth=0,
        )
        ax.plot(
            curve["step"],
            [v * scale for v in curve["mean"]],
            **STYLE[cell],
            label=f"{LABELS[cell]} (H = {result['hidden_size'][cell]}, mean of {n})",
        )
    ax.axhline(_baseline(result, task), color="#000000", linestyle=(0, (2, 2)), linewidth=1.2, label=base_label)
    if log:
        ax.set_yscale("log")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("training step (updates)")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)


def curves_figure(result: dict, task: str) -> Figure:
    """One task's validation curves: mean over seeds, min-max band, baseline."""
    with theme():
        fig = Figure(figsize=(7, 3.8), layout="constrained")
        plot_curves(fig.add_subplot(), result, task)
    return fig


def fmt_params(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")  # narrow no-break space: 17 472, never split over lines


def parameter_table(counts: dict, input_size: int, output_size: int) -> str:
    r"""Markdown table: the formula with the sizes filled in, its value, and the count off the module."""
    lstm = counts.get("lstm", {}).get("model_counted")
    rows = [
        "| cell | $H$ | layer by formula $G\\,(H(I+H)+2H)$ | layer counted | model counted (with read-out) | vs LSTM |",
        "| --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for cell, c in counts.items():
        h, g = c["hidden_size"], GATE_COUNT[cell]
        formula = f"${g} \\cdot ({h} \\cdot ({input_size} + {h}) + 2 \\cdot {h})$ = {fmt_params(c['layer_formula'])}"
        ratio = f"{c['model_counted'] / lstm:.2f}" if lstm else "n/a"
        rows.append(
            f"| {LABELS[cell]} | {h} | {formula} | {fmt_params(c['layer_counted'])} | "
            f"{fmt_params(c['model_counted'])} | {ratio} |"
        )
    outputs = "output" if output_size == 1 else "outputs"
    return "\n".join(rows) + f"\n\n$I$ = {input_size} inputs, read-out to {output_size} {outputs}.\n"


def parameter_section(task: str, sizes: dict, match: str = "hidden") -> str:
    """The parameter table of one task's sizes (`experiments.task_sizes()[task]`), equal H or matched."""
    _check_task(task)
    return parameter_table(_counts(sizes, match), sizes["input_size"], sizes["output_size"])


def _counts(sizes: dict, match: str = "hidden") -> dict:
    from snippets import experiments

    return experiments.parameter_counts(sizes["input_size"], sizes["hidden_size"], sizes["output_size"], match=match)


def parameter_claim_section(sizes: dict) -> str:
    """`parameter_claim` at one task's sizes (`experiments.task_sizes()[task]`)."""
    return parameter_claim(_counts(sizes))


def threshold_table(steps: dict, threshold: float, budget: int, unit: str = "") -> str:
    """Markdown table: per cell and seed, the first evaluated step below `threshold` (or not reached)."""
    n = max(len(v) for v in steps.values())
    rows = ["| cell | " + " | ".join(f"seed {k}" for k in range(n)) + " |", "| --- |" + " ---: |" * n]
    for cell, per_seed in steps.items():
        cells = [f"{s:,}" if s is not None else f"not within {budget:,}" for s in per_seed]
        rows.append(f"| {LABELS[cell]} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + f"\n\nThreshold: validation loss below {threshold:.3g}{unit}.\n"


def timing_table(result: dict) -> str:
    """Markdown table: median milliseconds per training step, per task and cell, with min-max."""
    names = {"adding": "adding problem", "copy": "copy task", "char": "character model"}
    cells = list(next(iter(result["tasks"].values()))["cells"])
    rows = [
        "| task (batch x steps, H) | " + " | ".join(LABELS[c] for c in cells) + " | GRU / LSTM |",
        "| --- |" + " ---: |" * (len(cells) + 1),
    ]
    for task, data in result["tasks"].items():
        s = data["sizes"]
        times = data["cells"]
        entries = [
            f"{1e3 * times[c]['median']:.1f} ({1e3 * times[c]['min']:.1f}-{1e3 * times[c]['max']:.1f})" for c in cells
        ]
        ratio = (
            f"{times['gru']['median'] / times['lstm']['median']:.2f}" if "gru" in times and "lstm" in times else "n/a"
        )
        rows.append(
            f"| {names.get(task, task)} ({s['batch_size']} x {s['length']}, {s['hidden_size']}) | "
            + " | ".join(entries)
            + f" | {ratio} |"
        )
    return "\n".join(rows) + "\n"


def budget_line(name: str, config) -> str:
    """One sentence stating an experiment's budget, read off its config."""
    fields = ", ".join(f"{k} = {v}" for k, v in vars(config).items() if k not in ("cells", "variant"))
    return f"`{name}`: {fields}."


def parameter_claim(counts: dict) -> str:
    """The claim 'the GRU has fewer parameters', measured at one equal hidden size."""
    lstm, gru = counts["lstm"], counts["gru"]
    layer = gru["layer_counted"] / lstm["layer_counted"]
    model = gru["model_counted"] / lstm["model_counted"]
    return (
        f"At equal hidden size $H = {gru['hidden_size']}$ the GRU layer has "
        f"{fmt_params(gru['layer_counted'])} parameters against the LSTM's {fmt_params(lstm['layer_counted'])}: "
        f"exactly {layer:.0%} (3 weight blocks against 4), and {model:.0%} of the whole model once the "
        f"read-out, which both share, is counted."
    )


def speed_claim(steps: dict, task: str, budget: int) -> str:
    """Per seed, which of LSTM and GRU reached the threshold first, as a sentence."""
    lstm, gru = steps["lstm"], steps["gru"]
    never = float("inf")
    lstm, gru = ([never if s is None else s for s in steps_of] for steps_of in (lstm, gru))
    gru_first = sum(g < s for s, g in zip(lstm, gru))
    lstm_first = sum(s < g for s, g in zip(lstm, gru))
    ties = len(lstm) - gru_first - lstm_first
    return (
        f"{task}: the GRU got there first on {gru_first} of {len(lstm)} seeds, the LSTM on {lstm_first}"
        + (f", {ties} tied (or neither within {budget:,} steps)" if ties else "")
        + "."
    )


def final_loss_line(result: dict, task: str) -> str:
    """Final validation loss per cell, mean and range over seeds, in the panel's units."""
    _check_task(task)
    scale = PANELS[task][3]
    parts = []
    for cell, data in result["cells"].items():
        v = [x * scale for x in data["final_val_loss"]]
        parts.append(f"{LABELS[cell]} {sum(v) / len(v):.3g} ({min(v):.3g} to {max(v):.3g})")
    return "; ".join(parts) + f"; baseline {_baseline(result, task):.3g}."


def budgets() -> str:
    """The comparison experiments' budgets as a Markdown list, read off their default configs."""
    from snippets import experiments as ex

    lines = [("adding_problem", ex.AddingConfig()), ("copy_task", ex.CopyConfig()), ("char_model", ex.CharConfig())]
    return "\n".join(f"- {budget_line(name, config)}" for name, config in lines) + "\n"


def _status(result: dict, task: str, cell: str) -> str:
    """How a cell's seeds ended, against the baseline: solved, below it, or still at it."""
    data, base = result["cells"][cell], result["baseline"]
    n = len(data["final_val_loss"])
    solved = sum(s == "solved" for s in data["status"])
    near = sum(v >= 0.95 * base for v in data["final_val_loss"])
    if solved:
        return f"solved on {solved} of {n} seeds (stopped early)"
    if near == n:
        return f"did not leave the baseline on any of {n} seeds (final loss at least 95% of it)"
    best = min(data["final_val_loss"]) / base
    return f"ended below 95% of the baseline on {n - near} of {n} seeds (best seed: {best:.0%} of the baseline)"


def curve_caption(result: dict, task: str) -> str:
    """One sentence per cell saying how its seeds ended, computed from `result`."""
    _check_task(task)
    budget = max(max(r["val_step"]) for d in result["cells"].values() for r in d["runs"])
    parts = [f"{LABELS[c]}: {_status(result, task, c)}" for c in result["cells"]]
    return f"Within {budget:,} steps: " + "; ".join(parts) + "."


def threshold_section(result: dict, task: str, threshold: float | None = None, fraction: float | None = None) -> str:
    """Steps to reach a threshold per cell and seed, and who got there first.

    Give `threshold` in the panel's units (bits per character for `char`), or `fraction` of
    the baseline (0.9: ten per cent below it).
    """
    from snippets.experiments import steps_to_threshold

    _check_task(task)
    if (threshold is None) == (fraction is None):
        raise ValueError(f"give exactly one of threshold and fraction, got {threshold!r} and {fraction!r}")
    value = threshold if fraction is None else fraction * _baseline(result, task)
    if not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"the threshold must be a positive number, got {value!r}")
    steps = steps_to_threshold(result, value / PANELS[task][3])
    budget = max(max(r["val_step"]) for d in result["cells"].values() for r in d["runs"])
    unit = " bits per character" if task == "char" else ""
    if fraction is not None:
        unit += f" ({fraction:.0%} of the baseline)"
    return threshold_table(steps, value, budget, unit) + "\n" + speed_claim(steps, PANELS[task][0], budget) + "\n"


def timing_section(result: dict) -> str:
    """The step-time table, the machine it ran on, and how the GRU's step compared with the LSTM's."""
    ratios = [d["cells"]["gru"]["median"] / d["cells"]["lstm"]["median"] for d in result["tasks"].values()]
    if all(r > 1 for r in ratios):
        verdict = (
            f"On this machine the GRU's step was the slower one at every size, "
            f"{min(ratios):.2f} to {max(ratios):.2f} times the LSTM's."
        )
    elif all(r < 1 for r in ratios):
        verdict = (
            f"On this machine the GRU's step was the faster one at every size, "
            f"{min(ratios):.2f} to {max(ratios):.2f} times the LSTM's."
        )
    else:
        verdict = (
            "On this machine neither was faster at every size "
            f"(GRU / LSTM from {min(ratios):.2f} to {max(ratios):.2f})."
        )
    return (
        timing_table(result) + f"\nMilliseconds, median of {result['repeats']} steps (min-max in brackets); "
        f"machine: `{result['machine']}`, torch {result['torch']}, {result['threads']} thread. {verdict}\n"
    )


def final_losses(adding: dict, copy: dict, char: dict) -> str:
    """Final validation loss per cell on each task (mean and range over seeds), as a list."""
    rows = [(adding, "adding"), (copy, "copy"), (char, "char")]
    return (
        "\n".join(
            f"- **{PANELS[task][0]}** ({PANELS[task][1]} after the budget): {final_loss_line(r, task)}"
            for r, task in rows
        )
        + "\n"
    )
