"""The site's MkDocs hooks, all of them (registered under `hooks:` in mkdocs.yml).

Before any page renders, every experiment is run or loaded from the cache (`on_pre_build`), so
pages only read results and the build report can list what this build computed; executed
notebooks are kept while their code is unchanged (`snippets.site.notebook_cache`), and so is the
printed output of each code block (`snippets.site.block_cache`); each build is logged for the
build report (`snippets.site.build_log`); the gate lab's weights are published next to its page
(`on_files`, `snippets.site.gatelab`).

Math: pymdownx.arithmatex (generic mode) leaves TeX in `<span class="arithmatex">\\(...\\)</span>` and
`<div class="arithmatex">\\[...\\]</div>`; notebook pages get the same markup (see
`snippets.site.notebooks`). We replace the TeX with MathML at build time, so pages need no math
renderer and load nothing from a CDN. Malformed TeX raises `PluginError` naming the page and the
TeX, which stops the build. markdown-exec's warnings about a failing block get the page's name.

Under `mkdocs serve` no build waits for the experiments the cache lacks (`snippets.site.serving`):
they are computed behind the pages, which show labelled placeholders for them
(`snippets.site.placeholders`) and fill in as they land. A page of any other build that holds a
placeholder stops the build (`on_post_page`): a built site shows finished results only.
"""

import hashlib
import html
import importlib
import logging
import os
import re
import time
from importlib import metadata
from pathlib import Path

import torch
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File
from mkdocs.structure.toc import get_toc

from snippets import experiments
from snippets.experiments import cache
from snippets.figures import svg_cache
from snippets.site import (
    a11y,
    block_cache,
    build_log,
    gatelab,
    notebook_cache,
    notebooks,
    pagenames,
    placeholders,
    proofer,
)
from snippets.site.mathml import TexError, tex_to_mathml
from snippets.site.serving import SERVING, reading_order

log = logging.getLogger("mkdocs.plugins.snippets")
_LATEX2MATHML = metadata.version("latex2mathml")  # part of the kept MathML's key

_ARITHMATEX = re.compile(r'<(span|div)(\s[^>]*class="arithmatex"[^>]*)>(.*?)</\1>', re.DOTALL)
_DELIMITERS = {("\\(", "\\)"): False, ("\\[", "\\]"): True}  # -> display?
_INLINE_TEX = re.compile(r"\\\((.+?)\\\)", re.DOTALL)  # in a heading's text: \(...\)


_dirty = False  # `mkdocs serve --dirty`: only changed pages are rebuilt
_notebook_runs: dict = {}  # notebook page -> its background run (notebook_cache.prefetch)
_notebook_waiting: dict = {}  # notebook page -> its placeholder (text, name, kind), `mkdocs serve` only
_threads = None  # torch's threads before the pages render (on_nav), given back after the build
_started = time.perf_counter()


def on_startup(command, dirty):
    global _dirty
    _dirty = dirty
    SERVING.startup(command)  # "serve": builds show pages first, experiments fill in (snippets.site.serving)


def on_serve(server, config, builder):
    SERVING.watch(server)  # rebuild as the background experiments land
    return server


def on_shutdown():
    SERVING.shutdown()  # ends the background runner and its workers


def experiments_module(config) -> str:
    """Where the site's experiments are listed (`ALL`, `SIDE_BY_SIDE`): `extra.experiments_module`,
    default `snippets.experiments` (a test's tiny site names a module of its own)."""
    return config.extra.get("experiments_module", "snippets.experiments")


def on_config(config):
    global _started
    _started = time.perf_counter()  # each build of `mkdocs serve` starts here too
    # One cache for the whole build, next to mkdocs.yml, whatever folder code runs in: notebooks
    # execute in their own folder, and their kernels inherit this process's environment.
    default = Path(config.config_file_path).resolve().parent / ".cache" / "snippets"
    os.environ.setdefault("SNIPPETS_CACHE_DIR", str(default))
    # `mkdocs serve`: start computing the experiments the cache lacks, behind the pages.
    run = config.extra.get("run_experiments", True)  # a site of other pages (the tests' tiny ones) sets false
    background = SERVING.prepare(experiments_module(config) if run else None)
    # A dirty build rebuilds only the changed pages, so links into the others look broken, and so
    # do anchors inside a placeholder's block: the link check belongs to full builds (the strict
    # ones in tests, CI and the Pages workflow).
    if (_dirty or background) and "htmlproofer" in config.plugins:
        config.plugins["htmlproofer"].config["enabled"] = False
    notebooks.use_arithmatex_markup()
    pagenames.install()
    block_cache.install()  # a block's output is kept while its code and the results it read are unchanged
    proofer.install()  # the link check skips the inside of figures and formulas
    proofer.install_search()  # so does the search index
    return config


