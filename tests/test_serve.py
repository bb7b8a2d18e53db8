"""`mkdocs serve` shows every page at once and fills it in as its experiments land; builds never show a placeholder.

A tiny site (the real mkdocs.yml, hooks and macros, pages of its own) whose experiments come from a
module of the test's own (`extra.experiments_module`), with facts and claims from a package of its
own (`extra.claims_package`). One experiment, on the home page, trains through a tqdm loop and then
waits for a file the test writes, so the test sees its placeholder and its progress, edits the page
while it runs, and then sees the page fill in by itself.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup
from test_build_fails import tiny_site

from snippets.site import placeholders

pytestmark = pytest.mark.site  # needs the site extra (mkdocs and its plugins): see tests/conftest.py

EXPERIMENTS = '''import pathlib
import time

from tqdm import tqdm

from snippets.experiments.cache import experiment

RELEASE = pathlib.Path(__file__).parent / "release"


@experiment("held")
def held(config={"steps": 10}):
    """Two steps of 0.6 s (so that its progress file is written), then wait for the test's file."""
    for step in tqdm(range(config["steps"]), disable=None):
        if step < 2:
            time.sleep(0.6)
        while step == 2 and not RELEASE.exists():
            time.sleep(0.05)
    return {"value": 42}


@experiment("zeta_exp")
def zeta_exp(config={"n": 1}):
    return {"value": 7}


@experiment("alpha_exp")
def alpha_exp(config={"n": 2}):
    return {"value": 9}


ALL = ((held, None), (zeta_exp, None), (alpha_exp, None))
SIDE_BY_SIDE = (alpha_exp, zeta_exp, held)  # the order the runner falls back to: not the reading order
'''

FIGURES = '''from snippets.figures import Claim


def facts():
    from tiny_experiments import held

    value = held()["value"]
    return {"value": str(value), "large": value > 40}


def holds():
    """The held experiment's value is 42."""
    from tiny_experiments import held

    return Claim(held()["value"] == 42, f"value {held()['value']}")


def zeta():
    from tiny_experiments import zeta_exp

    return {"value": str(zeta_exp()["value"])}


def alpha():
    from tiny_experiments import alpha_exp

    return {"value": str(alpha_exp()["value"])}
