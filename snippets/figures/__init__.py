"""What the pages compute from the experiments' results: figures, tables, facts and claims.

One module per page. Its functions return a figure (`svg_html` turns it into inline SVG), a
Markdown table, a dict of *facts* (the numbers a page's sentences print, through the `facts`
macro of `snippets.site.macros`), or a `Claim`: a statement the page makes in its own words,
checked on the data by the build that renders it (the `claim` macro), with the evidence in numbers.
No sentence of a page is written here.

Figures: one theme for light and dark pages, and inline SVG that follows the palette.

A page prints `svg_html(fig, alt)` from a markdown-exec block with `html="true"`. The SVG is drawn
in black on a transparent background; black becomes `currentColor` and white the page background,
so one figure reads in both of Material's colour schemes. Greys are black with an alpha. The line
colours have a contrast of at least 3:1 against both white and Material's dark (slate) background.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import re
from contextlib import contextmanager
from html import escape
from typing import NamedTuple

try:
    import matplotlib
except ImportError:  # the library installs without the site's toolchain
    raise ImportError(
        "snippets.figures draws with matplotlib, which is part of the site's extra: pip install 'snippets[site]'"
    ) from None
from cycler import cycler
from matplotlib.figure import Figure
from matplotlib.mathtext import MathTextParser

from snippets.figures import svg_cache

# Matplotlib caches parsed formulas (tick labels such as 10^{-2} are formulas) per parser, and every
# renderer, so every saved figure, makes a new parser: each figure parsed its labels afresh, a fifth
# of a cold build's drawing time. One cache for all parsers of an output type (they are alike:
# their state is the class's) parses each formula once.
_parse_formula = getattr(MathTextParser._parse_cached, "__wrapped__", None)
if _parse_formula is not None:
    _PARSERS = {"vector": MathTextParser("path"), "raster": MathTextParser("agg")}

    @functools.lru_cache(maxsize=4096)
    def _parsed(output, s, dpi, prop, antialiased, flags):
        return _parse_formula(_PARSERS[output], s, dpi, prop, antialiased, flags)

    MathTextParser._parse_cached = lambda self, *key: _parsed(self._output_type, *key)


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
    # Written into every text element of the SVG: a short list (matplotlib lays out with DejaVu Sans,
    # which it ships; the browser takes the first font it has).
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "lines.linewidth": 1.6,
    "figure.dpi": 100,
    # Text stays text (selectable, scales with the page); browsers substitute a sans-serif font.
    "svg.fonttype": "none",
    # Clip-path and marker ids are hashes salted with this: fixed salt, same bytes every build.
    "svg.hashsalt": "snippets",
}


# A phone's column: 390 px less Material's margins is about 358 px, 268 pt; figures are saved at
# their size in inches, 72 pt each, and `bbox_inches="tight"` may add a little.
PHONE_WIDTH = 3.6


class Claim(NamedTuple):
    """A page's statement, checked: whether it `holds` on the data, and the `evidence` in numbers."""

    holds: bool
    evidence: str


@contextmanager
def theme():
    """Create axes and draw inside this context: matplotlib reads most style settings then."""
    with matplotlib.rc_context(THEME):
        yield


def svg_html(fig: Figure, alt: str, *, name: str | None = None, narrow: Figure | None = None) -> str:
    """Inline SVG text for `fig`, labelled `alt` for screen readers.

    Element ids get a prefix, `name` or else a hash of the SVG and `alt`, so figures can share a
    page. Same figure and alt, same bytes: no date, fixed hash salt.

    `narrow`, if given, is the same figure drawn for a phone (at most `PHONE_WIDTH` inches wide:
    panels stacked, legend on top). Both go into the page; the site's CSS shows the one that fits
    the screen (below 600 px, the narrow one), so no figure needs to scroll sideways.
    """
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError(f"svg_html: expected a non-empty text alternative `alt` describing the figure, got {alt!r}")
    if name is not None and not re.fullmatch(r"[A-Za-z][\w-]*", name):
        raise ValueError(
            f"svg_html: expected `name` to be an id (a letter, then letters, digits, _ or -), got {name!r}"
        )
    wide = _finish(_one_svg(fig, alt, name), alt, name)
    if narrow is None:
        return wide
    width = narrow.get_size_inches()[0]
    if width > PHONE_WIDTH + 1e-9:
        raise ValueError(f"svg_html: expected the narrow figure at most {PHONE_WIDTH} in wide, got {width:.2f} in")
    narrow_name = None if name is None else f"{name}-narrow"
    small = _finish(_one_svg(narrow, alt, narrow_name), alt, narrow_name)
    return (
        f'<div class="snippets-figure-pair"><div class="snippets-figure-wide">{wide}</div>'
        f'<div class="snippets-figure-narrow">{small}</div></div>'
    )


