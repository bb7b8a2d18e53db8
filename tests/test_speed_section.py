"""The reuse page's speed facts, from a made-up benchmark result."""

from snippets.figures.reuse import speed_facts, speed_table

MEDIANS = {
    "torch.nn.GRU": [0.020, 0.010],
    "snippets.GRU": [0.022, 0.011],
    "snippets.GRU + traces": [0.0231, 0.0121],
    "snippets.GRU bptt": [0.011, 0.008],
    "snippets.GRU bptt + traces": [0.0110, 0.0081],
    "naive GRU loop": [0.044, 0.020],
}


def test_speed_table_gives_times_in_ms_and_ratios():
    rows = speed_table("GRU", MEDIANS).splitlines()
    assert len(rows) == 2 + len(MEDIANS)
    assert rows[3] == "| `snippets.GRU` | 22.0 | 11.0 | 1.10 | 0.50 | 1.10 |"


def test_speed_facts_give_the_machine_and_the_cost_of_traces_on_each_path():
    facts = speed_facts({"machine": "a test CPU, 2 cores", "hidden": 128, "repeats": 9, "modes": {"GRU": MEDIANS}})
    assert facts["machine"] == "a test CPU, 2 cores" and facts["hidden"] == 128
    gru = facts["cells"]["GRU"]
    assert (gru["traces_train"], gru["traces_infer"], gru["bptt_traces_train"]) == ("+5 %", "+10 %", "+0 %")
    assert gru["bptt_train_vs_default"] == "0.50"
