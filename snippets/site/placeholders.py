"""What a page shows, under `mkdocs serve`, in place of a result that is still being computed.

A block, a number in a sentence, a checked claim or a notebook whose experiment has not finished
(`snippets.experiments.cache.Pending`) is shown as a labelled placeholder: the experiment it waits
for and how far that has got, and nothing else. A placeholder shows no data at all, so it can never
show a number of another seed base, another commit or an old cache entry; a claim whose data is
pending is marked "pending", never ✓.

- `block(name, progress)`: a block's output (figure, table, printed Markdown);
- `PendingValue(name)`: what `facts(...)` returns, any key of it: it prints a token that
  `fill_values` turns into a "…pending" marker (in math, a `…` in the formula, and the formula is
  marked); it is falsy, and `guard_conditions` makes `{% if %}` on it print the marker instead of
  either branch, so no sentence whose wording depends on the data is shown before the data;
- `claim(name, progress)`: a claim's mark;
- `notebook(text)`: a whole notebook page;
- `live_progress(url)`: a script that keeps each placeholder's progress up to date between rebuilds,
  from the JSON file at `url` ({experiment: progress}) that the serving process rewrites.

Every placeholder carries a `data-pending-experiment` (or `data-pending-notebook`) attribute:
`found(html)` lists them, and a page of a build (not of `mkdocs serve`) that holds one stops the
build (`snippets.site.hooks.on_post_page`).
"""

from __future__ import annotations

import html
import re

ATTRIBUTE = re.compile(r'data-pending-(?:experiment|notebook)="([^"]*)"')
TOKEN = re.compile(r"\u27e6pending (\d+)\u27e7")  # ⟦pending N⟧: N indexes `_names`
_names: list[str] = []  # experiment names, in the order their first token was made


def found(page_html: str) -> list[str]:
    """The experiments (or notebooks) the placeholders in `page_html` wait for, in order, each once."""
    return list(dict.fromkeys(html.unescape(name) for name in ATTRIBUTE.findall(page_html)))


def _attribute(name: str) -> str:
    return f'data-pending-experiment="{html.escape(name)}"'


EVERY = "*"  # what a block that lists every experiment (the build report) waits for


def block(name: str, progress: str) -> str:
    """A block's output while experiment `name` (or `EVERY` one) is computed: what it waits for, and `progress`."""
    what = "every experiment" if name == EVERY else f"the experiment <code>{html.escape(name)}</code>"
    return (
        f'<div class="snippets-pending" role="status" {_attribute(name)}>'
        f"<p><strong>Waiting for {what}</strong>: {_progress(name, progress)}.</p>"
        "<p>This part of the page is computed from its result; the page reloads by itself when it is ready.</p>"
        "</div>\n"
    )


def _progress(name: str, progress: str) -> str:
    """`progress` in a span that `live_progress` keeps up to date (not read aloud at each change)."""
    live = f'class="snippets-progress" data-progress-of="{html.escape(name)}" aria-live="off"'
    return f"<span {live}>{html.escape(progress)}</span>"


def claim(name: str, progress: str) -> str:
    """A claim's mark while its data (experiment `name`) is computed: "pending", with why on focus."""
    evidence = f"Not checked yet: it waits for the experiment {html.escape(name)} ({_progress(name, progress)})."
    return (
        f'<span class="claim-mark claim-pending" tabindex="0" {_attribute(name)}>pending'
        f'<span class="claim-evidence">{evidence}</span></span>'
    )


def notebook(text: str, name: str, kind: str = "experiment") -> str:
    """A notebook page's content while it waits (`kind` "experiment": for experiment `name`;
    "notebook": it is executing, `name` being the notebook)."""
    return (
        f'<div class="snippets-pending" role="status" data-pending-{kind}="{html.escape(name)}">'
        f"<p>{html.escape(text)}</p>"
        "<p>The page reloads by itself when the executed notebook is ready.</p></div>\n"
    )


def value(name: str, progress: str) -> str:
    """A number in a sentence while experiment `name` is computed."""
    title = html.escape(f"waits for the experiment {name}: {progress}")
    return f'<span class="snippets-pending-value" {_attribute(name)} title="{title}">…pending</span>'


