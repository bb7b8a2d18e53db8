"""What a reader needs beyond the Learn pages, checked in the Markdown (no build): every cited paper
links to where it can be read and is on the references page, the reuse page says where the code
lives, and the exercises ask only for the public API, each with its answer under it."""

import re
from pathlib import Path

import pytest
import yaml

DOCS = Path(__file__).resolve().parents[1] / "docs"
MKDOCS = DOCS.parent / "mkdocs.yml"
PAGES = sorted(DOCS.glob("*.md"))

FOOTNOTE = re.compile(r"^\[\^([^\]]+)\]:(.*?)(?=^\[\^|^\S|\Z)", re.M | re.S)
LINK = re.compile(r"\]\((https?://[^)\s]+)\)")
EXERCISES = re.compile(r"^## (Exercises|Try it)\n(.*?)(?=^## |^\[\^|\Z)", re.M | re.S)
QUESTION = re.compile(r"^ {0,4}\d+\. ", re.M)


def footnotes() -> list[tuple[str, str, str]]:
    """(page, key, definition) of every footnote definition of every page."""
    return [(page.name, m.group(1), m.group(2)) for page in PAGES for m in FOOTNOTE.finditer(page.read_text("utf-8"))]


def exercise_sections() -> list[tuple[str, str]]:
    return [(page.name, m.group(2)) for page in PAGES for m in EXERCISES.finditer(page.read_text("utf-8"))]


def test_the_pages_cite_papers():
    """The checks below read footnotes and exercises; they must find some, or they check nothing."""
    assert len(footnotes()) >= 30 and len({key for _, key, _ in footnotes()}) >= 20
    assert len(exercise_sections()) >= 9


@pytest.mark.parametrize("page, key, definition", footnotes(), ids=lambda v: v if len(v) < 30 else "")
def test_every_footnote_links_its_paper_over_https(page, key, definition):
    links = LINK.findall(definition)
    assert links, f"{page} [^{key}]: expected a link to the paper (arXiv, DOI or publisher), got {definition!r}"
    assert all(link.startswith("https://") for link in links), f"{page} [^{key}]: {links}"


def test_the_references_page_lists_every_cited_paper_with_the_same_link():
    references = (DOCS / "references.md").read_text("utf-8")
    listed = set(LINK.findall(references))
    missing = {
        f"{page} [^{key}]: {link}"
        for page, key, definition in footnotes()
        for link in LINK.findall(definition)
        if link not in listed
    }
    assert not missing, "cited but not on the references page:\n" + "\n".join(sorted(missing))
    assert all(link.startswith("https://") for link in listed)


def test_the_references_page_is_in_the_navigation():
    assert "references.md" in MKDOCS.read_text("utf-8")


def test_the_reuse_page_prints_where_the_code_lives_and_the_pip_line():
    config = yaml.safe_load(MKDOCS.read_text("utf-8"))
    repository = config["extra"]["repository"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", repository), repository
    assert "repo_url" not in config, "repo_url makes every page call GitHub's API from the browser"
    reuse = (DOCS / "reuse.md").read_text("utf-8")
    assert '"snippets @ git+{{ config.extra.repository }}"' in reuse
    assert "git clone {{ config.extra.repository }}" in reuse


@pytest.mark.parametrize("page, section", exercise_sections(), ids=lambda v: v if v.endswith(".md") else "")
def test_exercises_use_the_public_api_only(page, section):
    """No exercise asks the reader to edit (or even name) a private part of the package."""
    code = re.findall(r"```\w*\n(.*?)```", section, re.S) + re.findall(r"`([^`\n]+)`", section)
    private = {name for text in code for name in re.findall(r"(?<![\w])\.?_[A-Za-z]\w*", text)}
    assert not private, f"{page}: exercises name private parts of the package: {sorted(private)}"
    edit = re.search(r"\b(add|edit|change|copy)\b.{0,80}?\b(to|in|from) `[\w./]+`", section, re.I | re.S)
    assert not edit, f"{page}: asks to edit the package's code: {edit and edit.group(0)!r}"


@pytest.mark.parametrize("page, section", exercise_sections(), ids=lambda v: v if v.endswith(".md") else "")
def test_every_exercise_has_its_answer_under_it(page, section):
    questions = QUESTION.split(section)[1:]
    assert questions, f"{page}: no numbered exercise found"
    for number, question in enumerate(questions, 1):
        assert question.count('??? success "Answer"') == 1, f"{page}, exercise {number}: expected one answer under it"
