"""The reuse page's speed tables, from a made-up benchmark result."""

from snippets.site.speed import bench_section, speed_table

MEDIANS = {"torch.nn.GRU": [0.020, 0.010], "snippets.GRU": [0.022, 0.011], "snippets.GRU + traces": [0.0231, 0.0121],
           "naive GRU loop": [0.044, 0.020]}


def test_speed_table_gives_times_in_ms_and_ratios():
    rows = speed_table("GRU", MEDIANS).splitlines()
    assert len(rows) == 2 + len(MEDIANS)
    assert rows[3] == "| `snippets.GRU` | 22.0 | 11.0 | 1.10 | 0.50 | 1.10 |"


def test_bench_section_states_the_machine_and_the_cost_of_traces():
    text = bench_section({"machine": "a test CPU, 2 cores", "hidden": 128, "repeats": 9, "modes": {"GRU": MEDIANS}})
    assert "a test CPU, 2 cores" in text and '=== "GRU"' in text
    assert "changes the median time by +5 % in training and +10 % in inference" in text
