"""Figures of the real-text page: learning curve, the units found, and their values over real code.

`unit_html` colours each character of a piece of source by one unit's value: a background in
blue (positive) or orange (negative) whose opacity grows with |value|, over text in the page's own
colour, so the same HTML reads in light and dark mode.
"""

from __future__ import annotations

from html import escape

from matplotlib.figure import Figure

from snippets.figures import COLORS, LINESTYLES, theme

BITS = 1 / 0.6931471805599453  # 1 / ln 2
FEATURES = {
    "in_string": "inside a string",
    "in_comment": "inside a comment",
    "bracket_depth": "bracket depth",
    "indent": "indentation",
    "column": "column",
}
POSITIVE, NEGATIVE = (58, 125, 201), (217, 113, 28)  # COLORS[0], COLORS[1] as RGB
LEVELS = 8  # opacity steps: neighbouring characters of one step share a <span>
MAX_OPACITY = 0.45  # text over the strongest shade keeps 4.5:1 contrast in both colour schemes


def learning_curve_figure(text_model: dict, char_model: dict) -> Figure:
    """Validation bits per character of the long LSTM run, the short runs of `char_model`, the baseline."""
    with theme():
        fig = Figure(figsize=(7, 3.6), layout="constrained")
        ax = fig.add_subplot()
        short = char_model["cells"]["lstm"]["val_loss"]
        n = len(char_model["cells"]["lstm"]["final_val_loss"])
        ax.fill_between(
            short["step"],
            [v * BITS for v in short["min"]],
            [v * BITS for v in short["max"]],
            color=COLORS[1],
            alpha=0.2,
            linewidth=0,
        )
        ax.plot(
            short["step"],
            [v * BITS for v in short["mean"]],
            color=COLORS[1],
            linestyle=LINESTYLES[1],
            marker="o",
            label=f"LSTM, comparison page's budget (mean of {n} seeds, band: min-max)",
        )
        ax.plot(
            text_model["val_step"],
            text_model["val_bpc"],
            color=COLORS[0],
            linestyle=LINESTYLES[0],
            marker=".",
            label="LSTM trained longer (this page, one seed)",
        )
        ax.axhline(
            text_model["baseline_bpc"], color="#000000", linestyle=(0, (2, 2)), linewidth=1.2, label="unigram baseline"
        )
        ax.set_xlabel("training step (updates of 32 windows)")
        ax.set_ylabel("validation bits per character")
        ax.set_ylim(0, text_model["baseline_bpc"] * 1.1)
        ax.legend(fontsize=8, loc="lower left")
    return fig


def correlation_figure(units: dict) -> Figure:
    """Best |correlation| per feature: the trained model's units against the untrained model's."""
    best = {
        name: {u["feature"]: abs(u["correlation"]) for u in units[name]["best"]} for name in ("trained", "untrained")
    }
    order = [f for f in FEATURES if f in best["trained"]]
    with theme():
        fig = Figure(figsize=(7, 3.2), layout="constrained")
        ax = fig.add_subplot()
        y = range(len(order))
        ax.barh(
            [k + 0.2 for k in y],
            [best["trained"][f] for f in order],
            height=0.38,
            color=COLORS[0],
            label="trained LSTM",
        )
        ax.barh(
            [k - 0.2 for k in y],
            [best["untrained"][f] for f in order],
            height=0.38,
            color=COLORS[1],
            hatch="//",
            edgecolor="#000000",
            linewidth=0,
            label="same LSTM before training",
        )
        ax.set_yticks(list(y), [FEATURES[f] for f in order])
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("best |Pearson correlation| of one unit ($c_t$ or $h_t$) with the feature")
        ax.legend(fontsize=8, loc="lower right")
    return fig


def unit_name(unit: dict) -> str:
    """A unit as the page names it: `c[43]` is cell-state component 43, `h[7]` output component 7."""
    return f"{unit['trace']}[{unit['unit']}]"


def _rgba(value: float, scale: float) -> str:
    level = min(LEVELS, round(abs(value) / scale * LEVELS)) if scale > 0 else 0
    if level == 0:
        return "transparent"
    r, g, b = POSITIVE if value >= 0 else NEGATIVE
    return f"rgba({r},{g},{b},{MAX_OPACITY * level / LEVELS:.3f})"


def unit_html(text: str, values: list[float], scale: float, label: str) -> str:
    """`text` laid out as code, each character's background coloured by its value in `values`.

    Opacity is |value| / `scale` in `LEVELS` steps (`MAX_OPACITY` at most, so the text stays readable);
    blue for positive, orange for negative. Newlines keep no colour.
    """
    if len(text) != len(values):
        raise ValueError(
            f"unit_html: expected one value per character, got {len(values)} values for {len(text)} characters"
        )
    spans, run, colour = [], "", None
    for ch, v in zip(text, values):
        c = "transparent" if ch == "\n" else _rgba(v, scale)
        if c != colour and run:
            spans.append(_span(run, colour))
            run = ""
        run, colour = run + ch, c
    if run:
        spans.append(_span(run, colour))
    # A <div>, not <pre><code>: Material makes code blocks focusable, and a focusable element
    # inside role="img" is an accessibility error.
    # tabindex: a box that scrolls sideways must be reachable from the keyboard.
    return (
        f'<div class="unit-text" role="img" tabindex="0" aria-label="{escape(label)}" style="white-space:pre;'
        f"font-family:var(--md-code-font-family);font-size:0.85em;line-height:1.35;padding:0.6em;"
        f'overflow-x:auto">{"".join(spans)}</div>'
    )