def on_pre_build(config) -> None:
    changed = cache.stale()
    if changed:  # under `mkdocs serve`: the process still has the old code loaded
        log.warning(
            f"snippets changed on disk since this process started ({', '.join(changed)}): its experiments "
            "refuse to run or load results for the changed code (StaleCodeError); restart `mkdocs serve`"
        )
    cache.clear_report()
    block_cache.start_build()
    run = config.extra.get("run_experiments", True)
    if SERVING.begin_build(_dirty):
        _record_hits(experiments_module(config))  # the rest are computed behind the pages
    elif run:
        _run_experiments(experiments_module(config))
    plugin = config.plugins.get("mkdocs-jupyter")
    if plugin is not None and plugin.config["cache"]:
        notebook_cache.prepare(plugin, sorted(Path(config.docs_dir).rglob("*.ipynb")), _dirty)


def _run_experiments(module_name: str) -> None:
    if module_name == "snippets.experiments":
        experiments.run_all()  # keeps its wall clock for the build report
    else:
        module = importlib.import_module(module_name)
        cache.run_experiments(module.ALL, getattr(module, "SIDE_BY_SIDE", ()))


def _record_hits(module_name: str) -> None:
    """Record the experiments already in the cache (for the build report); the others raise Pending."""
    for fn, config in importlib.import_module(module_name).ALL:
        try:
            fn(config, load=False)
        except cache.Pending:
            pass


def on_build_error(error):
    SERVING.end_build(failed=True)


def on_nav(nav, config, files):
    """Start the notebooks that must run, in the background, while the other pages render.

    From here on this process and the notebooks' kernels use one thread each: with two on each, two
    processes on two cores spin in torch's thread pools (a cold build's pages took 38 s, against 25 s).
    """
    global _threads
    _threads = torch.get_num_threads()
    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"  # read by torch in each kernel as it starts
    plugin = config.plugins.get("mkdocs-jupyter")
    _notebook_runs.clear()
    _notebook_waiting.clear()
    if plugin is not None and plugin.config["cache"] and plugin.config["execute"]:
        pages = [page for page in nav.pages if plugin.should_include(page.file)]
        if SERVING.pending:  # `mkdocs serve` while experiments run: some notebooks wait
            names = [fn.experiment_name for fn, _ in importlib.import_module(experiments_module(config)).ALL]
            pages, waiting = SERVING.plan_notebooks(plugin, pages, config, files, names)
            _notebook_waiting.update(waiting)
        for page in list(pages):  # running in the background since an earlier build: wait for that run
            future = SERVING.notebooks.get(page.file.src_uri)
            if future is not None and not future.done():
                _notebook_runs[page.file.src_uri] = future
                pages.remove(page)
        if not _dirty:
            _notebook_runs.update(notebook_cache.prefetch(plugin, pages, config, files))
    return nav


def on_pre_page(page, config, files):
    future = _notebook_runs.pop(page.file.src_uri, None)
    if future is not None:  # after mkdocs-jupyter's own on_pre_page: hooks come after plugins
        notebook_cache.wait_before_render(page, future)
    waiting = _notebook_waiting.pop(page.file.src_uri, None)
    if waiting is not None:
        content = placeholders.notebook(*waiting)

        def render(config, files):
            page.content, page.toc = content, get_toc([])

        page.render = render
    return page


def on_files(files, config):
    """Publish the gate lab's weights next to its page, and its script minified (`snippets.site.gatelab`)."""
    if SERVING.pending:
        reading_order(files, config.nav)  # pages render, and tell what they wait for, in reading order
    script = files.get_file_from_path(gatelab.SCRIPT)
    if script is not None:
        files.remove(script)
        files.append(File.generated(config, gatelab.SCRIPT, content=gatelab.minified_script(script.content_string)))
    if files.get_file_from_path(gatelab.PAGE) is not None:
        try:  # kept like a block's output (ASCII JSON, so text): reading the trained weights takes a while
            published = block_cache.cached_value(
                "gate lab weight files", lambda: {path: data.decode() for path, data in gatelab.weight_files().items()}
            )
        except cache.Pending:  # `mkdocs serve` computes the lab; its page shows placeholders meanwhile
            published = {}
        for path, content in published.items():
            files.append(File.generated(config, path, content=content))
    return files


