r"""The LSTM cell drawn as a diagram: one step with real numbers, its four stages highlighted in turn,
and the backward pass through time next to the tanh RNN's.

One geometry serves the desktop and the phone figure; the phone one has shorter labels and a
smaller font (at its own size, 3.6 in, 8.5 pt is about 11 px).
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from snippets.figures import COLORS, PHONE_WIDTH, theme

PATH = COLORS[0]  # the cell-state path, forward and backward
LOOP = COLORS[1]  # the loop through h_{t-1}

# Which parts of the drawing belong to each stage of a step (the page walks through them in order).
STAGES = {
    "forget": {"c_prev", "times_f", "f", "inputs", "fc", "path_in"},
    "write": {"i", "g", "times_ig", "inputs", "ig"},
    "update": {"c_prev", "times_f", "plus", "c", "fc", "ig", "path_in", "path_mid", "path_out", "times_ig"},
    "read": {"c", "tanh", "o", "times_o", "h", "inputs"},
}

# x positions of the columns and y positions of the rows, in data units
X = {"c_prev": 0.75, "f": 2.35, "i": 3.85, "plus": 4.6, "g": 5.35, "o": 6.85, "out": 8.35}
Y = {"top": 6.3, "ig": 4.75, "tanh": 4.75, "gates": 3.1, "h": 1.35, "inputs": 0.3}
GATE_WIDTH, GATE_HEIGHT = 1.34, 1.0


class _Pen:
    """Draws one element at full strength or faded, depending on the highlighted stage."""

    def __init__(self, ax, highlight: str | None, font: float):
        if highlight is not None and highlight not in STAGES:
            raise ValueError(f"plot_lstm_cell: expected highlight one of {sorted(STAGES)} or None, got {highlight!r}")
        self.ax, self.font = ax, font
        self.active = None if highlight is None else STAGES[highlight]

    def alpha(self, part: str) -> float:
        return 1.0 if self.active is None or part in self.active else 0.22

    def box(self, part, xy, text, width, height, *, color="#000000", round_=True, size=None):
        x, y = xy
        style = "round,pad=0.02,rounding_size=0.15" if round_ else "square,pad=0.02"
        alpha = self.alpha(part)
        self.ax.add_patch(
            FancyBboxPatch(
                (x - width / 2, y - height / 2),
                width,
                height,
                boxstyle=style,
                facecolor="none",
                edgecolor=color,
                linewidth=2.0 if alpha == 1 and self.active else 1.3,
                alpha=alpha,
            )
        )
        self.ax.text(x, y, text, ha="center", va="center", fontsize=size or self.font, color=color, alpha=alpha)

    def op(self, part, xy, symbol):
        self.ax.add_patch(Circle(xy, 0.3, facecolor="none", edgecolor="#000000", linewidth=1.3, alpha=self.alpha(part)))
        self.ax.text(*xy, symbol, ha="center", va="center", fontsize=self.font + 2, alpha=self.alpha(part))

    def arrow(self, part, start, end, color="#000000", width=1.3, style="-|>", **kwargs):
        self.ax.add_patch(
            FancyArrowPatch(
                start,
                end,
                arrowstyle=style,
                mutation_scale=10,
                color=color,
                linewidth=width,
                shrinkA=0,
                shrinkB=0,
                alpha=self.alpha(part),
                **kwargs,
            )
        )

    def text(self, part, xy, text, **kwargs):
        self.ax.text(*xy, text, fontsize=self.font, alpha=self.alpha(part), **kwargs)


def plot_lstm_cell(values: dict, highlight: str | None = None, narrow: bool = False) -> Figure:
    r"""The LSTM cell as a diagram, with the numbers of one real step written in.

    The cell-state path runs along the top, $c_{t-1} \to \times f_t \to + \, i_t g_t \to c_t$
    (drawn heavier: the path along which the gradient meets only the forget gate); the gates
    sit below it, fed by $h_{t-1}$ and $x_t$; on the right $h_t = o_t \tanh(c_t)$. `highlight`
    (`"forget"`, `"write"`, `"update"` or `"read"`) draws that stage's parts and fades the rest.
    `narrow`: the phone's figure, `PHONE_WIDTH` wide, with short labels.

    `values`: the gates and states (`lstm.lstm_step_values`); `"h_prev"` is the whole previous
    hidden state (printed in full up to 3 units, else as its size), `"x"` the
    input (a number or a list); `"title"`, if given, names the network in the desktop heading.
    """
    v = values
    fmt = "{:+.2f}".format
    font = 8.5 if narrow else 11.0
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 3.25) if narrow else (6.9, 6.2 * 0.8), layout="constrained")
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.set_xlim(-0.05, 9.1)
        ax.set_ylim(-0.25, 7.1)
        ax.set_aspect("equal")
        pen = _Pen(ax, highlight, font)
        top, gates = Y["top"], Y["gates"]
        # the cell-state path
        pen.box("c_prev", (X["c_prev"], top), f"$c_{{t-1}}$\n{fmt(v['c_prev'])}", 1.3, 1.0, color=PATH)
        pen.op("times_f", (X["f"], top), "×")
        pen.op("plus", (X["plus"], top), "+")
        pen.box("c", (X["out"], top), f"$c_t$\n{fmt(v['c'])}", 1.3, 1.0, color=PATH)
        pen.arrow("path_in", (X["c_prev"] + 0.65, top), (X["f"] - 0.3, top), PATH, 2.4)
        pen.arrow("path_mid", (X["f"] + 0.3, top), (X["plus"] - 0.3, top), PATH, 2.4)
        pen.arrow("path_out", (X["plus"] + 0.3, top), (X["out"] - 0.65, top), PATH, 2.4)
        pen.text(
            "fc", ((X["f"] + X["plus"]) / 2 - 0.1, top - 0.3), f"$f_t c_{{t-1}}$\n{fmt(v['fc'])}", ha="center", va="top"
        )
        # the gates, each reading h_{t-1} and x_t
        names = {"f": "forget", "i": "input", "g": "cand.", "o": "output"}
        for key in ("f", "i", "g", "o"):
            label = f"${key}_t$" if narrow else f"{names[key]} ${key}_t$"
            pen.box(key, (X[key], gates), f"{label}\n{fmt(v[key])}", GATE_WIDTH, GATE_HEIGHT)
            pen.arrow(key, (X[key], Y["inputs"] + 0.35), (X[key], gates - GATE_HEIGHT / 2))
        pen.arrow("f", (X["f"], gates + GATE_HEIGHT / 2), (X["f"], top - 0.3))
        pen.op("times_ig", (X["plus"], Y["ig"]), "×")
        pen.arrow("i", (X["i"], gates + GATE_HEIGHT / 2), (X["plus"] - 0.22, Y["ig"] - 0.22))
        pen.arrow("g", (X["g"], gates + GATE_HEIGHT / 2), (X["plus"] + 0.22, Y["ig"] - 0.22))
        pen.arrow("times_ig", (X["plus"], Y["ig"] + 0.3), (X["plus"], top - 0.3))
        pen.text("ig", (X["plus"] + 0.38, (Y["ig"] + top) / 2), f"$i_t g_t$\n{fmt(v['ig'])}", ha="left", va="center")
        # the output
        pen.box("tanh", (X["out"], Y["tanh"]), f"tanh $c_t$\n{fmt(v['tanh_c'])}", 1.3, 0.95, round_=False)
        pen.arrow("tanh", (X["out"], top - 0.5), (X["out"], Y["tanh"] + 0.48))
        pen.op("times_o", (X["out"], gates), "×")
        pen.arrow("tanh", (X["out"], Y["tanh"] - 0.48), (X["out"], gates + 0.3))
        pen.arrow("o", (X["o"] + GATE_WIDTH / 2, gates), (X["out"] - 0.3, gates))
        pen.box("h", (X["out"], Y["h"]), f"$h_t$\n{fmt(v['h'])}", 1.3, 1.0)
        pen.arrow("times_o", (X["out"], gates - 0.3), (X["out"], Y["h"] + 0.5))
        # the inputs every gate sees: the whole previous hidden state (summed up if long) and the input
        h_prev, x = v["h_prev"], v["x"] if isinstance(v["x"], (list, tuple)) else [v["x"]]
        if len(h_prev) <= 3:
            h_text = "$h_{t-1}$ = (" + ", ".join(f"{h:+.2f}" for h in h_prev) + ")"
        else:
            h_text = f"$h_{{t-1}}$: {len(h_prev)} values"
        x_text = "$x_t$ = " + (
            fmt(x[0]) if len(x) == 1 else "(" + ", ".join(f"{u:.2f}".rstrip("0").rstrip(".") for u in x) + ")"
        )
        pen.box(
            "inputs",
            ((X["f"] + X["o"]) / 2, Y["inputs"]),
            h_text + ("\n" if narrow else "    ") + x_text,
            X["o"] - X["f"] + GATE_WIDTH,
            0.95 if narrow else 0.7,
            round_=False,
        )
        where = f"step $t$ = {v['step']}, unit {v['unit']}"
        if not narrow and v.get("title"):
            where = f"unit {v['unit']} of {v['title']}, step $t$ = {v['step']}"
        ax.text(-0.05, 6.95, where, ha="left", va="center", fontsize=font - 1, alpha=0.75)
    return fig


def _cell_chain(pen, ax, y, gap, font, loop: str) -> None:
    r"""Three cell-state gradients $\delta c_{t-2}, \delta c_{t-1}, \delta c_t$ at height `y`, joined
    right to left by $\times f$ (the highway); `loop`: the route out of the cell through the gates and
    $h$ and back in, drawn (`"drawn"`), drawn faint and crossed out (`"cut"`), or left out (`"none"`)."""
    for k, label in enumerate(("t-2", "t-1", "t")):
        pen.box("c", (k * gap, y), rf"$\delta c_{{{label}}}$", 1.25, 0.8, color=PATH)
    for k, step in ((1, "t-1"), (2, "t")):
        right, left = k * gap - 0.62, (k - 1) * gap + 0.62
        pen.arrow("path", (right, y), (left, y), PATH, 2.4)
        ax.text((right + left) / 2, y + 0.12, rf"$\times f_{{{step}}}$", ha="center", va="bottom", fontsize=font)
        if loop == "none":
            continue
        # the loop: out of the cell at step `step` through the gates, into h_{step-1}, back into the cell
        alpha = 1.0 if loop == "drawn" else 0.3
        ax.add_patch(
            FancyArrowPatch(
                (k * gap - 0.2, y - 0.4),
                ((k - 1) * gap + 0.2, y - 0.4),
                arrowstyle="-|>",
                mutation_scale=10,
                color=LOOP,
                linewidth=1.3,
                linestyle="--",
                connectionstyle="arc3,rad=-0.45",
                shrinkA=0,
                shrinkB=0,
                alpha=alpha,
            )
        )
        middle = ((k - 0.5) * gap, y - 0.4 - 0.5 * 0.45 * (gap - 0.4))  # the arc's lowest point
        via = r"via the gates and $h_{%s}$" % ("t-2" if k == 1 else "t-1")
        ax.text(middle[0], middle[1] - 0.12, via, ha="center", va="top", fontsize=font - 1.5, color=LOOP, alpha=alpha)
        if loop == "cut":
            ax.text(*middle, "✕", ha="center", va="center", fontsize=font + 4, color=LOOP)


def plot_backward_paths(narrow: bool = False, below: str = "rnn") -> Figure:
    r"""Back through time: the LSTM's gradient along the cell, $\times f_t$ per step, and the loop.

    Top: $\delta c_{t-1} = f_t\, \delta c_t + \dots$, the highway, and (dashed) the loop out of the
    cell through $h_{t-1}$ and the gates back into it. Below it, `below="rnn"`: the tanh RNN, where
    every step multiplies by $W_{hh}^\top \operatorname{diag}(1 - h_t^2)$; `below="truncated"`: the
    1997 LSTM's truncated gradient, the same highway with the loop cut.
    """
    if below not in ("rnn", "truncated"):
        raise ValueError(f"plot_backward_paths: expected below 'rnn' or 'truncated', got {below!r}")
    font = 8.5 if narrow else 11.0
    gap = 3.0 if narrow else 4.2
    with theme():
        low = 0.2 if below == "rnn" else -0.05
        width = PHONE_WIDTH if narrow else 6.9
        height = 3.3 if narrow and below == "rnn" else 3.6 if below == "rnn" else width * (5.9 - low) / (2 * gap + 1.8)
        fig = Figure(figsize=(width, height), layout="constrained")
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.set_xlim(-0.9, 2 * gap + 0.9)
        ax.set_ylim(low, 5.9)
        ax.set_aspect("equal")
        pen = _Pen(ax, None, font)
        top, bottom = 4.6, 0.9 if below == "rnn" else 1.6
        title = "LSTM: along the cell state" if below == "rnn" else "full gradient: the cell state and the loop"
        ax.text(-0.9, 5.65, title, fontsize=font, ha="left", color=PATH)
        _cell_chain(pen, ax, top, gap, font, "drawn")
        if below == "truncated":
            ax.text(-0.9, 2.45, "1997, truncated: the loop cut", fontsize=font, ha="left", color=PATH)
            _cell_chain(pen, ax, bottom, gap, font, "cut")
            return fig
        ax.text(-0.9, 2.45, "tanh RNN: along the hidden state", fontsize=font, ha="left")
        for k, label in enumerate(("t-2", "t-1", "t")):
            pen.box("h", (k * gap, bottom), rf"$\delta h_{{{label}}}$", 1.25, 0.8)
        for k, step in ((1, "t-1"), (2, "t")):
            right, left = k * gap - 0.62, (k - 1) * gap + 0.62
            pen.arrow("path", (right, bottom), (left, bottom), "#000000", 1.6)
            ax.text(
                (right + left) / 2,
                bottom + 0.12,
                r"$\times W_{hh}^\top$" + "\n" + rf"$\mathrm{{diag}}(1 - h_{{{step}}}^2)$",
                ha="center",
                va="bottom",
                fontsize=font - 1,
            )
    return fig
