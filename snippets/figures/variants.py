"""Figures, tables, facts and claims of the LSTM variants page (and the GRU page's training run).

Both read a `runs.sweep` result (`experiments.lstm_variants`, `experiments.gru_forms`): per model
the runs at the learning rate its sweep chose, with the gate blocks' mean biases at every
evaluation (the runs' `probe`). Bands and ± are 95 % confidence intervals of the mean over seeds.
"""

from __future__ import annotations

import math
import statistics

from matplotlib.figure import Figure

from snippets.figures import COLORS, LINESTYLES, PHONE_WIDTH, theme
from snippets.figures.significance import compare_counts, compare_values

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
KEEP_NAMES = {
    "lstm": "f",
    "lstm_fb1": "f",
    "peephole": "f",
    "coupled": "f",
    "lstm1997": "i",
    "gru": "z",
    "cho_gru": "z",
}
AT_CHANCE = 0.9  # a run is still at chance while its validation loss is above this share of the baseline


def _check_result(result: dict) -> None:
    if not isinstance(result, dict) or not {"cells", "baseline", "seeds"} <= set(result):
        raise ValueError(
            "expected the result of experiments.lstm_variants or experiments.gru_forms "
            f"(a dict with 'cells', 'baseline' and 'seeds'), got {type(result).__name__}"
        )


def _style(k: int) -> dict:
    return {"color": COLORS[k % len(COLORS)], "linestyle": LINESTYLES[k % len(LINESTYLES)]}


def loss_curves_figure(result: dict, narrow: bool = False, ylabel: str = "validation cross-entropy (nats)") -> Figure:
    """Validation loss against training step: per model the mean over seeds and its 95 % CI (band).

    A seed stopped early (solved) holds its last value; the memoryless baseline is the dashed line.
    The legend sits above the axes; `narrow` draws it for a phone.
    """
    _check_result(result)
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 4.2) if narrow else (7, 3.6), layout="constrained")
        ax = fig.subplots()
        for k, (model, data) in enumerate(result["cells"].items()):
            curve = data["val_loss"]
            ax.plot(curve["step"], curve["mean"], label=LABELS.get(model, model), **_style(k))
            ax.fill_between(
                curve["step"], curve["low"], curve["high"], color=_style(k)["color"], alpha=0.15, linewidth=0
            )
        ax.axhline(
            result["baseline"],
            color="#000000",
            linestyle=(0, (2, 2)),
            linewidth=1,
            label=f"memoryless baseline ({result['baseline']:.2f})",
        )
        ax.set_xlabel("training step (one Adam update of a batch)")
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.set_xlim(0, result["train"]["steps"])
        fig.legend(loc="outside upper center", ncols=2 if narrow else 3, fontsize=9)
    return fig


# -- who learns ------------------------------------------------------------------------------------


def solved(result: dict, model: str) -> int:
    """How many seeds of `model` reached the target loss within the budget."""
    _check_result(result)
    if model not in result["cells"]:
        raise ValueError(f"expected one of {sorted(result['cells'])}, got {model!r}")
    return sum(status == "solved" for status in result["cells"][model]["status"])


def _fmt_ci(values, fmt: str) -> str:
    from snippets.experiments.stats import mean_ci95

    mean, low, _ = mean_ci95([float(v) for v in values])
    return f"{format(float(mean), fmt)} ± {format(float(mean - low), fmt)}"


def results_table(result: dict) -> str:
    """Markdown table: per model its parameters, the learning rate its sweep chose, the seeds that
    reached the target loss (and the median updates they took), the test accuracy (mean ± 95 % CI),
    and its keep gate's value at the start (sigma of the gate's mean initial bias)."""
    _check_result(result)
    n = len(result["seeds"])
    lines = [
        "| model | parameters | learning rate | reached the target | test accuracy | keep gate at start |",
        "| --- | ---: | ---: | --- | ---: | ---: |",
    ]
    drift = keep_drift(result)
    for model, data in result["cells"].items():
        k = solved(result, model)
        steps = [s for s, st in zip(data["steps_run"], data["status"]) if st == "solved"]
        reached = f"{k} of {n}" + (f", median {statistics.median(steps):,.0f} updates" if steps else "")
        d = drift.get(model)
        start = f"{KEEP_NAMES[model]} ≈ {d['initial_gate']:.2f}" if d else "–"
        lines.append(
            f"| {LABELS.get(model, model)} | {data['n_params']:,} | {data['lr']:g} | {reached} | "
            f"{_fmt_ci(data['test_accuracy'], '.0%')} | {start} |"
        )
    return "\n".join(lines) + "\n"


