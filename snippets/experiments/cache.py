"""A content-addressed on-disk cache of experiment results, in a folder the project owns.

An experiment is a named function of a config. Its result is stored under a key that hashes the
name, the config, the seed base (`snippets.seeding`), the machine's numerics
(`snippets.experiments.machine`: torch, oneDNN and MKL, the vector instructions they may use, the
processor; a result trained on another CPU is never served), and the *source of every
module the experiment can reach*: its own module and each module that one imports, at the top or
inside a function, followed transitively through the `snippets` package (or through the
experiment's own top-level package, for experiments defined elsewhere). Nothing is listed by hand:
an edit to any code an experiment can run, a module constant included, gives it a new key, while
an experiment that cannot reach the edited module keeps its result. The one module left out is
this one: it decides where results are kept, not what they are (a new layout bumps `FORMAT`).

Where it lives: one root, `$SNIPPETS_CACHE_DIR` (default `.cache/snippets` in the current folder;
a site build uses the one next to `mkdocs.yml`). The root is marked as the project's own with a
`CACHEDIR.TAG` file, written when the root is new or empty; a non-empty folder without it is refused,
so that a build can never delete or overwrite what it did not make. Inside: `experiments/` (this
cache), `notebooks/` (executed notebooks) and `builds/` (the build log).

Safety:

- Writes are atomic: the result goes to a temporary file beside the entry, then `os.replace` puts
  it in place in one step. A build killed mid-write leaves no half entry.
- Two builds computing the same entry both write whole files; the last `os.replace` wins.
- An entry that cannot be read is computed again with a warning; a cache that cannot be written
  warns and returns the computed result.
- Entries are loaded with `torch.load(weights_only=True)`: plain data and tensors, no pickled code.

`SNIPPETS_CACHE=off` computes everything and stores nothing.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import importlib.util
import inspect
import json
import os
import pathlib
import sys
import tempfile
import time
import warnings

import torch

from snippets import seeding
from snippets.experiments import machine, pool

FORMAT = 2  # bump when the stored layout changes: every old entry becomes a miss
TAG = "CACHEDIR.TAG"
TAG_TEXT = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"  # the Cache Directory Tagging Specification's signature
    "# The cache of the gated-RNN site's `snippets` package: experiment results, executed notebooks,\n"
    "# the build log. Builds delete and overwrite files only inside a folder that holds this tag.\n"
)

_records: list[dict] = []

# This module decides where results are kept, not what they are: editing it must not recompute
# every experiment (a change to the stored layout bumps FORMAT instead).
NOT_RESULTS = {__name__}


class CacheRootError(RuntimeError):
    """The cache root is a folder this project did not make."""


def root() -> pathlib.Path:
    """The project's cache root, created and tagged if new or empty; refused if someone else's."""
    path = pathlib.Path(os.environ.get("SNIPPETS_CACHE_DIR") or pathlib.Path.cwd() / ".cache" / "snippets")
    tag = path / TAG
    if tag.is_file():
        return path
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise CacheRootError(
            f"expected SNIPPETS_CACHE_DIR={path} to be a new or empty folder, or one this project made "
            f"(it holds {TAG}); got a {'folder with other files in it' if path.is_dir() else 'file'}. "
            "Point SNIPPETS_CACHE_DIR at a new folder: builds delete files in their cache."
        )
    path.mkdir(parents=True, exist_ok=True)
    write_atomic(tag, lambda f: f.write(TAG_TEXT.encode()))
    return path


def folder(name: str) -> pathlib.Path:
    """A sub-folder of the cache root: `experiments`, `notebooks` or `builds`."""
    return root() / name


# -- keys -----------------------------------------------------------------------------------------


def _config_data(config) -> object:
    if dataclasses.is_dataclass(config):
        return {"type": type(config).__qualname__, **dataclasses.asdict(config)}
    return config


def _canonical(data) -> str:
    """One JSON text per config: sorted keys, tuples as lists."""
    try:
        return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=True)
    except TypeError as err:
        raise TypeError(f"an experiment config must be plain data (JSON-able); {err}") from None


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Absolute names of the modules a module's source imports, anywhere in it (functions too)."""
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = (
                importlib.util.resolve_name("." * node.level + (node.module or ""), package)
                if node.level
                else node.module
            )
            for alias in node.names:  # `from pkg import submodule` reaches the submodule, not pkg/__init__
                submodule = f"{base}.{alias.name}"
                found.add(submodule if _find_spec_quietly(submodule) is not None else base)
    return found


