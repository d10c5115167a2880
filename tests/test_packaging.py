"""What a user installs: one import package, typed, described, discoverable by Prefect.

The sdist and the wheel are built here with uv the way ``python -m build`` builds them (the
wheel from the sdist), in about a second; ``python3 dev.py package`` builds them with build,
checks them with twine and tries the wheel in a fresh environment.
"""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from pathlib import Path

import pytest
from prefect.plugins import load_prefect_collections

import prefect_nextcloud
from prefect_nextcloud import __version__

ROOT = Path(__file__).resolve().parents[1]
DIST_INFO = f"prefect_nextcloud-{__version__}.dist-info"


def _uv() -> str:
    bundled = ROOT / ".tools" / ("Scripts" if os.name == "nt" else "bin") / "uv"
    found = str(bundled) if bundled.exists() else shutil.which("uv")
    assert found, "uv is needed to build the wheel: run `python3 dev.py setup` first"
    return found


@pytest.fixture(scope="module")
def distributions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sdist and the wheel built from it: ``(sdist, wheel)``."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [_uv(), "build", "--quiet", "--out-dir", str(out), str(ROOT)], check=True, timeout=300
    )
    [sdist] = out.glob("*.tar.gz")
    [wheel] = out.glob("*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def wheel_names(distributions: tuple[Path, Path]) -> list[str]:
    with zipfile.ZipFile(distributions[1]) as archive:
        return archive.namelist()


def _wheel_file(distributions: tuple[Path, Path], name: str) -> bytes:
    with zipfile.ZipFile(distributions[1]) as archive:
        return archive.read(name)


@pytest.fixture(scope="module")
def wheel_metadata(distributions: tuple[Path, Path]) -> Message:
    text = _wheel_file(distributions, f"{DIST_INFO}/METADATA").decode("utf-8")
    return email.message_from_string(text)


def test_the_wheel_holds_only_the_prefect_nextcloud_package(wheel_names: list[str]) -> None:
    top_level = {name.split("/")[0] for name in wheel_names}
    assert top_level == {"prefect_nextcloud", DIST_INFO}
    assert "prefect_nextcloud/py.typed" in wheel_names
    assert "prefect_nextcloud/flows/analyze_image.py" in wheel_names
    assert "prefect_nextcloud/sandbox/assets/sample.png" in wheel_names
    assert not [name for name in wheel_names if "/tests/" in name or "conftest" in name]


def test_the_wheel_names_the_package_its_version_and_its_python(wheel_metadata: Message) -> None:
    assert wheel_metadata["Name"] == "prefect-nextcloud"
    assert wheel_metadata["Version"] == __version__
    assert wheel_metadata["Requires-Python"] == "<3.15,>=3.11"
    assert "prefect<3.10,>=3.9.1" in wheel_metadata.get_all("Requires-Dist")
    assert "Typing :: Typed" in wheel_metadata.get_all("Classifier")
    assert wheel_metadata["Keywords"]
    assert wheel_metadata.get_all("Project-URL")


def test_the_wheel_carries_the_apache_license(
    distributions: tuple[Path, Path], wheel_metadata: Message
) -> None:
    assert wheel_metadata["License-Expression"] == "Apache-2.0"
    assert wheel_metadata["License-File"] == "LICENSE"
    shipped = _wheel_file(distributions, f"{DIST_INFO}/licenses/LICENSE")
    assert shipped == (ROOT / "LICENSE").read_bytes()
    assert b"Apache License" in shipped
    assert b"Version 2.0, January 2004" in shipped


def test_the_readme_is_the_long_description_in_markdown(wheel_metadata: Message) -> None:
    assert wheel_metadata["Description-Content-Type"] == "text/markdown"
    assert wheel_metadata.get_payload() == (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_wheel_declares_the_command_and_the_prefect_collection(
    distributions: tuple[Path, Path],
) -> None:
    entry_points = _wheel_file(distributions, f"{DIST_INFO}/entry_points.txt").decode()
    assert entry_points.split("\n\n") == [
        "[console_scripts]\nprefect-nextcloud = prefect_nextcloud.cli:main",
        "[prefect.collections]\nprefect_nextcloud = prefect_nextcloud\n",
    ]


def test_the_sdist_holds_what_building_testing_and_the_docs_need(
    distributions: tuple[Path, Path],
) -> None:
    with tarfile.open(distributions[0]) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    top_level = {name.split("/")[0] for name in names}
    assert {"prefect_nextcloud", "tests", "docs", "flows", "tasks", "blocks"} <= top_level
    assert {"pyproject.toml", "uv.lock", "dev.py", "mkdocs.yml", "deployment.yaml"} <= names
    assert {"README.md", "CHANGELOG.md", "LICENSE", "docs/hooks/readme_sections.py"} <= names
    assert not top_level & {".venv", ".tools", "dist", "site", ".artifacts", ".git"}


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
