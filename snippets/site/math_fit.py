"""Display equations that fit their column: a width estimate, and rows where one line is too long.

Browsers draw MathML without line breaks, so a long display equation runs past its column. At
build time we estimate how wide each display equation is, in em of its own font size
(`width_em`), from the MathML alone. The site's CSS (docs/stylesheets/extra.css) then sets its
font size to

    font-size = clamp(floor, column width / width_em, natural size)

with container query units: the equation shrinks to its column, never below a legible floor
(0.65rem, 13 px). Where that is not enough, `fit_display` breaks the equation into rows, as an
author would in TeX: statements separated by `\\quad` go on rows of their own, aligned at their
first relation (=, <=, ...); an `align*` row's `&& \\text{...}` note goes under it; a right side
still too long continues on the next row, led by a `+`, `-` or relation. Equations too wide for a
phone's column get a second, narrower layout; the CSS shows one of the two, as it does for the
figures drawn twice (`snippets.figures.svg_html(..., narrow=...)`).

The estimate follows MathML Core's layout: token widths measured in Chromium with its default math
font (DejaVu Math TeX Gyre, wider than most), operator spacing from the operator dictionary
(relations 5/18 em on each side, binary operators 4/18 em, ...), scripts at 80 % of their base.
It is a guess, usually within a tenth of the drawn width; the CSS keeps a scroll box, with a
visible cue at its edge, for what still does not fit.
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

MATHML = "http://www.w3.org/1998/Math/MathML"
ET.register_namespace("", MATHML)

# Column widths in em of a display equation's natural size (1.25 x the body text: 20 px).
DESKTOP_EM = 32.8  # the 688 px column at 1280 px, less Material's 0.8rem of padding on each side
PHONE_EM = 17.9  # a 390 px phone's 358 px column
# An equation gets rows where fitting it on one line would take it below 80 % of its size (16 px):
# on a desktop, rows that fit at full size; on a phone, rows that fit at 90 %.
SHRINK = 0.8
DESKTOP_ROWS_EM = DESKTOP_EM
PHONE_ROWS_EM = PHONE_EM / 0.9

SCRIPT = 0.8  # sub- and superscripts, and fractions inside fractions, at 80 % (DejaVu Math's MATH table)
SCRIPT_GAP = 0.04  # the space after a script
FRACTION_PAD = 0.1
RADICAL = 0.65

# Italic letters (mi), in em, as Chromium draws them; other characters by class below.
_LETTERS = dict(
    zip(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        [0.66, 0.69, 0.66, 0.74, 0.67, 0.74, 0.72, 0.63, 0.38, 0.56, 0.67, 0.4, 0.97, 0.66, 0.68, 0.73, 0.66]
        + [0.62, 0.63, 0.51, 0.67, 0.68, 0.94, 0.71, 0.77, 0.7, 0.91, 0.86, 0.86, 0.93, 0.89, 0.9, 0.87]
        + [1.06, 0.59, 0.78, 0.97, 0.78, 1.22, 1.08, 0.89, 0.85, 0.89, 0.89, 0.77, 0.84, 0.92, 0.92, 1.19]
        + [0.97, 0.85, 0.9],
        strict=True,
    )
)
_LETTER = 0.75  # a Greek or other letter
_UPRIGHT = 0.57  # per character of a multi-letter identifier (tanh, diag)
_TEXT = 0.53  # per character of \text{...}
_DIGIT = 0.64
_NARROW_GLYPHS = {",": 0.32, ".": 0.32, "·": 0.32, ":": 0.34, ";": 0.34, "|": 0.34, "/": 0.34, "′": 0.23, "!": 0.4}
_GLYPHS = {"(": 0.5, ")": 0.5, "[": 0.5, "]": 0.5, "{": 0.75, "}": 0.75, "‖": 0.5, "∣": 0.5, "∂": 0.52}
_GLYPHS |= {"∑": 0.95, "∏": 0.76, "∫": 0.52, "…": 1.0, "⋯": 1.0, "⊤": 0.87, "∈": 0.87, "~": 0.5, "^": 0.5}
_OPERATOR = 0.84  # =, +, arrows, relations

# Space on each side of an infix operator (MathML Core's operator dictionary, in em).
_RELATIONS = set("=<>≤≥≈≡∼∝∈∉→←↦⇒⇔∣:≔≠")
_BINARY = set("+−-×±∓")
_THIN_BINARY = set("⊙·∗∘⋅")
_LARGE = set("∑∏∫")


def _spacing(text: str, form: str) -> float:
    if text in _LARGE:
        return 2 / 6
    if form == "prefix" and text in _BINARY:
        return 0.0
    if text in _RELATIONS:
        return 2 * 5 / 18
    if text in _BINARY:
        return 2 * 4 / 18
    if text in _THIN_BINARY:
        return 2 * 3 / 18
    if text == ",":
        return 3 / 18
    return 0.0


def _name(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _token(element: ET.Element) -> float:
    text = element.text or ""
    tag = _name(element)
    if tag == "mi":
        if len(text) == 1:
            return _LETTERS.get(text, _LETTER)
        return _UPRIGHT * len(text)
    if tag == "mn":
        return sum(_NARROW_GLYPHS.get(c, _DIGIT) for c in text)
    if tag == "mtext":
        return _TEXT * len(text)
    stretchy_off = element.get("stretchy") == "false"
    return sum(0.39 if stretchy_off and c in "()[]" else _glyph(c) for c in text)


def _glyph(char: str) -> float:
    return _NARROW_GLYPHS.get(char) or _GLYPHS.get(char) or _OPERATOR


def _space(element: ET.Element) -> float:
    found = re.match(r"([\d.]+)em", element.get("width", "0em"))
    return float(found.group(1)) if found else 0.0


def width_em(element: ET.Element, scale: float = 1.0, display: bool = True) -> float:
    """The estimated drawn width of a MathML element, in em of the equation's font size."""
    tag = _name(element)
    children = list(element)
    if tag in ("mi", "mn", "mtext", "mo"):
        return scale * _token(element)
    if tag == "mspace":
        return scale * _space(element)
    if tag in ("msub", "msup"):
        return width_em(children[0], scale, display) + SCRIPT * width_em(children[1], scale) + scale * SCRIPT_GAP
    if tag == "msubsup":
        scripts = max(width_em(c, scale) for c in children[1:])
        return width_em(children[0], scale, display) + SCRIPT * scripts + scale * SCRIPT_GAP
    if tag in ("munder", "mover", "munderover"):
        base = width_em(children[0], scale, display)
        scripts = max(SCRIPT * width_em(c, scale) for c in children[1:])
        limits_beside = not display and (children[0].text or "") in _LARGE
        return base + scripts if limits_beside else max(base, scripts)
    if tag == "mfrac":
        inner = scale if display else scale * SCRIPT
        return max(width_em(c, inner, False) for c in children) + scale * FRACTION_PAD
    if tag == "msqrt":
        return scale * RADICAL + _row(children, scale, display)
    if tag == "mroot":
        return scale * RADICAL + width_em(children[0], scale, display) + SCRIPT * width_em(children[1], scale)
    if tag == "mtable":
        return _table(element, scale)
    if tag == "mstyle" and element.get("displaystyle") in ("true", "false"):
        display = element.get("displaystyle") == "true"
    return _row(children, scale, display)


