"""Staging file references as file ids, with real uploads to the sandbox."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from prefect_nextcloud import NextcloudCredentials
from prefect_nextcloud.client import (
    LocalFile,
    NextcloudFileNotFoundError,
    NextcloudPath,
    astage_files,
    stage_files,
)
from prefect_nextcloud.sandbox import NextcloudSandbox

STAGING = "/prefect-nextcloud/uploads"


class Boom(Exception):
    pass


def staged_paths(sandbox: NextcloudSandbox) -> list[str]:
    prefix = "/remote.php/dav/files/alice"
    return [r.path.removeprefix(prefix) for r in sandbox.requests_to("PUT", STAGING)]


def exists(credentials: NextcloudCredentials, path: str) -> bool:
    with credentials.get_client() as client:
        try:
            client.get_file_info(path)
        except NextcloudFileNotFoundError:
            return False
    return True


Stage = Callable[..., list[int]]


@pytest.fixture(params=["sync", "async"])
def stage(request: pytest.FixtureRequest, credentials: NextcloudCredentials) -> Stage:
    """Run ``body(ids)`` inside stage_files or astage_files; return the ids."""

    def run(
        references: list[Any], body: Callable[[list[int]], None] = lambda ids: None, **kw: Any
    ) -> list[int]:
        if request.param == "sync":
            with credentials.get_client() as client, stage_files(client, references, **kw) as ids:
                body(ids)
                return ids

        async def main() -> list[int]:
            async with (
                credentials.get_async_client() as client,
                astage_files(client, references, **kw) as ids,
            ):
                body(ids)
                return ids

        return asyncio.run(main())

    return run


def test_every_kind_of_reference_resolves_and_staged_files_go_away(
    tmp_path: Path,
    sandbox: NextcloudSandbox,
    credentials: NextcloudCredentials,
    stage: Stage,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEXTCLOUD_LOCAL_FILE_ROOTS", str(tmp_path))
    existing = sandbox.upload("Photos/a.jpg", b"jpeg")
    local = tmp_path / "local.png"
    local.write_bytes(b"local content")
    seen: dict[int, bytes] = {}

    def body(ids: list[int]) -> None:
        with credentials.get_client() as client:
            for path in staged_paths(sandbox):
                seen[client.get_file_id(path)] = client.download_file(path)

    ids = stage(
        [
            7,
            "nc:/Photos/a.jpg",
            NextcloudPath("/Photos/a.jpg"),
            local,
            f"file:{local}",
            ("inline.txt", b"inline"),
            LocalFile(name="model.txt", data=b"model"),
            "12",
        ],
        body,
    )
    assert ids[:3] == [7, existing, existing]
    assert ids[-1] == 12
    assert [seen[file_id] for file_id in ids[3:7]] == [
        b"local content",
        b"local content",
        b"inline",
        b"model",
    ]
    paths = staged_paths(sandbox)
    assert len(paths) == len(set(paths)) == 4
    assert [p.rpartition("-")[2] for p in paths] == [
        "local.png",
        "local.png",
        "inline.txt",
        "model.txt",
    ]
    assert all(p.startswith(f"{STAGING}/") for p in paths)
    assert not any(exists(credentials, p) for p in paths)
    assert exists(credentials, "/Photos/a.jpg")


def test_staged_files_go_away_when_the_body_raises(
    sandbox: NextcloudSandbox, credentials: NextcloudCredentials, stage: Stage
) -> None:
    def body(ids: list[int]) -> None:
        raise Boom

    with pytest.raises(Boom):
        stage([("a.txt", b"a"), ("b.txt", b"b")], body)
    paths = staged_paths(sandbox)
    assert len(paths) == 2
    assert not any(exists(credentials, p) for p in paths)


def test_keep_leaves_staged_files(
    sandbox: NextcloudSandbox, credentials: NextcloudCredentials, stage: Stage
) -> None:
    ids = stage([("kept.txt", b"kept")], keep=True, staging_folder="/custom/stage")
    [path] = [
        r.path.removeprefix("/remote.php/dav/files/alice") for r in sandbox.requests_to("PUT", "")
    ]
    assert path.startswith("/custom/stage/")
    assert path.endswith("-kept.txt")
    with credentials.get_client() as client:
        assert client.get_file_id(path) == ids[0]
        assert client.download_file(path) == b"kept"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("photo.png", "ambiguous"),
        (Path("/no/such/file.png"), "does not exist"),
        ("file:/no/such/file.png", "does not exist"),
        (0, "positive"),
        (b"bytes", "LocalFile"),
    ],
)
def test_a_bad_reference_uploads_nothing(
    tmp_path: Path,
    sandbox: NextcloudSandbox,
    stage: Stage,
    bad: Any,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEXTCLOUD_LOCAL_FILE_ROOTS", "/no")
    local = tmp_path / "ok.png"
    local.write_bytes(b"ok")
    sandbox.clear_requests()
    with pytest.raises(ValueError, match=f"File reference 3 of 3: .*{message}"):
        stage([local, ("x.txt", b"x"), bad])
    assert sandbox.requests == []


def test_a_folder_or_missing_path_uploads_nothing(
    tmp_path: Path, sandbox: NextcloudSandbox, stage: Stage
) -> None:
    sandbox.upload("Folder/inside.txt", b"x")
    with pytest.raises(ValueError, match="/Folder is a folder, not a file"):
        stage([("x.txt", b"x"), "nc:/Folder"])
    with pytest.raises(NextcloudFileNotFoundError, match=r"Not found: /missing\.png"):
        stage([("x.txt", b"x"), "nc:/missing.png"])
    assert sandbox.requests_to("PUT", "") == []
    assert sandbox.requests_to("MKCOL", "") == []


def test_references_must_be_a_list(stage: Stage) -> None:
    with pytest.raises(ValueError, match="list of file references"):
        stage("nc:/a.png")  # type: ignore[arg-type]


def test_raw_bytes_of_a_known_format_are_staged_under_a_content_name(
    sandbox: NextcloudSandbox, stage: Stage
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    seen: list[str] = []

    def body(ids: list[int]) -> None:
        with sandbox.credentials.get_client() as client:
            seen.extend(info.path.name for info in client.list_folder(STAGING))

    stage([png], body)
    assert len(seen) == 1
    assert seen[0].endswith("-upload-" + hashlib.sha256(png).hexdigest()[:12] + ".png")
