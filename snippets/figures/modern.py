"""Figures, tables, facts and claims of the modern-cells page (minGRU, minLSTM, sLSTM).

Every function reads an experiment of `snippets.experiments.modern` (loaded from the cache the
build filled) or runs one of its cheap, uncached computations; none writes a sentence of the page.
Figures come in pairs: `..._figure(narrow=False)` for the column, `narrow=True` for a phone.
"""

from __future__ import annotations

import math

import torch
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle

from snippets.experiments import modern, stats
from snippets.figures import COLORS, LINESTYLES, PHONE_WIDTH, Claim, theme

WIDE = 7.2  # inches: the widest figure here

# -- the two dependency graphs ------------------------------------------------------------------


def _graph(ax, gates_read_state: bool, steps: int = 4) -> None:
    """Inputs (bottom), gates (middle), states (top) of `steps` steps, and what each reads."""
    ink, hot = "#000000", COLORS[1]
    ax.set_xlim(-0.9, steps - 0.2)
    ax.set_ylim(-0.45, 2.45)
    ax.axis("off")

    def node(x, y, text, box):
        ax.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            fontsize=10,
            bbox=dict(boxstyle="round,pad=0.3" if box else "circle,pad=0.25", fc="#ffffff", ec=ink, lw=1),
        )

    def arrow(start, end, color=ink, rad=0.0, style="-"):
        ax.add_patch(
            FancyArrowPatch(
                start,
                end,
                arrowstyle="-|>",
                mutation_scale=9,
                color=color,
                lw=1.3,
                linestyle=style,
                connectionstyle=f"arc3,rad={rad}",
                shrinkA=11,
                shrinkB=11,
            )
        )

    node(-0.6, 2.0, "$h_0$", False)
    for t in range(steps):
        node(t, 0.0, f"$x_{t + 1}$", False)
        node(t, 1.0, "gates", True)
        node(t, 2.0, f"$h_{t + 1}$", False)
        arrow((t, 0.0), (t, 1.0))
        arrow((t, 1.0), (t, 2.0))
        arrow((t - 1 if t else -0.6, 2.0), (t, 2.0))
        if gates_read_state:
            arrow((t - 1 if t else -0.6, 2.0), (t, 1.0), color=hot, rad=0.0, style="--")


def dependency_figure(narrow: bool = False) -> Figure:
    """The GRU's gates read $h_{t-1}$ (dashed arrows); the minGRU's read $x_t$ only."""
    with theme():
        size = (PHONE_WIDTH, 4.6) if narrow else (WIDE, 2.3)
        fig = Figure(figsize=size, layout="constrained")
        axes = fig.subplots(2, 1) if narrow else fig.subplots(1, 2)
        titles = ("(a) GRU, LSTM: the gates read $h_{t-1}$", "(b) minGRU, minLSTM: the gates read $x_t$ only")
        for ax, reads, title in zip(axes, (True, False), titles):
            _graph(ax, reads)
            ax.set_title(title, fontsize=10)
    return fig


# -- parameters ---------------------------------------------------------------------------------

# weights of one layer with input size = hidden size = d, biases left out: (blocks, per block d x d)
WEIGHT_FORMULAS = {
    "GRU": ("$6d^2$", 6),
    "minGRU": ("$2d^2$", 2),
    "LSTM": ("$8d^2$", 8),
    "minLSTM": ("$3d^2$", 3),
    "sLSTM (one head)": ("$8d^2$", 8),
}


def _layers(d: int) -> dict:
    import snippets

    return {
        "GRU": snippets.GRU(d, d),
        "minGRU": snippets.MinGRU(d, d),
        "LSTM": snippets.LSTM(d, d),
        "minLSTM": snippets.MinLSTM(d, d),
        "sLSTM (one head)": snippets.SLSTM(d, d),
    }


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")  # narrow no-break space: 24 576, never split over lines


def weight_count(module) -> int:
    """Scalars in the module's weight matrices (parameters of two or more dimensions): no biases."""
    return sum(p.numel() for p in module.parameters() if p.dim() >= 2)


