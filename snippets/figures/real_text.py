"""Figures, facts and claims of the real-text page: the model, its samples, the units found, and
their values over real code.

`unit_html` colours each character of a piece of source by one unit's value, as Karpathy, Johnson
and Fei-Fei draw their cells: a background in blue (positive) or orange (negative) that grows
stronger with |value|, in `LEVELS` steps. The colours come from CSS variables with one value for
the light scheme and one for the dark (`SHADING_CSS`): light tints under dark text, deep tones
under light text, so the text keeps a contrast of 4.5:1 or more at every step in both. Where the
feature is 0 or 1 (inside a string, inside a comment), the characters where it is 1 are
underlined: the ground truth from Python's tokenizer, under the unit's shading. A feature with more
values gets its own shaded copy of the text (`truth_html`), in green.
"""

from __future__ import annotations

import math
import re
from html import escape

from matplotlib.figure import Figure

from snippets.experiments.stats import mean_ci95
from snippets.figures import COLORS, LINESTYLES, PHONE_WIDTH, Claim, theme

BITS = 1 / math.log(2)
FEATURES = {
    "in_string": "inside a string",
    "in_comment": "inside a comment",
    "bracket_depth": "bracket depth",
    "indent": "indentation",
    "column": "column",
}
POSITIVE, NEGATIVE, TRUTH = "--unit-pos", "--unit-neg", "--unit-truth"  # the CSS variables of the shades
LEVELS = 8  # steps of shading: neighbouring characters of one step share a <span>
# Full-strength shades as "R G B", light scheme then dark (Material's slate). Light: tints under
# text that is 87 % black, at least 6.4:1 at full strength; dark: deep tones under Material's light
# text, at least 4.5:1 (checked in tests/test_figures_real_text.py). The blue and the orange are
# the figures' COLORS[0] and [1], lighter for the light scheme and darker for the dark.
SHADES = {
    POSITIVE: ("90 155 230", "31 85 151"),
    NEGATIVE: ("240 145 62", "128 62 10"),
    TRUTH: ("98 196 136", "22 95 54"),
}
_BOXES = ".unit-text,.unit-legend"
_DARK = ",".join(f'[data-md-color-scheme="slate"] {box}' for box in _BOXES.split(","))
SHADING_CSS = (
    f"<style>{_BOXES}{{{';'.join(f'{name}:{light}' for name, (light, _) in SHADES.items())}}}"
    f"{_DARK}{{{';'.join(f'{name}:{dark}' for name, (_, dark) in SHADES.items())}}}</style>"
)
UNDERLINE = "border-bottom:2px solid currentColor"
KEY = "text-align:left;font-size:0.85em"  # a colour key, left-aligned even inside a <figure>
OPEN, CLOSE = "([{", ")]}"


def _experiments():
    from snippets import experiments

    return experiments


def _model(result: dict | None) -> dict:
    return _experiments().text_model() if result is None else result


def _units(result: dict | None) -> dict:
    return _experiments().text_units() if result is None else result


# -- figures --------------------------------------------------------------------------------------


def learning_curve_figure(text_model: dict, char_model: dict, narrow: bool = False) -> Figure:
    """Validation bits per character of the long LSTM run and of `char_model`'s LSTM runs (mean
    over seeds, band: 95 % CI of the mean), with the unigram baseline. `narrow`: legend on top."""
    short = char_model["cells"]["lstm"]
    runs = [[v * BITS for v in run["val_loss"]] for run in short["runs"]]
    n = min(len(r) for r in runs)
    mean, low, high = (v.tolist() for v in mean_ci95([r[:n] for r in runs]))
    steps = short["runs"][0]["val_step"][:n]
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 3.8) if narrow else (7, 3.4), layout="constrained")
        ax = fig.add_subplot()
        ax.fill_between(steps, low, high, color=COLORS[1], alpha=0.25, linewidth=0)
        ax.plot(
            steps,
            mean,
            color=COLORS[1],
            linestyle=LINESTYLES[1],
            marker="o",
            label=f"LSTM of the comparison page (mean of {len(runs)} seeds)",
        )
        ax.plot(
            text_model["val_step"],
            text_model["val_bpc"],
            color=COLORS[0],
            linestyle=LINESTYLES[0],
            marker=".",
            label="LSTM of this page (one seed)",
        )
        ax.axhline(
            text_model["baseline_bpc"], color="#000000", linestyle=(0, (2, 2)), linewidth=1.2, label="unigram baseline"
        )
        ax.set_xlabel("training step (one update of 32 windows)")
        ax.set_ylabel("validation bits per character")
        ax.set_ylim(0, text_model["baseline_bpc"] * 1.1)
        if narrow:
            fig.legend(loc="outside upper center", ncols=1, fontsize=9)
        else:
            ax.legend(fontsize=9, loc="lower left")
    return fig


