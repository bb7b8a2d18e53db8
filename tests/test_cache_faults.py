"""The experiment cache under faults: each gives the right result or a clear error, touches nothing
outside the cache folder, and never serves (or lists as a hit) a corrupt entry."""

import contextlib
import errno
import importlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
import torch

from snippets.experiments import cache

TOY = """
import os, pathlib, time
from snippets.experiments.cache import experiment

HERE = pathlib.Path(__file__).parent


@experiment("faulty")
def faulty(config={"n": 2}):
    with (HERE / "calls.txt").open("a") as f:  # how many times it was computed
        f.write("x")
    barrier = os.environ.get("TOY_BARRIER")  # a test hook: wait until every process has started computing
    if barrier:
        pathlib.Path(barrier, str(os.getpid())).write_text("")
        deadline = time.monotonic() + 30
        while len(list(pathlib.Path(barrier).iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    return {"value": config["n"] * 10, "weights": torch_arange(config["n"])}


def torch_arange(n):
    import torch
    return torch.arange(float(n))
"""


@pytest.fixture
def box(tmp_path, monkeypatch):
    """A folder with the toy experiment's package, a cache root, and a file outside the cache."""
    package = tmp_path / "toy_faults"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "exp.py").write_text(TOY)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "keep.txt").write_text("not the cache's")
    monkeypatch.setenv("SNIPPETS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SNIPPETS_CACHE", raising=False)
    monkeypatch.delenv("SNIPPETS_SEED_BASE", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("toy_faults")]:
        del sys.modules[name]
    importlib.invalidate_caches()
    cache.clear_report()
    before = outside(tmp_path)
    yield tmp_path
    cache.clear_report()
    assert outside(tmp_path) == before, "a file outside the cache folder was made, changed or deleted"


def outside(path: pathlib.Path) -> dict:
    """Every file under `path` but the cache and the toy's own (its count, its bytecode): size and mtime."""
    own = {"cache", "calls.txt", "__pycache__", "barrier"}
    return {
        str(p.relative_to(path)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in path.rglob("*")
        if p.is_file() and not own & set(p.relative_to(path).parts)
    }


def toy():
    return importlib.import_module("toy_faults.exp").faulty


def calls(box) -> int:
    f = box / "toy_faults" / "calls.txt"
    return len(f.read_text()) if f.exists() else 0


def right(result, n: int = 2) -> bool:
    return result["value"] == 10 * n and torch.equal(result["weights"], torch.arange(float(n)))


def entry(box) -> pathlib.Path:
    (found,) = (box / "cache" / "experiments").glob("faulty-*.pt")
    return found


def temporaries(box) -> list:
    return sorted((box / "cache").rglob("*.tmp"))


# -- a root that cannot be made: warned, computed, returned -----------------------------------------


def test_a_root_under_a_file_warns_and_returns_the_result(box, monkeypatch):
    (box / "outside" / "a-file").write_text("")
    monkeypatch.setenv("SNIPPETS_CACHE_DIR", str(box / "outside" / "a-file" / "cache"))
    with pytest.warns(RuntimeWarning, match="could not be made or read .*NotADirectoryError"):
        assert right(toy()())
    (box / "outside" / "a-file").unlink()  # the file the test made (the rest outside stays as it was)


def test_a_root_without_permission_warns_and_returns_the_result(box, monkeypatch):
    real = pathlib.Path.mkdir

    def refused(self, *args, **kwargs):  # what a folder without write permission answers (root ignores chmod)
        if str(self).startswith(str(box / "cache")):
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "mkdir", refused)
    with pytest.warns(RuntimeWarning, match="could not be made or read .*PermissionError"):
        assert right(toy()())
    with pytest.warns(RuntimeWarning, match="PermissionError"):
        assert toy()(load=False) is not None  # nothing was cached: computed again, never a hit
    assert [r["hit"] for r in cache.report()] == [False, False] and calls(box) == 2
    assert not (box / "cache").exists()