def parameter_table(sizes: tuple = (8, 64, 256)) -> str:
    """Markdown: per layer, the formula and the weights counted off the built module at each d."""
    head = "| layer | weights by formula | " + " | ".join(f"counted, $d = {d}$" for d in sizes) + " |"
    rows = [head, "| --- | --- |" + " ---: |" * len(sizes)]
    counted = {d: {name: weight_count(layer) for name, layer in _layers(d).items()} for d in sizes}
    for name, (formula, _) in WEIGHT_FORMULAS.items():
        cells = " | ".join(_thousands(counted[d][name]) for d in sizes)
        rows.append(f"| {name} | {formula} | {cells} |")
    return "\n".join(rows) + "\n"


def weight_counts_match_formulas(sizes: tuple = (8, 64, 256)) -> Claim:
    """Every layer's weight count equals its formula (minGRU 2d², minLSTM 3d², GRU 6d², LSTM and sLSTM 8d²)."""
    misses = [
        f"{name} at d={d}: {weight_count(layer)} vs {WEIGHT_FORMULAS[name][1] * d * d}"
        for d in sizes
        for name, layer in _layers(d).items()
        if weight_count(layer) != WEIGHT_FORMULAS[name][1] * d * d
    ]
    return Claim(not misses, "; ".join(misses) or f"all {len(WEIGHT_FORMULAS)} layers at d = {sizes} match")


# -- the scan -----------------------------------------------------------------------------------


def _numerics(result: dict | None = None) -> dict:
    from snippets.experiments import modern_numerics

    return modern_numerics() if result is None else result


def scan_figure(numerics: dict | None = None, narrow: bool = False) -> Figure:
    """Left: the weight of $b_s$ in $h_t$ (log scale), chunks outlined. Right: loop, scan and unrolled sum agree."""
    data = _numerics(numerics)["scan_anatomy"]
    weights = torch.tensor(data["weights"])
    steps, size = data["steps"], data["chunk_size"]
    shown = torch.where(weights > 0, weights.clamp(min=1e-12).log10(), torch.tensor(float("nan")))
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 6.8) if narrow else (WIDE, 3.4), layout="constrained")
        left, right = fig.subplots(2, 1) if narrow else fig.subplots(1, 2, width_ratios=(1.15, 1))
        fig.get_layout_engine().set(wspace=0.12)  # room between the colour bar's label and panel (b)
        image = left.imshow(shown.numpy(), cmap="viridis", vmin=-8, vmax=0, interpolation="nearest")
        for k in range(0, steps, size):  # the diagonal blocks computed in log space within a chunk
            left.add_patch(Rectangle((k - 0.5, k - 0.5), size, size, fill=False, ec="#000000", lw=1.2))
        left.set_xlabel("input step $s$ (where $b_s$ enters)")
        left.set_ylabel("state $h_t$, step $t$")
        left.set_title("(a) weight of $b_s$ in $h_t$", fontsize=10)
        left.grid(False)
        ticks = list(range(0, steps, size)) + [steps - 1]
        left.set_xticks(ticks, [str(t + 1) for t in ticks])
        left.set_yticks(ticks, [str(t + 1) for t in ticks])
        fig.colorbar(image, ax=left, label="log$_{10}$ weight", shrink=0.85, pad=0.03)
        t = range(1, steps + 1)
        right.plot(t, data["loop"], color=COLORS[0], label="loop (step function)")
        right.plot(
            t, data["scan"], "o", color=COLORS[1], markersize=8, fillstyle="none", label="chunked log-space scan"
        )
        right.plot(t, data["unrolled"], "x", color="#000000", markersize=4, label="unrolled sum")
        right.set_xlabel("step $t$")
        right.set_ylabel(f"$h_t$ of unit {data['unit'] + 1}")
        right.set_title("(b) three ways, one answer", fontsize=10)
        fig.legend(loc="outside lower center", ncols=1 if narrow else 3, fontsize=9)
    return fig


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def sci(x: float) -> str:
    """4.5e-04 as '4 × 10⁻⁴' (one significant digit), for numbers printed in sentences."""
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"{mantissa} × 10{str(int(exponent)).translate(SUPERSCRIPT)}"


