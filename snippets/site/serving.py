"""`mkdocs serve` shows every page at once; the experiments the cache lacks are computed behind it.

`mkdocs build` waits for every experiment; `mkdocs serve` does not (DESIGN.md: "Serving and building
differ on purpose"). Its first build starts a runner process (`python -m snippets.site.runner`) for
the experiments of the site that the cache lacks, and defers their keys (`cache.defer`): a page that
asks for one gets `cache.Pending` and shows a placeholder naming the experiment and its progress
(`snippets.site.placeholders`) instead of computing it a second time. The pages render in reading
order (the nav's) and say which experiments they wait for (`STATE/wishes.json`), so the runner's
first worker takes the home page's first, then the next page's (`snippets.site.runner`).

Each experiment that lands brings a rebuild, and livereload reloads the open page: a thread here
touches a file that `mkdocs serve` watches (`watch`). Rebuilds are spaced so that they cost at most
a tenth of one core while experiments run: after a rebuild that took c CPU seconds the next starts
no sooner than 9c seconds after it (`Rebuilds`; the first build, which shows the site, is not a
rebuild), and none starts while the runner times something (its second phase, `STATE/quiet`), nor does a
notebook; the runner starts each timing only while this process neither builds nor runs a
notebook (`STATE/busy`). Once the runner has
ended, the last rebuild starts at once with nothing deferred: that build is the one `mkdocs build`
makes (an experiment the runner could not compute is then computed, or fails, in it, as in a build).

A notebook that reads a pending experiment shows a placeholder too; once its experiments are in, it
executes in the background (one at a time, as `snippets.site.notebook_cache.prefetch` runs them)
and its page shows a placeholder until it is done, which brings a rebuild as an experiment does.

STATE is `serve/PID/` under the cache root, this process's: wishes, claims, progress
(`snippets.site.progress`), the runner's log, the file watched. It is deleted on shutdown, and a
later `mkdocs serve` deletes those of processes since gone. `mkdocs serve --dirty` works too: a page
whose placeholders' experiments have landed is marked changed (its output's time set to 0).
"""

from __future__ import annotations

import ast
import importlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from snippets.experiments import cache
from snippets.site import progress

log = logging.getLogger("mkdocs.plugins.snippets.serve")

SPACING = 9.0  # a rebuild of c CPU seconds is followed by at least SPACING * c seconds without one
POLL_S = 0.5
PROGRESS = "_snippets/progress.json"  # in the served site: what the placeholders' script reads
STOP_WAIT_S = 15.0  # how long the runner gets to end its workers after SIGTERM


class Rebuilds:
    """When the next automatic rebuild may start: once `SPACING` times the CPU seconds of the last
    build have passed since it ended, so that rebuilds take at most a tenth of one core while the
    experiments run. CPU seconds of this process, not the wall clock: a rebuild's wall clock grows
    with the experiments and notebooks it shares the cores with, not with its own work. The first
    build (the site itself, which a build makes too) is not a rebuild: the first rebuild may follow it
    at once."""

    def __init__(self):
        self.builds, self.began, self.ended, self.cost = 0, (0.0, 0.0), 0.0, 0.0
        self.rebuild_seconds = self.rebuild_cpu = 0.0  # all rebuilds together (wall clock, CPU), for the log

    def started(self, now: float, cpu: float) -> None:
        self.began = (now, cpu)

    def finished(self, now: float, cpu: float) -> None:
        self.builds += 1
        self.ended, self.cost = now, cpu - self.began[1]
        if self.builds > 1:
            self.rebuild_seconds += now - self.began[0]
            self.rebuild_cpu += self.cost

    def allows(self, now: float) -> bool:
        return self.builds <= 1 or now >= self.ended + SPACING * self.cost


def nav_paths(nav) -> list[str]:
    """The pages of a `nav:` setting (nested lists and {title: page} items), in reading order."""
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, dict):
        return [path for item in nav.values() for path in nav_paths(item)]
    if isinstance(nav, list):
        return [path for item in nav for path in nav_paths(item)]
    return []


def reading_order(files, nav) -> None:
    """Put the pages of `files` (MkDocs' `Files`, in place) in the order of `nav`, the others after:
    MkDocs renders pages in this order, so the pages say what they wait for in reading order."""
    rank = {path: index for index, path in enumerate(nav_paths(nav))}
    pages = sorted(files.documentation_pages(), key=lambda file: rank.get(file.src_uri, len(rank)))
    for file in pages:
        files.remove(file)
        files.append(file)


