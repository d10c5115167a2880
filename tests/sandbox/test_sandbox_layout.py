"""The sandbox's own structure: imports without cycles, no Prefect, a fixed public API."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

import prefect_nextcloud.sandbox

PACKAGE = "prefect_nextcloud.sandbox"
PACKAGE_DIR = Path(prefect_nextcloud.sandbox.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


MODULES = {_module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_time_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements that run on import: not function bodies, not ``if TYPE_CHECKING``."""
    statements: list[ast.stmt] = []
    for node in body:
        statements.append(node)
        if isinstance(node, ast.If):
            kept = node.orelse if _is_type_checking(node.test) else node.body + node.orelse
            statements += _import_time_statements(kept)
        elif isinstance(node, ast.Try):
            blocks = [node.body, node.orelse, node.finalbody]
            blocks += [handler.body for handler in node.handlers]
            for block in blocks:
                statements += _import_time_statements(block)
        elif isinstance(node, ast.With | ast.ClassDef):
            statements += _import_time_statements(node.body)
    return statements


def _sandbox_imports(module: str, path: Path) -> set[str]:
    """The sandbox modules a module imports when it is imported itself."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _import_time_statements(ast.parse(path.read_text()).body):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in MODULES else base)
    return {name for name in found if name in MODULES and name != module}


IMPORTS = {module: _sandbox_imports(module, path) for module, path in MODULES.items()}


def _assert_acyclic(graph: dict[str, set[str]]) -> None:
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        # graphlib lists each node before the ones depending on it: reversed, each imports the next.
        pytest.fail(f"import cycle: {' -> '.join(reversed(error.args[1]))}")


def test_the_import_graph_is_seen() -> None:
    assert f"{PACKAGE}.server" in IMPORTS[PACKAGE]
    assert f"{PACKAGE}.faults.effects" in IMPORTS[f"{PACKAGE}.faults.chaos"]
    assert f"{PACKAGE}.taskprocessing.fakes" in IMPORTS[f"{PACKAGE}.taskprocessing.catalog"]


def test_sandbox_modules_import_each_other_without_cycles() -> None:
    _assert_acyclic(IMPORTS)


def test_subpackages_depend_on_each_other_without_cycles() -> None:
    """Each subpackage, and each module at the top, is one node: the layers stay layers."""

    def unit(module: str) -> str:
        return ".".join(module.split(".")[:3])

    graph: dict[str, set[str]] = {}
    for module, imported in IMPORTS.items():
        if module == PACKAGE:  # the public API re-exports from everywhere
            continue
        edges = graph.setdefault(unit(module), set())
        edges.update(unit(name) for name in imported if unit(name) != unit(module))
    _assert_acyclic(graph)


def test_the_public_api_is_unchanged() -> None:
    assert sorted(prefect_nextcloud.sandbox.__all__) == [
        "DEFAULT_APP_PASSWORD",
        "DEFAULT_USER_ID",
        "FaultAction",
        "NextcloudSandbox",
        "RecordedRequest",
        "SAMPLE_IMAGE_PATH",
        "TaskSnapshot",
        "TaskStatus",
        "app_password_for",
        "sample_image_bytes",
        "serve_forever",
    ]
    assert all(
        hasattr(prefect_nextcloud.sandbox, name) for name in prefect_nextcloud.sandbox.__all__
    )
