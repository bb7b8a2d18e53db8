"""The build report table, from cache records."""

import pytest

from snippets.site.report import budget, report_table

pytestmark = pytest.mark.site  # needs the site extra (mkdocs and its plugins): see tests/conftest.py

RECORDS = [
    {
        "name": "adding_problem",
        "key": "abcdef123456",
        "hit": True,
        "seconds": 0.05,
        "cpu_seconds": 70.0,
        "config": {"seeds": [0, 1, 2, 3, 4], "train": {"steps": 3000}},
    },
    {
        "name": "copy_task",
        "key": "0123456789ab",
        "hit": False,
        "seconds": 40.0,
        "cpu_seconds": 75.5,
        "config": {"seeds": 5, "steps": 1000},
    },
    {
        "name": "gradient_decay_rnn",
        "key": "fedcba987654",
        "hit": True,
        "seconds": 0.01,
        "cpu_seconds": 0.1,
        "config": {"T": 100},
    },
]


def test_report_table_lists_each_record_with_its_seeds_budget_and_cpu_seconds_and_the_totals():
    table = report_table(RECORDS, wall_seconds=31.5).splitlines()
    assert len(table) == 2 + 3 + 1
    assert table[2] == "| `adding_problem` (`abcdef12`) | loaded from cache | 5 | 3,000 | 70.0 |"
    assert table[3] == "| `copy_task` (`01234567`) | computed | 5 | 1,000 | 75.5 |"
    assert table[4] == "| `gradient_decay_rnn` (`fedcba98`) | loaded from cache | – | – | 0.1 |"
    assert table[5] == "| **all 3** | 1 computed, **31.5 s** wall clock this build | | | **145.6** |"


def test_an_entry_read_twice_is_listed_and_counted_once():
    table = report_table(RECORDS + [dict(RECORDS[0], hit=True)], wall_seconds=31.5).splitlines()
    assert len(table) == 2 + 3 + 1 and table[-1].endswith("| **145.6** |")


def test_budget_reads_seeds_and_steps_wherever_the_config_keeps_them():
    assert budget({"seeds": (0, 1), "steps": 10}) == ("2", "10")
    assert budget({"train": {"steps": 2500}}) == ("–", "2,500")
    assert budget("not a dict") == ("–", "–")


def test_an_empty_report_means_the_hook_did_not_run():
    with pytest.raises(ValueError, match="did the pre-build hook run"):
        report_table([], wall_seconds=0.0)