def _one_svg(fig: Figure, alt: str, name: str | None) -> str:
    """The SVG of `fig`, from the figure cache when the same figure was saved before (`svg_cache`)."""
    return svg_cache.get(fig, lambda: _render(fig), alt, name)


def _render(fig: Figure) -> str:
    with theme():
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", transparent=True, bbox_inches="tight", metadata={"Date": None})
    return _compact(_strip_prolog(buffer.getvalue()))


_GEOMETRY = re.compile(r'\b(d|x|y|x1|x2|y1|y2|width|height|transform|points|viewBox)="([^"]*)"')
_DECIMAL = re.compile(r"-?\d+\.\d+")


def _compact(svg: str) -> str:
    """Coordinates to 0.1 pt (a seventh of a pixel: invisible), a path on one line, "L" said once.

    Matplotlib writes six decimals and a line per vertex; a page of curves with confidence bands,
    each drawn twice (desktop and phone), would weigh megabytes.
    """

    def tenth(number: re.Match) -> str:
        text = f"{float(number.group()):.1f}"
        return text[:-2] if text.endswith(".0") else text

    def attribute(match: re.Match) -> str:
        if match.group(1) == "d":
            return f'd="{_lines_once(_DECIMAL.sub(tenth, _simplified(match.group(2))))}"'
        return f'{match.group(1)}="{_DECIMAL.sub(tenth, match.group(2))}"'

    svg = _GEOMETRY.sub(attribute, svg)
    referenced = set(re.findall(r'(?:href="#|url\(#)([^")]+)', svg))
    svg = re.sub(r'<g id="([^"]+)"', lambda m: m.group() if m.group(1) in referenced else "<g", svg)
    # Indentation before shapes and groups is no text; before <text> and <tspan> it could be.
    return _GROUP_TAG.sub(_unwrap_plain_groups(), _INDENT.sub("", svg))


_INDENT = re.compile(r"\n\s*(?=</?(?:g|path|use|defs|clipPath|rect)\b)")
_GROUP_TAG = re.compile(r"<g>|<g\s|</g>")


def _unwrap_plain_groups():
    """A `_GROUP_TAG.sub` callback that drops each `<g>` without attributes and its closing tag
    (such a group changes nothing; matplotlib nests one per artist and per tick)."""
    kept: list[bool] = []

    def replace(match: re.Match) -> str:
        tag = match.group()
        if tag == "</g>":
            return tag if kept.pop() else ""
        kept.append(tag != "<g>")
        return tag if kept[-1] else ""

    return replace


