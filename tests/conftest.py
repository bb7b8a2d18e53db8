"""Shared fixtures: the repository root and `mkdocs build` in a subprocess."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _mkdocs_build(config: Path, site_dir: Path, *, strict_flag: bool = False, timeout: int = 600):
    """Run `mkdocs build` on `config` in a fresh process, from the config's folder.

    A fresh process because markdown-exec's sessions and nbconvert's patched renderer are global
    to the process that builds.
    """
    command = [sys.executable, "-m", "mkdocs", "build", "-f", str(config), "-d", str(site_dir)]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        command + (["--strict"] if strict_flag else []),
        cwd=config.parent, env=env, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture(scope="session")
def mkdocs_build():
    return _mkdocs_build
