"""What the built real-text page and the two notebooks show: figures with phone variants, checked
claims, the ground truth under the units' shading, the exercises, and no traceback."""

from pathlib import Path

import pytest
from bs4 import BeautifulSoup


def read(built_site, path: str) -> BeautifulSoup:
    return BeautifulSoup((built_site / path / "index.html").read_text(encoding="utf-8"), "html.parser")


@pytest.fixture(scope="module")
def page(built_site):
    return read(built_site, "real-text")


def test_figures_come_in_pairs_with_captions_and_text_alternatives(page):
    pairs = page.select("article figure .snippets-figure-pair")
    assert len(pairs) == 3, "learning curve, correlations, separation"
    for pair in pairs:
        wide, narrow = pair.select("svg.snippets-figure")
        assert wide.get("aria-label") == narrow.get("aria-label") and len(wide["aria-label"]) > 80
        assert len(pair.find_parent("figure").find("figcaption").get_text(strip=True)) > 60


def test_claims_are_checked_and_nothing_failed(page):
    article = page.select_one("article")
    source = (Path(__file__).resolve().parents[1] / "docs" / "real-text.md").read_text(encoding="utf-8")
    assert len(article.select("span.claim-checked")) == source.count("{{ claim(") >= 5  # one mark per claim
    text = article.get_text(" ")
    assert "Traceback" not in text and "{{" not in text and "{%" not in text
    assert "CPU seconds" in text and "well under a minute" not in text
    assert "opened and closed" not in text


def test_the_string_unit_is_shown_over_the_truth(page):
    boxes = page.select("article .unit-text")
    assert len(boxes) == 5 + 3, "a box per feature (the string unit at the top), and the truth for the three counts"
    string_box = boxes[0]
    assert "inside a string" in string_box["aria-label"] and "underlined" in string_box["aria-label"]
    assert string_box.select('span[style*="border-bottom"]'), "the characters inside strings are underlined"


def test_exercises_end_the_page_with_folded_answers(page):
    headings = [h.get_text(strip=True).rstrip("¶") for h in page.select("article h2")]
    assert headings[-1] == "Exercises"
    assert 3 <= len(page.select("article details.success")) <= 5


@pytest.mark.parametrize("name", ["adding-problem", "your-sequence"])
def test_notebooks_ran_their_checks(built_site, name):
    notebook = read(built_site, f"notebooks/{name}")
    text = notebook.get_text(" ")
    assert "Checked on this run" in text and "Traceback" not in text and "ClaimFailed" not in text
    assert notebook.select(".snippets-figure-pair"), "the figure comes with its phone variant"
