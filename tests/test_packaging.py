"""What a user installs: one import package, typed, discoverable by Prefect."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from prefect.plugins import load_prefect_collections

import prefect_nextcloud


def _uv() -> str:
    bundled = (
        Path(__file__).resolve().parents[1]
        / ".tools"
        / ("Scripts" if os.name == "nt" else "bin")
        / "uv"
    )
    found = str(bundled) if bundled.exists() else shutil.which("uv")
    assert found, "uv is needed to build the wheel: run `python3 dev.py setup` first"
    return found


def test_the_wheel_holds_only_the_prefect_nextcloud_package(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    subprocess.run(
        [_uv(), "build", "--wheel", "--quiet", "--out-dir", str(tmp_path), str(root)],
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    top_level = {name.split("/")[0] for name in names}
    assert {name for name in top_level if not name.endswith(".dist-info")} == {"prefect_nextcloud"}
    assert "prefect_nextcloud/py.typed" in names
    assert "prefect_nextcloud/flows/analyze_image.py" in names


def test_prefect_loads_the_package_as_a_collection() -> None:
    # What Prefect does when its server starts and before it looks a block type up by slug.
    loaded = load_prefect_collections()
    assert loaded.get("prefect_nextcloud") is prefect_nextcloud


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
