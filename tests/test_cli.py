"""The command line: uploading into and looking at a running sandbox, and the demo's patience."""

from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
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

FIXED_TIME = 1_700_000_000.0
SHOWN_TIME = "2023-11-14 22:13:20 UTC"


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


@dataclass(frozen=True)
class Scenario:
    """A sandbox with a commented file and a finished task, all at :data:`FIXED_TIME`."""

    sandbox: NextcloudSandbox
    file_id: int
    comment_id: int | None
    task_id: int


@pytest.fixture
def scenario(monkeypatch: pytest.MonkeyPatch) -> Iterator[Scenario]:
    for name in ("NEXTCLOUD_URL", "NEXTCLOUD_USER", "NEXTCLOUD_APP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    with NextcloudSandbox(clock=lambda: FIXED_TIME) as sandbox:
        file_id = sandbox.upload("Photos/cat.png", b"png")
        with sandbox.credentials.get_client() as client:
            comment_id = client.post_comment(file_id, "A cat\non a mat")
            task = client.schedule_task("core:text2text", {"input": "Describe"}, custom_id="job-1")
        sandbox.wait_for_status(task.id, "SUCCESSFUL")
        yield Scenario(sandbox, file_id, comment_id, task.id)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    printed = capsys.readouterr()
    return code, printed.out, printed.err


def test_sandbox_ls_prints_each_users_files(
    scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    with scenario.sandbox.credentials.get_client() as client:
        folder = client.get_file_info("/Photos")
        image = client.get_file_info("/Photos/cat.png")

    code, out, _ = _run(capsys, "sandbox", "ls", "--url", scenario.sandbox.base_url)

    assert code == 0
    assert [line.split() for line in out.splitlines()] == [
        ["alice:"],
        ["PATH", "FILE", "ID", "SIZE", "MODIFIED", "ETAG"],
        ["/Photos/", str(folder.file_id), "3", *SHOWN_TIME.split(), folder.etag],
        ["/Photos/cat.png", str(scenario.file_id), "3", *SHOWN_TIME.split(), image.etag],
    ]


def test_sandbox_comments_prints_each_comment_under_its_file(
    scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "sandbox", "comments", "--url", scenario.sandbox.base_url)

    assert code == 0
    assert out == (
        "alice:\n"
        f"  /Photos/cat.png (file {scenario.file_id}):\n"
        f"    alice, {SHOWN_TIME} (comment {scenario.comment_id}):\n"
        "      A cat\n"
        "      on a mat\n"
    )


def test_sandbox_tasks_prints_each_task_with_its_answer(
    scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    task = scenario.sandbox.task(scenario.task_id)
    assert task.output is not None

    code, out, _ = _run(capsys, "sandbox", "tasks", "--url", scenario.sandbox.base_url)

    assert code == 0
    answer = "".join(f"    {line}\n" for line in task.output["output"].splitlines())
    assert out == (
        f"Task {task.id}  core:text2text  SUCCESSFUL\n"
        f"  user alice, app {task.app_id}, custom id job-1\n"
        f"  scheduled {SHOWN_TIME}\n"
        f"  started   {SHOWN_TIME}\n"
        f"  ended     {SHOWN_TIME}\n"
        "  took      0 s\n"
        "  output:\n" + answer
    )


def test_the_sandbox_views_print_no_password_and_name_an_unknown_user(
    scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    url = scenario.sandbox.base_url
    for command in ("ls", "comments", "tasks"):
        code, out, err = _run(capsys, "sandbox", command, "--url", url)
        assert code == 0
        assert DEFAULT_APP_PASSWORD not in out + err

    code, out, err = _run(capsys, "sandbox", "tasks", "--url", url, "--user", "carol")
    assert (code, out) == (1, "")
    assert err == (
        f"prefect-nextcloud sandbox tasks: {url}/sandbox/overview.json answered 404: The "
        "sandbox has no user 'carol'; its users are: alice.\n"
    )


def test_the_sandbox_views_log_in_where_the_sandbox_asks(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    password = "ccccc-ccccc-ccccc-ccccc-ccccc"
    with NextcloudSandbox(host="0.0.0.0", users={"carol": password}) as sandbox:
        sandbox.upload("carol.txt", b"c")
        url = f"http://127.0.0.1:{sandbox.port}"
        monkeypatch.setenv("NEXTCLOUD_USER", "carol")
        monkeypatch.setenv("NEXTCLOUD_APP_PASSWORD", password)
        code, out, _ = _run(capsys, "sandbox", "ls", "--url", url)
        assert code == 0
        assert "/carol.txt" in out

        monkeypatch.setenv("NEXTCLOUD_APP_PASSWORD", "wrong-password")
        code, out, err = _run(capsys, "sandbox", "ls", "--url", url)
    assert (code, out) == (1, "")
    assert "refused user 'carol': set NEXTCLOUD_USER and NEXTCLOUD_APP_PASSWORD" in err
    assert "wrong-password" not in err


def test_the_sandbox_views_of_a_sandbox_that_is_not_running(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with NextcloudSandbox() as sandbox:
        url = sandbox.base_url
    code, out, err = _run(capsys, "sandbox", "ls", "--url", url)
    assert (code, out) == (1, "")
    assert f"Could not read {url}/sandbox/overview.json" in err
    assert "Start a sandbox with 'prefect-nextcloud sandbox'" in err
