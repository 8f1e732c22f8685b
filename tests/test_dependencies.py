"""pyproject.toml declares every library the service imports, and nothing it does not import."""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("moderation", "migrations")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_modules() -> dict[str, set[str]]:
    """Top-level third-party module name -> the files importing it (lazy imports included)."""
    found: dict[str, set[str]] = {}
    for source in SOURCES:
        for path in (REPO / source).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top != "moderation":
                        found.setdefault(top, set()).add(str(path.relative_to(REPO)))
    return found


def _declared() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return {_canonical(re.match(r"[A-Za-z0-9_.-]+", req).group()): req for req in project["dependencies"]}


def _pinned_companions(declared: set[str]) -> set[str]:
    """Distributions a declared one requires at one exact version (pydantic -> pydantic-core):
    their version follows the declared dependency's, so importing them needs no line of its own."""
    companions = set()
    for name in declared:
        try:
            requirements = requires(name) or []
        except PackageNotFoundError:
            continue
        for requirement in requirements:
            match = re.match(r"([A-Za-z0-9_.-]+)\s*==", requirement)
            if match and "extra ==" not in requirement:
                companions.add(_canonical(match.group(1)))
    return companions


def test_every_imported_library_is_a_declared_dependency():
    declared = _declared()
    accepted = declared.keys() | _pinned_companions(set(declared))
    distributions = packages_distributions()
    undeclared = {}
    for module, files in _imported_modules().items():
        owners = {_canonical(d) for d in distributions.get(module, [module])}
        if not owners & accepted:
            undeclared[module] = sorted(files)
    assert not undeclared, f"imported but not in pyproject.toml's dependencies: {undeclared}"


def test_every_declared_dependency_is_imported():
    distributions = packages_distributions()
    imported = {_canonical(d) for module in _imported_modules() for d in distributions.get(module, [module])}
    unused = sorted(set(_declared()) - imported)
    assert not unused, f"declared in pyproject.toml but imported nowhere in {SOURCES}: {unused}"


def test_no_extras_the_code_does_not_use_and_the_database_driver_is_optional():
    declared = _declared()
    # bleach[css] brings tinycss2 for style attributes, which the allow-list never keeps.
    assert all("[" not in requirement for requirement in declared.values()), declared
    assert "psycopg" not in declared
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(req.startswith("psycopg") for req in extras["postgres"])


def test_the_lock_pins_every_dependency_and_torch_2_13():
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            name, _, version = line.partition("==")
            pins[_canonical(name)] = version
    missing = sorted(set(_declared()) - pins.keys())
    assert not missing, f"requirements.lock lacks {missing}: run `make lock`"
    assert pins["torch"].split("+")[0] == "2.13.0"
    assert "psycopg" in pins and "pytest" in pins
