r"""The GRU, the coupled-gate LSTM (CIFG) and the peephole LSTM, drawn in the style of the LSTM cell
diagram (`lstm_diagram`): same pen, colours, fonts, boxes and columns, structure only (no numbers).

Every artist carries the name of the part it draws as its label (`Artist.get_label()`), so tests can
ask which parts a diagram has. Labels do not reach the SVG.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch
from matplotlib.path import Path

from snippets.figures import PHONE_WIDTH, theme
from snippets.figures.lstm_diagram import GATE_HEIGHT, GATE_WIDTH, LOOP, PATH, X, Y, _Pen

PEEP = LOOP  # the peephole connections: a second colour, dashed
OP_RADIUS = 0.3  # the circles `_Pen.op` draws
# Inches per data unit on the desktop, about the LSTM diagram's, so the boxes and fonts keep their proportions.
SCALE = 0.66
YLIM = (-0.25, 6.95)

# The GRU's columns: the update gate under the x z on the state path, its 1 - z next to it, the
# candidate, and the reset gate that feeds the candidate on the right.
GRU_X = {"h_prev": 0.75, "z": 2.35, "one_minus": 3.85, "plus": 4.6, "n": 5.35, "r": 7.1, "out": 7.1}


class _PartPen(_Pen):
    """`_Pen` without highlighting, which labels every artist it draws with its part's name."""

    def __init__(self, ax, font: float):
        super().__init__(ax, None, font)

    @contextmanager
    def _part(self, part: str):
        patches, texts = len(self.ax.patches), len(self.ax.texts)
        yield
        for artist in self.ax.patches[patches:] + self.ax.texts[texts:]:
            artist.set_label(part)

    def box(self, part, *args, **kwargs):
        with self._part(part):
            super().box(part, *args, **kwargs)

    def op(self, part, xy, symbol, size=None):
        """`_Pen.op`; `size` replaces its symbol's font size (a two-character symbol needs a smaller one)."""
        with self._part(part):
            super().op(part, xy, symbol)
            if size is not None:
                self.ax.texts[-1].set_fontsize(size)

    def arrow(self, part, *args, **kwargs):
        with self._part(part):
            super().arrow(part, *args, **kwargs)

    def text(self, part, *args, **kwargs):
        with self._part(part):
            super().text(part, *args, **kwargs)

    def wire(self, part, points, color, *, dashed=True, head=True):
        """A line through `points` (a polyline, corners square), with an arrow head at the last one."""
        with self._part(part):
            self.ax.add_patch(
                FancyArrowPatch(
                    path=Path(points),
                    arrowstyle="-|>" if head else "-",
                    mutation_scale=10,
                    color=color,
                    linewidth=1.3,
                    linestyle="--" if dashed else "-",
                    alpha=self.alpha(part),
                )
            )

    def dot(self, part, xy, color):
        """A junction: where one wire branches off another."""
        with self._part(part):
            self.ax.add_patch(Circle(xy, 0.07, facecolor=color, edgecolor="none", alpha=self.alpha(part)))


def _canvas(xmax: float, narrow: bool):
    """A figure with one bare axes of equal aspect from x = -0.05 to `xmax`; the pen draws on it."""
    xlim = (-0.05, xmax)
    span_x, span_y = xlim[1] - xlim[0], YLIM[1] - YLIM[0]
    width = PHONE_WIDTH if narrow else SCALE * span_x
    fig = Figure(figsize=(width, width * span_y / span_x), layout="constrained")
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_xlim(*xlim)
    ax.set_ylim(*YLIM)
    ax.set_aspect("equal")
    return fig, _PartPen(ax, 8.5 if narrow else 11.0)


def _edge(center, toward, radius=OP_RADIUS):
    """The point on the circle around `center` in the direction of `toward`: where an arrow meets an op."""
    dx, dy = toward[0] - center[0], toward[1] - center[1]
    norm = math.hypot(dx, dy)
    return center[0] + radius * dx / norm, center[1] + radius * dy / norm


def _gate(pen, part, x, name, symbol):
    """A gate's box on the gate row, with the arrow from the inputs below it."""
    gates = Y["gates"]
    pen.box(part, (x, gates), f"{name}\n{symbol}", GATE_WIDTH, GATE_HEIGHT)
    pen.arrow(part, (x, Y["inputs"] + 0.35), (x, gates - GATE_HEIGHT / 2))


def _one_minus(pen, gate_x, op_x, mix, symbol):
    """The coupling: the gate at `gate_x` also feeds a 1 - (.) op at `op_x`, which feeds the product at `mix`."""
    gates = Y["gates"]
    pen.op("one_minus", (op_x, gates), "1−", size=pen.font + 0.5)
    pen.arrow("one_minus", (gate_x + GATE_WIDTH / 2, gates), (op_x - OP_RADIUS, gates))
    start, end = _edge((op_x, gates), mix), _edge(mix, (op_x, gates))
    pen.arrow("one_minus", start, end)
    pen.text("one_minus", (start[0] + 0.05, (start[1] + end[1]) / 2 + 0.2), f"$1 - {symbol}$", ha="right", va="center")


