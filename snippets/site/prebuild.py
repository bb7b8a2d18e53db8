"""MkDocs hook: run (or load) every experiment once, before any page is rendered.

Pages and notebooks then only read the cache, and the build report page can list what this
build loaded and what it computed, with the seconds each took (as sphinx-gallery does for its
examples). `cache.report()` holds this process's records; each build starts a fresh list.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from snippets import cache, experiments

log = logging.getLogger("mkdocs.plugins.snippets")


def on_config(config):
    """One cache for the whole build, next to mkdocs.yml, whatever folder code runs in.

    Notebooks execute in their own folder, and kernels inherit this process's environment: without
    an absolute path they would each start an empty cache and train everything again.
    """
    default = Path(config.config_file_path).resolve().parent / ".cache" / "snippets"
    os.environ.setdefault("SNIPPETS_CACHE_DIR", str(default))
    return config


def on_pre_build(config) -> None:
    changed = cache.stale()
    if changed:  # under `mkdocs serve`: the process still has the old code loaded
        log.warning(f"snippets changed on disk since this process started ({', '.join(changed)}): "
                    "these pages show results of the code it loaded; restart `mkdocs serve` to use the new code")
    cache.clear_report()
    experiments.run_all()


def report_table(records: list[dict], wall_seconds: float) -> str:
    """A Markdown table of cache records: experiment, hit or computed, seconds now and cold.

    The last row gives the wall clock of all of them: experiments that ran side by side overlap,
    so their seconds add up to more.
    """
    if not records:
        raise ValueError("report_table: expected the cache records of a build, got none (did the pre-build hook run?)")
    lines = ["| experiment | this build | seconds this build | seconds to compute |", "| --- | --- | ---: | ---: |"]
    for r in records:
        status = "loaded from cache" if r["hit"] else "computed"
        lines.append(f"| `{r['name']}` (`{r['key'][:8]}`) | {status} | {r['seconds']:.2f} | {r['compute_seconds']:.1f} |")
    lines.append(f"| **all {len(records)}** | {sum(not r['hit'] for r in records)} computed | "
                 f"**{wall_seconds:.2f}** wall clock | |")
    return "\n".join(lines)
