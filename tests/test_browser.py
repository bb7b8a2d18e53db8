"""The built site in a real browser: Debian's Chromium, driven by Playwright, network cut off.

The site (built once per session, tests/conftest.py) is served on 127.0.0.1; every request to
anywhere else is aborted and recorded. Every page (each index.html of the build, so new pages are
covered unasked) is opened once in the light scheme, checked, switched to the dark scheme with
Material's palette toggle and checked again: no third-party request, no console error, math
rendered (no raw TeX), figures present with a text alternative and in the page's colours, axe-core
clean of serious and critical violations. Then: math after Material's instant navigation, a
phone-sized viewport, the weight of each page, and every link and anchor in the built HTML.

Without Chromium these tests skip and say how to install it; with CI=true they fail instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from snippets.site.browser import Network, page_paths

pytestmark = [pytest.mark.browser, pytest.mark.site]  # site: it needs the site extra and a built site

MAX_PAGE_BYTES = 1_500_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# Serious or critical axe findings that Material causes and this site cannot fix:
# {rule id: reason}. Empty: the ones Material 9.8 causes are fixed (the search dialog's name in
# snippets/site/a11y.py; link underlines, footer and code-highlight contrast in extra.css).
MATERIAL_FINDINGS: dict[str, str] = {}
# axe-core's default rules (WCAG 2.x A and AA, and best practices); only violations come back.
AXE_OPTIONS = {"resultTypes": ["violations"]}

RAW_TEX = ("\\(", "\\)", "\\[", "\\]", "$$", "\\begin{", "\\frac", "\\odot", "\\sigma")
PLACEHOLDER_ALT = re.compile(r"^(|png|svg|image|no description has been provided for this image)$", re.I)


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def paths(built_site):
    found = page_paths(built_site)
    assert "" in found and "lstm-cell/" in found, f"pages not found in the build: {found}"
    return found


@dataclass
class Visit:
    """What one page showed and did: first in the light scheme, then after the toggle to dark."""

    path: str
    blocked: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    weight: int = 0
    heaviest: list[tuple[int, str]] = field(default_factory=list)
    state: dict[str, dict] = field(default_factory=dict)  # scheme -> facts from PAGE_FACTS
    axe: dict[str, list[dict]] = field(default_factory=dict)  # scheme -> serious/critical violations


@pytest.fixture(scope="module")
def visits(browser, base_url, built_site, paths) -> dict[str, Visit]:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    context = browser.new_context(viewport=DESKTOP, color_scheme="light")
    network = Network(context)
    page = context.new_page()
    errors: list[str] = []
    listen_for_errors(page, errors)
    results = {}
    for path in paths:
        visit = results[path] = Visit(path)
        network.reset()
        errors.clear()
        page.goto(base_url + path, wait_until="networkidle")
        for scheme in ("default", "slate"):
            if scheme == "slate":
                toggle_palette(page, to="slate")
            visit.state[scheme] = page.evaluate(PAGE_FACTS)
            visit.axe[scheme] = serious(axe.run(page, options=AXE_OPTIONS).response["violations"])
        page.wait_for_load_state("networkidle")
        visit.blocked, visit.console = list(network.blocked), list(errors)
        visit.weight, visit.heaviest = network.weight(built_site)
        toggle_palette(page, to="default")  # Material keeps the choice in localStorage
    context.close()
    return results


def listen_for_errors(page, sink: list[str]) -> None:
    page.on(
        "console",
        lambda message: sink.append(f"console.{message.type}: {message.text}") if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: sink.append(f"uncaught: {error}"))


def toggle_palette(page, *, to: str) -> None:
    """Click Material's visible palette toggle until the body's scheme is `to`."""
    for _ in range(3):
        if page.evaluate("document.body.getAttribute('data-md-color-scheme')") == to:
            return
        page.locator("form[data-md-component=palette] label:not([hidden])").first.click()
        page.wait_for_timeout(50)
    raise AssertionError(f"the palette toggle did not switch to {to!r}")


def serious(violations: list[dict]) -> list[dict]:
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [node["target"] for node in v["nodes"]][:5],
            "summary": (v["nodes"][0].get("failureSummary") or "")[:300],
        }
        for v in violations
        if v["impact"] in ("serious", "critical") and v["id"] not in MATERIAL_FINDINGS
    ]


# Facts a page shows, gathered in the page (Chromium lays out MathML and SVG itself).
PAGE_FACTS = r"""() => {
  const backgroundOf = (el) => {  // the first opaque background behind el
    for (; el; el = el.parentElement) {
      const colour = getComputedStyle(el).backgroundColor;
      if (!/^rgba\(.*,\s*0\)$/.test(colour) && colour !== 'transparent') return colour;
    }
    return 'rgb(255, 255, 255)';
  };
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.width, r.height]; };
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, textarea').forEach((el) => el.remove());
  const wrappers = [...document.querySelectorAll('.arithmatex')];
  const maths = [...document.querySelectorAll('.md-content math')];
  const shown = maths.filter((m) => m.checkVisibility());
  const figures = [...document.querySelectorAll('.md-content svg.snippets-figure')].map((svg) => {
    const text = svg.querySelector('text');
    const drawn = svg.querySelector('[style*="stroke: currentColor"], [style*="stroke:currentColor"]');
    return {
      id: svg.id, role: svg.getAttribute('role'), label: svg.getAttribute('aria-label') || '',
      title: (svg.querySelector(':scope > title') || {}).textContent || '',
      size: box(svg), shown: svg.checkVisibility(),
      text: text ? getComputedStyle(text).fill : null,
      texts: [...svg.querySelectorAll('text')].map((t) => getComputedStyle(t).fill),
      stroke: drawn ? getComputedStyle(drawn).stroke : null,
      background: backgroundOf(svg),
    };
  });
  const images = [...document.querySelectorAll('.md-content img')].map((img) => ({
    src: img.getAttribute('src').slice(0, 80), alt: img.getAttribute('alt'),
    loaded: img.complete && img.naturalWidth > 0,
  }));
  return {
    text: copy.textContent,
    stderr: [...document.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]')]
      .map((el) => el.textContent.trim().slice(0, 200)),
    unrendered: wrappers.filter((w) => !w.querySelector('math')).map((w) => w.textContent.slice(0, 80)),
    math: maths.length, mathShown: shown.length,
    mathEmpty: shown.filter((m) => { const [w, h] = box(m); return w < 1 || h < 1; }).length,
    mathUnsupported: maths.length > 0 && getComputedStyle(maths[0]).display.indexOf('math') < 0,
    figures, images,
    background: getComputedStyle(document.body).backgroundColor,
    scheme: document.body.getAttribute('data-md-color-scheme'),
    title: document.title,
  };
}"""


# --- helpers ------------------------------------------------------------------------------------


def rgba(css: str) -> tuple[float, float, float, float]:
    numbers = [float(n) for n in re.findall(r"[\d.]+", css)]
    return (*numbers[:3], numbers[3] if len(numbers) > 3 else 1.0)


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast of a (possibly translucent) CSS colour over an opaque one."""
    *fg, alpha = rgba(foreground)
    bg = rgba(background)[:3]
    mixed = [alpha * f + (1 - alpha) * b for f, b in zip(fg, bg)]

    def luminance(rgb):
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (v / 255 for v in rgb)]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(mixed), luminance(bg)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def built_html(site: Path, path: str) -> BeautifulSoup:
    return BeautifulSoup((site / path / "index.html").read_text(encoding="utf-8"), "html.parser")


