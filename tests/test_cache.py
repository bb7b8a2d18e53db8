"""The experiment cache: a code or config change invalidates, no change hits, writes are atomic."""

import importlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import pytest
import torch

import snippets
from snippets.experiments import cache

TOY = """
import pathlib
from snippets.experiments.cache import experiment
from . import dep

CALLS = pathlib.Path(__file__).parents[1] / "calls.txt"


def helper(n):
    return n * {factor}


@experiment("toy")
def toy(config={{"n": 2}}):
    from .inside import offset  # an import inside the function counts too
    with CALLS.open("a") as f:
        f.write("x")
    return {{"value": helper(config["n"]) + offset(), "tensor": dep.VALUE * torch_ones()}}


def torch_ones():
    import torch
    return torch.ones(2)
"""


def load(path, name, **fields):
    """Write the toy package `name` (experiment, a dependency that imports another, one imported
    inside the function, one nobody imports) with `fields`, and import its experiment module fresh."""
    params = {"factor": 10, "unrelated": 0, "dep_value": 1, "far": 1, "offset": 0, **fields}
    package = path / name
    package.mkdir(exist_ok=True)
    files = {
        "__init__.py": "",
        "exp.py": TOY.format(factor=params["factor"]),
        "dep.py": f"from .far import SCALE\nVALUE = {params['dep_value']} * SCALE\n",
        "far.py": f"SCALE = {params['far']}\n",
        "inside.py": f"def offset():\n    return {params['offset']}\n",
        "unrelated.py": f"X = {params['unrelated']}\n",
    }
    for file, text in files.items():
        (package / file).write_text(text)
    sys.path.insert(0, str(path))
    try:
        for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[mod]
        importlib.invalidate_caches()
        return importlib.import_module(f"{name}.exp")
    finally:
        sys.path.remove(str(path))


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("SNIPPETS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SNIPPETS_CACHE", raising=False)
    monkeypatch.delenv("SNIPPETS_SEED_BASE", raising=False)
    cache.clear_report()
    yield tmp_path
    cache.clear_report()


def calls(path):
    f = path / "calls.txt"
    return len(f.read_text()) if f.exists() else 0


def entries(env):
    return sorted((env / "cache" / "experiments").glob("toy-*.pt"))


def test_no_change_hits_and_does_not_recompute(env):
    toy = load(env, "toy_a")
    first = toy.toy()
    second = load(env, "toy_a").toy()  # a fresh import, as in a new build
    assert calls(env) == 1
    assert first["value"] == second["value"] == 20
    assert torch.equal(first["tensor"], second["tensor"])
    assert [r["hit"] for r in cache.report()] == [False, True]
    assert all(r["name"] == "toy" and r["seconds"] >= 0 for r in cache.report())


def test_a_config_change_recomputes(env):
    toy = load(env, "toy_b")
    assert toy.toy({"n": 2})["value"] == 20
    assert toy.toy({"n": 3})["value"] == 30
    assert calls(env) == 2


def test_a_change_in_a_helper_it_calls_recomputes(env):
    load(env, "toy_c").toy()
    assert load(env, "toy_c", factor=11).toy()["value"] == 22
    assert calls(env) == 2


def test_a_change_in_a_dependency_module_recomputes(env):
    load(env, "toy_d").toy()
    assert torch.equal(load(env, "toy_d", dep_value=5).toy()["tensor"], torch.full((2,), 5.0))
    assert calls(env) == 2


def test_a_change_two_imports_away_recomputes(env):
    load(env, "toy_k").toy()
    assert torch.equal(load(env, "toy_k", far=3).toy()["tensor"], torch.full((2,), 3.0))
    assert calls(env) == 2


def test_a_change_in_a_module_imported_inside_the_function_recomputes(env):
    load(env, "toy_l").toy()
    assert load(env, "toy_l", offset=1).toy()["value"] == 21
    assert calls(env) == 2


def test_a_change_in_a_module_it_cannot_reach_does_not_recompute(env):
    load(env, "toy_e").toy()
    load(env, "toy_e", unrelated=1).toy()
    assert calls(env) == 1


def test_another_seed_base_is_another_entry(env, monkeypatch):
    toy = load(env, "toy_m")
    toy.toy()
    monkeypatch.setenv("SNIPPETS_SEED_BASE", "1000")
    toy.toy()
    assert calls(env) == 2 and len(entries(env)) == 2


