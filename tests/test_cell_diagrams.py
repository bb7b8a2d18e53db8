"""The GRU, CIFG and peephole diagrams (`snippets.figures.cell_diagrams`): what they draw, their phone
variants, and that the same call gives the same SVG."""

import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.text import Text

from snippets.figures import PHONE_WIDTH, svg_html
from snippets.figures import cell_diagrams as C

PLOTS = {"gru": C.plot_gru_cell, "cifg": C.plot_cifg_cell, "peephole": C.plot_peephole_cell}
LSTM_TEXTS = ("$c_{t-1}$", "$c_t$", "$f_t$", "$g_t$", "$o_t$", "$h_t$", "$h_{t-1}$", "$x_t$", "tanh")


def texts(fig: Figure) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(Text))


def parts(fig: Figure) -> set[str]:
    """The part names the diagram's shapes carry as labels."""
    return {patch.get_label() for patch in fig.axes[0].patches}


@pytest.mark.parametrize("narrow", [False, True])
def test_gru_draws_its_gates_and_the_blend(narrow):
    fig = C.plot_gru_cell(narrow=narrow)
    assert isinstance(fig, Figure)
    shown = texts(fig)
    for symbol in ("$r_t$", "$z_t$", "$n_t$", "$h_{t-1}$", "$x_t$", "$h_t$", "$1 - z_t$", r"$(1 - z_t)\,n_t$", "1−"):
        assert symbol in shown, symbol
    assert {"h_prev", "times_z", "plus", "h", "z", "n", "r", "one_minus", "times_zn", "inputs"} <= parts(fig)
    assert not {"c", "c_prev", "o", "f", "i"} & parts(fig)  # no cell state, no LSTM gates


@pytest.mark.parametrize("narrow", [False, True])
def test_cifg_has_one_minus_f_and_no_input_gate(narrow):
    fig = C.plot_cifg_cell(narrow=narrow)
    shown = texts(fig)
    for symbol in (*LSTM_TEXTS, "$1 - f_t$", r"$(1 - f_t)\,g_t$"):
        assert symbol in shown, symbol
    assert "$i_t$" not in shown and "input" not in shown
    assert "i" not in parts(fig) and {"f", "g", "o", "one_minus"} <= parts(fig)


@pytest.mark.parametrize("narrow", [False, True])
def test_peephole_has_three_dashed_peepholes_in_a_second_colour(narrow):
    fig = C.plot_peephole_cell(narrow=narrow)
    shown = texts(fig)
    for symbol in (*LSTM_TEXTS, "$i_t$", "$p_f$", "$p_i$", "$p_o$"):
        assert symbol in shown, symbol
    assert {"f", "i", "g", "o"} <= parts(fig)
    for gate in ("f", "i", "o"):
        wires = [p for p in fig.axes[0].patches if p.get_label() == f"peephole_{gate}" and p.get_linestyle() == "--"]
        assert len(wires) == 1, gate
        assert wires[0].get_edgecolor() == to_rgba(C.PEEP) != to_rgba(C.PATH)
    assert "one_minus" not in parts(fig)


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_phone_variant_is_phone_wide_and_desktop_fits_a_page(name):
    assert PLOTS[name](narrow=True).get_size_inches()[0] == pytest.approx(PHONE_WIDTH)
    width = PLOTS[name]().get_size_inches()[0]
    assert PHONE_WIDTH < width <= 7.2
    # fonts: 11 pt on the desktop (as the LSTM diagram), 8.5 pt and up on the phone
    assert min(t.get_fontsize() for t in PLOTS[name]().findobj(Text) if t.get_text()) >= 11
    assert min(t.get_fontsize() for t in PLOTS[name](narrow=True).findobj(Text) if t.get_text()) >= 8.5


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_same_call_same_svg(name):
    plot = PLOTS[name]
    html = svg_html(plot(), f"The {name} cell.", narrow=plot(narrow=True))
    assert html == svg_html(plot(), f"The {name} cell.", narrow=plot(narrow=True))
    assert "snippets-figure-narrow" in html
