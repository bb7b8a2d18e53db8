"""Figures for the site: one theme for light and dark pages, and inline SVG that follows the palette.

A page prints `svg_html(fig, alt)` from a markdown-exec block with `html="true"`. The SVG is drawn
in black on a transparent background; black becomes `currentColor` and white the page background,
so one figure reads in both of Material's colour schemes. Greys are black with an alpha. The line
colours have a contrast of at least 3:1 against both white and Material's dark (slate) background.
"""

from __future__ import annotations

import hashlib
import io
import re
from contextlib import contextmanager
from html import escape

import matplotlib
import torch
from cycler import cycler
from matplotlib.figure import Figure

# Contrast vs white / vs slate #1e2129: 4.2/3.8, 3.3/4.9, 3.5/4.7, 4.4/3.7, 3.9/4.1.
COLORS = ["#3a7dc9", "#d9711c", "#2a9d5c", "#c74a8a", "#8f6fd1"]
# A second cue besides colour, for readers who cannot tell the colours apart.
LINESTYLES = ["-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1))]

THEME = {
    "axes.prop_cycle": cycler(color=COLORS, linestyle=LINESTYLES),
    "axes.edgecolor": "#000000",
    "axes.labelcolor": "#000000",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#000000",
    "grid.alpha": 0.12,
    "text.color": "#000000",
    "xtick.color": "#000000",
    "ytick.color": "#000000",
    "legend.frameon": False,
    "font.size": 10,
    "font.family": "sans-serif",
    "lines.linewidth": 1.6,
    "figure.dpi": 100,
    # Text stays text (selectable, scales with the page); browsers substitute a sans-serif font.
    "svg.fonttype": "none",
    # Clip-path and marker ids are hashes salted with this: fixed salt, same bytes every build.
    "svg.hashsalt": "snippets",
}


@contextmanager
def theme():
    """Create axes and draw inside this context: matplotlib reads most style settings then."""
    with matplotlib.rc_context(THEME):
        yield


def svg_html(fig: Figure, alt: str, *, name: str | None = None) -> str:
    """Inline SVG text for `fig`, labelled `alt` for screen readers.

    Element ids get a prefix, `name` or else a hash of the SVG and `alt`, so figures can share a
    page. Same figure and alt, same bytes: no date, fixed hash salt.
    """
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError(f"svg_html: expected a non-empty text alternative `alt` describing the figure, got {alt!r}")
    if name is not None and not re.fullmatch(r"[A-Za-z][\w-]*", name):
        raise ValueError(f"svg_html: expected `name` to be an id (a letter, then letters, digits, _ or -), got {name!r}")
    with theme():
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", transparent=True, bbox_inches="tight", metadata={"Date": None})
    svg = _strip_prolog(buffer.getvalue())
    prefix = name or "fig-" + hashlib.sha256((svg + alt).encode()).hexdigest()[:10]
    return _label(_recolor(_prefix_ids(svg, prefix)), alt.strip(), prefix)


def _strip_prolog(svg: str) -> str:
    # The XML declaration, DOCTYPE and RDF metadata are not allowed or not useful inside HTML.
    svg = svg[svg.index("<svg"):]
    return re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.DOTALL)


def _prefix_ids(svg: str, prefix: str) -> str:
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    # Matplotlib's <style> says `*{...}`: inline in HTML that would restyle every SVG on the page.
    return svg.replace("*{stroke-linejoin", f"#{prefix} *{{stroke-linejoin", 1)


def _recolor(svg: str) -> str:
    svg = re.sub(r"#000000\b", "currentColor", svg)
    return re.sub(r"#ffffff\b", "var(--md-default-bg-color)", svg)


def _label(svg: str, alt: str, prefix: str) -> str:
    # Black text carries no fill of its own: fill="currentColor" on the root makes it follow too.
    opening = svg[: svg.index(">") + 1]
    attributes = f' id="{prefix}" class="snippets-figure" role="img" aria-label="{escape(alt)}" fill="currentColor"'
    labelled = opening[:-1] + attributes + ">" + f"\n <title>{escape(alt, quote=False)}</title>"
    return labelled + svg[len(opening):]


