"""Figures, tables, facts and claims of the real-text page, on small known data.

Each check feeds a result shaped like the experiment's and asserts that a figure draws exactly
that data, that a fact prints it, and that each claim holds exactly when its statement does.
"""

import re

import pytest

from snippets.figures import PHONE_WIDTH, svg_html
from snippets.figures import real_text as text


def fake_units() -> dict:
    names = list(text.FEATURES)
    best = [
        {"feature": f, "trace": "c", "unit": k, "column": k, "correlation": 0.6 - 0.1 * k} for k, f in enumerate(names)
    ]
    base = [
        {"feature": f, "trace": "h", "unit": 3, "column": 19, "correlation": -0.03 * (k + 1)}
        for k, f in enumerate(names)
    ]
    ranked = {u["feature"]: [u, {**u, "unit": 9, "correlation": 0.1}] for u in best}
    excerpt_text = 'x = "a"  # c\n(y)'
    values = [0.0, 0.5, -1.0] * 5 + [1.0]
    truth = {
        "in_string": [0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        "in_comment": [0] * 9 + [1, 1, 1, 0, 0, 0, 0],
        "bracket_depth": [0] * 14 + [1, 0],
        "indent": [0.0] * 16,
        "column": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 1, 2],
    }
    separation = {
        "column": 0,
        "mean_inside": 1.0,
        "mean_outside": 0.0,
        "auc": 0.7,
        "edges": [0.0, 0.5, 1.0],
        "inside": [0.25, 0.75],
        "outside": [0.6, 0.4],
    }
    return {
        "files": ["nn/a.py", "nn/b.py"],
        "chars": 100,
        "traces": ["c", "h"],
        "hidden_size": 16,
        "max_chars": 50,
        "trained": {"best": best, "ranked": ranked},
        "untrained": {"best": base, "ranked": ranked},
        "binary": {
            f: {"trained": separation, "untrained": {**separation, "auc": 0.55}} for f in ("in_string", "in_comment")
        },
        "docstrings": {"count": 4, "median_chars": 250.0, "share_of_string_chars": 0.8},
        "regions": {
            "code": {"chars": 60, "bpc": 1.5, "unigram_bpc": 4.5},
            "in_string": {"chars": 30, "bpc": 2.0, "unigram_bpc": 4.8},
            "in_comment": {"chars": 8, "bpc": 2.4, "unigram_bpc": 5.2},
        },
        "excerpt": {
            "file": "nn/a.py",
            "first_line": 3,
            "text": excerpt_text,
            "features": truth,
            "units": {u["feature"]: {**u, "values": values, "scale": 1.0} for u in best},
        },
        "samples": [
            {"temperature": 0.5, "seed": 0, "prime": "class ", "text": "class A:\n    x = (1)\n" + " " * 50 + "y"},
            {"temperature": 1.0, "seed": 0, "prime": "class ", "text": "class B(C:\n  z = [2]\n  ```"},
        ],
    }


def fake_model(bpc=(3.0, 2.2, 2.1, 2.0), status="budget") -> dict:
    from snippets.experiments import TextModelConfig

    steps = TextModelConfig().steps
    return {
        "val_step": [steps - 50 * k for k in range(len(bpc) - 1, -1, -1)],
        "val_bpc": list(bpc),
        "baseline_bpc": 4.5,
        "status": status,
        "steps_run": steps,
        "seconds": 20.0,
        "cpu_seconds": 13.4,
        "n_params": 1234,
        "seed": 0,
        "train_chars": 1_000_000,
    }


def fake_char_model() -> dict:
    runs = [{"val_step": [100, 200], "val_loss": [2.4 + d, 2.2 + d]} for d in (-0.1, 0.0, 0.1)]
    return {"cells": {"lstm": {"runs": runs}}}


# -- figures --------------------------------------------------------------------------------------


def test_learning_curve_draws_the_long_run_the_short_runs_mean_and_the_baseline():
    model = fake_model()
    fig = text.learning_curve_figure(model, fake_char_model())
    lines = {ln.get_label(): ln for ln in fig.axes[0].get_lines()}
    long_run = next(v for k, v in lines.items() if k.startswith("LSTM of this page"))
    assert list(long_run.get_ydata()) == model["val_bpc"]
    short = next(v for k, v in lines.items() if k.startswith("LSTM of the comparison"))
    assert list(short.get_ydata()) == pytest.approx([2.4 * text.BITS, 2.2 * text.BITS])
    assert list(lines["unigram baseline"].get_ydata()) == [4.5, 4.5]
    narrow = text.learning_curve_figure(model, fake_char_model(), narrow=True)
    assert narrow.get_size_inches()[0] <= PHONE_WIDTH
    alt = "Curve."
    assert svg_html(text.learning_curve_figure(model, fake_char_model()), alt) == svg_html(fig, alt)


def test_correlation_figure_bars_are_the_absolute_correlations():
    units = fake_units()
    for narrow in (False, True):
        fig = text.correlation_figure(units, narrow=narrow)
        widths = sorted(round(b.get_width(), 9) for b in fig.axes[0].patches)
        expected = [abs(u["correlation"]) for name in ("trained", "untrained") for u in units[name]["best"]]
        assert widths == sorted(round(v, 9) for v in expected)
    assert text.correlation_figure(units, narrow=True).get_size_inches()[0] <= PHONE_WIDTH