_PATH_TOKEN = re.compile(r"[A-Za-z]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
TOLERANCE = 0.25  # pt: a third of a pixel; a vertex nearer than this to the line through its neighbours goes


def _simplified(path: str) -> str:
    """A path of straight segments (M, L, z only) with the vertices that change nothing drawn left out.

    Ramer-Douglas-Peucker at `TOLERANCE`: a curve that is a straight line on its axes (a decay on a
    log scale) needs its two ends only. Paths with curves (markers, circles) are left as they are.
    """
    tokens = _PATH_TOKEN.findall(path)
    if any(t.isalpha() and t not in "MLzZ" for t in tokens):
        return path
    out, points, closed = [], [], False

    def flush():
        if points:
            kept = _rdp(points)
            out.append("M " + " L ".join(f"{x!r} {y!r}" for x, y in kept) + (" z" if closed else ""))

    numbers = []
    for token in tokens + ["M"]:
        if token in ("M", "z", "Z"):
            points.extend(zip(numbers[0::2], numbers[1::2]))
            numbers = []
            if token == "M":
                flush()
                points, closed = [], False
            else:
                closed = True
        elif token != "L":
            numbers.append(float(token))
    return " ".join(out)


def _rdp(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Ramer-Douglas-Peucker: the vertices of `points` that lie farther than `TOLERANCE` from a simpler line."""
    if len(points) < 3:
        return points
    keep, stack = {0, len(points) - 1}, [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x0, y0), (x1, y1) = points[first], points[last]
        length = math.hypot(x1 - x0, y1 - y0)
        farthest, index = 0.0, None
        for k in range(first + 1, last):
            x, y = points[k]
            if length:
                distance = abs((x1 - x0) * (y0 - y) - (x0 - x) * (y1 - y0)) / length
            else:
                distance = math.hypot(x - x0, y - y0)
            if distance > farthest:
                farthest, index = distance, k
        if index is not None and farthest > TOLERANCE:
            keep.add(index)
            stack += [(first, index), (index, last)]
    return [points[k] for k in sorted(keep)]


def _lines_once(path: str) -> str:
    """Path data with every "L" that follows an M or L dropped: SVG repeats the last command by itself
    (after an M, further pairs are lines too). After C, Q and the rest an L is kept."""
    out, previous = [], None
    for token in path.split():
        if token == "L" and previous in ("M", "L"):
            continue
        if token.isalpha():
            previous = "L" if token == "M" else token
        out.append(token)
    return " ".join(out)


def _finish(svg: str, alt: str, name: str | None) -> str:
    prefix = name or "fig-" + hashlib.sha256((svg + alt).encode()).hexdigest()[:10]
    return _label(_style_classes(_recolor(_prefix_ids(svg, prefix)), prefix), alt.strip(), prefix)


def _strip_prolog(svg: str) -> str:
    # The XML declaration, DOCTYPE and RDF metadata are not allowed or not useful inside HTML.
    svg = svg[svg.index("<svg") :]
    return re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.DOTALL)


def _prefix_ids(svg: str, prefix: str) -> str:
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    # Matplotlib's <style> says `*{...}`: inline in HTML that would restyle every SVG on the page.
    return svg.replace("*{stroke-linejoin", f"#{prefix} *{{stroke-linejoin", 1)


def _style_classes(svg: str, prefix: str) -> str:
    """Each distinct `style` attribute becomes a class, its rule said once in the figure's own
    `<style>`, scoped by the figure's id (which outranks Material's rules, as the inline style
    did). Matplotlib repeats the same style on every tick, grid line and curve: a third of a
    page's weight."""
    if 'class="' in svg or "</style>" not in svg:
        return svg
    classes: dict[str, str] = {}

    def to_class(match: re.Match) -> str:
        return f' class="{classes.setdefault(match.group(1), f"s{len(classes)}")}"'

    svg = re.sub(r' style="([^"]*)"', to_class, svg)
    rules = "".join(f"#{prefix} .{name}{{{style}}}" for style, name in classes.items())
    return svg.replace("</style>", rules + "</style>", 1)


def _recolor(svg: str) -> str:
    svg = re.sub(r"#000000\b", "currentColor", svg)
    return re.sub(r"#ffffff\b", "var(--md-default-bg-color)", svg)


def _label(svg: str, alt: str, prefix: str) -> str:
    # Black text carries no fill of its own: fill="currentColor" on the root makes it follow too.
    opening = svg[: svg.index(">") + 1]
    # data-search-exclude: tick labels and legends are not text to search (Material's search plugin).
    attributes = (
        f' id="{prefix}" class="snippets-figure" role="img" aria-label="{escape(alt)}" fill="currentColor"'
        ' data-search-exclude=""'
    )
    labelled = opening[:-1] + attributes + ">" + f"\n <title>{escape(alt, quote=False)}</title>"
    return labelled + svg[len(opening) :]
