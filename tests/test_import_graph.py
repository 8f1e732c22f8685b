"""The package's import graph: no circles, and imports that run one way (STYLE.md)."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parent.parent / "moderation"
PACKAGE = PACKAGE_ROOT.name

# Pure modules take values and return values: no Flask, no database (STYLE.md).
PURE = ("moderation.sanitise", "moderation.scoring", "moderation.policy")
FRAMEWORK = ("flask", "flask_login", "flask_wtf", "flask_limiter", "flask_migrate", "flask_sqlalchemy",
             "sqlalchemy", "alembic", "werkzeug", "psycopg", "psycopg2")


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool
    ours: set[str] = field(default_factory=set)  # modules of this package it imports
    external: set[str] = field(default_factory=set)  # top-level names of other packages


def _discover(root: Path) -> dict[str, Module]:
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        modules[".".join(parts)] = Module(".".join(parts), path, is_package)
    return modules


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    """The absolute name `from <this> import ...` refers to."""
    if not node.level:
        return node.module or ""
    package = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def build_graph(root: Path = PACKAGE_ROOT) -> dict[str, Module]:
    """Every import anywhere in each module (top level, functions, TYPE_CHECKING blocks)."""
    modules = _discover(root)
    for module in modules.values():
        for node in ast.walk(ast.parse(module.path.read_text(encoding="utf-8"), str(module.path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(module, node)
                # `from . import x` names the submodule x when there is one, else something in base.
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                           for alias in node.names]
            else:
                continue
            for target in targets:
                if target.split(".")[0] != PACKAGE:
                    module.external.add(target.split(".")[0])
                    continue
                while target not in modules:  # `import moderation.x.attr` style: the longest module
                    target = target.rpartition(".")[0]
                if target != module.name:
                    module.ours.add(target)
    return modules


def cycles(modules: dict[str, Module]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in modules:
        if start in index:
            continue
        work = [(start, iter(sorted(modules[start].ours)))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(modules[child].ours))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def _describe(modules: dict[str, Module], component: list[str]) -> str:
    members = set(component)
    edges = "; ".join(f"{name} -> {', '.join(sorted(modules[name].ours & members))}" for name in component)
    return f"{len(component)} modules: {edges}"


@pytest.fixture(scope="module")
def graph() -> dict[str, Module]:
    return build_graph()


def test_the_graph_sees_every_kind_of_import(tmp_path):
    """The checker itself: relative, absolute, function-level and `from . import submodule`."""
    package = tmp_path / PACKAGE
    (package / "feature").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "feature" / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("def f():\n    from .feature import views\n")
    (package / "feature" / "views.py").write_text("import moderation.c\nfrom ..a import something\n")
    (package / "c.py").write_text("from moderation import helpers\nimport json\n")  # no such submodule
    (package / "d.py").write_text("from moderation.feature.views import thing\n")

    modules = build_graph(package)

    assert modules["moderation.a"].ours == {"moderation.b"}
    assert modules["moderation.b"].ours == {"moderation.feature.views"}
    assert modules["moderation.feature.views"].ours == {"moderation.c", "moderation.a"}
    assert modules["moderation.c"].ours == {"moderation"} and modules["moderation.c"].external == {"json"}
    assert modules["moderation.d"].ours == {"moderation.feature.views"}
    assert cycles(modules) == [["moderation.a", "moderation.b", "moderation.feature.views"]]


def test_no_module_imports_itself_back(graph):
    found = cycles(graph)
    assert not found, "import circles:\n" + "\n".join(_describe(graph, component) for component in found)


def test_no_module_of_ours_imports_the_package_root(graph):
    """The root only re-exports create_app lazily; importing it from inside would re-open the circle."""
    assert [name for name, module in graph.items() if PACKAGE in module.ours] == []


def test_extensions_import_nothing_of_ours(graph):
    assert graph["moderation.extensions"].ours == set()


def _pure(graph: dict[str, Module]) -> set[str]:
    """STYLE.md's pure modules, and every module whose docstring's first line calls itself pure."""
    declared = {name for name, module in graph.items()
                if "(pure" in (ast.get_docstring(ast.parse(module.path.read_text(encoding="utf-8"))) or "").split("\n")[0]}
    return {name for name in graph if _within(name, PURE)} | declared


def test_models_import_only_extensions_models_and_pure_modules(graph):
    pure = _pure(graph)
    wrong = {name: sorted(target for target in module.ours
                          if not _within(target, ("moderation.extensions", "moderation.models")) and target not in pure)
             for name, module in graph.items() if _within(name, ("moderation.models",))}
    assert {name: targets for name, targets in wrong.items() if targets} == {}


def test_pure_modules_know_nothing_of_flask_or_the_database(graph):
    pure = _pure(graph)
    assert {"moderation.sanitise", "moderation.policy", "moderation.scoring.assess", "moderation.encryption"} <= pure
    wrong = {}
    for name in sorted(pure):
        module = graph[name]
        # Of ours, a pure module may import only other pure modules (so nothing that reaches the database).
        bad = sorted(module.external & set(FRAMEWORK)) + sorted(module.ours - pure)
        if bad:
            wrong[name] = bad
    assert wrong == {}
