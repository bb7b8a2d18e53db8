"""The site's macros (mkdocs-macros): numbers in a page's own sentences, and claims the build checks.

A page's prose stays in its Markdown; where a sentence states a result, the number comes from the
data or the statement is checked on it, by the build that renders the page:

- `{% set speed = facts("reuse.speed_facts") %} ... {{ speed.hidden }}` calls
  `snippets.figures.reuse.speed_facts()` and prints what it returns;
- `{{ claim("lstm.forget_gates_stay_open") }}`, placed after the sentence it checks, calls
  `snippets.figures.lstm.forget_gates_stay_open()`, a `snippets.figures.Claim`. If it does not
  hold, the build stops with the page, the claim, its docstring (the statement) and the numbers;
  if it holds, the page shows a small mark whose tooltip gives the evidence.

Both are kept between builds while the code and the results they read are unchanged
(`snippets.site.block_cache.cached_value`; a claim only while it holds).
"""

from __future__ import annotations

import html
import importlib
import inspect
import json

from mkdocs.exceptions import PluginError

from snippets.figures import Claim
from snippets.site import block_cache


def page_function(name: str):
    """`"page.function"` -> the function `function` of `snippets.figures.page`, or a clear error."""
    module_name, _, function = name.rpartition(".")
    try:
        found = getattr(importlib.import_module(f"snippets.figures.{module_name}"), function)
    except (ImportError, AttributeError, ValueError) as err:
        raise PluginError(f"expected a function of a snippets.figures module, as 'page.function', got {name!r} "
                          f"({err})") from None
    return found


def check(page: str, name: str, found) -> str:
    """The mark a claim that holds leaves on the page; raise naming page, claim and numbers if it does not."""
    if not isinstance(found, Claim):
        raise PluginError(f"page '{page}': claim {name!r} should return a snippets.figures.Claim, got {found!r}")
    if not found.holds:
        statement = " ".join((inspect.getdoc(page_function(name)) or "").split())
        message = (f"page '{page}': the claim {name!r} does not hold on this build's data. "
                   f"It says: {statement} Evidence: {found.evidence}")
        # mkdocs-macros formats its error report with `%`: a bare % in the message would hide it
        raise PluginError(message.replace("%", "%%"))
    evidence = html.escape(found.evidence, quote=True)
    return f'<span class="claim-checked" title="Checked by this build: {evidence}" aria-label="checked by the build">✓</span>'


def define_env(env) -> None:
    """Register the macros (mkdocs-macros calls this once per build)."""

    @env.macro
    def facts(name: str, **arguments):
        label = f"facts {name} {json.dumps(arguments, sort_keys=True)}"
        return block_cache.cached_value(label, lambda: page_function(name)(**arguments))

    @env.macro
    def claim(name: str, **arguments) -> str:
        label = f"claim {name} {json.dumps(arguments, sort_keys=True)}"
        found = block_cache.cached_value(label, lambda: _as_list(page_function(name)(**arguments)), keep=_holds)
        return check(env.page.file.src_uri, name, Claim(*found) if isinstance(found, list) else found)


def _as_list(found):
    """A `Claim` as a list (JSON keeps lists; the page shows the same), anything else as it is."""
    return [bool(found.holds), str(found.evidence)] if isinstance(found, Claim) else found


def _holds(found) -> bool:
    return isinstance(found, list) and found[0] is True