'''

HOME = """# Home

```python exec="true"
from tiny_experiments import held

print(f"block result: {held()['value']}")
```

{% set f = facts("tiny.facts") %}
The value is {{ f.value }}, and in math \\(v = {{ f.value }}\\).{{ claim("tiny.holds") }}
{% if f.large %}LARGE-BRANCH{% else %}SMALL-BRANCH{% endif %}
"""

PAGES = {
    "index.md": HOME,
    "zeta.md": '# Zeta\n\n{% set z = facts("tiny.zeta") %}Zeta is {{ z.value }}.\n',
    "alpha.md": '# Alpha\n\n{% set a = facts("tiny.alpha") %}Alpha is {{ a.value }}.\n',
}


def site(tmp_path: Path) -> tuple[Path, dict]:
    """The tiny site (nav: home, zeta, alpha; not the files' alphabetical order) and its environment."""
    (tmp_path / "tiny_experiments.py").write_text(EXPERIMENTS, encoding="utf-8")
    package = tmp_path / "tinyfigs"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "tiny.py").write_text(FIGURES, encoding="utf-8")
    config = tiny_site(tmp_path / "project", PAGES)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["extra"] = {"claims_package": "tinyfigs", "experiments_module": "tiny_experiments"}
    data["nav"] = ["index.md", "zeta.md", "alpha.md"]
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    env = {
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
        "SNIPPETS_CACHE_DIR": str(tmp_path / "cache"),
        "SNIPPETS_WORKERS": "1",
        "NO_MKDOCS_2_WARNING": "1",
    }
    return config, env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, server: subprocess.Popen) -> str | None:
    if server.poll() is not None:
        raise AssertionError(f"mkdocs serve exited ({server.returncode}): {server.stderr.read()[-3000:]}")
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()
    except OSError:
        return None


def wait_for(what: str, check, timeout: float = 90.0):
    """`check()`'s first truthy value, polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def article(page_html: str):
    return BeautifulSoup(page_html, "html.parser").select_one("article")


def page_with(text: str, url: str, server: subprocess.Popen):
    """A check for `wait_for`: the article of `url` once it holds `text`."""

    def check():
        found = fetch(url, server)
        return article(found) if found and text in found else None

    return check


@pytest.mark.parametrize("dirty", [False, True], ids=["serve", "serve --dirty"])
def test_serve_shows_placeholders_then_fills_in_by_itself_in_reading_order(tmp_path, dirty):
    config, env = site(tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}/explained/"
    command = [str(Path(sys.executable).with_name("mkdocs")), "serve", "-f", str(config), "-a", f"127.0.0.1:{port}"]
    server = subprocess.Popen(
        command + (["--dirty"] if dirty else []),
        cwd=config.parent,
        env={**os.environ, **env, "PYTHONFAULTHANDLER": "1"},  # SIGABRT prints every thread's stack
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # SIGINT at its default, as in a terminal: a test run in a shell's background inherits it
        # ignored, and then Ctrl-C (below) would never reach mkdocs serve.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    state = tmp_path / "cache" / "serve" / str(server.pid)
    try:
        # Every page answers at once, the held experiment's parts as placeholders showing no data.
        home = wait_for("the home page", page_with("Home", base, server))
        assert "block result" not in home.get_text() and "42" not in home.get_text(), "a placeholder shows data"
        for path in ("zeta/", "alpha/"):
            assert "…pending" in wait_for(path, page_with("is", base + path, server)).get_text()
        # Edited while the experiment runs (at its third step of ten): the rebuild shows its progress.
        status = state / "status" / "held.json"
        wait_for("the held experiment's progress", lambda: status.is_file() and '"step": 2' in status.read_text())
        progress_url = base + "_snippets/progress.json"  # what the placeholders' script reads every 2 s
        live = r'"held": "computing for \d+ s, training loop 1: step 2 of 10"'
        wait_for("live progress", lambda: re.search(live, fetch(progress_url, server) or ""))
        docs = config.parent / "docs" / "index.md"
        docs.write_text(docs.read_text(encoding="utf-8") + "\nEdited while it runs.\n", encoding="utf-8")
        home = wait_for("the edit", page_with("Edited while it runs", base, server))
        block = home.select_one("div.snippets-pending")
        assert block["data-pending-experiment"] == "held"
        progress = r"Waiting for the experiment held: computing for \d+ s, training loop 1: step 2 of 10"
        assert re.search(progress, block.get_text()), block.get_text()
        assert '"/explained/_snippets/progress.json"' in str(home.find_parent("html").select("script"))
        claim = home.select_one(".claim-mark")
        assert (
            "claim-pending" in claim["class"] and claim.get_text().startswith("pending") and "✓" not in home.get_text()
        )
        values = home.select(".snippets-pending-value")
        assert len(values) == 2 and all(v.get_text() == "…pending" for v in values), "the fact and the {% if %} on it"
        assert "LARGE-BRANCH" not in home.get_text() and "SMALL-BRANCH" not in home.get_text()
        math = home.select_one(".arithmatex")
        assert math["data-pending-experiment"] == "held" and math.find("mtext").get_text() == "…"
        # Released: every page fills in by itself, with no placeholder left.
        (tmp_path / "release").touch()
        home = wait_for("the result", page_with("block result: 42", base, server))
        assert "The value is 42" in home.get_text() and "LARGE-BRANCH" in home.get_text()
        assert home.select_one(".claim-checked") is not None and not placeholders.found(str(home))
        assert "Zeta is 7." in wait_for("zeta", page_with("Zeta is", base + "zeta/", server)).get_text()
        assert "Alpha is 9." in wait_for("alpha", page_with("Alpha is", base + "alpha/", server)).get_text()
        # The runner took them in reading order (home, zeta, alpha), not in its fallback order.
        log = (state / "runner.log").read_text(encoding="utf-8")
        assert re.findall(r"^(\w+) done", log, re.MULTILINE) == ["held", "zeta_exp", "alpha_exp"], log
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C
        stderr = stopped(server)
    assert not state.exists(), "mkdocs serve left its runner's folder behind"
    assert "the site is complete" in stderr, stderr[-3000:]


def stopped(server: subprocess.Popen, seconds: float = 60.0) -> str:
    """The stderr of `server` once it has ended after Ctrl-C; if it has not within `seconds`, a
    failure showing where each of its threads stood (faulthandler's dump on SIGABRT)."""
    try:
        return server.communicate(timeout=seconds)[1]
    except subprocess.TimeoutExpired:
        server.send_signal(signal.SIGABRT)
        stderr = server.communicate(timeout=30)[1]
        pytest.fail(f"mkdocs serve did not end within {seconds:.0f} s of Ctrl-C; where it stood:\n{stderr[-8000:]}")


LEFT_OVER = """# Left over

```python exec="true" html="true"
from snippets.site import placeholders

print(placeholders.block("held", "queued"))
```
"""


@pytest.mark.parametrize("strict", [True, False], ids=["--strict", "plain"])
def test_a_placeholder_left_in_a_built_page_fails_the_build(tmp_path, mkdocs_build, strict):
    config = tiny_site(tmp_path, {"index.md": LEFT_OVER})
    result = mkdocs_build(config, tmp_path / "site", strict_flag=strict)
    assert result.returncode != 0, "a built site holds a placeholder"
    assert "page 'index.md' holds placeholders for held" in result.stderr, result.stderr[-3000:]


def test_a_build_waits_for_every_experiment_and_shows_no_placeholder(tmp_path, mkdocs_build):
    config, env = site(tmp_path)
    (tmp_path / "release").touch()  # the held experiment runs straight through
    result = mkdocs_build(config, tmp_path / "site", strict_flag=True, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    home = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "block result: 42" in home and "claim-checked" in home and not placeholders.found(home)
    assert not (tmp_path / "cache" / "serve").exists(), "a build started a background runner"