def scan_facts(numerics: dict | None = None) -> dict:
    """The scan section's numbers: the figure's sizes and its largest difference, and float32 precision."""
    data, precision = _numerics(numerics)["scan_anatomy"], _numerics(numerics)["scan_precision"]
    return {
        "steps": data["steps"],
        "chunk_size": data["chunk_size"],
        "chunks": data["steps"] // data["chunk_size"],
        "max_difference": sci(data["max_difference"]),
        "precision_steps": precision["steps"],
        "one_pass_error": sci(precision["one_pass"]),
        "chunked_error": sci(precision["chunked"]),
        "precision_chunk": precision["chunk_size"],
        "largest_h": f"{precision['largest_h']:.1f}",
    }


def chunks_keep_float32_precise(numerics: dict | None = None, factor: float = 10.0) -> Claim:
    """In float32 over the long sequence, the chunked scan's largest error is at least 10x below one pass's."""
    p = _numerics(numerics)["scan_precision"]
    return Claim(
        p["chunked"] * factor <= p["one_pass"],
        f"largest error against float64: one pass {p['one_pass']:.1e}, chunks of {p['chunk_size']} {p['chunked']:.1e}",
    )


def scan_equals_loop(numerics: dict | None = None) -> Claim:
    """The loop, the chunked log-space scan and the unrolled sum give the same states (float64, to 1e-12)."""
    gap = _numerics(numerics)["scan_anatomy"]["max_difference"]
    return Claim(gap < 1e-12, f"largest difference between any two of the three: {gap:.1e} (must be below 1e-12)")


# -- speed --------------------------------------------------------------------------------------

CANDIDATE_STYLE = {
    name: {"color": COLORS[k], "linestyle": LINESTYLES[k], "marker": "osD^"[k]}
    for k, name in enumerate(("minGRU scan", "minGRU loop", "snippets.GRU", "torch.nn.GRU"))
}
PAPER_SPEEDUP_512 = 175  # Feng et al. 2024: minGRU against the GRU, training step at T = 512, T4 GPU


def _speed(result: dict | None) -> dict:
    from snippets.experiments import scan_speed

    return scan_speed() if result is None else result


def speed_figure(result: dict | None = None, narrow: bool = False) -> Figure:
    """CPU ms of a training step, log-log: against T at 64 lanes, and against width at T = 512."""
    result = _speed(result)
    by_length, by_width = result["by_length"], result["by_width"]
    lanes = [result["batch"] * h for h in by_width["hidden"]]
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 6.6) if narrow else (WIDE, 3.4), layout="constrained")
        left, right = fig.subplots(2, 1, sharey=True) if narrow else fig.subplots(1, 2, sharey=True)
        for name, style in CANDIDATE_STYLE.items():
            left.plot(by_length["lengths"], [1e3 * s for s in by_length["seconds"][name]], label=name, **style)
            right.plot(lanes, [1e3 * s for s in by_width["seconds"][name]], **style)
        for ax, ticks in ((left, by_length["lengths"]), (right, lanes)):
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xticks(ticks, [str(t) for t in ticks])
            ax.minorticks_off()
        left.set_xlabel("sequence length $T$")
        left.set_ylabel("CPU ms per forward + backward")
        left.set_title(f"(a) batch {result['batch']} × hidden {result['hidden']} = {lanes[0]} lanes", fontsize=10)
        right.set_xlabel("lanes: batch × hidden")
        right.set_title(f"(b) $T$ = {result['at_length']}, batch {result['batch']}", fontsize=10)
        if narrow:
            right.tick_params(labelleft=True)
            right.set_ylabel(left.get_ylabel())
        fig.legend(loc="outside upper center", ncols=2 if narrow else 4, fontsize=9)
    return fig


def _ms(seconds: float) -> str:
    return f"{1e3 * seconds:.1f}" if seconds >= 0.01 else f"{1e3 * seconds:.2f}"


