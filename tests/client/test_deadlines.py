"""Wall-clock deadlines: a request ends by timeout_seconds, a client.deadline() region by its end.

httpx's own timeouts apply to each read, so a server that trickles its answer never trips
them. A raw socket server on 127.0.0.1 trickles headers or bodies here; the sandbox serves
the retry cases. Bounds are generous: what matters is that the trickle would take far longer.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from prefect_nextcloud.client import (
    AsyncNextcloudClient,
    DeadlineExceededError,
    NextcloudClient,
    NextcloudConnectionError,
    TaskNotFoundError,
)
from prefect_nextcloud.client.retrying import RetryPolicy
from prefect_nextcloud.client.settings import ClientSettings
from prefect_nextcloud.sandbox import NextcloudSandbox

TASK_JSON = b'{"ocs":{"meta":{"status":"ok","statuscode":200},"data":{"task":{}}}}'
# The trickle would take 12 s or more; every bound below is a few seconds.
TRICKLE_BYTES = 60
TRICKLE_INTERVAL = 0.2


class TrickleServer:
    """Answers every request slowly: its headers, or its body, one byte every 0.2 s."""

    def __init__(self, *, trickle_headers: bool) -> None:
        self.trickle_headers = trickle_headers
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> TrickleServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        socket.create_connection(("127.0.0.1", self.port)).close()  # wakes accept() up
        self.thread.join(timeout=10)
        self.listener.close()

    def _serve(self) -> None:
        while True:
            connection, _ = self.listener.accept()
            if self.stop.is_set():
                connection.close()
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        body = b" " * TRICKLE_BYTES
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        head += b"Content-Length: %d\r\n\r\n" % len(body)
        with connection:
            connection.recv(65536)
            try:
                if self.trickle_headers:
                    self._trickle(connection, head)
                else:
                    connection.sendall(head)
                self._trickle(connection, body)
            except OSError:  # the client gave up and closed the connection
                return

    def _trickle(self, connection: socket.socket, data: bytes) -> None:
        for index in range(len(data)):
            if self.stop.wait(TRICKLE_INTERVAL):
                return
            connection.sendall(data[index : index + 1])


def client_of(server: TrickleServer, face: str, timeout_seconds: float = 30.0) -> Any:
    cls = NextcloudClient if face == "sync" else AsyncNextcloudClient
    return cls(
        f"http://127.0.0.1:{server.port}",
        "alice",
        "pw",
        settings=ClientSettings(timeout_seconds=timeout_seconds),
        retry_policy=RetryPolicy(max_elapsed_seconds=0),
    )


def run_on(face: str, client: Any, body: Callable[[Any], Any]) -> Any:
    """Call ``body(client)`` and return its result, awaiting it on the async face."""
    if face == "sync":
        with client:
            return body(client)

    async def main() -> Any:
        async with client:
            return await body(client)

    return asyncio.run(main())


def in_region(face: str, seconds: float, call: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A body for :func:`run_on` that makes ``call(client)`` inside ``client.deadline()``."""
    if face == "sync":

        def body(client: Any) -> Any:
            with client.deadline(seconds):
                return call(client)

        return body

    async def abody(client: Any) -> Any:
        with client.deadline(seconds):
            return await call(client)

    return abody


@pytest.fixture(params=["sync", "async"])
def face(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=[False, True], ids=["trickled-body", "trickled-headers"])
def trickle(request: pytest.FixtureRequest) -> Iterator[TrickleServer]:
    with TrickleServer(trickle_headers=request.param) as server:
        yield server


CALLS: dict[str, Callable[[Any], Any]] = {
    "ocs": lambda client: client.get_task(1),
    "webdav": lambda client: client.get_file_info("/a.txt"),
    "download": lambda client: client.download_file("/a.txt"),
}


