"""The printed output of a page's code blocks, kept while nothing it depends on changes.

markdown-exec runs every `python exec="true"` block on every build and caches nothing; drawing a
figure takes a few tenths of a second, so a warm build spent most of its time redrawing figures
from results that had not changed. `install()` wraps markdown-exec's Python runner: a block's
printed output is stored under a key made of

- the block's source,
- every file of the `snippets` package (the figures, the experiments, the site helpers),
- the seed base, the machine's numerics (`snippets.experiments.machine`), and the versions of
  matplotlib and markdown-exec,

together with the experiment results the block read (`snippets.experiments.cache` entries, by
name and key) and the time each entry file was written. A later build with the same key reuses
the output if each of those entries is still the same file; otherwise the block runs again. So a
block shows what its code computes from the results the build's cache holds, as if it had run.

The page macros' facts and claims (`snippets.site.macros`) are kept the same way
(`cached_value`), keyed by the function's name and arguments; a claim only while it holds.

A block's entry also lists the saved figures it drew (`snippets.figures.svg_cache`); they count as
used when the block is served from its entry, so that a build which draws nothing keeps them for
the next one that must.

A block whose experiment is still being computed behind `mkdocs serve` (`cache.Pending`) prints a
placeholder instead (`snippets.site.placeholders`), and so does every later block of its session;
the build report waits for every experiment. Nothing of theirs is kept.

Not kept: blocks with a `session` (they share state with other blocks), and blocks that read the
build itself (the build report: `cache.report`, `build_log`, `last_run_seconds`, `pool.workers`), which run every
time. `SNIPPETS_CACHE=off` keeps nothing. Entries live in `blocks/` under the project's cache root
(JSON, written atomically); entries a build did not use are deleted at its end.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import metadata
from pathlib import Path

from snippets import seeding
from snippets.experiments import cache, machine
from snippets.figures import svg_cache
from snippets.site import placeholders
from snippets.site.serving import SERVING

LIVE = re.compile(r"\bcache\.report\b|\bbuild_log\b|\blast_run_seconds\b|\bpool\.workers\b")
READS_THE_RUN = re.compile(r"\bcache\.report\b|\blast_run_seconds\b")  # blocks that list every experiment
_state: dict = {"code": None, "used": set()}


def _versions() -> str:
    names = ("matplotlib", "markdown-exec")
    return ";".join(f"{n}={metadata.version(n)}" for n in names) + json.dumps(machine.signature(), sort_keys=True)


def package_fingerprint() -> str:
    """SHA-256 of every .py file of the `snippets` package (path and bytes), read once per build."""
    root = Path(cache.__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def block_key(code: str) -> str:
    if _state["code"] is None:
        _state["code"] = package_fingerprint() + _versions()
    text = json.dumps([code, _state["code"], seeding.base()])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _entry_file(name: str, key: str) -> Path:
    return cache.folder("experiments") / f"{name}-{key}.pt"


def _stamp(name: str, key: str) -> int | None:
    try:
        return _entry_file(name, key).stat().st_mtime_ns
    except OSError:
        return None


def _stored(key: str) -> dict | None:
    """The entry of `key`, if there is one and every result it read is still the same file."""
    path = cache.folder("blocks") / f"{key}.json"
    _state["used"].add(path.name)
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        if all(_stamp(name, k) == stamp for name, k, stamp in entry["reads"]):
            return entry
    except (OSError, ValueError, KeyError, TypeError):
        pass  # missing or unreadable: compute
    return None


def _store(key: str, value, start: int, figures=()) -> None:
    """Keep `value` under `key`, with the cache entries read since report index `start`, if every
    one of them is on disk, and the saved figures (`svg_cache`) it drew."""
    reads = sorted({(r["name"], r["key"]) for r in cache.report()[start:]})
    entry = {"output": value, "reads": [(name, k, _stamp(name, k)) for name, k in reads], "figures": sorted(figures)}
    if all(stamp is not None for _, _, stamp in entry["reads"]):
        text = json.dumps(entry)
        cache.write_atomic(cache.folder("blocks") / f"{key}.json", lambda f: f.write(text.encode()))


def cached_run(run, code: str, session: str | None = None, **kwargs) -> str:
    """`run(code, session=..., **kwargs)` (markdown-exec's runner), or its stored output."""
    if session or not cache.enabled() or LIVE.search(code):
        return run(code, session=session, **kwargs)
    key = block_key(code)
    entry = _stored(key)
    if entry is not None:
        svg_cache.mark_used(entry.get("figures", ()))  # so that the build's prune keeps them
        return entry["output"]
    start, drawn = len(cache.report()), svg_cache.used()
    output = run(code, session=session, **kwargs)
    _store(key, output, start, svg_cache.used() - drawn)
    return output


def cached_value(label: str, compute, keep=lambda value: True):
    """`compute()`, or what it returned last time for the same `label`, code and results read.

    Kept only where `keep(value)` (a claim that failed is checked again) and where the value comes
    back from JSON as it went in (a tuple or a non-string key would not: such a value is computed
    every time).
    """
    if not cache.enabled():
        return compute()
    key = block_key(label)
    entry = _stored(key)
    if entry is not None:
        return entry["output"]
    start = len(cache.report())
    value = compute()
    if keep(value) and _plain(value):
        _store(key, value, start)
    return value


def _plain(value) -> bool:
    """Whether `value` comes back from JSON equal to itself (a tuple at any depth does not: it
    comes back a list, and a list never equals a tuple)."""
    try:
        return json.loads(json.dumps(value)) == value
    except (TypeError, ValueError):
        return False


def install() -> None:
    """Route markdown-exec's Python blocks through `cached_run` (once per process)."""
    from markdown_exec._internal.formatters import python
    from markdown_exec._internal.formatters.base import ExecutionError

    if getattr(python._run_python, "snippets_cached", False):
        return
    run = python._run_python

    def wrapped(code, returncode=None, session=None, id=None, **extra):  # noqa: A002 (markdown-exec's name)
        waits = _waits(code, session)
        if waits is not None:
            return placeholders.block(waits, SERVING.describe(waits))
        try:
            return cached_run(run, code, session=session, returncode=returncode, id=id, **extra)
        except ExecutionError as error:  # markdown-exec wraps what the block raised
            if not isinstance(error.__cause__, cache.Pending):
                raise
            waits = error.__cause__.name
            SERVING.wait_for(waits)
            if session:
                SERVING.sessions[session] = waits  # its later blocks need what this one did not make
            return placeholders.block(waits, SERVING.describe(waits))

    wrapped.snippets_cached = True
    python._run_python = wrapped


def _waits(code: str, session: str | None) -> str | None:
    """What a block waits for without running it, under `mkdocs serve` while experiments run: its
    session's experiment, or every experiment for the build report; else None."""
    if not SERVING.pending:
        return None
    if session in SERVING.sessions:
        return SERVING.sessions[session]
    return placeholders.EVERY if READS_THE_RUN.search(code) else None


def start_build() -> None:
    """Forget the previous build's code fingerprint and the entries it used (`mkdocs serve`)."""
    _state["code"], _state["used"] = None, set()


def drop_unused() -> list[str]:
    """Delete the entries this build did not use (older code's, removed blocks'); return their names."""
    folder = cache.folder("blocks")
    gone = [p.name for p in folder.glob("*.json") if p.name not in _state["used"]]
    for name in gone:
        (folder / name).unlink(missing_ok=True)
    return gone
