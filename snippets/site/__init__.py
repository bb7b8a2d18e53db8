"""Build tooling for the site: the MkDocs hooks and macros, TeX to MathML, browser-test helpers.

Nothing here is needed to use the models; it runs only inside `mkdocs build` and the tests, and
needs the site's toolchain: `pip install "snippets[site]"` (the browser helpers: `snippets[test]`).
"""

import importlib.util

_missing = [name for name in ("mkdocs", "latex2mathml", "matplotlib") if importlib.util.find_spec(name) is None]
if _missing:
    raise ImportError(
        f"snippets.site builds the site and needs {', '.join(_missing)}, part of the site's extra: "
        "pip install 'snippets[site]'"
    )
