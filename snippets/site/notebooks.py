"""Notebook pages (mkdocs-jupyter): math in the arithmatex markup, no scripts from a CDN.

nbconvert renders a notebook's Markdown cells with mistune and leaves math as raw `$...$` for a
MathJax it expects the page to load; mkdocs-jupyter also embeds an empty MathJax `<script src="">`
and a mermaid loader that imports from cdnjs. We make nbconvert emit the same markup as
pymdownx.arithmatex, so the one MathML step in `snippets.site.hooks` renders both, and strip the
two scripts (so mermaid cells are not supported on this site).
"""

import re

from mkdocs.exceptions import PluginError
from nbconvert.filters.markdown_mistune import IPythonRenderer

_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.DOTALL)
_MERMAID = re.compile(
    r'<script type="module">(?:(?!</script>).)*?mermaid.*?<!-- End of mermaid configuration -->', re.DOTALL
)
_CODE_BOX = re.compile(r'(<div class="highlight-ipynb[^"]*")>')
_REMOTE_SCRIPT = re.compile(r'<script[^>]*\ssrc="(?:https?:)?//|import\(\s*"(?:https?:)?//')


def is_notebook(page) -> bool:
    return page.file.src_uri.endswith(".ipynb")


def use_arithmatex_markup() -> None:
    """Make nbconvert wrap notebook math as arithmatex does: `\\(...\\)` inline, `\\[...\\]` display.

    Patches `IPythonRenderer` for this process; mistune has already told math from `\\$` and code.
    """
    IPythonRenderer.inline_math = _inline_math
    IPythonRenderer.block_math = _block_math
    IPythonRenderer.latex_environment = _latex_environment


def _inline_math(self, body: str) -> str:
    return f'<span class="arithmatex">\\({self.escape_html(body)}\\)</span>'


def _block_math(self, body: str) -> str:
    # A span: mistune puts display math inside a <p>, where a <div> is not allowed.
    return f'<span class="arithmatex">\\[{self.escape_html(body)}\\]</span>'


def _latex_environment(self, name: str, body: str) -> str:
    return _block_math(self, f"\\begin{{{name}}}{body}\\end{{{name}}}")


def clean_notebook_html(html_text: str, page_name: str) -> str:
    """Drop the MathJax and mermaid scripts; fail if any script would still load from elsewhere.

    Also makes each code cell's scrolling box reachable from the keyboard (axe:
    scrollable-region-focusable), as Material does for its own code blocks.
    """
    html_text = _MERMAID.sub("", _MATHJAX.sub("", html_text))
    html_text = _CODE_BOX.sub(r'\1 tabindex="0">', html_text)
    remote = _REMOTE_SCRIPT.search(html_text)
    if remote:
        context = html_text[remote.start() : remote.start() + 120]
        raise PluginError(f"Notebook page '{page_name}' loads a script from another site: {context!r}")
    return html_text