def report(problems: list[str]) -> str:
    return "\n".join(problems[:40]) + (f"\n... and {len(problems) - 40} more" if len(problems) > 40 else "")


# --- every page, both schemes -------------------------------------------------------------------


def test_no_request_leaves_the_site(visits):
    problems = [f"{v.path or '/'}: {url}" for v in visits.values() for url in v.blocked]
    assert not problems, "requests to other sites (blocked):\n" + report(problems)


def test_no_console_errors(visits):
    problems = [f"{v.path or '/'}: {line}" for v in visits.values() for line in v.console]
    assert not problems, "console errors:\n" + report(problems)


def test_math_is_rendered_and_no_tex_is_left(visits, built_site):
    problems = []
    for v in visits.values():
        facts = v.state["default"]
        expected = len(built_html(built_site, v.path).select(".arithmatex"))
        if facts["unrendered"]:
            problems.append(f"{v.path}: math without MathML: {facts['unrendered'][:3]}")
        if facts["math"] < expected:
            problems.append(f"{v.path}: {facts['math']} <math> elements in the browser, {expected} in the HTML")
        if facts["mathEmpty"] or facts["mathUnsupported"]:
            problems.append(f"{v.path}: MathML not laid out ({facts['mathEmpty']} visible formulas of zero size)")
        for token in RAW_TEX:
            if token in facts["text"]:
                at = facts["text"].index(token)
                problems.append(f"{v.path}: raw TeX {token!r} in {facts['text'][max(0, at - 30) : at + 50]!r}")
    assert not problems, report(problems)
    assert visits["lstm-cell/"].state["default"]["mathShown"] >= 20