def _row(children: list[ET.Element], scale: float, display: bool) -> float:
    """An mrow: its children side by side, each operator with the space its form gives it."""
    total = 0.0
    for index, child in enumerate(children):
        total += width_em(child, scale, display)
        if _name(child) == "mo":
            form = "prefix" if index == 0 and len(children) > 1 else "infix"
            total += scale * _spacing(child.text or "", form)
    return total


def _table(table: ET.Element, scale: float) -> float:
    """Columns side by side, each as wide as its widest cell; the site's CSS puts 2 em before
    each right-aligned column after the first (the gap between align*'s column pairs)."""
    widths: list[float] = []
    aligns: list[str] = []
    for row in table:
        for column, cell in enumerate(row):
            width = _row(list(cell), scale, True)
            if column == len(widths):
                widths.append(width)
                aligns.append(cell.get("columnalign", "center"))
            else:
                widths[column] = max(widths[column], width)
    gaps = sum(2.0 for column, align in enumerate(aligns) if column and align == "right")
    return sum(widths) + scale * gaps


# --- breaking into rows -------------------------------------------------------------------------


@dataclass
class Row:
    """One row of an aligned layout: what goes left of the alignment point, and what goes right."""

    left: list[ET.Element]
    right: list[ET.Element]

    def width(self) -> float:
        return _row(self.left, 1.0, True) + _row(self.right, 1.0, True)


