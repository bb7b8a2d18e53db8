"""The log of recent builds behind the build report page."""

import contextlib
import json

import pytest

from snippets.site import build_log

pytestmark = pytest.mark.site  # needs the site extra (mkdocs and its plugins): see tests/conftest.py


def entry(k: int, computed: int = 0, dirty: bool = False) -> dict:
    return {
        "finished": f"2026-11-21 10:{k:02d}:00",
        "seconds": 10.0 + k,
        "experiments": 17,
        "computed": computed,
        "dirty": dirty,
    }


def test_the_log_keeps_the_last_builds_oldest_first(tmp_path):
    path = tmp_path / "builds.json"
    for k in range(build_log.KEEP + 3):
        build_log.append(path, entry(k))
    kept = build_log.read(path)
    assert [e["seconds"] for e in kept] == [10.0 + k for k in range(3, build_log.KEEP + 3)]
    assert not list(tmp_path.glob(".*.tmp")), "a temporary file was left behind"


@pytest.mark.parametrize(
    "text, unreadable",
    [('[{"finished": ', True), ("\xff\xfe", True), ("{}", False), ('[{"seconds": 3}]', False)],
    ids=["truncated", "not text", "not a list", "an older format"],
)
def test_an_unreadable_log_starts_again(tmp_path, text, unreadable):
    path = tmp_path / "builds.json"
    path.write_bytes(text.encode("latin-1"))
    with pytest.warns(RuntimeWarning, match="unreadable") if unreadable else contextlib.nullcontext():
        assert build_log.read(path) == []
        build_log.append(path, entry(1))
    assert json.loads(path.read_text(encoding="utf-8")) == [entry(1)]


def test_the_table_lists_the_builds_newest_first():
    rows = build_log.table([entry(1, computed=17), entry(2, computed=3), entry(3, dirty=True)]).splitlines()
    assert rows[2] == "| 2026-11-21 10:03:00 (`serve --dirty`: changed pages only) | 13.0 | 0 of 17 |"
    assert rows[3] == "| 2026-11-21 10:02:00 | 12.0 | 3 of 17 |" and rows[4].endswith("| 17 of 17 |")


def test_with_no_log_the_table_says_so():
    assert "No earlier build" in build_log.table([])
