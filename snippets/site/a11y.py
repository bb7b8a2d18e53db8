"""Changes to each built page's markup that CSS cannot make (run by the hooks' `on_post_page`).

Material 9.8's search overlay is `<div class="md-search" ... role="dialog">` with no accessible
name (axe: aria-dialog-name, serious). We name it after its own input's label. If a later
Material names the dialog itself, or changes the markup, the page is left as it is.

Figures drawn once and display equations are made to fit their column, and the boxes that may
still scroll sideways can take the keyboard's focus (axe: scrollable-region-focusable).
"""

import re

from snippets.site import math_fit

_DIALOG = re.compile(r'<div class="md-search" data-md-component="search" role="dialog">')
_INPUT_LABEL = re.compile(r'<input [^>]*class="md-search__input"[^>]*aria-label="([^"]+)"')


def label_search_dialog(html_text: str) -> str:
    """Give the search dialog an `aria-label` (the search input's label, e.g. "Search")."""
    label = _INPUT_LABEL.search(html_text)
    name = label.group(1) if label else "Search"
    return _DIALOG.sub(
        f'<div class="md-search" data-md-component="search" role="dialog" aria-label="{name}">', html_text, count=1
    )


_FIGURE_SVG = re.compile(
    r'(<div class="snippets-figure-(?:wide|narrow)">)?(<svg\b[^>]*\bclass="snippets-figure"[^>]*>.*?</svg>)', re.DOTALL
)
_WIDTH_PT = re.compile(r'^<svg\b[^>]*\swidth="([\d.]+)pt"')


def figure_scroll_boxes(html_text: str) -> str:
    """Put each inline SVG figure (`snippets.figures.svg_html`) drawn once in a box that can scroll
    sideways.

    Scaled down to a phone's column a figure's text would be 5-7 px. The box carries the figure's
    natural width (`--figure-width`, from the SVG's width in pt), so extra.css can keep a figure at
    80% of it or more on a narrow screen and let the box scroll instead. A box that scrolls must
    be reachable from the keyboard (axe: scrollable-region-focusable), hence `tabindex`; the SVG
    inside carries the figure's name. A figure drawn twice (`svg_html(..., narrow=...)`) needs no
    box: the phone shows its narrow drawing, which fits, and wider screens scale the wide one.
    """

    def box(match: re.Match) -> str:
        if match.group(1):  # one of a pair
            return match.group()
        svg = match.group(2)
        width = _WIDTH_PT.match(svg)
        style = f' style="--figure-width: {float(width.group(1)) * 4 / 3:.0f}px"' if width else ""
        return f'<div class="snippets-figure-box" tabindex="0"{style}>{svg}</div>'

    return _FIGURE_SVG.sub(box, html_text)


_DISPLAY_MATH = re.compile(r'<div class="arithmatex">(<math\b[^>]*\bdisplay="block"[^>]*>.*?</math>)</div>', re.DOTALL)


def math_scroll_focus(html_text: str) -> str:
    """Fit display equations to their column and let the keyboard reach those that still scroll.

    Each gets its estimated width, and a layout in rows where one line is too long
    (`snippets.site.math_fit`), which extra.css uses to shrink it to its column. One still wider
    than its column at the smallest legible size scrolls sideways; whether one does depends on
    the reader's screen, so every one can take the focus (axe: scrollable-region-focusable).
    """
    return _DISPLAY_MATH.sub(
        lambda m: f'<div class="arithmatex" tabindex="0">{math_fit.fit_display(m.group(1))}</div>', html_text
    )
