"""Figures, tables, facts and claims of the comparison page (RNN vs LSTM vs GRU).

Every function takes the data of an experiment in `snippets.experiments` (or a count table from
`parameter_counts`) and returns a matplotlib `Figure`, a Markdown table, a dict of facts (numbers
as text, for the page's own sentences) or a `Claim`; none runs a model.

Bands and ± are 95 % confidence intervals of the mean over seeds (`experiments.stats.mean_ci95`).
"""

from __future__ import annotations

import math
import re
import statistics

import matplotlib.ticker
from matplotlib.figure import Figure

from snippets.figures import COLORS, LINESTYLES, PHONE_WIDTH, Claim, theme
from snippets.figures.significance import compare_counts, compare_values

MODELS = ("rnn", "lstm", "lstm_fb1", "lstm_fb3", "gru")
LABELS = {
    "rnn": "tanh RNN",
    "lstm": "LSTM",
    "lstm_fb1": "LSTM, forget bias 1",
    "lstm_fb3": "LSTM, forget bias 3",
    "gru": "GRU",
}
STYLE = {m: {"color": COLORS[k], "linestyle": LINESTYLES[k]} for k, m in enumerate(("rnn", "lstm", "gru", "lstm_fb1"))}
STYLE["lstm_fb3"] = {"color": COLORS[4], "linestyle": LINESTYLES[4]}
MARKERS = {"rnn": "o", "lstm": "s", "lstm_fb1": "D", "lstm_fb3": "^", "gru": "v"}
GATE_COUNT = {"rnn": 1, "lstm": 4, "gru": 3}
BITS = 1 / math.log(2)
TASKS = ("adding", "copy", "recall", "char")
NAMES = {"adding": "adding problem", "copy": "copy task", "recall": "recall", "char": "character model"}

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


def ci(values) -> tuple[float, float, float]:
    """Mean of `values` and the low and high ends of its 95 % confidence interval (Student t)."""
    from snippets.experiments.stats import mean_ci95

    mean, low, high = mean_ci95([float(v) for v in values])
    return float(mean), float(low), float(high)


def fmt_ci(values, fmt: str = ".3g", scale: float = 1.0) -> str:
    """ "mean ± half-width" of the 95 % CI (the half-width printed to the same precision)."""
    mean, low, _ = ci([v * scale for v in values])
    return f"{format(mean, fmt)} ± {format(mean - low, fmt)}"


# -- curves ----------------------------------------------------------------------------------------


def plot_curves(ax, result: dict, task: str, legend: bool = True) -> None:
    """Per model: the mean validation loss over seeds (line) and its 95 % CI (band); the baseline."""
    _check_task(task)
    title, ylabel, base_label, scale, log = PANELS[task]
    for model, data in result["cells"].items():
        curve = geometric_band(data["runs"]) if log else data["val_loss"]
        ax.fill_between(
            curve["step"],
            [v * scale for v in curve["low"]],
            [v * scale for v in curve["high"]],
            color=STYLE[model]["color"],
            alpha=0.18,
            linewidth=0,
        )
        ax.plot(curve["step"], [v * scale for v in curve["mean"]], **STYLE[model], label=LABELS[model])
    ax.axhline(_baseline(result, task), color="#000000", linestyle=(0, (2, 2)), linewidth=1.2, label=base_label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("training step (updates)")
    ax.set_ylabel(ylabel)
    ax.set_xlim(0, result["train"]["steps"])


def geometric_band(runs: list[dict]) -> dict:
    """The geometric mean of the runs' validation losses per evaluation and its 95 % CI: the mean and
    CI of log(loss), exponentiated (runs stopped early hold their last value). On a log axis the
    arithmetic CI of a loss spanning decades would reach below zero."""
    from snippets.experiments.runs import band

    logged = [{"val_step": r["val_step"], "val_loss": [math.log(v) for v in r["val_loss"]]} for r in runs]
    b = band(logged)
    return {key: [math.exp(v) for v in b[key]] if key != "step" else b[key] for key in ("step", "mean", "low", "high")}


def curves_figure(result: dict, task: str, narrow: bool = False) -> Figure:
    """One task's validation curves: mean over seeds, 95 % CI band, baseline; legend above the axes.

    `narrow`: the same at `PHONE_WIDTH` for a phone.
    """
    _check_task(task)
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 3.9) if narrow else (7, 3.6), layout="constrained")
        ax = fig.add_subplot()
        plot_curves(ax, result, task)
        ax.set_title(PANELS[task][0], fontsize=10)
        fig.legend(loc="outside upper center", ncols=2 if narrow else 3, fontsize=9)
    return fig


def recall_figure(result: dict, narrow: bool = False) -> Figure:
    """Test accuracy against gap: per model every seed (a dot) and the mean with its 95 % CI (a bar).

    The dots of a model sit side by side at each gap; chance is the dashed line.
    """
    models = list(result["cells"])
    gaps = result["gaps"]
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 4.2) if narrow else (7, 3.4), layout="constrained")
        ax = fig.add_subplot()
        width = 0.8 / len(models)
        for k, m in enumerate(models):
            acc = result["cells"][m]["accuracy"]
            xs = [g + (k - (len(models) - 1) / 2) * width for g in range(len(gaps))]
            for x, per_seed in zip(xs, acc):
                ax.scatter([x] * len(per_seed), per_seed, s=9, color=STYLE[m]["color"], alpha=0.55, linewidths=0)
            means = [ci(a) for a in acc]
            ax.errorbar(
                xs,
                [mu for mu, _, _ in means],
                yerr=[[mu - lo for mu, lo, _ in means], [hi - mu for mu, _, hi in means]],
                fmt=MARKERS[m],
                color=STYLE[m]["color"],
                markersize=5,
                capsize=2,
                linewidth=1.2,
                label=LABELS[m],
            )
        ax.axhline(result["chance_accuracy"], color="#000000", linestyle=(0, (2, 2)), linewidth=1.2, label="chance")
        ax.set_xticks(range(len(gaps)), [str(g) for g in gaps])
        ax.set_xlabel("gap (distractors between the subject and the query)")
        ax.set_ylabel("test accuracy")
        ax.set_ylim(0, 1.05)
        fig.legend(loc="outside upper center", ncols=2 if narrow else 3, fontsize=9)
    return fig


