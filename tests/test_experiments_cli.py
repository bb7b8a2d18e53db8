"""`python -m snippets.experiments`: list, run, clear; bad input starts nothing; Ctrl-C, SIGTERM and
kill -9 leave no worker running and no temporary file, and the next run computes what is missing."""

import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import pytest

from snippets import experiments
from snippets.experiments import cache
from snippets.experiments.__main__ import main

TOY = """
import os, pathlib, time
from snippets.experiments import pool
from snippets.experiments.cache import experiment

MARKS = pathlib.Path(os.environ["TOY_MARKS"])


def mark(what):
    (MARKS / f"{what}-{os.getpid()}").write_text("")


def nap(seconds):
    mark("nap")
    time.sleep(seconds)
    return seconds


@experiment("quick")
def quick(config={"n": 3}):
    mark("quick")
    return {"value": config["n"] * 2}


@experiment("sleepy")
def sleepy(config={"seconds": float(os.environ.get("TOY_NAP", "0"))}):
    mark("sleepy")
    return {"slept": pool.run_jobs(nap, [(config["seconds"],)])}


ALL = ((quick, None), (sleepy, None))
TOGETHER = (quick, sleepy)

if os.environ.get("TOY_STALL_WRITES"):  # a test hook: every entry stalls half written, in every process
    from snippets.experiments import cache

    real = cache.torch.save

    def stalled(obj, f):
        real(obj, f)
        mark("writing")
        time.sleep(600)  # STALL_S

    cache.torch.save = stalled
"""

CLI = """
import sys
sys.path.insert(0, {box!r})
import toy_cli
from snippets.experiments.__main__ import main
sys.exit(main(sys.argv[1:], toy_cli.ALL, toy_cli.TOGETHER))
"""


@pytest.fixture
def box(tmp_path, monkeypatch):
    """The toy experiments' module, a folder for their marks, a cache root; one worker (in-process)."""
    (tmp_path / "toy_cli.py").write_text(TOY)
    (tmp_path / "marks").mkdir()
    monkeypatch.setenv("TOY_MARKS", str(tmp_path / "marks"))
    monkeypatch.setenv("SNIPPETS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SNIPPETS_WORKERS", "1")
    for name in ("SNIPPETS_CACHE", "SNIPPETS_SEED_BASE", "TOY_NAP", "TOY_STALL_WRITES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("toy_cli", None)
    import toy_cli

    cache.clear_report()
    yield tmp_path, toy_cli
    cache.clear_report()


def marks(box, what: str) -> list[int]:
    return sorted(int(p.name.rpartition("-")[2]) for p in (box / "marks").glob(f"{what}-*"))


def cli(toy, *argv: str) -> int:
    return main(list(argv), toy.ALL, toy.TOGETHER)


# -- bad input starts nothing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, status, says",
    [
        (["--help"], 0, "{list,run,clear}"),
        (["run", "--help"], 0, "Experiments: quick, sleepy."),
        ([], 2, "the following arguments are required"),
        (["bogus"], 2, "invalid choice: 'bogus'"),
        (["--list"], 2, "usage: python -m snippets.experiments"),
        (["run", "--fast"], 2, "unrecognized arguments: --fast"),
        (["run", "quick", "nosuch"], 2, "unknown experiment 'nosuch'; expected names from: quick, sleepy"),
        (["clear", "nosuch"], 2, "unknown experiment 'nosuch'"),
        (["list", "quick"], 2, "unrecognized arguments: quick"),
    ],
)
def test_help_and_bad_input_start_nothing(box, capsys, argv, status, says):
    path, toy = box
    with pytest.raises(SystemExit) as stopped:
        cli(toy, *argv)
    out = capsys.readouterr()
    assert stopped.value.code == status
    assert says in (out.out if status == 0 else out.err)
    assert marks(path, "*") == [] and not (path / "cache").exists()


