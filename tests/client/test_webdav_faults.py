"""WebDAV calls survive the passing faults OCS calls survive, on both faces, through one path.

Each test queues the sandbox's one-off faults (a proxy's 502, maintenance mode, a dropped
connection, an answer lost after the server did the work) in front of one operation and checks
that it still ends well, with the server in the state a single clean call leaves. A one-shot
upload stream is the exception: its bytes cannot be sent twice, so it fails at once, saying so.
"""

from __future__ import annotations

import asyncio
import io
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from faces import BothFaces

from prefect_nextcloud.client import (
    AsyncNextcloudClient,
    NextcloudClient,
    NextcloudConnectionError,
    NextcloudFileNotFoundError,
    ServerError,
    config,
)
from prefect_nextcloud.client.plans import MAX_REMEMBERED, ServerMemory
from prefect_nextcloud.client.retrying import RetryPolicy
from prefect_nextcloud.sandbox import FaultAction, NextcloudSandbox

# The faults of one operation, in the order they hit its requests.
PASSING_FAULTS = [
    FaultAction.RESPOND,
    FaultAction.MAINTENANCE,
    FaultAction.DROP,
    FaultAction.LOSE_RESPONSE,
]
CONTENT = bytes(range(256)) * 64


def inject_passing_faults(sandbox: NextcloudSandbox, path_regex: str, method: str) -> None:
    """Queue one fault of each passing kind for the next requests of ``method`` to the path."""
    sandbox.inject_error(path_regex, 502, b"<html>Bad gateway</html>", method=method)
    sandbox.inject_maintenance(path_regex, method=method)
    sandbox.inject_drop(path_regex, method=method)
    sandbox.inject_lost_response(path_regex, method=method)


def faults_of(sandbox: NextcloudSandbox, method: str, path_regex: str) -> list[FaultAction | None]:
    return [request.fault for request in sandbox.requests_to(method, path_regex)]


class OneShotStream(io.RawIOBase):
    """A binary stream that reads once and cannot seek, like a pipe or a socket."""

    def __init__(self, data: bytes) -> None:
        self._rest = data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, size: int = -1) -> bytes:
        size = len(self._rest) if size < 0 else size
        chunk, self._rest = self._rest[:size], self._rest[size:]
        return chunk


def _bytes(tmp_path: Path) -> Any:
    return CONTENT


def _local_file(tmp_path: Path) -> Any:
    local = tmp_path / "data.bin"
    local.write_bytes(CONTENT)
    return local


def _seekable_stream_after_a_header(tmp_path: Path) -> Any:
    stream = io.BytesIO(b"HEADER" + CONTENT)
    stream.seek(len(b"HEADER"))  # sent again from here, not from the stream's start
    return stream


@pytest.mark.parametrize("source", [_bytes, _local_file, _seekable_stream_after_a_header])
def test_an_upload_survives_passing_faults(
    sandbox: NextcloudSandbox, call: BothFaces, tmp_path: Path, source: Callable[[Path], Any]
) -> None:
    inject_passing_faults(sandbox, r"/up/data\.bin$", "PUT")
    file_id = call("upload_file", "/up/data.bin", source(tmp_path))
    assert faults_of(sandbox, "PUT", r"/up/data\.bin$") == [*PASSING_FAULTS, None]
    assert call("get_file_id", "/up/data.bin") == file_id
    assert call("download_file", "/up/data.bin") == CONTENT


@pytest.mark.parametrize("into", ["memory", "disk"])
def test_a_download_survives_passing_faults(
    sandbox: NextcloudSandbox, call: BothFaces, tmp_path: Path, into: str
) -> None:
    sandbox.upload("down/data.bin", CONTENT)
    inject_passing_faults(sandbox, r"/down/data\.bin$", "GET")
    if into == "memory":
        assert call("download_file", "/down/data.bin") == CONTENT
    else:
        destination = tmp_path / "copy.bin"
        assert call("download_to", "/down/data.bin", destination) == destination
        assert destination.read_bytes() == CONTENT
        assert list(tmp_path.iterdir()) == [destination]  # no partial file left behind
    assert faults_of(sandbox, "GET", r"/down/data\.bin$") == [*PASSING_FAULTS, None]


def test_folder_creation_survives_passing_faults(
    sandbox: NextcloudSandbox, call: BothFaces
) -> None:
    inject_passing_faults(sandbox, r"/made/by/faults$", "PROPFIND")
    # The answer to the first MKCOL is lost: its repeat finds the folder there, which is fine.
    sandbox.inject_lost_response(r"/made$", method="MKCOL")
    sandbox.inject_error(r"/made/by$", 503, method="MKCOL")
    sandbox.inject_drop(r"/made/by/faults$", method="MKCOL")
    call("make_folders", "/made/by/faults")
    assert call("get_file_info", "/made/by/faults").is_folder
    assert faults_of(sandbox, "PROPFIND", r"/made/by/faults$")[:5] == [*PASSING_FAULTS, None]
    made = sandbox.requests_to("MKCOL", "/made")
    assert [(r.path.rpartition("/files/alice")[2], r.fault, r.status) for r in made] == [
        ("/made", FaultAction.LOSE_RESPONSE, 201),
        ("/made", None, 405),
        ("/made/by", FaultAction.RESPOND, 503),
        ("/made/by", None, 201),
        ("/made/by/faults", FaultAction.DROP, None),
        ("/made/by/faults", None, 201),
    ]