def correlation_figure(units: dict, narrow: bool = False) -> Figure:
    """Best |correlation| per feature: the trained model's units against the untrained model's."""
    best = {
        name: {u["feature"]: abs(u["correlation"]) for u in units[name]["best"]} for name in ("trained", "untrained")
    }
    order = [f for f in FEATURES if f in best["trained"]]
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 3.6) if narrow else (7, 3.0), layout="constrained")
        ax = fig.add_subplot()
        y = range(len(order))
        ax.barh(
            [k - 0.2 for k in y], [best["trained"][f] for f in order], height=0.38, color=COLORS[0], label="trained"
        )
        ax.barh(
            [k + 0.2 for k in y],
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
        ax.set_xlabel("best |correlation| of one unit with the feature")
        if narrow:
            fig.legend(loc="outside upper center", ncols=1, fontsize=9)
        else:
            ax.legend(fontsize=9, loc="lower right")
    return fig


def separation_figure(units: dict, narrow: bool = False) -> Figure:
    """Per 0/1 feature, the distribution of its best unit's value over the characters inside the
    feature and over those outside (each a share of its characters), the unit turned to rise with
    the feature. One legend above the panels; `narrow`: panels stacked."""
    features = list(units["binary"])
    with theme():
        if narrow:
            fig = Figure(figsize=(PHONE_WIDTH, 2.1 * len(features) + 0.8), layout="constrained")
            axes = list(fig.subplots(len(features), 1).flat)
        else:
            fig = Figure(figsize=(7, 3.0), layout="constrained")
            axes = list(fig.subplots(1, len(features)).flat)
        for ax, feature in zip(axes, features):
            data = units["binary"][feature]["trained"]
            unit = next(u for u in units["trained"]["best"] if u["feature"] == feature)
            sign = "" if unit["correlation"] >= 0 else "\N{MINUS SIGN}"
            for key, label, color, style in (
                ("inside", "characters inside the feature", COLORS[0], "-"),
                ("outside", "all other characters", COLORS[1], "--"),
            ):
                ax.stairs(data[key], data["edges"], color=color, linestyle=style, linewidth=1.8, label=label)
            ax.set_title(f"{FEATURES[feature]}: unit {sign}{unit_name(unit)}", fontsize=10)
            ax.set_xlabel("unit value (turned to rise with the feature)")
            ax.set_ylim(bottom=0)
        axes[0].set_ylabel("share of characters")
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside upper center", ncols=1 if narrow else 2)
    return fig


# -- the units over real lines of code -------------------------------------------------------------


def unit_name(unit: dict) -> str:
    """A unit as the page names it: `c[43]` is cell-state component 43, `h[7]` output component 7."""
    return f"{unit['trace']}[{unit['unit']}]"


def _shade(value: float, scale: float, colours=(POSITIVE, NEGATIVE)) -> str:
    """The background of one character: `colours[0]` for a positive value, `colours[1]` for a
    negative one, at strength |value| / `scale` rounded to `LEVELS` steps; "" where that is 0."""
    level = min(LEVELS, round(abs(value) / scale * LEVELS)) if scale > 0 else 0
    if level == 0:
        return ""
    return f"rgb(var({colours[0] if value >= 0 else colours[1]}) / {level / LEVELS:.3f})"


def _style(colour: str, marked: bool) -> str:
    parts = ([f"background:{colour}"] if colour else []) + ([UNDERLINE] if marked else [])
    return ";".join(parts)


def _spans(text: str, styles: list[str]) -> str:
    """`text` as <span>s, one per run of characters of one style; newlines keep no style."""
    out, run, current = [], "", None
    for ch, style in zip(text, styles):
        style = "" if ch == "\n" else style
        if style != current and run:
            out.append(escape(run) if not current else f'<span style="{current}">{escape(run)}</span>')
            run = ""
        run, current = run + ch, style
    if run:
        out.append(escape(run) if not current else f'<span style="{current}">{escape(run)}</span>')
    return "".join(out)


def _code_box(inner: str, label: str) -> str:
    # A <div>, not <pre><code>: Material makes code blocks focusable, and a focusable element
    # inside role="img" is an accessibility error. Long lines wrap (no box that scrolls sideways on
    # a phone); the text is the source again, so search leaves it out.
    return (
        f'<div class="unit-text" role="img" aria-label="{escape(label)}" data-search-exclude="" '
        f'style="text-align:left;white-space:pre-wrap;overflow-wrap:anywhere;font-family:var(--md-code-font-family);'
        f'font-size:0.8em;line-height:1.45;padding:0.6em 0">{inner}</div>'
    )


def unit_html(text: str, values: list[float], scale: float, label: str, marked: list[float] | None = None) -> str:
    """`text` laid out as code, each character's background coloured by its value in `values`.

    Strength is |value| / `scale` in `LEVELS` steps, full from `scale` on; blue for positive,
    orange for negative. The page needs `SHADING_CSS` once (`unit_figure` brings it). Characters
    whose `marked` value is non-zero (the ground truth of a 0/1 feature) are underlined. Newlines
    keep no colour.
    """
    if len(text) != len(values) or (marked is not None and len(marked) != len(text)):
        raise ValueError(
            f"unit_html: expected one value per character, got {len(values)} values"
            f"{'' if marked is None else f' and {len(marked)} marks'} for {len(text)} characters"
        )
    marks = [False] * len(text) if marked is None else [m != 0 for m in marked]
    return _code_box(_spans(text, [_style(_shade(v, scale), m) for v, m in zip(values, marks)]), label)


def truth_html(text: str, values: list[float], label: str) -> str:
    """`text` laid out as code, each character shaded green by a feature's value (its largest value in
    `values` at full strength): what a unit tracking the feature would show."""
    if len(text) != len(values):
        raise ValueError(f"truth_html: expected one value per character, got {len(values)} for {len(text)}")
    top = max(values) if values else 0.0
    return _code_box(_spans(text, [_style(_shade(v, top, (TRUTH, TRUTH)), False) for v in values]), label)


def _swatches(levels, colour: str) -> str:
    """One small box per level, shaded as `unit_html` shades a character at that level."""
    box = "display:inline-block;width:0.8em;height:1.1em;vertical-align:-0.2em"
    return "".join(
        f'<span style="{box};background:rgb(var({colour}) / {k / LEVELS:.3f})"></span>'
        if k
        else f'<span style="{box};box-shadow:inset 0 0 0 1px currentColor"></span>'
        for k in levels
    )


def legend_html(scale: float, feature: str | None = None, unit: str = "unit") -> str:
    """A colour key for `unit_html`: the shades from -scale to +scale in order, and what an underline
    means."""
    bar = (
        f"<span>\N{MINUS SIGN}{scale:.3g}</span> "
        + _swatches(range(LEVELS, 0, -1), NEGATIVE)
        + _swatches([0], POSITIVE)
        + _swatches(range(1, LEVELS + 1), POSITIVE)
        + f" <span>{scale:+.3g}</span>"
    )
    underline = (
        f' &nbsp; <span style="{UNDERLINE}">underlined</span>: {escape(FEATURES[feature])} (Python\'s tokenizer)'
        if feature
        else ""
    )
    return (
        f'<p class="unit-legend" style="{KEY}">value of {escape(unit)}: <span style="white-space:nowrap">{bar}</span>; '
        f"full colour from ±{scale:.3g}, the 99th percentile of |{escape(unit)}| over all the text searched"
        f"{underline}</p>"
    )


def unit_figure(units: dict, feature: str) -> str:
    """HTML: the excerpt coloured by the best unit for `feature`, with its key, and the ground truth:
    underlined for a 0/1 feature, else a second copy of the excerpt shaded by the feature itself."""
    if feature not in units["excerpt"]["units"]:
        raise ValueError(f"unit_figure: expected a feature in {sorted(units['excerpt']['units'])}, got {feature!r}")
    ex = units["excerpt"]
    u, truth = ex["units"][feature], ex["features"][feature]
    binary = feature in units["binary"]  # 0/1 features: the truth is underlined
    where = f"{len(ex['text'].splitlines())} lines of {ex['file']} from line {ex['first_line']}"
    label = (
        f"{where}, each character shaded by the value of unit {unit_name(u)}, the unit whose value correlates best "
        f"with {FEATURES[feature]} (correlation {u['correlation']:+.2f})"
        + (f"; the characters {FEATURES[feature]} are underlined." if binary else ".")
    )
    html = (
        SHADING_CSS
        + legend_html(u["scale"], feature if binary else None, unit_name(u))
        + "\n"
        + unit_html(ex["text"], u["values"], u["scale"], label, truth if binary else None)
    )
    if binary:
        return html
    top = max(truth)
    key = f'<p class="unit-legend" style="{KEY}">the {escape(FEATURES[feature])} itself: 0 '
    key += _swatches(range(LEVELS + 1), TRUTH) + f" {top:g}"
    truth_label = f"The same {where}, each character shaded by its {FEATURES[feature]}, from 0 to {top:g}."
    return html + "\n" + key + "</p>\n" + truth_html(ex["text"], truth, truth_label)


# -- tables and samples ----------------------------------------------------------------------------


def units_table(units: dict) -> str:
    """Markdown: per feature, the best unit and its correlation, trained and untrained, and the runners-up."""
    untrained = {u["feature"]: u for u in units["untrained"]["best"]}
    rows = [
        "| feature | best unit (trained) | correlation | next best (trained) | best before training |",
        "| --- | ---: | ---: | --- | ---: |",
    ]
    for u in units["trained"]["best"]:
        ranked = units["trained"]["ranked"][u["feature"]]
        nxt = ", ".join(f"`{unit_name(r)}` ({r['correlation']:+.2f})" for r in ranked[1:])
        before = untrained[u["feature"]]
        rows.append(
            f"| {FEATURES[u['feature']]} | `{unit_name(u)}` | {u['correlation']:+.2f} | {nxt} | "
            f"`{unit_name(before)}` ({before['correlation']:+.2f}) |"
        )
    return "\n".join(rows) + "\n"


LONG_SPACES = 40  # a run of this many spaces or more is shown as one marker


def sample_block(sample: dict) -> str:
    """A generated sample as a Markdown code block titled with its temperature and seed. A run of
    `LONG_SPACES` spaces or more shows as one marker, `⟨n spaces⟩`, so the block need not scroll."""
    text = sample["text"].replace("\x00", "\u2400")
    text = re.sub(f" {{{LONG_SPACES},}}", lambda m: f" ⟨{len(m.group())} spaces⟩ ", text)
    fence = "````" if "```" in text else "```"
    return f'{fence}text title="τ = {sample["temperature"]}, seed {sample["seed"]}"\n{text}\n{fence}\n'


def layout(text: str) -> dict:
    """Counts of the layout of a piece of (generated) code, read from the characters alone.

    - `colon_lines`: lines ending in `:` followed by a non-blank line; `deeper`: how many of those
      are followed by a line indented further;
    - `indented`: non-blank lines; `by_four`: those whose indentation is a multiple of 4 spaces;
    - `opened`: brackets opened; `closed`: those closed later by the matching bracket (a stack);
    - `triple_quotes`: occurrences of three double quotes;
    - `longest_spaces`: the longest run of spaces.
    """
    lines = text.split("\n")
    indent = [len(line) - len(line.lstrip(" ")) for line in lines]
    blank = [not line.strip() for line in lines]
    colon = [k for k in range(len(lines) - 1) if lines[k].rstrip().endswith(":") and not blank[k + 1]]
    stack, opened, closed = [], 0, 0
    for ch in text:
        if ch in OPEN:
            stack.append(ch)
            opened += 1
        elif ch in CLOSE and stack and OPEN.index(stack[-1]) == CLOSE.index(ch):
            stack.pop()
            closed += 1
    return {
        "colon_lines": len(colon),
        "deeper": sum(indent[k + 1] > indent[k] for k in colon),
        "lines": sum(not b for b in blank),
        "by_four": sum(i % 4 == 0 for i, b in zip(indent, blank) if not b),
        "opened": opened,
        "closed": closed,
        "triple_quotes": len(re.findall('"""', text)),
        "longest_spaces": max((len(run) for run in re.findall(" +", text)), default=0),
    }


def _samples_layout(units: dict) -> dict:
    """`layout` summed over all samples, their prime left out."""
    total: dict = {}
    for sample in units["samples"]:
        for key, value in layout(sample["text"][len(sample["prime"]) :]).items():
            total[key] = max(total.get(key, 0), value) if key == "longest_spaces" else total.get(key, 0) + value
    return total


# -- facts -----------------------------------------------------------------------------------------


def _num(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}"


def model_facts(text_model: dict | None = None) -> dict:
    """The long run's budget, size, cost and result, as text."""
    from snippets.experiments import TextModelConfig

    result, config = _model(text_model), TextModelConfig()
    bpc = result["val_bpc"]
    chars = config.steps * config.batch_size * config.seq_len
    return {
        "steps": f"{config.steps:,}",
        "lr": f"{config.lr:g}",
        "batch": str(config.batch_size),
        "seq_len": str(config.seq_len),
        "hidden": str(config.hidden_size),
        "eval_every": str(config.eval_every),
        "params": f"{result['n_params']:,}",
        "seed": str(result["seed"]),
        "chars_seen": f"{chars / 1e6:.2f} million",
        "passes": _num(chars / result["train_chars"], 1),
        "train_chars": f"{result['train_chars'] / 1e6:.2f} million",
        "cpu": f"{result['cpu_seconds']:.0f}",
        "wall": f"{result['seconds']:.0f}",
        "final_bpc": _num(bpc[-1]),
        "baseline_bpc": _num(result["baseline_bpc"]),
        "last_change": f"{bpc[-1] - bpc[-3]:+.3f}",
        "still_falling": bool(bpc[-1] < bpc[-3]),
        "last_span": str(result["val_step"][-1] - result["val_step"][-3]),
        "steps_run": f"{result['steps_run']:,}",
    }


def sample_facts(units: dict | None = None) -> dict:
    """The samples' length and their layout counts (`layout`, over all samples), as text."""
    units = _units(units)
    counts = _samples_layout(units)
    return {
        "n": str(len(units["samples"])),
        "chars": str(len(units["samples"][0]["text"]) - len(units["samples"][0]["prime"])),
        "prime": units["samples"][0]["prime"].strip(),
        **{key: str(value) for key, value in counts.items()},
        "long_spaces": counts["longest_spaces"] >= LONG_SPACES,  # whether `sample_block` shows a marker
        "parsed": str(sum(parses(sample["text"]) for sample in units["samples"])),
    }


def parses(text: str) -> bool:
    """Whether `text` is valid Python, as `ast.parse` reads it (a generated sample, for one)."""
    import ast

    try:
        ast.parse(text)
    except (SyntaxError, ValueError):  # ValueError: a null character
        return False
    return True


def excerpt_facts(units: dict | None = None, feature: str = "in_string") -> dict:
    """Where the excerpt comes from, and the mean value of `feature`'s best unit over the excerpt's
    characters inside the feature and outside it (newlines left out), as text."""
    units = _units(units)
    ex = units["excerpt"]
    unit, truth = ex["units"][feature], ex["features"][feature]
    pairs = [(v, t) for v, t, ch in zip(unit["values"], truth, ex["text"]) if ch != "\n"]
    inside = [v for v, t in pairs if t]
    outside = [v for v, t in pairs if not t]
    if not inside or not outside:
        raise ValueError(f"excerpt_facts: expected characters both inside and outside {feature!r} in the excerpt")
    return {
        "file": ex["file"],
        "first_line": str(ex["first_line"]),
        "last_line": str(ex["first_line"] + len(ex["text"].splitlines()) - 1),
        "lines": str(len(ex["text"].splitlines())),
        "unit": unit_name(unit),
        "mean_inside": f"{sum(inside) / len(inside):.1f}",
        "mean_outside": f"{sum(outside) / len(outside):.1f}",
        "higher_inside": sum(inside) / len(inside) > sum(outside) / len(outside),
        "scale": f"{unit['scale']:.3g}",
    }


def search_facts(units: dict | None = None) -> dict:
    """What was searched, and what the search found, as text."""
    units = _units(units)
    trained = {u["feature"]: u for u in units["trained"]["best"]}
    untrained = {u["feature"]: u for u in units["untrained"]["best"]}
    top = max(trained.values(), key=lambda u: abs(u["correlation"]))
    string = units["binary"]["in_string"]
    comment = units["binary"]["in_comment"]
    facts = {
        "traces": str(len(units["traces"]) * units["hidden_size"]),
        "hidden": str(units["hidden_size"]),
        "files": str(len(units["files"])),
        "max_chars": f"{units['max_chars']:,}",
        "chars": f"{units['chars']:,}",
        "top_feature": FEATURES[top["feature"]],
        "top_rho": _num(abs(top["correlation"])),
        "string_unit": unit_name(trained["in_string"]),
        "string_rho": _num(trained["in_string"]["correlation"]),
        "string_auc": _num(string["trained"]["auc"]),
        "string_auc_before": _num(string["untrained"]["auc"]),
        "comment_unit": unit_name(trained["in_comment"]),
        "comment_auc": _num(comment["trained"]["auc"]),
        "comment_auc_before": _num(comment["untrained"]["auc"]),
        "doubled": _names([f for f in trained if _doubles(trained[f], untrained[f])]),
        "not_doubled": _names([f for f in trained if not _doubles(trained[f], untrained[f])]) or "none",
        "n_stronger": str(sum(abs(trained[f]["correlation"]) > abs(untrained[f]["correlation"]) for f in trained)),
        "n_features": str(len(trained)),
        "partial": bool(abs(top["correlation"]) < 0.8),  # no unit near a clean switch: the page says so
    }
    for feature in FEATURES:
        facts[f"rho_{feature}"] = _num(abs(trained[feature]["correlation"]))
        facts[f"rho_{feature}_before"] = _num(abs(untrained[feature]["correlation"]))
    return facts


def _doubles(trained: dict, untrained: dict) -> bool:
    return abs(trained["correlation"]) >= 2 * abs(untrained["correlation"])


def _names(features: list[str]) -> str:
    names = [FEATURES[f] for f in features]
    return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1] if names else ""


