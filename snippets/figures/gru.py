"""Figures, facts and claims of the GRU page: the two GRU forms on the same weights, a trained
GRU's gates, and the gradient through a GRU at initialisation."""

from __future__ import annotations

import math

import torch
from matplotlib.figure import Figure

from snippets.figures import COLORS, PHONE_WIDTH, Claim, theme

GATE_PANELS = [  # (trace key, title, colour map, value range)
    ("r", "reset gate $r_t$", "viridis", (0, 1)),
    ("z", "update gate $z_t$", "viridis", (0, 1)),
    ("n", "candidate $n_t$", "coolwarm", (-1, 1)),
    ("h", "hidden state $h_t$", "coolwarm", (-1, 1)),
]


def _band(ax, ys: list[list[float]], label: str, **style):
    """Mean over seeds as a line, min-max over seeds as a band."""
    table = torch.tensor(ys, dtype=torch.float64)
    steps = range(1, table.shape[1] + 1)
    (line,) = ax.plot(steps, table.mean(0), label=label, **style)
    ax.fill_between(steps, table.min(0).values, table.max(0).values, color=line.get_color(), alpha=0.15, linewidth=0)


def same_weights_figure(result: dict, narrow: bool = False) -> Figure:
    """Per weight scale, mean |h_PyTorch - h_Cho| against time step beside the size of h itself.

    Line: mean over seeds; band: lowest to highest seed. `narrow`: panels stacked, for a phone."""
    if "bounds" not in result:
        raise ValueError(
            "expected the result of experiments.gru_forms_same_weights (with 'bounds'), "
            f"got keys {sorted(result) if isinstance(result, dict) else type(result).__name__}"
        )
    n = len(result["bounds"])
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 2.4 * n + 0.6) if narrow else (7, 3.4), layout="constrained")
        axes = (
            fig.subplots(n, 1, sharex=True, sharey=True, squeeze=False)[:, 0]
            if narrow
            else fig.subplots(1, n, sharex=True, sharey=True, squeeze=False)[0]
        )
        for ax, (label, data) in zip(axes, result["bounds"].items()):
            _band(ax, data["mean_abs_h"], "mean $|h_t|$ (PyTorch form)", color="#000000", linestyle=":")
            _band(ax, data["mean_abs_diff"], "mean $|h_t^{PyTorch} - h_t^{Cho}|$", color=COLORS[0])
            name = "torch.nn's default" if label == "default" else "wider"
            ax.set_title(f"weights ~ U(±{data['bound']:.2f}), {name}", fontsize=10)
            ax.set_ylabel("mean absolute value")
        top = max(max(map(max, data["mean_abs_h"] + data["mean_abs_diff"])) for data in result["bounds"].values())
        axes[0].set_ylim(0, 1.05 * top)  # shared by every panel
        axes[-1].set_xlabel("time step $t$")
        if not narrow:
            axes[0].set_xlabel("time step $t$")
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside upper center", ncols=1 if narrow else 2, fontsize=9)
    return fig


def trained_gru_trace(result: dict, model: str = "gru", sequence: int = 0) -> dict:
    """Gate traces of the first seed's trained GRU (from `experiments.gru_forms`) on a fresh
    sequence of its task: {"tokens": list, "target": int, key: array (time, hidden) for r, z, n, h}."""
    from snippets import seeding, tasks
    from snippets.layers import GRU
    from snippets.variants import ChoGRU

    if model not in result.get("cells", {}) or "state_dict" not in result["cells"][model]["runs"][0]:
        raise ValueError(f"expected a gru_forms result with kept weights for {model!r}")
    state = result["cells"][model]["runs"][0]["state_dict"]
    task = tasks.make_task(result["task"], **result["task_args"])
    layer = (GRU if model == "gru" else ChoGRU)(task.input_size, result["hidden_size"][model], batch_first=True)
    layer.load_state_dict({k.removeprefix("rnn."): v for k, v in state.items() if k.startswith("rnn.")})
    # Stream 2: data no run trained (stream 0) or was validated (stream 1) on.
    x, y = task.sample(sequence + 1, seeding.data_generator(result["seeds"][0], stream=2))
    with torch.no_grad():
        _, _, trace = layer(x, return_gates=True)
    out = {key: value[0, 0, :, sequence].numpy() for key, value in trace.items()}
    return {"tokens": x[sequence].argmax(-1).tolist(), "target": int(y[sequence]), **out}


def memory_units(trace: dict, threshold: float = 0.9) -> list[int]:
    """Units whose update gate stays above `threshold` at every step after the first:
    by $h_t = (1 - z_t) n_t + z_t h_{t-1}$ they carry their value across the sequence."""
    return [u for u in range(trace["z"].shape[1]) if trace["z"][1:, u].min() > threshold]


