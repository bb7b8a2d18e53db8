"""The link check (mkdocs-htmlproofer-plugin) and the search index without reading the inside of figures.

The plugin parses every page's whole HTML, twice, with Python's `html.parser`: to collect the
anchors a page provides, and to find its links. On this site most of that HTML is inline SVG
figures (two per figure, one for phones), whose paths, clip paths and glyphs hold no link and no
anchor a link could target, and parsing them was a quarter of a warm build. `install()` hands
the plugin each page with every `<svg>` element's content removed and its opening tag kept (its
`id` stays an anchor), and likewise every `<math>` element (MathML holds no links either).
Links and anchors outside figures and formulas are checked exactly as before. The anchors a page
provides (its ids, and the names of its `<a name>` tags, outside `<template>`) are read with a
regular expression instead of a parser: `tests/test_proofer.py` holds it equal to the plugin's own
reading on every page of a built site.

`install_search()` does the same for Material's search plugin: figures' tick labels and legends
and formulas' MathML were indexed as if they were the page's words. It also keeps each page's
search entries between builds (`snippets.site.block_cache.cached_value`), keyed by what they are
made of: the page's HTML, address, title and metadata, and Material's version.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from importlib import metadata

_TEMPLATE = re.compile(r"(<template\b[^>]*>).*?</template>", re.DOTALL)
_ID = re.compile(r"<[a-zA-Z][\w:-]*\s[^>]*?(?<=[\s\"'])id=\"([^\"]*)\"")
_NAME = re.compile(r"<a\s[^>]*?(?<=[\s\"'])name=\"([^\"]*)\"")
_BODIES = re.compile(r"(<(svg|math)\b[^>]*>).*?</\2>", re.DOTALL)


def without_figure_bodies(markup):
    """`markup` with each `<svg>` and `<math>` element emptied (its opening tag kept); non-text
    passes through."""
    return _BODIES.sub(r"\1</\2>", markup) if isinstance(markup, str) else markup


def read_anchors(rendered_content: str) -> frozenset[str]:
    """The ids and `<a name>` names of a rendered page, outside `<template>` elements."""
    text = _TEMPLATE.sub(r"\1", without_figure_bodies(rendered_content))  # a template keeps its own id
    return frozenset(html.unescape(v) for v in _ID.findall(text) + _NAME.findall(text))


def install() -> None:
    """Make the plugin's HTML parser skip figure bodies (once per process; no-op without the plugin)."""
    try:
        from htmlproofer import plugin
    except ImportError:
        return
    if getattr(plugin.BeautifulSoup, "snippets_skips_figures", False):
        return
    original = plugin.BeautifulSoup

    def soup(markup="", *args, **kwargs):
        return original(without_figure_bodies(markup), *args, **kwargs)

    soup.snippets_skips_figures = True
    plugin.BeautifulSoup = soup
    plugin.read_anchors = read_anchors


def install_search() -> None:
    """Make Material's search plugin index each page without its figures' and formulas' insides (once
    per process)."""
    try:
        from material.plugins.search import plugin
    except ImportError:
        return
    if getattr(plugin.Parser.feed, "snippets_skips_figures", False):
        return
    original = plugin.Parser.feed

    def feed(self, data):
        return original(self, without_figure_bodies(data))

    feed.snippets_skips_figures = True
    plugin.Parser.feed = feed
    plugin.SearchIndex.add_entry_from_context = _kept_entries(plugin.SearchIndex.add_entry_from_context)


def _kept_entries(add):
    """`SearchIndex.add_entry_from_context`, its entries for a page kept while the page is the same."""
    from snippets.site import block_cache

    def add_entry_from_context(self, page):
        made_of = [page.url, str(page.title), page.meta, page.content, metadata.version("mkdocs-material")]
        label = "search entries " + hashlib.sha256(json.dumps(made_of, default=str).encode()).hexdigest()
        before = len(self.entries)

        def compute():
            add(self, page)
            return self.entries[before:]

        entries = block_cache.cached_value(label, compute)
        if len(self.entries) == before:  # served from the cache
            self.entries.extend(entries)

    return add_entry_from_context
