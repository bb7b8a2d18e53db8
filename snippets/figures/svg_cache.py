"""Saved figures, kept while the figure is the same: a warm build draws no figure twice.

Saving a figure as SVG is most of what a warm build spends on a page (a tenth to half a second
each). The key is the figure itself: its whole state, pickled (every artist, its data, text,
colours and transforms), with the matplotlib version, the settings in force and the source of
`snippets.figures` (the theme and the saving code). Transforms' `_parents` maps are left out of
the pickle: they are keyed by `id()`, differ from process to process and change nothing drawn.
So a figure drawn from other data, or by other code, is another key; nothing can come back stale.
Entries are `figures/<key>.svg` under the project's cache root (`snippets.experiments.cache`);
a full build deletes the entries it did not use (`prune`), in that folder only.
"""

from __future__ import annotations

import copyreg
import hashlib
import inspect
import io
import pickle
import sys
from collections.abc import Callable

import matplotlib
from matplotlib.figure import Figure
from matplotlib.transforms import TransformNode

from snippets.experiments import cache

_used: set[str] = set()  # keys this process read or wrote


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj):
        if isinstance(obj, TransformNode):
            state = obj.__getstate__()
            state.pop("_parents", None)
            return copyreg.__newobj__, (type(obj),), state
        return NotImplemented


def key(fig: Figure) -> str:
    """SHA-256 of the figure's state, the settings and the code that saves it."""
    digest = hashlib.sha256()
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=4).dump(fig)
    digest.update(buffer.getvalue())
    digest.update(f"matplotlib {matplotlib.__version__}\n{sorted(matplotlib.rcParams.items())!r}".encode())
    digest.update(inspect.getsource(sys.modules["snippets.figures"]).encode())
    return digest.hexdigest()[:32]


def get(fig: Figure, render: Callable[[], str], alt: str, name: str | None) -> str:
    """`render()`'s SVG text for `fig`, from the cache when there; stored after rendering."""
    if not cache.enabled():
        return render()
    found = key(fig)
    path = cache.folder("figures") / f"{found}.svg"
    _used.add(path.name)
    if path.is_file():
        return path.read_text(encoding="utf-8")
    svg = render()
    cache.store(path, lambda f: f.write(svg.encode("utf-8")))
    return svg


def used() -> frozenset[str]:
    """The entries this process has read or written so far."""
    return frozenset(_used)


def mark_used(names) -> None:
    """Count `names` as used: the figures of a code block whose output was served from its cache
    (`snippets.site.block_cache`), which `prune` must keep though nothing drew them."""
    _used.update(names)


def prune() -> list[str]:
    """Delete the saved figures this process did not use; their names. Only `*.svg` in `figures/`."""
    folder = cache.folder("figures")
    dropped = [p.name for p in folder.glob("*.svg") if p.name not in _used] if folder.is_dir() else []
    for name in dropped:
        (folder / name).unlink(missing_ok=True)
    return dropped