def per_seed_table(result: dict) -> str:
    """Markdown table: per model and seed, steps run, how the run ended, test loss and accuracy."""
    _check_result(result)
    lines = [
        "| model | seed | steps run | ended | test loss (nats) | test accuracy |",
        "| --- | ---: | ---: | --- | ---: | ---: |",
    ]
    for model, data in result["cells"].items():
        for k, seed in enumerate(result["seeds"]):
            lines.append(
                f"| {LABELS.get(model, model)} | {seed} | {data['steps_run'][k]:,} | {data['status'][k]} | "
                f"{data['test_loss'][k]:.3f} | {data['test_accuracy'][k]:.0%} |"
            )
    return "\n".join(lines) + "\n"


def sweep_table(result: dict) -> str:
    """Markdown table: each model's validation score (mean validation loss over the budget, mean
    over seeds) at every learning rate tried, the chosen one in bold, and the seeds solved there."""
    _check_result(result)
    lrs = result["lrs"]
    lines = ["| model | " + " | ".join(f"lr {lr:g}" for lr in lrs) + " |", "| --- |" + " ---: |" * len(lrs)]
    for model, data in result["cells"].items():
        entries = []
        for lr, score, k in zip(lrs, data["sweep"]["score"], data["sweep"]["solved"]):
            text = (f"{score:.3f}" if math.isfinite(score) else "diverged") + f" ({k}/{len(result['seeds'])})"
            entries.append(f"**{text}**" if lr == data["lr"] else text)
        lines.append(f"| {LABELS.get(model, model)} | " + " | ".join(entries) + " |")
    return "\n".join(lines) + "\n"


# -- the keep gate's drift while at chance ----------------------------------------------------------


def _at_chance_until(run: dict, baseline: float) -> int:
    """How many evaluations of `run` (after step 0) it was still at chance: the index of the last
    probe taken while its validation loss stayed above `AT_CHANCE` × baseline throughout."""
    k = 0
    for loss in run["val_loss"]:
        if not (loss > AT_CHANCE * baseline):
            break
        k += 1
    return k


def keep_drift(result: dict) -> dict:
    """Per model: how its keep gate's bias moved while the run was still at chance, per seed.

    The keep gate is the block `result["keep_block"][model]` of `runs.bias_blocks` (f of an LSTM
    or CIFG, z of a GRU; the 1997 cell has none and is left out). A seed's drift is its mean bias
    at the last evaluation still at chance minus its mean bias at step 0 (None if it left chance
    before the first evaluation). Also the gate's initial value, sigma(mean initial bias).
    """
    _check_result(result)
    out = {}
    for model, data in result["cells"].items():
        block = result.get("keep_block", {}).get(model)
        if block is None or model == "lstm1997":
            continue
        drifts, initial = [], []
        for run in data["runs"]:
            probe = run["probe"]
            initial.append(probe[0][block])
            last = min(_at_chance_until(run, result["baseline"]), len(probe) - 1)
            drifts.append(probe[last][block] - probe[0][block] if last > 0 else None)
        known = [d for d in drifts if d is not None]
        out[model] = {
            "per_seed": drifts,
            "median": statistics.median(known) if known else None,
            "initial_gate": 1 / (1 + math.exp(-statistics.fmean(initial))),
            "steps": [
                run["val_step"][min(_at_chance_until(run, result["baseline"]), len(run["val_step"])) - 1]
                if _at_chance_until(run, result["baseline"])
                else 0
                for run in data["runs"]
            ],
        }
    return out


def drift_figure(result: dict, narrow: bool = False) -> Figure:
    """Change of each model's keep-gate bias from step 0, against step, one thin line per seed,
    drawn only while that run is still at chance; the 1997 cell (no keep gate) is left out."""
    _check_result(result)
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 4.0) if narrow else (7, 3.3), layout="constrained")
        ax = fig.subplots()
        for k, (model, data) in enumerate(result["cells"].items()):
            block = result.get("keep_block", {}).get(model)
            if block is None or model == "lstm1997":
                continue
            for s, run in enumerate(data["runs"]):
                last = min(_at_chance_until(run, result["baseline"]), len(run["probe"]) - 1)
                steps = [0] + run["val_step"][:last]
                values = [p[block] - run["probe"][0][block] for p in run["probe"][: last + 1]]
                ax.plot(
                    steps,
                    values,
                    linewidth=1.1,
                    alpha=0.85,
                    label=LABELS.get(model, model) if s == 0 else None,
                    **_style(k),
                )
        ax.axhline(0, color="#000000", linewidth=0.8)
        ax.set_xlabel("training step, while the run is still at chance")
        ax.set_ylabel("change of the keep gate's bias")
        fig.legend(loc="outside upper center", ncols=2 if narrow else 3, fontsize=9)
    return fig


# -- facts and claims ------------------------------------------------------------------------------