def test_a_delete_whose_answer_was_lost_is_done(sandbox: NextcloudSandbox, call: BothFaces) -> None:
    sandbox.upload("gone.txt", b"bye")
    sandbox.inject_error(r"/gone\.txt$", 504, method="DELETE")
    sandbox.inject_lost_response(r"/gone\.txt$", method="DELETE")
    call("delete_file", "/gone.txt", missing_ok=False)  # the repeat's 404 means: deleted
    deletes = sandbox.requests_to("DELETE", r"/gone\.txt$")
    assert [(r.fault, r.status) for r in deletes] == [
        (FaultAction.RESPOND, 504),
        (FaultAction.LOSE_RESPONSE, 204),
        (None, 404),
    ]
    with pytest.raises(NextcloudFileNotFoundError):
        call("delete_file", "/gone.txt", missing_ok=False)


def test_a_one_shot_upload_stream_is_not_retried(
    sandbox: NextcloudSandbox, call: BothFaces
) -> None:
    sandbox.inject_drop(r"/once\.bin$", method="PUT")
    with pytest.raises(NextcloudConnectionError, match="not tried again") as caught:
        call("upload_file", "/once.bin", OneShotStream(CONTENT))
    assert "cannot seek back" in str(caught.value)
    assert len(sandbox.requests_to("PUT", r"/once\.bin$")) == 1
    with pytest.raises(NextcloudFileNotFoundError):
        call("get_file_info", "/once.bin")


def test_a_one_shot_upload_stream_without_faults_is_sent(call: BothFaces) -> None:
    call("upload_file", "/once.bin", OneShotStream(CONTENT))
    assert call("download_file", "/once.bin") == CONTENT


def test_a_comment_is_sent_once(sandbox: NextcloudSandbox, call: BothFaces) -> None:
    file_id = sandbox.upload("note.txt", b"hi")
    sandbox.inject_error(r"/comments/files/", 502, method="POST")
    with pytest.raises(ServerError) as caught:
        call("post_comment", file_id, "Hello")
    assert "not tried again" not in str(caught.value)  # not an upload: nothing to explain
    assert len(sandbox.requests_to("POST", r"/comments/files/")) == 1


# -- A download broken off mid-body (which the sandbox cannot do) starts again from scratch --


def _broken_then_whole(asynchronous: bool) -> Callable[[httpx.Request], httpx.Response]:
    answers = 0

    def chunks(broken: bool) -> Iterator[bytes]:
        yield CONTENT[:1000]
        if broken:
            raise httpx.ReadError("connection reset mid-body")
        yield CONTENT[1000:]

    async def achunks(broken: bool) -> AsyncIterator[bytes]:
        for chunk in chunks(broken):
            yield chunk

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal answers
        answers += 1
        broken = answers == 1
        return httpx.Response(200, content=achunks(broken) if asynchronous else chunks(broken))

    return answer


@pytest.mark.parametrize("into", ["memory", "disk"])
@pytest.mark.parametrize("face", ["sync", "async"])
def test_a_download_broken_off_starts_again_from_scratch(
    tmp_path: Path, face: str, into: str
) -> None:
    destination = tmp_path / "copy.bin"
    options: dict[str, Any] = {"retry_policy": RetryPolicy(initial_delay_seconds=0.01)}
    if face == "sync":
        transport = httpx.MockTransport(_broken_then_whole(asynchronous=False))
        with NextcloudClient(
            "http://127.0.0.1:9", "alice", "pw", transport=transport, **options
        ) as c:
            if into == "memory":
                assert c.download_file("/data.bin") == CONTENT
            else:
                c.download_to("/data.bin", destination)
    else:

        async def main() -> bytes | None:
            transport = httpx.MockTransport(_broken_then_whole(asynchronous=True))
            async with AsyncNextcloudClient(
                "http://127.0.0.1:9", "alice", "pw", transport=transport, **options
            ) as c:
                if into == "memory":
                    return await c.download_file("/data.bin")
                await c.download_to("/data.bin", destination)
                return None

        content = asyncio.run(main())
        if into == "memory":
            assert content == CONTENT
    if into == "disk":
        assert destination.read_bytes() == CONTENT
        assert list(tmp_path.iterdir()) == [destination]


# -- Process-wide memory stays bounded ------------------------------------------------------


def test_server_memory_stays_bounded() -> None:
    for number in range(MAX_REMEMBERED + 50):
        ServerMemory((f"https://cloud-{number}.example", "alice")).put("version", number, 60)
    assert ServerMemory.size() == MAX_REMEMBERED
    assert ServerMemory(("https://cloud-0.example", "alice")).get("version") is None
    newest = MAX_REMEMBERED + 49
    assert ServerMemory((f"https://cloud-{newest}.example", "alice")).get("version") == newest


def test_expired_server_memory_is_dropped() -> None:
    for number in range(10):
        ServerMemory((f"https://old-{number}.example", "alice")).put("version", number, 0)
    ServerMemory(("https://new.example", "alice")).put("version", 1, 60)
    assert ServerMemory.size() == 1


def test_insecure_warnings_remember_a_bounded_number_of_servers() -> None:
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        for number in range(config.MAX_WARNED_SERVERS + 20):
            config.tls_verification(
                f"https://bounded-{number}.example.invalid", verify_tls=False, ca_bundle=None
            )
    assert len(warned) == config.MAX_WARNED_SERVERS + 20
    assert len(config._warned_insecure) == config.MAX_WARNED_SERVERS
