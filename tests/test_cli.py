"""The command line: uploading into a running sandbox, and the demo's patience with Prefect."""

from __future__ import annotations

import importlib
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    temporary_settings,
)

from prefect_nextcloud import cli
from prefect_nextcloud.sandbox import DEFAULT_APP_PASSWORD, NextcloudSandbox


@pytest.fixture
def local_files(tmp_path: Path) -> Path:
    (tmp_path / "trip").mkdir()
    (tmp_path / "trip" / "day1.png").write_bytes(b"\x89PNG one")
    (tmp_path / "trip" / "notes").mkdir()
    (tmp_path / "trip" / "notes" / "a.txt").write_text("a")
    (tmp_path / "cover.jpg").write_bytes(b"\xff\xd8 jpeg")
    return tmp_path


@pytest.fixture
def default_sandbox(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("NEXTCLOUD_URL", "NEXTCLOUD_USER", "NEXTCLOUD_APP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    with NextcloudSandbox() as sandbox:
        yield sandbox


def test_upload_files_and_folders(
    default_sandbox: NextcloudSandbox, local_files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["sandbox", "upload", str(local_files / "trip"), str(local_files / "cover.jpg")]
    assert cli.main([*argv, "--to", "/Photos", "--url", default_sandbox.base_url]) == 0
    with default_sandbox.credentials.get_client() as client:
        assert client.download_file("/Photos/trip/day1.png") == b"\x89PNG one"
        assert client.download_file("/Photos/trip/notes/a.txt") == b"a"
        assert client.download_file("/Photos/cover.jpg") == b"\xff\xd8 jpeg"
        cover_id = client.get_file_id("/Photos/cover.jpg")
    printed = capsys.readouterr().out
    assert f"{local_files / 'cover.jpg'} -> /Photos/cover.jpg (file id {cover_id})" in printed


def test_upload_takes_the_exported_credentials(
    monkeypatch: pytest.MonkeyPatch, local_files: Path
) -> None:
    users = {"carol": "ccccc-ccccc-ccccc-ccccc-ccccc"}
    with NextcloudSandbox(users=users) as sandbox:
        monkeypatch.setenv("NEXTCLOUD_URL", sandbox.base_url)
        monkeypatch.setenv("NEXTCLOUD_USER", "carol")
        monkeypatch.setenv("NEXTCLOUD_APP_PASSWORD", users["carol"])
        assert cli.main(["sandbox", "upload", str(local_files / "cover.jpg")]) == 0
        with sandbox.credentials.get_client() as client:
            assert client.download_file("/cover.jpg") == b"\xff\xd8 jpeg"


def test_upload_of_a_missing_path_uploads_nothing(
    default_sandbox: NextcloudSandbox, local_files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["sandbox", "upload", str(local_files / "cover.jpg"), str(local_files / "nope.png")]
    assert cli.main([*argv, "--url", default_sandbox.base_url]) == 1
    assert "No such file or folder" in capsys.readouterr().err
    assert default_sandbox.requests_to("PUT", r".") == []


def test_upload_to_a_sandbox_that_is_not_running(
    local_files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with NextcloudSandbox() as sandbox:
        url = sandbox.base_url
    assert cli.main(["sandbox", "upload", str(local_files / "cover.jpg"), "--url", url]) == 1
    assert "Check the address" in capsys.readouterr().err


def test_the_demo_gives_prefects_temporary_server_time(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))  # restored after the test
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    seen: dict[str, Any] = {}

    class Analysis:
        task_id = 7
        analysis_text = "text"

    def fake_flow(**arguments: Any) -> Analysis:
        seen["startup"] = PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()
        seen["credentials"] = arguments["credentials"]
        return Analysis()

    # The flows package exports the flow under its module's name, so patch the module itself.
    module = importlib.import_module("prefect_nextcloud.flows.analyze_image")
    monkeypatch.setattr(module, "analyze_image", fake_flow)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert cli.main(["demo"]) == 0
    assert seen["startup"] == cli.DEMO_SERVER_STARTUP_SECONDS == 120
    assert seen["credentials"].app_password.get_secret_value() == DEFAULT_APP_PASSWORD
    assert "Starting Prefect's temporary API server" in capsys.readouterr().out


@pytest.mark.parametrize("api_url", ["", "http://127.0.0.1:4200/api"])
def test_the_demo_keeps_prefect_out_of_the_users_home(
    monkeypatch: pytest.MonkeyPatch, api_url: str
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", api_url)
    monkeypatch.setenv("PREFECT_HOME", "unset")  # recorded, so the test restores it
    monkeypatch.delenv("PREFECT_HOME")
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "unset")
    monkeypatch.delenv("PREFECT_SERVER_ANALYTICS_ENABLED")
    cli._quiet_demo_environment()
    if api_url:  # the user's own Prefect: its settings are the user's to choose
        assert "PREFECT_HOME" not in os.environ
    else:
        home = Path(os.environ["PREFECT_HOME"])
        assert home.parent == Path(tempfile.gettempdir())
        assert home != Path.home() / ".prefect"
    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"


def test_the_demo_leaves_a_chosen_prefect_home_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_HOME", "/srv/prefect")
    cli._quiet_demo_environment()
    assert os.environ["PREFECT_HOME"] == "/srv/prefect"
