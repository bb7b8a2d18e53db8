"""What the built modern-cells page shows: its figures (wide and phone), the checked claims, the
numbers printed from its experiments, the included source without repeated docstrings, no traceback."""

from pathlib import Path

import pytest
from bs4 import BeautifulSoup


@pytest.fixture(scope="module")
def page(built_site):
    return BeautifulSoup((built_site / "modern-cells" / "index.html").read_text(encoding="utf-8"), "html.parser")


def test_figures_come_in_pairs_with_captions_and_text_alternatives(page):
    pairs = page.select("article figure .snippets-figure-pair")
    assert len(pairs) == 5, "dependency, scan, speed, parity and sLSTM figures"
    for pair in pairs:
        wide, narrow = pair.select("svg.snippets-figure")
        assert wide.get("aria-label") == narrow.get("aria-label") and len(wide["aria-label"]) > 80
        assert len(pair.find_parent("figure").find("figcaption").get_text(strip=True)) > 60


def test_claims_are_checked_and_nothing_failed(page):
    article = page.select_one("article")
    source = (Path(__file__).resolve().parents[1] / "docs" / "modern-cells.md").read_text(encoding="utf-8")
    assert len(article.select("span.claim-checked")) == source.count("{{ claim(") >= 10  # one mark per claim
    text = article.get_text(" ")
    assert "Traceback" not in text and "Error" not in text
    assert "175 times" in text and "{{" not in text and "{%" not in text


def test_code_shown_leaves_out_the_docstrings_the_page_rendered(page):
    code = " ".join(block.get_text() for block in page.select("article pre"))
    assert "def min_gru_step(" in code and "def log_space_scan(" in code
    assert "$$" not in code and '"""' not in code