def budget_facts(result: dict) -> dict:
    """The run's task, budget, seeds and learning-rate grid, as text."""
    _check_result(result)
    t = result["train"]
    return {
        "task": result["task"],
        "gap": str(result["task_args"].get("gap", "")),
        "hidden": str(next(iter(result["hidden_size"].values()))),
        "seeds": str(len(result["seeds"])),
        "steps": f"{t['steps']:,}",
        "batch": str(t["batch_size"]),
        "target": f"{t['target_loss']:g}" if t["target_loss"] is not None else "none",
        "lrs": ", ".join(f"{lr:g}" for lr in result["lrs"]),
        "eval_every": str(t["eval_every"]),
        "test_size": f"{result['test_size']:,}",
    }


def variants_facts() -> dict:
    """Solved counts and keep-gate numbers of `lstm_variants`, as text, for the page's sentences."""
    from snippets.experiments import lstm_variants

    result = lstm_variants()
    drift = keep_drift(result)
    out = {**budget_facts(result), "n": str(len(result["seeds"]))}
    n = len(result["seeds"])
    out["fb1_vs_fb0"] = compare_counts(solved(result, "lstm_fb1"), n, solved(result, "lstm"), n).text
    out.update(_first_facts(result), **_fresh_keep_facts(result, drift), **_drift_facts(result))
    for model, data in result["cells"].items():
        out[f"{model}_solved"] = str(solved(result, model))
        steps = [s for s, st in zip(data["steps_run"], data["status"]) if st == "solved"]
        out[f"{model}_median_steps"] = f"{statistics.median(steps):,.0f}" if steps else "–"
        if model in drift:
            d = drift[model]
            out[f"{model}_keep"] = f"{d['initial_gate']:.2f}"
            known = [x for x in d["per_seed"] if x is not None]
            out[f"{model}_drift"] = f"{min(known):+.2f} to {max(known):+.2f}" if known else "–"
    return out


DRIFT = 0.1  # a keep-gate bias that moved by more than this while at chance has clearly moved


def drift_runs(result: dict) -> dict[str, list[tuple[str, bool]]]:
    """Per direction ("fell", "rose"), one entry per run whose keep-gate bias moved by more than
    `DRIFT` that way while at chance: its model, and whether the run reached the target."""
    out: dict[str, list[tuple[str, bool]]] = {"fell": [], "rose": []}
    for model, d in keep_drift(result).items():
        for value, status in zip(d["per_seed"], result["cells"][model]["status"]):
            if value is not None and abs(value) > DRIFT:
                out["fell" if value < 0 else "rose"].append((model, status == "solved"))
    return out


def _steps_to_target(result: dict, model: str) -> list[int | None]:
    data = result["cells"][model]
    return [s if st == "solved" else None for s, st in zip(data["steps_run"], data["status"])]


def _first_facts(result: dict) -> dict:
    """The 1997 cell's updates to the target against each other variant's, seed by seed (exact
    Mann-Whitney tests): which it beat significantly, and whether it beat all ("first")."""
    mine = _steps_to_target(result, "lstm1997")
    tests = {
        m: compare_values(mine, _steps_to_target(result, m), lower="fewer updates", higher="more updates")
        for m in result["cells"]
        if m != "lstm1997"
    }
    return {
        "lstm1997_first": all(c.sign < 0 for c in tests.values()),
        "lstm1997_versus": "; ".join(f"against the {LABELS[m]}, {c.text}" for m, c in tests.items()),
    }


def _fresh_keep_facts(result: dict, drift: dict) -> dict:
    """The models whose keep gate starts near 0.5, and whether the one that solved most did so
    significantly more often than the one that solved least (Fisher's exact test)."""
    n = len(result["seeds"])
    near = sorted((m for m, d in drift.items() if 0.4 < d["initial_gate"] < 0.6), key=lambda m: solved(result, m))
    if len(near) < 2:
        return {"fresh_differ": False, "fresh_versus": "fewer than two models start near 0.5"}
    low, high = near[0], near[-1]
    comparison = compare_counts(solved(result, high), n, solved(result, low), n)
    return {
        "fresh_differ": comparison.sign > 0,
        "fresh_versus": f"against the {LABELS[low]}, the {LABELS[high]} reached it {comparison.text}",
    }


def _drift_facts(result: dict) -> dict:
    """Per direction of the keep-gate drift: how many runs, how many reached the target, which models
    they belong to; and whether the direction is only the model's (every model's runs moved one
    way), in which case the counts cannot tell the drift's effect from the architecture's."""
    runs = drift_runs(result)
    out = {}
    for direction, found in runs.items():
        out[f"{direction}_runs"], out[f"{direction}_solved"] = str(len(found)), str(sum(r for _, r in found))
        out[f"{direction}_models"] = ", ".join(LABELS[m] for m in sorted({m for m, _ in found})) or "none"
    out["drift_confounded"] = not ({m for m, _ in runs["fell"]} & {m for m, _ in runs["rose"]})
    return out