@pytest.mark.parametrize("kind", CALLS)
def test_a_trickling_answer_ends_at_timeout_seconds(
    trickle: TrickleServer, face: str, kind: str
) -> None:
    client = client_of(trickle, face, timeout_seconds=1)
    started = time.monotonic()
    with pytest.raises(NextcloudConnectionError) as info:
        run_on(face, client, CALLS[kind])
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"took {elapsed:.1f} s"
    message = str(info.value)
    assert "timed out" in message
    assert "did not finish within timeout_seconds=1" in message
    assert f"127.0.0.1:{trickle.port}" in message


def test_a_download_to_disk_ends_at_timeout_seconds(
    trickle: TrickleServer, face: str, tmp_path: Any
) -> None:
    client = client_of(trickle, face, timeout_seconds=1)
    started = time.monotonic()
    with pytest.raises(NextcloudConnectionError, match="timeout_seconds=1"):
        run_on(face, client, lambda c: c.download_to("/a.txt", tmp_path / "a.txt"))
    assert time.monotonic() - started < 5
    assert list(tmp_path.iterdir()) == []


def test_a_region_bounds_a_slow_request(trickle: TrickleServer, face: str) -> None:
    client = client_of(trickle, face, timeout_seconds=60)
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError) as info:
        run_on(face, client, in_region(face, 1, CALLS["webdav"]))
    assert time.monotonic() - started < 5
    message = str(info.value)
    assert "PROPFIND /remote.php/dav/files/alice/a.txt" in message
    assert "deadline of 1 s set with client.deadline() passed before it finished" in message
    assert "allow more time" in message


def test_a_region_bounds_retries_and_cuts_their_waits(sandbox: NextcloudSandbox, face: str) -> None:
    # A 503 is retried after about 10 s here; the region of 1 s cuts that wait short.
    sandbox.inject_error(r"/taskprocessing/task/\d+$", status=503, times=100)
    credentials = sandbox.credentials.model_copy(update={"retry_initial_delay_seconds": 10})
    client = credentials.get_client() if face == "sync" else credentials.get_async_client()
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError, match=r"task/1: the deadline of 1 s .* be sent"):
        run_on(face, client, in_region(face, 1, CALLS["ocs"]))
    elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 5, f"took {elapsed:.1f} s"
    assert len(sandbox.requests_to("GET", r"/taskprocessing/task/1$")) == 1


def test_nothing_is_sent_once_a_region_has_passed(sandbox: NextcloudSandbox, face: str) -> None:
    credentials = sandbox.credentials
    client = credentials.get_client() if face == "sync" else credentials.get_async_client()
    inner = in_region(face, 100, CALLS["ocs"])
    outer = in_region(face, 0, inner)  # the earlier end applies
    with pytest.raises(DeadlineExceededError, match="passed before it could be sent"):
        run_on(face, client, outer)
    assert sandbox.requests == []


def test_a_region_covers_only_the_thread_that_opened_it(sandbox: NextcloudSandbox) -> None:
    results: list[BaseException] = []
    with sandbox.credentials.get_client() as client, client.deadline(0):

        def elsewhere() -> None:
            try:
                client.get_task(1)
            except TaskNotFoundError as error:  # the call went out: no deadline here
                results.append(error)

        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join(timeout=30)
        with pytest.raises(DeadlineExceededError):
            client.get_task(1)
    assert len(results) == 1


def test_a_region_covers_only_its_asyncio_task(sandbox: NextcloudSandbox) -> None:
    async def main() -> list[Any]:
        async with sandbox.credentials.get_async_client() as client:

            async def bounded() -> Any:
                with client.deadline(0):
                    return await client.get_task(1)

            return await asyncio.gather(bounded(), client.get_task(1), return_exceptions=True)

    bounded, free = asyncio.run(main())
    assert isinstance(bounded, DeadlineExceededError)
    assert isinstance(free, TaskNotFoundError)


@pytest.mark.parametrize("seconds", [float("nan"), float("inf"), "5", True, None])
def test_a_region_needs_a_finite_number(sandbox: NextcloudSandbox, seconds: Any) -> None:
    with (
        sandbox.credentials.get_client() as client,
        pytest.raises(ValueError, match="seconds must be a finite number"),
        client.deadline(seconds),
    ):
        pass
