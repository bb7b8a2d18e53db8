"""Shared fixtures: the repository root and `mkdocs build` in a subprocess."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from snippets.site.browser import chromium, chromium_missing, serve

REPO = Path(__file__).resolve().parents[1]


def _mkdocs_build(config: Path, site_dir: Path, *, strict_flag: bool = False, timeout: int = 1200, env=None):
    """Run `mkdocs build` on `config` in a fresh process, from the config's folder.

    A fresh process because markdown-exec's sessions and nbconvert's patched renderer are global
    to the process that builds. The `mkdocs` script, not `python -m mkdocs`: only under its own
    module name does MkDocs log Python warnings (as INFO lines). `env` adds to the environment.
    """
    command = [str(Path(sys.executable).with_name("mkdocs")), "build", "-f", str(config), "-d", str(site_dir)]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", **(env or {})}
    return subprocess.run(
        command + (["--strict"] if strict_flag else []),
        cwd=config.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def mkdocs_build():
    return _mkdocs_build


@pytest.fixture(scope="session")
def built_site(tmp_path_factory, mkdocs_build):
    """The real site, built once per test session with `mkdocs build --strict`; its folder.

    SNIPPETS_BUILT_SITE=DIR uses a site already built there instead (to iterate on the site's tests).
    """
    if os.environ.get("SNIPPETS_BUILT_SITE"):
        return Path(os.environ["SNIPPETS_BUILT_SITE"])
    out = tmp_path_factory.mktemp("site")
    start = time.perf_counter()
    result = _mkdocs_build(REPO / "mkdocs.yml", out, strict_flag=True)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr[-6000:]}"
    print(f"site built in {time.perf_counter() - start:.1f} s")
    return out


def pytest_collection_modifyitems(items):
    """Every test that builds a site (the real one or a tiny one) or reads the results the pages show
    (the site's experiments at their full size) is a `site` test: `pytest -m "not site"` skips it."""
    for item in items:
        if set(SITE_FIXTURES) & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.site)


SITE_FIXTURES = ("built_site", "mkdocs_build", "page_results", "page_result", "site_results")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, launched once for every browser test (Playwright's sync API allows one at a time).

    Without Chromium the browser tests skip and say why; with CI=true they fail instead.
    """
    reason = chromium_missing()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and the browser tests cannot run: {reason}", pytrace=False)
        pytest.skip(reason)
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="session")
def base_url(built_site):
    """The built site, served on 127.0.0.1 for the browser tests."""
    with serve(built_site) as url:
        yield url
