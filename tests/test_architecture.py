"""The tree's rules, held: the model code imports no machinery, machinery imports only what sits below
it (fast < experiments < figures < site and bench), no module imports itself round a circle, and
the library installs and imports without the site's toolchain."""

import ast
import os
import re
import shutil
import subprocess
import sys
import textwrap
import venv
from importlib import metadata
from pathlib import Path

import pytest

import snippets

PACKAGE = Path(snippets.__file__).parent


def module_name(path: Path) -> str:
    """`snippets/fast/bptt.py` -> `snippets.fast.bptt`; a package's `__init__.py` -> the package."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(source: str, name: str, is_package: bool, known=MODULES) -> set[str]:
    """The `snippets` modules a module's source imports, anywhere in it (inside functions too).

    `from pkg import x` counts as an import of the module `pkg.x` where there is one, else of
    `pkg` itself (x is then a name its `__init__` defines); relative imports are resolved.
    """
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names)
    return {module for module in found if module in known and module != name}


GRAPH = {
    name: imports(path.read_text(encoding="utf-8"), name, path.name == "__init__.py") for name, path in MODULES.items()
}

# What each level may not import. The top level is the model code a page shows and a reader reuses.
MACHINERY = ("snippets.fast", "snippets.experiments", "snippets.figures", "snippets.site", "snippets.bench")
FORBIDDEN = {
    "top": MACHINERY,
    "snippets.fast": MACHINERY[1:],
    "snippets.experiments": MACHINERY[2:],
    "snippets.figures": MACHINERY[3:],
}
# The package's namespace offers `snippets.fast` on first use of the name (PEP 562 `__getattr__`):
# `import snippets` loads none of it, which the test below the rules proves by importing it.
LAZY = {("snippets", "snippets.fast")}


def level(name: str) -> str | None:
    if name.count(".") <= 1 and not name.startswith(MACHINERY):
        return "top"
    return next((prefix for prefix in FORBIDDEN if prefix != "top" and name.startswith(prefix)), None)


def under(name: str, prefixes) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


RULED = [name for name in MODULES if level(name) is not None]


@pytest.mark.parametrize("name", RULED)
def test_each_level_imports_only_what_sits_below_it(name):
    forbidden = FORBIDDEN[level(name)]
    bad = sorted(target for target in GRAPH[name] if under(target, forbidden) and (name, target) not in LAZY)
    assert not bad, f"{name} ({level(name)}) imports {bad}: {', '.join(forbidden)} sit above it"


def test_the_rules_cover_every_level_and_see_the_imports_that_are_there():
    """A rule over modules it never finds, or a graph missing the edges it should hold, proves nothing."""
    assert {level(name) for name in RULED} == set(FORBIDDEN)
    assert {"snippets.layers", "snippets.cells", "snippets.sequence", "snippets.candidate", "snippets"} <= set(RULED)
    assert {"snippets.cells", "snippets.errors"} <= GRAPH["snippets.layers"]
    assert "snippets.layers" in GRAPH["snippets.fast"]  # the twins register themselves with the model
    assert "snippets.experiments.layer_timing" in GRAPH["snippets.experiments.reuse"]  # `from . import x`
    assert "snippets.experiments.layer_timing" in GRAPH["snippets.bench.__main__"]  # the benchmark builds on it
    source = "from ..fast import bptt\nfrom . import cache\ndef f():\n    from snippets.site import hooks\n"
    found = imports(source, "snippets.experiments.x", False)
    assert found == {"snippets.fast.bptt", "snippets.experiments.cache", "snippets.site.hooks"}
    assert under("snippets.site.hooks", FORBIDDEN["snippets.experiments"])


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (each holds an import circle)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:  # Tarjan's algorithm; the graph is a few hundred edges deep at most
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = [stack.pop()]
            while component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles_among_the_modules():
    """Imports inside functions count: a circle there is still two modules that need each other."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]  # the finder finds one
    assert cycles({"a": {"b"}, "b": set()}) == []
    assert cycles(GRAPH) == []


IMPORT_ALONE = textwrap.dedent("""
    import sys
    import torch
    import snippets
    from snippets import layers

    loaded = sorted(m for m in sys.modules if m.startswith(snippets.MACHINERY_CHECK))
    assert not loaded, loaded
    assert layers._find_twin is None  # no twin registered: every call runs the step functions
    torch.manual_seed(0)
    lstm = snippets.LSTM(3, 5)
    x = torch.randn(7, 2, 3)
    expected = lstm(x)[0]
    with snippets.fast.use("bptt"):  # the name loads the package, which registers its twins
        taken = layers._find_twin(lstm.step, (lstm.weight_hh_l0, lstm.bias_hh_l0), (x,), False)
        assert taken is not None and taken.__name__ == "lstm_layer", taken
        torch.testing.assert_close(lstm(x)[0], expected)
    print("ok")
""").replace("snippets.MACHINERY_CHECK", repr(tuple(m + "." for m in MACHINERY) + MACHINERY))


def test_importing_snippets_loads_no_machinery_and_the_fast_switch_loads_on_first_use():
    result = subprocess.run([sys.executable, "-c", IMPORT_ALONE], capture_output=True, text=True, cwd=PACKAGE.parent)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-3000:]


def test_the_compiled_path_hands_the_compiler_to_the_loops_that_do_not_import_it(monkeypatch):
    """bptt no longer imports compiled (the circle): the switch passes `compiled.compiled` in, and the
    backward keeps what its forward was given. Here a recorder stands in for torch.compile."""
    import torch

    from snippets import fast
    from snippets.fast import bptt, compiled

    asked = []
    monkeypatch.setattr(compiled, "compiled", lambda loop: asked.append(loop.__name__) or loop)
    torch.manual_seed(0)
    lstm, x = snippets.LSTM(3, 4), torch.randn(5, 2, 3)
    with fast.use("bptt"):
        expected = torch.autograd.grad(lstm(x)[0].sum(), lstm.weight_hh_l0)
    assert asked == []
    with fast.use("compiled"):
        out = lstm(x)[0]
    assert asked == ["lstm_forward"]
    assert torch.equal(torch.autograd.grad(out.sum(), lstm.weight_hh_l0)[0], expected[0])  # after the block
    assert asked == ["lstm_forward", "lstm_backward"] and "snippets.fast.compiled" not in GRAPH["snippets.fast.bptt"]
    assert bptt.TWINS[snippets.lstm_step] is bptt.lstm_layer


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