# -- parameters ------------------------------------------------------------------------------------


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
    if task not in TASKS:
        raise ValueError(f"task must be one of {sorted(TASKS)}, got {task!r}")
    return parameter_table(_counts(sizes, match), sizes["input_size"], sizes["output_size"])


def _counts(sizes: dict, match: str = "hidden") -> dict:
    from snippets import experiments

    return experiments.parameter_counts(sizes["input_size"], sizes["hidden_size"], sizes["output_size"], match=match)


def parameter_facts(task: str = "char") -> dict:
    """The GRU's and the LSTM's layer and model at one task's sizes, and their ratios, as text."""
    from snippets import experiments

    counts = _counts(experiments.task_sizes()[task])
    lstm, gru = counts["lstm"], counts["gru"]
    return {
        "hidden": str(gru["hidden_size"]),
        "gru_layer": fmt_params(gru["layer_counted"]),
        "lstm_layer": fmt_params(lstm["layer_counted"]),
        "layer_ratio": f"{gru['layer_counted'] / lstm['layer_counted']:.0%}",
        "model_ratio": f"{gru['model_counted'] / lstm['model_counted']:.0%}",
    }


def gru_layer_is_three_quarters() -> Claim:
    """At equal hidden size a GRU layer has exactly three quarters of an LSTM layer's parameters, at
    every comparison task's sizes (counted off the built modules)."""
    from snippets import experiments

    ratios = {}
    for task, sizes in experiments.task_sizes().items():
        counts = _counts(sizes)
        ratios[task] = (counts["gru"]["layer_counted"], counts["lstm"]["layer_counted"])
    holds = all(4 * g == 3 * s for g, s in ratios.values())
    return Claim(holds, "; ".join(f"{t}: {g} / {s}" for t, (g, s) in ratios.items()))


# -- the protocol ----------------------------------------------------------------------------------


def protocol_table() -> str:
    """Markdown table: per task, the sizes, budget, learning-rate grid, seeds and the test data."""
    from snippets import experiments as ex

    a, c, r, ch = ex.AddingConfig(), ex.CopyConfig(), ex.RecallConfig(), ex.CharConfig()
    rows = [
        ("adding problem", f"T = {a.T}", a.hidden_size, a.train, a.lrs, a.seeds, f"{a.test_size:,} sequences"),
        ("copy task", f"T = {c.T}", c.hidden_size, c.train, c.lrs, c.seeds, f"{c.test_size:,} sequences"),
        (
            "recall",
            "gaps " + ", ".join(map(str, r.gaps)),
            r.hidden_size,
            r.train,
            r.lrs,
            r.seeds,
            f"{r.test_size:,} sequences per gap",
        ),
        ("character model", f"windows of {ch.seq_len}", ch.hidden_size, ch.train, ch.lrs, ch.seeds, "held-out files"),
    ]
    lines = [
        "| task | length | $H$ | updates × batch | stop below | eval every | learning rates | seeds | test data |",
        "| --- | --- | ---: | --- | ---: | ---: | --- | ---: | --- |",
    ]
    for name, length, h, t, lrs, seeds, test in rows:
        stop = "–" if t.target_loss is None else f"{t.target_loss:g}"
        grid = ", ".join(f"{lr:g}" for lr in lrs)
        lines.append(
            f"| {name} | {length} | {h} | {t.steps:,} × {t.batch_size} | {stop} | {t.eval_every} | {grid} "
            f"| {seeds} | {test} |"
        )
    return "\n".join(lines) + "\n"