def reachable_modules(module: str) -> dict[str, str]:
    """`module` and every module of its own top-level package or of `snippets` that it can import.

    Returns {module name: source}. Imports are read from the source (`ast`), not from what has run, so
    an import inside a function counts; names that are not modules (`from m import f`) are skipped.
    """
    scopes = {module.partition(".")[0], "snippets"}
    sources: dict[str, str] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        if name in sources or name in NOT_RESULTS or name.partition(".")[0] not in scopes:
            continue
        spec = getattr(sys.modules.get(name), "__spec__", None) or _find_spec_quietly(name)
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            continue
        source = pathlib.Path(spec.origin).read_text(encoding="utf-8")
        sources[name] = source
        if (name, source) not in _imports:  # many experiments reach the same modules: parse each once
            _imports[(name, source)] = _imported_names(
                ast.parse(source), name, spec.submodule_search_locations is not None
            )
        todo.extend(_imports[(name, source)])
    return sources


_imports: dict[tuple[str, str], set[str]] = {}  # (module, its source) -> the modules it imports


def _find_spec_quietly(name: str):
    """The module's spec, or None where `name` is not a module (`pkg.module.function`)."""
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None


def fingerprint(modules) -> str:
    """SHA-256 of the machine's numerics (`machine.signature`: torch, oneDNN and MKL, the vector
    instructions they may use, the processor) and the source of every module the `modules` (names)
    can reach."""
    sources = {name: src for module in modules for name, src in reachable_modules(module).items()}
    blob = "\n".join(f"## {name}\n{src}" for name, src in sorted(sources.items()))
    numerics = json.dumps(machine.signature(), sort_keys=True)
    return hashlib.sha256(f"{numerics}\n{blob}".encode()).hexdigest()


_fingerprints: dict[int, tuple[str, dict, str]] = {}  # id(module globals) -> (module, the globals, fingerprint)


def code_fingerprint(fn) -> str:
    """`fingerprint` of the module `fn` is defined in, read once per loaded module.

    Python does not reload a module whose file changes, so a long-running process (`mkdocs serve`)
    keeps running the code it loaded; reading the files again would store that old code's results
    under the new code's key. A module imported afresh is read afresh.
    """
    fn = inspect.unwrap(fn)  # the experiment's own function, not the decorator's wrapper
    memo = id(fn.__globals__)
    if memo not in _fingerprints:  # the globals are kept in the memo, so their id is never reused
        _fingerprints[memo] = (fn.__module__, fn.__globals__, fingerprint([fn.__module__]))
    return _fingerprints[memo][2]


def stale() -> list[str]:
    """Modules of experiments whose reachable source changed on disk since this process read it."""
    return sorted({module for module, _, known in _fingerprints.values() if fingerprint([module]) != known})


