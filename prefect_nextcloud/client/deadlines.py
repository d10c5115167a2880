"""Wall-clock deadlines: one for each request, and regions that bound a client's work.

httpx's timeouts apply to each network operation, so a server that sends one byte per second
never trips them. Here every request gets an overall deadline (connect, send and the whole
answer), which the client's network backend enforces on every socket operation (see
:mod:`prefect_nextcloud._compat`) and the client checks between the chunks of an answer.
``client.deadline(seconds)`` opens a region that bounds every request, retry and retry wait of
that client inside it.

Each client keeps its open regions in a :class:`Regions`, by the thread or asyncio task that
opened them: a region covers that thread or task alone, never other users of the same client.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from prefect_nextcloud._compat import request_expiry
from prefect_nextcloud.client.errors import (
    DeadlineExceededError,
    NextcloudConnectionError,
    NextcloudError,
)

__all__ = ["Regions", "RequestDeadline", "check_seconds"]

# Socket timeouts may fire a moment before the deadline they were computed from.
_SLACK_SECONDS = 0.05


def check_seconds(name: str, value: object) -> float:
    """Return ``value`` as a float if it is a finite number.

    Raises:
        ValueError: It is not (``bool``, ``inf`` and ``nan`` are refused).
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number of seconds, got {value!r}.")
    return float(value)


@dataclass(frozen=True)
class _Region:
    seconds: float
    expires: float


def _current_holder() -> object:
    """The asyncio task running this code, else the thread."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no event loop runs in this thread
        task = None
    return task if task is not None else threading.get_ident()


class Regions:
    """The ``client.deadline()`` regions open on one client, by thread or asyncio task.

    A holder's entry goes when its last region ends, so nothing stays behind.
    """

    def __init__(self) -> None:
        self._open: dict[object, list[_Region]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def region(self, seconds: float) -> Iterator[None]:
        """Bound what the client does in the block, in this thread or task, by ``seconds``.

        Regions nest; the one that ends first applies.

        Raises:
            ValueError: ``seconds`` is not a finite number.
        """
        seconds = check_seconds("seconds", seconds)
        holder, entry = _current_holder(), _Region(seconds, time.monotonic() + seconds)
        with self._lock:
            self._open.setdefault(holder, []).append(entry)
        try:
            yield
        finally:
            with self._lock:
                entries = self._open[holder]
                entries.remove(entry)
                if not entries:
                    del self._open[holder]

    def binding(self) -> _Region | None:
        """The region of this thread or task that ends first, if any is open."""
        with self._lock:
            entries = list(self._open.get(_current_holder(), ()))
        return min(entries, key=lambda entry: entry.expires, default=None)

    def clipped_sleep(self, seconds: float) -> float:
        """How long a retry wait may sleep: ``seconds``, or less in a region."""
        entry = self.binding()
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
        cls, regions: Regions, timeout_seconds: float, endpoint: str, base_url: str
    ) -> RequestDeadline:
        """The deadline of a request that starts now, under the client's ``regions``.

        Raises:
            DeadlineExceededError: A region has already ended; nothing is sent.
        """
        expires = time.monotonic() + timeout_seconds
        entry = regions.binding()
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
        with request_expiry(self.expires):
            yield

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
