"""MkDocs hook: keep executed notebooks while neither they nor the `snippets` code change.

mkdocs-jupyter can cache a rendered notebook, but its key is only the notebook's bytes and the
plugin's settings: after an edit to `snippets` it would serve outputs of the old code. So each
build points its `cache_dir` at a folder named by a hash of the code the notebooks import (every
`.py` file of the package, and the torch version). A code change moves the build to a new,
empty folder and every notebook runs again; the folders of older code are deleted.

mkdocs-jupyter deletes the entries a build did not use, and a dirty build (`mkdocs serve --dirty`)
renders only the changed pages: there, every entry counts as used, so that editing one page does
not throw away the executed notebooks.

mkdocs-jupyter writes its entries in place, so a build killed mid-write can leave a truncated
one. Before the pages render, an entry that is not valid JSON is deleted with a warning (a Python
warning, as for experiment entries: a strict build goes on), and its notebook runs again.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from pathlib import Path

import torch

import snippets
from snippets import cache

PLUGIN = "mkdocs-jupyter"


def code_fingerprint(package: Path = Path(snippets.__file__).parent) -> str:
    """SHA-256 over every `.py` file under `package` (path and bytes, in sorted order) and torch's version."""
    digest = hashlib.sha256(f"torch {torch.__version__}\n".encode())
    for path in sorted(package.rglob("*.py")):
        digest.update(f"## {path.relative_to(package).as_posix()}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def notebook_cache_root() -> Path:
    """Beside the experiment cache (`.cache/` next to mkdocs.yml in a site build)."""
    return cache.cache_dir().parent / "notebooks"


def drop_unreadable(folder: Path) -> list[Path]:
    """Delete the entries in `folder` that are not valid JSON; return them."""
    dropped = []
    for entry in sorted(folder.glob("*.json")):
        try:
            json.loads(entry.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            warnings.warn(f"notebook cache entry {entry.name} is unreadable ({err}); its notebook runs again",
                          RuntimeWarning, stacklevel=2)
            entry.unlink(missing_ok=True)
            dropped.append(entry)
    return dropped


_dirty = False


def on_startup(command, dirty) -> None:
    global _dirty
    _dirty = dirty


def on_pre_build(config) -> None:
    plugin = config.plugins.get(PLUGIN)
    if plugin is None or not plugin.config["cache"]:
        return
    root = notebook_cache_root()
    folder = root / code_fingerprint()[:16]
    plugin.config["cache_dir"] = str(folder)
    if root.is_dir():
        for other in root.iterdir():
            if other != folder:  # outputs of code that is no longer on disk
                shutil.rmtree(other, ignore_errors=True)
    if folder.is_dir():
        drop_unreadable(folder)
        if _dirty:  # keep the notebooks this build will not render (mkdocs-jupyter 0.26's own set)
            plugin._used_cache_paths.update(folder.glob("*.json"))