def test_separation_figure_draws_both_distributions_per_binary_feature():
    units = fake_units()
    fig = text.separation_figure(units)
    assert len(fig.axes) == 2
    heights = sorted(tuple(round(v, 9) for v in p.get_data()[0]) for p in fig.axes[0].patches)
    assert heights == [(0.25, 0.75), (0.6, 0.4)]
    assert text.separation_figure(units, narrow=True).get_size_inches()[0] <= PHONE_WIDTH


# -- the units over real code ----------------------------------------------------------------------


def test_unit_html_keeps_the_text_colours_by_value_and_underlines_the_truth():
    html = text.unit_html('a<b\n"c"', [1.0, 0.0, -1.0, 0.3, 0.3, 0.3, 0.3], 1.0, "label")
    visible = re.sub(r"<[^>]+>", "", html)
    assert visible == "a&lt;b\n&quot;c&quot;"
    assert f'background:rgb(var({text.POSITIVE}) / 1.000)">a<' in html  # +1: full blue
    assert f'background:rgb(var({text.NEGATIVE}) / 1.000)">b<' in html  # -1: full orange
    assert f"rgb(var({text.POSITIVE}) / 0.250)" in html  # 0.3 of the scale: 2 steps of 8
    assert html.count("<span") == 3  # 0.0 has no colour; the four 0.3 share one span
    marked = text.unit_html('a<b\n"c"', [0.0] * 7, 1.0, "label", marked=[0, 0, 0, 0, 1, 1, 1])
    assert f'<span style="{text.UNDERLINE}">&quot;c&quot;</span>' in marked
    with pytest.raises(ValueError, match="one value per character"):
        text.unit_html("ab", [1.0], 1.0, "label")
    with pytest.raises(ValueError, match="1 marks"):
        text.unit_html("ab", [1.0, 1.0], 1.0, "label", marked=[1])


def test_unit_figure_underlines_strings_and_shows_counts_as_a_second_copy():
    units = fake_units()
    string = text.unit_figure(units, "in_string")
    assert "unit c[0]" in string and "nn/a.py" in string and "underlined" in string
    box = string[string.index('class="unit-text"') :]
    underlined = "".join(re.findall(r'<span style="[^"]*border-bottom[^"]*">([^<]*)</span>', box))
    assert underlined == "&quot;a&quot;"  # the string, quotes included, and nothing else
    assert string.count('class="unit-text"') == 1
    column = text.unit_figure(units, "column")
    assert column.count('class="unit-text"') == 2 and "the column itself" in column
    assert f"var({text.TRUTH})" in column
    assert string.count("<style>") == column.count("<style>") == 1  # the shades' colours, once per figure
    with pytest.raises(ValueError, match="expected a feature"):
        text.unit_figure(units, "semicolons")


def _luminance(rgb) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _over(top, alpha: float, bottom):
    return [alpha * t + (1 - alpha) * b for t, b in zip(top, bottom)]


@pytest.mark.parametrize("scheme", [0, 1], ids=["light", "dark"])
def test_text_over_every_shade_keeps_a_contrast_of_four_and_a_half(scheme):
    """Material's text and background (light: 87 % black on white; dark, slate: rgba(226, 228, 233,
    0.82) on rgb(30, 33, 41)), each shade at every step over the background, the text over that."""
    page, ink, ink_alpha = [((255, 255, 255), (0, 0, 0), 0.87), ((30, 33, 41), (226, 228, 233), 0.82)][scheme]
    for name, shades in text.SHADES.items():
        full = [int(c) for c in shades[scheme].split()]
        for level in range(1, text.LEVELS + 1):
            background = _over(full, level / text.LEVELS, page)
            low, high = sorted((_luminance(background), _luminance(_over(ink, ink_alpha, background))))
            contrast = (high + 0.05) / (low + 0.05)
            assert contrast >= 4.5, f"{name} at step {level}: {contrast:.2f}"
    assert f"{text.POSITIVE}:{text.SHADES[text.POSITIVE][scheme]}" in text.SHADING_CSS


def test_legend_shows_every_shade_in_order_with_the_scale_at_both_ends():
    legend = text.legend_html(2.5, "in_string", "c[7]")
    shades = re.findall(r"background:rgb\(var\((--unit-\w+)\) / ([\d.]+)\)", legend)
    steps = [-float(a) if name == text.NEGATIVE else float(a) for name, a in shades]
    assert steps == sorted(steps) and len(steps) == 2 * text.LEVELS and steps[0] == -1.0 and steps[-1] == 1.0
    assert "\N{MINUS SIGN}2.5" in legend and "+2.5" in legend and "c[7]" in legend and "underlined" in legend


def test_units_table_lists_trained_runners_up_and_untrained():
    table = text.units_table(fake_units())
    assert "| inside a string | `c[0]` | +0.60 | `c[9]` (+0.10) | `h[3]` (-0.03) |" in table


