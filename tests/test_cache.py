"""The experiment cache: a code or config change invalidates, no change hits, writes are atomic."""

import importlib.util
import subprocess
import sys
import textwrap

import pytest
import torch

from snippets import cache

TOY = '''
import pathlib
from snippets.cache import experiment
import {dep} as dep

CALLS = pathlib.Path(__file__).with_name("calls.txt")


def helper(n):
    return n * {factor}


def unrelated():
    return {unrelated}


@experiment("toy", modules=(dep,))
def toy(config={{"n": 2}}):
    with CALLS.open("a") as f:
        f.write("x")
    return {{"value": helper(config["n"]), "tensor": dep.VALUE * torch_ones()}}


def torch_ones():
    import torch
    return torch.ones(2)
'''


def load(path, name, **fields):
    """Write the toy module (and its dependency) with ``fields`` and import it fresh."""
    params = {"factor": 10, "unrelated": 0, "dep_value": 1, **fields}
    dep_name = f"toydep_{name}"
    (path / f"{dep_name}.py").write_text(f"VALUE = {params['dep_value']}\n")
    (path / f"{name}.py").write_text(TOY.format(dep=dep_name, factor=params["factor"],
                                                unrelated=params["unrelated"]))
    sys.path.insert(0, str(path))
    try:
        for mod in (dep_name, name):
            sys.modules.pop(mod, None)
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(path))


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("SNIPPETS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SNIPPETS_CACHE", raising=False)
    cache.clear_report()
    yield tmp_path
    cache.clear_report()


def calls(path):
    f = path / "calls.txt"
    return len(f.read_text()) if f.exists() else 0


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


def test_a_change_in_code_it_does_not_run_does_not_recompute(env):
    load(env, "toy_e").toy()
    load(env, "toy_e", unrelated=1).toy()
    assert calls(env) == 1


@pytest.mark.parametrize("damage", ["garbage", "truncate", "empty"])
def test_an_unreadable_entry_is_recomputed_with_a_warning(env, damage):
    toy = load(env, "toy_f")
    toy.toy()
    (entry,) = (env / "cache").glob("toy-*.pt")
    data = entry.read_bytes()
    entry.write_bytes({"garbage": b"not a cache entry", "truncate": data[: len(data) // 2],
                       "empty": b""}[damage])
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
    assert list((env / "cache").iterdir()) == []
    monkeypatch.undo()
    monkeypatch.setenv("SNIPPETS_CACHE_DIR", str(env / "cache"))
    assert toy.toy()["value"] == 20 and calls(env) == 2
    assert len(list((env / "cache").glob("toy-*.pt"))) == 1


def test_two_builds_at_once_leave_one_whole_entry(env):
    load(env, "toy_h")
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(env)!r})
        import toy_h
        for n in range(20):
            assert toy_h.toy({{"n": n}}, cache=True)["value"] == 10 * n
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    entries = list((env / "cache").iterdir())
    assert len(entries) == 20 and all(e.suffix == ".pt" for e in entries)
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


def test_a_process_running_old_code_keeps_its_key_and_reports_it_stale(env):
    """Like `mkdocs serve` after an edit: the loaded (old) code must not write under the new code's key."""
    old = load(env, "toy_s")
    assert old.toy()["value"] == 20
    (env / "toy_s.py").write_text((env / "toy_s.py").read_text().replace("n * 10", "n * 11"))
    assert old.toy()["value"] == 20 and calls(env) == 1  # same key: a hit, not old code under a new key
    assert "toy" in cache.stale()
    assert load(env, "toy_s", factor=11).toy()["value"] == 22  # a fresh import runs the new code


def test_sort_report_orders_the_later_records_by_name_and_keeps_the_earlier():
    from snippets import cache
    cache.clear_report()
    cache._records.extend({"name": name, "n": k} for k, name in enumerate(["x", "b", "a", "b"]))
    cache.sort_report(1, ["a", "b"])
    assert [(r["name"], r["n"]) for r in cache.report()] == [("x", 0), ("a", 2), ("b", 1), ("b", 3)]
    cache.clear_report()
