"""A content-addressed on-disk cache of experiment results.

An experiment is a named function of a config. Its result is stored under a
key that hashes the name, the config, and the *source* of the code it runs:
its own function, the module-level helpers it calls (found by name, as deep
as they go), the modules it declares as dependencies, and the torch version.
An unchanged rebuild therefore loads every result; editing a task, the
training loop or one experiment re-runs exactly the experiments that use it.

Safety:

- Writes are atomic: the result goes to a temporary file in the cache
  folder, then `os.replace` puts it in place in one step. A build killed
  mid-write leaves at most a stray temporary file, never a half entry.
- Two builds computing the same entry both write whole files; the last
  `os.replace` wins, and both files are valid.
- An entry that cannot be read (truncated, corrupt, wrong format) is computed
  again with a warning, not an exception.
- Entries are loaded with `torch.load(weights_only=True)`: plain data and
  tensors only, no pickled code runs.

`SNIPPETS_CACHE_DIR` moves the cache (tests use a temporary folder);
`SNIPPETS_CACHE=off` computes everything and stores nothing.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import os
import pathlib
import tempfile
import time
import types
import warnings

import torch

FORMAT = 1  # bump when the stored layout changes: every old entry becomes a miss

_records: list[dict] = []


def cache_dir() -> pathlib.Path:
    """`$SNIPPETS_CACHE_DIR`, or `.cache/snippets` under the current folder."""
    return pathlib.Path(os.environ.get("SNIPPETS_CACHE_DIR") or pathlib.Path.cwd() / ".cache" / "snippets")


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


def _helpers(fn: types.FunctionType, seen: dict) -> None:
    """Add `fn` and every module-level function or class of its module that it names, recursively."""
    if fn.__qualname__ in seen:
        return
    seen[fn.__qualname__] = inspect.getsource(fn)
    codes = [fn.__code__] if isinstance(fn, types.FunctionType) else [
        m.__code__ for m in vars(fn).values() if isinstance(m, types.FunctionType)]
    names = set()
    while codes:  # walk nested code objects too: lambdas, comprehensions, inner functions
        code = codes.pop()
        names.update(code.co_names)
        codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    for name in sorted(names):
        obj = fn.__globals__.get(name) if isinstance(fn, types.FunctionType) else None
        if isinstance(obj, (types.FunctionType, type)) and getattr(obj, "__module__", None) == fn.__module__:
            target = getattr(obj, "__wrapped__", obj)
            if isinstance(target, type):
                seen.setdefault(target.__qualname__, inspect.getsource(target))
            else:
                _helpers(target, seen)


def _read_fingerprint(fn, modules) -> str:
    sources: dict[str, str] = {}
    _helpers(fn, sources)
    for module in modules:
        sources[f"module:{module.__name__}"] = inspect.getsource(module)
    sources["torch"] = str(torch.__version__)
    blob = "\n".join(f"## {name}\n{src}" for name, src in sorted(sources.items()))
    return hashlib.sha256(blob.encode()).hexdigest()


_fingerprints: dict[tuple, str] = {}


def code_fingerprint(fn, modules=()) -> str:
    """SHA-256 of the source `fn` runs: itself, its same-module helpers, and `modules`.

    Read once per process, at the first use. Python does not reload a module whose file
    changes, so a long-running process (`mkdocs serve`) keeps running the code it loaded; reading
    the files again would store that old code's results under the new code's key.
    """
    memo = (fn, tuple(modules))
    if memo not in _fingerprints:
        _fingerprints[memo] = _read_fingerprint(fn, modules)
    return _fingerprints[memo]


def stale() -> list[str]:
    """Experiments whose source changed on disk since this process read it: it runs old code."""
    return sorted({fn.__qualname__ for (fn, modules), fingerprint in _fingerprints.items()
                   if _read_fingerprint(fn, modules) != fingerprint})


def entry_key(name: str, config, fn, modules=()) -> str:
    """The key of one result: hash of format, name, config and code."""
    text = _canonical({"format": FORMAT, "name": name, "config": _config_data(config),
                       "code": code_fingerprint(fn, modules)})
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _path(name: str, key: str) -> pathlib.Path:
    return cache_dir() / f"{name}-{key}.pt"


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


def _read(path: pathlib.Path, key: str):
    """The stored payload, or `None` when missing or unreadable (with a warning)."""
    if not path.exists():
        return None
    try:
        payload = torch.load(path, weights_only=True)
        if not (isinstance(payload, dict) and payload.get("key") == key and "result" in payload):
            raise ValueError("not a cache entry of this key")
        return payload
    except Exception as err:  # corrupt, truncated, foreign: recompute, never crash the build
        warnings.warn(f"cache entry {path.name} is unreadable ({type(err).__name__}: {err}); recomputing",
                      RuntimeWarning, stacklevel=3)
        return None


def cached(name: str, fn, config, modules=()):
    """`fn(config)`, loaded from the cache when its key is present, else computed and stored."""
    key = entry_key(name, config, fn, modules)
    path = _path(name, key)
    enabled = os.environ.get("SNIPPETS_CACHE", "on").lower() not in ("off", "0", "false")
    start = time.perf_counter()
    payload = _read(path, key) if enabled else None
    if payload is not None:
        _records.append({"name": name, "key": key, "hit": True,
                         "seconds": time.perf_counter() - start,
                         "compute_seconds": payload["seconds"]})
        return payload["result"]
    result = fn(config)
    seconds = time.perf_counter() - start
    if enabled:
        entry = {"key": key, "name": name, "config": _config_data(config), "seconds": seconds, "result": result}
        write_atomic(path, lambda f: torch.save(entry, f))
    _records.append({"name": name, "key": key, "hit": False, "seconds": seconds,
                     "compute_seconds": seconds})
    return result


def experiment(name: str | None = None, modules=()):
    """Decorator: make `fn(config)` a cached, named experiment.

    The wrapped function takes `config=None` (meaning its default config)
    and `cache=True`; `modules` are the modules whose whole source the
    result depends on (the function's own helpers are found by themselves).
    """
    def wrap(fn):
        label = name or fn.__name__
        default = inspect.signature(fn).parameters["config"].default

        @functools.wraps(fn)
        def run(config=None, cache: bool = True):
            config = default if config is None else config
            if config is inspect.Parameter.empty:
                raise TypeError(f"{label} needs a config")
            return cached(label, fn, config, modules) if cache else fn(config)

        run.experiment_name = label
        return run
    return wrap


def report() -> list[dict]:
    """This process's cache records, one per experiment call, in call order.

    Each record: `name`, `key`, `hit` (loaded from disk), `seconds`
    (what this call cost), `compute_seconds` (what computing it cost, when
    it was computed). A page can render it as the build's timing table.
    """
    return [dict(r) for r in _records]


def sort_report(start: int, order: list[str]) -> None:
    """Put the records from index `start` on in the order of their names in `order` (stable)."""
    _records[start:] = sorted(_records[start:], key=lambda record: order.index(record["name"]))


def clear_report() -> None:
    _records.clear()