@pytest.mark.parametrize("damage", ["garbage", "truncate", "empty"])
def test_an_unreadable_entry_is_recomputed_with_a_warning(env, damage):
    toy = load(env, "toy_f")
    toy.toy()
    (entry,) = entries(env)
    data = entry.read_bytes()
    entry.write_bytes({"garbage": b"not a cache entry", "truncate": data[: len(data) // 2], "empty": b""}[damage])
    with pytest.warns(RuntimeWarning, match="unreadable"):
        assert toy.toy()["value"] == 20
    assert calls(env) == 2
    assert toy.toy()["value"] == 20 and calls(env) == 2  # the rewritten entry is whole again


def test_a_write_killed_midway_leaves_no_entry_and_no_temporary_file(env, monkeypatch):
    toy = load(env, "toy_g")

    def half_then_interrupt(obj, f):
        f.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(cache.torch, "save", half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        toy.toy()
    assert list((env / "cache" / "experiments").iterdir()) == []
    monkeypatch.undo()
    monkeypatch.setenv("SNIPPETS_CACHE_DIR", str(env / "cache"))
    assert toy.toy()["value"] == 20 and calls(env) == 2
    assert len(entries(env)) == 1


def test_a_cache_that_cannot_be_written_warns_and_returns_the_result(env, monkeypatch):
    toy = load(env, "toy_n")

    def full_disk(obj, f):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache.torch, "save", full_disk)
    with pytest.warns(RuntimeWarning, match="could not be written"):
        assert toy.toy()["value"] == 20
    assert entries(env) == []


def test_two_builds_at_once_leave_one_whole_entry(env):
    load(env, "toy_h")
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(env)!r})
        import toy_h.exp as toy_h
        for n in range(20):
            assert toy_h.toy({{"n": n}}, cache=True)["value"] == 10 * n
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    found = list((env / "cache" / "experiments").iterdir())
    # one entry and its note (its CPU seconds, for builds that need not read the entry) per n
    assert sorted(e.suffix for e in found) == [".json"] * 20 + [".pt"] * 20
    toy = load(env, "toy_h")
    before = calls(env)
    assert [toy.toy({"n": n})["value"] for n in range(20)] == [10 * n for n in range(20)]
    assert calls(env) == before  # every entry written by either process is readable


def test_cache_off_computes_and_stores_nothing(env, monkeypatch):
    monkeypatch.setenv("SNIPPETS_CACHE", "off")
    toy = load(env, "toy_i")
    toy.toy()
    toy.toy()
    assert calls(env) == 2 and not (env / "cache").exists()


def test_a_config_must_be_plain_data(env):
    toy = load(env, "toy_j")
    with pytest.raises(TypeError, match="plain data"):
        toy.toy({"n": object()})


def test_a_process_running_old_code_refuses_its_results_and_reports_it_stale(env):
    """Like `mkdocs serve` after an edit: the loaded (old) code gets no result, old or new, and stores none."""
    old = load(env, "toy_s")
    assert old.toy()["value"] == 20
    exp = env / "toy_s" / "exp.py"
    exp.write_text(exp.read_text().replace("n * 10", "n * 11"))
    with pytest.raises(cache.StaleCodeError, match=r"toy_s\.exp changed on disk.*Restart"):
        old.toy()
    assert calls(env) == 1 and len(entries(env)) == 1  # nothing computed, nothing stored under either key
    assert "toy_s.exp" in cache.stale()
    assert load(env, "toy_s", factor=11).toy()["value"] == 22  # a fresh import runs the new code


SERVING = """
import json, sys
sys.path.insert(0, {path!r})
from snippets.experiments import cache
import {names}

for line in sys.stdin:  # one line per request: the name of the package whose experiment to run
    module = sys.modules[line.strip() + ".exp"]
    try:
        out = {{"value": module.toy()["value"], "hit": cache.report()[-1]["hit"]}}
    except cache.StaleCodeError as err:
        out = {{"error": str(err)}}
    print(json.dumps(out), flush=True)
"""

# package -> the file of it that the edit changes: the experiment's own module, a module two imports
# away, a module imported inside the experiment's function
SERVED = {"toy_q": "exp.py", "toy_r": "far.py", "toy_t": "inside.py"}
EDITS_OF = {
    "exp.py": ("n * 10", "n * 100"),
    "far.py": ("SCALE = 1", "SCALE = 10"),
    "inside.py": ("return 0", "return 10"),
}


def test_a_running_process_never_gets_a_result_for_code_that_changed_on_disk(env):
    """A long-running process (as `mkdocs serve`) computes and caches each experiment; then its files
    change under it. Asked again, it must refuse, not answer from its memo or from the cache. A file
    rewritten with the same text changes nothing."""
    for name in SERVED:
        load(env, name)  # writes the package (and imports it here, which the served process does not share)
    names = ", ".join(f"{name}.exp" for name in SERVED)
    process = subprocess.Popen(
        [sys.executable, "-c", SERVING.format(path=str(env), names=names)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SNIPPETS_CACHE_DIR": str(env / "cache")},
    )

    def ask(name: str) -> dict:
        process.stdin.write(name + "\n")
        process.stdin.flush()
        line = process.stdout.readline()
        assert line, process.stderr.read()[-3000:]
        return json.loads(line)

    try:
        for name, file in SERVED.items():
            assert ask(name) == {"value": 20, "hit": False}
            assert ask(name) == {"value": 20, "hit": True}
            path = env / name / file
            path.write_text(path.read_text())  # saved again, unchanged: still served
            assert ask(name) == {"value": 20, "hit": True}
            old, new = EDITS_OF[file]
            assert old in path.read_text()
            path.write_text(path.read_text().replace(old, new))
            answer = ask(name)
            assert "error" in answer, f"the process served {answer} after {name}/{file} changed"
            assert f"{name}.{file[:-3]} changed on disk" in answer["error"] and "Restart" in answer["error"]
            assert "error" in ask(name)  # and it stays refused
    finally:
        process.stdin.close()
        process.wait(timeout=60)
    assert calls(env) == len(SERVED)  # each computed once, before its edit
    assert len(entries(env)) == len(SERVED)  # nothing stored under an old or a new key after the edits


def test_sort_report_orders_the_later_records_by_name_and_keeps_the_earlier():
    cache.clear_report()
    cache._records.extend({"name": name, "n": k} for k, name in enumerate(["x", "b", "a", "b"]))
    cache.sort_report(1, ["a", "b"])
    assert [(r["name"], r["n"]) for r in cache.report()] == [("x", 0), ("a", 2), ("b", 1), ("b", 3)]
    cache.clear_report()


# -- the root: one folder the project owns ---------------------------------------------------------


def test_the_root_is_made_and_tagged_and_only_a_tagged_or_empty_folder_is_used(tmp_path, monkeypatch):
    root = tmp_path / "home" / "cache"
    monkeypatch.setenv("SNIPPETS_CACHE_DIR", str(root))
    assert cache.root() == root and (root / cache.TAG).read_text().startswith(
        "Signature: 8a477f597d28d172789f06886806bc55"
    )
    assert cache.folder("experiments") == root / "experiments"
    theirs = tmp_path / "documents"
    (theirs / "notebooks").mkdir(parents=True)
    monkeypatch.setenv("SNIPPETS_CACHE_DIR", str(theirs))
    with pytest.raises(cache.CacheRootError, match="new or empty folder"):
        cache.root()
    assert not (theirs / cache.TAG).exists()


# -- the site's experiments: what an edit several imports away recomputes --------------------------


KEYS = """
import json
from snippets import experiments
from snippets.experiments.cache import entry_key
print(json.dumps([[fn.experiment_name, entry_key(fn.experiment_name, config or fn.__wrapped__.__defaults__[0], fn)]
                  for fn, config in experiments.ALL]))
"""


def site_keys(package_parent) -> list[list[str]]:
    """[experiment name, key] of every experiment the site shows, computed with the package at `package_parent`."""
    out = subprocess.run(
        [sys.executable, "-c", KEYS],
        env={**os.environ, "PYTHONPATH": str(package_parent)},
        cwd=package_parent,  # not the checkout: "-c" puts the working folder first on sys.path
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory):
    parent = tmp_path_factory.mktemp("copy")
    shutil.copytree(
        pathlib.Path(snippets.__file__).parent, parent / "snippets", ignore=shutil.ignore_patterns("__pycache__")
    )
    return parent


# (file, the edit, experiments that run the edited code, experiments that cannot reach it)
EDITS = [
    (
        "cells.py",
        ("    c = f * c + i * g\n", "    c = f * c + i * g * 1.0\n"),
        {"recall", "gradient_decay_lstm", "text_units", "speed", "lstm_variants"},
        set(),
    ),
    (
        "variants.py",
        ("param[hidden : 2 * hidden] = value if", "param[hidden : 2 * hidden] = 1.0 * value if"),
        {"recall", "gradient_decay_lstm", "candidate_growth", "lstm_variants"},
        {"speed"},
    ),
]


@pytest.mark.parametrize("module, edit, dependents, unreachable", EDITS, ids=[e[0] for e in EDITS])
def test_an_edit_several_imports_away_changes_every_dependent_key_and_no_other(
    package_copy, module, edit, dependents, unreachable
):
    before = site_keys(package_copy)
    path = package_copy / "snippets" / module
    text = path.read_text()
    assert edit[0] in text
    path.write_text(text.replace(*edit))
    try:
        after = site_keys(package_copy)
    finally:
        path.write_text(text)
    changed = {name for (name, old), (_, new) in zip(before, after, strict=True) if old != new}
    names = {name for name, _ in before}
    assert dependents <= changed, sorted(dependents - changed)
    assert not changed & unreachable, sorted(changed & unreachable)
    assert changed == names - unreachable  # all the others reach the edited module through their imports


def test_load_false_records_an_entry_from_its_note_without_reading_it(env, monkeypatch):
    toy = load(env, "toy_n")
    first = toy.toy()
    [entry] = (env / "cache" / "experiments").glob("*.pt")
    note = json.loads(entry.with_suffix(".json").read_text())
    assert note["key"] in entry.name and note["cpu_seconds"] == cache.report()[-1]["cpu_seconds"]

    def no_reading(*args, **kwargs):
        raise AssertionError("load=False read the entry")

    with monkeypatch.context() as patch:
        patch.setattr(cache, "_read", no_reading)
        assert toy.toy(load=False) is None and calls(env) == 1
    assert cache.report()[-1] == {**cache.report()[-1], "hit": True, "cpu_seconds": note["cpu_seconds"]}
    entry.with_suffix(".json").write_text(json.dumps({"key": "another", "cpu_seconds": 1.0}))
    assert toy.toy(load=False)["value"] == first["value"] and calls(env) == 1  # a foreign note: read, not trusted
    assert json.loads(entry.with_suffix(".json").read_text())["key"] == note["key"]  # and the note mended