def test_a_deleted_working_folder_with_the_default_root_warns_and_returns_the_result(box, monkeypatch):
    monkeypatch.delenv("SNIPPETS_CACHE_DIR")
    gone = box / "cwd"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()  # Path.cwd() now raises FileNotFoundError
    with pytest.warns(RuntimeWarning, match="could not be made or read .*FileNotFoundError"):
        assert right(toy()())


def test_a_root_that_is_someone_elses_folder_is_a_clear_error(box, monkeypatch):
    monkeypatch.setenv("SNIPPETS_CACHE_DIR", str(box / "outside"))
    with pytest.raises(cache.CacheRootError, match="new or empty folder"):
        toy()()
    assert calls(box) == 0


# -- a full disk, a read-only folder: warned, returned, nothing half-written ------------------------


def test_a_full_disk_warns_returns_the_result_and_leaves_no_partial_file(box, monkeypatch):
    cache.root()  # the root exists; the disk fills up after

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(cache.os, "fsync", full)  # every byte was written, the last step fails
        with pytest.warns(RuntimeWarning, match="could not be written .*No space left"):
            assert right(toy()())
    assert list((box / "cache" / "experiments").iterdir()) == []  # no entry, no note, no temporary
    assert right(toy()()) and calls(box) == 2 and entry(box).exists()


def test_a_read_only_folder_warns_returns_and_still_serves_what_it_holds(box, monkeypatch):
    assert right(toy()())
    entry(box).with_suffix(".json").unlink()  # a note to mend, which the read-only folder refuses

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    with monkeypatch.context() as patch:
        patch.setattr(cache.tempfile, "mkstemp", read_only)
        with pytest.warns(RuntimeWarning, match="could not be written .*Read-only"):
            assert right(toy()())  # served from the entry, which is whole
        with pytest.warns(RuntimeWarning, match="could not be written .*Read-only"):
            assert right(toy()({"n": 3}), 3)  # a new result: computed, returned, not stored
    assert calls(box) == 2 and [r["hit"] for r in cache.report()] == [False, True, False]


# -- damaged and forged entries: computed again, never served, never listed as hits ------------------


