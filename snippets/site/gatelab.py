"""The gate lab's weights, published next to its page (`docs/gate-lab.md`) by the build.

`on_files` (snippets/site/hooks.py) calls `weight_files`: when the site has the page, each model of
the `gate_lab` experiment (`snippets.experiments.lab`) becomes `gate-lab/<name>.json`, a file MkDocs
writes into the built site like any other (and `mkdocs serve` serves). The JSON is `export_model`'s dict: the layer's
state-dict names and shapes, the read-out as `readout.weight` and `readout.bias`, the vocabulary, and
each tensor as integers times a power-of-two `scale` (`snippets.experiments.lab.load_state_dict`).
`on_files` also swaps the lab's script for `minified_script`'s: the page's download budget (150 KB
gzipped beyond the other pages, `tests/test_gate_lab_browser.py`) has no room for its comments.
"""

from __future__ import annotations

import gzip
import json

import jsmin

PAGE = "gate-lab.md"
FOLDER = "gate-lab"
SCRIPT = "javascripts/gatelab.js"


def weight_files(result: dict | None = None) -> dict[str, bytes]:
    """`{path in the site: JSON bytes}` for every model the lab exports."""
    if result is None:
        from snippets.experiments import gate_lab

        result = gate_lab()
    return {f"{FOLDER}/{name}.json": to_json(model) for name, model in result["models"].items()}


def to_json(model: dict) -> bytes:
    """Compact JSON (no spaces): most of the bytes are the integers."""
    return json.dumps(model, separators=(",", ":"), ensure_ascii=True).encode()


def minified_script(source: str) -> str:
    """The lab's JavaScript without comments and spare white space (`jsmin`; template literals kept)."""
    return jsmin.jsmin(source, quote_chars="'\"`")


def gzipped_size(data: bytes) -> int:
    """Bytes after gzip (level 9), as a web server would send them compressed."""
    return len(gzip.compress(data, 9, mtime=0))
