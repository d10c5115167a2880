"""The file tasks in a Prefect flow, against the sandbox over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect import flow

from prefect_nextcloud import NextcloudCredentials, NextcloudPath
from prefect_nextcloud.client import NextcloudFileNotFoundError
from prefect_nextcloud.sandbox import NextcloudSandbox
from prefect_nextcloud.tasks import download_file, get_file_id, upload_file, write_text_file

pytestmark = pytest.mark.usefixtures("prefect_server")


@flow
def file_round_trip(
    credentials: NextcloudCredentials, folder: NextcloudPath, local: Path
) -> dict[str, object]:
    uploaded = upload_file(credentials, folder / "data.bin", b"\x00bytes")
    from_disk = upload_file(credentials, folder / "disk.txt", str(local))
    report = write_text_file(credentials, folder / "report.md", "# Done ✓")
    return {
        "ids": [uploaded, from_disk, report],
        "looked_up": get_file_id(credentials, folder / "report.md"),
        "data": download_file(credentials, folder / "data.bin"),
        "disk": download_file(credentials, folder / "disk.txt"),
        "report": download_file(credentials, folder / "report.md"),
    }


@flow
def look_up(credentials: NextcloudCredentials, path: str) -> int:
    return get_file_id.with_options(retry_delay_seconds=0)(credentials, path)


def test_file_tasks_in_a_flow(
    tmp_path: Path, sandbox: NextcloudSandbox, credentials: NextcloudCredentials
) -> None:
    local = tmp_path / "local.txt"
    local.write_bytes(b"from disk")
    result = file_round_trip(credentials, NextcloudPath("/Flows/run 1"), local)
    ids = result["ids"]
    assert isinstance(ids, list)
    assert len(set(ids)) == 3
    assert result["looked_up"] == ids[2]
    assert result["data"] == b"\x00bytes"
    assert result["disk"] == b"from disk"
    assert result["report"] == "# Done ✓".encode()


def test_missing_file_fails_the_task_without_retrying(
    sandbox: NextcloudSandbox, credentials: NextcloudCredentials
) -> None:
    with pytest.raises(NextcloudFileNotFoundError, match=r"Not found: /nope\.txt"):
        look_up(credentials, "/nope.txt")
    assert len(sandbox.requests_to("PROPFIND", "nope.txt")) == 1


def test_transient_failure_is_retried(
    sandbox: NextcloudSandbox, credentials: NextcloudCredentials
) -> None:
    file_id = sandbox.upload("there.txt", b"x")
    sandbox.inject_error(r"there\.txt$", 503, times=1, method="PROPFIND")
    assert look_up(credentials, "/there.txt") == file_id
    assert len(sandbox.requests_to("PROPFIND", "there.txt")) == 2
