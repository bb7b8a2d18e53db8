"""Every claim and fact a page calls by name exists: a fast check of the names, not of the numbers.

Pages call `{{ claim("page.function") }}` and `{% set x = facts("page.function") %}`; the build
looks each name up in `snippets.figures` (`snippets.site.macros.page_function`) and fails on one
that is not there, but only after minutes of experiments. This test reads the pages (Markdown and
notebooks) with a regex and finds each name in `snippets/figures/<page>.py`: by importing the module
where matplotlib is installed, as the build does, and otherwise by reading its source with `ast`, so
that it runs with the test extra alone. A claim must also say it returns a `Claim`: the build
refuses anything else. Whether the claims hold is for the `site` tests and the build.
"""

import ast
import importlib
import importlib.util
import inspect
import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIGURES = REPO / "snippets" / "figures"
PACKAGE = "snippets.figures"  # where snippets.site.macros looks names up

# A call of either macro, whatever follows the name (arguments, `%}`, `}}`); `CALL` finds every call,
# so that one the name pattern cannot read fails the test instead of going unchecked.
CALL = re.compile(r"(?<![\w.])(claim|facts)\(")
NAMED_CALL = re.compile(r"""(?<![\w.])(claim|facts)\(\s*(["'])([A-Za-z_][\w.]*)\2""")


def page_text(path: Path) -> str:
    """A Markdown page as it is; a notebook as the text of its cells."""
    if path.suffix != ".ipynb":
        return path.read_text(encoding="utf-8")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"] for cell in cells)


def pages(docs: Path) -> list[Path]:
    return sorted(p for p in docs.rglob("*") if p.suffix in (".md", ".ipynb"))


def calls(text: str) -> tuple[list[tuple[str, str]], int]:
    """The (macro, name) pairs a page calls, and how many calls of either macro it makes."""
    return [(m[1], m[3]) for m in NAMED_CALL.finditer(text)], len(CALL.findall(text))


# -- two ways to list what a module of snippets.figures defines: name -> its return annotation ------


def by_import(module: str) -> dict[str, str] | None:
    """What the build sees: the module's callables (None if it does not import)."""
    try:
        found = importlib.import_module(f"{PACKAGE}.{module}")
    except ModuleNotFoundError as err:
        wanted = f"{PACKAGE}.{module}"
        if not (err.name == wanted or wanted.startswith(f"{err.name}.")):
            raise  # the module is there and cannot import something it needs: say so
        return None
    return {name: _annotation_name(_returns(value)) for name, value in vars(found).items() if callable(value)}


def _returns(function):
    try:
        return inspect.get_annotations(function).get("return")
    except TypeError:  # a callable that carries no annotations (a functools.partial, say)
        return None


def by_source(module: str) -> dict[str, str] | None:
    """The module's top-level functions, read from its source without importing it (None if no file)."""
    base = FIGURES.joinpath(*module.split("."))
    path = next((p for p in (base.with_suffix(".py"), base / "__init__.py") if p.is_file()), None)
    if path is None:
        return None
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name: _annotation_name(ast.unparse(node.returns) if node.returns else None)
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def _annotation_name(annotation) -> str:
    """`Claim`, `figures.Claim`, "Claim" or the class itself -> "Claim"."""
    name = getattr(annotation, "__name__", annotation)
    return str(name).strip("'\"").rpartition(".")[2]


RESOLVERS = [by_source]
if importlib.util.find_spec("matplotlib") is not None:  # snippets.figures draws with it
    RESOLVERS.insert(0, by_import)


def unknown_names(docs: Path, resolve) -> list[str]:
    """Each call of a page whose name is not a function of snippets.figures (or, for a claim, not
    one that returns a `Claim`), and each call the name pattern could not read; [] when all is well."""
    problems, modules = [], {}
    for page in pages(docs):
        where = page.relative_to(docs)
        text = page_text(page)
        named, total = calls(text)
        if len(named) != total:
            problems.append(f'{where}: {total - len(named)} call(s) not of the form claim("page.function")')
        for macro, name in named:
            module, _, function = name.rpartition(".")
            if module not in modules:
                modules[module] = resolve(module) if module else None
            defined = modules[module]
            if defined is None:
                problems.append(f"{where}: {macro}({name!r}): no module {PACKAGE}.{module or '?'}")
            elif function not in defined:
                problems.append(f"{where}: {macro}({name!r}): {PACKAGE}.{module} has no function {function!r}")
            elif macro == "claim" and defined[function] != "Claim":
                problems.append(f"{where}: claim({name!r}) is not annotated to return a Claim")
    return problems


@pytest.mark.parametrize("resolve", RESOLVERS, ids=lambda r: r.__name__)
def test_every_claim_and_fact_a_page_calls_exists(resolve):
    named = [name for page in pages(REPO / "docs") for name in calls(page_text(page))[0]]
    assert len(named) >= 50, f"found only {len(named)} claim and facts calls in docs/: is the pattern right?"
    assert unknown_names(REPO / "docs", resolve) == []


@pytest.mark.parametrize("resolve", RESOLVERS, ids=lambda r: r.__name__)
def test_a_made_up_name_is_found_on_a_page_and_in_a_notebook(tmp_path, resolve):
    docs = tmp_path / "docs"
    (docs / "notebooks").mkdir(parents=True)
    (docs / "page.md").write_text(
        'A true sentence. {{ claim("rnn.slope_is_near_one_below_1_5") }}\n'
        "{% set d = facts('rnn.decay_facts') %}\n"
        'A made-up one. {{ claim("rnn.no_such_claim") }} {{ claim("rnn.decay_facts") }}\n'
        '{% set x = facts("no_such_page.facts", task="char") %}\n'
        "{{ claim(name) }}\n",
        encoding="utf-8",
    )
    cell = {"cell_type": "markdown", "metadata": {}, "source": ["Also ", '{{ facts("lstm.not_a_fact") }}']}
    (docs / "notebooks" / "nb.ipynb").write_text(json.dumps({"cells": [cell]}), encoding="utf-8")
    assert unknown_names(docs, resolve) == [
        "notebooks/nb.ipynb: facts('lstm.not_a_fact'): snippets.figures.lstm has no function 'not_a_fact'",
        'page.md: 1 call(s) not of the form claim("page.function")',
        "page.md: claim('rnn.no_such_claim'): snippets.figures.rnn has no function 'no_such_claim'",
        "page.md: claim('rnn.decay_facts') is not annotated to return a Claim",
        "page.md: facts('no_such_page.facts'): no module snippets.figures.no_such_page",
    ]
