"""A log of this checkout's recent builds, which the build report page shows.

A page cannot show how long the build that renders it takes, so the report lists the builds
before it: when each finished, its seconds from loading the configuration to the end (the
process's start-up, 2 to 3 s, comes before), and how many experiments it computed, all of them
in a cold build and none in a warm one. The log is `builds/builds.json` under the project's cache
root (git-ignored), the last `KEEP` builds, written whole and atomically; an unreadable log starts
again empty, with a warning. `snippets.site.hooks` writes it.
"""

from __future__ import annotations

import datetime
import json
import warnings
from pathlib import Path

from snippets.experiments import cache

KEEP = 10
FIELDS = {"finished", "seconds", "experiments", "computed", "dirty"}


def log_path() -> Path:
    return cache.folder("builds") / "builds.json"


def read(path: Path) -> list[dict]:
    """The logged builds, oldest first; none if the log is missing or unreadable."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        warnings.warn(f"build log {path} is unreadable ({err}); starting it again", RuntimeWarning, stacklevel=2)
        return []
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, dict) and FIELDS <= e.keys()]  # older formats are dropped


def append(path: Path, entry: dict) -> None:
    """Add `entry` to the log and keep the last KEEP, replacing the file in one step."""
    entries = (read(path) + [entry])[-KEEP:]
    cache.write_atomic(path, lambda f: f.write(json.dumps(entries, indent=1).encode("utf-8")))


def table(entries: list[dict]) -> str:
    """A Markdown table of the logged builds, newest first."""
    if not entries:
        return "No earlier build of this checkout is logged yet: the next build's report lists this one."
    lines = ["| finished | seconds | experiments computed |", "| --- | ---: | ---: |"]
    for e in reversed(entries):
        dirty = " (`serve --dirty`: changed pages only)" if e["dirty"] else ""
        lines.append(f"| {e['finished']}{dirty} | {e['seconds']:.1f} | {e['computed']} of {e['experiments']} |")
    return "\n".join(lines)


def entry(records: list[dict], seconds: float, dirty: bool) -> dict:
    """The log entry of a build: when it finished, its seconds, how many experiments, how many computed."""
    return {
        "finished": datetime.datetime.now().isoformat(sep=" ", timespec="seconds"),
        "seconds": round(seconds, 1),
        "experiments": len({r["key"] for r in records}),  # pages load experiments too: count each once
        "computed": len({r["key"] for r in records if not r["hit"]}),
        "dirty": dirty,
    }