def test_figures_are_shown_with_a_text_alternative(visits, built_site):
    problems, total = [], 0
    for v in visits.values():
        facts = v.state["default"]
        expected = len(built_html(built_site, v.path).select("svg.snippets-figure"))
        if len(facts["figures"]) != expected:
            problems.append(f"{v.path}: {len(facts['figures'])} figures in the browser, {expected} in the HTML")
        for figure in facts["figures"]:
            total += 1
            if figure["role"] != "img" or len(figure["label"].strip()) < 40 or figure["title"] != figure["label"]:
                problems.append(
                    f"{v.path}#{figure['id']}: no text alternative saying what it shows: {figure['label']!r}"
                )
            if figure["shown"] and min(figure["size"]) < 50:
                problems.append(f"{v.path}#{figure['id']}: drawn at {figure['size']} px")
        for image in facts["images"]:
            if not image["loaded"]:
                problems.append(f"{v.path}: image did not load: {image['src']}")
            if image["alt"] is None or PLACEHOLDER_ALT.match(image["alt"].strip()):
                problems.append(
                    f"{v.path}: image {image['src']!r} has no real alt text ({image['alt']!r}); "
                    "in a notebook, display snippets.figures.svg_html(fig, alt) as HTML instead"
                )
    assert not problems, report(problems)
    assert total >= 1, "no figure on any page"


def test_palette_toggle_recolours_the_figures(visits):
    """The toggle changes a figure's ink (text, axes) with the page; ink reads at 4.5:1 in both
    schemes. Text drawn in a line colour (a legend, a label beside its line) keeps its colour and
    must reach 3:1 in both (the palette in snippets.figures is chosen for that)."""
    problems, checked = [], 0
    for v in visits.values():
        light, dark = v.state["default"], v.state["slate"]
        assert (light["scheme"], dark["scheme"]) == ("default", "slate")
        for before, after in zip(light["figures"], dark["figures"]):
            checked += 1
            where = f"{v.path}#{before['id']}"
            if before["stroke"] is not None and before["stroke"] == after["stroke"]:
                problems.append(f"{where}: axes colour {before['stroke']} did not change with the scheme")
            pairs = list(zip(before["texts"], after["texts"]))
            ink = [(a, b) for a, b in pairs if a != b]
            if pairs and not ink:
                problems.append(f"{where}: no text changed colour with the scheme")
            for fill_light, fill_dark in pairs:
                needed = 4.5 if fill_light != fill_dark else 3.0
                for scheme, fill, background in (
                    ("light", fill_light, before["background"]),
                    ("dark", fill_dark, after["background"]),
                ):
                    ratio = contrast(fill, background)
                    if ratio < needed:
                        problems.append(
                            f"{where}: text {fill} on {background} in the {scheme} scheme: "
                            f"contrast {ratio:.2f} < {needed}"
                        )
    assert not problems, report(sorted(set(problems)))
    assert checked >= 1


def test_no_warnings_or_build_paths_shown(visits):
    """A notebook cell's stderr (warnings, progress bars) is build noise, not something to read."""
    problems = [
        f"{v.path}: notebook output on stderr: {text!r}"
        for v in visits.values()
        for text in v.state["default"]["stderr"]
    ]
    assert not problems, report(problems)


def test_axe_finds_no_serious_violation(visits):
    problems = [
        f"{v.path or '/'} ({scheme}): {finding['id']} ({finding['impact']}): {finding['help']} "
        f"at {finding['targets']}\n    {finding['summary']}"
        for v in visits.values()
        for scheme, findings in v.axe.items()
        for finding in findings
    ]
    assert not problems, "axe-core:\n" + report(problems)