def _inputs(pen, left, right, narrow):
    """The box at the bottom: what every gate reads."""
    pen.box(
        "inputs",
        ((left + right) / 2, Y["inputs"]),
        "$h_{t-1}$" + ("   " if narrow else "      ") + "$x_t$",
        right - left + GATE_WIDTH,
        0.7,
        round_=False,
    )


def _lstm_body(pen, narrow: bool, *, coupled: bool):
    """The LSTM cell of `plot_lstm_cell` with symbols for numbers; `coupled`: 1 - f_t in place of the input gate."""
    top, gates = Y["top"], Y["gates"]
    mix = (X["plus"], Y["ig"])
    # the cell-state path
    pen.box("c_prev", (X["c_prev"], top), "$c_{t-1}$", 1.3, 1.0, color=PATH)
    pen.op("times_f", (X["f"], top), "×")
    pen.op("plus", (X["plus"], top), "+")
    pen.box("c", (X["out"], top), "$c_t$", 1.3, 1.0, color=PATH)
    pen.arrow("path_in", (X["c_prev"] + 0.65, top), (X["f"] - 0.3, top), PATH, 2.4)
    pen.arrow("path_mid", (X["f"] + 0.3, top), (X["plus"] - 0.3, top), PATH, 2.4)
    pen.arrow("path_out", (X["plus"] + 0.3, top), (X["out"] - 0.65, top), PATH, 2.4)
    pen.text("fc", ((X["f"] + X["plus"]) / 2 - 0.1, top - 0.3), r"$f_t\,c_{t-1}$", ha="center", va="top")
    # the gates and the candidate
    names = {"f": "forget", "i": "input", "g": "cand.", "o": "output"}
    for key in ("f", "g", "o") if coupled else ("f", "i", "g", "o"):
        _gate(pen, key, X[key], names[key], f"${key}_t$")
    pen.arrow("f", (X["f"], gates + GATE_HEIGHT / 2), (X["f"], top - 0.3))
    pen.op("times_ig", mix, "×")
    if coupled:
        _one_minus(pen, X["f"], X["i"], mix, "f_t")
    else:
        pen.arrow("i", (X["i"], gates + GATE_HEIGHT / 2), _edge(mix, (X["i"], gates + GATE_HEIGHT / 2)))
    pen.arrow("g", (X["g"], gates + GATE_HEIGHT / 2), _edge(mix, (X["g"], gates + GATE_HEIGHT / 2)))
    pen.arrow("times_ig", (X["plus"], Y["ig"] + 0.3), (X["plus"], top - 0.3))
    written = r"$(1 - f_t)\,g_t$" if coupled else r"$i_t\,g_t$"
    pen.text("ig", (X["plus"] + 0.38, (Y["ig"] + top) / 2), written, ha="left", va="center")
    # the output
    pen.box("tanh", (X["out"], Y["tanh"]), "tanh", 1.3, 0.95, round_=False)
    pen.arrow("tanh", (X["out"], top - 0.5), (X["out"], Y["tanh"] + 0.48))
    pen.op("times_o", (X["out"], gates), "×")
    pen.arrow("tanh", (X["out"], Y["tanh"] - 0.48), (X["out"], gates + 0.3))
    pen.arrow("o", (X["o"] + GATE_WIDTH / 2, gates), (X["out"] - 0.3, gates))
    pen.box("h", (X["out"], Y["h"]), "$h_t$", 1.3, 1.0)
    pen.arrow("times_o", (X["out"], gates - 0.3), (X["out"], Y["h"] + 0.5))
    _inputs(pen, X["f"], X["o"], narrow)


def plot_cifg_cell(narrow: bool = False) -> Figure:
    r"""The coupled input-forget gate LSTM (CIFG): the input gate is replaced by $1 - f_t$.

    The LSTM diagram's cell-state path, $c_{t-1} \to \times f_t \to + \, (1 - f_t)\, g_t \to c_t$,
    with the forget gate feeding both the product on the path and, through a $1 - (\cdot)$, the
    product with the candidate; no input-gate box. `narrow`: the phone's figure, `PHONE_WIDTH` wide.
    """
    with theme():
        fig, pen = _canvas(9.1, narrow)
        _lstm_body(pen, narrow, coupled=True)
    return fig