def speed_table(result: dict | None = None) -> str:
    """Markdown: CPU ms per candidate and length, and each loop's time over the scan's."""
    result = _speed(result)
    data = result["by_length"]
    names = list(data["seconds"])
    times = " | ".join(f"`{n}` (ms)" for n in names)
    ratios = " | ".join(f"`{n}` ÷ scan" for n in names[1:])
    rows = [
        f"| $T$ | {times} | {ratios} |",
        "| ---: |" + " ---: |" * (2 * len(names) - 1),
    ]
    for k, steps in enumerate(data["lengths"]):
        scan = data["seconds"]["minGRU scan"][k]
        times = " | ".join(_ms(data["seconds"][n][k]) for n in names)
        ratios = " | ".join(f"{data['seconds'][n][k] / scan:.1f}" for n in names[1:])
        rows.append(f"| {steps} | {times} | {ratios} |")
    return "\n".join(rows) + "\n"


def width_table(result: dict | None = None) -> str:
    """Markdown: CPU ms per candidate at T = at_length for each width, and the scan's time over its loop's."""
    result = _speed(result)
    data = result["by_width"]
    names = list(data["seconds"])
    rows = [
        "| lanes (batch × hidden) | " + " | ".join(f"`{n}` (ms)" for n in names) + " | scan ÷ loop |",
        "| ---: |" + " ---: |" * (len(names) + 1),
    ]
    for k, hidden in enumerate(data["hidden"]):
        times = " | ".join(_ms(data["seconds"][n][k]) for n in names)
        ratio = data["seconds"]["minGRU scan"][k] / data["seconds"]["minGRU loop"][k]
        rows.append(f"| {result['batch']} × {hidden} = {result['batch'] * hidden} | {times} | {ratio:.2f} |")
    return "\n".join(rows) + "\n"


def _ratio_at(result: dict, slow: str, fast: str = "minGRU scan") -> float:
    data = result["by_length"]
    k = data["lengths"].index(result["at_length"])
    return data["seconds"][slow][k] / data["seconds"][fast][k]


def speed_facts(result: dict | None = None) -> dict:
    """The speed section's numbers: sizes, the T = 512 ratios, per-step and per-element costs, break-even."""
    result = _speed(result)
    length, width = result["by_length"], result["by_width"]
    longest = length["lengths"][-1]
    lanes = [result["batch"] * h for h in width["hidden"]]
    loop_step = [s / result["at_length"] for s in width["seconds"]["minGRU loop"]]  # seconds per step, by width
    scan_element = [s / (result["at_length"] * n) for s, n in zip(width["seconds"]["minGRU scan"], lanes)]
    ratios = [s / q for s, q in zip(width["seconds"]["minGRU scan"], width["seconds"]["minGRU loop"])]
    return {
        "machine": result["machine"],
        "batch": result["batch"],
        "hidden": result["hidden"],
        "lanes": lanes[0],
        "widest": lanes[-1],
        "widest_hidden": width["hidden"][-1],
        "repeats": result["repeats"],
        "at_length": result["at_length"],
        "longest": longest,
        "lengths": ", ".join(map(str, length["lengths"])),
        "torch_over_scan": f"{_ratio_at(result, 'torch.nn.GRU'):.0f}",
        "ours_over_scan": f"{_ratio_at(result, 'snippets.GRU'):.0f}",
        "loop_over_scan": f"{_ratio_at(result, 'minGRU loop'):.0f}",
        "paper": PAPER_SPEEDUP_512,
        "loop_us_per_step_narrow": f"{1e6 * loop_step[0]:.0f}",
        "loop_us_per_step_wide": f"{1e6 * loop_step[-1]:.0f}",
        "scan_ns_per_element": f"{1e9 * scan_element[-1]:.0f}",
        "scan_over_loop_widest": f"{width['seconds']['minGRU scan'][-1] / width['seconds']['minGRU loop'][-1]:.1f}",
        "break_even_lanes": f"{100 * round(break_even(lanes, ratios) / 100):.0f}",
    }


def break_even(lanes: list[int], ratios: list[float]) -> float:
    """Lanes where the scan's time over the loop's (`ratios`, by `lanes`) passes 1: interpolated on
    log-log axes between the two widths around it, else extrapolated from the last two."""
    pairs = list(zip(lanes, ratios))
    low, high = next(((a, b) for a, b in zip(pairs, pairs[1:]) if a[1] < 1 <= b[1]), (pairs[-2], pairs[-1]))
    (n0, r0), (n1, r1) = low, high
    return n0 * (n1 / n0) ** (math.log(1 / r0) / math.log(r1 / r0))


