"""`python -m snippets.experiments`: list, run or clear the cached experiments the site shows.

    python -m snippets.experiments list              each experiment: hit or miss, CPU seconds
    python -m snippets.experiments run [NAME ...]    compute (or load) those; none: all of them
    python -m snippets.experiments clear [NAME ...]  delete their cache entries; none: all of them

The cache is `$SNIPPETS_CACHE_DIR` (default `.cache/snippets` here); a hit is an entry of this
code, seed base (`SNIPPETS_SEED_BASE`) and machine. Ctrl-C or SIGTERM during `run` ends the worker
processes within seconds; entries already written are kept, a half-written one never is.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from concurrent.futures.process import BrokenProcessPool

from snippets.experiments import cache, pool


def parser(names: list[str]) -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m snippets.experiments",
        description="List, run or clear the cached experiments the site shows.",
        epilog=f"Experiments: {', '.join(names)}.",
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="{list,run,clear}")
    commands.add_parser("list", help="each experiment: hit or miss in the cache, and its CPU seconds")
    for command, what in (("run", "compute (or load) these experiments"), ("clear", "delete their cache entries")):
        sub = commands.add_parser(command, help=f"{what}; none named: all")
        sub.add_argument("names", nargs="*", metavar="NAME", help="an experiment's name (see the list below)")
        sub.epilog = f"Experiments: {', '.join(names)}."
    return top


def main(argv: list[str] | None = None, experiments=None, together=None) -> int:
    """Run the command line `argv`; the exit status. `experiments` ((fn, config) pairs, default the
    site's `ALL`) and `together` (default `SIDE_BY_SIDE`) let tests run small experiments of their own."""
    if experiments is None:
        from snippets import experiments as site

        experiments, together = site.ALL, site.SIDE_BY_SIDE
    experiments, together = list(experiments), tuple(together or ())
    names = [fn.experiment_name for fn, _ in experiments]
    args = parser(names).parse_args(argv)
    chosen = _chosen(parser(names), experiments, names, getattr(args, "names", []))
    command = {"list": _list, "clear": _clear, "run": lambda calls: _run(calls, together)}[args.command]
    try:
        return command(chosen)
    except cache.CacheRootError as err:  # someone else's folder: touch nothing, say which
        print(f"error: {err}", file=sys.stderr)
        return 2


def _chosen(top: argparse.ArgumentParser, experiments: list, names: list[str], asked: list[str]) -> list:
    unknown = [name for name in asked if name not in names]
    if unknown:  # argparse's own `choices` would print every name at each bad one; say it once
        top.error(f"unknown experiment {', '.join(map(repr, unknown))}; expected names from: {', '.join(names)}")
    return [call for call in experiments if not asked or call[0].experiment_name in asked]


def _list(chosen: list) -> int:
    print(f"cache: {cache.root_path()}")
    print(f"{'experiment':<24}{'cache':<7}{'CPU seconds':>12}")
    for fn, config in chosen:
        found = cache.status(fn, config)
        if found["hit"]:
            cost = f"{found['cpu_seconds']:12.2f}"
        elif found["last_cpu_seconds"] is not None:
            cost = f"{found['last_cpu_seconds']:12.2f}  (last run, of other code, seeds or machine)"
        else:
            cost = f"{'-':>12}"
        print(f"{found['name']:<24}{'hit' if found['hit'] else 'miss':<7}{cost}")
    return 0


def _clear(chosen: list) -> int:
    removed = cache.clear(fn.experiment_name for fn, _ in chosen)
    print(f"deleted {len(removed)} file(s) from {cache.root_path() / 'experiments'}")
    return 0


class Stopped(KeyboardInterrupt):
    """SIGTERM, raised as Ctrl-C is, so that the run unwinds the same way (and no `except Exception`
    on the way mistakes it for an error)."""


def _stop(signum, frame) -> None:
    raise Stopped("SIGTERM")


def _run(chosen: list, together: tuple) -> int:
    previous = signal.signal(signal.SIGTERM, _stop)
    began, start = time.perf_counter(), len(cache.report())
    try:
        cache.run_experiments(chosen, together)
    except KeyboardInterrupt as why:
        for each in (signal.SIGINT, signal.SIGTERM):  # the clean-up takes seconds: let it finish
            signal.signal(each, signal.SIG_IGN)
        pool.stop()  # already done if it came while waiting for the workers
        _sweep()
        name = "SIGTERM" if isinstance(why, Stopped) else "SIGINT"
        print(f"stopped by {name}: the workers are ended; entries already written are kept", file=sys.stderr)
        return 128 + getattr(signal, name)
    except BrokenProcessPool as err:  # a worker killed (kill -9, out of memory): the others are ended
        _sweep()
        print(f"a worker process died ({err}); run again to compute what is missing", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    for record in cache.report()[start:]:
        state = "hit " if record["hit"] else "miss"
        print(f"{record['name']:<24}{state} {record['seconds']:8.2f} s   CPU {record['cpu_seconds']:8.2f} s")
    print(f"total {time.perf_counter() - began:.1f} s (wall clock)")
    return 0


def _sweep() -> None:
    """Delete what the ended workers were writing (their temporary files), in a root that exists."""
    try:
        cache.sweep_temporaries()
    except OSError as err:
        print(f"could not look for temporary files in the cache: {err}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
