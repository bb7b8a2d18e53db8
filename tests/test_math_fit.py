"""Display equations laid out to fit their column (snippets.site.math_fit), on made-up TeX.

The layouts must keep every symbol of the equation, once and in order; rows must come out no
wider than asked where the equation has breaks; what has none is left alone.
"""

import re
import xml.etree.ElementTree as ET

import pytest

from snippets.site import a11y, math_fit
from snippets.site.mathml import tex_to_mathml

pytestmark = pytest.mark.site  # needs the site extra (latex2mathml): see tests/conftest.py

TOKENS = ("mi", "mn", "mo", "mtext")

GATES = (
    r"i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}), \qquad "
    r"f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}), \qquad "
    r"g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg})"
)
SHORT_GATES = (
    r"i_t = \sigma(W_{ii} x_t + b_{ii}), \quad f_t = \sigma(W_{if} x_t + b_{if}), \quad o_t = \sigma(W_{io} x_t)"
)
LONG_SUM = r"h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh} + W_{ph} p_t + b_{ph} + W_{qh} q_t + b_{qh})"
NOTED = r"""\begin{aligned}
r_t &= \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) && \text{reset gate} \\
z_t &= \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) && \text{update gate}
\end{aligned}"""
SUM = r"""\begin{aligned}
\frac{\partial c_t}{\partial c_{t-1}} = \operatorname{diag}(f_t)
&+ \operatorname{diag}\big(i_t (1 - g_t^2)\big)\, W_{hg}\, D_{t-1} \\
&+ \operatorname{diag}\big(g_t\, i_t (1 - i_t)\big)\, W_{hi}\, D_{t-1}
\end{aligned}"""


def tokens(element: ET.Element) -> list[tuple[str, str]]:
    """The symbols an equation shows, in order: what any layout of it must keep."""
    return [
        (e.tag.rsplit("}", 1)[-1], e.text)
        for e in element.iter()
        if e.tag.rsplit("}", 1)[-1] in TOKENS and (e.text or "").strip()
    ]


def layouts(tex: str) -> tuple[ET.Element, list[ET.Element]]:
    """The one-line MathML of `tex`, and the <math> elements fit_display makes of it."""
    original = tex_to_mathml(tex, display=True)
    out = math_fit.fit_display(original)
    return ET.fromstring(original), [ET.fromstring(m) for m in re.findall(r"<math\b.*?</math>", out, re.DOTALL)]


def rows(math: ET.Element) -> list[float]:
    """The estimated width of each row of a laid-out equation."""
    (table,) = math.iter(f"{{{math_fit.MATHML}}}mtable")
    return [math_fit._row([child for cell in tr for child in cell], 1.0, True) for tr in table]


def width(tex: str) -> float:
    return math_fit.width_em(ET.fromstring(tex_to_mathml(tex, display=True)))


def test_the_estimate_is_near_chromiums_drawing():
    # Drawn by Debian's Chromium in its default math font (DejaVu Math TeX Gyre) at 20 px, in em:
    # "x = y" 2.87, x_{t-1} 2.69, the LSTM's input gate 18.2 (measured for this test).
    assert width("x = y") == pytest.approx(2.87, rel=0.1)
    assert width("x_{t-1}") == pytest.approx(2.69, rel=0.1)
    assert width(r"i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi})") == pytest.approx(18.2, rel=0.1)


def test_the_estimate_follows_the_structure():
    assert width("a + b + c") > width("a + b")
    assert width(r"\frac{a + b + c}{d}") == pytest.approx(width("a + b + c") + math_fit.FRACTION_PAD)
    assert width("x_{abc}") < width("x abc")  # scripts are smaller
    assert width(r"a \qquad b") == pytest.approx(width("a b") + 2)


def test_a_short_equation_keeps_its_one_line_and_gets_its_width():
    original, made = layouts("c_t = f_t \\odot c_{t-1} + i_t \\odot g_t")
    (math,) = made
    assert tokens(math) == tokens(original)
    assert not list(math.iter(f"{{{math_fit.MATHML}}}mtable"))
    assert math.get("style") == f"--math-width: {math_fit.width_em(original):.1f}" and math.get("class") is None