def gru_gates_figure(result: dict, model: str = "gru", narrow: bool = False) -> Figure:
    """Heat maps of r, z, n and h (units by time step) of a trained GRU on one recall sequence;
    units sorted by their mean update gate after the first step, highest on top. `narrow`: a 2 x 2
    grid for a phone."""
    trace = trained_gru_trace(result, model)
    order = trace["z"][1:].mean(0).argsort()[::-1].copy()
    steps = len(trace["tokens"])
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 5.6) if narrow else (7.5, 3.8), layout="constrained")
        axes = fig.subplots(2, 2, sharey=True).ravel() if narrow else fig.subplots(1, len(GATE_PANELS), sharey=True)
        for ax, (key, title, cmap, (low, high)) in zip(axes, GATE_PANELS):
            image = ax.imshow(
                trace[key][:, order].T, aspect="auto", cmap=cmap, vmin=low, vmax=high, interpolation="nearest"
            )
            ax.set_title(title, fontsize=10)
            ax.set_xticks([0, steps - 1], ["subject", "query"])
            ax.grid(False)
            fig.colorbar(image, ax=ax, location="bottom", shrink=0.9, ticks=[low, (low + high) / 2, high])
        axes[0].set_ylabel("unit (sorted by mean $z_t$)")
        if narrow:
            axes[2].set_ylabel("unit (sorted by mean $z_t$)")
        fig.supxlabel(f"time step: the subject, {steps - 2} distractors, the query", fontsize=10)
    return fig


def same_weights_facts(settle: int = 10) -> dict:
    """Per weight scale ("default", "1.0"): after step `settle`, the forms' mean |difference| per
    unit, the mean |h| and their ratio, and the largest difference with the reset gate forced
    open; the setup's sizes and seed count. All as text."""
    from snippets.experiments import gru_forms_same_weights

    result = gru_forms_same_weights()
    out = {
        "batch": str(result["batch"]),
        "T": str(result["T"]),
        "input_size": str(result["input_size"]),
        "hidden": str(result["hidden_size"]),
        "seeds": str(len(result["seeds"])),
        "settle": str(settle),
    }
    for label, data in result["bounds"].items():
        name = "default" if label == "default" else "wide"
        diff = torch.tensor(data["mean_abs_diff"])[:, settle:].mean()
        size = torch.tensor(data["mean_abs_h"])[:, settle:].mean()
        out.update(
            {
                f"{name}_bound": f"{data['bound']:.2f}",
                f"{name}_diff": f"{diff:.3f}",
                f"{name}_h": f"{size:.3f}",
                f"{name}_share": f"{diff / size:.0%}",
                f"{name}_open": f"{max(data['open_reset_max_abs_diff']):.0e}",
            }
        )
    return out


def forms_differ_but_agree_with_reset_open() -> Claim:
    """At both weight scales the two forms' hidden states differ by at least a fifth of the state's
    own size after the first steps, and agree to rounding (below 1e-9) with the reset gate forced open."""
    from snippets.experiments import gru_forms_same_weights

    result = gru_forms_same_weights()
    rows, ok = [], True
    for label, data in result["bounds"].items():
        share = float(
            torch.tensor(data["mean_abs_diff"])[:, 10:].mean() / torch.tensor(data["mean_abs_h"])[:, 10:].mean()
        )
        open_gap = max(data["open_reset_max_abs_diff"])
        ok &= share > 0.2 and open_gap < 1e-9
        rows.append(f"{label}: difference / |h| = {share:.2f}, reset open {open_gap:.0e}")
    return Claim(ok, "; ".join(rows))


def memory_facts(threshold: float = 0.9) -> dict:
    """What the trained GRU's units do in the figure's pass, as text: how many keep z above
    `threshold` at every step after the first; the most persistent unit's lowest z after the first
    step and how far its state moves between step 1 and the query; the lowest mean z (bottom row).

    Which units cross a threshold is a fact about one trained network (another CPU's rounding trains
    another one), so the page prints these numbers rather than checking them."""
    from snippets.experiments import gru_forms

    trace = trained_gru_trace(gru_forms())
    z = trace["z"][1:]
    top = int(z.min(0).argmax())
    return {
        "units": str(len(memory_units(trace, threshold))),
        "of": str(trace["z"].shape[1]),
        "threshold": f"{threshold:g}",
        "top_min_z": f"{float(z[:, top].min()):.2f}",
        "top_change": f"{float(abs(trace['h'][-1, top] - trace['h'][1, top])):.2f}",
        "lowest": f"{float(z.mean(0).min()):.2f}",
        "steps": str(len(trace["tokens"])),
    }


# -- the gradient through a GRU at initialisation -----------------------------------------------------


def decay_rate(curve: list[float], start: int = 10) -> float:
    """The per-step factor of a norm curve: exp of the least-squares slope of log(norm) against k
    from k = `start` on (the first steps depend on where the loss is read)."""
    k = torch.arange(start, len(curve), dtype=torch.float64)
    y = torch.tensor(curve[start:], dtype=torch.float64).log()
    slope = ((k - k.mean()) * (y - y.mean())).sum() / ((k - k.mean()) ** 2).sum()
    return float(slope.exp())