def _span(run: str, colour: str) -> str:
    return escape(run) if colour in (None, "transparent") else f'<span style="background:{colour}">{escape(run)}</span>'


def legend_html(scale: float) -> str:
    """A colour key for `unit_html`: values from -scale to +scale."""
    steps = [-1, -0.5, 0, 0.5, 1]
    keys = "".join(
        f'<span style="background:{_rgba(s * scale, scale)};padding:0 0.5em">{s * scale:+.2f}</span> ' for s in steps
    )
    return f'<p class="unit-legend">unit value: {keys}</p>'


def unit_figure(units: dict, feature: str) -> str:
    """HTML: the excerpt coloured by the best unit for `feature`, with its key and a one-line description."""
    if feature not in units["excerpt"]["units"]:
        raise ValueError(f"unit_figure: expected a feature in {sorted(units['excerpt']['units'])}, got {feature!r}")
    ex = units["excerpt"]
    u = ex["units"][feature]
    label = (
        f"{len(ex['text'].splitlines())} lines of {ex['file']} from line {ex['first_line']}, each character "
        f"shaded by the value of unit {unit_name(u)}, the unit whose value correlates best with "
        f"{FEATURES[feature]} (correlation {u['correlation']:+.2f})."
    )
    return legend_html(u["scale"]) + "\n" + unit_html(ex["text"], u["values"], u["scale"], label)


def units_table(units: dict) -> str:
    """Markdown: per feature, the best unit and its correlation, trained and untrained, and the runner-up."""
    untrained = {u["feature"]: u for u in units["untrained"]["best"]}
    rows = [
        "| feature | best unit (trained) | correlation | next best (trained) | best before training |",
        "| --- | ---: | ---: | --- | ---: |",
    ]
    for u in units["trained"]["best"]:
        ranked = units["trained"]["ranked"][u["feature"]]
        nxt = ", ".join(f"`{unit_name(r)}` ({r['correlation']:+.2f})" for r in ranked[1:])
        rows.append(
            f"| {FEATURES[u['feature']]} | `{unit_name(u)}` | {u['correlation']:+.2f} | {nxt} | "
            f"{untrained[u['feature']]['correlation']:+.2f} |"
        )
    return "\n".join(rows) + "\n"


def sample_block(sample: dict) -> str:
    """A generated sample as a Markdown code block, with its temperature and seed."""
    text = sample["text"].replace("\x00", "\u2400")
    fence = "````" if "```" in text else "```"
    return (
        f"Temperature {sample['temperature']}, seed {sample['seed']}, primed with "
        f"`{sample['prime'].strip() or repr(sample['prime'])}`:\n\n{fence}text\n{text}\n{fence}\n"
    )


def model_summary(text_model: dict, config) -> str:
    """The long run's configuration, size, time and final bits per character, as a sentence."""
    return (
        f"{config.steps:,} steps of Adam (learning rate {config.lr}, clipping at 1) on batches of "
        f"{config.batch_size} windows of {config.seq_len} characters, hidden size {config.hidden_size} "
        f"({text_model['n_params']:,} parameters with the read-out), seed {config.seed}: "
        f"{text_model['val_bpc'][-1]:.2f} bits per character on the validation windows, against "
        f"{text_model['baseline_bpc']:.2f} for the unigram model. Training took "
        f"{text_model['seconds']:.0f} s on the machine that built this page."
    )


def search_summary(units: dict) -> str:
    """What was searched: files, characters, candidate traces."""
    n = len(units["traces"]) * units["hidden_size"]
    return (
        f"Searched: {n} traces ({' and '.join(units['traces'])} of each of {units['hidden_size']} units) over "
        f"the first {units['max_chars']:,} characters of each of the {len(units['files'])} validation files "
        f"(all of the shorter ones), {units['chars']:,} characters in all, each file run from a zero state."
    )


def correlation_caption(units: dict) -> str:
    """Which features the trained model tracks clearly better than its untrained self, by how much."""
    before = {u["feature"]: abs(u["correlation"]) for u in units["untrained"]["best"]}
    parts = []
    for u in units["trained"]["best"]:
        after = abs(u["correlation"])
        parts.append(f"{FEATURES[u['feature']]} {after:.2f} against {before[u['feature']]:.2f}")
    strong = [u for u in units["trained"]["best"] if abs(u["correlation"]) >= 0.7]
    verdict = (
        f"{len(strong)} feature{'s' if len(strong) != 1 else ''} "
        f"{'have' if len(strong) != 1 else 'has'} a unit with |ρ| of 0.7 or more"
        if strong
        else "No feature has a unit with |ρ| of 0.7 or more: these are partial trackers, not clean switches"
    )
    return "Best |ρ|, trained against untrained: " + "; ".join(parts) + f". {verdict}."


def budget_facts() -> dict:
    """The long run's characters seen against one run of the comparison page's character model
    (`experiments.char_model`), and that model's size and seeds, as text."""
    from snippets import experiments as ex

    model, char = ex.TextModelConfig(), ex.char_model()
    long_chars = model.steps * model.batch_size * model.seq_len
    t = char["train"]
    short_chars = t["steps"] * t["batch_size"] * char["task_args"]["seq_len"]
    return {
        "ratio": f"{long_chars / short_chars:.0f}",
        "short_steps": f"{t['steps']:,}",
        "short_hidden": str(char["hidden_size"]["lstm"]),
        "seeds": str(len(char["seeds"])),
        "hidden": str(model.hidden_size),
    }