def test_sample_block_titles_the_block_and_shortens_long_runs_of_spaces():
    first, second = fake_units()["samples"]
    block = text.sample_block(first)
    assert block.startswith('```text title="τ = 0.5, seed 0"') and "⟨50 spaces⟩" in block
    assert text.sample_block(second).startswith("````text")  # the sample holds a fence


def test_layout_counts_indents_colons_and_brackets():
    counts = text.layout('class A:\n    x = (f[1)]\n  y = {}\n\nz = """a"""')
    assert counts["colon_lines"] == 1 and counts["deeper"] == 1
    assert counts["lines"] == 4 and counts["by_four"] == 3
    assert counts["opened"] == 3 and counts["closed"] == 2  # ( [ { open; ) does not match [, ] and } close theirs
    assert counts["triple_quotes"] == 2 and counts["longest_spaces"] == 4


# -- facts -----------------------------------------------------------------------------------------


def test_model_facts_print_the_run():
    facts = text.model_facts(fake_model())
    assert facts["final_bpc"] == "2.00" and facts["baseline_bpc"] == "4.50" and facts["cpu"] == "13"
    assert facts["last_change"] == "-0.200" and facts["last_span"] == "100" and facts["still_falling"] is True
    assert text.model_facts(fake_model(bpc=(3.0, 2.0, 2.1, 2.05)))["still_falling"] is False


def test_sample_facts_sum_over_samples_without_the_prime():
    facts = text.sample_facts(fake_units())
    assert facts["lines"] == "6" and facts["opened"] == "3" and facts["longest_spaces"] == "50"
    assert facts["long_spaces"] is True and facts["parsed"] == "0"  # an unexpected indent; an open bracket
    assert text.parses("class A:\n    x = (1)\n") and not text.parses("class A(:\n") and not text.parses("a\x00")


def test_excerpt_facts_average_the_unit_inside_and_outside_the_feature():
    facts = text.excerpt_facts(fake_units())
    assert (facts["file"], facts["first_line"], facts["last_line"], facts["unit"]) == ("nn/a.py", "3", "4", "c[0]")
    # inside the string "a", quotes included: 0.5, -1, 0; outside, the newline left out: twelve values summing to -1
    assert facts["mean_inside"] == "-0.2" and facts["mean_outside"] == "-0.1" and facts["higher_inside"] is False
    units = fake_units()
    units["excerpt"]["features"]["in_string"] = [0] * 16
    with pytest.raises(ValueError, match="both inside and outside"):
        text.excerpt_facts(units)


def test_search_facts_name_the_units_and_the_features_trained_at_least_doubled():
    facts = text.search_facts(fake_units())
    assert facts["traces"] == "32" and facts["string_unit"] == "c[0]" and facts["string_auc"] == "0.70"
    assert facts["top_feature"] == "inside a string" and facts["top_rho"] == "0.60"
    # |rho| trained 0.6, 0.5, 0.4, 0.3, 0.2 against 0.03, 0.06, 0.09, 0.12, 0.15
    assert facts["doubled"] == "inside a string, inside a comment, bracket depth and indentation"
    assert facts["not_doubled"] == "column"
    assert facts["n_stronger"] == "5" and facts["n_features"] == "5" and facts["partial"] is True
    units = fake_units()
    units["trained"]["best"][0] = {**units["trained"]["best"][0], "correlation": -0.85}
    units["untrained"]["best"][4] = {**units["untrained"]["best"][4], "correlation": 0.9}
    facts = text.search_facts(units)
    assert facts["partial"] is False and facts["n_stronger"] == "4" and facts["top_rho"] == "0.85"


def test_regions_table_and_facts():
    table = text.regions_table(fake_units())
    assert "| code | 60 | 1.50 | 4.50 |" in table and "| inside comments | 8 | 2.40 | 5.20 |" in table
    facts = text.region_facts(fake_units())
    assert facts["chars"] == "98" and facts["docstring_share"] == "80%" and facts["docstring_median"] == "250"
    units = fake_units()
    assert text.strings_are_mostly_docstrings(units).holds
    units["docstrings"]["share_of_string_chars"] = 0.4
    assert not text.strings_are_mostly_docstrings(units).holds


# -- claims ----------------------------------------------------------------------------------------


def test_model_claims_follow_the_data():
    assert text.model_beats_unigram(fake_model()).holds
    assert not text.model_beats_unigram(fake_model(bpc=(3.0, 2.5, 2.4, 2.3))).holds
    assert text.ran_its_whole_budget(fake_model()).holds
    assert not text.ran_its_whole_budget(fake_model(status="solved")).holds


def test_region_claims_follow_the_bits():
    units = fake_units()
    assert text.code_is_predicted_best(units).holds and text.every_region_beats_unigram(units).holds
    units["regions"]["in_comment"]["bpc"] = 1.4
    assert not text.code_is_predicted_best(units).holds
    units["regions"]["in_comment"]["bpc"] = 4.8  # unigram 5.2: below it, but by less than a tenth
    assert not text.every_region_beats_unigram(units).holds
