"""Build-time TeX -> MathML: constructs the pages use convert, malformed TeX raises."""

import pytest

from snippets.site.mathml import TexError, tex_to_mathml

pytestmark = pytest.mark.site  # needs the site extra (mkdocs and its plugins): see tests/conftest.py


@pytest.mark.parametrize("tex", [r"\Big\lVert x \Big\rVert", r"\bigl\| x \bigr\|", r"\Bigg\Vert x \Bigg\Vert"])
def test_sized_norm_bars_become_the_double_bar(tex):
    mathml = tex_to_mathml(tex, display=True)
    assert mathml.count("\u2016") == 2 and "lVert" not in mathml and "\\|" not in mathml


def test_unknown_commands_still_fail():
    with pytest.raises(TexError, match=r"unknown command '\\foo'"):
        tex_to_mathml(r"\Big\foo x")


@pytest.mark.parametrize("tex, display", [(r"\frac{a}{b} + x_t^2", False), (r"c_t = f_t \odot c_{t-1}", True)])
def test_the_mathml_is_latex2mathmls_own(tex, display):
    from latex2mathml.converter import convert

    assert tex_to_mathml(tex, display) == convert(tex, display="block" if display else "inline")
