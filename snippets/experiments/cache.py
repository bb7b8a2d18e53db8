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
  it in place in one step. A build stopped mid-write (Ctrl-C, SIGTERM) removes its temporary file;
  one killed outright (kill -9) leaves it, named after the process that wrote it
  (`.NAME.HOST-PID.RANDOM.tmp`), and the next run deletes it once that process is gone
  (`sweep_temporaries`) and computes the entry again.
- Two builds computing the same entry both write whole files; the last `os.replace` wins.
- An entry that cannot be read (truncated, random bytes, another key's) is computed again with a
  warning; a cache that cannot be written or whose folder cannot be made (read-only, full, no
  permission) warns and returns the computed result. Only a root that is someone else's folder
  stops the experiment (`CacheRootError`).
- Entries are loaded with `torch.load(weights_only=True)`: plain data and tensors, no pickled code.
- Beside each entry, a small JSON note holds its key, its CPU seconds and the SHA-256 of its bytes:
  a caller that only makes sure a result exists (`load=False`) trusts the note only where the entry's
  bytes still hash to it, and reads the entry otherwise.

`SNIPPETS_CACHE=off` computes everything and stores nothing. `python -m snippets.experiments`
lists, runs and clears the entries of the site's experiments.

While another process computes some entries (`mkdocs serve`'s background runner,
`snippets.site.serving`), their keys can be deferred (`defer`): a miss on one of them raises
`Pending` instead of computing the result a second time, and the page shows a placeholder.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import glob
import hashlib
import importlib.util
import inspect
import io
import json
import os
import pathlib
import re
import socket
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


class Pending(Exception):
    """A result that is not in the cache yet and is being computed elsewhere (`defer`): the caller
    shows that it waits for experiment `name` instead of a result."""

    def __init__(self, name: str, key: str):
        super().__init__(f"experiment {name} (key {key}) is being computed in the background")
        self.name, self.key = name, key


_deferred: frozenset[str] = frozenset()  # keys whose misses raise Pending (`defer`)


def defer(keys=()) -> frozenset[str]:
    """From now on a miss on any of `keys` raises `Pending` rather than computing; no keys: compute
    every miss again. Returns the keys deferred before."""
    global _deferred
    before, _deferred = _deferred, frozenset(keys)
    return before


def root_path() -> pathlib.Path:
    """Where the cache root is (`$SNIPPETS_CACHE_DIR`, default `.cache/snippets` here), made or not."""
    return pathlib.Path(os.environ.get("SNIPPETS_CACHE_DIR") or pathlib.Path.cwd() / ".cache" / "snippets")


def root(create: bool = True) -> pathlib.Path | None:
    """The project's cache root, created and tagged if new or empty; refused if someone else's.

    With `create=False`, None where there is no root yet (nothing is made). Raises `OSError` where
    the folder cannot be made or read. The first time a process uses a root it deletes the temporary
    files that writers since gone left in it (`sweep_temporaries`).
    """
    path = root_path()
    if not (path / TAG).is_file():
        # Only our own temporaries count as empty: another process may be writing the tag right now.
        if path.exists() and (not path.is_dir() or any(not TEMPORARY.fullmatch(p.name) for p in path.iterdir())):
            raise CacheRootError(
                f"expected SNIPPETS_CACHE_DIR={path} to be a new or empty folder, or one this project made "
                f"(it holds {TAG}); got a {'folder with other files in it' if path.is_dir() else 'file'}. "
                "Point SNIPPETS_CACHE_DIR at a new folder: builds delete files in their cache."
            )
        if not create:
            return None
        path.mkdir(parents=True, exist_ok=True)
        write_atomic(path / TAG, lambda f: f.write(TAG_TEXT.encode()))
    if create and str(path) not in _swept:
        _swept.add(str(path))
        sweep_temporaries(path)
    return path


_swept: set[str] = set()  # roots this process has swept of dead writers' temporary files


def folder(name: str) -> pathlib.Path:
    """A sub-folder of the cache root: `experiments`, `notebooks` or `builds`."""
    return root() / name


# -- temporary files ------------------------------------------------------------------------------

_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"
# `.ENTRY.HOST-PID.RANDOM.tmp`, as `write_atomic` names them: the writer's host and process id
TEMPORARY = re.compile(r"\.(?P<target>.+)\.(?P<host>[A-Za-z0-9-]+)-(?P<pid>[0-9]+)\.[A-Za-z0-9_]+\.tmp")
STALE_AFTER_S = 24 * 3600  # a writer on another host (a shared disk) is taken for gone after a day


def sweep_temporaries(path: pathlib.Path | None = None, pattern: str = ".*.tmp") -> list[pathlib.Path]:
    """Delete the temporary files whose writer is gone, in the root `path` and its folders; return them.

    Only files named as `write_atomic` names them are touched, and only those of a process of this
    host that no longer runs (kill -9 gives a writer no chance to remove its own), or older than
    `STALE_AFTER_S`. `pattern` narrows the search (one entry's temporaries).
    """
    path = root_path() if path is None else path
    if not (path / TAG).is_file():  # only inside a root this project made
        return []
    gone = []
    for candidate in [*path.glob(pattern), *path.glob(f"*/{pattern}")]:
        match = TEMPORARY.fullmatch(candidate.name)
        if match is not None and _writer_gone(candidate, match["host"], int(match["pid"])):
            candidate.unlink(missing_ok=True)
            gone.append(candidate)
    return gone


def _writer_gone(path: pathlib.Path, host: str, pid: int) -> bool:
    if host == _HOST and os.name == "posix" and pid != os.getpid():  # os.kill(pid, 0) ends it on Windows
        try:
            os.kill(pid, 0)  # signal 0: only asks whether the process exists
        except ProcessLookupError:
            return True
        except OSError:  # PermissionError: it exists, as another user's
            pass
    try:
        return time.time() - path.stat().st_mtime > STALE_AFTER_S
    except OSError:
        return False


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
    return {name: source for name, (_, source) in _reachable(module).items()}


def _reachable(module: str) -> dict[str, tuple[pathlib.Path, str]]:
    """`reachable_modules`, with the file each source was read from: {module name: (path, source)}."""
    scopes = {module.partition(".")[0], "snippets"}
    found: dict[str, tuple[pathlib.Path, str]] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        if name in found or name in NOT_RESULTS or name.partition(".")[0] not in scopes:
            continue
        spec = getattr(sys.modules.get(name), "__spec__", None) or _find_spec_quietly(name)
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            continue
        path = pathlib.Path(spec.origin)
        source = path.read_text(encoding="utf-8")
        found[name] = (path, source)
        if (name, source) not in _imports:  # many experiments reach the same modules: parse each once
            _imports[(name, source)] = _imported_names(
                ast.parse(source), name, spec.submodule_search_locations is not None
            )
        todo.extend(_imports[(name, source)])
    return found


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
    can reach, as the files hold it now."""
    return _digest({name: src for module in modules for name, src in reachable_modules(module).items()})


def _digest(sources: dict[str, str]) -> str:
    blob = "\n".join(f"## {name}\n{src}" for name, src in sorted(sources.items()))
    numerics = json.dumps(machine.signature(), sort_keys=True)
    return hashlib.sha256(f"{numerics}\n{blob}".encode()).hexdigest()


class StaleCodeError(RuntimeError):
    """Code an experiment can reach changed on disk after this process read it: restart to use it."""


@dataclasses.dataclass
class _Fingerprint:
    """What `code_fingerprint` read for one loaded experiment module: the key's code part, and each
    reachable file as it was then ({module: (path, (mtime_ns, size), SHA-256 of its source)})."""

    module: str
    globals: dict  # kept, so that their id is never reused while the memo holds it
    digest: str
    files: dict[str, tuple[pathlib.Path, tuple[int, int] | None, str]]


_fingerprints: dict[int, _Fingerprint] = {}  # id(an experiment module's globals) -> what was read for it
# id(a loaded module's globals) -> (those globals, SHA-256 of the source the cache read while it was loaded)
_seen: dict[int, tuple[dict, str]] = {}


def code_fingerprint(fn) -> str:
    """`fingerprint` of the module `fn` is defined in, read once per loaded module, and never served
    for code that changed since.

    Python does not reload a module whose file changes, so a long-running process (`mkdocs serve`)
    keeps running the code it loaded. Reading the files again would key that old code's results
    to the new code; keeping the old key would serve and store results of code that is no longer
    there. So each call checks that every file the fingerprint read is unchanged (its modification
    time and size, and its text where those moved), and raises `StaleCodeError` where one is not:
    no result is served or stored for it, and the error says to restart. (Reloading modules in
    place cannot make it right: every module that imported a name from a reloaded one keeps the
    old object.) A module imported afresh (new globals) is read afresh, unless a module it reaches
    is loaded in this process with other code than its file now holds: that raises too.
    """
    fn = inspect.unwrap(fn)  # the experiment's own function, not the decorator's wrapper
    memo = id(fn.__globals__)
    known = _fingerprints.get(memo)
    if known is None:
        found = _reachable(fn.__module__)
        files = {name: (path, _stamp(path), _sha(source)) for name, (path, source) in found.items()}
        _refuse(fn.__module__, _loaded_elsewhere(files))
        known = _Fingerprint(fn.__module__, fn.__globals__, _digest({n: src for n, (_, src) in found.items()}), files)
        _fingerprints[memo] = known
    else:
        _refuse(known.module, _changed(known))
    return known.digest


def _stamp(path: pathlib.Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:  # deleted, or moved away
        return None
    return stat.st_mtime_ns, stat.st_size


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _changed(known: _Fingerprint) -> list[str]:
    """The modules whose file no longer holds the source `known` was read from.

    A file whose modification time and size are unchanged is taken as unchanged (a stat per file,
    so that the many calls of a build stay cheap); one whose stamp moved is read and compared.
    """
    changed = []
    for name, (path, stamp, sha) in known.files.items():
        now = _stamp(path)
        if now == stamp:
            continue
        try:
            same = now is not None and _sha(path.read_text(encoding="utf-8")) == sha
        except (OSError, UnicodeDecodeError):
            same = False
        if same:
            known.files[name] = (path, now, sha)  # touched, not changed: no need to read it again
        else:
            changed.append(name)
    return changed


def _loaded_elsewhere(files: dict) -> list[str]:
    """The modules among `files` that this process has loaded with other source than their file
    holds now (the cache read that source before, while the same module was loaded)."""
    differ = []
    for name, (_, _, sha) in files.items():
        loaded = getattr(sys.modules.get(name), "__dict__", None)
        if loaded is None:
            continue  # not loaded yet: importing it will run what was just read
        first = _seen.setdefault(id(loaded), (loaded, sha))[1]
        if first != sha:
            differ.append(name)
    return differ


def _refuse(module: str, changed: list[str]) -> None:
    if changed:
        raise StaleCodeError(
            f"{', '.join(sorted(changed))} changed on disk since this process read "
            f"{'it' if len(changed) == 1 else 'them'}, and the experiments of {module} can reach "
            f"{'it' if len(changed) == 1 else 'them'}: this process runs the code it loaded, so it neither "
            "serves nor stores their results. Restart it (`mkdocs serve`, the Python session) to use the new code."
        )


def stale() -> list[str]:
    """Modules of experiments whose reachable source changed on disk since this process read it
    (their results are refused from then on: `code_fingerprint`)."""
    return sorted({known.module for known in _fingerprints.values() if _changed(known)})


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
    # named after this process, so that a later run can tell a dead writer's file (`sweep_temporaries`)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{_HOST}-{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic on POSIX and Windows: readers see old or new, never half
    except BaseException:  # KeyboardInterrupt included: leave no temporary file behind
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise


_loaded: dict[str, tuple[tuple[int, int], dict, str]] = {}  # path -> ((mtime, size), payload, sha256) read


def _read(path: pathlib.Path, key: str) -> tuple[dict, str] | None:
    """The stored payload and the SHA-256 of its bytes, or `None` when missing or unreadable (warned).

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
        return known[1], known[2]
    try:
        data = path.read_bytes()  # the bytes hashed are the bytes parsed
        payload = torch.load(io.BytesIO(data), weights_only=True)
        if not (isinstance(payload, dict) and payload.get("key") == key and "result" in payload):
            raise ValueError(f"not a cache entry of key {key}")
        digest = hashlib.sha256(data).hexdigest()
        _loaded[str(path)] = (stamp, payload, digest)
        return payload, digest
    except Exception as err:  # corrupt, truncated, foreign: recompute, never crash the build
        warnings.warn(
            f"cache entry {path.name} is unreadable ({type(err).__name__}: {err}); it is computed again",
            RuntimeWarning,
            stacklevel=3,
        )
        return None


_SWITCH = {"": True, "on": True, "1": True, "true": True, "yes": True}
_SWITCH |= {"off": False, "0": False, "false": False, "no": False}


def enabled() -> bool:
    """Whether results are cached (`SNIPPETS_CACHE=off` computes everything and stores nothing)."""
    value = os.environ.get("SNIPPETS_CACHE", "on")
    if value.strip().lower() not in _SWITCH:
        raise ValueError(f"SNIPPETS_CACHE must be on or off (or 1/0, true/false, yes/no), got {value!r}")
    return _SWITCH[value.strip().lower()]


def store(path: pathlib.Path, write) -> bool:
    """`write_atomic`, except that a cache that cannot be written warns rather than fails the build.

    Returns whether the file was written."""
    try:
        write_atomic(path, write)
        return True
    except OSError as err:  # a read-only or full disk costs the next build time, not this one its result
        warnings.warn(
            f"cache entry {path.name} could not be written ({err}); the result is not cached",
            RuntimeWarning,
            stacklevel=3,
        )
        return False


def cached(name: str, fn, config, load: bool = True):
    """`fn(config)`, loaded from the cache when its key is present, else computed and stored.

    Records what it cost: `seconds` this call (wall clock), and `cpu_seconds`, the CPU time of
    computing it, in this thread and in the worker processes its runs went to (stored with the
    entry, so a hit reports what the result cost when it was computed). With `load=False`, for a
    caller that only makes sure the result exists: an entry on disk whose note vouches for it (its
    bytes hash to the note's SHA-256) is recorded but not unpickled (its CPU seconds come from the
    note), and None is returned.
    """
    key = entry_key(name, config, fn)
    path = _entry_path(name, key)
    start = time.perf_counter()
    record = {"name": name, "key": key, "config": _config_data(config)}
    if path is not None and not load:
        note = _note(path, key, verify=True)
        if note is not None:
            _records.append({**record, "hit": True, "seconds": time.perf_counter() - start, **note})
            return None
    found = _read(path, key) if path is not None else None
    record["hit"] = found is not None
    if found is None and key in _deferred:
        raise Pending(name, key)
    if found is None:
        payload = _compute(name, fn, config, key)
        digest = _store_entry(path, payload) if path is not None else None
    else:
        payload, digest = found
        if load and _note(path, key, verify=False) is not None:
            digest = None  # its note is there (with load=False we got here because it does not vouch: mend it)
    if digest is not None:
        note = {"key": key, "cpu_seconds": payload["cpu_seconds"], "sha256": digest}
        store(_note_path(path), lambda f: f.write(json.dumps(note).encode()))
    _records.append({**record, "seconds": time.perf_counter() - start, "cpu_seconds": payload["cpu_seconds"]})
    return payload["result"]


def _entry_path(name: str, key: str) -> pathlib.Path | None:
    """Where the entry of `key` lives; None with the cache off, or (warned) where its folder cannot be made."""
    if not enabled():
        return None
    try:
        return folder("experiments") / f"{name}-{key}.pt"
    except OSError as err:  # read-only, no permission, a file in the way, the working folder deleted
        warnings.warn(
            f"the cache folder under {_described_root()} could not be made or read ({type(err).__name__}: {err}); "
            f"{name} is computed and not cached",
            RuntimeWarning,
            stacklevel=4,
        )
        return None


def _described_root() -> str:
    try:
        return str(root_path())
    except OSError:  # the working folder was deleted under us
        return "the working folder (which no longer exists)/.cache/snippets"


def _compute(name: str, fn, config, key: str) -> dict:
    """The payload of an entry: `fn(config)` and the CPU seconds it took here and in the workers."""
    cpu_start, jobs_start = time.thread_time(), pool.job_cpu_seconds()
    result = fn(config)
    cpu = time.thread_time() - cpu_start + pool.job_cpu_seconds() - jobs_start
    code_fingerprint(fn)  # its code changed while it ran (workers import what the files hold): not stored
    return {"key": key, "name": name, "config": _config_data(config), "cpu_seconds": cpu, "result": result}


def _store_entry(path: pathlib.Path, payload: dict) -> str | None:
    """Write the entry (after deleting its dead writers' temporaries); the SHA-256 of its bytes, or
    None where it could not be written (warned)."""
    sweep_temporaries(path.parents[1], f".{glob.escape(path.name)}.*.tmp")
    digest = []

    def write(f) -> None:
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        f.write(buffer.getbuffer())
        digest.append(hashlib.sha256(buffer.getbuffer()).hexdigest())

    return digest[0] if store(path, write) else None


def _note_path(path: pathlib.Path) -> pathlib.Path:
    return path.with_suffix(".json")


def _note(path: pathlib.Path, key: str, verify: bool) -> dict | None:
    """{"cpu_seconds": ...} from the note beside the entry `path`, if both are there and of `key`;
    with `verify`, only if the entry's bytes hash to the note's SHA-256 (read, not unpickled)."""
    try:
        note = json.loads(_note_path(path).read_text(encoding="utf-8"))
        if note["key"] != key:
            return None
        if verify and hashlib.sha256(path.read_bytes()).hexdigest() != note["sha256"]:
            return None  # truncated, replaced, forged: the entry itself is read
        if not verify and not path.is_file():
            return None
        return {"cpu_seconds": float(note["cpu_seconds"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no note (an older build's entry, or none at all): the entry itself is read


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
        run.config_for = lambda config=None: default if config is None else config  # what `run(config)` runs
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


# -- many experiments: run, look up, clear (the build and `python -m snippets.experiments`) ---------


def run_experiments(calls, together=()) -> None:
    """Make sure the result of each (experiment, config) of `calls` is in the cache, recording each
    (`report`, with `load=False`): first those whose experiment is in `together` and whose result is
    not cached yet, side by side in the worker pool (`pool.side_by_side`), then the others here, in order.

    It starts by deleting the temporary files of writers since gone (`sweep_temporaries`).
    """
    calls = list(calls)
    if enabled():
        existing = _existing_root()
        if existing is not None:
            sweep_temporaries(existing)
    first = [call for fn in together for call in calls if call[0] is fn]
    # Only misses go to the workers: each worker imports torch afresh, which costs more than recording a hit here.
    missing = [call for call in first if not status(*call)["hit"]]
    made = pool.side_by_side(functools.partial(_records_of, *call) for call in missing)
    for fn, config in first:  # the records in the order of `together`, wherever they were made
        if (fn, config) in missing:
            _records.extend(made[missing.index((fn, config))])
        else:
            fn(config, load=False)
    for fn, config in calls:
        if (fn, config) not in first:
            fn(config, load=False)


def _records_of(fn, config) -> list[dict]:
    """`fn(config, load=False)` and the records it made, taken out of this process's `report`."""
    start = len(_records)
    fn(config, load=False)
    made = _records[start:]
    del _records[start:]
    return made


def _existing_root() -> pathlib.Path | None:
    """The root if it exists and is the project's (`root`), None otherwise; never makes it."""
    try:
        return root(create=False)
    except OSError:
        return None


def status(fn, config=None) -> dict:
    """Whether the experiment `fn`'s result for `config` (None: its default) is in the cache now, and
    what it cost, without computing or writing anything.

    Returns `name`, `key`, `hit` (the entry is whole: its note vouches for its bytes, or it reads
    as an entry of its key), `cpu_seconds` (of that entry, else None) and `last_cpu_seconds` (a miss:
    the CPU seconds of the newest entry of the same name under another key, that is other code,
    seeds or machine, else None).
    """
    name, config = fn.experiment_name, fn.config_for(config)
    key = entry_key(name, config, fn)
    out = {"name": name, "key": key, "hit": False, "cpu_seconds": None, "last_cpu_seconds": None}
    base = _existing_root() if enabled() else None
    if base is None:
        return out
    path = base / "experiments" / f"{name}-{key}.pt"
    note = _note(path, key, verify=True)
    found = None if note is not None else _read(path, key)
    if note is not None or found is not None:
        return {**out, "hit": True, "cpu_seconds": note["cpu_seconds"] if note else found[0]["cpu_seconds"]}
    notes = sorted(_entries(base, name, ".json"), key=lambda p: p.stat().st_mtime_ns)
    for older in reversed(notes):
        try:
            return {**out, "last_cpu_seconds": float(json.loads(older.read_text(encoding="utf-8"))["cpu_seconds"])}
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return out


def _entries(base: pathlib.Path, name: str, suffix: str) -> list[pathlib.Path]:
    """The files `base/experiments/NAME-KEY{suffix}` of any key: the names the cache gives entries."""
    pattern = re.compile(rf"{re.escape(name)}-[0-9a-f]{{20}}{re.escape(suffix)}")
    return [p for p in (base / "experiments").glob(f"{glob.escape(name)}-*{suffix}") if pattern.fullmatch(p.name)]


def clear(names) -> list[pathlib.Path]:
    """Delete every entry of the experiments `names` (of any key) with its note, and the temporary
    files of their writers since gone; return what was deleted.

    Only files named as the cache names them, inside the `experiments` folder of a root this
    project made (one with `CACHEDIR.TAG`); nothing where there is no root.
    """
    base = _existing_root()
    if base is None:
        return []
    removed = []
    for name in names:
        for path in [*_entries(base, name, ".pt"), *_entries(base, name, ".json")]:
            path.unlink(missing_ok=True)
            _loaded.pop(str(path), None)
            removed.append(path)
        removed += sweep_temporaries(base, f".{glob.escape(name)}-*.tmp")
    return removed