# -- claims ----------------------------------------------------------------------------------------


def model_beats_unigram(text_model: dict | None = None) -> Claim:
    """The model's validation bits per character are less than half the unigram model's."""
    result = _model(text_model)
    bpc, base = result["val_bpc"][-1], result["baseline_bpc"]
    return Claim(bpc < base / 2, f"final {bpc:.3f} bits per character, unigram {base:.3f} (half: {base / 2:.3f})")


def ran_its_whole_budget(text_model: dict | None = None) -> Claim:
    """The run did every step of its budget: nothing stopped it early, and it did not diverge."""
    from snippets.experiments import TextModelConfig

    result = _model(text_model)
    steps = TextModelConfig().steps
    holds = result["status"] == "budget" and result["steps_run"] == steps and result["val_step"][-1] == steps
    return Claim(holds, f"status {result['status']!r}, {result['steps_run']} of {steps} steps run")


# -- where the model predicts well -----------------------------------------------------------------

REGION_NAMES = {"code": "code", "in_string": "inside strings", "in_comment": "inside comments"}


def regions_table(units: dict | None = None) -> str:
    """Markdown: per region of the evaluated text, its characters and the bits per character of the
    model and of the unigram model."""
    regions = _units(units)["regions"]
    rows = [
        "| predicted character | characters | LSTM (bits/char) | unigram (bits/char) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for key, r in regions.items():
        rows.append(f"| {REGION_NAMES[key]} | {r['chars']:,} | {r['bpc']:.2f} | {r['unigram_bpc']:.2f} |")
    return "\n".join(rows) + "\n"


def region_facts(units: dict | None = None) -> dict:
    """How many characters the regions hold, and how long the docstrings are, as text."""
    units = _units(units)
    regions, docstrings = units["regions"], units["docstrings"]
    return {
        "chars": f"{sum(r['chars'] for r in regions.values()):,}",
        "docstring_share": f"{docstrings['share_of_string_chars']:.0%}",
        "docstring_median": f"{docstrings['median_chars']:.0f}",
        "docstrings": str(docstrings["count"]),
    }


def strings_are_mostly_docstrings(units: dict | None = None) -> Claim:
    """Most of the evaluated characters inside strings sit in triple-quoted strings (docstrings)."""
    share = _units(units)["docstrings"]["share_of_string_chars"]
    return Claim(share > 0.5, f"{share:.1%} of the string characters")


def code_is_predicted_best(units: dict | None = None) -> Claim:
    """The model predicts characters of code better (fewer bits each) than characters inside strings
    and inside comments."""
    r = _units(units)["regions"]
    holds = r["code"]["bpc"] < min(r["in_string"]["bpc"], r["in_comment"]["bpc"])
    return Claim(holds, "; ".join(f"{REGION_NAMES[k]} {v['bpc']:.3f}" for k, v in r.items()))


def every_region_beats_unigram(units: dict | None = None) -> Claim:
    """In code, in strings and in comments alike, the model needs fewer bits per character than the
    unigram model (character frequencies) by at least a tenth of the unigram's: a margin no
    rounding difference between CPUs can cross."""
    r = _units(units)["regions"]
    holds = all(v["bpc"] < 0.9 * v["unigram_bpc"] for v in r.values())
    return Claim(holds, "; ".join(f"{REGION_NAMES[k]} {v['bpc']:.3f} vs {v['unigram_bpc']:.3f}" for k, v in r.items()))
