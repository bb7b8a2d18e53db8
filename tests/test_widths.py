"""Nothing wider than its column: every page of the built site, at 1280 px and on a 390 px phone.

At 1280 px, with every folded block open and each tab of every tab set shown in turn, every
element of the article whose right edge passes the column's (the article's content box) is found.
That is allowed only inside a box that scrolls sideways, keeps to the column and shows the scroll
cue (extra.css: shades at the edges, gradients of which a pair travels with the content): wide
tables and long lines of source code. A display formula may not scroll at all at that width (it
shrinks or comes in rows: snippets/site/math_fit.py), nor may a figure or printed output.

At 390 px the boxes that scroll sideways inside a page are counted, by kind. Formulas, figures,
printed output and the API's signatures must fit there; tables and source code may scroll, with
the cue. Run with `-s` to see both measures for each page.

SNIPPETS_BUILT_SITE=DIR measures a site already built there (tests/conftest.py).
"""

from __future__ import annotations

import pytest

from snippets.site.browser import Network

pytestmark = [pytest.mark.browser, pytest.mark.site]  # site: it needs the site extra and a built site

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Inline code's padding may overhang the line it ends by a pixel or two: no reader sees that.
TOLERANCE_PX = 3

# In the page: helpers shared by both measures.
HELPERS = r"""
const scrolls = (el) => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
const cue = (el) => {  // the shades of extra.css: gradients, some attached to the content (local)
  const style = getComputedStyle(el);
  return (style.backgroundImage.match(/gradient/g) || []).length >= 4
    && style.backgroundAttachment.includes('local') && style.backgroundAttachment.includes('scroll');
};
const name = (el) => el.tagName.toLowerCase()
  + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\s+/).join('.') : '');
const text = (el) => (el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 50);
"""

# Every visible element of the article past the column's right edge (the outermost of each run).
DESKTOP_JS = (
    "(tolerance) => {"
    + HELPERS
    + r"""
  const article = document.querySelector('article.md-content__inner');
  const frame = article.getBoundingClientRect(), style = getComputedStyle(article);
  const left = frame.left + parseFloat(style.paddingLeft), right = frame.right - parseFloat(style.paddingRight);
  const scroller = (el) => {  // the box that scrolls el into view (Material's tables can scroll but don't)
    for (let p = el.parentElement; p && p !== article; p = p.parentElement) {
      if (scrolls(p) && p.scrollWidth > p.clientWidth + 1) return p;
    }
    return null;
  };
  const past = (el) => el.getBoundingClientRect().right - right;
  const found = [];
  let widest = {past: -Infinity};
  for (const el of article.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (!box.width || !el.checkVisibility()) continue;
    const holder = scroller(el), parent = el.parentElement;
    // The widest thing a reader meets: an element, or the content of a box that scrolls.
    const scrolling = scrolls(el) && el.scrollWidth > el.clientWidth + 1;
    const width = scrolling ? el.scrollWidth : box.width;
    if (!holder && box.left + width - right > widest.past) {
      widest = {past: box.left + width - right, what: name(el), text: text(el), width, scrolls: scrolling};
    }
    if (past(el) <= tolerance) continue;
    if (parent !== article && past(parent) > tolerance && scroller(parent) === holder) continue;
    found.push({
      what: name(el), text: text(el), past: Math.round(past(el)), width: Math.round(box.width),
      box: holder ? name(holder) : null, boxPast: holder ? Math.round(past(holder)) : null,
      cue: holder ? cue(holder) : false,
      formula: !!el.closest('.arithmatex'), figure: !!el.closest('svg.snippets-figure, .snippets-figure-box'),
      output: !!holder && holder.matches('pre > code') && !holder.querySelector('span:not(:empty)'),
    });
  }
  return {column: Math.round(right - left), found, widest};
}"""
)

# Every box in the page that scrolls sideways now, once (marked), by kind.
PHONE_JS = (
    "() => {"
    + HELPERS
    + r"""
  const kind = (el) => {
    if (el.matches('div.arithmatex')) return 'formula';
    if (el.matches('.md-typeset__scrollwrap')) return 'table';
    if (el.matches('.snippets-figure-box')) return 'figure';
    if (el.matches('.tabbed-labels')) return 'tab labels';
    if (el.matches('.doc-signature pre > code')) return 'signature';
    if (el.matches('pre > code') && !el.querySelector('span:not(:empty)')) return 'output';
    if (el.matches('pre > code, .highlight-ipynb')) return 'code';
    return 'other';
  };
  const boxes = [];
  for (const el of document.querySelectorAll('.md-content *')) {
    if (el.dataset.widthsCounted || !scrolls(el) || !el.checkVisibility()) continue;
    if (el.scrollWidth <= el.clientWidth + 1) continue;
    el.dataset.widthsCounted = '1';
    boxes.push({kind: kind(el), what: name(el), text: text(el), by: el.scrollWidth - el.clientWidth, cue: cue(el)});
  }
  return boxes;
}"""
)