def scan_beats_loops_when_narrow(result: dict | None = None, margin: float = 2.0) -> Claim:
    """At the narrow size, from T = 512 on, the scan is at least twice as fast as each of the three loops."""
    result = _speed(result)
    data = result["by_length"]
    worst = min(
        (data["seconds"][name][k] / data["seconds"]["minGRU scan"][k], name, steps)
        for name in ("minGRU loop", "snippets.GRU", "torch.nn.GRU")
        for k, steps in enumerate(data["lengths"])
        if steps >= 512
    )
    ratio, name, steps = worst
    return Claim(ratio >= margin, f"smallest loop ÷ scan ratio at T ≥ 512: {ratio:.1f} ({name}, T = {steps})")


def loop_beats_scan_when_wide(result: dict | None = None, margin: float = 1.1) -> Claim:
    """At the widest size timed, the minGRU's own loop is faster than its scan, by at least 10 %."""
    result = _speed(result)
    seconds = result["by_width"]["seconds"]
    ratio = seconds["minGRU scan"][-1] / seconds["minGRU loop"][-1]
    return Claim(ratio >= margin, f"scan ÷ loop at the widest size: {ratio:.2f} (must be at least {margin})")


def loop_cost_is_mostly_overhead(result: dict | None = None) -> Claim:
    """The minGRU loop's cost per step grows far less than its width: from the narrowest to the widest
    size timed, by less than a quarter of the factor by which the lanes grow."""
    result = _speed(result)
    width = result["by_width"]
    grows = width["seconds"]["minGRU loop"][-1] / width["seconds"]["minGRU loop"][0]
    lanes = width["hidden"][-1] / width["hidden"][0]
    return Claim(grows < lanes / 4, f"loop time per step x{grows:.1f} while the lanes grow x{lanes:.0f}")


def far_below_the_papers_speedup(result: dict | None = None, ceiling: float = 50.0) -> Claim:
    """At T = 512 the scan's lead over torch.nn.GRU is far below the paper's 175x: under 50x."""
    ratio = _ratio_at(_speed(result), "torch.nn.GRU")
    return Claim(ratio < ceiling, f"torch.nn.GRU ÷ minGRU scan at T = 512: {ratio:.1f} (must be below {ceiling:g})")


# -- parity -------------------------------------------------------------------------------------

PARITY_LABELS = {
    "lstm": "LSTM",
    "lstm_fb1": "LSTM, forget bias 1",
    "gru": "GRU",
    "slstm": "sLSTM",
    "min_gru": "minGRU",
    "min_lstm": "minLSTM",
}
NONLINEAR = ("lstm", "lstm_fb1", "gru", "slstm")
LINEAR = ("min_gru", "min_lstm")
SOLVED = 0.99  # mean accuracy on the long strings that counts as having learnt the automaton


def _parity(result: dict | None) -> dict:
    from snippets.experiments import parity

    return parity() if result is None else result


def _accuracy(run: dict, first: int, last: int) -> list[float]:
    """Per seed: mean accuracy over string lengths `first` .. `last` (inclusive)."""
    table = torch.tensor(run["test_accuracy"], dtype=torch.float64)
    return table[:, first - 1 : last].mean(1).tolist()


def _test_range(result: dict) -> tuple[int, int]:
    config = result["config"]
    return config["max_length"], config["test_length"]


