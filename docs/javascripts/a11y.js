// Material wraps a table wider than its column in a box that scrolls sideways, after the page
// loads; a box that scrolls must be reachable from the keyboard (axe: scrollable-region-focusable).
// document$ fires on the first load and after every instant navigation.
document$.subscribe(() => {
  for (const box of document.querySelectorAll(".md-typeset__scrollwrap")) {
    if (box.scrollWidth > box.clientWidth && !box.hasAttribute("tabindex")) {
      box.tabIndex = 0;
    }
  }
});