def gradient_figure(result: dict, narrow: bool = False) -> Figure:
    """The norm of dL/dh_{T-k} against k through an untrained GRU (all paths, and the update-gate
    path alone), log scale: mean over seeds (line) and lowest to highest seed (band)."""
    curves = result["curves"]
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 3.6) if narrow else (7, 3.2), layout="constrained")
        ax = fig.subplots()
        for key, label, color, style in (
            ("h", "all paths", COLORS[0], "-"),
            ("z_path", "along the update gate alone, $\\prod z$", COLORS[1], "--"),
        ):
            c = curves[key]
            ax.plot(curves["k"], c["mean"], color=color, linestyle=style, label=label)
            ax.fill_between(curves["k"], c["min"], c["max"], color=color, alpha=0.15, linewidth=0)
        ax.set_yscale("log")
        ax.set_xlabel("steps back from the loss, $k$")
        ax.set_ylabel("$\\|\\partial L / \\partial h_{T-k}\\|$")
        fig.legend(loc="outside upper center", ncols=1 if narrow else 2, fontsize=9)
    return fig


def gradient_facts() -> dict:
    """The GRU's gradient at initialisation: per-step factors (all paths, z path) and the norm
    left at the last k, relative to k = 0, as text; the sizes of the measurement."""
    from snippets.experiments import GradientConfig, gradient_decay_gru

    result = gradient_decay_gru()
    c = result["curves"]
    config = GradientConfig()
    h, z = c["h"]["mean"], c["z_path"]["mean"]
    return {
        "rate": f"{decay_rate(h):.2f}",
        "z_rate": f"{decay_rate(z):.2f}",
        "left": f"{h[-1] / h[0]:.0e}",
        "z_left": f"{z[-1] / z[0]:.0e}",
        "T": str(config.T),
        "hidden": str(config.hidden_size),
        "seeds": str(len(c["h"]["per_seed"])),
        "half_life": f"{math.log(0.5) / math.log(decay_rate(h)):.1f}",
    }


def gru_gradient_vanishes_at_initialisation() -> Claim:
    """At torch.nn's initialisation the gradient through the GRU shrinks geometrically on every
    seed (per-step factor below 0.8), and the update-gate path alone keeps less than all paths."""
    from snippets.experiments import gradient_decay_gru

    c = gradient_decay_gru()["curves"]
    rates = [decay_rate(seed) for seed in c["h"]["per_seed"]]
    below = all(zp[-1] <= hp[-1] * (1 + 1e-9) for zp, hp in zip(c["z_path"]["per_seed"], c["h"]["per_seed"]))
    return Claim(
        max(rates) < 0.8 and below,
        f"per-step factors {', '.join(f'{r:.3f}' for r in rates)}; "
        f"z path below all paths at k = {len(c['h']['mean']) - 1}: {below}",
    )


def update_gate_extremes_facts(result: dict | None = None) -> dict:
    """The largest |h_t - h_{t-1}| at z = 1 and |h_t - n_t| at z = 0, in both GRU forms, as text."""
    from snippets.experiments import update_gate_extremes

    result = update_gate_extremes() if result is None else result
    return {key: f"{value:.1e}" for key, value in result.items()}


def saturated_update_gate_copies_or_replaces(result: dict | None = None) -> Claim:
    """In both forms, z = 1 copies the state and z = 0 replaces it by the candidate (to float64 rounding)."""
    from snippets.experiments import update_gate_extremes

    result = update_gate_extremes() if result is None else result
    largest = max(result.values())
    return Claim(largest < 1e-12, f"largest difference {largest:.1e} (must be below 1e-12)")


# -- the two forms trained ---------------------------------------------------------------------------


def forms_facts() -> dict:
    """The budget of `gru_forms` and, per form, the seeds that reached the target and their median
    updates, as text."""
    import statistics

    from snippets import tasks
    from snippets.experiments import gru_forms
    from snippets.figures.significance import compare_counts, compare_values
    from snippets.figures.variants import budget_facts, solved

    result = gru_forms()
    task = tasks.make_task(result["task"], **result["task_args"])
    out = {**budget_facts(result), "length": str(task.sample(1, torch.Generator())[0].shape[1])}
    for model, data in result["cells"].items():
        steps = [s for s, st in zip(data["steps_run"], data["status"]) if st == "solved"]
        out[f"{model}_solved"] = str(solved(result, model))
        out[f"{model}_median_steps"] = f"{statistics.median(steps):,.0f}" if steps else "–"
    # the forms against each other, seed by seed: updates to the target (never: slowest), seeds solved
    steps = {
        m: [s if st == "solved" else None for s, st in zip(d["steps_run"], d["status"])]
        for m, d in result["cells"].items()
    }
    n = len(result["seeds"])
    updates = compare_values(steps["gru"], steps["cho_gru"], lower="fewer", higher="more")
    seeds = compare_counts(solved(result, "gru"), n, solved(result, "cho_gru"), n)
    out["forms_updates"] = updates.text
    out["forms_same"] = updates.sign == 0 and seeds.sign == 0
    return out