def parity_figure(result: dict | None = None, narrow: bool = False) -> Figure:
    """Accuracy against string length, mean and 95 % CI over seeds: nonlinear cells left, linear right."""
    result = _parity(result)
    config = result["config"]
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 6.0) if narrow else (WIDE, 3.3), layout="constrained")
        # Same limits on both axes of both panels; stacked, each panel keeps its own tick labels.
        axes = fig.subplots(2, 1) if narrow else fig.subplots(1, 2, sharey=True)
        groups = (("(a) nonlinear recurrence", NONLINEAR), ("(b) linear recurrence (a scan)", LINEAR))
        for ax, (title, names) in zip(axes, groups):
            for style, name in enumerate(n for n in names if n in result["models"]):
                table = torch.tensor(result["models"][name]["test_accuracy"], dtype=torch.float64)
                mean, low, high = stats.mean_ci95(table)
                lengths = range(1, table.shape[1] + 1)
                color, dash = COLORS[style % len(COLORS)], LINESTYLES[style % len(LINESTYLES)]
                ax.fill_between(lengths, low, high, color=color, alpha=0.2, linewidth=0)
                ax.plot(lengths, mean, color=color, linestyle=dash, label=PARITY_LABELS[name])
            ax.axvspan(config["min_length"], config["max_length"], color="#000000", alpha=0.06, linewidth=0)
            ax.axhline(0.5, color="#000000", linestyle=(0, (2, 2)), linewidth=1, label="chance")
            ax.set_xscale("log", base=2)
            ticks = [2**k for k in range(0, config["test_length"].bit_length())]
            ax.set_xticks(ticks, [str(t) for t in ticks])
            ax.minorticks_off()
            ax.set_xlim(1, config["test_length"])
            ax.set_ylim(0.3, 1.05)
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("string length (bits)")
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=2, fontsize=9)
        axes[0].set_ylabel("accuracy of the parity")
        if narrow:
            axes[1].set_ylabel("accuracy of the parity")
    return fig


def _fmt_ci(values: list[float]) -> str:
    """Mean ± half the width of its 95 % confidence interval."""
    mean, low, high = (float(v) for v in stats.mean_ci95(values))
    return f"{mean:.3f} ± {(high - low) / 2:.3f}"


def parity_table(result: dict | None = None) -> str:
    """Markdown: per model, parameters, the learning rate chosen, accuracy on trained and on longer strings."""
    result = _parity(result)
    first, last = _test_range(result)
    train_first = result["config"]["min_length"]
    n = len(result["seeds"])
    rows = [
        f"| model | parameters | rate chosen | {train_first}–{first} bits | {first}–{last} bits | solved |",
        "| --- | ---: | ---: | --- | --- | ---: |",
    ]
    for name in (*NONLINEAR, *LINEAR):
        if name not in result["models"]:
            continue
        run = result["models"][name]
        long = _accuracy(run, first, last)
        solved = sum(a >= SOLVED for a in long)
        rows.append(
            f"| {PARITY_LABELS[name]} | {_thousands(run['n_params'])} | {run['lr']:g} | "
            f"{_fmt_ci(_accuracy(run, train_first, first))} | {_fmt_ci(long)} | {solved} of {n} |"
        )
    return "\n".join(rows) + "\n"


def parity_per_seed(result: dict | None = None) -> str:
    """Markdown: validation loss per learning rate and seed, and the test accuracy of the chosen rate per seed."""
    result = _parity(result)
    first, last = _test_range(result)
    lrs = result["config"]["lrs"]
    seeds = result["seeds"]
    rows = [
        "| model | "
        + " | ".join(f"val. loss, lr {lr:g}" for lr in lrs)
        + f" | accuracy {first}–{last} bits, chosen lr |",
        "| --- |" + " --- |" * (len(lrs) + 1),
    ]
    for name in (*NONLINEAR, *LINEAR):
        if name not in result["models"]:
            continue
        run = result["models"][name]
        losses = [" ".join(f"{v:.3f}" for v in by_seed) for by_seed in run["val_loss"]]
        accuracy = " ".join(f"{v:.3f}" for v in _accuracy(run, first, last))
        rows.append(f"| {PARITY_LABELS[name]} | " + " | ".join(losses) + f" | {accuracy} |")
    return "\n".join(rows) + f"\n\nSeeds {', '.join(map(str, seeds))}, in that order in every cell.\n"


LEARNT_LOSS = 0.05  # validation cross-entropy (nats per step) below which a run counts as having learnt


def rate_table(result: dict | None = None) -> str:
    """Markdown: per model and learning rate, the seeds whose validation loss fell below `LEARNT_LOSS`."""
    result = _parity(result)
    lrs = result["config"]["lrs"]
    n = len(result["seeds"])
    rows = ["| model | " + " | ".join(f"lr {lr:g}" for lr in lrs) + " |", "| --- |" + " ---: |" * len(lrs)]
    for name in (*NONLINEAR, *LINEAR):
        if name in result["models"]:
            counts = [sum(v < LEARNT_LOSS for v in by_seed) for by_seed in result["models"][name]["val_loss"]]
            rows.append(f"| {PARITY_LABELS[name]} | " + " | ".join(f"{k} of {n}" for k in counts) + " |")
    return "\n".join(rows) + "\n"


