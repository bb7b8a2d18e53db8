"""Saved figures come back only for the same figure: same state, settings and code."""

import subprocess
import sys

import matplotlib
import pytest
from matplotlib.figure import Figure

from snippets.figures import svg_cache, svg_html


def line_figure(y=(1.0, 2.0, 3.0), label="a"):
    fig = Figure(figsize=(3, 2))
    fig.add_subplot().plot([0, 1, 2], list(y), label=label)
    return fig


@pytest.fixture
def renders(tmp_path, monkeypatch):
    monkeypatch.setenv("SNIPPETS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(svg_cache, "_used", set())
    calls = []
    original = svg_cache.get

    def counting(fig, render, alt, name):
        return original(fig, lambda: calls.append(1) or render(), alt, name)

    monkeypatch.setattr(svg_cache, "get", counting)
    return calls


def test_the_same_figure_is_drawn_once_and_gives_the_same_bytes(renders):
    first = svg_html(line_figure(), alt="A line.")
    assert svg_html(line_figure(), alt="A line.") == first
    assert len(renders) == 1


@pytest.mark.parametrize("change", [dict(y=(1.0, 2.0, 3.5)), dict(label="b")], ids=["data", "label"])
def test_any_change_to_what_is_drawn_draws_again(renders, change):
    svg_html(line_figure(), alt="A line.")
    svg_html(line_figure(**change), alt="A line.")
    assert len(renders) == 2


def test_a_change_of_settings_draws_again(renders):
    svg_html(line_figure(), alt="A line.")
    with matplotlib.rc_context({"svg.image_inline": False}):
        svg_html(line_figure(), alt="A line.")
    assert len(renders) == 2


def test_the_key_is_the_same_in_another_process():
    script = "from tests.test_svg_cache import line_figure; from snippets.figures import svg_cache; "
    script += "print(svg_cache.key(line_figure()))"
    keys = {
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    }
    assert len(keys) == 1 and keys != {svg_cache.key(line_figure()) + "x"}


def test_prune_deletes_only_the_unused_figures_of_its_own_folder(renders, tmp_path):
    svg_html(line_figure(), alt="A line.")
    folder = tmp_path / "cache" / "figures"
    (folder / ("0" * 32 + ".svg")).write_text("<svg/>")
    (folder / "notes.txt").write_text("mine")
    assert svg_cache.prune() == ["0" * 32 + ".svg"]
    assert (folder / "notes.txt").exists() and len(list(folder.glob("*.svg"))) == 1
