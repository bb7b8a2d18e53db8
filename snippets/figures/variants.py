"""Figures and tables of the LSTM variants page: validation loss per model over seeds, and the table."""

from __future__ import annotations

import statistics

from matplotlib.figure import Figure

from snippets.figures import theme

# Names a reader of the papers would recognise, for the models of `experiments.lstm_variants`
# and `experiments.gru_forms`.
LABELS = {
    "lstm": "LSTM, forget bias 0",
    "lstm_fb1": "LSTM, forget bias 1",
    "lstm1997": "LSTM 1997 (no forget gate)",
    "peephole": "peephole LSTM",
    "coupled": "coupled gates (CIFG)",
    "gru": "GRU, PyTorch form",
    "cho_gru": "GRU, Cho et al. form",
}


def _check_result(result: dict) -> None:
    if not isinstance(result, dict) or not {"models", "baseline"} <= set(result):
        raise ValueError(
            "expected the result of experiments.lstm_variants or experiments.gru_forms "
            f"(a dict with 'models' and 'baseline'), got {type(result).__name__}"
        )


def loss_curves_figure(result: dict, ylabel: str = "validation cross-entropy (nats)") -> Figure:
    """Validation loss against training step: per model the mean over seeds and a min-max band.

    A seed stopped early (solved) holds its last value; the memoryless baseline is the dashed line.
    """
    _check_result(result)
    with theme():
        fig = Figure(figsize=(7, 3.8), layout="constrained")
        ax = fig.subplots()
        for model, data in result["models"].items():
            curve = data["val_loss"]
            (line,) = ax.plot(curve["step"], curve["mean"], label=LABELS.get(model, model))
            ax.fill_between(curve["step"], curve["min"], curve["max"], color=line.get_color(), alpha=0.15, linewidth=0)
        ax.axhline(
            result["baseline"],
            color="#000000",
            linestyle="--",
            linewidth=1,
            label=f"memoryless baseline ({result['baseline']:.2f})",
        )
        ax.set_xlabel("training step (one Adam update of a batch)")
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def _mean_spread(values: list[float], fmt: str) -> str:
    mean = statistics.fmean(values)
    spread = f" ± {format(statistics.stdev(values), fmt)}" if len(values) > 1 else ""
    return f"{format(mean, fmt)}{spread}"


def results_table(result: dict) -> str:
    """A Markdown table: per model its hidden size, parameter count (read off the module), final
    validation loss and accuracy (mean ± standard deviation over seeds), and steps run per seed."""
    _check_result(result)
    lines = [
        "| model | hidden size | parameters | final loss (nats) | final accuracy | steps run, per seed |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for model, data in result["models"].items():
        steps = ", ".join(
            f"{s} ({'solved' if st == 'solved' else 'budget'})" for s, st in zip(data["steps_run"], data["status"])
        )
        lines.append(
            f"| {LABELS.get(model, model)} | {result['hidden_size']} | {data['n_params']:,} | "
            f"{_mean_spread(data['final_val_loss'], '.3f')} | "
            f"{_mean_spread(data['final_val_accuracy'], '.0%')} | {steps} |"
        )
    return "\n".join(lines) + "\n"


def solved(result: dict, model: str) -> int:
    """How many seeds of `model` reached the target loss within the budget."""
    _check_result(result)
    if model not in result["models"]:
        raise ValueError(f"expected one of {sorted(result['models'])}, got {model!r}")
    return sum(status == "solved" for status in result["models"][model]["status"])


def budget_sentence(result: dict) -> str:
    """The run's budget and seeds, as one sentence for the page."""
    _check_result(result)
    b, task = result["budget"], result["task"]
    args = ", ".join(f"{k} {v}" for k, v in result["task_args"].items())
    stop = f", stopping once the validation loss is below {b['target_loss']}" if b["target_loss"] else ""
    return (
        f"Task: {task} ({args}). Every model: hidden size {result['hidden_size']}, seeds "
        f"{', '.join(map(str, result['seeds']))}, at most {b['steps']} Adam updates of "
        f"{b['batch_size']} sequences at learning rate {b['lr']}, gradients clipped at norm "
        f"{b['clip']}{stop}."
    )


def summary(result: dict) -> str:
    """One Markdown bullet per model: how many seeds reached the target, when, and where the rest ended."""
    _check_result(result)
    n, target = len(result["seeds"]), result["budget"]["target_loss"]
    lines = []
    for model, data in result["models"].items():
        k = solved(result, model)
        text = f"- **{LABELS.get(model, model)}** ({data['n_params']:,} parameters): {k} of {n} seeds"
        if k:
            steps = [s for s, st in zip(data["steps_run"], data["status"]) if st == "solved"]
            text += f" reached loss {target} within {min(steps)}–{max(steps)} steps"
        else:
            text += f" reached loss {target}"
        if k < n:
            rest = [v for v, st in zip(data["final_val_loss"], data["status"]) if st != "solved"]
            where = f"{rest[0]:.3f}" if len(rest) == 1 else f"{min(rest):.3f}–{max(rest):.3f}"
            who = "they" if not k else "the other" if len(rest) == 1 else "the others"
            text += f"; {who} ended at {where} nats after {result['budget']['steps']} steps"
        lines.append(text + ".")
    return "\n".join(lines) + "\n"
