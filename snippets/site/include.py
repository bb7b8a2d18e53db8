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
    """`obj`'s source code as a Markdown python code block; `docstring=False` leaves its docstring
    out (for a page that has rendered it already)."""
    code = inspect.getsource(obj)
    if not docstring:
        code = _without_docstring(code)
    # A fence longer than any backtick run inside the code, so the code cannot close it.
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}python\n{code.rstrip()}\n{fence}\n"


def _without_docstring(code: str) -> str:
    """The source of one function or class without the docstring that opens its body."""
    tree = ast.parse(textwrap.dedent(code))
    body = tree.body[0].body
    first = body[0] if body else None
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)):
        return code
    lines = code.splitlines(keepends=True)
    return "".join(lines[: first.lineno - 1] + lines[first.end_lineno :])


def docstring(obj, *, skip_summary: bool = False) -> str:
    """`obj`'s docstring (dedented), as Markdown; its `$$...$$` math renders like the page's own."""
    doc = inspect.getdoc(obj)
    if not doc:
        raise ValueError(f"docstring: {getattr(obj, '__qualname__', obj)!r} has no docstring to show")
    if skip_summary:
        doc = doc.partition("\n")[2].strip()
    return doc + "\n"