def entry_key(name: str, config, fn) -> str:
    """The key of one result: hash of format, name, config, seed base and code."""
    text = _canonical(
        {
            "format": FORMAT,
            "name": name,
            "config": _config_data(config),
            "seed_base": seeding.base(),
            "code": code_fingerprint(fn),
        }
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


# -- entries --------------------------------------------------------------------------------------


def write_atomic(path: pathlib.Path, write) -> None:
    """Replace `path` in one step: `write(file)` fills a temporary file (binary) beside it first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic on POSIX and Windows: readers see old or new, never half
    except BaseException:  # KeyboardInterrupt included: leave no temporary file behind
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise


_loaded: dict[str, tuple[tuple[int, int], dict]] = {}  # path -> ((mtime, size), payload) this process read


def _read(path: pathlib.Path, key: str):
    """The stored payload, or `None` when missing or unreadable (with a warning).

    A file this process has read before and that is unchanged since (same modification time and
    size) is not read again: a build asks for the same results from many facts, claims and
    figures, and unpickling them safely (`weights_only`) was most of a warm build's time. The
    payload is then the same object as before, so callers must not change it.
    """
    try:
        stat = path.stat()
    except OSError:
        return None
    stamp = (stat.st_mtime_ns, stat.st_size)
    known = _loaded.get(str(path))
    if known is not None and known[0] == stamp and known[1]["key"] == key:
        return known[1]
    try:
        payload = torch.load(path, weights_only=True)
        if not (isinstance(payload, dict) and payload.get("key") == key and "result" in payload):
            raise ValueError("not a cache entry of this key")
        _loaded[str(path)] = (stamp, payload)
        return payload
    except Exception as err:  # corrupt, truncated, foreign: recompute, never crash the build
        warnings.warn(
            f"cache entry {path.name} is unreadable ({type(err).__name__}: {err}); recomputing",
            RuntimeWarning,
            stacklevel=3,
        )
        return None


def enabled() -> bool:
    """Whether results are cached (`SNIPPETS_CACHE=off` computes everything and stores nothing)."""
    return os.environ.get("SNIPPETS_CACHE", "on").lower() not in ("off", "0", "false")


def store(path: pathlib.Path, write) -> None:
    """`write_atomic`, except that a cache that cannot be written warns rather than fails the build."""
    try:
        write_atomic(path, write)
    except OSError as err:  # a read-only or full disk costs the next build time, not this one its result
        warnings.warn(
            f"cache entry {path.name} could not be written ({err}); the result is not cached",
            RuntimeWarning,
            stacklevel=3,
        )


def cached(name: str, fn, config, load: bool = True):
    """`fn(config)`, loaded from the cache when its key is present, else computed and stored.

    Records what it cost: `seconds` this call (wall clock), and `cpu_seconds`, the CPU time of
    computing it, in this thread and in the worker processes its runs went to (stored with the
    entry, so a hit reports what the result cost when it was computed). With `load=False`, for a
    caller that only makes sure the result exists: an entry already on disk is recorded but not
    read (its CPU seconds come from the small note beside it), and None is returned.
    """
    key = entry_key(name, config, fn)
    on = enabled()
    path = folder("experiments") / f"{name}-{key}.pt" if on else None
    start = time.perf_counter()
    record = {"name": name, "key": key, "config": _config_data(config)}
    note = _note(path, key) if on and not load else None
    if note is not None:
        _records.append({**record, "hit": True, "seconds": time.perf_counter() - start, **note})
        return None
    payload = _read(path, key) if on else None
    record["hit"] = payload is not None
    if payload is None:
        cpu_start, jobs_start = time.thread_time(), pool.job_cpu_seconds()
        result = fn(config)
        cpu = time.thread_time() - cpu_start + pool.job_cpu_seconds() - jobs_start
        payload = {"key": key, "name": name, "config": record["config"], "cpu_seconds": cpu, "result": result}
        if on:
            store(path, lambda f: torch.save(payload, f))
    if on and path.exists() and _note(path, key) is None:
        store(
            _note_path(path),
            lambda f: f.write(json.dumps({"key": key, "cpu_seconds": payload["cpu_seconds"]}).encode()),
        )
    _records.append({**record, "seconds": time.perf_counter() - start, "cpu_seconds": payload["cpu_seconds"]})
    return payload["result"]


def _note_path(path: pathlib.Path) -> pathlib.Path:
    return path.with_suffix(".json")


def _note(path: pathlib.Path, key: str) -> dict | None:
    """{"cpu_seconds": ...} from the note beside the entry `path`, if both are there and of `key`."""
    try:
        note = json.loads(_note_path(path).read_text(encoding="utf-8"))
        if note["key"] == key and path.is_file():
            return {"cpu_seconds": float(note["cpu_seconds"])}
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no note (an older build's entry, or none at all): the entry itself is read
    return None


def experiment(name: str | None = None):
    """Decorator: make `fn(config)` a cached, named experiment.

    The wrapped function takes `config=None` (meaning its default config), `cache=True` and
    `load=True` (`cached`).
    """

    def wrap(fn):
        label = name or fn.__name__
        default = inspect.signature(fn).parameters["config"].default

        @functools.wraps(fn)
        def run(config=None, cache: bool = True, load: bool = True):
            config = default if config is None else config
            if config is inspect.Parameter.empty:
                raise TypeError(f"{label} needs a config")
            return cached(label, fn, config, load) if cache else fn(config)

        run.experiment_name = label
        return run

    return wrap


def report() -> list[dict]:
    """This process's cache records, one per experiment call, in call order.

    Each record: `name`, `key`, `hit` (loaded from disk), `config`, `seconds` (what this call
    cost, wall clock), `cpu_seconds` (the CPU time computing the result took, whenever that was).
    """
    return [dict(r) for r in _records]


def sort_report(start: int, order: list[str]) -> None:
    """Put the records from index `start` on in the order of their names in `order` (stable)."""
    _records[start:] = sorted(_records[start:], key=lambda record: order.index(record["name"]))


def clear_report() -> None:
    _records.clear()
