"""The results pages (variants, comparison, modern cells, real text) and the gate lab land their point on the first
screen, in Chromium at 1280 px: a sentence that says it, then a figure that shows it, within the
first 1,000 px; prose outside code, tables, tabs and folded blocks under 2,500 words; and the
comparison page shows at most 60 numbers in its text before anything is expanded."""

import pytest

from snippets.site.browser import evaluate_each

pytestmark = [pytest.mark.browser, pytest.mark.site]

DESKTOP = {"width": 1280, "height": 900}
PAGES = ["variants/", "comparison/", "modern-cells/", "real-text/", "gate-lab/"]
FIRST_SCREEN = 1000  # px from the top of the page, at 1280 px wide
MAX_PROSE_WORDS = 2500
MAX_COMPARISON_NUMBERS = 60

# What the page shows a reader: a figure is an SVG figure, a picture inside a <figure> (the real-text
# page's coloured source) or an image; prose is text outside code, tables, tabs, folded blocks,
# math, the figures themselves (their captions count) and the gate lab's controls and read-outs;
# numbers are counted in the visible text
# (closed folds and hidden tabs are not rendered), code blocks, figures' axes and a claim's
# evidence (shown on a tap) left out.
MEASURE = """() => {
  const article = document.querySelector('.md-content article');
  const figures = [...article.querySelectorAll('svg.snippets-figure, figure [role=img], figure img')]
    .filter((element) => element.checkVisibility());
  const first = figures[0];
  const lead = first && [...article.querySelectorAll('p')].find((p) =>
    p.compareDocumentPosition(first) & Node.DOCUMENT_POSITION_FOLLOWING && !p.closest('figure'));
  const words = (node) => (node.textContent.match(/[A-Za-z0-9][\\w'’.,%-]*/g) || []).length;
  const numbers = (node) => (node.textContent.match(/\\d+(?:[.,]\\d+)*/g) || []).length;
  let prose = 0, shown = 0;
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest('script, style, .headerlink, .claim-evidence')) continue;
    const notProse = 'pre, code, table, .tabbed-set, details, svg, math, [role=img], .gate-lab';
    if (!parent.closest(notProse)) prose += words(node);
    if (!parent.closest('pre, code, svg') && parent.checkVisibility()) shown += numbers(node);
  }
  return {
    firstFigure: first ? first.getBoundingClientRect().top + scrollY : null,
    leadWords: lead ? words(lead) : 0,
    prose,
    numbers: shown,
  };
}"""


@pytest.fixture(scope="module")
def measured(browser, base_url) -> dict[str, dict]:
    return evaluate_each(browser, base_url, PAGES, MEASURE, viewport=DESKTOP, color_scheme="light")


@pytest.mark.parametrize("path", PAGES)
def test_a_sentence_and_a_figure_on_the_first_screen(measured, path):
    facts = measured[path]
    assert facts["firstFigure"] is not None, f"{path}: no figure"
    assert facts["firstFigure"] <= FIRST_SCREEN, f"{path}: the first figure starts {facts['firstFigure']:.0f} px down"
    assert facts["leadWords"] >= 20, f"{path}: no sentence above the first figure ({facts['leadWords']} words)"


@pytest.mark.parametrize("path", PAGES)
def test_prose_outside_code_tables_tabs_and_folds_stays_short(measured, path):
    assert 500 < measured[path]["prose"] < MAX_PROSE_WORDS, f"{path}: {measured[path]['prose']} words of prose"


def test_the_comparison_page_shows_few_numbers_before_anything_is_expanded(measured):
    shown = measured["comparison/"]["numbers"]
    assert 10 < shown <= MAX_COMPARISON_NUMBERS, f"{shown} numbers in the comparison page's visible text"