# --- The LSTM cell page -------------------------------------------------------------------------

LSTM_PANELS = [  # (trace key, label, y range); "x" is the input
    ("x", "input\n$x_t$", None),
    ("i", "input gate\n$i_t$", (0, 1)),
    ("f", "forget gate\n$f_t$", (0, 1)),
    ("g", "candidate\n$g_t$", (-1, 1)),
    ("o", "output gate\n$o_t$", (0, 1)),
    ("c", "cell state\n$c_t$", None),
]


def pulse_input(steps: int = 30, pulses: dict[int, float] | None = None) -> torch.Tensor:
    """A (steps, 1, 1) input that is zero except at the given steps: {step: value}."""
    pulses = {3: 1.0, 4: 1.0, 16: -1.0, 17: -1.0} if pulses is None else pulses
    if any(not 0 <= t < steps for t in pulses):
        raise ValueError(f"pulse_input: expected pulse steps in [0, {steps}), got {sorted(pulses)}")
    x = torch.zeros(steps, 1, 1)
    for t, value in pulses.items():
        x[t] = value
    return x


def lstm_gate_traces(x: torch.Tensor, hidden_size: int = 3, seed: int = 0, init_bound: float = 2.0,
                     forget_bias: float = 0.0):
    """Gate traces of a seeded, untrained `snippets.LSTM(1, hidden_size)` on `x` (steps, 1, 1).

    Weights are drawn from U(-init_bound, init_bound) rather than torch.nn's U(-1/sqrt(H), 1/sqrt(H)),
    whose small weights keep every gate near 1/2; `forget_bias` is then added to the forget gate's
    input bias (rows H:2H, gate order i, f, g, o). Returns {key: array (steps, hidden_size)} for the
    keys "i", "f", "g", "o", "c", "h": layer 0, the only direction, batch element 0.
    """
    from snippets import LSTM  # here, not at the top: snippets/__init__ may import this module one day

    torch.manual_seed(seed)
    model = LSTM(1, hidden_size)
    with torch.no_grad():
        for weight in model.parameters():
            weight.uniform_(-init_bound, init_bound)
        model.bias_ih_l0[hidden_size:2 * hidden_size] += forget_bias
        _, _, trace = model(x, return_gates=True)
    return {key: value[0, 0, :, 0, :].numpy() for key, value in trace.items()}


def plot_lstm_gates(x: torch.Tensor, trace: dict) -> Figure:
    """One panel per gate (and the input, and the cell state) over time; one line per unit."""
    steps, units = trace["c"].shape
    active = [t for t in range(steps) if x[t].abs().sum() > 0]
    with theme():
        fig = Figure(figsize=(7, 7.5), layout="constrained")
        axes = fig.subplots(len(LSTM_PANELS), 1, sharex=True)
        for ax, (key, label, limits) in zip(axes, LSTM_PANELS):
            for t in active:  # shade the steps where the input is non-zero
                ax.axvspan(t - 0.5, t + 0.5, color="#000000", alpha=0.07, linewidth=0)
            if key == "x":
                ax.step(range(steps), x[:, 0, 0].numpy(), where="mid", color="#000000")
            else:
                for unit in range(units):
                    ax.plot(range(steps), trace[key][:, unit], label=f"unit {unit + 1}")
            if limits:
                ax.set_ylim(limits[0] - 0.05, limits[1] + 0.05)
                ax.set_yticks([limits[0], (limits[0] + limits[1]) / 2, limits[1]])
            ax.set_ylabel(label, rotation=0, ha="right", va="center")
        axes[1].legend(ncols=units, loc="lower left", bbox_to_anchor=(0, 1.02), borderaxespad=0)
        axes[-1].set_xlabel("time step $t$")
    return fig


def lstm_gates_figure(seed: int = 0, hidden_size: int = 3, forget_bias: float = 0.0) -> Figure:
    """The figure on the LSTM cell page: `plot_lstm_gates` of a pulse input through a seeded LSTM."""
    x = pulse_input()
    return plot_lstm_gates(x, lstm_gate_traces(x, hidden_size=hidden_size, seed=seed, forget_bias=forget_bias))
