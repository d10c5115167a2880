"""Values at the edges: 64-bit ids, text that is not Unicode, infinite timeouts, odd task ids
in answers, and compressed answers that expand without bound ("gzip bombs").

Bad input is a plain ValueError before anything is sent; a bad answer is a protocol error.
"""

from __future__ import annotations

import asyncio
import json
import math
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from faces import BothFaces

from prefect_nextcloud import NextcloudCredentials, NextcloudPath
from prefect_nextcloud.client import (
    AsyncNextcloudClient,
    DownloadTooLargeError,
    NextcloudClient,
    TaskInputError,
    UnexpectedResponseError,
    parse_file_reference,
    stage_files,
)
from prefect_nextcloud.client.retrying import RetryPolicy
from prefect_nextcloud.client.settings import ClientSettings
from prefect_nextcloud.client.validation import validate_input
from prefect_nextcloud.sandbox import NextcloudSandbox

MAX_ID = 2**63 - 1
LONE_SURROGATE = "caf\udce9 au lait"  # what errors="surrogateescape" makes of Latin-1 bytes


def assert_plain_value_error(error: BaseException, *parts: str) -> None:
    assert isinstance(error, ValueError)
    assert not isinstance(error, UnicodeError | OverflowError)
    for part in parts:
        assert part in str(error)


# -- ids ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("file_id", [MAX_ID + 1, str(MAX_ID + 1), 10**30, str(2**64)])
def test_file_ids_beyond_2_63_are_refused_before_sending(
    sandbox: NextcloudSandbox, credentials: NextcloudCredentials, file_id: Any
) -> None:
    with pytest.raises(ValueError, match=r"2\^63 - 1") as info:
        parse_file_reference(file_id)
    assert_plain_value_error(info.value, str(file_id).strip())
    assert parse_file_reference(MAX_ID) == parse_file_reference(str(MAX_ID)) == MAX_ID
    with (
        credentials.get_client() as client,
        pytest.raises(ValueError, match="2\\^63 - 1"),
        stage_files(client, [file_id]),
    ):
        pass
    assert sandbox.requests == []


@pytest.mark.parametrize("method", ["get_task", "cancel_task", "delete_task"])
def test_task_ids_beyond_2_63_are_refused_before_sending(
    sandbox: NextcloudSandbox, call: BothFaces, method: str
) -> None:
    with pytest.raises(ValueError, match="task_id must be at most") as info:
        call(method, MAX_ID + 1)
    assert_plain_value_error(info.value, str(MAX_ID + 1))
    with pytest.raises(ValueError, match=f"file_id must be at most {MAX_ID}"):
        call("get_task_file", 1, MAX_ID + 1)
    assert sandbox.requests == []


def test_a_file_slot_with_a_too_large_id_is_refused_before_scheduling(
    sandbox: NextcloudSandbox, call: BothFaces
) -> None:
    with pytest.raises(TaskInputError, match=f"expected a file id, got {MAX_ID + 1}"):
        call("schedule_task", "core:analyze-images", {"images": [MAX_ID + 1], "input": "?"})
    assert sandbox.requests_to("POST", "/schedule$") == []


# -- text that is not Unicode, numbers JSON cannot carry ---------------------------------------


def test_a_lone_surrogate_in_the_input_is_a_clean_value_error(
    sandbox: NextcloudSandbox, call: BothFaces
) -> None:
    for validate in (True, False):
        with pytest.raises(ValueError, match="Input slot 'input' is not valid Unicode") as info:
            call("schedule_task", "core:text2text", {"input": LONE_SURROGATE}, validate=validate)
        assert_plain_value_error(info.value, "lone surrogate '\\udce9'")
    with pytest.raises(ValueError, match="custom_id is not valid Unicode") as info:
        call("schedule_task", "core:text2text", {"input": "x"}, custom_id=LONE_SURROGATE)
    assert_plain_value_error(info.value)
    with pytest.raises(ValueError, match="custom_id is not valid Unicode") as info:
        call("list_tasks", custom_id=LONE_SURROGATE)
    assert_plain_value_error(info.value)
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (LONE_SURROGATE, "is not valid Unicode"),
        (math.nan, "cannot be sent as JSON"),
        (math.inf, "cannot be sent as JSON"),
    ],
)
def test_input_checked_against_its_task_type_refuses_what_cannot_be_sent(
    call: BothFaces, value: Any, reason: str
) -> None:
    declared = call("get_task_type", "core:text2text")
    slot = "input" if isinstance(value, str) else "max_tokens"
    with pytest.raises(TaskInputError, match=f"Input slot '{slot}' .*{reason}") as info:
        validate_input(declared, {"input": "x", slot: value})
    assert_plain_value_error(info.value)


