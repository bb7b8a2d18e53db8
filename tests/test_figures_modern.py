"""The modern-cells page's figures, tables and claims, on made-up results: the claims hold where the
page's statements are true and fail where they are not; figures fit their widths."""

import math

import pytest
import torch

from snippets.experiments import modern
from snippets.figures import PHONE_WIDTH, svg_html
from snippets.figures import modern as page

NAMES = ("minGRU scan", "minGRU loop", "snippets.GRU", "torch.nn.GRU")


def speed_result(scan_512: float = 0.006, scan_wide: float = 0.08, loop_wide: float = 0.05) -> dict:
    """A scan_speed result: lengths 64, 512, 4096 at 64 lanes, widths 64, 256, 1024 lanes at T = 512."""
    loops = {"minGRU loop": 70e-6, "snippets.GRU": 115e-6, "torch.nn.GRU": 90e-6}  # seconds per step
    by_length = {name: [per_step * t for t in (64, 512, 4096)] for name, per_step in loops.items()}
    by_length = {"minGRU scan": [0.0015, scan_512, 0.04], **by_length}
    width = {name: [by_length[name][1], by_length[name][1], loop_wide] for name in loops}
    width["minGRU scan"] = [scan_512, 0.017, scan_wide]
    return {
        "machine": "a test machine",
        "batch": 8,
        "hidden": 8,
        "at_length": 512,
        "repeats": 3,
        "by_length": {"lengths": [64, 512, 4096], "seconds": {n: by_length[n] for n in NAMES}},
        "by_width": {"hidden": [8, 32, 128], "seconds": {n: width[n] for n in NAMES}},
    }


def parity_result(linear_long: float = 0.5, nonlinear_long: float = 1.0, two_bits: float = 0.76) -> dict:
    """A parity result: 5 seeds, test strings of 64 bits, every seed at the given accuracies."""
    config = dict(min_length=3, max_length=40, test_length=64, lrs=[0.01, 0.1], hidden_size=16, steps=100)
    config.update(batch_size=32, val_size=256, test_size=256)

    def run(long: float, short: float) -> dict:
        row = [1.0, short] + [long] * 62
        return {"n_params": 100, "lr": 0.1, "val_loss": [[0.6] * 5, [0.01] * 5], "test_accuracy": [row] * 5}

    models = {name: run(nonlinear_long, 1.0) for name in page.NONLINEAR}
    models.update({name: run(linear_long, two_bits) for name in page.LINEAR})
    return {"seeds": [0, 1, 2, 3, 4], "baseline": 0.67, "config": config, "models": models}


def test_speed_claims_hold_on_the_pages_story_and_fail_against_it():
    assert page.scan_beats_loops_when_narrow(speed_result()).holds
    assert not page.scan_beats_loops_when_narrow(speed_result(scan_512=0.03)).holds
    assert page.loop_beats_scan_when_wide(speed_result()).holds
    assert not page.loop_beats_scan_when_wide(speed_result(scan_wide=0.05, loop_wide=0.05)).holds
    assert page.loop_cost_is_mostly_overhead(speed_result()).holds
    assert not page.loop_cost_is_mostly_overhead(speed_result(loop_wide=0.2)).holds
    assert page.far_below_the_papers_speedup(speed_result()).holds
    assert not page.far_below_the_papers_speedup(speed_result(scan_512=0.0005)).holds


def test_speed_facts_read_the_ratios_and_costs_off_the_data():
    facts = page.speed_facts(speed_result())
    assert facts["torch_over_scan"] == "8"  # 90 us x 512 / 6 ms
    assert facts["loop_us_per_step_narrow"] == "70"
    assert facts["lanes"] == 64 and facts["widest"] == 1024
    assert facts["break_even_lanes"] == "600"  # scan / loop: 0.017 / 0.0358 at 256 lanes, 1.6 at 1024


def test_break_even_interpolates_where_the_ratio_passes_one():
    assert page.break_even([100, 400], [0.5, 2.0]) == pytest.approx(200)
    assert page.break_even([10, 100, 1000], [0.1, 0.5, 5.0]) == pytest.approx(10 ** (2 + math.log10(2) / 1))
    assert page.break_even([100, 400], [0.25, 0.5]) == pytest.approx(1600)  # extrapolated