def chosen_lr_table(results: dict) -> str:
    """Markdown table: the learning rate each model's sweep chose, per task (recall: per gap)."""
    models = [m for m in MODELS if any(m in r.get("cells", {}) for r in results.values())]
    lines = ["| task | " + " | ".join(LABELS[m] for m in models) + " |", "| --- |" + " ---: |" * len(models)]
    for task, result in results.items():
        if task == "recall":
            for gap in result["gaps"]:
                cells = result["by_gap"][str(gap)]["cells"]
                row = [f"{cells[m]['lr']:g}" if m in cells else "–" for m in models]
                lines.append(f"| recall, gap {gap} | " + " | ".join(row) + " |")
        else:
            row = [f"{result['cells'][m]['lr']:g}" if m in result["cells"] else "–" for m in models]
            lines.append(f"| {NAMES[task]} | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def sweep_table(result: dict, scale: float = 1.0, fmt: str = ".3g") -> str:
    """Markdown table: each model's validation score at every learning rate tried (mean over seeds,
    the chosen one in bold), and how many seeds reached the target loss there."""
    lrs = result["lrs"]
    lines = ["| model | " + " | ".join(f"lr {lr:g}" for lr in lrs) + " |", "| --- |" + " ---: |" * len(lrs)]
    for m, data in result["cells"].items():
        entries = []
        for lr, score, solved in zip(lrs, data["sweep"]["score"], data["sweep"]["solved"]):
            text = format(score * scale, fmt) if math.isfinite(score) else "diverged"
            if result["train"]["target_loss"] is not None:
                text += f" ({solved}/{len(result['seeds'])})"
            entries.append(f"**{text}**" if lr == data["lr"] else text)
        lines.append(f"| {LABELS[m]} | " + " | ".join(entries) + " |")
    return "\n".join(lines) + "\n"


# -- test results ----------------------------------------------------------------------------------


def _test_values(result: dict, task: str, model: str) -> list[float]:
    data = result["cells"][model]
    return data["test_bpc"] if task == "char" else data["test_loss"]


def test_table(adding: dict, copy: dict, char: dict) -> str:
    """Markdown table: per task and model, the test loss (mean ± 95 % CI over seeds), and the
    copy task's symbol accuracy beside its cross-entropy."""
    models = [m for m in MODELS if m in adding["cells"]]
    lines = [
        "| task (test metric) | " + " | ".join(LABELS[m] for m in models) + " | baseline |",
        "| --- |" + " ---: |" * (len(models) + 1),
    ]
    for task, result, metric in (
        ("adding", adding, "MSE"),
        ("copy", copy, "cross-entropy, nats/step"),
        ("char", char, "bits per character"),
    ):
        row = [fmt_ci(_test_values(result, task, m)) for m in models]
        lines.append(f"| {NAMES[task]} ({metric}) | " + " | ".join(row) + f" | {_baseline(result, task):.3g} |")
        if task == "copy":
            acc = [fmt_ci(result["cells"][m]["test_accuracy"], ".0%") for m in models]
            lines.append("| copy task (symbols right) | " + " | ".join(acc) + f" | {1 / 8:.1%} |")
    return "\n".join(lines) + "\n"


def per_seed_table(result: dict, task: str) -> str:
    """Markdown table: per model and seed, the test loss (bits for the character model) and accuracy,
    steps run and how the run ended."""
    scale = BITS if task == "char" else 1.0
    lines = [
        "| model | seed | lr | test loss | test accuracy | steps run | ended |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for m, data in result["cells"].items():
        for k, seed in enumerate(result["seeds"]):
            lines.append(
                f"| {LABELS[m]} | {seed} | {data['lr']:g} | {data['test_loss'][k] * scale:.4g} | "
                f"{data['test_accuracy'][k]:.3f} | {data['steps_run'][k]:,} | {data['status'][k]} |"
            )
    return "\n".join(lines) + "\n"


# -- steps and seconds to a threshold --------------------------------------------------------------


def _thresholds(result: dict, task: str) -> float:
    """The threshold of `task` in its loss units: the adding problem's and recall's target loss,
    90 % of the copy task's baseline, 2.5 bits per character."""
    if task == "copy":
        return 0.9 * result["baseline"]
    if task == "char":
        return 2.5 / BITS
    return result["train"]["target_loss"]


def threshold_data(result: dict, task: str, step_time: dict, time_task: str | None = None) -> dict:
    """Per model: updates to the threshold per seed (None: not within the budget), and the same in
    seconds (updates × the median step time of the cell alone, `experiments.seconds_to_threshold`)."""
    from snippets.experiments import seconds_to_threshold, steps_to_threshold

    threshold = _thresholds(result, task)
    steps = steps_to_threshold(result, threshold)
    medians = {c: d["median"] for c, d in step_time["tasks"][time_task or task]["cells"].items()}
    cells = {m: result["cells"][m]["cell"] for m in result["cells"]}
    return {"threshold": threshold, "steps": steps, "seconds": seconds_to_threshold(steps, medians, cells)}


def _median_text(values: list, fmt: str) -> str:
    reached = [v for v in values if v is not None]
    if not reached:
        return "–"
    text = format(statistics.median(reached), fmt)
    return text if len(reached) == len(values) else f"{text} ({len(reached)}/{len(values)})"


def threshold_table(rows: list[tuple[str, dict]]) -> str:
    """Markdown table: per task and model, the median updates and the median seconds to the task's
    threshold over the seeds that reached it (their count in brackets when not all did)."""
    models = [m for m in MODELS if any(m in d["steps"] for _, d in rows)]
    lines = [
        "| task (threshold) | " + " | ".join(LABELS[m] for m in models) + " |",
        "| --- |" + " ---: |" * len(models),
    ]
    for name, data in rows:
        cells = [
            f"{_median_text(data['steps'][m], ',.0f')} upd. / {_median_text(data['seconds'][m], '.1f')} s"
            if m in data["steps"] and _n(data["steps"][m])
            else ("not reached" if m in data["steps"] else "–")
            for m in models
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# -- time per step ---------------------------------------------------------------------------------


def timing_table(result: dict) -> str:
    """Markdown table: median milliseconds per training step, per task and cell, and the paired
    GRU/LSTM ratio (median over rounds, 95 % bootstrap interval)."""
    cells = list(next(iter(result["tasks"].values()))["cells"])
    rows = [
        "| task (batch × steps, H) | " + " | ".join(LABELS[c] for c in cells) + " | GRU / LSTM, per round |",
        "| --- |" + " ---: |" * (len(cells) + 1),
    ]
    for task, data in result["tasks"].items():
        s, times = data["sizes"], data["cells"]
        entries = [f"{1e3 * times[c]['median']:.1f}" for c in cells]
        r = data.get("gru_over_lstm")
        ratio = f"{r['median']:.2f} [{r['low']:.2f}, {r['high']:.2f}]" if r else "n/a"
        rows.append(
            f"| {NAMES.get(task, task)} ({s['batch_size']} × {s['length']}, {s['hidden_size']}) | "
            + " | ".join(entries)
            + f" | {ratio} |"
        )
    return "\n".join(rows) + "\n"


# -- facts and claims for the page's sentences -----------------------------------------------------


def _results() -> dict:
    from snippets import experiments as ex

    return {"adding": ex.adding_problem(), "copy": ex.copy_task(), "recall": ex.recall(), "char": ex.char_model()}


def _median(values: list) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _n(values: list) -> int:
    return sum(v is not None for v in values)


def speed_facts() -> dict:
    """Updates and seconds to each task's threshold (medians over seeds), the GRU/LSTM step-time
    ratios, and how many seeds got there, as text; keys `<task>_<model>_steps|seconds|reached`."""
    from snippets import experiments as ex

    results, times = _results(), ex.step_time()
    out = {"machine": times["machine"], "repeats": str(times["repeats"]), "torch": times["torch"]}
    for task in ("adding", "copy", "char"):
        data = threshold_data(results[task], task, times)
        out[f"{task}_threshold"] = f"{data['threshold'] * (BITS if task == 'char' else 1):.3g}"
        for m in results[task]["cells"]:
            steps, seconds = _median(data["steps"][m]), _median(data["seconds"][m])
            out[f"{task}_{m}_steps"] = "–" if steps is None else f"{steps:,.0f}"
            out[f"{task}_{m}_seconds"] = "–" if seconds is None else f"{seconds:.1f}"
            out[f"{task}_{m}_reached"] = f"{_n(data['steps'][m])} of {len(data['steps'][m])}"
    recall = results["recall"]
    gap = str(ex.RecallConfig().sweep_gap)
    data = threshold_data(recall["by_gap"][gap], "recall", times)
    for m in recall["cells"]:
        steps, seconds = _median(data["steps"][m]), _median(data["seconds"][m])
        out[f"recall_{m}_steps"] = "–" if steps is None else f"{steps:,.0f}"
        out[f"recall_{m}_seconds"] = "–" if seconds is None else f"{seconds:.1f}"
        out[f"recall_{m}_reached"] = f"{_n(data['steps'][m])} of {len(data['steps'][m])}"
    out["recall_gap"] = gap
    for task, d in times["tasks"].items():
        r = d["gru_over_lstm"]
        out[f"{task}_ratio"] = f"{r['median']:.1f}"
        out[f"{task}_ratio_ci"] = f"{r['low']:.2f}–{r['high']:.2f}"
        out[f"{task}_gru_ms"] = f"{1e3 * d['cells']['gru']['median']:.1f}"
        out[f"{task}_lstm_ms"] = f"{1e3 * d['cells']['lstm']['median']:.1f}"
    ratios = [d["gru_over_lstm"]["median"] for d in times["tasks"].values()]
    out["ratio_min"], out["ratio_max"] = f"{min(ratios):.1f}", f"{max(ratios):.1f}"
    return out


def threshold_section() -> str:
    """The table of updates and seconds to each task's threshold (`threshold_table`)."""
    from snippets import experiments as ex

    results, times = _results(), ex.step_time()
    gap = str(ex.RecallConfig().sweep_gap)
    rows = [
        (
            f"adding problem (MSE {_thresholds(results['adding'], 'adding'):g})",
            threshold_data(results["adding"], "adding", times),
        ),
        (
            f"copy task (loss {_thresholds(results['copy'], 'copy'):.3g}, 90 % of the baseline)",
            threshold_data(results["copy"], "copy", times),
        ),
        (
            f"recall, gap {gap} (loss {results['recall']['by_gap'][gap]['train']['target_loss']:g})",
            threshold_data(results["recall"]["by_gap"][gap], "recall", times),
        ),
        ("character model (2.5 bits per character)", threshold_data(results["char"], "char", times)),
    ]
    return threshold_table(rows)


def test_facts() -> dict:
    """Per task and model, the test metric as "mean ± half-width of the 95 % CI", as text."""
    results = _results()
    out = {}
    for task in ("adding", "copy", "char"):
        r = results[task]
        for m in r["cells"]:
            values = _test_values(r, task, m)
            out[f"{task}_{m}"] = fmt_ci(values)
        out[f"{task}_baseline"] = f"{_baseline(r, task):.3g}"
    for m, data in results["copy"]["cells"].items():
        out[f"copy_{m}_accuracy"] = fmt_ci(data["test_accuracy"], ".0%")
    ch = results["char"]
    out["char_steps"] = f"{ch['train']['steps']:,}"
    out["char_hidden"] = str(next(iter(ch["hidden_size"].values())))
    out["char_chars"] = f"{ch['train']['steps'] * ch['train']['batch_size'] * ch['task_args']['seq_len'] / 1e6:.1f}"
    out["char_train_chars"] = f"{ch['train_chars'] / 1e6:.1f}"
    for m in ch["cells"]:
        out[f"char_{m}_flat"] = f"{flattening(ch, m):.2f}"
    out["char_still_falling"] = all(flattening(ch, m) > 0 for m in ch["cells"])  # no curve has levelled off
    return out


def flattening(result: dict, model: str, share: float = 0.25) -> float:
    """How much the mean validation loss (bits per character) fell over the last `share` of the
    budget: the convergence check of the character model."""
    curve = result["cells"][model]["val_loss"]
    steps, mean = curve["step"], curve["mean"]
    cut = steps[-1] * (1 - share)
    start = next(k for k, s in enumerate(steps) if s >= cut)
    return (mean[start] - mean[-1]) * BITS


def rnn_fails_the_adding_problem() -> Claim:
    """The tanh RNN stayed at the adding problem's baseline: on every seed its test MSE is at least
    90 % of the memoryless 1/6, and no seed reached the threshold."""
    from snippets import experiments as ex

    r = ex.adding_problem()
    rnn = r["cells"]["rnn"]
    ratios = [v / r["baseline"] for v in rnn["test_loss"]]
    return Claim(
        min(ratios) >= 0.9 and "solved" not in rnn["status"],
        f"test MSE / baseline {', '.join(f'{x:.2f}' for x in ratios)}",
    )


# -- recall ----------------------------------------------------------------------------------------


def _solved_counts(by_gap: dict, gap: str, model: str, at: float = 0.9) -> int:
    return sum(a >= at for a in by_gap[gap]["cells"][model]["test_accuracy"])


def recall_facts() -> dict:
    """Per model and gap, how many seeds reached 90 % test accuracy, and the mean accuracy, as text;
    the chance level; the transfer results and gate-bias drifts behind the page's explanation."""
    from snippets import experiments as ex

    r = ex.recall()
    out = {
        "chance": f"{r['chance_accuracy']:.3f}",
        "n": str(len(r["seeds"])),
        "sweep_gap": str(ex.RecallConfig().sweep_gap),
    }
    for gap in map(str, r["gaps"]):
        for m in r["by_gap"][gap]["cells"]:
            acc = r["by_gap"][gap]["cells"][m]["test_accuracy"]
            out[f"{m}_{gap}"] = str(_solved_counts(r["by_gap"], gap, m))
            out[f"{m}_{gap}_mean"] = f"{statistics.fmean(acc):.2f}"
            out[f"{m}_{gap}_best"] = f"{max(acc):.2f}"
    gap = str(max(r["gaps"]))
    rnn, lstm = _solved_counts(r["by_gap"], gap, "rnn"), max(_solved_counts(r["by_gap"], gap, m) for m in LSTMS)
    n = len(r["seeds"])
    rnn_against_lstms = compare_counts(rnn, n, lstm, n)  # at the longest gap, against the best LSTM
    out[f"rnn_vs_lstms_{gap}"] = rnn_against_lstms.text
    out[f"rnn_not_behind_{gap}"] = rnn_against_lstms.sign >= 0
    out.update(_latch_facts(r))
    out.update(_closing_facts(r))
    return out


def _transfer(run: dict, gap: int) -> float | None:
    return next((t["accuracy"] for t in run["transfer"] if t["args"]["gap"] == gap), None)


def _latch_rows(r: dict, model: str, gap: int = 20) -> list[tuple[float, float, float, float]]:
    """(accuracy at gap, at gap - 1, at gap + 1, at the far gap) of every run of `model` trained at
    `gap` that reached 90 % there."""
    rows = []
    for run in r["by_gap"][str(gap)]["cells"][model]["runs"]:
        if run["test_accuracy"] >= 0.9:
            far = max(t["args"]["gap"] for t in run["transfer"])
            rows.append((run["test_accuracy"], _transfer(run, gap - 1), _transfer(run, gap + 1), _transfer(run, far)))
    return rows


def _span(values, fmt: str = ".2f") -> str:
    """ "low–high" of `values`, or the one value where they agree to the format's precision."""
    low, high = format(min(values), fmt), format(max(values), fmt)
    return low if low == high else f"{low}–{high}"


def _latch_facts(r: dict) -> dict:
    out = {}
    gap = 20
    far = (
        gap
        + max(r["by_gap"][str(gap)]["cells"]["rnn"]["runs"][0]["transfer"], key=lambda t: t["args"]["gap"])["args"][
            "gap"
        ]
        - gap
    )
    out["far_gap"] = str(far)
    for m in ("rnn", "lstm_fb3", "gru"):
        rows = _latch_rows(r, m, gap)
        out[f"{m}_latched"] = str(len(rows))
        if rows:
            out[f"{m}_near"] = _span([x for _, a, b, _ in rows for x in (a, b)])
            out[f"{m}_far"] = _span([row[3] for row in rows])
        else:
            out[f"{m}_near"] = out[f"{m}_far"] = "–"
    return out


def rnn_readout_is_locked_to_the_trained_gap() -> Claim:
    """Every tanh RNN that learned recall at gap 20 fails one step off: at gap 19 and 21 it scores at
    most 0.5, while every LSTM (forget bias 3) and GRU that learned gap 20 scores at least 0.9 there."""
    from snippets import experiments as ex

    r = ex.recall()
    rnn = _latch_rows(r, "rnn")
    gated = _latch_rows(r, "lstm_fb3") + _latch_rows(r, "gru")
    rnn_ok = bool(rnn) and all(max(a, b) <= 0.5 for _, a, b, _ in rnn)
    gated_ok = bool(gated) and all(min(a, b) >= 0.9 for _, a, b, _ in gated)
    fmt = lambda rows: "; ".join(f"{a:.2f}/{b:.2f}" for _, a, b, _ in rows)  # noqa: E731
    return Claim(rnn_ok and gated_ok, f"tanh RNN at 19/21: {fmt(rnn)}; LSTM fb 3 and GRU: {fmt(gated)}")


GATES = {"lstm": ("input", "forget", "candidate", "output"), "gru": ("reset", "update", "candidate")}


def _drift(run: dict) -> list[float]:
    """Each gate block's mean bias at the end minus at step 0 (`runs.bias_blocks`)."""
    return [b - a for a, b in zip(run["probe"][0], run["probe"][-1])]


AT_CHANCE = 0.2  # a recall run that ends below this test accuracy (chance: 0.125) learned nothing
LSTMS = ("lstm", "lstm_fb1", "lstm_fb3")


def _stuck_lstm_runs(r: dict) -> list[dict]:
    """Every LSTM run, at any gap and forget bias, that ended at chance."""
    return [
        run
        for gap in map(str, r["gaps"])
        for m in LSTMS
        if m in r["by_gap"][gap]["cells"]
        for run in r["by_gap"][gap]["cells"][m]["runs"]
        if run["test_accuracy"] < AT_CHANCE
    ]


def _closing_facts(r: dict) -> dict:
    stuck = _stuck_lstm_runs(r)
    total = sum(len(r["by_gap"][str(g)]["cells"][m]["runs"]) for g in r["gaps"] for m in LSTMS)
    out = {"stuck": str(len(stuck)), "lstm_runs": str(total), "at_chance": f"{AT_CHANCE:g}"}
    for k, name in ((0, "input"), (1, "forget"), (3, "output")):
        values = [_drift(run)[k] for run in stuck]
        out[f"stuck_{name}"] = f"{min(values):+.2f} to {max(values):+.2f}" if values else "–"
        out[f"stuck_{name}_lowered"] = str(sum(v < 0 for v in values))
    out.update(_init_gradient_facts())
    return out


def lstms_at_chance_close_their_gates() -> Claim:
    """Every LSTM recall run (any gap, any forget bias) that ended at chance (test accuracy below
    0.2) ended with lower mean input- and output-gate biases than it started with, and more than
    half of them with a lower mean forget-gate bias too. At least one run ended at chance."""
    from snippets import experiments as ex

    drifts = [_drift(run) for run in _stuck_lstm_runs(ex.recall())]
    forget_lowered = sum(d[1] < 0 for d in drifts)
    holds = bool(drifts) and all(d[0] < 0 and d[3] < 0 for d in drifts) and 2 * forget_lowered > len(drifts)
    worst = [round(max(d[k] for d in drifts), 3) for k in (0, 1, 3)] if drifts else []
    return Claim(
        holds,
        f"{len(drifts)} runs at chance, {forget_lowered} with a lower forget bias; "
        f"largest change of i, f, o bias: {worst}",
    )


# -- the verdict on "performs better" -----------------------------------------------------------------


def verdict_facts() -> dict:
    """The GRU against the better of the two LSTMs on each task, each with its test
    (`snippets.figures.significance`), as text: which model won on this build's runs is printed,
    never asserted, since another CPU's rounding trains other networks.

    Adding problem: seeds that reached the threshold (Fisher); copy task: the share of symbols
    recalled on test sequences (Mann-Whitney); recall: seeds at 90 % test accuracy at the longest gap
    (Fisher); character model: test bits per character (Mann-Whitney). "The better LSTM" is the one
    with more seeds solved, the higher share or the fewer bits (forget bias 1 where tied). Also the
    updates to the adding problem's threshold, the GRU's against both LSTMs' seeds together, and
    at gap 20 of recall the LSTM at forget bias 3 against the other two."""
    results = _results()
    out = {"n": str(len(results["adding"]["seeds"])), "adding_target": f"{results['adding']['train']['target_loss']:g}"}
    rows = _verdict_rows(results)
    for task, row in rows.items():
        out.update({f"{task}_{key}": value for key, value in row.items()})
    gru_signs = {task: row["sign"] for task, row in rows.items()}
    out["gru_better"] = str(sum(sign > 0 for sign in gru_signs.values()))
    out["gru_worse"] = str(sum(sign < 0 for sign in gru_signs.values()))
    out["char_lstm_better"] = gru_signs["char"] < 0
    out.update(_updates_verdict(results["adding"]))
    out.update(_forget_bias_verdict(results["recall"]))
    return out


def _verdict_rows(results: dict) -> dict[str, dict]:
    """Per task, the GRU against the better LSTM (`_row`'s keys, with the test's `sign`)."""
    return {
        "adding": _adding_verdict(results["adding"]),
        "copy": _value_verdict(results["copy"], "test_accuracy", "{:.0%}", higher_is_better=True),
        "recall": _recall_verdict(results["recall"]),
        "char": _value_verdict(results["char"], "test_bpc", "{:.2f}", higher_is_better=False),
    }


def _row(gru_text: str, lstm: str, lstm_text: str, comparison) -> dict:
    return {
        "gru": gru_text,
        "lstm_name": LABELS[lstm],
        "lstm": lstm_text,
        "verdict": comparison.text,
        "sign": comparison.sign,
    }


def _adding_verdict(r: dict) -> dict:
    n = len(r["seeds"])
    solved = {m: r["cells"][m]["status"].count("solved") for m in ("lstm_fb1", "lstm", "gru")}
    lstm = max(("lstm_fb1", "lstm"), key=solved.get)  # forget bias 1 first: it wins a tie
    comparison = compare_counts(solved["gru"], n, solved[lstm], n)
    return _row(f"{solved['gru']} of {n}", lstm, f"{solved[lstm]} of {n}", comparison)


def _value_verdict(r: dict, key: str, fmt: str, higher_is_better: bool) -> dict:
    values = {m: r["cells"][m][key] for m in ("lstm_fb1", "lstm", "gru")}
    best = max if higher_is_better else min
    lstm = best(("lstm_fb1", "lstm"), key=lambda m: statistics.fmean(values[m]))
    comparison = compare_values(values["gru"], values[lstm])
    mean = lambda m: fmt.format(statistics.fmean(values[m]))  # noqa: E731
    sign = comparison.sign if higher_is_better else -comparison.sign
    return {**_row(mean("gru"), lstm, mean(lstm), comparison), "sign": sign}


def _recall_verdict(r: dict) -> dict:
    n, gap = len(r["seeds"]), str(max(r["gaps"]))
    counts = {m: _solved_counts(r["by_gap"], gap, m) for m in ("lstm_fb1", "lstm", "lstm_fb3", "gru")}
    lstm = max(("lstm_fb1", "lstm", "lstm_fb3"), key=counts.get)
    comparison = compare_counts(counts["gru"], n, counts[lstm], n)
    return {**_row(f"{counts['gru']} of {n}", lstm, f"{counts[lstm]} of {n}", comparison), "gap": gap}


def _updates_verdict(r: dict) -> dict:
    from snippets import experiments as ex

    steps = ex.steps_to_threshold(r, _thresholds(r, "adding"))  # None: never got there
    lstms = steps["lstm"] + steps["lstm_fb1"]
    return {"updates_verdict": compare_values(steps["gru"], lstms, lower="fewer updates", higher="more updates").text}


def _forget_bias_verdict(r: dict, gap: str = "20") -> dict:
    n = len(r["seeds"])
    counts = {m: _solved_counts(r["by_gap"], gap, m) for m in LSTMS}
    out = {}
    for other in ("lstm", "lstm_fb1"):
        out[f"fb3_vs_{other}"] = compare_counts(counts["lstm_fb3"], n, counts[other], n).text
    return out


def _init_gradient_facts(k: int = 20) -> dict:
    """How much of the gradient at the last step is left k steps back in the cell's memory state, at
    initialisation: the LSTM's cell state with forget bias 1 (`gradient_decay_lstm`) and the GRU's
    hidden state (`gradient_decay_gru`), means over seeds, as text."""
    lstm, gru = _init_gradient(k)
    return {
        "init_k": str(k),
        "init_lstm_fb1": f"{lstm:.0e}",
        "init_gru": f"{gru:.0e}",
        "init_ratio": f"{lstm / gru:.0f}",
    }


def _init_gradient(k: int) -> tuple[float, float]:
    from snippets import experiments as ex

    def left(curve):
        return curve[k] / curve[0]

    per_seed = ex.gradient_decay_lstm()["curves"]["1.0"]["all"]  # ||dL/dc_{T-k}||, every path
    lstm = [sum(column) / len(column) for column in zip(*per_seed)]
    gru = ex.gradient_decay_gru()["curves"]["h"]["mean"]
    return left(lstm), left(gru)


def lstm_fb1_passes_more_gradient_than_gru() -> Claim:
    """At initialisation, 20 steps back, a larger share of the gradient is left in the memory state
    of the LSTM with forget bias 1 (its cell state) than in the GRU's (its hidden state); means over
    seeds, the LSTM and GRU pages' measurements."""
    lstm, gru = _init_gradient(20)
    return Claim(lstm > gru, f"share left at k = 20: LSTM (forget bias 1) {lstm:.1e}, GRU {gru:.1e}")


def protocol_facts() -> dict:
    """The seed count, the t quantile of its 95 % interval, the sweep's seeds, the hidden sizes and
    the largest budget of the four tasks, and the recall task's budget, as text."""
    from snippets import experiments as ex
    from snippets.experiments.stats import t_quantile

    n, sweep = ex.AddingConfig().seeds, ex.AddingConfig().sweep_seeds
    configs = (ex.AddingConfig(), ex.CopyConfig(), ex.RecallConfig(), ex.CharConfig())
    if any(c.seeds != n for c in configs):
        raise ValueError(f"protocol_facts: expected {n} seeds in every task, got {[c.seeds for c in configs]}")
    recall = ex.RecallConfig().train
    return {
        "n": str(n),
        "df": str(n - 1),
        "t": f"{t_quantile(n - 1):.3f}",
        "sweep": str(sweep),
        "rest": str(n - sweep),
        "hidden": " or ".join(str(h) for h in sorted({c.hidden_size for c in configs})),
        "max_steps": f"{max(c.train.steps for c in configs):,}",
        "recall_steps": f"{recall.steps:,}",
        "recall_batch": str(recall.batch_size),
        "recall_target": f"{recall.target_loss:g}",
    }


# -- the answer the page opens with: which cell, for which kind of task ---------------------------------

# Each task as the kind of job it stands for; `{T}` and `{gap}` are filled from the results.
KINDS = {
    "adding": "keep a number across {T} steps (adding problem)",
    "copy": "repeat a sequence of symbols (copy task)",
    "recall": "recall one symbol after a gap of {gap} (recall)",
    "char": "predict text, character by character",
}
# What each task's row counts or measures, after the two models' numbers.
MEASURES = {
    "adding": "seeds solved it",
    "copy": "of the symbols recalled",
    "recall": "seeds learned it",
    "char": "test bits per character",
}


# The opening figure's panels: title, which way is better, log x axis.
VERDICT_PANELS = {
    "adding": ("Adding problem: test MSE", "lower is better", True),
    "copy": ("Copy task: symbols recalled", "higher is better", False),
    "recall": ("Recall at gap {gap}: test accuracy", "higher is better", False),
    "char": ("Text: test bits per character", "lower is better", False),
}
ROWS = ("gru", "lstm_fb3", "lstm_fb1", "lstm", "rnn")  # top to bottom
SHORT = {"rnn": "tanh RNN", "lstm": "LSTM", "lstm_fb1": "LSTM (bias 1)", "lstm_fb3": "LSTM (bias 3)", "gru": "GRU"}


def _p(comparison_text: str) -> str:
    """ "p = 0.004" out of a `Comparison`'s text, or the text itself where there is no test ("equally
    often")."""
    found = re.search(r"p = [^ )]+", comparison_text)
    return found.group(0) if found else comparison_text


def _count(text: str) -> str:
    """ "3" out of "3 of 5" (the table says out of how many once); other values as they are."""
    return text.split(" of ")[0]


def _pick(row: dict) -> str:
    """The cell a verdict row favours: the GRU, its better LSTM, or either where the test finds no
    difference."""
    if row["sign"] > 0:
        return "GRU"
    if row["sign"] < 0:
        return row["lstm_name"]
    return f"either (GRU or {row['lstm_name']})"


def advice_rows(results: dict, times: dict) -> list[tuple[str, str, str]]:
    """(kind of task, the cell that did best here, the evidence with its test) for each task, the
    step time on this CPU, and the LSTM's forget bias on recall: the rows of the page's opening
    table, every word that names a winner chosen by a test (`snippets.figures.significance`)."""
    rows = _verdict_rows(results)
    fill = {"T": results["adding"]["task_args"]["T"], "gap": rows["recall"]["gap"]}
    out = []
    for task, row in rows.items():
        lstm = next(m for m, name in LABELS.items() if name == row["lstm_name"])
        gru_value, lstm_value = (_count(row[key]) for key in ("gru", "lstm"))
        evidence = f"GRU {gru_value}, {SHORT[lstm]} {lstm_value} {MEASURES[task]} ({_p(row['verdict'])})"
        out.append((KINDS[task].format(**fill), _pick(row), evidence))
    out.append(_speed_row(times))
    out.append(_forget_bias_row(results["recall"]))
    return out


def _speed_row(times: dict) -> tuple[str, str, str]:
    """The cheaper step on this machine, where the bootstrap interval of the GRU/LSTM time ratio is
    on one side of 1 at every task's sizes; else no pick."""
    ratios = [d["gru_over_lstm"] for d in times["tasks"].values()]
    low, high = min(r["median"] for r in ratios), max(r["median"] for r in ratios)
    span = f"{low:.1f}" if f"{low:.1f}" == f"{high:.1f}" else f"{low:.1f} to {high:.1f}"
    if all(r["low"] > 1 for r in ratios):
        pick = "LSTM"
    elif all(r["high"] < 1 for r in ratios):
        pick = "GRU"
    else:
        pick = "either: it depends on the sizes"
    return ("train in the least time on a CPU", pick, f"a GRU step took {span} times as long as an LSTM step here")


def _forget_bias_row(recall: dict, gap: str = "20") -> tuple[str, str, str]:
    """PyTorch's forget-gate bias against a bias of 3 at recall's `gap`, by Fisher's test."""
    n = len(recall["seeds"])
    fb3, plain = (_solved_counts(recall["by_gap"], gap, m) for m in ("lstm_fb3", "lstm"))
    comparison = compare_counts(fb3, n, plain, n)
    pick = {1: "forget-gate bias 3", -1: "PyTorch's initialisation"}.get(comparison.sign, "either bias")
    evidence = f"bias 3 {fb3}, PyTorch's {plain} seeds learned it ({_p(comparison.text)})"
    return (f"use an LSTM on recall at gap {gap}", pick, evidence)


def advice_table() -> str:
    """Markdown table of `advice_rows` on this build's results."""
    from snippets import experiments as ex

    lines = ["| if your task is to … | best here | evidence (one-sided test over the seeds) |", "| --- | --- | --- |"]
    for kind, pick, evidence in advice_rows(_results(), ex.step_time()):
        lines.append(f"| {kind} | **{pick}** | {evidence} |")
    return "\n".join(lines) + "\n"


def advice_facts() -> dict:
    """The tasks on which the GRU did better than the better LSTM, worse, or neither, by the verdicts'
    tests, as lists of names; and whether an LSTM step was cheaper at every task's sizes."""
    from snippets import experiments as ex

    results = _results()
    named = {
        "adding": "the adding problem",
        "copy": "the copy task",
        "recall": f"recall at gap {max(results['recall']['gaps'])}",
        "char": "text (the character model)",
    }
    by_sign = {1: [], -1: [], 0: []}
    for task, row in _verdict_rows(results).items():
        by_sign[row["sign"]].append(named[task])
    return {
        "gru_won": _and(by_sign[1]) or "none of the four tasks",
        "lstm_won": _and(by_sign[-1]),
        "neither": _and(by_sign[0]),
        "lstm_faster": _speed_row(ex.step_time())[1] == "LSTM",
    }


def _and(names: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1] if names else ""


def verdict_values(results: dict, task: str) -> tuple[dict[str, list[float]], float | None]:
    """Per model, each seed's test result on `task` as the opening figure draws it, and the
    reference line (the adding problem's memoryless baseline, chance for the two recall tasks)."""
    if task == "adding":
        r = results["adding"]
        return {m: list(c["test_loss"]) for m, c in r["cells"].items()}, r["baseline"]
    if task == "copy":
        r = results["copy"]
        return {m: list(c["test_accuracy"]) for m, c in r["cells"].items()}, 1 / 8
    if task == "recall":
        r = results["recall"]
        gap = str(max(r["gaps"]))
        return {m: list(c["test_accuracy"]) for m, c in r["by_gap"][gap]["cells"].items()}, r["chance_accuracy"]
    if task == "char":
        return {m: list(c["test_bpc"]) for m, c in results["char"]["cells"].items()}, None
    raise ValueError(f"task must be one of {list(VERDICT_PANELS)}, got {task!r}")


def verdict_figure(results: dict, narrow: bool = False) -> Figure:
    """The page's opening picture: per task, every seed's test result (a dot) and the mean (a bar) of
    each model, one row per model, the models in the same rows in every panel; the dashed line is
    the memoryless baseline (adding problem) or chance (copy task, recall). Two by two, or stacked
    for a phone."""
    gap = max(results["recall"]["gaps"])
    with theme():
        shape, size = ((4, 1), (PHONE_WIDTH, 7.4)) if narrow else ((2, 2), (7, 4.4))
        fig = Figure(figsize=size, layout="constrained")
        axes = fig.subplots(*shape, sharey=True).ravel()
        for ax, (task, (title, better, log)) in zip(axes, VERDICT_PANELS.items()):
            values, reference = verdict_values(results, task)
            for row, model in enumerate(ROWS):
                if model not in values:
                    ax.text(
                        0.5,
                        row,
                        "not run",
                        transform=ax.get_yaxis_transform(),
                        ha="center",
                        va="center",
                        fontsize=8.5,
                        color="#000000",
                        alpha=0.6,
                    )
                    continue
                seeds = values[model]
                offsets = [row + 0.12 * (k - (len(seeds) - 1) / 2) for k in range(len(seeds))]
                ax.scatter(
                    seeds, offsets, s=14, color=STYLE[model]["color"], alpha=0.7, linewidths=0, marker=MARKERS[model]
                )
                mean = math.exp(statistics.fmean(map(math.log, seeds))) if log else statistics.fmean(seeds)
                ax.plot(
                    [mean, mean], [row - 0.36, row + 0.36], color=STYLE[model]["color"], linestyle="-", linewidth=2.2
                )
            if reference is not None:
                ax.axvline(reference, color="#000000", linestyle=(0, (2, 2)), linewidth=1.1)
            if log:
                ax.set_xscale("log")
            else:
                ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4))
            if task in ("copy", "recall"):
                ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
            ax.set_title(f"{title.format(gap=gap)}\n({better})", fontsize=9.5)
            ax.grid(axis="y", visible=False)
        axes[0].set_yticks(range(len(ROWS)), [SHORT[m] for m in ROWS])
        axes[0].invert_yaxis()
    return fig
