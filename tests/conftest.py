"""Shared fixtures and the suite's rules: where tests may write, which tests need the site extra.

- Writes go to a temporary folder. The test session points `SNIPPETS_CACHE_DIR` (experiment
  results, saved figures) and `MPLCONFIGDIR` (matplotlib's font list) at a folder of its own,
  deleted at the end. The exception is a `site` test: it runs with the environment you started
  pytest in, so it reads and fills the site's real cache (`.cache/snippets`), as a build does.
- A test module that needs the site extra (mkdocs and its plugins) says so with a module-level
  `pytestmark = pytest.mark.site`. Where that extra is not installed, such a module is not
  imported: it stands as one `site` test that fails naming what is missing, so
  `pytest -m "not site and not browser and not slow"` (the fast suite) leaves it out cleanly and
  a plain `pytest` says what to install.
- The repository root, and `mkdocs build` in a subprocess, the real site built once per session.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# -- writes go to a temporary folder ---------------------------------------------------------------

REDIRECTED = ("SNIPPETS_CACHE_DIR", "MPLCONFIGDIR")  # every place a test would otherwise write to
_started_with = {name: os.environ.get(name) for name in REDIRECTED}  # the environment pytest got
_scratch: dict[str, str] = {}


def pytest_configure(config):
    folder = Path(tempfile.mkdtemp(prefix="snippets-tests-"))
    _scratch.update({name: str(folder / name.lower()) for name in REDIRECTED})
    _scratch["folder"] = str(folder)
    _use(_scratch)


def pytest_unconfigure(config):
    _use(_started_with)
    if "folder" in _scratch:
        shutil.rmtree(_scratch.pop("folder"), ignore_errors=True)


def _use(values: dict) -> None:
    for name in REDIRECTED:
        if values.get(name) is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = values[name]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """A `site` test runs (setup, call, teardown) in the environment pytest was started in: it reads
    the site's own results, and the builds it starts keep their cache next to their mkdocs.yml."""
    if item.get_closest_marker("site") is None:
        return (yield)
    _use(_started_with)
    try:
        return (yield)
    finally:
        _use(_scratch)


# -- test modules that need the site extra ---------------------------------------------------------


def _missing_site_extra() -> list[str]:
    """The site extra's packages (pyproject.toml) that are not installed here."""
    extras = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    missing = []
    for requirement in extras["site"]:
        name = re.match(r"[A-Za-z0-9._-]+", requirement).group()
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
    return missing


MISSING_SITE_EXTRA = _missing_site_extra()
MODULE_MARKS = re.compile(r"^pytestmark\s*=(.*)$", re.MULTILINE)


def _module_marks(path: Path) -> list[str]:
    """The names in a module's `pytestmark = ...` line, read from its text (the module is not imported)."""
    found = MODULE_MARKS.search(path.read_text(encoding="utf-8"))
    return re.findall(r"pytest\.mark\.(\w+)", found.group(1)) if found else []


def pytest_pycollect_makemodule(module_path, parent):
    """Without the site extra, a module marked `site` is replaced by one test that says so."""
    if MISSING_SITE_EXTRA and "site" in _module_marks(module_path):
        return NeedsSiteExtra.from_parent(parent, path=module_path)
    return None


class NeedsSiteExtra(pytest.File):
    """A test module that needs the site extra, where it is missing: one test, with the module's marks."""

    def collect(self):
        item = SiteExtraMissing.from_parent(self, name="site_extra_missing")
        for name in _module_marks(self.path):
            item.add_marker(name)
        yield item


class SiteExtraMissing(pytest.Item):
    def runtest(self):
        pytest.fail(
            f"{self.path.name} needs the site extra; missing here: {', '.join(MISSING_SITE_EXTRA)}. "
            "Install it with pip install -e '.[site,test]', or leave the site's tests out: -m 'not site'",
            pytrace=False,
        )

    def reportinfo(self):
        return self.path, None, f"{self.path.name}: needs the site extra"


# -- the site, built ---------------------------------------------------------------------------------


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
    from snippets.site.browser import chromium, chromium_missing  # the site extra: only where it runs

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
    from snippets.site.browser import serve

    with serve(built_site) as url:
        yield url
