"""The code-block cache: a block's output is reused only while its code and the results it read stay the same."""

import json
import os

import pytest

from snippets.experiments import cache
from snippets.site import block_cache

pytestmark = pytest.mark.site  # needs the site extra (mkdocs and its plugins): see tests/conftest.py


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("SNIPPETS_CACHE_DIR", str(tmp_path / "root"))
    monkeypatch.delenv("SNIPPETS_CACHE", raising=False)
    block_cache.start_build()
    cache.clear_report()
    yield cache.root()
    cache.clear_report()
    block_cache.start_build()


@cache.experiment("block_cache_test")
def _experiment(config: int = 3) -> dict:
    return {"value": config}


class Runner:
    """markdown-exec's runner, counting its calls; the block "reads" an experiment if asked to."""

    def __init__(self):
        self.calls = 0

    def __call__(self, code, session=None, **kwargs):
        self.calls += 1
        if "experiment" in code:
            return f"value {_experiment()['value']}, call {self.calls}"
        return f"call {self.calls}"


def test_a_block_runs_once_then_its_output_is_reused(root):
    run = Runner()
    first = block_cache.cached_run(run, "print(1)")
    assert block_cache.cached_run(run, "print(1)") == first == "call 1" and run.calls == 1
    assert block_cache.cached_run(run, "print(2)") == "call 2"  # other code, other entry


def test_a_rewritten_result_makes_the_block_run_again(root):
    run = Runner()
    assert block_cache.cached_run(run, "experiment") == "value 3, call 1"
    assert block_cache.cached_run(run, "experiment") == "value 3, call 1" and run.calls == 1
    (entry,) = (cache.folder("experiments")).glob("block_cache_test-*.pt")
    stamp = entry.stat().st_mtime_ns
    os.utime(entry, ns=(stamp + 10**9, stamp + 10**9))  # the same key written again: new content
    assert block_cache.cached_run(run, "experiment") == "value 3, call 2"


def test_sessions_and_blocks_that_read_the_build_are_never_kept(root):
    run = Runner()
    for code, kwargs in (("print(1)", {"session": "s"}), ("print(cache.report())", {}), ("build_log.table()", {})):
        block_cache.cached_run(run, code, **kwargs)
        block_cache.cached_run(run, code, **kwargs)
    assert run.calls == 6 and not list(cache.folder("blocks").glob("*.json"))


def test_cache_off_keeps_nothing(root, monkeypatch):
    monkeypatch.setenv("SNIPPETS_CACHE", "off")
    run = Runner()
    block_cache.cached_run(run, "print(1)")
    block_cache.cached_run(run, "print(1)")
    assert run.calls == 2


def test_a_damaged_entry_is_run_again_and_unused_entries_are_dropped(root):
    run = Runner()
    block_cache.cached_run(run, "print(1)")
    (entry,) = cache.folder("blocks").glob("*.json")
    entry.write_text("{not json", encoding="utf-8")
    assert block_cache.cached_run(run, "print(1)") == "call 2"
    assert json.loads(entry.read_text(encoding="utf-8"))["output"] == "call 2"
    (cache.folder("blocks") / "stale.json").write_text("{}", encoding="utf-8")
    assert block_cache.drop_unused() == ["stale.json"] and entry.exists()


def test_the_key_follows_the_code_and_the_seed_base(root, monkeypatch):
    key = block_cache.block_key("print(1)")
    assert block_cache.block_key("print(2)") != key
    monkeypatch.setenv("SNIPPETS_SEED_BASE", "1000")
    assert block_cache.block_key("print(1)") != key


def test_values_are_kept_while_they_hold_and_come_back_from_json_as_they_went_in(root):
    calls = []

    def compute(value):
        def run():
            calls.append(1)
            return value

        return run

    assert block_cache.cached_value("facts a {}", compute({"x": [1, 2.5]})) == {"x": [1, 2.5]}
    assert block_cache.cached_value("facts a {}", compute({"x": "other"})) == {"x": [1, 2.5]} and len(calls) == 1
    failing = [False, "evidence"]
    block_cache.cached_value("claim b {}", compute(failing), keep=lambda c: c[0])
    block_cache.cached_value("claim b {}", compute(failing), keep=lambda c: c[0])
    assert len(calls) == 3  # a claim that does not hold is checked again every time
    for value in ({"x": (1, 2)}, {1: "a"}, {1, 2}):  # JSON would change them: computed every time
        block_cache.cached_value(f"facts {value!r}", compute(value))
        assert block_cache.cached_value(f"facts {value!r}", compute(value)) == value
    assert len(calls) == 9


def test_a_served_block_keeps_the_figures_it_drew(root, monkeypatch):
    from snippets.figures import svg_cache

    def draw(code, session=None, **kwargs):
        svg_cache.mark_used({"abc.svg"})  # what svg_cache.get records when the block saves a figure
        return "<svg/>"

    monkeypatch.setattr(svg_cache, "_used", set())
    assert block_cache.cached_run(draw, "figure()") == "<svg/>"
    monkeypatch.setattr(svg_cache, "_used", set())  # the next build: nothing drawn yet
    block_cache.start_build()
    assert block_cache.cached_run(Runner(), "figure()") == "<svg/>"  # served, not run
    assert "abc.svg" in svg_cache.used()  # so prune keeps it
