"""The first screen of the RNN, LSTM, LSTM-backprop and GRU pages, in Chromium at 1280 px wide.

Each page lands its point on the first screen: a sentence that says it (the page's bold lead,
the first paragraph of the article) and a figure that shows it, its top within the first 1,000 px.
Its prose stays short enough to read: under 2,500 words outside code, tables, content tabs and
folded blocks (`??? note` renders as `<details>`), where a page keeps its depth. Math counts as
prose (its MathML tokens are words here), figures' own text does not.
"""

from __future__ import annotations

import pytest

from snippets.site.browser import evaluate_each

pytestmark = [pytest.mark.browser, pytest.mark.site]  # site: it needs the site extra and a built site

PAGES = ("rnn/", "lstm-cell/", "lstm-backprop/", "gru/")
DESKTOP = {"width": 1280, "height": 900}
FIRST_SCREEN_PX = 1000
MAX_PROSE_WORDS = 2500

# In the page: the first figure's top (from the top of the document), the lead paragraph's position
# and bold text, and the words of prose outside code, tables, tabs and folded blocks.
MEASURE = r"""() => {
  const article = document.querySelector('article');
  const figure = article.querySelector('figure');
  const top = (el) => el.getBoundingClientRect().top + window.scrollY;
  const lead = article.querySelector('h1 ~ p');
  const copy = article.cloneNode(true);
  copy.querySelectorAll('pre, code, table, .tabbed-set, details, svg, .footnote, .headerlink, script, style')
    .forEach((el) => el.remove());
  const words = copy.textContent.split(/\s+/).filter((w) => /[A-Za-z0-9]/.test(w)).length;
  return {
    figureTop: figure ? top(figure) : null,
    figureHasSvg: !!(figure && figure.querySelector('svg.snippets-figure')),
    leadTop: lead ? top(lead) : null,
    leadBold: lead ? [...lead.querySelectorAll('strong')].map((s) => s.textContent).join(' ') : '',
    words,
  };
}"""


@pytest.fixture(scope="module")
def measured(browser, base_url) -> dict[str, dict]:
    return evaluate_each(browser, base_url, PAGES, MEASURE, viewport=DESKTOP)


@pytest.mark.parametrize("path", PAGES)
def test_the_first_screen_has_the_point_and_a_figure_that_shows_it(measured, path):
    m = measured[path]
    assert m["figureHasSvg"], f"{path}: the first figure is not a drawn figure"
    assert m["figureTop"] <= FIRST_SCREEN_PX, f"{path}: first figure at {m['figureTop']:.0f} px"
    assert m["leadTop"] < m["figureTop"], f"{path}: the lead sentence comes after the first figure"
    assert len(m["leadBold"].split()) >= 15, f"{path}: no bold lead sentence before the figure: {m['leadBold']!r}"


@pytest.mark.parametrize("path", PAGES)
def test_prose_outside_folded_blocks_stays_short(measured, path):
    words = measured[path]["words"]
    assert words < MAX_PROSE_WORDS, f"{path}: {words} words of prose outside code, tables, tabs and folds"
