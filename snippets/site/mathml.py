"""TeX to MathML, checked: latex2mathml lets some malformed TeX through silently.

Verified with latex2mathml 3.81.1. It raises for a missing sub/superscript (`x^`), a missing
`\\right`, or a lone `{`, but it returns MathML without complaint for:

- unbalanced braces (`\\frac{a}{b`, `x}`),
- unknown commands (`\\foo`, `\\label{x}` come out as the text `\\foo`),
- unknown environments (`\\begin{foo}...\\end{foo}` vanishes),
- `&` outside an alignment environment (`aligned` is not one: it emits `<mi>&</mi>`, not XML),
- too few arguments (`\\frac{a}` gives an `<mfrac>` with one child).

`tex_to_mathml` checks for each of these and raises `TexError` naming the TeX.
"""

import re
import xml.etree.ElementTree as ET
from xml.sax.saxutils import unescape

from latex2mathml import commands
from latex2mathml.converter import convert_to_element


class TexError(ValueError):
    """TeX that cannot be turned into correct MathML."""


# Environments latex2mathml implements (its names carry a leading backslash).
SUPPORTED_ENVIRONMENTS = frozenset(name.lstrip("\\") for name in commands.MATRICES)

# amsmath's `aligned` is what authors write inside \[...\]; latex2mathml lacks it. `align*` lays
# out the same (right/left column pairs, no numbers) and spaces `&&` annotations, `split` does not.
_ALIASES = {"aligned": "align*"}
# latex2mathml sizes a literal character after \big, \Big, ... but prints a command there (say
# \Big\lVert) as raw text: write the norm bars as the character itself.
_SIZED_NORM = re.compile(r"(\\[bB]igg?[lr]?)\s*\\(?:lVert|rVert|Vert|\|)(?![A-Za-z])")

# MathML elements with a fixed number of children, e.g. <mfrac> = numerator, denominator.
_ARITY = {"mfrac": 2, "msub": 2, "msup": 2, "mroot": 2, "munder": 2, "mover": 2, "msubsup": 3, "munderover": 3}

_TOKEN = re.compile(r"\\.|[{}]", re.DOTALL)  # an escape (\{, \\) or a brace
_BEGIN = re.compile(r"\\begin\{([^}]*)\}")


def tex_to_mathml(tex: str, display: bool = False) -> str:
    """Return a `<math>` element for `tex`; raise `TexError` if the TeX is malformed."""
    _check_braces(tex)
    _check_environments(tex)
    source, mode = _apply_aliases(tex), "block" if display else "inline"
    try:
        tree = convert_to_element(source, display=mode)
        _check_tree(tree)
        # what latex2mathml's `convert` returns, from the tree already made: converting twice was a
        # second of a warm build
        return unescape(ET.tostring(tree, encoding="unicode"))
    except TexError as error:
        raise TexError(f"{error} {_in(tex)}") from None
    except Exception as error:  # latex2mathml raises many classes, often with no message
        raise TexError(f"latex2mathml failed ({type(error).__name__}: {error}) {_in(tex)}") from error


def _in(tex: str) -> str:
    # Quoted as written: repr() would double every backslash.
    return f'in TeX "{tex}"'


def _apply_aliases(tex: str) -> str:
    for alias, name in _ALIASES.items():
        tex = tex.replace(f"\\begin{{{alias}}}", f"\\begin{{{name}}}")
        tex = tex.replace(f"\\end{{{alias}}}", f"\\end{{{name}}}")
    return _SIZED_NORM.sub(lambda m: m.group(1) + "\u2016", tex)


def _check_braces(tex: str) -> None:
    depth = 0
    for match in _TOKEN.finditer(tex):
        depth += {"{": 1, "}": -1}.get(match.group(), 0)
        if depth < 0:
            raise TexError(f"unbalanced braces: '}}' at offset {match.start()} closes nothing {_in(tex)}")
    if depth:
        raise TexError(f"unbalanced braces: {depth} '{{' never closed {_in(tex)}")


def _check_environments(tex: str) -> None:
    for name in _BEGIN.findall(tex):
        if name not in SUPPORTED_ENVIRONMENTS and name not in _ALIASES:
            supported = ", ".join(sorted(SUPPORTED_ENVIRONMENTS | set(_ALIASES)))
            raise TexError(f"unknown environment {name!r} (expected one of: {supported}) {_in(tex)}")


def _check_tree(tree: ET.Element) -> None:
    for element in tree.iter():
        text = (element.text or "").strip()
        if "\\" in text:
            raise TexError(f"unknown command '{text}'")
        if text == "&":
            raise TexError("'&' outside an alignment environment (align*, split, cases, matrix...)")
        expected = _ARITY.get(element.tag)
        if expected is not None and len(element) != expected:
            raise TexError(f"<{element.tag}> needs {expected} arguments, got {len(element)}")
