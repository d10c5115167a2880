"""The client and the sandbox are usable without Prefect; the package root loads lazily."""

from __future__ import annotations

import ast
import graphlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

# Each of these must leave Prefect unloaded: the client and the sandbox work without it.
PREFECT_FREE = [
    "import prefect_nextcloud.client",
    "import prefect_nextcloud.sandbox",
    "from prefect_nextcloud import NextcloudError, NextcloudPath, __version__",
    "from prefect_nextcloud.client import NextcloudClient, AsyncNextcloudClient",
]


def _prefect_loaded_after_each(statements: list[str]) -> dict[str, list[str]]:
    """Run the statements in turn in one fresh interpreter; the Prefect modules after each.

    Imports only ever add modules, so Prefect missing after the last statement means that no
    statement loaded it; the report after each one names the first that did.
    """
    report = "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'prefect')))"
    probe = "\n".join(["import json, sys", *(f"{statement}\n{report}" for statement in statements)])
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return dict(zip(statements, map(json.loads, result.stdout.splitlines()), strict=True))


def test_the_client_and_the_sandbox_do_not_import_prefect() -> None:
    loaded = _prefect_loaded_after_each(PREFECT_FREE)
    assert not any(loaded.values()), f"Prefect modules loaded after each statement: {loaded}"


def test_unknown_root_attributes_are_an_attribute_error() -> None:
    import prefect_nextcloud

    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        prefect_nextcloud.nothing  # noqa: B018
    assert {"NextcloudCredentials", "NextcloudPath", "__version__"} <= set(dir(prefect_nextcloud))


PACKAGE = Path(__file__).resolve().parents[1] / "prefect_nextcloud"
# Each layer may import itself and the layers listed (at module level; lazy imports inside
# functions and TYPE_CHECKING imports are for convenience and typing only).
# The base modules at the package root import nothing of the package; every layer may use them.
BASE = {"_version", "_compat", "_cache", "_listen", "_shapes"}
LAYERS = {
    "client": {"client", *BASE},
    "sandbox": {"sandbox", *BASE},
    "blocks": {"blocks", "client", *BASE},
    "tasks": {"tasks", "blocks", "client", *BASE},
    "flows": {"flows", "tasks", "blocks", "client", *BASE},
    "relay": {"relay", "tasks", "blocks", "client", *BASE},
    "deployments": {"deployments", "blocks", "client", *BASE},
}


def _module_level_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.startswith("prefect_nextcloud.")}


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_layers_depend_one_way(layer: str) -> None:
    wrong = {}
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        used = {name.split(".")[1] for name in _module_level_imports(path)}
        if used - LAYERS[layer]:
            wrong[str(path.relative_to(PACKAGE))] = sorted(used - LAYERS[layer])
    assert not wrong, f"imports against the layering: {wrong}"


def test_the_batch_engine_modules_import_one_another_without_a_cycle() -> None:
    prefix = "prefect_nextcloud.tasks.batch."
    uses = {
        path.stem: {
            name.removeprefix(prefix)
            for name in _module_level_imports(path)
            if name.startswith(prefix)
        }
        for path in (PACKAGE / "tasks" / "batch").glob("*.py")
        if path.stem != "__init__"
    }
    order = list(graphlib.TopologicalSorter(uses).static_order())  # CycleError on a cycle
    assert order[0] == "items"
    assert order[-1] == "engine"
