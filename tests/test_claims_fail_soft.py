"""A claim that does not hold marks its page and fails only `mkdocs build --strict`.

A tiny site whose mkdocs.yml is the real one (hooks, macros) with one page of two claims, looked up
in a module of the test's own (`extra.claims_package`): one holds, one does not. A plain build and
`mkdocs serve` give the reader the whole page, with the failed claim marked ✗ beside its evidence
and named in the log; the strict build fails, naming page, claim, statement and numbers.
"""

import os
import re
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

pytestmark = pytest.mark.site  # needs the site extra (mkdocs and its plugins): see tests/conftest.py

PAGE = """# Two claims

The model keeps its state. {{ claim("units.hold") }}

Some unit keeps z above 0.9. {{ claim("units.cross") }}

The rest of the page still renders.
"""

CLAIMS = '''from snippets.figures import Claim


def hold():
    """The model keeps its state."""
    return Claim(True, "state moved by 0.01")


def cross():
    """At least one unit keeps z above 0.9 at every step."""
    return Claim(False, "0 units with z > 0.9; best 0.886")
'''

STATEMENT = "At least one unit keeps z above 0.9 at every step."
EVIDENCE = "0 units with z > 0.9; best 0.886"


def site(tmp_path: Path) -> tuple[Path, dict]:
    package = tmp_path / "fake_claims"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "units.py").write_text(CLAIMS, encoding="utf-8")
    config = tiny_site(tmp_path / "project", {"index.md": PAGE})
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["extra"]["claims_package"] = "fake_claims"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return config, {"PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}


def assert_marked(html: str) -> None:
    article = BeautifulSoup(html, "html.parser").select_one("article")
    checked, failed = article.select(".claim-checked"), article.select(".claim-failed")
    assert len(checked) == 1 and "state moved by 0.01" in checked[0].get_text()
    assert len(failed) == 1, "the claim that does not hold is not marked on its page"
    assert failed[0].get_text().startswith("✗") and EVIDENCE in failed[0].get_text()
    assert "The rest of the page still renders." in article.get_text()


def assert_named(log: str) -> None:
    for text in ("page 'index.md'", "'units.cross'", STATEMENT, EVIDENCE):
        assert text in log, f"{text!r} not in the build's log:\n{log[-3000:]}"


def test_plain_build_marks_the_failed_claim_and_goes_on(tmp_path, mkdocs_build):
    config, env = site(tmp_path)
    result = mkdocs_build(config, tmp_path / "site", env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    assert re.search(r"WARNING.*does not hold", result.stderr)
    assert_named(result.stderr)
    assert_marked((tmp_path / "site" / "index.html").read_text(encoding="utf-8"))


def test_strict_build_fails_naming_page_claim_and_numbers(tmp_path, mkdocs_build):
    config, env = site(tmp_path)
    result = mkdocs_build(config, tmp_path / "site", strict_flag=True, env=env)
    assert result.returncode != 0, "a claim that does not hold passed --strict"
    assert_named(result.stderr)


@pytest.mark.site
def test_serve_shows_the_page_with_the_failed_claim(tmp_path):
    config, env = site(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [str(Path(sys.executable).with_name("mkdocs")), "serve", "-f", str(config), "-a", f"127.0.0.1:{port}"]
    server = subprocess.Popen(
        command,
        cwd=config.parent,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        html = _fetch(f"http://127.0.0.1:{port}/", server, deadline=time.monotonic() + 120)
        assert_marked(html)
    finally:
        server.terminate()
        log = server.communicate(timeout=30)[1]
    assert_named(log)


def _fetch(url: str, server: subprocess.Popen, deadline: float) -> str:
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"mkdocs serve exited ({server.returncode}): {server.stderr.read()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"mkdocs serve did not answer {url} in time")
