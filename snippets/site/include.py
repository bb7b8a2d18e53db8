"""Show the package's own code and docstrings on a page, read at build time (never pasted).

Used from markdown-exec blocks, whose printed Markdown is rendered with the page's extensions:

    ```python exec="true"
    from snippets.site.include import source
    from snippets.cells import lstm_step
    print(source(lstm_step))
    ```
"""

import inspect
import re


def source(obj) -> str:
    """`obj`'s source code as a Markdown python code block."""
    code = inspect.getsource(obj)
    # A fence longer than any backtick run inside the code, so the code cannot close it.
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}python\n{code.rstrip()}\n{fence}\n"


def docstring(obj, *, skip_summary: bool = False) -> str:
    """`obj`'s docstring (dedented), as Markdown; its `$$...$$` math renders like the page's own."""
    doc = inspect.getdoc(obj)
    if not doc:
        raise ValueError(f"docstring: {getattr(obj, '__qualname__', obj)!r} has no docstring to show")
    if skip_summary:
        doc = doc.partition("\n")[2].strip()
    return doc + "\n"
