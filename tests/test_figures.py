"""snippets.figures: deterministic, self-contained inline SVG, and the LSTM page's figure claims."""

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from matplotlib.figure import Figure

from snippets import figures
from snippets.figures import lstm

SVG = "{http://www.w3.org/2000/svg}"


def line_figure(slope: float) -> Figure:
    with figures.theme():
        fig = Figure(figsize=(3, 2))
        ax = fig.add_subplot()
        ax.plot([0, 1, 2], [0, slope, 2 * slope], label="a line")
        ax.fill_between([0, 1, 2], 0, 1, alpha=0.2)  # a clip path, so the SVG has references
        ax.set_xlabel("time step $t$")
        ax.legend()
    return fig


def ids_and_references(svg: str) -> tuple[set[str], set[str]]:
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    references = set(re.findall(r'href="#([^"]+)"', svg)) | set(re.findall(r"url\(#([^)]+)\)", svg))
    return ids, references


def test_same_figure_gives_identical_bytes():
    assert figures.svg_html(line_figure(1.0), "A line.") == figures.svg_html(line_figure(1.0), "A line.")


def test_lstm_figure_is_deterministic():
    first = figures.svg_html(lstm.lstm_gates_figure(seed=0), "LSTM gates.")
    assert first == figures.svg_html(lstm.lstm_gates_figure(seed=0), "LSTM gates.")
    assert first != figures.svg_html(lstm.lstm_gates_figure(seed=1), "LSTM gates.")


def test_two_figures_share_no_ids_and_resolve_their_own_references():
    svg_a, svg_b = figures.svg_html(line_figure(1.0), "First."), figures.svg_html(line_figure(2.0), "Second.")
    (ids_a, refs_a), (ids_b, refs_b) = ids_and_references(svg_a), ids_and_references(svg_b)
    assert refs_a and refs_b, "expected clip-path/marker references in a plot with a fill"
    assert not ids_a & ids_b
    assert refs_a <= ids_a and refs_b <= ids_b, "a reference points outside its own figure"


def test_name_sets_the_prefix():
    svg = figures.svg_html(line_figure(1.0), "A line.", name="gates")
    ids, _ = ids_and_references(svg)
    assert "gates" in ids and all(i == "gates" or i.startswith("gates-") for i in ids)
    with pytest.raises(ValueError, match="expected `name` to be an id"):
        figures.svg_html(line_figure(1.0), "A line.", name="two words")


def test_svg_is_inline_ready_and_follows_the_palette():
    svg = figures.svg_html(line_figure(1.0), "A line.")
    root = ET.fromstring(svg)  # well-formed XML, starting at <svg>: no prolog, no DOCTYPE
    assert root.tag == SVG + "svg" and svg.startswith("<svg")
    assert "#000000" not in svg and "currentColor" in svg and root.get("fill") == "currentColor"
    assert "<metadata>" not in svg and "dc:date" not in svg
    assert root.find(f".//{SVG}text") is not None, "text should stay text (svg.fonttype none)"
    style = root.find(f".//{SVG}style").text
    assert style.startswith(f"#{root.get('id')} *"), f"matplotlib's global * rule is not scoped: {style!r}"


def test_alt_text_is_the_accessible_name():
    alt = 'Gates "i" & <f> over time.'
    root = ET.fromstring(figures.svg_html(line_figure(1.0), alt))
    assert root.get("role") == "img" and root.get("aria-label") == alt
    assert root.find(f"{SVG}title").text == alt and list(root)[0].tag == SVG + "title"


@pytest.mark.parametrize("alt", ["", "   ", None])
def test_missing_alt_text_raises(alt):
    with pytest.raises(ValueError, match="text alternative"):
        figures.svg_html(line_figure(1.0), alt)


def test_pulse_input_rejects_steps_outside_the_sequence():
    assert lstm.pulse_input(5, {0: 1.0, 4: -1.0})[:, 0, 0].tolist() == [1, 0, 0, 0, -1]
    with pytest.raises(ValueError, match=r"pulse steps in \[0, 5\)"):
        lstm.pulse_input(5, {5: 1.0})


# The LSTM page's prose describes these traces; these tests keep the prose true.


def test_lstm_page_claims_random_weights_forget_quickly():
    x = lstm.pulse_input()
    trace = lstm.lstm_gate_traces(x, seed=0)
    assert np.all(trace["f"][14] < 0.8), "caption: forget gates well below 1"
    assert np.allclose(trace["c"][14], trace["c"][29], atol=0.05), "caption: back at resting values after a pulse"
    for key in "ifo":
        assert np.all((trace[key] > 0) & (trace[key] < 1))


def test_lstm_page_claims_forget_bias_makes_cells_accumulate():
    x = lstm.pulse_input()
    trace = lstm.lstm_gate_traces(x, seed=0, forget_bias=3.0)
    near_one = trace["f"][29] > 0.9
    assert near_one.sum() >= 2, "alt text: forget gates near 1 for two of the units"
    drift = np.abs(trace["c"][29] - trace["c"][20])
    assert np.all(drift[near_one] > 0.5), "caption: the cell state drifts instead of settling"


def test_a_formula_is_parsed_once_for_every_parser_and_as_matplotlib_parses_it():
    from matplotlib.font_manager import FontProperties
    from matplotlib.ft2font import LoadFlags
    from matplotlib.mathtext import MathTextParser

    formula, prop = r"$\mathdefault{10^{-7}}\,h_{t-1}$", FontProperties(size=9.5)
    before = figures._parsed.cache_info()
    first = MathTextParser("path").parse(formula, 72, prop)
    again = MathTextParser("path").parse(formula, 72, prop)  # a new renderer's parser
    after = figures._parsed.cache_info()
    assert again is first and after.hits == before.hits + 1 and after.misses == before.misses + 1
    own = figures._parse_formula(MathTextParser("path"), formula, 72, prop.copy(), True, LoadFlags.NO_HINTING)
    assert tuple(own) == tuple(first)  # what matplotlib's own parser makes of it
