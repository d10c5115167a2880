"""Workarounds for what our dependencies do not offer publicly, each in this one module.

Each has a test that fails when the dependency changes (``tests/test_compat_prefect.py``,
``tests/test_compat_httpx.py``).

**Prefect** (3.9), for polling tasks (see :mod:`prefect_nextcloud.tasks.polling`), whose
function returns :func:`awaiting` while the work it waits for is pending: Prefect documents
returning a state from a task, but not what a returned *Scheduled* state does. Its task engine
(3.9.1, ``run_task_sync``/``run_task_async``) runs the function again for as long as the task
run's state is running or scheduled, and ``wait_until_ready`` sleeps until the state's
``scheduled_time``, then enters *Running*. A wait therefore reads as a state named after what
it waits for, not as *AwaitingRetry*, and spends no retry.

**httpx** (0.28) gives no public way to choose the network backend of its default transports:
``httpx.HTTPTransport`` builds its ``httpcore.ConnectionPool`` itself and takes no
``network_backend`` (upstream: encode/httpx discussion #3180, pull request #3749). The
backends themselves are public httpcore API (httpcore 1.0, "Network backends"), so the pool's
backend is wrapped here (:func:`install_deadline_backends`), in the one place that reads the
private ``_transport``, ``_mounts``, ``_pool`` and ``_network_backend`` attributes. httpcore
hands a backend no request, only per-operation timeouts; the expiry of the request in flight
reaches the backend through a context variable set around the request (:func:`request_expiry`).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

import httpcore
import httpx
from prefect.client.schemas.objects import State
from prefect.states import Scheduled

__all__ = [
    "PREFECT_TASK_RUN_LOGGER",
    "awaiting",
    "install_deadline_backends",
    "request_expiry",
]

PREFECT_TASK_RUN_LOGGER = "prefect.task_runs"
"""The logger Prefect's task engine writes its task-run lines to."""


def awaiting(name: str, message: str, delay_seconds: float) -> State[None]:
    """The state a polling task's function returns to be run again ``delay_seconds`` from now.

    Args:
        name: The state's name, saying what is awaited (e.g. ``"AwaitingNextcloud"``).
        message: What is pending, shown with the state.
        delay_seconds: When to run the function again.
    """
    return Scheduled(
        scheduled_time=datetime.now(UTC) + timedelta(seconds=delay_seconds),
        message=message,
        name=name,
    )


# httpx: request deadlines enforced in the network backend.
_REQUEST_EXPIRES: ContextVar[float | None] = ContextVar(
    "prefect_nextcloud_request_expires", default=None
)


@contextmanager
def request_expiry(expires: float) -> Iterator[None]:
    """Make the wrapped network backends end every socket operation by ``expires``.

    Args:
        expires: A ``time.monotonic()`` value.
    """
    token = _REQUEST_EXPIRES.set(expires)
    try:
        yield
    finally:
        _REQUEST_EXPIRES.reset(token)


def _clip(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` cut to the time the current request has left; raise once none is left."""
    expires = _REQUEST_EXPIRES.get()
    if expires is None:
        return timeout
    remaining = expires - time.monotonic()
    if remaining <= 0:
        raise expired("The request's deadline has passed.")
    return remaining if timeout is None else min(timeout, remaining)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clip(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clip(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        clipped = _clip(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, clipped))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """Wraps httpx's own network backend; every socket operation respects the deadline."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        clipped = _clip(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, clipped, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        clipped = _clip(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, clipped, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, _clip(timeout, httpcore.ReadTimeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, _clip(timeout, httpcore.WriteTimeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        clipped = _clip(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._inner.start_tls(ssl_context, server_hostname, clipped))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    """The async twin of :class:`_Backend`."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        clipped = _clip(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(
            await self._inner.connect_tcp(host, port, clipped, local_address, socket_options)
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        clipped = _clip(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._inner.connect_unix_socket(path, clipped, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def install_deadline_backends(http: httpx.Client | httpx.AsyncClient) -> int:
    """Wrap the network backend of each of the client's connection pools (proxies included).

    A transport without a pool (a test's ``MockTransport``) is left as it is; its answers are
    still checked between chunks.

    Returns:
        How many pools now enforce :func:`request_expiry`.
    """
    transports = [http._transport, *http._mounts.values()]
    installed = 0
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, _Backend | _AsyncBackend):
            installed += 1
        elif isinstance(backend, httpcore.NetworkBackend):
            pool._network_backend = _Backend(backend)  # type: ignore[union-attr]
            installed += 1
        elif isinstance(backend, httpcore.AsyncNetworkBackend):
            pool._network_backend = _AsyncBackend(backend)  # type: ignore[union-attr]
            installed += 1
    return installed
