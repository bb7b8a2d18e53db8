"""A failing block, a failing notebook cell or malformed TeX must stop the build, naming the culprit.

Each case builds a tiny site whose mkdocs.yml is the real one with another nav and docs folder,
so the test fails if someone relaxes the real settings (strict, allow_errors, the math hook).
Builds run as the tests, CI and the Pages workflow build: `mkdocs build --strict`.
"""

import json
import re
from pathlib import Path

import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup

from snippets.site.mathml import TexError, tex_to_mathml

pytestmark = pytest.mark.site  # needs the site extra (mkdocs and its plugins): see tests/conftest.py

REPO = Path(__file__).resolve().parents[1]

GOOD_PAGE = """# Tiny $c_t$

## The gate $f_t$

Inline math $\\frac{a}{b}$ and display math:

$$
c_t = f_t \\odot c_{t-1} + i_t \\odot g_t
$$

```python exec="true"
print("block ran: " + str(6 * 7))
```
"""
BAD_BLOCK = '# Tiny\n\n```python exec="true"\nraise ValueError("boom from a block")\n```\n'
BAD_TEX = "# Tiny\n\nBroken math $\\frac{a}{b$ here.\n"


def notebook(markdown: str, code: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(markdown), nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nbformat.writes(nb)


GOOD_NOTEBOOK = notebook(
    "# Notebook\n\nMath $h_t = o_t \\odot \\tanh(c_t)$ costs \\$5.", "print('cell ran:', 6 * 7 + 1)"
)
BAD_CELL = notebook("# Notebook", "raise RuntimeError('boom from a cell')")
BAD_NOTEBOOK_TEX = notebook("# Notebook\n\nBroken $x^$ math.", "print(1)")


def real_config() -> dict:
    return yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))


def tiny_site(root: Path, files: dict[str, str]) -> Path:
    """Write `files` into root/docs and a config derived from the real one; return its path."""
    config = real_config()
    # The real hooks and macros, without the site's experiments: these pages show none.
    hooks = [str(REPO / hook) for hook in config["hooks"]]
    config.update(site_name="tiny", docs_dir="docs", hooks=hooks, extra={"run_experiments": False})
    config["theme"]["custom_dir"] = str(REPO / config["theme"]["custom_dir"])
    for key in ("nav", "extra_css"):
        config.pop(key, None)
    (root / "docs").mkdir(parents=True)
    for name, text in files.items():
        (root / "docs" / name).write_text(text, encoding="utf-8")
    path = root / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def plugin_settings(config: dict, name: str) -> dict:
    for plugin in config["plugins"]:
        if isinstance(plugin, dict) and name in plugin:
            return plugin[name]
    raise AssertionError(f"plugin {name} is not configured in mkdocs.yml")