class PendingValue:
    """What `facts(...)` gives while its experiment is computed: the same for any key, index, call
    or filter, printed as a token for `fill_values`; falsy; iterates over nothing."""

    def __init__(self, name: str):
        self.name = name

    def __str__(self) -> str:
        if self.name not in _names:
            _names.append(self.name)
        return f"\u27e6pending {_names.index(self.name)}\u27e7"

    __html__ = __str__  # Jinja's Markup calls this

    def __getattr__(self, key: str) -> PendingValue:
        if key.startswith("__"):  # copy, pickle and Jinja probe dunders: not facts
            raise AttributeError(key)
        return self

    def __getitem__(self, key) -> PendingValue:
        return self

    def __call__(self, *args, **kwargs) -> PendingValue:
        return self

    def __bool__(self) -> bool:
        return False

    def __iter__(self):
        return iter(())

    def __len__(self) -> int:
        return 0

    def __add__(self, other) -> str:  # Jinja's `indent` filter appends a newline
        return str(self) + str(other)

    def __radd__(self, other) -> str:
        return str(other) + str(self)


def is_pending(candidate) -> bool:
    return isinstance(candidate, PendingValue)


# `{% if COND %}` / `{% elif COND %}`, with Jinja's optional whitespace control (`{%-`, `-%}`)
_CONDITION = re.compile(r"\{%(-?)\s*(if|elif)\s+(.+?)\s*(-?)%\}", re.DOTALL)


def guard_conditions(markdown: str) -> str:
    """Make every `{% if COND %}` (and `elif`) of a page's Jinja print COND's pending marker, and
    neither branch, when COND is a `PendingValue`; otherwise it works as written.

    `{% if m.flag %}A{% else %}B{% endif %}` becomes
    `{% if snippets_pending(m.flag) %}{{ m.flag }}{% elif m.flag %}A{% else %}B{% endif %}`.
    A condition that combines values (`a or b`, `not a`) is tested as a whole: a pending value
    inside it counts only where it is the result.
    """

    def guard(match: re.Match) -> str:
        left, tag, condition, right = match.groups()
        pending = f"{{%{left} {tag} snippets_pending({condition}) {right}%}}{{{{ {condition} }}}}"
        return f"{pending}{{%{left} elif {condition} {right}%}}"

    return _CONDITION.sub(guard, markdown)


_ELLIPSIS = r"\\text{…}"  # the replacement `\text{…}`: an ellipsis in the formula
_TAG_WITH_TOKEN = re.compile(r"<[^<>]*\u27e6pending \d+\u27e7[^<>]*>")
_MATH_WITH_TOKEN = re.compile(
    r'<(span|div)(\s[^>]*class="arithmatex"[^>]*)>((?:(?!</\1>).)*\u27e6pending \d+\u27e7.*?)</\1>', re.DOTALL
)


def fill_values(page_html: str, progress) -> str:
    """Replace the tokens `PendingValue` printed in `page_html` (before its math is rendered):
    in a tag's attribute by the word "pending", in math by `\\text{…}` (the formula is marked),
    elsewhere by `value(name, progress(name))`."""

    if "\u27e6pending" not in page_html:  # every page of a build: nothing to do
        return page_html

    def name(match: re.Match) -> str:
        return _names[int(match.group(1))]

    def in_tag(match: re.Match) -> str:
        return TOKEN.sub("pending", match.group(0))

    def in_math(match: re.Match) -> str:
        tag, attributes, body = match.groups()
        first = name(TOKEN.search(body))
        return f"<{tag}{attributes} {_attribute(first)}>{TOKEN.sub(_ELLIPSIS, body)}</{tag}>"

    page_html = _MATH_WITH_TOKEN.sub(in_math, _TAG_WITH_TOKEN.sub(in_tag, page_html))
    return TOKEN.sub(lambda match: value(name(match), progress(name(match))), page_html)


_LIVE = """<script>
(() => {
  // mkdocs serve, while experiments run: keep each placeholder's progress up to date
  if (window.snippetsLiveProgress) return;
  window.snippetsLiveProgress = true;
  const tick = async () => {
    try {
      const response = await fetch("URL", { cache: "no-store" });
      if (!response.ok) return;
      const progress = await response.json();
      for (const span of document.querySelectorAll("[data-progress-of]")) {
        const text = progress[span.dataset.progressOf];
        if (text) span.textContent = text;
      }
      for (const marker of document.querySelectorAll(".snippets-pending-value")) {
        const name = marker.dataset.pendingExperiment, text = progress[name];
        if (text) marker.title = `waits for the experiment ${name}: ${text}`;
      }
    } catch (error) {}  // between builds the file may be missing for a moment
  };
  setInterval(tick, 2000);
})();
</script>
"""


def live_progress(url: str) -> str:
    """The script that updates the progress of the page's placeholders every 2 s from `url`."""
    return _LIVE.replace("URL", url)