def test_speed_tables_have_a_row_per_length_and_width():
    table = page.speed_table(speed_result())
    assert table.count("\n") == 2 + 3 and "| 512 | 6.00 |" in table
    assert page.width_table(speed_result()).count("8 × ") == 3


def test_parity_claims_hold_on_the_pages_story_and_fail_against_it():
    result = parity_result()
    assert page.linear_cells_stay_at_chance(result).holds
    assert page.nonlinear_cells_learn_parity(result).holds
    assert page.linear_cells_above_chance_on_two_bits(result).holds
    assert not page.linear_cells_stay_at_chance(parity_result(linear_long=0.7)).holds
    assert not page.nonlinear_cells_learn_parity(parity_result(nonlinear_long=0.6)).holds
    assert not page.linear_cells_above_chance_on_two_bits(parity_result(two_bits=0.5)).holds


def test_parity_tables_and_facts():
    result = parity_result()
    table = page.parity_table(result)
    assert "| minGRU | 100 | 0.1 |" in table and "5 of 5" in table and "0 of 5" in table
    assert "1.000 ± 0.000" in table
    assert page.rate_table(result).count("0 of 5 | 5 of 5") == len(page.NONLINEAR) + len(page.LINEAR)
    assert "0.600 0.600" in page.parity_per_seed(result)
    facts = page.parity_facts(result)
    assert facts["min_gru_short"][0] == "0.76" and facts["solved"]["gru"] == 5 and facts["solved"]["min_gru"] == 0


def test_weight_counts_leave_out_biases_and_match_the_formulas():
    assert page.weight_count(torch.nn.Linear(3, 4)) == 12
    assert page.weight_counts_match_formulas().holds
    assert "| minGRU | $2d^2$ | 128 |" in page.parameter_table((8,))


def test_sci_writes_powers_of_ten():
    assert page.sci(4.48e-4) == "4 × 10⁻⁴"
    assert page.sci(1.2e-15) == "1 × 10⁻¹⁵"


@pytest.fixture(scope="module")
def numerics():
    return {
        "scan_anatomy": modern.scan_anatomy(steps=12, chunk_size=4),
        "scan_precision": modern.scan_precision(steps=1024, batch=2, hidden_size=4),
        "slstm_overflow": modern.slstm_overflow(scales=(1.0, 60.0, 200.0), steps=5, batch=4),
        "slstm_growth": modern.slstm_exp_forget_growth(steps=100, batch=2),
    }


def test_numerical_claims_hold_and_fail_when_the_numbers_say_otherwise(numerics):
    assert page.scan_equals_loop(numerics).holds
    assert page.stabiliser_prevents_overflow(numerics).holds
    broken = {**numerics, "scan_anatomy": {**numerics["scan_anatomy"], "max_difference": 1e-6}}
    assert not page.scan_equals_loop(broken).holds
    leaky = {**numerics, "slstm_overflow": {**numerics["slstm_overflow"], "nonfinite_stable": [0.0, 0.0, 0.1]}}
    assert not page.stabiliser_prevents_overflow(leaky).holds
    coarse = {**numerics, "scan_precision": {**numerics["scan_precision"], "chunked": 1e-4, "one_pass": 2e-4}}
    assert not page.chunks_keep_float32_precise(coarse).holds
    assert page.slstm_facts(numerics)["first_nan_step"] in range(80, 96)


FIGURES = [
    ("dependency", lambda narrow, data: page.dependency_figure(narrow=narrow)),
    ("scan", lambda narrow, data: page.scan_figure(data["numerics"], narrow=narrow)),
    ("speed", lambda narrow, data: page.speed_figure(speed_result(), narrow=narrow)),
    ("parity", lambda narrow, data: page.parity_figure(parity_result(), narrow=narrow)),
    ("slstm", lambda narrow, data: page.slstm_figure(data["numerics"], narrow=narrow)),
]


@pytest.mark.parametrize("name, draw", FIGURES, ids=[name for name, _ in FIGURES])
def test_figures_fit_the_column_and_the_phone(name, draw, numerics):
    wide, narrow = draw(False, {"numerics": numerics}), draw(True, {"numerics": numerics})
    assert wide.get_size_inches()[0] <= 7.5
    assert narrow.get_size_inches()[0] <= PHONE_WIDTH
    html = svg_html(wide, f"The {name} figure.", narrow=narrow)
    assert html.count("<svg") == 2
