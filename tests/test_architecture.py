"""The tree's one rule, held: the model code imports no machinery of the site, and the library
installs and imports without the site's toolchain."""

import ast
import os
import re
import shutil
import subprocess
import sys
import venv
from importlib import metadata
from pathlib import Path

import pytest

import snippets

PACKAGE = Path(snippets.__file__).parent
MACHINERY = ("snippets.experiments", "snippets.figures", "snippets.site", "snippets.bench")


def imports(path: Path) -> set[str]:
    """Absolute names of the `snippets` modules a file imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            base = f"snippets.{module}".rstrip(".") if node.level else module
            found.update([base] + [f"{base}.{alias.name}" for alias in node.names])
    return {name for name in found if name.startswith("snippets")}


MODEL_CODE = sorted(p for p in PACKAGE.glob("*.py")) + sorted((PACKAGE / "fast").glob("*.py"))


@pytest.mark.parametrize("path", MODEL_CODE, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_model_code_imports_no_experiment_figure_site_or_benchmark_module(path):
    bad = sorted(name for name in imports(path) if name.startswith(MACHINERY))
    assert not bad, f"{path.name} imports {bad}: the model code must not depend on the site's machinery"


def test_the_tree_has_the_layout_the_readme_maps():
    top = {p.name for p in PACKAGE.iterdir() if not p.name.startswith("__")}
    assert {"fast", "experiments", "figures", "site", "bench"} <= top
    assert not {"bptt.py", "compiled.py", "cache.py", "pool.py", "memory.py"} & top


# -- the library alone ------------------------------------------------------------------------------

CHECK = """
import importlib, pkgutil, sys
import snippets
failed = []
for info in pkgutil.walk_packages(snippets.__path__, "snippets."):
    if info.name.endswith("__main__"):
        continue
    try:
        importlib.import_module(info.name)
    except ImportError as err:
        if "pip install 'snippets[" not in str(err):
            failed.append(f"{info.name}: {err}")
print("\\n".join(failed) or "ok")
"""


def distribution_files(names: list[str]) -> set[Path]:
    """The top-level files and folders of the installed distributions `names` and of all they require."""
    found, todo, seen = set(), list(names), set()
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        dist = metadata.distribution(name)
        found.update(Path(dist.locate_file(f.parts[0])) for f in dist.files if f.parts[0] != "..")
        for requirement in dist.requires or ():
            if "extra ==" not in requirement:
                todo.append(re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0])
    return {path for path in found if path.exists()}


@pytest.mark.site
def test_the_wheel_installs_beside_torch_alone_and_every_module_imports_or_names_its_extra(tmp_path):
    """A clean venv that holds torch and the library's own small dependencies (numpy, tqdm) only,
    taken from this environment; the wheel built from the repo, installed without its extras."""
    wheels, source = tmp_path / "wheels", tmp_path / "source"  # a copy: building writes into the source tree
    shutil.copytree(PACKAGE, source / "snippets", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(PACKAGE.parent / name, source / name)
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels)]
    build = subprocess.run([*pip_wheel, str(source)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = wheels.glob("snippets-*.whl")
    env = tmp_path / "venv"
    venv.create(env, with_pip=False)
    site = Path(
        subprocess.check_output(
            [env / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    linked = tmp_path / "linked"  # the files of torch, numpy, tqdm and what they require, and no others
    linked.mkdir()
    for top in distribution_files(["torch", "numpy", "tqdm"]):
        (linked / top.name).symlink_to(top)
    (site / "allowed.pth").write_text(str(linked) + "\n")
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(env / "bin" / "python"),
            "install",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    result = subprocess.run(
        [env / "bin" / "python", "-c", CHECK],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok", result.stdout
    missing = subprocess.run([env / "bin" / "python", "-c", "import mkdocs"], capture_output=True, text=True)
    assert missing.returncode != 0, "the clean venv sees the site's toolchain: the check proves nothing"
