"""Executed notebooks, kept while neither they nor the code they import change.

mkdocs-jupyter can cache a rendered notebook, but its key is only the notebook's bytes and the
plugin's settings: after an edit to `snippets` it would serve outputs of the old code. So each
build points its `cache_dir` at a folder named by a fingerprint of the code the notebooks can
reach: the `snippets` modules their code cells import, followed transitively by the same rule as
the experiment cache (`snippets.experiments.cache.fingerprint`), and torch's version. A code change
moves the build to a new, empty folder and every notebook runs again.

The folders live in `notebooks/` under the project's cache root, which the project owns; the
folders of older code are deleted there, and nothing else is.

A notebook that must run does so in the background (`prefetch`), from the moment the pages are
known: its kernel is a process of its own, so it runs on the second core while this process renders
the other pages, and the notebook's page waits for it only when its turn comes.

mkdocs-jupyter deletes the entries a build did not use, and a dirty build (`mkdocs serve --dirty`)
renders only the changed pages: there, every entry counts as used, so that editing one page does
not throw away the executed notebooks. mkdocs-jupyter writes its entries in place, so a build
killed mid-write can leave a truncated one: before the pages render, an entry that is not valid
JSON is deleted with a warning, and its notebook runs again.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from snippets.experiments import cache

FOLDER = re.compile(r"^[0-9a-f]{16}$")  # the names this module gives its folders


def imported_modules(notebooks: list[Path]) -> list[str]:
    """The `snippets` modules the code cells of `notebooks` import (lines of IPython magic skipped)."""
    found = set()
    for notebook in notebooks:
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
            for node in ast.walk(ast.parse(code)):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module]
                    if isinstance(node, ast.ImportFrom) and node.module
                    else []
                )
                found.update(name for name in names if name.partition(".")[0] == "snippets")
    return sorted(found)


def code_fingerprint(notebooks: list[Path]) -> str:
    """The fingerprint of the code the notebooks can reach (`snippets.experiments.cache.fingerprint`)."""
    return cache.fingerprint(imported_modules(notebooks) or ["snippets"])


def drop_unreadable(folder: Path) -> list[Path]:
    """Delete the entries in `folder` that are not valid JSON; return them."""
    dropped = []
    for entry in sorted(folder.glob("*.json")):
        try:
            json.loads(entry.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            warnings.warn(
                f"notebook cache entry {entry.name} is unreadable ({err}); its notebook runs again",
                RuntimeWarning,
                stacklevel=2,
            )
            entry.unlink(missing_ok=True)
            dropped.append(entry)
    return dropped


def prepare(plugin, notebooks: list[Path], dirty: bool) -> Path:
    """Point mkdocs-jupyter's cache at this code's folder; drop older code's folders and damaged entries."""
    parent = cache.folder("notebooks")
    folder = parent / code_fingerprint(notebooks)[:16]
    plugin.config["cache_dir"] = str(folder)
    if parent.is_dir():
        for other in parent.iterdir():
            if other != folder and other.is_dir() and FOLDER.match(other.name):  # ours, of code no longer on disk
                shutil.rmtree(other, ignore_errors=True)
    if folder.is_dir():
        drop_unreadable(folder)
        if dirty:  # keep the notebooks this build will not render (mkdocs-jupyter 0.26's own set)
            plugin._used_cache_paths.update(folder.glob("*.json"))
    return folder


def prefetch(plugin, pages: list, config, files) -> dict[str, Future]:
    """Render the notebook `pages` in a background thread, one after the other, as mkdocs-jupyter
    renders them (its own `on_pre_page` and page `render`, which execute the notebook and write
    its cache entry); {page's src_uri: the render's future}. `wait_before_render` makes a page
    wait for its future, whose error (a failing cell) then stops the build on that page."""
    if not pages:
        return {}
    runner = ThreadPoolExecutor(1, thread_name_prefix="notebooks")
    futures = {}
    for page in pages:
        plugin.on_pre_page(page, config, files)  # the render that reads or fills the cache entry
        futures[page.file.src_uri] = runner.submit(page.render, config, files)
    runner.shutdown(wait=False)
    return futures


def wait_before_render(page, future: Future) -> None:
    """Make `page.render` wait for `future` (its notebook's background run) first; by then the
    cache entry is there, and the render reads it."""
    render = page.render

    def waited(config, files):
        future.result()
        return render(config, files)

    page.render = waited
