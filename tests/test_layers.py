"""The import rules of docs/architecture.md, checked on the source.

The ``layers`` block of docs/architecture.md lists the layers from the top (may import everything
below) to the bottom, each as ``name: prefix, prefix, ...`` with module prefixes relative to
``optbench`` (``__init__`` stands for the package facade ``optbench/__init__.py``). A module
belongs to the layer of its longest matching prefix, matched on whole dotted components (``plots``
covers ``plots`` and ``plots.style``, not ``plots_sweep``).

Every ``.py`` file under ``optbench/`` is parsed, never imported. What counts as an import:

* ``import optbench.x``, ``from optbench.x import y``, relative imports (resolved), and
  ``importlib.import_module("optbench.x")`` with a literal name; ``from p import m`` where ``m`` is
  a submodule counts as an import of ``p.m``;
* at module level (including class bodies, ``try`` and plain ``if`` blocks) and inside functions;
* never inside ``if TYPE_CHECKING:`` (annotations only, not run);
* not the parent packages Python runs on the way (``optbench.a.b`` imports ``optbench.a.b``, not
  ``optbench`` nor ``optbench.a``).

The rules:

(a) no import, module-level or inside a function, goes from a lower layer to a higher one: a
    deferred import hides a dependency from Python's import order, not from the architecture;
(b) no cycle among module-level imports (within a layer: across layers (a) already forbids it).
    An import inside a function is how a module loads a neighbour of its own layer on demand
    (a registry loading its built-ins, a dispatcher loading a heavy module), so it does not count
    for cycles;
(c) every module belongs to a layer, and every import names a module that exists.

``test_presentation_modules_load_no_numba`` imports analysis, every plots module and the report
and animation modules, each in a fresh interpreter, and checks that numba was not loaded.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "optbench"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
FACADE = "__init__"


# --------------------------------------------------------------------------- the layers block


@dataclass(frozen=True)
class Layer:
    name: str
    rank: int  # 0 is the top
    prefixes: tuple[str, ...]


def read_layers(markdown: str) -> list[Layer]:
    """The layers of the first fenced block with info string ``layers``, top first."""
    match = re.search(r"^```layers[ \t]*\n(.*?)^```", markdown, re.MULTILINE | re.DOTALL)
    if match is None:
        raise ValueError("no ```layers block")
    layers: list[Layer] = []
    seen: dict[str, str] = {}
    for raw in match.group(1).splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, rest = line.partition(":")
        prefixes = tuple(p.strip() for p in rest.split(",") if p.strip())
        if not sep or not name.strip() or not prefixes:
            raise ValueError(f"malformed layers line: {raw!r}")
        for prefix in prefixes:
            if prefix in seen:
                raise ValueError(f"prefix {prefix!r} is in layers {seen[prefix]!r} and {name!r}")
            seen[prefix] = name.strip()
        layers.append(Layer(name.strip(), len(layers), prefixes))
    if not layers:
        raise ValueError("the ```layers block is empty")
    return layers


def relative_name(module: str, package: str = PACKAGE) -> str:
    """``optbench.a.b`` → ``a.b``; the package itself → ``__init__``."""
    if module == package:
        return FACADE
    return module.removeprefix(package + ".")


def layer_of(module: str, layers: list[Layer], package: str = PACKAGE) -> Layer | None:
    """The layer of the longest prefix matching ``module`` on whole dotted components."""
    name = relative_name(module, package)
    best: tuple[int, Layer] | None = None
    for layer in layers:
        for prefix in layer.prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and (
                best is None or len(prefix) > best[0]
            ):
                best = (len(prefix), layer)
    return None if best is None else best[1]


# --------------------------------------------------------------------------- the imports


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    path: Path
    line: int
    deferred: bool  # inside a function

    def where(self, root: Path) -> str:
        return f"{self.path.relative_to(root)}:{self.line}"


def find_modules(root: Path, package: str = PACKAGE) -> dict[str, Path]:
    """Every module and package of ``root/package`` by dotted name."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if "__pycache__" in parts:
            continue
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str, path: Path, modules: dict[str, Path], package: str) -> list[Import]:
    """The imports of ``package`` modules that ``module`` makes (see the module docstring)."""
    is_package = path.name == "__init__.py"
    found: list[Import] = []

    def add(target: str, node: ast.AST, deferred: bool) -> None:
        if target == package or target.startswith(package + "."):
            found.append(Import(module, target, path, node.lineno, deferred))

    def visit(node: ast.AST, deferred: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.orelse:
                    visit_one(stmt, deferred)
                continue
            visit_one(child, deferred)

    def visit_one(node: ast.AST, deferred: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node, deferred)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                add(sub if sub in modules else base, node, deferred)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            add(node.args[0].value, node, deferred)
        inner = deferred or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        visit(node, inner)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), False)
    return found


