"""Workarounds for what our dependencies do not offer publicly, each in this one module.

Each has a test that fails when the dependency changes (``tests/test_compat_prefect.py``,
``tests/test_compat_httpx.py``).

**Prefect** (3.9), for polling tasks (see :mod:`prefect_nextcloud.tasks.polling`), whose
retries are their polls:

* :class:`AttemptRetryDelays`: Prefect takes a retry's delay from the task's
  ``retry_delay_seconds`` only (a number, a list, or a function of the number of retries),
  never from the failed attempt. The delay list reads it from the exception the attempt
  raised, which Prefect's task engine is handling when it indexes the list (3.9.1,
  ``SyncTaskRunEngine.handle_retry`` called from ``handle_exception``).
* :class:`QuietRetries`: Prefect logs every retry at INFO ("Task run failed with
  exception: … - Retry n/N will start …") and offers no per-task switch; the filter turns the
  line into DEBUG for the exceptions that mean "look again later", not a failure.
* :func:`name_retry_waits`: the state a retry waits in is always named *AwaitingRetry*, which
  reads like trouble for a healthy wait. Prefect's task engine (3.9.1,
  ``handle_retry`` of both engines) builds it by calling the ``AwaitingRetry`` that
  ``prefect.task_engine`` imported from ``prefect.states``; that name is replaced there by
  :class:`RetryWaits`, which names the state after what the task waits for when the task's
  retry rule is the polling tasks' one (with the handled exception, read as the delay list
  does, as its message), and leaves every other task's *AwaitingRetry* as it is.
  After a wait so named the engine enters *Running* (not *Retrying*, which it keeps for
  *AwaitingRetry*). Returning a *Scheduled* state from the task instead would name the wait
  without this, but a call of the task whose last attempt raises would then return that stale
  state instead of raising (3.9.1, ``SyncTaskRunEngine.result``).

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

import logging
import ssl
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, SupportsIndex, overload

import httpcore
import httpx

if TYPE_CHECKING:
    from prefect.client.schemas.objects import State

__all__ = [
    "PREFECT_TASK_RUN_LOGGER",
    "AttemptRetryDelays",
    "QuietRetries",
    "RetryWaits",
    "install_deadline_backends",
    "name_retry_waits",
    "quiet_retries",
    "request_expiry",
]

PREFECT_TASK_RUN_LOGGER = "prefect.task_runs"
"""The logger Prefect's task engine writes its retry lines to."""


class AttemptRetryDelays(list[float]):
    """A ``retry_delay_seconds`` whose every entry is the delay the failed attempt asked for.

    Args:
        delay_of: The delay an exception asks for, or ``None`` when it names none.
        fallback: The delay when no exception is being handled or it names none.
    """

    def __init__(self, delay_of: Callable[[BaseException], float | None], fallback: float) -> None:
        super().__init__([fallback])
        self.delay_of = delay_of
        self.fallback = fallback

    @overload
    def __getitem__(self, index: SupportsIndex) -> float: ...
    @overload
    def __getitem__(self, index: slice) -> list[float]: ...
    def __getitem__(self, index: SupportsIndex | slice) -> float | list[float]:
        if isinstance(index, slice):
            return super().__getitem__(index)
        handled = sys.exc_info()[1]
        wanted = None if handled is None else self.delay_of(handled)
        return self.fallback if wanted is None else wanted


class QuietRetries(logging.Filter):
    """Turn Prefect's retry line for one kind of exception into a DEBUG line.

    Other records, and the retry lines of other exceptions, pass unchanged.

    Args:
        quiet: The exception class whose retries are not worth an INFO line.
    """

    def __init__(self, quiet: type[BaseException]) -> None:
        super().__init__()
        self.quiet = quiet

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record but the quiet retry line, which becomes DEBUG (or is dropped)."""
        args = record.args
        if not (
            record.levelno == logging.INFO
            and isinstance(args, tuple)
            and len(args) > 1
            and isinstance(args[1], self.quiet)
        ):
            return True
        if not logging.getLogger(record.name).isEnabledFor(logging.DEBUG):
            return False
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        record.msg, record.args = "Polling again: %s", (args[1],)
        return True


def quiet_retries(quiet: type[BaseException]) -> None:
    """Attach :class:`QuietRetries` for ``quiet`` to Prefect's task-run logger, once.

    Args:
        quiet: The exception class whose retries are not worth an INFO line.
    """
    logger = logging.getLogger(PREFECT_TASK_RUN_LOGGER)
    if not any(
        isinstance(existing, QuietRetries) and existing.quiet is quiet
        for existing in logger.filters
    ):
        logger.addFilter(QuietRetries(quiet))


class RetryWaits:
    """Prefect's ``AwaitingRetry``, naming the wait of the tasks with one retry rule.

    Args:
        inner: The ``AwaitingRetry`` it stands in for.
        retry_condition: The ``retry_condition_fn`` of the tasks whose waits it names.
        name: The name of their wait, e.g. ``"AwaitingNextcloud"``.
    """

    def __init__(
        self, inner: Callable[..., State[Any]], retry_condition: Callable[..., Any], name: str
    ) -> None:
        self.inner = inner
        self.retry_condition = retry_condition
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> State[Any]:
        """The state the task run waits in before its next attempt.

        A named wait's message is the exception the engine is handling: what is pending.
        """
        # Imported here: the client imports this module and must not load Prefect.
        from prefect.context import TaskRunContext  # noqa: PLC0415

        state = self.inner(*args, **kwargs)
        context = TaskRunContext.get()
        if context is not None and context.task.retry_condition_fn is self.retry_condition:
            state.name = self.name
            handled = sys.exc_info()[1]
            if handled is not None:
                state.message = str(handled)
        return state


def name_retry_waits(retry_condition: Callable[..., Any], name: str) -> None:
    """Name the retry waits of the tasks whose retry rule is ``retry_condition``; once.

    Args:
        retry_condition: The ``retry_condition_fn`` of those tasks.
        name: The name of their wait, e.g. ``"AwaitingNextcloud"``.
    """
    # Imported here: the client imports this module and must not load Prefect.
    from prefect import task_engine  # noqa: PLC0415

    current = task_engine.AwaitingRetry  # type: ignore[attr-defined]
    installed = current
    while isinstance(installed, RetryWaits):
        if installed.retry_condition is retry_condition:
            return
        installed = installed.inner
    task_engine.AwaitingRetry = RetryWaits(current, retry_condition, name)  # type: ignore[attr-defined]


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
