"""The workarounds of prefect_nextcloud._compat still hold for the installed dependencies."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from prefect_nextcloud._compat import install_deadline_backends, request_expiry
from prefect_nextcloud.blocks.credentials import NextcloudCredentials, resolve_credentials
from prefect_nextcloud.sandbox import NextcloudSandbox

MOUNTS = {"http://proxied.invalid": httpx.HTTPTransport()}
ASYNC_MOUNTS = {"http://proxied.invalid": httpx.AsyncHTTPTransport()}


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that takes connections (in its backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_every_pool_of_a_client_gets_the_deadline_backend() -> None:
    with httpx.Client(mounts=MOUNTS) as http:
        assert install_deadline_backends(http) == 2
        assert install_deadline_backends(http) == 2  # a second call wraps nothing twice


def test_every_pool_of_an_async_client_gets_the_deadline_backend() -> None:
    async def main() -> int:
        async with httpx.AsyncClient(mounts=ASYNC_MOUNTS) as http:
            return install_deadline_backends(http)

    assert asyncio.run(main()) == 2


def test_a_transport_without_a_pool_is_left_alone() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    with httpx.Client(transport=transport) as http:
        assert install_deadline_backends(http) == 0
        assert http.get("http://example.invalid/").status_code == 200


def test_the_wrapped_backend_ends_a_silent_answer_at_the_expiry(silent_server: str) -> None:
    with httpx.Client(timeout=30) as http:
        install_deadline_backends(http)
        started = time.monotonic()
        with request_expiry(started + 0.3), pytest.raises(httpx.ReadTimeout):
            http.get(silent_server)
    assert time.monotonic() - started < 5


def test_the_wrapped_async_backend_ends_a_silent_answer_at_the_expiry(silent_server: str) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            install_deadline_backends(http)
            with request_expiry(time.monotonic() + 0.3), pytest.raises(httpx.ReadTimeout):
                await http.get(silent_server)

    started = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - started < 5


def test_a_saved_block_resolves_by_name_in_sync_and_async_code(
    prefect_server: None, sandbox: NextcloudSandbox
) -> None:
    name = f"compat-{uuid.uuid4().hex[:12]}"
    sandbox.credentials.save(name)

    async def in_event_loop() -> NextcloudCredentials:
        return resolve_credentials(name)

    for resolved in (resolve_credentials(name), asyncio.run(in_event_loop())):
        assert isinstance(resolved, NextcloudCredentials)
        assert resolved.base_url == sandbox.base_url
        assert resolved.app_password == sandbox.credentials.app_password
