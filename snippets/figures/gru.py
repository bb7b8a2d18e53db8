"""Figures of the GRU page: the two GRU forms on the same weights, and a trained GRU's gates."""

from __future__ import annotations

import torch
from matplotlib.figure import Figure

from snippets.figures import Claim, theme

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


def same_weights_figure(result: dict) -> Figure:
    """Per weight scale, mean |h_PyTorch - h_Cho| against time step beside the size of h itself."""
    if "bounds" not in result:
        raise ValueError(
            "expected the result of experiments.gru_forms_same_weights (with 'bounds'), "
            f"got keys {sorted(result) if isinstance(result, dict) else type(result).__name__}"
        )
    with theme():
        fig = Figure(figsize=(7, 3.2), layout="constrained")
        axes = fig.subplots(1, len(result["bounds"]), sharex=True, squeeze=False)[0]
        for ax, (label, data) in zip(axes, result["bounds"].items()):
            _band(ax, data["mean_abs_h"], "mean $|h_t|$ (PyTorch form)", color="#000000", linestyle=":")
            _band(ax, data["mean_abs_diff"], "mean $|h_t^{PyTorch} - h_t^{Cho}|$")
            name = "torch.nn's default" if label == "default" else "wider"
            ax.set_title(f"weights ~ U(±{data['bound']:.2f}), {name}", fontsize=10)
            ax.set_xlabel("time step $t$")
            ax.set_ylim(bottom=0)
        axes[0].set_ylabel("mean absolute value")
        axes[0].legend(loc="lower right")
    return fig


def trained_gru_trace(result: dict, model: str = "gru", sequence: int = 0) -> dict:
    """Gate traces of the first seed's trained GRU (from `experiments.gru_forms`) on a fresh
    sequence of its task: {"tokens": list, "target": int, key: array (time, hidden) for r, z, n, h}."""
    from snippets import seeding, tasks
    from snippets.layers import GRU
    from snippets.variants import ChoGRU

    if model not in result.get("models", {}) or "state_dict" not in result["models"][model]["runs"][0]:
        raise ValueError(f"expected a gru_forms result with kept weights for {model!r}")
    state = result["models"][model]["runs"][0]["state_dict"]
    task = tasks.make_task(result["task"], **result["task_args"])
    layer = (GRU if model == "gru" else ChoGRU)(task.input_size, result["hidden_size"], batch_first=True)
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


def gru_gates_figure(result: dict, model: str = "gru") -> Figure:
    """Heat maps of r, z, n and h (units by time step) of a trained GRU on one recall sequence;
    units sorted by their mean update gate after the first step, highest on top."""
    trace = trained_gru_trace(result, model)
    order = trace["z"][1:].mean(0).argsort()[::-1].copy()
    steps = len(trace["tokens"])
    with theme():
        fig = Figure(figsize=(7.5, 3.8), layout="constrained")
        axes = fig.subplots(1, len(GATE_PANELS), sharey=True)
        for ax, (key, title, cmap, (low, high)) in zip(axes, GATE_PANELS):
            image = ax.imshow(
                trace[key][:, order].T, aspect="auto", cmap=cmap, vmin=low, vmax=high, interpolation="nearest"
            )
            ax.set_title(title, fontsize=10)
            ax.set_xticks([0, steps - 1], ["subject", "query"])
            ax.grid(False)
            fig.colorbar(image, ax=ax, location="bottom", shrink=0.9, ticks=[low, (low + high) / 2, high])
        axes[0].set_ylabel("unit (sorted by mean $z_t$)")
        fig.supxlabel(f"time step: the subject, {steps - 2} distractors, the query", fontsize=10)
    return fig


def same_weights_summary(result: dict, settle: int = 10) -> str:
    """One sentence per weight scale: mean |difference| after `settle` steps, relative to mean |h|,
    and the difference with the reset gate forced open."""
    sentences = [
        f"Setup: {result['batch']} random sequences of {result['T']} steps with {result['input_size']} "
        f"inputs, hidden size {result['hidden_size']}, float64, seeds "
        f"{', '.join(map(str, result['seeds']))}."
    ]
    for data in result["bounds"].values():
        diff = torch.tensor(data["mean_abs_diff"])[:, settle:].mean()
        size = torch.tensor(data["mean_abs_h"])[:, settle:].mean()
        sentences.append(
            f"With weights from $U(\\pm {data['bound']:.2f})$, after step {settle} the two forms' hidden states "
            f"differ by {diff:.3f} on average per unit, against an average $|h_t|$ of {size:.3f} "
            f"({diff / size:.0%} of it); with the reset gate forced open the largest difference is "
            f"{max(data['open_reset_max_abs_diff']):.0e}, rounding error."
        )
    return " ".join(sentences)


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
