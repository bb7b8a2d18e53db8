"""The build report table, from cache records."""

import pytest

from snippets.site.prebuild import report_table


def test_report_table_lists_each_record_and_the_totals():
    records = [
        {"name": "adding_problem", "key": "abcdef123456", "hit": True, "seconds": 0.05, "compute_seconds": 70.0},
        {"name": "copy_task", "key": "0123456789ab", "hit": False, "seconds": 40.0, "compute_seconds": 40.0},
    ]
    table = report_table(records, wall_seconds=31.5).splitlines()
    assert len(table) == 2 + 2 + 1
    assert "`adding_problem` (`abcdef12`) | loaded from cache | 0.05 | 70.0" in table[2]
    assert "`copy_task` (`01234567`) | computed | 40.00 | 40.0" in table[3]
    assert table[4] == "| **all 2** | 1 computed | **31.50** wall clock | |"


def test_an_empty_report_means_the_hook_did_not_run():
    with pytest.raises(ValueError, match="did the pre-build hook run"):
        report_table([], wall_seconds=0.0)