@pytest.mark.parametrize("damage", ["truncated", "random bytes", "empty"])
@pytest.mark.parametrize("load", [True, False])
def test_a_damaged_entry_is_computed_again_and_not_a_hit(box, damage, load):
    assert right(toy()())
    data = entry(box).read_bytes()
    damaged = {"truncated": data[: len(data) // 2], "random bytes": os.urandom(len(data)), "empty": b""}[damage]
    entry(box).write_bytes(damaged)  # its note still claims the whole entry
    with pytest.warns(RuntimeWarning, match="unreadable"):
        result = toy()(load=load)
    assert right(result)
    assert calls(box) == 2 and cache.report()[-1]["hit"] is False
    assert right(torch.load(entry(box), weights_only=True)["result"])  # the entry is whole again
    assert toy()(load=False) is None and cache.report()[-1]["hit"] is True  # and its note vouches for it


def test_a_valid_entry_of_another_key_is_not_served(box):
    assert right(toy()({"n": 3}), 3)
    other = entry(box)
    assert right(toy()())
    mine = next(p for p in (box / "cache" / "experiments").glob("faulty-*.pt") if p != other)
    mine.write_bytes(other.read_bytes())  # a well-formed torch file, of another config's key
    mine.with_suffix(".json").write_bytes(other.with_suffix(".json").read_bytes())
    for load in (False, True):
        with pytest.warns(RuntimeWarning, match="not a cache entry of key"):
            assert right(toy()(load=load))
        mine.write_bytes(other.read_bytes())
    assert calls(box) == 4


@pytest.mark.parametrize("entry_state", ["missing", "corrupt"])
def test_a_note_claiming_a_hit_is_not_trusted_without_a_whole_entry(box, entry_state):
    assert right(toy()())
    path = entry(box)
    note = json.loads(path.with_suffix(".json").read_text())
    if entry_state == "missing":
        path.unlink()
    else:
        path.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    path.with_suffix(".json").write_text(json.dumps({**note, "cpu_seconds": 1.0}))  # forged: same key, says hit
    assert cache.status(toy())["hit"] is False
    with pytest.warns(RuntimeWarning, match="unreadable") if entry_state == "corrupt" else contextlib.nullcontext():
        assert toy()(load=False) is not None  # computed, not recorded from the note
    assert calls(box) == 2 and cache.report()[-1]["hit"] is False
    assert cache.status(toy())["hit"] is True


# -- processes at once, and one killed mid-write -----------------------------------------------------


def _script(box, body: str) -> str:
    return f"import sys; sys.path.insert(0, {str(box)!r})\nfrom toy_faults.exp import faulty\n{body}"


def test_two_processes_computing_the_same_entry_at_once_leave_one_whole_entry(box):
    (box / "barrier").mkdir()
    env = {**os.environ, "TOY_BARRIER": str(box / "barrier")}
    script = _script(box, "assert faulty()['value'] == 20")
    procs = [subprocess.Popen([sys.executable, "-c", script], env=env) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert calls(box) == 2  # both computed it, at once (the barrier held each until both had begun)
    names = sorted(p.suffix for p in (box / "cache" / "experiments").iterdir())
    assert names == [".json", ".pt"] and temporaries(box) == []
    assert toy()(load=False) is None and cache.report()[-1]["hit"] is True  # the note vouches for the entry
    assert right(toy()()) and calls(box) == 2


STALL = """
import os, pathlib, time
from snippets.experiments import cache
real = cache.torch.save

def stalled(obj, f):  # a test hook: the entry's bytes are half written when the process is killed
    real(obj, f)
    pathlib.Path({mark!r}).write_text("")
    time.sleep(60)

cache.torch.save = stalled
faulty()
"""


def test_a_writer_killed_mid_write_leaves_a_temporary_the_next_run_deletes_and_recomputes(box):
    mark = box / "cache-writing"
    script = _script(box, STALL.format(mark=str(mark)))
    writer = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while not mark.exists():
            assert writer.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        (left,) = temporaries(box)
        assert left.name.startswith(".faulty-") and f"-{writer.pid}." in left.name
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert list((box / "cache" / "experiments").glob("*.pt")) == []  # no half entry in place
    assert right(toy()()) and calls(box) == 2  # the next run computes it again
    assert temporaries(box) == [] and entry(box).exists()
    mark.unlink()


def test_only_dead_writers_temporaries_inside_a_tagged_root_are_swept(box):
    root = cache.root()
    folder = root / "experiments"
    folder.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = cache._HOST
    files = {
        "dead": folder / f".x-0123.pt.{host}-{dead.pid}.abc_1234.tmp",
        "alive": folder / f".x-0123.pt.{host}-{os.getpid()}.abc_1234.tmp",
        "other host": folder / f".x-0123.pt.elsewhere-{dead.pid}.abc_1234.tmp",
        "not ours": folder / "notes.tmp",
        "not ours either": folder / ".x.tmp",
    }
    for path in files.values():
        path.write_text("")
    assert cache.sweep_temporaries(root) == [files["dead"]]
    assert [name for name, path in files.items() if path.exists()] == list(files)[1:]
    untagged = box / "cache-copy"
    untagged.mkdir()
    stray = untagged / files["dead"].name
    stray.write_text("")
    assert cache.sweep_temporaries(untagged) == [] and stray.exists()  # not a root this project made
    stray.unlink()
    untagged.rmdir()


@pytest.mark.parametrize("value", ["of", "maybe", "2"])
def test_an_unknown_cache_switch_is_a_clear_error(box, monkeypatch, value):
    monkeypatch.setenv("SNIPPETS_CACHE", value)
    with pytest.raises(ValueError, match=f"SNIPPETS_CACHE must be on or off .*got {value!r}"):
        toy()()