def test_every_page_weighs_under_the_limit(visits):
    heaviest = max(visits.values(), key=lambda v: v.weight)
    print(f"heaviest page: /{heaviest.path} {heaviest.weight / 1e6:.2f} MB (largest files: {heaviest.heaviest[:3]})")
    problems = [
        f"/{v.path}: {v.weight / 1e6:.2f} MB, largest {v.heaviest[:3]}"
        for v in visits.values()
        if v.weight > MAX_PAGE_BYTES
    ]
    assert not problems, f"pages over {MAX_PAGE_BYTES / 1e6} MB with what they load:\n" + report(problems)
    assert heaviest.weight > 100_000, "the weights look wrong: Material's CSS and JS alone are larger"


# --- instant navigation, phone width ------------------------------------------------------------


def test_math_and_figures_after_instant_navigation(browser, base_url, built_site, paths):
    """Material's instant navigation swaps the page in place: math and figures must still be there."""
    context = browser.new_context(viewport=DESKTOP, color_scheme="light")
    network = Network(context)
    page = context.new_page()
    errors: list[str] = []
    listen_for_errors(page, errors)
    page.goto(base_url, wait_until="networkidle")
    page.evaluate("window.__sameDocument = true")
    problems = []
    for path in [p for p in paths if p] + [""]:
        soup = built_html(built_site, path)
        page.evaluate(
            """(url) => { const a = document.createElement('a');
            a.href = url; a.id = '__go'; a.textContent = 'go'; document.querySelector('.md-content').append(a); }""",
            base_url + path,
        )
        page.click("#__go")
        page.wait_for_function("(title) => document.title === title", arg=soup.title.get_text(), timeout=10_000)
        page.wait_for_load_state("networkidle")
        facts = page.evaluate(PAGE_FACTS)
        if not page.evaluate("window.__sameDocument === true"):
            problems.append(f"{path}: the page was reloaded, not navigated instantly")
        if facts["math"] < len(soup.select(".arithmatex")) or facts["unrendered"] or facts["mathEmpty"]:
            problems.append(
                f"{path}: math after instant navigation: {facts['math']} <math>, "
                f"{len(facts['unrendered'])} unrendered, {facts['mathEmpty']} empty"
            )
        if len(facts["figures"]) != len(soup.select("svg.snippets-figure")):
            problems.append(f"{path}: {len(facts['figures'])} figures after instant navigation")
        problems += [f"{path}: raw TeX {t!r} after instant navigation" for t in RAW_TEX if t in facts["text"]]
    context.close()
    assert not network.blocked, f"requests to other sites: {network.blocked}"
    assert not errors, "console errors during instant navigation:\n" + report(errors)
    assert not problems, report(problems)


def test_phone_width_no_sideways_page_and_readable_figures(browser, base_url, paths):
    """At 390 px the page never scrolls sideways (wide formulas, code and figures scroll in their
    own box), and figure text is drawn at 8 px or more rather than shrunk with the figure."""
    context = browser.new_context(viewport=PHONE, color_scheme="light", device_scale_factor=1)
    Network(context)
    page = context.new_page()
    problems = []
    for path in paths:
        page.goto(base_url + path, wait_until="networkidle")
        facts = page.evaluate("""() => {
            const limit = document.documentElement.clientWidth;
            const figures = [...document.querySelectorAll('.md-content svg.snippets-figure')]
              .filter((svg) => svg.checkVisibility()).map((svg) => {
                const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
                const sizes = [...svg.querySelectorAll('text')].map((t) => parseFloat(getComputedStyle(t).fontSize));
                return {id: svg.id, smallest: sizes.length ? Math.min(...sizes) * scale : null};
              });
            const images = [...document.querySelectorAll('.md-content img')]
              .filter((img) => img.getBoundingClientRect().right > limit + 1).map((img) => img.src.slice(0, 60));
            return {width: document.documentElement.scrollWidth, limit, figures, images};
        }""")
        if facts["width"] > facts["limit"] + 1:
            problems.append(f"{path or '/'}: the page is {facts['width']} px wide in a {facts['limit']} px viewport")
        problems += [f"{path or '/'}: image wider than the screen: {src}" for src in facts["images"]]
        problems += [
            f"{path or '/'}#{figure['id']}: text drawn at {figure['smallest']:.1f} px"
            for figure in facts["figures"]
            if figure["smallest"] is not None and figure["smallest"] < 8
        ]
    context.close()
    assert not problems, report(problems)