def plot_peephole_cell(narrow: bool = False) -> Figure:
    r"""The LSTM with peephole connections (dashed, second colour): $c_{t-1}$ into $f_t$ and $i_t$, $c_t$ into $o_t$.

    Each peephole is one weight per unit ($p_f$, $p_i$, $p_o$); the output gate reads the new cell
    state, the other two the old one. `narrow`: the phone's figure, `PHONE_WIDTH` wide.
    """
    top, gates = Y["top"], Y["gates"]
    with theme():
        fig, pen = _canvas(9.1, narrow)
        _lstm_body(pen, narrow, coupled=False)
        # c_{t-1} down the left edge into the forget gate; a branch across to the input gate's top
        left, branch = X["c_prev"], 4.2
        pen.wire("peephole_f", [(left, top - 0.5), (left, gates), (X["f"] - GATE_WIDTH / 2, gates)], PEEP)
        into_i = X["i"] - 0.35
        pen.wire("peephole_i", [(left, branch), (into_i, branch), (into_i, gates + GATE_HEIGHT / 2)], PEEP)
        pen.dot("peephole_i", (left, branch), PEEP)
        # c_t from under its box, round the tanh box, down into the output gate's top
        into_o, turn = X["o"] + 0.35, 5.5
        c_left = X["out"] - 0.4
        pen.wire("peephole_o", [(c_left, top - 0.5), (c_left, turn), (into_o, turn), (into_o, gates + 0.5)], PEEP)
        into_f = (left + X["f"] - GATE_WIDTH / 2) / 2
        pen.text("peephole_f", (into_f, gates + 0.08), "$p_f$", ha="center", va="bottom", color=PEEP)
        pen.text("peephole_i", (into_i - 0.1, branch + 0.08), "$p_i$", ha="right", va="bottom", color=PEEP)
        pen.text("peephole_o", (into_o - 0.1, 4.3), "$p_o$", ha="right", va="center", color=PEEP)
    return fig


def plot_gru_cell(narrow: bool = False) -> Figure:
    r"""The GRU in PyTorch's form, drawn like the LSTM cell: the state path along the top.

    $h_{t-1} \to \times z_t \to + \, (1 - z_t)\, n_t \to h_t$; below it the update gate $z_t$
    (feeding the product on the path and, through $1 - (\cdot)$, the product with the candidate),
    the candidate $n_t$ and the reset gate $r_t$, which scales the candidate's recurrent term
    $W_{hn} h_{t-1} + b_{hn}$; all three read $h_{t-1}$ and $x_t$. No cell state, no output gate.
    `narrow`: the phone's figure, `PHONE_WIDTH` wide.
    """
    x = GRU_X
    top, gates = Y["top"], Y["gates"]
    mix = (x["plus"], Y["ig"])
    with theme():
        fig, pen = _canvas(x["out"] + 0.75, narrow)
        # the state path
        pen.box("h_prev", (x["h_prev"], top), "$h_{t-1}$", 1.3, 1.0, color=PATH)
        pen.op("times_z", (x["z"], top), "×")
        pen.op("plus", (x["plus"], top), "+")
        pen.box("h", (x["out"], top), "$h_t$", 1.3, 1.0, color=PATH)
        pen.arrow("path_in", (x["h_prev"] + 0.65, top), (x["z"] - 0.3, top), PATH, 2.4)
        pen.arrow("path_mid", (x["z"] + 0.3, top), (x["plus"] - 0.3, top), PATH, 2.4)
        pen.arrow("path_out", (x["plus"] + 0.3, top), (x["out"] - 0.65, top), PATH, 2.4)
        pen.text("zh", ((x["z"] + x["plus"]) / 2 - 0.1, top - 0.3), r"$z_t\,h_{t-1}$", ha="center", va="top")
        # the gates and the candidate
        _gate(pen, "z", x["z"], "update", "$z_t$")
        _gate(pen, "n", x["n"], "cand.", "$n_t$")
        _gate(pen, "r", x["r"], "reset", "$r_t$")
        pen.arrow("z", (x["z"], gates + GATE_HEIGHT / 2), (x["z"], top - 0.3))
        pen.arrow("r", (x["r"] - GATE_WIDTH / 2, gates), (x["n"] + GATE_WIDTH / 2, gates))
        pen.op("times_zn", mix, "×")
        _one_minus(pen, x["z"], x["one_minus"], mix, "z_t")
        pen.arrow("n", (x["n"], gates + GATE_HEIGHT / 2), _edge(mix, (x["n"], gates + GATE_HEIGHT / 2)))
        pen.arrow("times_zn", (x["plus"], Y["ig"] + 0.3), (x["plus"], top - 0.3))
        pen.text("zn", (x["plus"] + 0.38, (Y["ig"] + top) / 2), r"$(1 - z_t)\,n_t$", ha="left", va="center")
        _inputs(pen, x["z"], x["r"], narrow)
    return fig
