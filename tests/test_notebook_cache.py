"""The notebook cache: keyed by the code the notebooks import; a damaged entry is dropped, not trusted."""

import json
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from snippets.experiments import cache
from snippets.site import notebook_cache

pytestmark = pytest.mark.site  # needs the site extra (mkdocs and its plugins): see tests/conftest.py

DOCS = Path(__file__).resolve().parents[1] / "docs"


def notebook(path: Path, *cells: str) -> Path:
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": [c]} for c in cells]}), encoding="utf-8")
    return path


def test_the_modules_a_notebook_imports_are_read_from_its_code_cells(tmp_path):
    nb = notebook(
        tmp_path / "a.ipynb",
        "%matplotlib inline\nimport torch\nfrom snippets import LSTM",
        "def f():\n    import snippets.tasks as t\n    from snippets.experiments import recall",
    )
    assert notebook_cache.imported_modules([nb]) == ["snippets", "snippets.experiments", "snippets.tasks"]


def test_the_site_notebooks_are_fingerprinted_by_what_they_import():
    notebooks = sorted(DOCS.rglob("*.ipynb"))
    assert notebooks and all(m.startswith("snippets") for m in notebook_cache.imported_modules(notebooks))
    assert notebook_cache.code_fingerprint(notebooks) == notebook_cache.code_fingerprint(notebooks)


def test_unreadable_entries_are_dropped_with_a_warning(tmp_path):
    good, truncated, binary = tmp_path / "good.json", tmp_path / "cut.json", tmp_path / "bin.json"
    good.write_text(json.dumps({"content": "<p>ok</p>"}), encoding="utf-8")
    truncated.write_text(good.read_text(encoding="utf-8")[:-5], encoding="utf-8")
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.warns(RuntimeWarning, match="is unreadable") as warned:
        dropped = notebook_cache.drop_unreadable(tmp_path)
    assert dropped == [binary, truncated] and good.exists() and not truncated.exists()
    assert sorted(str(w.message).split()[3] for w in warned) == ["bin.json", "cut.json"]


@pytest.mark.parametrize("dirty", [False, True])
def test_prepare_keeps_this_codes_folder_and_drops_only_its_own_older_ones(tmp_path, monkeypatch, dirty):
    """Older folders of this cache go; whatever else sits in `notebooks/` stays; dirty builds keep all entries."""
    monkeypatch.setenv("SNIPPETS_CACHE_DIR", str(tmp_path / "root"))
    plugin = SimpleNamespace(config={"cache": True, "cache_dir": ""}, _used_cache_paths=set())
    nb = notebook(tmp_path / "n.ipynb", "from snippets import LSTM")
    parent = cache.root() / "notebooks"  # the root, made and tagged as the project's
    folder = parent / notebook_cache.code_fingerprint([nb])[:16]
    older, foreign, readme = parent / "0123456789abcdef", parent / "my-notes", parent / "README"
    for made in (folder, older, foreign):
        made.mkdir(parents=True, exist_ok=True)
    readme.write_text("mine", encoding="utf-8")
    (folder / "entry.json").write_text("{}", encoding="utf-8")
    assert notebook_cache.prepare(plugin, [nb], dirty) == folder
    assert plugin.config["cache_dir"] == str(folder) and not older.exists()
    assert foreign.is_dir() and readme.read_text(encoding="utf-8") == "mine"
    assert plugin._used_cache_paths == ({folder / "entry.json"} if dirty else set())


class FakePlugin:
    """mkdocs-jupyter's part in prefetch: on_pre_page gives the page the render that runs its notebook."""

    def __init__(self, fail=()):
        self.fail, self.ran = set(fail), []

    def on_pre_page(self, page, config, files):
        def render(config, files):
            time.sleep(0.05)  # a notebook takes a while
            if page.file.src_uri in self.fail:
                raise RuntimeError(f"a cell of {page.file.src_uri} failed")
            self.ran.append(page.file.src_uri)
            page.content = f"executed {page.file.src_uri}"

        page.render = render
        return page


def fake_page(name):
    return SimpleNamespace(file=SimpleNamespace(src_uri=name), content=None)


def test_notebooks_run_in_the_background_in_order_and_their_pages_wait_for_them():
    plugin, pages = FakePlugin(), [fake_page("a.ipynb"), fake_page("b.ipynb")]
    futures = notebook_cache.prefetch(plugin, pages, config=None, files=None)
    assert sorted(futures) == ["a.ipynb", "b.ipynb"]
    page = pages[1]
    plugin.on_pre_page(page, None, None)  # the page's own turn: mkdocs-jupyter sets its render again
    notebook_cache.wait_before_render(page, futures["b.ipynb"])
    page.render(None, None)
    assert plugin.ran == ["a.ipynb", "b.ipynb", "b.ipynb"]  # the background runs first, one after the other
    assert notebook_cache.prefetch(plugin, [], None, None) == {}


def test_a_failing_notebook_fails_its_page():
    plugin, page = FakePlugin(fail={"bad.ipynb"}), fake_page("bad.ipynb")
    futures = notebook_cache.prefetch(plugin, [page], None, None)
    notebook_cache.wait_before_render(page, futures["bad.ipynb"])
    with pytest.raises(RuntimeError, match="a cell of bad.ipynb failed"):
        page.render(None, None)
