"""Wall-clock deadlines: one for each request, and regions that bound a client's work.

httpx's timeouts apply to each network operation, so a server that sends one byte per second
never trips them. Here every request gets an overall deadline (connect, send and the whole
answer), which the client's network backend enforces on every socket operation and the
client checks between the chunks of an answer. ``client.deadline(seconds)`` opens a region
that bounds every request, retry and retry wait of that client inside it.

Deadlines live in context variables, so a region covers the thread or asyncio task that
opened it (and tasks started inside it), never other users of the same client.
"""

from __future__ import annotations

import math
import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from prefect_nextcloud.client.errors import (
    DeadlineExceededError,
    NextcloudConnectionError,
    NextcloudError,
)

__all__ = [
    "RequestDeadline",
    "check_seconds",
    "clipped_sleep",
    "install_deadline_backends",
    "region",
]

# Socket timeouts may fire a moment before the deadline they were computed from.
_SLACK_SECONDS = 0.05


@dataclass(frozen=True)
class _Region:
    owner: int
    seconds: float
    expires: float


_REGIONS: ContextVar[tuple[_Region, ...]] = ContextVar("prefect_nextcloud_regions", default=())
_REQUEST_EXPIRES: ContextVar[float | None] = ContextVar(
    "prefect_nextcloud_request_expires", default=None
)


def check_seconds(name: str, value: object) -> float:
    """Return ``value`` as a float if it is a finite number.

    Raises:
        ValueError: It is not (``bool``, ``inf`` and ``nan`` are refused).
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number of seconds, got {value!r}.")
    return float(value)


@contextmanager
def region(owner: object, seconds: float) -> Iterator[None]:
    """Bound everything ``owner`` (a client) does inside the block by ``seconds`` from now.

    Regions nest; the one that ends first applies.

    Raises:
        ValueError: ``seconds`` is not a finite number.
    """
    seconds = check_seconds("seconds", seconds)
    entry = _Region(id(owner), seconds, time.monotonic() + seconds)
    token = _REGIONS.set((*_REGIONS.get(), entry))
    try:
        yield
    finally:
        _REGIONS.reset(token)


def _binding_region(owner: object) -> _Region | None:
    regions = [entry for entry in _REGIONS.get() if entry.owner == id(owner)]
    return min(regions, key=lambda entry: entry.expires, default=None)


def clipped_sleep(owner: object, seconds: float) -> float:
    """How long a retry wait of ``owner`` may sleep: ``seconds``, or less in a region."""
    entry = _binding_region(owner)
    if entry is None:
        return seconds
    return max(0.0, min(seconds, entry.expires - time.monotonic()))


@dataclass(frozen=True)
class RequestDeadline:
    """When one request must be done, and what to say when it is not.

    Attributes:
        expires: The ``time.monotonic()`` value it must end by.
        timeout_seconds: The client's per-request limit.
        region_seconds: The length of the ``client.deadline()`` region, when that region
            ends before the per-request limit.
        endpoint: ``METHOD /path`` of the request.
        base_url: The server, for the message.
    """

    expires: float
    timeout_seconds: float
    region_seconds: float | None
    endpoint: str
    base_url: str

    @classmethod
    def start(
        cls, owner: object, timeout_seconds: float, endpoint: str, base_url: str
    ) -> RequestDeadline:
        """The deadline of a request ``owner`` starts now.

        Raises:
            DeadlineExceededError: A region of ``owner`` has already ended; nothing is sent.
        """
        expires = time.monotonic() + timeout_seconds
        entry = _binding_region(owner)
        region_seconds = None
        if entry is not None and entry.expires <= expires:
            expires, region_seconds = entry.expires, entry.seconds
        deadline = cls(expires, timeout_seconds, region_seconds, endpoint, base_url)
        if deadline.remaining() <= 0:
            raise deadline.error(sent=False)
        return deadline

    def remaining(self) -> float:
        """Seconds left, negative once passed."""
        return self.expires - time.monotonic()

    def passed(self) -> bool:
        """Whether the deadline has passed (or is about to)."""
        return self.remaining() <= _SLACK_SECONDS

    def timeout(self) -> httpx.Timeout:
        """The httpx timeouts of the request: none longer than the time left."""
        return httpx.Timeout(max(self.remaining(), 0.001))

    @contextmanager
    def active(self) -> Iterator[None]:
        """Make the network backend enforce this deadline on every socket operation."""
        token = _REQUEST_EXPIRES.set(self.expires)
        try:
            yield
        finally:
            _REQUEST_EXPIRES.reset(token)

    def check(self) -> None:
        """Raise the deadline's error once it has passed."""
        if self.passed():
            raise self.error()

    def error(self, *, sent: bool = True) -> NextcloudError:
        """The error for a request that ran out of time."""
        if self.region_seconds is not None:
            when = "before it could be sent" if not sent else "before it finished"
            return DeadlineExceededError(
                f"Gave up on {self.endpoint}: the deadline of {self.region_seconds:g} s set "
                f"with client.deadline() passed {when}. The server or the network was slower "
                "than the time allowed; allow more time, or check the server's load and the "
                "network.",
                endpoint=self.endpoint,
            )
        return NextcloudConnectionError(
            f"The connection to {self.base_url} timed out on {self.endpoint}: the request did "
            f"not finish within timeout_seconds={self.timeout_seconds:g} (connect, send and "
            "the whole answer). Check the network and the server's load, or raise "
            "timeout_seconds for large files.",
            endpoint=self.endpoint,
        )


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

    httpx offers no public way to choose the network backend, so the pools' attribute is
    replaced; a transport without one (a test's ``MockTransport``) is left as it is, and its
    answers are still checked between chunks.

    Returns:
        How many pools now enforce request deadlines.
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
