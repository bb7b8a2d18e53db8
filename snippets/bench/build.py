"""`python -m snippets.bench --build REF`: time the site's build against a reference commit.

Makes two fresh copies in a temporary folder: this working tree as it is (tracked files and
untracked ones git does not ignore, uncommitted edits included) and `REF` (a `git clone` checked
out at that commit). Then, in turns, for each copy: a *cold* strict build (no cache at all: every
experiment computed, every notebook executed) and right after it `warm_builds` *warm* ones
(everything loaded from the cache the cold build filled; a few seconds each, so several). Prints
each build's wall clock and the CPU time of its processes, then the medians and the ratios
REF / this tree.

Both copies run with this interpreter and `PYTHONPATH` set to the copy, so the reference needs
the same dependencies as the working tree (a commit older than a dependency the working tree
added still builds, as long as it does not need one the environment lacks). Builds in turns, so
that a busy spell of a shared machine hits both alike; the load average is printed before and after.
"""

from __future__ import annotations

import os
import pathlib
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def copy_tree(repo: pathlib.Path, dest: pathlib.Path) -> None:
    """The working tree of `repo` as it is now, without ignored files (caches, built sites)."""
    listed = subprocess.run(
        ["git", "-C", str(repo), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = repo / os.fsdecode(name)
        if source.is_file():  # a deleted but still tracked file is skipped
            target = dest / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def clone_at(repo: pathlib.Path, ref: str, dest: pathlib.Path) -> str:
    """A clone of `repo` checked out at `ref`; returns the commit's short hash."""
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(repo), str(dest)], check=True)
    subprocess.run(["git", "-C", str(dest), "checkout", "--quiet", ref], check=True)
    out = subprocess.run(["git", "-C", str(dest), "rev-parse", "--short", "HEAD"], check=True, capture_output=True)
    return out.stdout.decode().strip()


def build(tree: pathlib.Path, site: pathlib.Path, env: dict) -> tuple[float, float]:
    """One strict build of `tree`; (wall seconds, CPU seconds of the build and all its processes)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(site)],
        cwd=tree,
        env={**env, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise RuntimeError(f"the build of {tree} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(ref: str, turns: int, keep: bool, warm_builds: int = 3) -> None:
    repo = pathlib.Path(
        subprocess.run(["git", "rev-parse", "--show-toplevel"], check=True, capture_output=True).stdout.decode().strip()
    )
    root = pathlib.Path(tempfile.mkdtemp(prefix="snippets-bench-build-"))
    env = {k: v for k, v in os.environ.items() if k not in ("SNIPPETS_CACHE_DIR", "PYTHONPATH")}
    env.setdefault("NO_MKDOCS_2_WARNING", "1")
    try:
        trees = {"this tree": root / "tree", ref: root / "ref"}
        copy_tree(repo, trees["this tree"])
        commit = clone_at(repo, ref, trees[ref])
        print(f"this tree: {repo} (with uncommitted changes); reference: {ref} = {commit}; copies in {root}")
        print(f"load average at start: {load()}; {turns} turn(s), each a cold then {warm_builds} warm build(s) of both")
        times = {(name, kind): [] for name in trees for kind in ("cold", "warm")}
        for turn in range(turns):
            order = list(trees) if turn % 2 == 0 else list(trees)[::-1]
            for name in order:
                tree = trees[name]
                shutil.rmtree(tree / ".cache", ignore_errors=True)  # cold: no experiment, no notebook
                for kind in ("cold",) + ("warm",) * warm_builds:
                    wall, cpu = build(tree, root / f"site-{turn}", env)
                    times[(name, kind)].append((wall, cpu))
                    print(f"turn {turn + 1}, {name:>10}, {kind}: {wall:7.1f} s wall, {cpu:7.1f} s CPU", flush=True)
        print(f"load average at end: {load()}")
        print(
            f"\n{'':10} {'median wall':>12} {'median CPU':>11}   {'':10} {'median wall':>12} {'median CPU':>11}  ratio"
        )
        for kind in ("cold", "warm"):
            ours = [statistics.median(t[i] for t in times[("this tree", kind)]) for i in (0, 1)]
            theirs = [statistics.median(t[i] for t in times[(ref, kind)]) for i in (0, 1)]
            print(
                f"{kind + ', ' + ref:10.10} {theirs[0]:11.1f}s {theirs[1]:10.1f}s   {kind + ', ours':10} "
                f"{ours[0]:11.1f}s {ours[1]:10.1f}s  {theirs[0] / ours[0]:.2f}x faster"
            )
    finally:
        if keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