OPEN_FOLDS = "() => document.querySelectorAll('.md-content details').forEach((d) => { d.open = true; })"
TAB_COUNT = """() => Math.max(0, ...[...document.querySelectorAll('.tabbed-set')]
  .map((set) => set.querySelectorAll(':scope > input').length))"""
SHOW_TAB = """(k) => document.querySelectorAll('.tabbed-set').forEach((set) => {
  const inputs = set.querySelectorAll(':scope > input');
  if (inputs[k]) inputs[k].checked = true;
})"""

# Kinds that must not scroll on a phone, and Material's tab bar, which has its own arrows.
MUST_FIT_ON_A_PHONE = ("formula", "figure", "output", "signature")
NO_CUE_NEEDED = ("tab labels",)


def each_view(page, measure):
    """`measure()` with every fold open, once per tab index (the k-th tab of every set shown)."""
    page.evaluate(OPEN_FOLDS)
    results = []
    for k in range(max(1, page.evaluate(TAB_COUNT))):
        page.evaluate(SHOW_TAB, k)
        results.append(measure())
    return results


def visit_all(browser, base_url, paths, viewport, measure):
    context = browser.new_context(viewport=viewport, color_scheme="light", device_scale_factor=1)
    Network(context)
    page = context.new_page()
    found = {}
    for path in paths:
        page.goto(base_url + path, wait_until="networkidle")
        found[path or "/"] = each_view(page, lambda: measure(page))
    context.close()
    return found


@pytest.fixture(scope="module")
def paths(built_site):
    from snippets.site.browser import page_paths

    found = [p for p in page_paths(built_site) if not p.startswith("assets/")]
    assert "lstm-cell/" in found and "api/" in found, f"pages not found in the build: {found}"
    return found


@pytest.fixture(scope="module")
def desktop(browser, base_url, paths):
    return visit_all(browser, base_url, paths, DESKTOP, lambda page: page.evaluate(DESKTOP_JS, TOLERANCE_PX))


@pytest.fixture(scope="module")
def phone(browser, base_url, paths):
    return {
        path: [box for view in views for box in view]
        for path, views in visit_all(browser, base_url, paths, PHONE, lambda page: page.evaluate(PHONE_JS)).items()
    }


def test_nothing_passes_the_column_at_1280_px(desktop):
    problems = []
    for path, views in desktop.items():
        widest = max((view["widest"] for view in views), key=lambda w: w["past"])
        print(
            f"1280 px {path}: column {views[0]['column']} px; widest: {widest['what']} {widest['width']:.0f} px"
            f"{' (scrolls)' if widest['scrolls'] else ''}, its right edge {widest['past']:+.0f} px from the column's"
            f" {widest['text']!r}"
        )
        for view in views:
            for item in view["found"]:
                where = f"{path}: {item['what']} {item['text']!r} ({item['width']} px) passes the column"
                where += f" by {item['past']} px"
                if item["box"] is None:
                    problems.append(f"{where}, in no scroll box")
                elif item["formula"] or item["figure"] or item["output"]:
                    problems.append(f"{where}: a formula, figure or printed output must fit at 1280 px, not scroll")
                elif item["boxPast"] > TOLERANCE_PX:
                    problems.append(f"{where}; its scroll box {item['box']} passes it too, by {item['boxPast']} px")
                elif not item["cue"]:
                    problems.append(f"{where} in {item['box']}, which shows no scroll cue")
    assert not problems, "\n".join(sorted(set(problems)))


def test_on_a_phone_only_tables_and_code_scroll_and_they_show_it(phone):
    problems = []
    for path, boxes in phone.items():
        kinds = {}
        for box in boxes:
            kinds[box["kind"]] = kinds.get(box["kind"], 0) + 1
        print(f"390 px {path}: {len(boxes)} inner scroll boxes {kinds}")
        for box in boxes:
            where = f"{path}: {box['kind']} {box['what']} {box['text']!r} scrolls by {box['by']} px"
            if box["kind"] in MUST_FIT_ON_A_PHONE:
                problems.append(f"{where}: it must fit a phone")
            elif box["kind"] not in NO_CUE_NEEDED and not box["cue"]:
                problems.append(f"{where} and shows no scroll cue")
    assert not problems, "\n".join(problems)
    assert any(phone.values()), "no page has a box that scrolls on a phone: the measure looks broken"
