"""`python -m snippets.site.runner STATE NAME ...`: the experiments `mkdocs serve` lacks, computed behind it.

`snippets.site.serving` starts it, in a process group of its own, for the experiments of the site
(`snippets.experiments.ALL`, or `--module`'s) that the cache lacks. It computes them through the
cache as a build does (`cache.run_experiments`, `python -m snippets.experiments run`): first those of
`SIDE_BY_SIDE`, at once in the worker pool, each in a worker of its own; then the others in this
process, one after the other (they read the first ones' results; the timings want a quiet CPU).
So each result is the one a build computes, bit for bit: every run seeds itself. What differs:

- the order: the first worker takes the experiments the pages wait for, in reading order
  (`STATE/wishes.json`, written by the serving process as the pages render, the home page first);
  the others take them in `SIDE_BY_SIDE`'s order (longest first), so that the long ones a late
  page reads do not start last and leave one core idle at the end: the whole set takes as long as
  a build's. A worker claims an experiment by creating `STATE/claims/NAME`, so no two compute the
  same one; one whose own order is exhausted takes what is left in the other order;
- quiet: before each experiment of the second phase the runner waits while the serving process
  builds or runs a notebook (`STATE/busy`), and `STATE/quiet` asks it to start neither meanwhile.

Progress goes to `STATE/status/NAME.json` (`snippets.site.progress`). SIGTERM or Ctrl-C ends the
workers within seconds, keeping every entry already written and none half-written (as
`python -m snippets.experiments run` does); so does the death of the process that started it.
Exit status: 0 all computed, 1 some failed (named on stderr), 2 bad arguments, 128 + signal if stopped.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import signal
import sys
import threading
import time
import traceback
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from snippets.experiments import cache, pool
from snippets.experiments.__main__ import Stopped
from snippets.site import progress

WISH_WAIT_S = 20.0  # how long a worker waits for the pages' first wishes before it takes the default order
QUIET_WAIT_S = 120.0  # how long the second phase waits for a build to end, at most
POLL_S = 0.2
PARENT_POLL_S = 0.5
_waited_for_wishes = False  # in this process: whether the first wait for wishes is over


def calls_of(module_name: str) -> dict:
    """{experiment name: (experiment, config)} of `module_name`'s `ALL`, in its order."""
    module = importlib.import_module(module_name)
    return {fn.experiment_name: (fn, config) for fn, config in module.ALL}


def wishes(state: Path) -> list[str]:
    """The experiments the pages wait for, in reading order (`STATE/wishes.json`; [] if unreadable)."""
    try:
        return list(json.loads((state / "wishes.json").read_text(encoding="utf-8"))["names"])
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _wait_for_wishes(state: Path) -> None:
    """The first time in this process: wait (at most `WISH_WAIT_S`) for the home page's wishes."""
    global _waited_for_wishes
    deadline = time.monotonic() + WISH_WAIT_S
    while not _waited_for_wishes and not (state / "wishes.json").exists() and time.monotonic() < deadline:
        time.sleep(POLL_S)
    _waited_for_wishes = True


def order(names: list[str], wished: list[str]) -> list[str]:
    """`names` in the order of `wished` (reading order), then the rest in their own order."""
    return list(dict.fromkeys([*(name for name in wished if name in names), *names]))


def claim(state: Path, names: list[str], reader: bool = True) -> str | None:
    """The first of `names` that no process has claimed yet, now claimed (None if none): in reading
    order (`order`) if `reader`, else in their own order."""
    if reader:
        _wait_for_wishes(state)
    for name in order(names, wishes(state)) if reader else names:
        try:
            os.close(os.open(state / "claims" / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            return name
        except FileExistsError:
            continue
    return None


def compute(state: Path, name: str, call) -> bool:
    """`fn(config, load=False)` (into the cache), with its progress reported; whether it succeeded."""
    fn, config = call
    progress.begin(state, name)
    began = time.perf_counter()
    try:
        fn(config, load=False)
    except Exception as error:  # the others go on; the serving process computes this one itself
        progress.end(error)
        print(f"{name} failed:\n{traceback.format_exc()}", file=sys.stderr, flush=True)
        return False
    progress.end()
    print(f"{name} done in {time.perf_counter() - began:.1f} s", flush=True)
    return True


def take_turns(state: str, module_name: str, names: tuple[str, ...], reader: bool) -> list[str]:
    """In a worker: claim (`claim`) and compute experiments of `names` until none is left; those that failed."""
    progress.count_bars()
    calls, failed = calls_of(module_name), []
    while (name := claim(Path(state), list(names), reader)) is not None:
        if not compute(Path(state), name, calls[name]):
            failed.append(name)
    return failed


def run(state: Path, module_name: str, names: list[str]) -> list[str]:
    """Both phases (see the module's docstring); the names of the experiments that failed."""
    module = importlib.import_module(module_name)
    calls = calls_of(module_name)
    together = [fn.experiment_name for fn in getattr(module, "SIDE_BY_SIDE", ())]
    first = [name for name in together if name in names]
    slots = [
        functools.partial(take_turns, str(state), module_name, tuple(first), slot == 0)  # the first follows the reader
        for slot in range(min(pool.workers(), len(first)))
    ]
    failed = [name for made in pool.side_by_side(slots) for name in made]
    rest = [name for name in calls if name in names and name not in first]
    if rest:
        (state / "quiet").touch()
    for name in order(rest, wishes(state)):
        deadline = time.monotonic() + QUIET_WAIT_S
        while (state / "busy").exists() and time.monotonic() < deadline:
            time.sleep(POLL_S)
        if not compute(state, name, calls[name]):
            failed.append(name)
    return failed


def _stop(signum, frame) -> None:
    raise Stopped("SIGTERM")


def _watch_parent(parent: int) -> None:
    """Stop (SIGTERM to this process) once the process that started it is gone, kill -9 included."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True, name="watch-parent").start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m snippets.site.runner", description=__doc__.split("\n\n")[0])
    parser.add_argument("state", type=Path, help="the serving process's folder for wishes, claims and progress")
    parser.add_argument("names", nargs="+", metavar="NAME", help="experiments to compute")
    parser.add_argument("--module", default="snippets.experiments", help="where ALL and SIDE_BY_SIDE are")
    args = parser.parse_args(argv)
    known = list(calls_of(args.module))
    unknown = [name for name in args.names if name not in known]
    if unknown:
        parser.error(f"unknown experiment {', '.join(map(repr, unknown))}; expected names from: {', '.join(known)}")
    (args.state / "claims").mkdir(parents=True, exist_ok=True)
    progress.count_bars()
    signal.signal(signal.SIGTERM, _stop)
    _watch_parent(os.getppid())
    try:
        failed = run(args.state, args.module, args.names)
    except KeyboardInterrupt as why:
        for each in (signal.SIGINT, signal.SIGTERM):  # the clean-up takes seconds: let it finish
            signal.signal(each, signal.SIG_IGN)
        pool.stop()
        _sweep()
        name = "SIGTERM" if isinstance(why, Stopped) else "SIGINT"
        print(f"stopped by {name}: the workers are ended; entries already written are kept", file=sys.stderr)
        return 128 + getattr(signal, name)
    except BrokenProcessPool as err:  # a worker killed (out of memory, kill -9): the others are ended
        _sweep()
        print(f"a worker process died ({err}); the serving process computes what is missing", file=sys.stderr)
        return 1
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _sweep() -> None:
    try:
        cache.sweep_temporaries()
    except OSError as err:
        print(f"could not look for temporary files in the cache: {err}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