def experiments_read(notebook: Path, names) -> list[str]:
    """The experiments of `names` whose name a code cell of `notebook` uses (a call such as
    `experiments.adding_problem()`, or an import of it), in order of first use."""
    found = []
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        code = "\n".join(
            line for line in "".join(cell["source"]).splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        for node in ast.walk(ast.parse(code)):
            used = [node.id] if isinstance(node, ast.Name) else [node.attr] if isinstance(node, ast.Attribute) else []
            used += [alias.name for alias in getattr(node, "names", [])] if isinstance(node, ast.ImportFrom) else []
            found += [name for name in used if name in names and name not in found]
    return found


def describe(status: dict | None, done: int, total: int, running: bool, now: float) -> str:
    """What a placeholder says of its experiment's progress, from its status (`snippets.site.progress`)."""
    if status is None:
        if not running:
            return "the background run has stopped; the next rebuild computes it"
        return f"queued, {done} of {total} experiments finished so far"
    if status["state"] == "done":
        return "finished; this page shows it after the next rebuild"
    if status["state"] == "failed":
        return f"failed in the background ({status.get('error', 'no reason given')}); the next rebuild computes it"
    text = f"computing for {now - status['started']:.0f} s"
    loops, step, steps = status.get("loops", 0), status.get("step", 0), status.get("steps")
    if steps:
        text += f", training loop {loops + 1}: step {step:,} of {steps:,}"
    elif loops:
        text += f", {loops} training loop{'s' if loops != 1 else ''} done"
    return text


class Background:
    """The runner process of this `mkdocs serve`, and what it reports."""

    def __init__(self, state: Path, names: list[str], keys: set[str], process: subprocess.Popen):
        self.state, self.names, self.keys, self.process = state, names, keys, process

    @classmethod
    def start(cls, module_name: str) -> Background | None:
        """Start the runner for the experiments of `module_name.ALL` that the cache lacks; None if none."""
        if not cache.enabled():
            return None
        module = importlib.import_module(module_name)
        missing = [cache.status(fn, config) for fn, config in module.ALL]
        missing = [found for found in missing if not found["hit"]]
        if not missing:
            return None
        state = _state_folder()
        (state / "trigger").mkdir(parents=True, exist_ok=True)
        names = [found["name"] for found in missing]
        command = [sys.executable, "-m", "snippets.site.runner", str(state), *names, "--module", module_name]
        with open(state / "runner.log", "ab") as output:  # the runner's own lines; the serving log says what lands
            process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        log.info(f"computing {len(names)} experiments in the background (process {process.pid}): {', '.join(names)}")
        return cls(state, names, {found["key"] for found in missing}, process)

    def running(self) -> bool:
        return self.process.poll() is None

    def statuses(self) -> dict[str, dict]:
        return progress.read(self.state)

    def landed(self) -> set[str]:
        return {name for name, status in self.statuses().items() if status.get("state") == "done"}

    def quiet(self) -> bool:
        """Whether the runner times something now (its second phase): no rebuild of ours meanwhile."""
        return (self.state / "quiet").exists() and self.running()

    def describe(self, name: str) -> str:
        statuses = self.statuses()
        done = sum(status.get("state") == "done" for status in statuses.values())
        if name == "*":  # every experiment (`placeholders.EVERY`)
            return f"{done} of the {len(self.names)} computed in the background have finished"
        return describe(statuses.get(name), done, len(self.names), self.running(), time.time())

    def stop(self) -> None:
        """End the runner (it ends its workers), then delete STATE."""
        if self.running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.state, ignore_errors=True)


def _state_folder() -> Path:
    """`serve/PID` under the cache root, new; those of `mkdocs serve` processes since gone are deleted."""
    parent = cache.folder("serve")
    parent.mkdir(exist_ok=True)
    for other in parent.iterdir():
        if other.name.isdigit() and int(other.name) != os.getpid() and not _alive(int(other.name)):
            shutil.rmtree(other, ignore_errors=True)
    state = parent / str(os.getpid())
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir()
    return state


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's: alive
        pass
    return True