def test_the_real_command_line_starts_nothing_on_help_or_a_bad_name(tmp_path):
    env = {**os.environ, "SNIPPETS_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "snippets.experiments"]
    helped = subprocess.run([*command, "run", "--help"], env=env, capture_output=True, text=True, timeout=120)
    names = [fn.experiment_name for fn, _ in experiments.ALL]
    assert helped.returncode == 0 and all(name in helped.stdout for name in names)
    bad = subprocess.run([*command, "run", "recal"], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and f"unknown experiment 'recal'; expected names from: {', '.join(names)}" in bad.stderr
    assert not (tmp_path / "cache").exists()


def test_the_readme_names_every_subcommand(box, capsys):
    readme = (pathlib.Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"python -m snippets\.experiments (\w+)", readme))
    with pytest.raises(SystemExit):
        cli(box[1], "--help")
    offered = re.search(r"\{([a-z,]+)\}", capsys.readouterr().out).group(1).split(",")
    assert named == set(offered) == {"list", "run", "clear"}


# -- list, run, clear ------------------------------------------------------------------------------


def listed(capsys) -> dict[str, list[str]]:
    lines = capsys.readouterr().out.splitlines()
    return {line.split()[0]: line.split()[1:] for line in lines[2:]}


def test_list_run_and_clear(box, capsys, monkeypatch):
    path, toy = box
    assert cli(toy, "list") == 0
    assert listed(capsys) == {"quick": ["miss", "-"], "sleepy": ["miss", "-"]}
    assert not (path / "cache").exists()  # listing makes nothing

    assert cli(toy, "run", "quick") == 0
    assert capsys.readouterr().out.split()[:2] == ["quick", "miss"]
    assert marks(path, "quick") and not marks(path, "sleepy")  # only the one named
    (note,) = (path / "cache" / "experiments").glob("quick-*.json")
    cpu = json.loads(note.read_text())["cpu_seconds"]

    assert cli(toy, "list") == 0
    assert listed(capsys) == {"quick": ["hit", f"{cpu:.2f}"], "sleepy": ["miss", "-"]}
    assert cli(toy, "run") == 0  # none named: all
    assert [line.split()[:2] for line in capsys.readouterr().out.splitlines()[:2]] == [
        ["quick", "hit"],
        ["sleepy", "miss"],
    ]

    monkeypatch.setenv("SNIPPETS_SEED_BASE", "7")  # other seeds: a miss, with what the last run cost
    assert cli(toy, "list") == 0
    assert listed(capsys)["quick"][:2] == ["miss", f"{cpu:.2f}"]
    monkeypatch.delenv("SNIPPETS_SEED_BASE")

    (entry,) = (path / "cache" / "experiments").glob("quick-*.pt")
    entry.write_bytes(entry.read_bytes()[:100])  # truncated: its note still says it is whole
    with pytest.warns(RuntimeWarning, match="unreadable"):
        assert cli(toy, "list") == 0
    assert listed(capsys)["quick"][0] == "miss"

    foreign = [path / "cache" / "experiments" / name for name in ("quick-notakey.pt", "readme.txt")]
    for file in foreign:
        file.write_text("not the cache's")
    assert cli(toy, "clear", "quick") == 0
    assert "deleted 2 file(s)" in capsys.readouterr().out
    left = sorted(p.name for p in (path / "cache" / "experiments").iterdir())
    assert [name.split("-")[0] for name in left] == ["quick", "readme.txt", "sleepy", "sleepy"]
    assert all(file.exists() for file in foreign)
    assert cli(toy, "clear") == 0 and "deleted 2 file(s)" in capsys.readouterr().out
    assert sorted(p.name for p in (path / "cache" / "experiments").iterdir()) == ["quick-notakey.pt", "readme.txt"]


@pytest.mark.parametrize("command", ["list", "run", "clear"])
def test_a_cache_folder_that_is_someone_elses_is_a_clear_error_and_left_alone(box, capsys, monkeypatch, command):
    path, toy = box
    theirs = path / "theirs"
    (theirs / "experiments").mkdir(parents=True)
    (theirs / "experiments" / "quick-0123456789abcdef0123.pt").write_text("their file, named like an entry")
    monkeypatch.setenv("SNIPPETS_CACHE_DIR", str(theirs))
    assert cli(toy, command) == 2
    assert "expected SNIPPETS_CACHE_DIR=" in capsys.readouterr().err
    assert [p.name for p in theirs.rglob("*")] == ["experiments", "quick-0123456789abcdef0123.pt"]
    assert marks(path, "*") == []


def test_clear_without_a_cache_makes_nothing(box, capsys):
    path, toy = box
    assert cli(toy, "clear") == 0 and "deleted 0 file(s)" in capsys.readouterr().out
    assert not (path / "cache").exists()


# -- signals: the workers end within seconds, no temporary file is left -----------------------------


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie, ended but not yet reaped, does not)."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def all_gone(pids, seconds: float = 5.0) -> bool:
    """Whether every process of `pids` has ended, within `seconds`."""
    deadline = time.monotonic() + seconds
    while any(alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def descendants(pid: int) -> set[int]:
    """The processes below `pid` now (from /proc)."""
    parents = {}
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, todo = set(), [pid]
    while todo:
        pid = todo.pop()
        children = {child for child, parent in parents.items() if parent == pid}
        todo.extend(children - found)
        found |= children
    return found


def start(path, *argv, **env) -> subprocess.Popen:
    environ = {**os.environ, "SNIPPETS_WORKERS": "2", **env}
    script = CLI.format(box=str(path))
    return subprocess.Popen(
        [sys.executable, "-c", script, *argv],
        env=environ,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=ctrl_c_as_in_a_terminal,
    )


def ctrl_c_as_in_a_terminal() -> None:
    """In the child: SIGINT at its default, as a command typed in a terminal has it. A test run in
    the background of a shell inherits SIGINT ignored, and Python then never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for(condition, seconds: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# The stalls and naps outlast the wait for the command to end by far: a command that ends in time ended
# because of the signal. Generous, not tight: a busy shared machine takes seconds to end processes
# that have imported torch.
STALL_S = 600
ENDED_S = 60.0


def ended(process: subprocess.Popen, seconds: float = ENDED_S) -> tuple[int, str]:
    try:
        return process.wait(seconds), process.stderr.read()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM"])
def test_a_signal_mid_write_ends_the_workers_and_leaves_no_temporary_file(box, how):
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) or SIGTERM to the command
    alone, while both experiments are half written in the workers."""
    path, toy = box
    run = start(path, "run", TOY_STALL_WRITES="1")
    wait_for(lambda: len(marks(path, "writing")) == 2, 90, run)
    workers = descendants(run.pid)
    assert set(marks(path, "writing")) <= workers and len(list((path / "cache").rglob("*.tmp"))) == 2
    began = time.monotonic()
    if how == "SIGINT":
        os.killpg(run.pid, signal.SIGINT)
    else:
        run.send_signal(signal.SIGTERM)
    status, err = ended(run)
    assert status == 128 + getattr(signal, how) and f"stopped by {how}" in err, err
    print(f"ended {time.monotonic() - began:.1f} s after {how}")
    assert all_gone(workers)  # no orphan
    assert list((path / "cache").rglob("*.tmp")) == [] and list((path / "cache").rglob("*.pt")) == []
    assert cli(toy, "run") == 0  # the next run computes both
    assert len(marks(path, "quick")) == 2 and len(list((path / "cache").rglob("*.pt"))) == 2


def test_sigterm_while_the_workers_run_ends_them_within_seconds(box):
    path, _ = box
    run = start(path, "run", TOY_NAP=str(STALL_S))
    wait_for(lambda: marks(path, "nap") and list((path / "cache").rglob("quick-*.json")), 90, run)
    workers = descendants(run.pid)
    began = time.monotonic()
    run.send_signal(signal.SIGTERM)
    status, err = ended(run)
    assert status == 143, err
    print(f"ended {time.monotonic() - began:.1f} s after SIGTERM")
    assert all_gone(workers)
    assert list((path / "cache").rglob("*.tmp")) == []
    assert [p.name.split("-")[0] for p in (path / "cache" / "experiments").glob("*.pt")] == ["quick"]  # it finished


def test_a_worker_killed_mid_write_is_reported_and_the_next_run_recomputes_its_entry(box):
    path, toy = box
    run = start(path, "run", TOY_STALL_WRITES="1")
    wait_for(lambda: len(marks(path, "writing")) == 2, 90, run)
    workers = descendants(run.pid)
    victim = marks(path, "writing")[0]
    os.kill(victim, signal.SIGKILL)
    status, err = ended(run, 20)
    assert status == 1 and "a worker process died" in err, err
    assert all_gone(workers)
    assert list((path / "cache").rglob("*.pt")) == []  # nothing half written was put in place
    assert list((path / "cache").rglob("*.tmp")) == []  # the command deleted what the dead worker left
    assert cli(toy, "run") == 0
    assert len(marks(path, "quick")) == 2 and len(list((path / "cache").rglob("*.pt"))) == 2


def test_the_command_killed_mid_write_leaves_a_temporary_that_the_next_run_deletes(box):
    path, toy = box
    run = start(path, "run", "quick", TOY_STALL_WRITES="1")  # one experiment: written by the command itself
    wait_for(lambda: marks(path, "writing") == [run.pid], 90, run)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait(10)
    (left,) = (path / "cache").rglob("*.tmp")
    assert f"-{run.pid}." in left.name
    assert cli(toy, "run", "quick") == 0
    assert not left.exists() and len(marks(path, "quick")) == 2
    assert len(list((path / "cache").rglob("quick-*.pt"))) == 1
