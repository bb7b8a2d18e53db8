"""Show the package's own code and docstrings on a page, read at build time (never pasted).

Used from markdown-exec blocks, whose printed Markdown is rendered with the page's extensions:

    ```python exec="true"
    from snippets.site.include import source
    from snippets.cells import lstm_step
    print(source(lstm_step))
    ```
"""

import ast
import inspect
import re
import textwrap


def source(obj, *, docstring: bool = True) -> str:
    """`obj`'s source code as a Markdown python code block.

    `docstring=False` leaves out the docstring of `obj` itself (a function or a class), for a page
    that has already rendered it with `docstring(obj)`: its math then appears once, rendered,
    rather than a second time as raw TeX in the code.
    """
    code = textwrap.dedent(inspect.getsource(obj))
    if not docstring:
        code = without_docstring(code)
    # A fence longer than any backtick run inside the code, so the code cannot close it.
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}python\n{code.rstrip()}\n{fence}\n"


def without_docstring(code: str) -> str:
    """`code` (one function or class definition) without its docstring; unchanged if it has none."""
    definition = ast.parse(code).body[0]
    if not isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        raise ValueError(f"without_docstring: expected a function or class definition, got {type(definition).__name__}")
    first = definition.body[0]
    is_docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    if not (is_docstring and isinstance(first.value.value, str)):
        return code
    lines = code.splitlines(keepends=True)
    if len(definition.body) == 1:  # a body that is only a docstring still needs a statement
        indent = lines[first.lineno - 1][: first.col_offset]
        return "".join(lines[: first.lineno - 1] + [f"{indent}...\n"] + lines[first.end_lineno :])
    return "".join(lines[: first.lineno - 1] + lines[first.end_lineno :])


def docstring(obj, *, skip_summary: bool = False) -> str:
    """`obj`'s docstring (dedented), as Markdown; its `$$...$$` math renders like the page's own."""
    doc = inspect.getdoc(obj)
    if not doc:
        raise ValueError(f"docstring: {getattr(obj, '__qualname__', obj)!r} has no docstring to show")
    if skip_summary:
        doc = doc.partition("\n")[2].strip()
    return doc + "\n"


def equations(obj) -> str:
    """Only the display math (`$$...$$` blocks) of `obj`'s docstring, as Markdown: for a learning page
    that shows a function's equations and leaves its arguments and return values to the API page."""
    blocks = re.findall(r"^\$\$\n.*?\n\$\$$", docstring(obj), flags=re.M | re.S)
    if not blocks:
        raise ValueError(f"equations: the docstring of {getattr(obj, '__qualname__', obj)!r} has no $$ block")
    return "\n\n".join(blocks) + "\n"