def test_a_lone_surrogate_in_a_file_or_path_is_a_clean_value_error(
    sandbox: NextcloudSandbox, call: BothFaces
) -> None:
    with pytest.raises(ValueError, match="The text is not valid Unicode") as info:
        call("write_text", "/notes.txt", LONE_SURROGATE)
    assert_plain_value_error(info.value)
    with pytest.raises(ValueError, match=r"The Nextcloud path .* is not valid Unicode") as info:
        NextcloudPath(f"/{LONE_SURROGATE}.txt")
    assert_plain_value_error(info.value)
    assert sandbox.requests == []


@pytest.mark.parametrize("number", [math.nan, math.inf])
def test_a_number_json_cannot_carry_is_a_clean_value_error(
    sandbox: NextcloudSandbox, call: BothFaces, number: float
) -> None:
    with pytest.raises(ValueError, match="Input slot 'max_tokens' cannot be sent as JSON") as info:
        call("schedule_task", "core:text2text", {"input": "x", "max_tokens": number})
    assert_plain_value_error(info.value)
    assert sandbox.requests_to("POST", "/schedule$") == []


# -- infinite and NaN timeouts -----------------------------------------------------------------


@pytest.mark.parametrize("seconds", [math.inf, -math.inf, math.nan])
def test_an_infinite_or_nan_timeout_is_a_clean_value_error(
    seconds: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = {"base_url": "https://cloud.example.invalid", "user_id": "u", "app_password": "p"}
    for field in ("timeout_seconds", "retry_seconds", "retry_initial_delay_seconds"):
        with pytest.raises(ValueError, match=f"{field}\n.*finite number") as info:
            NextcloudCredentials(**base, **{field: seconds})
        assert_plain_value_error(info.value)
    with pytest.raises(ValueError, match=r"timeout_seconds\n.*finite number") as info:
        ClientSettings(timeout_seconds=seconds)
    assert_plain_value_error(info.value)
    with pytest.raises(ValueError, match="initial_delay_seconds must be finite") as info:
        RetryPolicy(initial_delay_seconds=seconds)
    assert_plain_value_error(info.value)
    monkeypatch.setenv("NEXTCLOUD_URL", base["base_url"])
    monkeypatch.setenv("NEXTCLOUD_USER", "u")
    monkeypatch.setenv("NEXTCLOUD_APP_PASSWORD", "p")
    monkeypatch.setenv("NEXTCLOUD_TIMEOUT_SECONDS", str(seconds))
    with pytest.raises(ValueError, match="NEXTCLOUD_TIMEOUT_SECONDS is invalid") as info:
        NextcloudCredentials.from_env()
    assert_plain_value_error(info.value)


# -- answers with an invalid task id -----------------------------------------------------------


def task_answer(task_id: Any) -> bytes:
    task = {"id": task_id, "type": "core:text2text", "status": "STATUS_SCHEDULED", "input": {}}
    return json.dumps(
        {"ocs": {"meta": {"status": "ok", "statuscode": 200}, "data": {"task": task}}}
    ).encode()


@pytest.mark.parametrize("task_id", [True, False, -1, 0, 10**30, MAX_ID + 1, "5", 5.0])
def test_an_answer_with_an_invalid_task_id_is_a_protocol_error(
    sandbox: NextcloudSandbox, call: BothFaces, task_id: Any
) -> None:
    headers = {"Content-Type": "application/json"}
    sandbox.inject_error("/schedule$", 200, task_answer(task_id), headers=headers)
    with pytest.raises(UnexpectedResponseError) as info:
        call("schedule_task", "core:text2text", {"input": "x"})
    assert "POST /ocs/v2.php/taskprocessing/schedule" in str(info.value)
    assert "id" in str(info.value)
    sandbox.inject_error(r"/task/1$", 200, task_answer(task_id), headers=headers)
    with pytest.raises(UnexpectedResponseError):
        call("get_task", 1)
    sandbox.inject_error(r"/task/1$", 200, task_answer(MAX_ID), headers=headers)
    assert call("get_task", 1).id == MAX_ID


def ocs_answer(data: Any) -> bytes:
    return json.dumps({"ocs": {"meta": {"status": "ok", "statuscode": 200}, "data": data}}).encode()


@pytest.mark.parametrize(
    ("path", "method", "data", "expected"),
    [
        ("/tasks$", "list_tasks", {"tasks": {"1": {}}}, "has a dict where the list of tasks"),
        ("/tasktypes$", "get_task_types", {"types": "none"}, "has a str where the map of task"),
    ],
)
def test_an_answer_with_a_misplaced_container_is_a_protocol_error(
    sandbox: NextcloudSandbox, call: BothFaces, path: str, method: str, data: Any, expected: str
) -> None:
    headers = {"Content-Type": "application/json"}
    sandbox.inject_error(path, 200, ocs_answer(data), headers=headers)
    with pytest.raises(UnexpectedResponseError, match=expected) as info:
        call(method)
    assert info.value.status_code == 200
    assert info.value.endpoint.endswith(path.rstrip("$"))


# -- gzip bombs --------------------------------------------------------------------------------

BOMB_BYTES = 1024**3  # what the answer expands to
LIMIT = 8 * 1024**2
PIECE = 64 * 1024


@pytest.fixture(scope="module")
def bomb() -> list[bytes]:
    """About 1 MB of gzip that expands to 1 GiB of zeros, in the pieces a network gives."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(1024**2)
    data = b"".join(compressor.compress(zeros) for _ in range(BOMB_BYTES // len(zeros)))
    data += compressor.flush()
    return [data[start : start + PIECE] for start in range(0, len(data), PIECE)]


class Pieces(httpx.SyncByteStream, httpx.AsyncByteStream):
    """An answer body handed out piece by piece, counting how many pieces were read."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces
        self.read = 0

    def __iter__(self) -> Iterator[bytes]:
        for piece in self.pieces:
            self.read += 1
            yield piece

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.__iter__():
            yield piece


def bomb_client(face: str, stream: Pieces, settings: ClientSettings | None = None) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
        return httpx.Response(200, headers=headers, stream=stream)

    transport = httpx.MockTransport(answer)
    cls = NextcloudClient if face == "sync" else AsyncNextcloudClient
    return cls("http://127.0.0.1:9", "alice", "pw", transport=transport, settings=settings)


def peak_bytes_of(face: str, client: Any, method: str, *args: Any, **kwargs: Any) -> int:
    """Call a client method, expect DownloadTooLargeError; return the peak traced memory."""

    async def call_async() -> Any:
        async with client:
            return await getattr(client, method)(*args, **kwargs)

    def call_sync() -> Any:
        with client:
            return getattr(client, method)(*args, **kwargs)

    tracemalloc.start()
    try:
        with pytest.raises(DownloadTooLargeError):
            call_sync() if face == "sync" else asyncio.run(call_async())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("face", ["sync", "async"])
@pytest.mark.parametrize(
    ("method", "args"),
    [("download_file", ("/bomb.json",)), ("get_task_types", ()), ("download_to", None)],
)
def test_a_gzip_bomb_stops_at_the_limit_with_bounded_memory(
    bomb: list[bytes], face: str, method: str, args: Any, tmp_path: Path
) -> None:
    stream = Pieces(bomb)
    if method == "download_to":
        client = bomb_client(face, stream)
        peak = peak_bytes_of(face, client, method, "/bomb.json", tmp_path / "b", max_bytes=LIMIT)
    else:
        client = bomb_client(face, stream, ClientSettings(max_download_bytes=LIMIT))
        peak = peak_bytes_of(face, client, method, *args)
    # Decoded in pieces of 64 KiB: the limit trips within the first received piece or two,
    # long before the 1 GiB; memory stays near the limit (generously bounded here).
    assert stream.read <= 2, f"read {stream.read} of {len(bomb)} pieces"
    assert peak < 3 * LIMIT, f"peak {peak / 1024**2:.0f} MiB"
