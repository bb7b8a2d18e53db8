"""The link check reads pages without the inside of their figures, and nothing else changes."""

import pytest
from bs4 import BeautifulSoup

from snippets.site import proofer

pytestmark = pytest.mark.site  # needs the site extra (mkdocs and its plugins): see tests/conftest.py

PAGE = (
    '<h2 id="a">A</h2><svg id="fig-1" class="snippets-figure" role="img"><defs><clipPath id="p1">'
    '<rect/></clipPath></defs><path d="M 0 0"/></svg><a href="#a">to A</a>'
    '<div class="x"><svg id="fig-2"><g id="inner"/></svg></div><a href="other.md#b">B</a>'
)


def test_figures_are_emptied_and_everything_else_kept():
    out = proofer.without_figure_bodies(PAGE)
    assert out == (
        '<h2 id="a">A</h2><svg id="fig-1" class="snippets-figure" role="img"></svg><a href="#a">to A</a>'
        '<div class="x"><svg id="fig-2"></svg></div><a href="other.md#b">B</a>'
    )
    soup = BeautifulSoup(out, "html.parser")
    assert {t["id"] for t in soup.select("[id]")} == {"a", "fig-1", "fig-2"}
    assert [a["href"] for a in soup.find_all("a", href=True)] == ["#a", "other.md#b"]
    assert proofer.without_figure_bodies(None) is None


def test_install_patches_the_plugin_once():
    from htmlproofer import plugin

    proofer.install()
    patched = plugin.BeautifulSoup
    proofer.install()
    assert plugin.BeautifulSoup is patched and patched.snippets_skips_figures
    assert plugin.read_anchors(PAGE) == frozenset({"a", "fig-1", "fig-2"})


def parsed_anchors(content: str) -> frozenset:
    """The plugin's own reading (htmlproofer.plugin.read_anchors before `install`), with bs4."""
    soup = BeautifulSoup(content, "html.parser")

    def navigable(tag):
        return tag.find_parent("template") is None

    return frozenset(
        {str(t["id"]) for t in soup.select("[id]") if navigable(t)}
        | {str(t["name"]) for t in soup.select("a[name]") if navigable(t)}
    )


SAMPLE = (
    '<html><body><h2 id="x-1">T</h2><a name="old">o</a><template id="t"><p id="inside">i</p></template>'
    '<div class="a" id="b&amp;c" data-id="no">d</div><svg id="s"><g id="g"/></svg>'
    '<math><mi id="mi">x</mi></math><a href="#x" name="n2" id="both">z</a></body></html>'
)


def test_reading_anchors_by_pattern_equals_the_plugins_parser():
    # inside figures and formulas nothing counts; elsewhere exactly what the parser finds
    assert proofer.read_anchors(SAMPLE) == {"x-1", "old", "t", "b&c", "s", "n2", "both"}
    assert parsed_anchors(proofer.without_figure_bodies(SAMPLE)) == proofer.read_anchors(SAMPLE)


@pytest.mark.site
def test_reading_anchors_by_pattern_equals_the_parser_on_every_built_page(built_site):
    for page in sorted(built_site.rglob("*.html")):
        content = proofer.without_figure_bodies(page.read_text(encoding="utf-8"))
        assert proofer.read_anchors(content) == parsed_anchors(content), page


def test_a_pages_search_entries_are_kept_while_the_page_is_the_same(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from material.plugins.search.plugin import SearchIndex

    from snippets.site import block_cache

    monkeypatch.setenv("SNIPPETS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SNIPPETS_CACHE", raising=False)
    block_cache.start_build()
    calls = []

    def add(self, page):
        calls.append(page.url)
        self.entries.append({"location": page.url, "title": page.title, "text": page.content})

    kept = proofer._kept_entries(add)
    page = SimpleNamespace(url="a/", title="A", meta={}, content="<p>words</p>")
    first, second = SearchIndex(), SearchIndex()
    kept(first, page)
    kept(second, page)
    assert first.entries == second.entries == [{"location": "a/", "title": "A", "text": "<p>words</p>"}]
    assert calls == ["a/"]
    changed = SimpleNamespace(url="a/", title="A", meta={}, content="<p>other words</p>")
    kept(SearchIndex(), changed)
    assert calls == ["a/", "a/"]