def test_statements_too_long_for_any_screen_go_on_rows_of_their_own():
    original, made = layouts(GATES)
    (math,) = made  # one layout fits both: each gate on a row
    assert tokens(math) == tokens(original)
    assert len(rows(math)) == 3 and max(rows(math)) <= math_fit.DESKTOP_ROWS_EM
    assert math.get("class") is None
    assert float(math.get("style").split(":")[1]) == pytest.approx(math_fit.width_em(math), abs=0.05)


def test_a_line_that_fits_a_desktop_gets_rows_for_phones_only():
    original, made = layouts(SHORT_GATES)
    wide, narrow = made
    assert (wide.get("class"), narrow.get("class")) == ("snippets-math-wide", "snippets-math-narrow")
    assert tokens(wide) == tokens(original) == tokens(narrow)
    assert not list(wide.iter(f"{{{math_fit.MATHML}}}mtable"))
    assert len(rows(narrow)) == 3 and max(rows(narrow)) <= math_fit.PHONE_ROWS_EM


def test_a_long_right_side_continues_before_a_plus():
    original, made = layouts(LONG_SUM)
    narrow = made[-1]
    assert tokens(narrow) == tokens(original)
    widths = rows(narrow)
    assert len(widths) >= 2 and max(widths) <= math_fit.PHONE_ROWS_EM
    (table,) = narrow.iter(f"{{{math_fit.MATHML}}}mtable")
    for tr in table[1:]:  # each continuation: nothing left of the = column, a quad, then the +
        assert not list(tr[0])
        assert [e.tag.rsplit("}", 1)[-1] for e in tr[1]][:3] == ["mi", "mspace", "mo"] and tr[1][2].text == "+"


def test_notes_move_under_their_rows_on_a_phone():
    original, made = layouts(NOTED)
    narrow = made[-1]
    assert tokens(narrow) == tokens(original)
    (table,) = narrow.iter(f"{{{math_fit.MATHML}}}mtable")
    texts = [" ".join(t.text for t in tr.iter(f"{{{math_fit.MATHML}}}mtext")) for tr in table]
    notes = [i for i, text in enumerate(texts) if text]
    assert [texts[i] for i in notes] == ["reset\xa0gate", "update\xa0gate"]
    assert all(not list(table[i][0]) for i in notes), "a note row has nothing left of the alignment point"


def test_a_sum_too_wide_is_aligned_at_its_equals_sign():
    original, made = layouts(SUM)
    narrow = made[-1]
    assert tokens(narrow) == tokens(original)
    (table,) = narrow.iter(f"{{{math_fit.MATHML}}}mtable")
    head_left, head_right = table[0]
    assert [e.tag.rsplit("}", 1)[-1] for e in head_left] == ["mfrac"]
    assert [t for t in tokens(head_right)][:1] == [("mo", "=")]
    assert len(table) == 3


def test_what_has_no_breaks_is_left_alone():
    long_product = "x" * 60
    original, made = layouts(long_product)
    assert len(made) == 1 and tokens(made[0]) == tokens(original)
    matrix = r"A = \begin{pmatrix} " + " & ".join(f"a_{{{i}}}" for i in range(30)) + r" \end{pmatrix}"
    original, made = layouts(matrix)
    assert len(made) == 1 and tokens(made[0]) == tokens(original)


def test_malformed_mathml_is_named():
    with pytest.raises(ValueError, match=r"expected a MathML <math> element, got '<math><mrow>'"):
        math_fit.fit_display("<math><mrow>")


def test_the_page_pass_fits_display_math_and_unboxes_figure_pairs():
    display = tex_to_mathml(SHORT_GATES, display=True)
    inline = tex_to_mathml("x_t", display=False)
    page = f'<div class="arithmatex">{display}</div><p><span class="arithmatex">{inline}</span></p>'
    out = a11y.math_scroll_focus(page)
    assert out.count('<div class="arithmatex" tabindex="0">') == 1 and "snippets-math-narrow" in out
    assert f'<span class="arithmatex">{inline}</span>' in out
    svg = '<svg width="100pt" class="snippets-figure"></svg>'
    pair = f'<div class="snippets-figure-wide">{svg}</div><div class="snippets-figure-narrow">{svg}</div>'
    assert a11y.figure_scroll_boxes(pair) == pair
    assert a11y.figure_scroll_boxes(svg).startswith('<div class="snippets-figure-box" tabindex="0"')