# --- links and anchors (no browser needed) -------------------------------------------------------

LINKS = [
    ("a", "href"),
    ("link", "href"),
    ("img", "src"),
    ("script", "src"),
    ("source", "src"),
    ("iframe", "src"),
    ("use", "href"),
    ("use", "xlink:href"),
]
OFF_SITE = re.compile(r"^([a-z][a-z0-9+.-]*:|//)", re.I)  # http:, mailto:, data:, javascript:, //host


def test_every_link_and_anchor_resolves(built_site):
    """Every relative link in the built HTML (Markdown's and what code blocks print) reaches a file,
    and its #fragment an element on that page. htmlproofer checks the same during the build."""
    pages = {
        path.relative_to(built_site).as_posix(): BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for path in built_site.rglob("*.html")
        if path.name != "404.html"
    }  # 404 uses site_url's path
    ids = {
        name: {el.get("id") for el in soup.find_all(id=True)}
        | {el.get("name") for el in soup.find_all("a", attrs={"name": True})}
        for name, soup in pages.items()
    }
    problems = []
    for name, soup in pages.items():
        here = PurePosixPath(name).parent
        for tag, attribute in LINKS:
            for element in soup.find_all(tag, attrs={attribute: True}):
                link = element[attribute].strip()
                if not link or OFF_SITE.match(link):
                    continue
                parts = urlsplit(link)
                target = name if not parts.path else _resolve(here, unquote(parts.path))
                if target is None or not (built_site / target).is_file():
                    problems.append(f"{name}: <{tag} {attribute}={link!r}>: no such file")
                elif parts.fragment and target in ids and unquote(parts.fragment) not in ids[target]:
                    problems.append(f"{name}: <{tag} {attribute}={link!r}>: no id {parts.fragment!r} in {target}")
    assert not problems, "broken links:\n" + report(problems)


def _resolve(here: PurePosixPath, path: str) -> str | None:
    parts: list[str] = [] if path.startswith("/") else list(here.parts)
    for part in PurePosixPath(path.lstrip("/")).parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part != ".":
            parts.append(part)
    resolved = "/".join(parts)
    return (
        (resolved + "/index.html").lstrip("/") if path.endswith("/") or not PurePosixPath(resolved).suffix else resolved
    )


def figure_facts(page) -> list[dict]:
    """Every visible figure of the page: its box's widths and the smallest text it draws, in px."""
    return page.evaluate("""() => [...document.querySelectorAll('.md-content svg.snippets-figure')]
        .filter((svg) => svg.checkVisibility()).map((svg) => {
          const box = svg.closest('.snippets-figure-box') || svg.parentElement;
          const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
          const sizes = [...svg.querySelectorAll('text')].map((t) => parseFloat(getComputedStyle(t).fontSize));
          return {id: svg.id, scroll: box.scrollWidth, client: box.clientWidth,
                  smallest: sizes.length ? Math.min(...sizes) * scale : null};
        })""")


def test_every_figure_fits_a_phone_and_reads_at_11_px_on_a_desktop(browser, base_url, paths):
    """At 390 px no figure is wider than its column (each page draws a narrow variant where needed,
    so every legend is on screen with no sideways scrolling); at 1280 px figure text is 11 px or more."""
    problems = []
    for viewport, check in ((PHONE, "fits"), ({"width": 1280, "height": 900}, "text")):
        context = browser.new_context(viewport=viewport, color_scheme="light", device_scale_factor=1)
        Network(context)
        page = context.new_page()
        for path in paths:
            page.goto(base_url + path, wait_until="networkidle")
            for figure in figure_facts(page):
                where = f"{path or '/'}#{figure['id']}"
                if check == "fits" and figure["scroll"] > figure["client"] + 1:
                    problems.append(f"{where}: {figure['scroll']} px wide in a {figure['client']} px column at 390 px")
                if check == "text" and figure["smallest"] is not None and figure["smallest"] < 11 - 0.05:
                    problems.append(f"{where}: text drawn at {figure['smallest']:.1f} px at 1280 px")
        context.close()
    assert not problems, report(problems)
