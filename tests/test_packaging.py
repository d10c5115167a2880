"""What a user installs: one import package, typed, discoverable by Prefect, on Prefect 3.9."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import prefect
import pytest


def test_prefect_is_the_3_9_line() -> None:
    assert prefect.__version__.startswith("3.9.")


def test_only_prefect_nextcloud_lands_in_site_packages() -> None:
    files = metadata.distribution("prefect-nextcloud").files or []
    top_level = {Path(str(path)).parts[0] for path in files if not str(path).startswith("..")}
    assert {name for name in top_level if not name.endswith(".dist-info")} == {"prefect_nextcloud"}


def test_package_is_typed_and_has_its_subpackages() -> None:
    import prefect_nextcloud

    root = Path(prefect_nextcloud.__path__[0])
    assert (root / "py.typed").is_file()
    for name in ("blocks", "tasks", "flows", "client", "sandbox"):
        assert (root / name / "__init__.py").is_file(), name


def test_prefect_discovers_the_collection() -> None:
    entry_points = metadata.entry_points(group="prefect.collections")
    assert any(ep.value == "prefect_nextcloud" for ep in entry_points)


@pytest.mark.usefixtures("prefect_server")
def test_block_register_command_registers_the_block() -> None:
    from prefect.settings import PREFECT_API_URL

    environment = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    prefect_cli = Path(sys.executable).parent / "prefect"
    result = subprocess.run(
        [str(prefect_cli), "block", "register", "-m", "prefect_nextcloud"],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Nextcloud Credentials" in result.stdout
