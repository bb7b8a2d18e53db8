"""Build the real site once (`mkdocs build --strict`) and check what a reader would see."""

import inspect
import re
from pathlib import Path, PurePosixPath

import pytest
import yaml
from bs4 import BeautifulSoup

from snippets.cells import lstm_step
from snippets.site.include import without_docstring

pytestmark = pytest.mark.site  # needs the site extra (mkdocs and its plugins): see tests/conftest.py

REPO = Path(__file__).resolve().parents[1]
REMOTE = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)


@pytest.fixture(scope="module")
def site(built_site):
    return built_site  # built once per session (tests/conftest.py), shared with the browser tests


@pytest.fixture(scope="module")
def pages(site):
    """{path relative to the site: parsed HTML} for every HTML page."""
    return {
        str(path.relative_to(site)): BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for path in sorted(site.rglob("*.html"))
    }


def nav_sources(nav) -> list[str]:
    """The source files named in an mkdocs.yml `nav:` (nested lists of strings or {title: ...})."""
    items = nav.values() if isinstance(nav, dict) else nav if isinstance(nav, list) else [nav]
    return [source for item in items for source in ([item] if isinstance(item, str) else nav_sources(item))]


def built_path(source: str) -> str:
    """Where MkDocs (use_directory_urls) writes a page: a.md -> a/index.html, index.md -> index.html."""
    path = PurePosixPath(source)
    stem_dir = path.parent if path.stem in ("index", "README") else path.parent / path.stem
    return str(stem_dir / "index.html")


def text_outside_code(soup: BeautifulSoup) -> str:
    """All text of the page (title, navigation, table of contents, article) except code."""
    copy = BeautifulSoup(str(soup), "html.parser")
    for element in copy.find_all(["pre", "code", "script", "style"]):
        element.decompose()
    return copy.get_text(" ")


def test_every_nav_page_is_built_with_a_title(pages):
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    sources = nav_sources(config["nav"])
    assert "index.md" in sources and "lstm-cell.md" in sources
    for source in sources:
        path = built_path(source)
        assert path in pages, f"nav entry {source} was not built at {path}"
        assert pages[path].select_one("article h1"), f"{path} has no <h1> in its article"


def test_lstm_page_has_inline_svg_figures_with_alt_text(pages):
    figures = pages["lstm-cell/index.html"].select("figure")
    svgs = [svg for figure in figures for svg in figure.select("svg.snippets-figure")]
    assert len(svgs) >= 1, "no inline SVG figure on the LSTM page"
    for svg in svgs:
        alt = svg.get("aria-label", "")
        assert svg.get("role") == "img" and len(alt) > 40, f"figure without a real text alternative: {alt!r}"
        assert svg.find("title").get_text() == alt
        assert svg.find("text"), "figure text should be SVG <text> (svg.fonttype none)"
        caption = svg.find_parent("figure").find("figcaption")
        assert caption and len(caption.get_text(strip=True)) > 40, "figure without a caption"


def test_ids_are_unique_on_every_page(pages):
    # Several SVG figures on one page must not share clip-path or marker ids.
    for path, soup in pages.items():
        ids = [element["id"] for element in soup.find_all(id=True)]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        assert not duplicates, f"{path}: duplicate ids {duplicates[:10]}"


def test_math_is_mathml_and_no_tex_is_left(pages):
    assert len(pages["lstm-cell/index.html"].find_all("math")) >= 20
    for path, soup in pages.items():
        for wrapper in soup.select(".arithmatex"):
            assert wrapper.find("math"), f"{path}: math left unrendered: {wrapper.get_text()[:80]!r}"
        text = text_outside_code(soup)
        for delimiter in ("\\(", "\\[", "$$", "\\begin{"):
            assert delimiter not in text, f"{path}: raw TeX {delimiter!r} in: {text[text.find(delimiter) :][:80]!r}"


def test_lstm_page_includes_the_real_source(pages):
    blocks = [pre.get_text() for pre in pages["lstm-cell/index.html"].select("pre")]
    expected = without_docstring(inspect.getsource(lstm_step)).rstrip()  # the page renders the docstring
    assert any("def lstm_step" in block for block in blocks)
    assert any(block.rstrip() == expected for block in blocks), "lstm_step's source is not shown verbatim"


def test_no_traceback_anywhere(site):
    for path in [*site.rglob("*.html"), site / "search" / "search_index.json"]:
        text = path.read_text(encoding="utf-8")
        assert "Traceback" not in text and "Error reading page" not in text, f"error text in {path}"


def test_nothing_is_loaded_from_another_site(site, pages):
    for path, soup in pages.items():
        for element in soup.find_all("link", rel="canonical"):
            element.decompose()  # names the page's public address (site_url); nothing loads it
        for tag, attribute in [
            ("script", "src"),
            ("link", "href"),
            ("img", "src"),
            ("iframe", "src"),
            ("source", "src"),
            ("video", "src"),
            ("audio", "src"),
        ]:
            for element in soup.find_all(tag, attrs={attribute: True}):
                assert not REMOTE.match(element[attribute]), f"{path}: <{tag} {attribute}={element[attribute]!r}>"
        for script in soup.find_all("script", src=False):
            assert not re.search(r"https?://", script.get_text()), f"{path}: inline script names a URL"
    for path in [*site.rglob("*.html"), *site.rglob("*.css"), *site.rglob("*.js")]:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert "fonts.googleapis.com" not in text and "fonts.gstatic.com" not in text, f"Google Fonts in {path}"


def test_the_home_page_links_every_page_in_its_body(pages):
    """The entry page orients every reader: each page and notebook is reachable from its text."""
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    hrefs = [a["href"].split("#")[0] for a in pages["index.html"].select("article a[href]")]
    linked = {str(PurePosixPath(href) / "index.html") for href in hrefs if href and not REMOTE.match(href)}
    missing = [s for s in nav_sources(config["nav"]) if s != "index.md" and built_path(s) not in linked]
    assert not missing, f"the home page's body links none of {missing}"