def parity_facts(result: dict | None = None) -> dict:
    """The parity section's numbers: budget, sizes, and the short-string accuracies of the linear cells."""
    result = _parity(result)
    config = result["config"]
    short = {  # mean accuracy over seeds on strings of 2, 3 and 4 bits
        name: [f"{mean:.2f}" for mean in torch.tensor(result["models"][name]["test_accuracy"])[:, 1:4].mean(0).tolist()]
        for name in LINEAR
        if name in result["models"]
    }
    solved = {
        name: sum(a >= SOLVED for a in _accuracy(result["models"][name], *_test_range(result)))
        for name in result["models"]
    }
    return {
        "seeds": len(result["seeds"]),
        "hidden": config["hidden_size"],
        "steps": config["steps"],
        "batch": config["batch_size"],
        "lrs": ", ".join(f"{lr:g}" for lr in config["lrs"]),
        "min_length": config["min_length"],
        "max_length": config["max_length"],
        "test_length": config["test_length"],
        "val_size": config["val_size"],
        "test_size": config["test_size"],
        "min_gru_short": short.get("min_gru", []),
        "min_lstm_short": short.get("min_lstm", []),
        "solved": solved,
        "learnt_loss": LEARNT_LOSS,
        "solved_at": SOLVED,
    }


def linear_cells_stay_at_chance(result: dict | None = None, band: float = 0.05) -> Claim:
    """minGRU and minLSTM score chance on the long strings: every seed within 0.45 to 0.55."""
    result = _parity(result)
    first, last = _test_range(result)
    values = {name: _accuracy(result["models"][name], first, last) for name in LINEAR}
    worst = max(abs(a - 0.5) for v in values.values() for a in v)
    shown = "; ".join(f"{PARITY_LABELS[n]} {', '.join(f'{a:.3f}' for a in v)}" for n, v in values.items())
    return Claim(worst <= band, f"accuracy on {first}–{last} bits per seed: {shown}")


def nonlinear_cells_learn_parity(result: dict | None = None) -> Claim:
    """The LSTM, the GRU and the sLSTM each learn the automaton (≥ 0.99 on the long strings) on most seeds."""
    result = _parity(result)
    first, last = _test_range(result)
    n = len(result["seeds"])
    solved = {name: sum(a >= SOLVED for a in _accuracy(result["models"][name], first, last)) for name in NONLINEAR}
    shown = ", ".join(f"{PARITY_LABELS[k]} {v} of {n}" for k, v in solved.items())
    evidence = f"seeds with accuracy ≥ {SOLVED} on {first}–{last} bits: {shown}"
    return Claim(all(v > n / 2 for v in solved.values()), evidence)


def linear_cells_above_chance_on_two_bits(result: dict | None = None) -> Claim:
    """On strings of two bits the minGRU and the minLSTM are above chance (the lower end of the 95 % CI above 0.5)."""
    result = _parity(result)
    lows = {
        name: float(stats.mean_ci95(torch.tensor(result["models"][name]["test_accuracy"])[:, 1])[1]) for name in LINEAR
    }
    return Claim(
        all(v > 0.5 for v in lows.values()),
        "lower end of the 95 % CI at 2 bits: " + ", ".join(f"{PARITY_LABELS[k]} {v:.3f}" for k, v in lows.items()),
    )


# -- the sLSTM's stabiliser ---------------------------------------------------------------------