class Serving:
    """The state of one `mkdocs serve` process across its builds (see the module's docstring)."""

    def __init__(self):
        self.command = "build"
        self.started = time.monotonic()
        self.background: Background | None = None
        self.first = True  # no build has begun yet
        self.pending = False  # whether the build under way renders placeholders
        self.rebuilds = Rebuilds()
        self.lock = threading.Lock()
        self.building = False
        self.requested = False  # a rebuild was asked for and has not begun
        self.final_requested = False
        self.complete_logged = False
        self.landed_at_start: set[str] = set()
        self.wished: list[str] = []
        self.waiting_pages: dict[str, set[str]] = {}  # built page's file -> experiments it waited for
        self.sessions: dict[str, str] = {}  # markdown-exec session -> the experiment it waits for
        self.notebooks: dict[str, Future] = {}  # notebook page -> its background run
        self.notebook_runner = ThreadPoolExecutor(1, thread_name_prefix="serve-notebooks")
        self.stopping = threading.Event()
        self.trigger_count = 0
        self.site_dir: str | None = None  # where `mkdocs serve` writes the site (a temporary folder)

    def startup(self, command: str) -> None:
        """`mkdocs serve`: SIGTERM ends it as Ctrl-C does, through its shutdown, which ends the runner."""
        self.command = command
        if command == "serve" and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _interrupt)

    # -- builds --------------------------------------------------------------------------------------

    def progress_url(self, site_url: str) -> str:
        """Where a page finds `_publish_progress`'s file: the served site's path, then `PROGRESS`."""
        return urlsplit(site_url or "/").path.rstrip("/") + "/" + PROGRESS

    def prepare(self, module_name: str | None) -> bool:
        """Called as each build loads its configuration; the first of `mkdocs serve` starts the
        runner for the experiments of `module_name` (None: a site that runs none) that the cache
        lacks. Whether the runner is at work (this build will likely render placeholders)."""
        with self.lock:
            if self.command == "serve" and self.first and module_name is not None:
                self.background = Background.start(module_name)
            self.first = False
            return self.background is not None and self.background.running()

    def begin_build(self, dirty: bool) -> bool:
        """Called before each build: whether this one renders placeholders for deferred experiments
        (else the build runs every experiment itself, as `mkdocs build` does)."""
        with self.lock:
            self.building, self.requested = True, False
            self.rebuilds.started(time.monotonic(), time.process_time())
            background = self.background
            if background is None or not background.running():
                self.final_requested = True
                self.pending = False
                cache.defer(())
                if dirty:  # every page with a placeholder is rendered again, now with its results
                    self._mark_changed(None)
                return False
            self._busy()
            self.landed_at_start = background.landed() | self.notebooks_done()
            self.pending, self.sessions = True, {}
            cache.defer(background.keys)
            if dirty:
                self._mark_changed(self.landed_at_start)
            return True

    def end_build(self, failed: bool = False) -> None:
        """Called after each build (`failed`: it stopped on an error)."""
        with self.lock:
            cache.defer(())
            self.building = False
            self.rebuilds.finished(time.monotonic(), time.process_time())
            if self.background is not None:
                self._busy()
                if not self.pending and not failed and not self.complete_logged:
                    self.complete_logged = True
                    log.info(
                        f"the site is complete, {time.monotonic() - self.started:.0f} s after mkdocs serve started; "
                        f"{self.rebuilds.builds - 1} rebuilds took {self.rebuilds.rebuild_seconds:.0f} s of it "
                        f"({self.rebuilds.rebuild_cpu:.0f} CPU seconds)"
                    )
            self.pending = False

    def _busy(self) -> None:
        """`STATE/busy` while this process builds or runs a notebook: the runner times nothing then."""
        busy = self.background.state / "busy"
        try:
            if self.building or any(not future.done() for future in self.notebooks.values()):
                busy.touch()
            else:
                busy.unlink(missing_ok=True)
        except OSError:  # STATE deleted: shutting down
            pass

    def _mark_changed(self, landed: set[str] | None) -> None:
        """`--dirty`: pages that waited for what has `landed` (None: for anything) count as changed,
        their output's time set to 0, so that MkDocs renders them again."""
        for dest, names in list(self.waiting_pages.items()):
            if landed is None or names & landed:
                try:
                    os.utime(dest, (0, 0))
                except OSError:
                    pass

    def page_built(self, dest: str, waits: list[str]) -> None:
        """A page was written to `dest` with placeholders for `waits` (for `--dirty`)."""
        if waits:
            self.waiting_pages[dest] = set(waits)
        else:
            self.waiting_pages.pop(dest, None)

    # -- what pages wait for ---------------------------------------------------------------------------

    def wait_for(self, name: str) -> None:
        """A page (in reading order) waits for experiment `name`: the runner should take it early."""
        if self.background is None or name in self.wished:
            return
        self.wished.append(name)
        text = json.dumps({"names": self.wished}).encode()
        cache.store(self.background.state / "wishes.json", lambda f: f.write(text))

    def page_rendered(self) -> None:
        """After each page of a pending build: the runner waits for the first list, even an empty one."""
        if self.background is not None and not (self.background.state / "wishes.json").exists():
            text = json.dumps({"names": self.wished}).encode()
            cache.store(self.background.state / "wishes.json", lambda f: f.write(text))

    def describe(self, name: str) -> str:
        return self.background.describe(name) if self.background is not None else "not computed yet"

    # -- notebooks -------------------------------------------------------------------------------------

    def notebooks_done(self) -> set[str]:
        return {uri for uri, future in self.notebooks.items() if future.done()}

    def plan_notebooks(self, plugin, pages: list, config, files, names) -> tuple[list, dict]:
        """In a pending build: which notebook `pages` to render as usual, and the placeholder text of
        the others ({page: (text, name, kind)}), starting in the background those that can run."""
        landed = self.background.landed() if self.background is not None else set()
        usual, waiting = [], {}
        for page in pages:
            uri, future = page.file.src_uri, self.notebooks.get(page.file.src_uri)
            waits = [name for name in experiments_read(Path(page.file.abs_src_path), names) if name not in landed]
            if _executed(plugin, page) or (future is not None and future.done() and future.exception()):
                usual.append(page)  # read from the cache, or run again here so that its error shows
            elif waits:
                progress = self.describe(waits[0])
                text = f"This notebook runs once the experiment {waits[0]} it reads has finished ({progress})."
                waiting[uri] = (text, waits[0], "experiment")
            elif future is None and self.background is not None and self.background.quiet():
                text = "This notebook runs once the experiments that time this machine have finished."
                waiting[uri] = (text, uri, "notebook")
            else:
                if future is None:  # one at a time, in one thread (a kernel each): as a build runs them
                    plugin.on_pre_page(page, config, files)  # the render that executes it and fills the cache
                    self.notebooks[uri] = self.notebook_runner.submit(page.render, config, files)
                waiting[uri] = ("This notebook is executing in the background.", uri, "notebook")
        return usual, waiting

    # -- rebuilds --------------------------------------------------------------------------------------

    def watch(self, server) -> None:
        """Have `server` (MkDocs' livereload) rebuild when this process touches STATE/trigger."""
        if self.background is None:
            return
        server.watch(str(self.background.state / "trigger"))
        threading.Thread(target=self._watch, daemon=True, name="serve-experiments").start()

    def _watch(self) -> None:
        while not self.stopping.wait(POLL_S):
            with self.lock:
                self._busy()
                self._publish_progress()
                if self.building or self.requested or self.final_requested:
                    continue
                background, now = self.background, time.monotonic()
                if not background.running():
                    self.final_requested = True
                    self._trigger("the background experiments have ended")
                    continue
                new = (background.landed() | self.notebooks_done()) - self.landed_at_start
                if new and self.rebuilds.allows(now) and not background.quiet():
                    self._trigger(f"ready: {', '.join(sorted(new))}")

    def _publish_progress(self) -> None:
        """Write {experiment: progress} where the pages' `placeholders.live_progress` script reads it."""
        if self.site_dir is None or not self.background.running():
            return
        progress = {name: self.background.describe(name) for name in [*self.background.names, "*"]}
        try:
            path = Path(self.site_dir) / PROGRESS
            path.parent.mkdir(parents=True, exist_ok=True)
            cache.write_atomic(path, lambda f: f.write(json.dumps(progress).encode()))
        except OSError:  # the site folder being cleaned for a build: next time
            pass

    def _trigger(self, why: str) -> None:
        self.requested = True
        self.trigger_count += 1
        log.info(f"{why}; rebuilding")
        (self.background.state / "trigger" / "landed").write_text(str(self.trigger_count), encoding="utf-8")

    def shutdown(self) -> None:
        self.stopping.set()
        if self.background is not None:
            self.background.stop()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _executed(plugin, page) -> bool:
    """Whether mkdocs-jupyter has this notebook's executed page in its cache (its own key)."""
    from mkdocs_jupyter.plugin import _compute_cache_key, _get_cache_path

    key = _compute_cache_key(page.file.abs_src_path, plugin.config, plugin.config["execute"])
    return _get_cache_path(plugin.config["cache_dir"], key).exists()


SERVING = Serving()
