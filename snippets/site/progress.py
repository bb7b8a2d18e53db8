"""How far each experiment computed behind `mkdocs serve` has got, as small files a page can read.

The counts are the ones the training loops' tqdm bars already keep (`snippets.train.train`,
`snippets.fast.ensemble.train_members`). Those bars stay hidden when no terminal is attached, and a
hidden tqdm bar counts nothing, so `count_bars()` swaps tqdm's class, in the process that calls it,
for one that reports every step of every loop (shown or not) to the status file of the experiment
this process is computing (`begin`, `end`), at most `WRITE_EVERY_S` apart.

`STATE/status/NAME.json` holds `state` ("running", "done" or "failed"), `started` and `ended`
(seconds since the epoch), `loops` (training loops finished), `step` and `steps` (where the
current loop is, and its length), and `error` for a failed one. `read(state)` reads them all.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import tqdm as tqdm_package
from tqdm.std import tqdm as _Bar

from snippets.experiments import cache

WRITE_EVERY_S = 0.5
_status: dict = {}  # the experiment this process computes now: {"path": Path, "data": dict, "written": float}


def status_path(state: Path, name: str) -> Path:
    return state / "status" / f"{name}.json"


def begin(state: Path, name: str) -> None:
    """This process starts computing experiment `name`: its status says "running"."""
    data = {"state": "running", "started": time.time(), "loops": 0, "step": 0, "steps": None}
    _status.update(path=status_path(state, name), data=data, written=0.0)
    _write(force=True)


def end(error: BaseException | None = None) -> None:
    """The experiment `begin` named is done (or failed with `error`); later bars report nowhere."""
    if not _status:
        return
    _status["data"].update(state="done" if error is None else "failed", ended=time.time())
    if error is not None:
        _status["data"]["error"] = f"{type(error).__name__}: {error}"
    _write(force=True)
    _status.clear()


def read(state: Path) -> dict[str, dict]:
    """{experiment: its status} for every status file under `state` (unreadable ones left out)."""
    found = {}
    for path in sorted((state / "status").glob("*.json")):
        try:
            found[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # being replaced right now: the next read has it
    return found


def _write(force: bool = False) -> None:
    now = time.monotonic()
    if not _status or (not force and now - _status["written"] < WRITE_EVERY_S):
        return
    _status["written"] = now
    text = json.dumps(_status["data"]).encode()
    cache.store(_status["path"], lambda f: f.write(text))  # atomic; a full disk costs a progress line only


def _step(bar: _Bar, done: int) -> None:
    if _status:
        _status["data"].update(step=done, steps=bar.total)
        _write()


def _loop_ended() -> None:
    if _status:
        data = _status["data"]
        data.update(loops=data["loops"] + 1, step=0, steps=None)
        _write()


class CountingBar(_Bar):
    """A tqdm bar that reports each step it yields to the status file, shown or hidden."""

    def __iter__(self):
        done = 0
        try:
            for item in super().__iter__():
                yield item
                done += 1  # the loop asks for the next item once the body of this one has run
                _step(self, done)
        finally:
            _loop_ended()


def count_bars() -> None:
    """Make the tqdm bars of this process count (`CountingBar`): later `from tqdm import tqdm` gets
    it, and so does every module that imported tqdm's class already (`snippets.train` and others)."""
    if tqdm_package.tqdm is CountingBar:
        return
    for name, module in list(sys.modules.items()):
        if not name.startswith("tqdm.") and getattr(module, "tqdm", None) is _Bar:  # tqdm's own: as they are
            module.tqdm = CountingBar
