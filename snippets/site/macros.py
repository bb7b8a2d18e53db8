"""The site's macros (mkdocs-macros): numbers in a page's own sentences, and claims the build checks.

A page's prose stays in its Markdown; where a sentence states a result, the number comes from the
data or the statement is checked on it, by the build that renders the page:

- `{% set speed = facts("reuse.speed_facts") %} ... {{ speed.hidden }}` calls
  `snippets.figures.reuse.speed_facts()` and prints what it returns;
- `{{ claim("lstm.forget_gates_stay_open") }}`, placed after the sentence it checks, calls
  `snippets.figures.lstm.forget_gates_stay_open()`, a `snippets.figures.Claim`. If it holds, the
  page shows a ✓ whose evidence opens on hover, tap or focus. If it does not, the page shows a ✗
  with the evidence in plain sight, and the build logs a warning naming the page, the claim, its
  docstring (the statement) and the numbers: `mkdocs build --strict` (CI, the Pages workflow) then
  fails, while a plain `mkdocs build` and `mkdocs serve` still give the reader the whole site.

Both are kept between builds while the code and the results they read are unchanged
(`snippets.site.block_cache.cached_value`; a claim only while it holds).

Under `mkdocs serve`, while an experiment they read is computed in the background
(`snippets.experiments.cache.Pending`), facts print a "…pending" marker for any key, a claim is
marked "pending" (never ✓), and `{% if %}` on a pending fact prints the marker rather than either
branch (`snippets.site.placeholders`).
"""

from __future__ import annotations

import html
import importlib
import inspect
import json
import logging

from mkdocs.exceptions import PluginError

from snippets.experiments.cache import Pending
from snippets.figures import Claim
from snippets.site import block_cache, placeholders
from snippets.site.serving import SERVING

log = logging.getLogger("mkdocs.plugins.snippets.claims")


PACKAGE = "snippets.figures"  # where `page.function` names are looked up (a test's site names another)


def page_function(name: str, package: str = PACKAGE):
    """`"page.function"` -> the function `function` of `snippets.figures.page`, or a clear error."""
    module_name, _, function = name.rpartition(".")
    try:
        found = getattr(importlib.import_module(f"{package}.{module_name}"), function)
    except (ImportError, AttributeError, ValueError) as err:
        raise PluginError(
            f"expected a function of a {package} module, as 'page.function', got {name!r} ({err})"
        ) from None
    return found


def check(page: str, name: str, found, statement: str = "") -> str:
    """The mark a claim leaves on the page: ✓ if it holds; else ✗ with its evidence, and a warning
    naming page, claim, `statement` (the claim's docstring) and numbers (fatal to `--strict` only)."""
    if not isinstance(found, Claim):
        raise PluginError(f"page '{page}': claim {name!r} should return a snippets.figures.Claim, got {found!r}")
    if found.holds:
        return mark("claim-checked", "✓", f"Checked by this build: {found.evidence}")
    statement = " ".join(statement.split())
    log.warning(
        f"page '{page}': the claim {name!r} does not hold on this build's data. "
        f"It says: {statement} Evidence: {found.evidence}"
    )
    return mark("claim-failed", "✗", f"Not on this build's data: {found.evidence}")


def mark(kind: str, symbol: str, evidence: str) -> str:
    """A claim's mark: the symbol, then its evidence (CSS shows a failed claim's always, a checked
    one's on hover or focus; `tabindex` lets a tap or the keyboard reach it)."""
    return (
        f'<span class="claim-mark {kind}" tabindex="0">{symbol}'
        f'<span class="claim-evidence">{html.escape(evidence, quote=False)}</span></span>'
    )


def define_env(env) -> None:
    """Register the macros (mkdocs-macros calls this once per build)."""

    package = env.conf["extra"].get("claims_package", PACKAGE)

    @env.macro
    def facts(name: str, **arguments):
        label = f"facts {name} {json.dumps(arguments, sort_keys=True)}"
        try:
            return block_cache.cached_value(label, lambda: page_function(name, package)(**arguments))
        except Pending as pending:  # `mkdocs serve` computes it behind the page
            SERVING.wait_for(pending.name)
            return placeholders.PendingValue(pending.name)

    @env.macro
    def claim(name: str, **arguments) -> str:
        label = f"claim {name} {json.dumps(arguments, sort_keys=True)}"
        function = page_function(name, package)
        try:
            found = block_cache.cached_value(label, lambda: _as_list(function(**arguments)), keep=_holds)
        except Pending as pending:  # not checked yet: "pending", never ✓
            SERVING.wait_for(pending.name)
            return placeholders.claim(pending.name, SERVING.describe(pending.name))
        found = Claim(*found) if isinstance(found, list) else found
        return check(env.page.file.src_uri, name, found, inspect.getdoc(function) or "")

    env.macro(placeholders.is_pending, "snippets_pending")  # for `on_pre_page_macros`'s guards


def on_pre_page_macros(env) -> None:
    """Under `mkdocs serve` while experiments run: `{% if %}` on a pending fact prints its marker."""
    if SERVING.pending:
        env.markdown = placeholders.guard_conditions(env.markdown)


def _as_list(found):
    """A `Claim` as a list (JSON keeps lists; the page shows the same), anything else as it is."""
    return [bool(found.holds), str(found.evidence)] if isinstance(found, Claim) else found


def _holds(found) -> bool:
    return isinstance(found, list) and found[0] is True