def on_page_markdown(markdown, page, config, files):
    pagenames.NAMER.page = page.file.src_uri  # markdown-exec runs while this page renders
    return markdown


def on_post_build(config):
    if _threads is not None:  # `mkdocs serve`: the next build's experiments run as the first's did
        torch.set_num_threads(_threads)
    pagenames.NAMER.page = None
    # a full build of every page, with every result: a dirty build renders some pages only, and a
    # build of `mkdocs serve` with placeholders drew only some figures; the others' entries stay
    if not _dirty and config.extra.get("run_experiments", True) and not SERVING.pending:
        svg_cache.prune()
        block_cache.drop_unused()
    seconds = time.perf_counter() - _started
    build_log.append(build_log.log_path(), build_log.entry(cache.report(), seconds, _dirty))
    SERVING.end_build()


def on_post_page(output, page, config):
    """Name Material's search dialog; let figures and equations scroll (see `snippets.site.a11y`).

    Stops a build whose page holds a placeholder: only `mkdocs serve`, while experiments run, shows them.
    """
    waits = placeholders.found(output)
    if waits and not SERVING.pending:
        raise PluginError(
            f"page '{page.file.src_uri}' holds placeholders for {', '.join(waits)}; a built page shows "
            "finished results only (placeholders belong to `mkdocs serve` while experiments run)"
        )
    SERVING.page_built(page.file.abs_dest_path, waits)
    if waits:  # the placeholders' progress, kept up to date between rebuilds
        SERVING.site_dir = config.site_dir
        output = output.replace(
            "</body>", placeholders.live_progress(SERVING.progress_url(config.site_url)) + "</body>"
        )
    return _kept(
        "page markup",
        output,
        lambda: a11y.math_scroll_focus(a11y.figure_scroll_boxes(a11y.label_search_dialog(output))),
    )


def on_page_content(html_text, page, config, files):
    """Render the page's math as MathML; strip CDN scripts from notebook pages."""
    name = page.file.src_uri
    html_text = placeholders.fill_values(html_text, SERVING.describe)  # facts still pending (`mkdocs serve`)
    SERVING.page_rendered()
    try:
        html_text = render_math(html_text)
        _render_headings(page)
    except TexError as error:
        raise PluginError(f"Malformed math on page '{name}': {error}") from None
    if notebooks.is_notebook(page):
        html_text = notebooks.clean_notebook_html(html_text, name)
    return html_text


def render_math(html_text: str) -> str:
    """Replace the TeX in every arithmatex element with MathML, keeping the element itself."""
    return _kept(f"math (latex2mathml {_LATEX2MATHML})", html_text, lambda: _ARITHMATEX.sub(_render_one, html_text))


def _kept(what: str, page_html: str, compute) -> str:
    """`compute()`, a function of `page_html` alone, kept between builds like a block's output: a
    warm build then spends no time on pages that did not change (this code changing is a new key)."""
    digest = hashlib.sha256(page_html.encode()).hexdigest()
    return block_cache.cached_value(f"{what} of a page {digest}", compute)


def _render_headings(page) -> None:
    """Math in headings: MathML in the table of contents, plain TeX source in the page title.

    The toc extension keeps a heading's text, so the sidebar would show "\\(f_t\\)" verbatim.
    """

    def render(item):
        item.title = _INLINE_TEX.sub(lambda m: tex_to_mathml(html.unescape(m.group(1))), item.title)
        for child in item.children:
            render(child)

    for item in page.toc:
        render(item)
    if page.title and "\\(" in page.title:  # a <title> cannot hold markup
        page.title = _INLINE_TEX.sub(lambda m: m.group(1).strip(), page.title)


def _render_one(match: re.Match) -> str:
    tag, attributes, body = match.groups()
    tex, display = _unwrap(html.unescape(body).strip())
    return f"<{tag}{attributes}>{tex_to_mathml(tex, display)}</{tag}>"


def _unwrap(text: str) -> tuple[str, bool]:
    for (opening, closing), display in _DELIMITERS.items():
        if text.startswith(opening) and text.endswith(closing):
            return text[len(opening) : -len(closing)].strip(), display
    raise TexError(f"expected math wrapped in \\( \\) or \\[ \\], got {text!r}")