def slstm_figure(numerics: dict | None = None, narrow: bool = False) -> Figure:
    """Left: non-finite outputs against the largest input-gate pre-activation. Right: ln n_t with f = exp."""
    overflow, growth = _numerics(numerics)["slstm_overflow"], _numerics(numerics)["slstm_growth"]
    limit = modern.FLOAT32_LOG_MAX
    # The stabilised form drawn wide underneath, the unstabilised one on top: where they agree, both show.
    plain = {"color": COLORS[1], "linestyle": "--", "zorder": 3}
    stable = {"color": COLORS[0], "linestyle": "-", "linewidth": 4, "alpha": 0.45, "zorder": 2}
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 6.4) if narrow else (WIDE, 3.2), layout="constrained")
        left, right = fig.subplots(2, 1) if narrow else fig.subplots(1, 2)
        largest = overflow["max_i_tilde"]
        left.plot(largest, overflow["nonfinite_plain"], marker="o", markersize=3, label="unstabilised", **plain)
        left.plot(largest, overflow["nonfinite_stable"], label="stabilised", **stable)
        left.set_xscale("log")
        left.set_xlabel(r"largest input-gate pre-activation $\tilde i_t$")
        left.set_ylabel("fraction of outputs inf or NaN")
        left.set_title("(a) sigmoid forget gate, inputs scaled up", fontsize=10)
        steps = range(1, growth["steps"] + 1)
        right.plot(steps, growth["log_n_plain"], label="unstabilised", **plain)
        right.plot(steps, growth["log_n_stable"], label="stabilised", **stable)
        first_bad = next((t for t, v in zip(steps, growth["log_n_plain"]) if not math.isfinite(v)), None)
        if first_bad is not None:
            right.plot([first_bad - 1], [growth["log_n_plain"][first_bad - 2]], "x", color=COLORS[1], markersize=8)
        right.set_xlabel("step $t$")
        right.set_ylabel(r"$\ln n_t$ (unit 1)")
        right.set_title(r"(b) exponential forget gate, $\tilde f_t \approx 1$", fontsize=10)
        left.axvline(limit, color="#000000", linestyle=":", linewidth=1)  # exp overflows float32 beyond
        right.axhline(limit, color="#000000", linestyle=":", linewidth=1)
        for ax in (left, right):
            ax.legend(loc="upper left", fontsize=9)
    return fig


def slstm_facts(numerics: dict | None = None) -> dict:
    overflow, growth = _numerics(numerics)["slstm_overflow"], _numerics(numerics)["slstm_growth"]
    limit = modern.FLOAT32_LOG_MAX
    below = [g for i, g in zip(overflow["max_i_tilde"], overflow["max_gap"]) if i < limit]
    above = [g for i, g in zip(overflow["max_i_tilde"], overflow["max_gap"]) if i > limit and math.isfinite(g)]
    first_bad = next((t + 1 for t, v in enumerate(growth["nonfinite_plain"]) if v > 0), None)
    return {
        "limit": f"{limit:.2f}",
        "gap_below": sci(max(below)),
        "gap_above": f"{max(above):.1f}" if above else "n/a",
        "worst_plain": f"{max(overflow['nonfinite_plain']):.0%}".replace("%", " %"),
        "first_nan_step": first_bad,
        "growth_steps": growth["steps"],
    }


def stabiliser_prevents_overflow(numerics: dict | None = None) -> Claim:
    """Unstabilised, every input scale whose largest ĩ passes ln(float32 max) ≈ 88.7 gives inf/NaN and none below;
    stabilised, no output is ever inf or NaN, and below 88.7 the two forms agree to 1e-5."""
    overflow, growth = _numerics(numerics)["slstm_overflow"], _numerics(numerics)["slstm_growth"]
    limit = modern.FLOAT32_LOG_MAX
    rows = list(zip(overflow["max_i_tilde"], overflow["nonfinite_plain"], overflow["max_gap"]))
    plain_right = all((bad > 0) == (i > limit) for i, bad, _ in rows)
    stable_clean = max(overflow["nonfinite_stable"]) == 0 and max(growth["nonfinite_stable"]) == 0
    agree = max(g for i, _, g in rows if i < limit)
    grows = any(v > 0 for v in growth["nonfinite_plain"])
    evidence = (
        f"unstabilised inf/NaN exactly where max ĩ > {limit:.2f}: {plain_right}; stabilised never: {stable_clean}; "
        f"gap below the limit {agree:.1e}; exp forget gate overflows unstabilised: {grows}"
    )
    return Claim(plain_right and stable_clean and agree < 1e-5 and grows, evidence)