# --------------------------------------------------------------------------- the checks


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(edges.get(node, ())):
            if succ not in index:
                connect(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return sorted(components)


def check(root: Path, layers: list[Layer], package: str = PACKAGE) -> list[str]:
    """Every breach of rules (a), (b) and (c) under ``root/package``, one readable line each."""
    modules = find_modules(root, package)
    problems: list[str] = []

    def label(module: str) -> str:
        layer = layer_of(module, layers, package)
        return f"{module} ({layer.name if layer else 'no layer'})"

    for module, path in modules.items():
        if layer_of(module, layers, package) is None:
            problems.append(f"(c) {path.relative_to(root)}: {module} matches no layer")

    module_level: dict[str, set[str]] = {}
    for module, path in modules.items():
        for imp in imports_of(module, path, modules, package):
            if imp.target == module:
                continue
            if imp.target not in modules:
                problems.append(f"(c) {imp.where(root)}: imports {imp.target}, no such module")
                continue
            source_layer = layer_of(imp.source, layers, package)
            target_layer = layer_of(imp.target, layers, package)
            if source_layer and target_layer and target_layer.rank < source_layer.rank:
                kind = "in a function" if imp.deferred else "at module level"
                problems.append(
                    f"(a) {imp.where(root)}: {label(imp.source)} imports {label(imp.target)}, "
                    f"a higher layer ({kind})"
                )
            if not imp.deferred:
                module_level.setdefault(module, set()).add(imp.target)

    for component in _cycles(module_level):
        members = set(component)
        arrows = sorted(
            f"{source} -> {target}"
            for source in component
            for target in module_level.get(source, ())
            if target in members
        )
        problems.append(f"(b) module-level import cycle: {', '.join(arrows)}")
    return list(dict.fromkeys(problems))  # one line for `from m import a, b, c`


# --------------------------------------------------------------------------- the tests


def test_import_directions_follow_the_layers():
    layers = read_layers(ARCHITECTURE.read_text(encoding="utf-8"))
    problems = check(ROOT, layers)
    assert not problems, (
        f"{len(problems)} breach(es) of the layers in docs/architecture.md "
        "((a) upward import, (b) module-level cycle, (c) no layer):\n  " + "\n  ".join(problems)
    )


def test_the_checker_finds_each_kind_of_breach(tmp_path):
    """The checker itself on a made-up package: it must be able to fail."""
    pkg = tmp_path / "pkg"
    (pkg / "low").mkdir(parents=True)
    files = {
        "__init__.py": "from pkg import top\n",
        "top.py": "from pkg.low import base\n",
        "low/__init__.py": "",
        "low/base.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from pkg import top  # fine: types only\n"
            "def later():\n    from .. import top  # upward, deferred\n"
        ),
        "low/a.py": "from pkg.low import b\n",
        "low/b.py": "import pkg.low.a\n",
        "low/c.py": "def f():\n    import importlib\n    importlib.import_module('pkg.low.d')\n",
        "low/d.py": "from pkg.low import c  # deferred partner: no cycle\n",
        "stray.py": "import pkg.gone  # no such module\n",
    }
    for name, text in files.items():
        (pkg / name).write_text(text)
    layers = read_layers("```layers\nentry: __init__, top\nbottom: low\n```\n")
    problems = check(tmp_path, layers, "pkg")
    assert [p[:3] for p in problems] == ["(c)", "(a)", "(c)", "(b)"], problems
    assert "pkg/stray.py" in problems[0]
    assert "pkg/low/base.py:5" in problems[1] and "in a function" in problems[1]
    assert "pkg/stray.py:1: imports pkg.gone, no such module" in problems[2]
    assert (
        problems[3]
        == "(b) module-level import cycle: pkg.low.a -> pkg.low.b, pkg.low.b -> pkg.low.a"
    )


def test_layers_block_is_well_formed():
    layers = read_layers(ARCHITECTURE.read_text(encoding="utf-8"))
    assert layers[0].prefixes and FACADE in layers[0].prefixes, "the facade belongs to the top"
    with pytest.raises(ValueError, match="is in layers"):
        read_layers("```layers\na: x\nb: x\n```\n")


NUMBA_FREE = ("analysis", "reporting")


def _presentation_modules() -> list[str]:
    names = []
    for module in find_modules(ROOT):
        first = relative_name(module).split(".")[0]
        if first.startswith("plots") or first in NUMBA_FREE:
            names.append(module)
    return names


@pytest.mark.parametrize("module", _presentation_modules())
def test_presentation_modules_load_no_numba(module):
    code = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        "ours = sorted(m for m in sys.modules if m.startswith('optbench'))\n"
        "print('numba' in sys.modules, ' '.join(ours))\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded, _, ours = done.stdout.strip().partition(" ")
    assert loaded == "False", f"importing {module} loads numba; optbench modules loaded: {ours}"