def test_real_config_stops_on_errors():
    config = real_config()
    jupyter = plugin_settings(config, "mkdocs-jupyter")
    workflow = (REPO / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8")
    assert "mkdocs build --strict" in workflow, "markdown-exec failures only fail strict builds"
    assert jupyter["execute"] is True and jupyter["allow_errors"] is False
    assert jupyter["include"] == ["*.ipynb"], "the default also turns every .py under docs/ into a page"


def test_control_site_builds_and_runs_its_code(tmp_path, mkdocs_build):
    config = tiny_site(tmp_path, {"index.md": GOOD_PAGE, "nb.ipynb": GOOD_NOTEBOOK})
    result = mkdocs_build(config, tmp_path / "site", strict_flag=True)
    assert result.returncode == 0, result.stderr[-4000:]
    page = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    nb_page = (tmp_path / "site" / "nb" / "index.html").read_text(encoding="utf-8")
    assert "block ran: 42" in page and "cell ran: 43" in nb_page, "the code did not run at build time"
    assert page.count('<span class="arithmatex"><math') == 3 and nb_page.count("<math") == 1
    assert "\\(" not in page and "\\[" not in page, "TeX left in the page (a heading? the title?)"
    toc = BeautifulSoup(page, "html.parser").select("nav.md-nav--secondary a.md-nav__link")
    assert any(link.find("math") for link in toc), "math in a heading should be MathML in the TOC"
    assert "Tiny c_t" in page, "the page title (header, nav) should show the heading's TeX without delimiters"
    assert "costs $5" in nb_page, "an escaped dollar in a notebook is text, not math"
    assert "cdnjs" not in nb_page and "mathjax" not in nb_page.lower(), "notebook page still loads from a CDN"
    assert '<a href="nb.ipynb" title="Download this notebook"' in nb_page
    assert (tmp_path / "site" / "nb" / "nb.ipynb").is_file()


def test_an_unchanged_notebook_is_not_run_again(tmp_path, mkdocs_build):
    """Built twice, a notebook that prints a random number shows the same one; a damaged entry runs it again."""
    config = tiny_site(tmp_path, {"nb.ipynb": notebook("# Random", "import uuid; print('draw', uuid.uuid4().hex)")})

    def draw() -> str:
        result = mkdocs_build(config, tmp_path / "site", strict_flag=True)
        assert result.returncode == 0, result.stderr[-4000:]
        page = (tmp_path / "site" / "nb" / "index.html").read_text(encoding="utf-8")
        return re.search(r"draw ([0-9a-f]{32})", page).group(1), result.stderr

    first, _ = draw()
    assert draw()[0] == first, "the notebook ran again though nothing changed"
    entries = list((tmp_path / ".cache" / "snippets" / "notebooks").glob("*/*.json"))
    assert len(entries) == 1, entries
    entries[0].write_text(entries[0].read_text(encoding="utf-8")[:100], encoding="utf-8")  # a killed write
    again, log = draw()
    assert again != first and "is unreadable" in log
    builds = json.loads((tmp_path / ".cache" / "snippets" / "builds" / "builds.json").read_text(encoding="utf-8"))
    assert len(builds) == 3 and all(b["seconds"] > 0 and not b["dirty"] for b in builds), builds


@pytest.mark.parametrize(
    "files, expected",
    [
        ({"index.md": BAD_BLOCK}, ["page 'index.md'", "ValueError: boom from a block"]),
        ({"nb.ipynb": BAD_CELL}, ["'nb.ipynb'", "RuntimeError: boom from a cell"]),
        ({"index.md": BAD_TEX}, ["page 'index.md'", 'TeX "\\frac{a}{b"']),
        ({"nb.ipynb": BAD_NOTEBOOK_TEX}, ["page 'nb.ipynb'", 'TeX "x^"']),
    ],
    ids=[
        "markdown-exec block raises",
        "notebook cell raises",
        "malformed TeX in a page",
        "malformed TeX in a notebook",
    ],
)
def test_build_fails_and_names_the_culprit(tmp_path, mkdocs_build, files, expected):
    result = mkdocs_build(tiny_site(tmp_path, files), tmp_path / "site", strict_flag=True)
    assert result.returncode != 0, f"the build passed despite {list(files)}"
    output = re.sub(r"\x1b\[[0-9;]*m", "", result.stderr)  # nbclient colours its tracebacks
    for text in expected:
        assert text in output, f"{text!r} not in the build's error output:\n{output[-4000:]}"


# latex2mathml returns MathML for these without complaint; tex_to_mathml must not.
@pytest.mark.parametrize(
    "tex, message",
    [
        ("\\frac{a}{b", "unbalanced braces"),
        ("x}", "unbalanced braces"),
        ("\\foo x", "unknown command '\\foo'"),
        ("\\label{eq}", "unknown command '\\label'"),
        ("\\begin{foo} a \\end{foo}", "unknown environment 'foo'"),
        ("a & b", "'&' outside an alignment environment"),
        ("\\frac{a}", "<mfrac> needs 2 arguments, got 1"),
        ("x^", "latex2mathml failed"),
        ("\\left( x", "latex2mathml failed"),
    ],
)
def test_malformed_tex_raises_naming_the_tex(tex, message):
    with pytest.raises(TexError) as error:
        tex_to_mathml(tex)
    assert message in str(error.value) and f'TeX "{tex}"' in str(error.value)


@pytest.mark.parametrize(
    "tex",
    [
        "\\sigma(W_{ii} x_t + b_{ii})",
        "\\{x\\} \\backslash y",
        "\\begin{aligned} a &= b && \\text{note} \\\\ c &= d \\end{aligned}",
        "\\begin{cases} 1 & x > 0 \\\\ 0 & \\text{else} \\end{cases}",
        "\\prod_{k=t+1}^{T} \\operatorname{diag}(f_k)",
    ],
)
def test_wellformed_tex_converts(tex):
    assert tex_to_mathml(tex, display=True).startswith(
        '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">'
    )


def test_a_build_touches_nothing_beside_its_cache_root(tmp_path, mkdocs_build, monkeypatch):
    """SNIPPETS_CACHE_DIR in a folder of the reader's own: what sits beside the root stays as it was."""
    home = tmp_path / "home"
    mine = {
        home / "notebooks" / "thesis" / "draft.ipynb": "{}",
        home / "builds.json": "[1, 2, 3]",
        home / "notes.txt": "keep me",
    }
    for path, text in mine.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("SNIPPETS_CACHE_DIR", str(home / "snippets-cache"))
    config = tiny_site(tmp_path / "project", {"nb.ipynb": GOOD_NOTEBOOK})
    for _ in range(2):  # the second build deletes what the first left that it no longer needs
        result = mkdocs_build(config, tmp_path / "site", strict_flag=True)
        assert result.returncode == 0, result.stderr[-4000:]
    assert {p: p.read_text(encoding="utf-8") for p in mine} == mine
    assert sorted(p.name for p in home.iterdir()) == ["builds.json", "notebooks", "notes.txt", "snippets-cache"]
    assert (home / "snippets-cache" / "CACHEDIR.TAG").is_file()
    assert (home / "snippets-cache" / "builds" / "builds.json").is_file()


def test_a_build_refuses_a_cache_root_it_did_not_make(tmp_path, mkdocs_build, monkeypatch):
    theirs = tmp_path / "documents"
    (theirs / "notebooks").mkdir(parents=True)
    monkeypatch.setenv("SNIPPETS_CACHE_DIR", str(theirs))
    result = mkdocs_build(
        tiny_site(tmp_path / "project", {"nb.ipynb": GOOD_NOTEBOOK}), tmp_path / "site", strict_flag=True
    )
    assert result.returncode != 0 and "new or empty folder" in result.stderr
    assert [p.name for p in theirs.iterdir()] == ["notebooks"]
