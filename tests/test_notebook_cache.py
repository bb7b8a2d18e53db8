"""The notebook cache: keyed by the code the notebooks import; a damaged entry is dropped, not trusted."""

import json
import shutil
from pathlib import Path

import pytest

import snippets
from snippets.site import notebook_cache

PACKAGE = Path(snippets.__file__).parent


@pytest.fixture
def package(tmp_path):
    copy = tmp_path / "snippets"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_the_fingerprint_reads_the_code_on_disk(package):
    assert notebook_cache.code_fingerprint(package) == notebook_cache.code_fingerprint(PACKAGE)


@pytest.mark.parametrize("change", ["edit a module", "add a module", "rename a module"])
def test_any_change_to_the_code_changes_the_fingerprint(package, change):
    before = notebook_cache.code_fingerprint(package)
    tasks = package / "tasks.py"
    if change == "edit a module":
        tasks.write_text(tasks.read_text(encoding="utf-8").replace("0.04", "0.05", 1), encoding="utf-8")
    elif change == "add a module":
        (package / "figures" / "extra.py").write_text("X = 1\n", encoding="utf-8")
    else:
        tasks.rename(package / "tasks2.py")
    assert notebook_cache.code_fingerprint(package) != before


def test_unreadable_entries_are_dropped_with_a_warning(tmp_path):
    good, truncated, binary = tmp_path / "good.json", tmp_path / "cut.json", tmp_path / "bin.json"
    good.write_text(json.dumps({"content": "<p>ok</p>"}), encoding="utf-8")
    truncated.write_text(good.read_text(encoding="utf-8")[:-5], encoding="utf-8")
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.warns(RuntimeWarning, match="is unreadable") as warned:
        dropped = notebook_cache.drop_unreadable(tmp_path)
    assert dropped == [binary, truncated] and good.exists() and not truncated.exists()
    assert sorted(str(w.message).split()[3] for w in warned) == ["bin.json", "cut.json"]


class FakePlugin:
    def __init__(self):
        self.config = {"cache": True, "cache_dir": ""}
        self._used_cache_paths = set()  # what mkdocs-jupyter 0.26 keeps; it deletes the rest


@pytest.mark.parametrize("dirty", [False, True])
def test_a_dirty_build_keeps_the_notebooks_it_does_not_render(tmp_path, monkeypatch, dirty):
    from types import SimpleNamespace
    plugin = FakePlugin()
    monkeypatch.setenv("SNIPPETS_CACHE_DIR", str(tmp_path / ".cache" / "snippets"))
    config = SimpleNamespace(plugins={"mkdocs-jupyter": plugin})
    folder = tmp_path / ".cache" / "notebooks" / notebook_cache.code_fingerprint()[:16]
    stale = tmp_path / ".cache" / "notebooks" / "0123456789abcdef"
    folder.mkdir(parents=True), stale.mkdir()
    (folder / "entry.json").write_text("{}", encoding="utf-8")
    notebook_cache.on_startup("serve", dirty)
    try:
        notebook_cache.on_pre_build(config)
    finally:
        notebook_cache.on_startup("build", False)
    assert plugin.config["cache_dir"] == str(folder) and not stale.exists()
    assert plugin._used_cache_paths == ({folder / "entry.json"} if dirty else set())