def _element(tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.Element(f"{{{MATHML}}}{tag}", attributes)
    element.text = text
    return element


def _space_of(em: int) -> ET.Element:
    return _element("mspace", width=f"{em}em")


def _is_separator(element: ET.Element) -> bool:
    """`\\quad`, `\\qquad` and wider spaces: where one statement of an equation ends."""
    return _name(element) == "mspace" and _space(element) >= 1.0


def _is_relation(element: ET.Element) -> bool:
    return _name(element) == "mo" and (element.text or "") in _RELATIONS


def _is_binary(element: ET.Element) -> bool:
    return _name(element) == "mo" and (element.text or "") in _BINARY


def statements(children: list[ET.Element]) -> list[list[ET.Element]]:
    """Top-level children split at their `\\quad` separators."""
    parts: list[list[ET.Element]] = [[]]
    for child in children:
        if not _is_separator(child):
            parts[-1].append(child)
        elif any(_name(c) != "mi" or c.text for c in parts[-1]):  # else an indent, not a separator
            parts.append([])
    return [part for part in parts if part]


def _aligned(part: list[ET.Element]) -> Row:
    """A statement split before its first relation; none: all of it on the right."""
    for index, child in enumerate(part):
        if index and _is_relation(child):
            return Row(part[:index], [_element("mi"), *part[index:]])
    return Row([], [_element("mi"), *part])


def _breaks(right: list[ET.Element]) -> list[tuple[int, int]]:
    """Where a right side may continue on the next row: (index, bracket depth) of each relation
    after its first (outside brackets) and of each binary + or - that follows an operand (not a sign)."""
    found, depth = [], 0
    for index, child in enumerate(right):
        previous = right[index - 1] if index else None
        after_operand = previous is not None and (_name(previous) != "mo" or _bracket(previous) < 0)
        if index > 2 and after_operand and (_is_relation(child) and not depth or _is_binary(child)):
            found.append((index, depth))
        depth = max(0, depth + _bracket(child))
    return found


def _bracket(element: ET.Element) -> int:
    """+1 for an opening bracket, -1 for a closing one (also as the base of a script: `)^\\top`)."""
    if _name(element) in ("msub", "msup", "msubsup") and len(element):
        element = element[0]
    text = (element.text or "") if _name(element) == "mo" else ""
    return 1 if text and text in "([{" else -1 if text and text in ")]}" else 0


def _continued(row: Row, target: float) -> list[Row]:
    """A row wider than `target`, its right side continued on more rows: before a relation
    (aligned under the first) or before a + or - (a quad further in). Breaks outside brackets
    first; inside them only where that is not enough. Each row as full as it can be."""
    if row.width() <= target:
        return [row]
    left = _row(row.left, 1.0, True)
    breaks = _breaks(row.right)
    best = [row]
    for depth in range(2):  # outside brackets, then one level in: never inside an inner (1 - x)
        cuts = [index for index, at in breaks if at <= depth]
        lines = _fill(row.right, cuts, target - left)
        best = [Row(row.left if n == 0 else [], line) for n, line in enumerate(lines)]
        if max(left + _row(line, 1.0, True) for line in lines) <= target * 1.15:
            break
    return best


def _fill(right: list[ET.Element], cuts: list[int], room: float) -> list[list[ET.Element]]:
    """Cut `right` at some of `cuts`: greedily, each line as long as it fits `room`."""
    pieces = [right[start:end] for start, end in zip([0, *cuts], [*cuts, len(right)], strict=True)]
    lines = [pieces[0]]
    for piece in pieces[1:]:
        if _row(lines[-1] + piece, 1.0, True) <= room:
            lines[-1] = lines[-1] + piece
        else:
            indent = [] if _is_relation(piece[0]) else [_space_of(1)]
            lines.append([_element("mi"), *indent, *piece])
    return lines


def _rows_of(parts: list[list[ET.Element]], target: float) -> list[Row]:
    """Statements packed greedily into rows (2 em apart), then long rows continued. Rows align at
    their first relation when what stands left of it is about as wide in each (1.5 em or less)."""
    lines: list[list[ET.Element]] = []
    for part in parts:
        joined = [*lines[-1], _space_of(2), *part] if lines else part
        if lines and _row(joined, 1.0, True) <= target:
            lines[-1] = joined
        else:
            lines.append(part)
    rows = [_aligned(line) for line in lines]
    lefts = [_row(row.left, 1.0, True) for row in rows]
    if max(lefts) - min(lefts) > 1.5:
        rows = [Row([], [_element("mi"), *line]) for line in lines]
    return [piece for row in rows for piece in _continued(row, target)]


def _note(cells: list[list[ET.Element]]) -> list[ET.Element]:
    """An align* row's `&& ...` columns, without latex2mathml's empty <mi/> placeholders."""
    return [child for cell in cells[2:] for child in cell if _name(child) != "mi" or child.text]


def _rows_of_table(table: ET.Element, after: list[ET.Element], target: float) -> list[Row] | None:
    """An align* table's rows, narrower: statements after a `\\quad` on rows of their own, long
    right sides continued, and where a row and its `&& \\text{...}` note are too wide together,
    every note on a row under its own (only if each note has text or is an equation itself: a
    fragment such as `\\log A_t` there would read as part of the equation)."""
    cells = [[list(cell) for cell in tr] for tr in table]
    if any(len(row) < 2 for row in cells):
        return None
    notes = [_note(row) for row in cells]
    realigned = _realigned(cells, target)
    if realigned is not cells:  # a head row first; each note moves down with its term
        cells, notes = realigned, [[], *notes]
    rows: list[tuple[Row, list[ET.Element]]] = []
    for row, note in zip(cells, notes, strict=True):
        first, *others = statements(row[1]) or [[]]
        rows.append((Row(row[0], first), note))
        rows += [(_aligned(part), []) for part in others]
    fits = all(r.width() + 2.0 + _row(note, 1.0, True) <= target for r, note in rows)
    movable = all(any(_name(child) == "mtext" or _is_relation(child) for child in note) for note in notes if note)
    out: list[Row] = []
    for row, note in rows:
        pieces = _continued(row, target)
        if note and (fits or not movable):  # the note stays beside its row's first line
            pieces[0].right = [*pieces[0].right, _space_of(2), *note]
        elif note:
            pieces.append(Row([], [_element("mi"), _space_of(1), *note]))
        out += pieces
    if after:
        out[-1].right = [*out[-1].right, *after]
    return out


def _realigned(cells: list[list[list[ET.Element]]], target: float) -> list[list[list[ET.Element]]]:
    """A sum written `lhs = a &+ b \\\\ &+ c`, too wide: aligned at its = instead, each term on a
    row of its own a quad in (`lhs &= a \\\\ &\\quad + b \\\\ &\\quad + c`). Other tables as they are."""
    first_left = cells[0][0]
    relation = next((i for i, child in enumerate(first_left) if i and _is_relation(child)), None)
    terms = [row[1] for row in cells]
    continued = all(not row[0] for row in cells[1:]) and all(
        len(right) > 1 and _name(right[0]) == "mi" and not right[0].text and _is_binary(right[1]) for right in terms
    )
    if relation is None or not continued or max(Row(row[0], row[1]).width() for row in cells) <= target:
        return cells
    head = [first_left[:relation], [_element("mi"), *first_left[relation:]]]
    return [head] + [[[], [_element("mi"), _space_of(1), *right[1:]]] for right in terms]


def _table_of(rows: list[Row]) -> ET.Element:
    table = _element("mtable", displaystyle="true", rowspacing="3pt", columnspacing="0em")
    for row in rows:
        tr = ET.SubElement(table, f"{{{MATHML}}}mtr")
        for cells, align in ((row.left, "right"), (row.right, "left")):
            td = ET.SubElement(tr, f"{{{MATHML}}}mtd", columnalign=align)
            td.extend(copy.deepcopy(cells))
    return table


def broken(math: ET.Element, target: float) -> ET.Element | None:
    """`math` laid out in rows no wider than `target` em where it can be; None if it has no breaks."""
    top = list(math)
    if len(top) != 1 or _name(top[0]) != "mrow":
        return None
    children = list(top[0])
    tables = [index for index, child in enumerate(children) if _name(child) == "mtable"]
    if not tables:
        rows = _rows_of(statements(children), target)
    elif tables == [0] and _is_align(children[0]):
        rows = _rows_of_table(children[0], children[1:], target)
    else:
        return None
    if rows is None or len(rows) < 2 and not tables:
        return None
    out = _element("math", **math.attrib)
    mrow = ET.SubElement(out, f"{{{MATHML}}}mrow")
    mrow.append(_table_of(rows))
    return out


def _is_align(table: ET.Element) -> bool:
    """An align*/aligned table (right, left, right, left... columns), not a matrix or cases."""
    for row in table:
        aligns = [cell.get("columnalign") for cell in row]
        if any(align != ("right" if index % 2 == 0 else "left") for index, align in enumerate(aligns)):
            return False
    return True


# --- the page's markup --------------------------------------------------------------------------


def _styled(math: ET.Element, width: float, kind: str | None) -> str:
    math = copy.deepcopy(math)
    math.set("style", f"--math-width: {width:.1f}")
    if kind:
        math.set("class", f"snippets-math-{kind}")
    return ET.tostring(math, encoding="unicode")


def fit_display(mathml: str) -> str:
    """A display equation's `<math>` with its estimated width (`--math-width`, in em), and where
    it is too wide, its layout in rows: one for wide screens (if one line would shrink below 80 %
    there) and one for phones (class `snippets-math-narrow`, the other `snippets-math-wide`)."""
    try:
        math = ET.fromstring(mathml)
    except ET.ParseError as error:
        raise ValueError(f"expected a MathML <math> element, got {mathml[:120]!r}: {error}") from None
    width = width_em(math)
    wide = broken(math, DESKTOP_ROWS_EM) if width * SHRINK > DESKTOP_EM else None
    wide_width = width_em(wide) if wide is not None else width
    narrow = broken(math, PHONE_ROWS_EM) if width * SHRINK > PHONE_EM else None
    if narrow is not None and width_em(narrow) >= wide_width * 0.95:
        narrow = None  # no break worth a second copy
    if narrow is None:
        return _styled(wide if wide is not None else math, wide_width, None)
    return _styled(wide if wide is not None else math, wide_width, "wide") + _styled(narrow, width_em(narrow), "narrow")
